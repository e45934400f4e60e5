#!/usr/bin/env bash
# The whole test suite: fetch and verify the runtime and models, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo test --release "$@"

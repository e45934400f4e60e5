#!/usr/bin/env bash
# The whole test suite: fetch and verify the runtime and models, check formatting and lints,
# then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo fmt --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release "$@"

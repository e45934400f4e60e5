#!/usr/bin/env bash
# The main job: fetch and verify the runtime and models, build, and run sealcheck with the
# given arguments (by default, read the bundled sample capture).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
if [ $# -eq 0 ]; then
    set -- ocr testdata/samples/capture.jpg
fi
exec target/release/sealcheck "$@"

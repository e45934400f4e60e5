#!/usr/bin/env bash
# The main job: fetch and verify the runtime and models, build, and run sealcheck with the
# given arguments (by default, verify the bundled sample capture against its approved text).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
if [ $# -eq 0 ]; then
    set -- verify --image testdata/samples/capture.jpg --approved-text testdata/samples/approved.txt
fi
exec target/release/sealcheck "$@"

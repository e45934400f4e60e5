#!/usr/bin/env bash
# The benchmark (not a test): RapidOCR 1.4.4 timed on the test split and eval-real in its
# own venv, then `sealcheck bench` on the same images, printing ratios against it.
# Arguments go to `sealcheck bench` (e.g. --memory-images 0 to skip the memory run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
mkdir -p target/bench
python3 tools/baseline/timing.py --out target/bench/rapidocr.jsonl
exec target/release/sealcheck bench --reference target/bench/rapidocr.jsonl "$@"

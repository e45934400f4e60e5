#!/usr/bin/env bash
# The benchmark (not a test): RapidOCR 1.4.4 timed on the test split and eval-real, on ONNX
# Runtime and on OpenVINO (each in its own venv), then `sealcheck bench` on the same images,
# printing ratios against both. Arguments go to `sealcheck bench` (e.g. --memory-images 0 to
# skip the memory run, --backend openvino --precision bf16).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/setup.py
cargo build --release --quiet
mkdir -p target/bench
uptime
python3 tools/baseline/timing.py --peer onnxruntime --out target/bench/rapidocr.jsonl
python3 tools/baseline/timing.py --peer openvino --out target/bench/rapidocr-openvino.jsonl
uptime
target/release/sealcheck bench --reference target/bench/rapidocr.jsonl \
    --reference target/bench/rapidocr-openvino.jsonl "$@"
uptime

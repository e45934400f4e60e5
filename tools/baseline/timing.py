#!/usr/bin/env python3
"""RapidOCR 1.4.4's time per image, the peer `sealcheck bench` compares against.

    python3 tools/baseline/timing.py --out FILE.jsonl [--peer onnxruntime|openvino]
        [--cases CASES.jsonl] [--eval-real DIR]

Runs in the peer's venv (tools/baseline/refenv.py): `onnxruntime` is rapidocr-onnxruntime
on the same onnxruntime as sealcheck's CPU backend; `openvino` is rapidocr-openvino, the
same library on OpenVINO 2024.0 (bf16 by default on CPUs that compute it), which a user who
wants speed would pick. Both with RapidOCR's default settings, one image after another in one process, as it is used. Each
image's time runs from the file path to the result, decoding included, as sealcheck's does.
Writes one JSON object per image: `file` (absolute path), `seconds`, `lines` (the texts).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from refenv import ROOT, ensure_venv


def images(cases: Path, eval_real: Path) -> list[Path]:
    found = []
    for line in cases.read_text(encoding="utf-8").splitlines():
        if line.strip():
            found.append(cases.parent / json.loads(line)["image"])
    manifest = eval_real / "manifest.jsonl"
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(eval_real / json.loads(line)["file"])
    return [p.resolve() for p in found]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--peer", choices=["onnxruntime", "openvino"], default="onnxruntime")
    ap.add_argument("--cases", type=Path, default=ROOT / "testdata" / "cases" / "test" / "cases.jsonl")
    ap.add_argument("--eval-real", type=Path, default=ROOT.parent / "shared" / "eval-real")
    a = ap.parse_args()
    ensure_venv(__file__, a.peer)
    if a.peer == "openvino":
        from rapidocr_openvino import RapidOCR
    else:
        from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    todo = images(a.cases, a.eval_real)
    engine(str(todo[0]))  # warm-up, as sealcheck's sessions are built before timing
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("w", encoding="utf-8") as out:
        for i, path in enumerate(todo):
            start = time.perf_counter()
            result, _ = engine(str(path))
            seconds = time.perf_counter() - start
            lines = [text for _, text, _ in (result or [])]
            out.write(json.dumps({"file": str(path), "seconds": round(seconds, 4), "lines": lines}, ensure_ascii=False) + "\n")
            if (i + 1) % 50 == 0:
                print(f"{a.peer}: {i + 1}/{len(todo)} images", flush=True)


if __name__ == "__main__":
    main()

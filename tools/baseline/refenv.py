"""The reference implementation's venv, shared by the scripts of tools/baseline.

Created at <repository>/.venv-baseline by default (or $BASELINE_VENV) from requirements.txt
the first time, re-installed when the requirements change; the calling script then re-runs
itself inside it. The OpenVINO peer (rapidocr-openvino, the same library on OpenVINO 2024.0)
gets a venv of its own, <repository>/.venv-baseline-openvino from requirements-openvino.txt,
since its openvino wheel and onnxruntime's pins need not agree.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# Each peer's venv and pinned requirements.
PEERS = {
    "onnxruntime": (Path(os.environ.get("BASELINE_VENV", ROOT / ".venv-baseline")), HERE / "requirements.txt"),
    "openvino": (ROOT / ".venv-baseline-openvino", HERE / "requirements-openvino.txt"),
}


def ensure_venv(script: str, peer: str = "onnxruntime") -> None:
    """Create the peer's venv and install its pinned requirements once; re-exec `script`
    inside it."""
    venv, req = PEERS[peer]
    py = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    stamp = venv / ".requirements.sha"
    want = req.read_bytes()
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    if not stamp.exists() or stamp.read_bytes() != want:
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", "-r", str(req)])
        stamp.write_bytes(want)
    os.execv(str(py), [str(py), script, *sys.argv[1:]])

"""The reference implementation's venv, shared by the scripts of tools/baseline.

Created at <repository>/.venv-baseline by default (or $BASELINE_VENV) from requirements.txt
the first time, re-installed when the requirements change; the calling script then re-runs
itself inside it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("BASELINE_VENV", ROOT / ".venv-baseline"))
REQ = Path(__file__).resolve().parent / "requirements.txt"


def ensure_venv(script: str) -> None:
    """Create the venv and install the pinned requirements once; re-exec `script` inside it."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    stamp = VENV / ".requirements.sha"
    want = REQ.read_bytes()
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    if not stamp.exists() or stamp.read_bytes() != want:
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", "-r", str(REQ)])
        stamp.write_bytes(want)
    os.execv(str(py), [str(py), script, *sys.argv[1:]])

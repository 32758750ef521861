"""Fetch ddddocr's OCR model, a real pretrained model whose batch is fixed at 1.

    python models/fetch_ddddocr.py            # build/downloads/ddddocr_common.onnx
    python models/fetch_ddddocr.py --check    # exit 0 if it is there and is the pinned file

ddddocr 1.6.1 (MIT licence, https://github.com/sml2h3/ddddocr) ships its CTC text recogniser
as ``ddddocr/common.onnx``: input ``input1`` float [1, 1, 64, image_width] (one grey image,
height 64, values / 255, batch fixed at 1, width dynamic), output ``387`` int64 [1, seqlen]
(the arg-max class per time step). At 54 MB it is fetched, not checked in: ``make setup``
runs this script once, and tests/test_sample_layouts.py uses the file. pip downloads the pinned
wheel (sha256-checked) into build/downloads/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinned_wheel import file_sha256, member_bytes

REPO = Path(__file__).resolve().parent.parent
DOWNLOADS = REPO / "build" / "downloads"
MODEL = DOWNLOADS / "ddddocr_common.onnx"
WHEEL = "ddddocr-1.6.1-py3-none-any.whl"
WHEEL_SHA256 = "c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935"
MEMBER = "ddddocr/common.onnx"
MODEL_SHA256 = "33b5cd351ee94e73a6bf8fa18c415ed8b819b3ffd342e267c30d8ad8334e34e8"
MODEL_BYTES = 54_088_400


def is_fetched(model: Path = MODEL) -> bool:
    """Whether ``model`` is the pinned file (size first: hashing 54 MB takes a moment)."""
    return model.is_file() and model.stat().st_size == MODEL_BYTES \
        and file_sha256(model) == MODEL_SHA256


def fetch(model: Path = MODEL, downloads: Path = DOWNLOADS) -> Path:
    """The pinned model at ``model``, downloaded and extracted once."""
    if is_fetched(model):
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(member_bytes("ddddocr==1.6.1", WHEEL, WHEEL_SHA256, MEMBER, MODEL_SHA256,
                                   downloads))
    if not is_fetched(model):
        sys.exit(f"{MEMBER} in {WHEEL} is not the pinned file (sha256 {MODEL_SHA256})")
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the fetched file")
    args = parser.parse_args()
    if args.check:
        return 0 if is_fetched() else 1
    print(f"{fetch()} (sha256 {MODEL_SHA256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

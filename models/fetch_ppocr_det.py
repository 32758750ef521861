"""Reproduce models/ppocr_v4_det.onnx, PaddleOCR's PP-OCRv4 text detector, from PyPI.

    python models/fetch_ppocr_det.py          # write models/ppocr_v4_det.onnx
    python models/fetch_ppocr_det.py verify   # compare the checked-in file with the pinned one

rapidocr-onnxruntime 1.4.4 (Apache-2.0, https://github.com/RapidAI/RapidOCR) ships the
detector as ``rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx``: a DBNet exported by
paddle2onnx, every weight in a ``Constant`` node (no initializers). Input ``x`` float
[N, 3, H, W] (BGR, normalised, H and W multiples of 32); output ``sigmoid_0.tmp_0`` float
[N, 1, H, W], the text probability map. pip downloads the pinned wheel (sha256-checked) into
build/downloads/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pinned_wheel import member_bytes

HERE = Path(__file__).resolve().parent
DOWNLOADS = HERE.parent / "build" / "downloads"
MODEL = HERE / "ppocr_v4_det.onnx"
WHEEL = "rapidocr_onnxruntime-1.4.4-py3-none-any.whl"
WHEEL_SHA256 = "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
MEMBER = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
MODEL_SHA256 = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"


def pinned_bytes() -> bytes:
    """The model's bytes from the pinned wheel, downloaded once."""
    return member_bytes("rapidocr-onnxruntime==1.4.4", WHEEL, WHEEL_SHA256, MEMBER,
                        MODEL_SHA256, DOWNLOADS)


def main() -> int:
    if sys.argv[1:] == ["verify"]:
        same = MODEL.is_file() and MODEL.read_bytes() == pinned_bytes()
        print(f"{MODEL}: {'the pinned file' if same else 'NOT the pinned file'}")
        return 0 if same else 1
    MODEL.write_bytes(pinned_bytes())
    print(f"{MODEL} (sha256 {MODEL_SHA256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The fp16 conversion's range report reads weights wherever they live."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO

from trtdoc.precision.float16 import to_fp16

PPOCR_DET = REPO / "models" / "ppocr_v4_det.onnx"


def test_clamped_weights_in_constant_nodes_are_reported(tmp_path: Path) -> None:
    # PaddlePaddle keeps every weight in a Constant node; one BatchNormalization's running
    # variance (up to 9.79e7) is clamped to 65,504, and the note must say so.
    conversion = to_fp16(PPOCR_DET, tmp_path / "det.fp16.onnx", False)

    (note,) = conversion.notes
    assert note.startswith("3950 fp32 weight value(s) in 17 tensor(s) outside the fp16 range "
                           "were clamped (")
    assert "9.79e+07 -> 6.55e+04" in note or note.endswith(", ...)")

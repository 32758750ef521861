"""The first diverging node named in a failed accuracy gate (issue 24), on PaddleOCR's
PP-OCRv4 detector in fp16: a clamped BatchNormalization, which the range check names too.
tests/test_detector_gates.py shows it where the range check finds nothing (int8)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO

from trtdoc.precision import divergence
from trtdoc.precision.convert import convert_model
from trtdoc.precision.divergence import first_divergence

sys.path.insert(0, str(REPO / "tests"))

from test_keep_fp32 import CLAMPED_BN, MODEL, page_images  # noqa: E402


@pytest.fixture(scope="module")
def fp16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_model(MODEL, "fp16", calibration=None, cache_dir=tmp_path_factory.mktemp("c"),
                         profile_shapes={"x": (1, 3, 320, 320)}).model


def test_ppocr_fp16_diverges_first_at_the_clamped_batchnorm(fp16: Path) -> None:
    found = first_divergence(MODEL, fp16, {"x": page_images(1)}, min_cosine=0.99)
    assert found is not None and not found.skipped
    # Measured: cosine 0.886 on its output, the first node below 0.99 in the
    # model's order (672 nodes, 342 of them Constant).
    assert (found.node, found.op) == (CLAMPED_BN, "BatchNormalization")
    assert found.cosine < 0.99
    assert found.sentence("fp16", (CLAMPED_BN,)).endswith(", one of those")
    # Below a looser bound nothing diverges before it, and the same node is named.
    assert first_divergence(MODEL, fp16, {"x": page_images(1)}, min_cosine=0.9).node == CLAMPED_BN


def test_models_past_the_bound_are_not_searched(fp16: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(divergence, "MAX_NODES", 300)
    found = first_divergence(MODEL, fp16, {"x": page_images(1)}, min_cosine=0.99)
    assert found is not None and found.sentence("fp16") == (
        "The first diverging node was not searched: ppocr_v4_det.onnx has 672 nodes; the "
        "search runs for models of up to 300")

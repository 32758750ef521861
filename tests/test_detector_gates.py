"""Gates on slices of a real detector's output (issue 24), on ddddocr's YOLOX detector.

ddddocr 1.6.1's ``common_det.onnx`` (MIT; fetched with its logo by models/fetch_ddddocr.py,
which ``make setup`` runs) finds the characters of click captchas: input ``images`` float
[1, 3, 416, 416], output ``output`` [1, 3549, 6] = per anchor 4 raw box values, objectness and
one class score. Its images are drawn here with Pillow, then prepared exactly as ddddocr's
``DetectionEngine.preproc`` prepares one: BGR, scaled to fit 416x416 (bilinear), pasted at the
top left of a grey-114 square, HWC -> CHW float32 with values 0-255.

Measured (onnxruntime CPU, 8 held-out images, int8 by quantize_static calibrated on 8 others):
the int8 model's cosine against fp32 is 0.998216 over the whole output, 0.998323 over the boxes
and 0.994085 over the scores. A 0.996 tolerance lies between them: over the whole output it passes,
over the score slice it fails.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import REPO, write

from trtdoc.precision.accuracy import check_tolerance
from trtdoc.typed import decode

sys.path.insert(0, str(REPO / "models"))

import fetch_ddddocr as fd  # noqa: E402

PIL = pytest.importorskip("PIL", reason="Pillow draws the images (pip install '.[test]')")
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def captcha(seed: int, size: int = 344) -> np.ndarray:
    """A click-captcha-like BGR uint8 image: four rotated letters and the ddddocr logo's glyph
    on a noisy colour ground, from a seeded generator."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    ground = np.stack([120 + 80 * np.sin(xx / 37 + seed), 140 + 70 * np.cos(yy / 29 + seed * 2),
                       150 + 60 * np.sin((xx + yy) / 53)], -1) + rng.normal(0, 12, (size, size, 3))
    img = Image.fromarray(np.clip(ground, 0, 255).astype(np.uint8), "RGB")
    font = (ImageFont.truetype(str(FONT), 44) if FONT.is_file()
            else ImageFont.load_default(size=44))
    for _ in range(4):
        tile = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        colour = tuple(int(c) for c in rng.integers(0, 90, 3)) + (255,)
        ImageDraw.Draw(tile).text((10, 4), LETTERS[rng.integers(0, len(LETTERS))], font=font,
                                  fill=colour)
        tile = tile.rotate(float(rng.uniform(-30, 30)))
        img.paste(tile, (int(rng.integers(0, size - 64)), int(rng.integers(0, size - 64))), tile)
    logo = Image.open(fd.LOGO).convert("RGBA").crop((620, 540, 880, 780)).resize((70, 64))
    img.paste(logo, (int(rng.integers(0, size - 70)), int(rng.integers(0, size - 64))), logo)
    return np.asarray(img)[:, :, ::-1]  # BGR, as ddddocr's cv2.imdecode gives it


def preproc(img: np.ndarray, size: int = 416) -> np.ndarray:
    """ddddocr's ``DetectionEngine.preproc``: letterbox onto grey 114, CHW float32 0-255."""
    padded = np.full((size, size, 3), 114, np.uint8)
    r = min(size / img.shape[0], size / img.shape[1])
    h, w = int(img.shape[0] * r), int(img.shape[1] * r)
    padded[:h, :w] = np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.BILINEAR))
    return np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (fd.is_fetched(fd.DET_MODEL) and fd.is_fetched(fd.LOGO)):
        pytest.skip(f"{fd.DET_MODEL} is not fetched: run python models/fetch_ddddocr.py "
                    "(make setup does)")
    root = tmp_path_factory.mktemp("detector")
    (root / "det.onnx").symlink_to(fd.DET_MODEL)
    images = np.stack([preproc(captcha(seed)) for seed in range(16)])
    np.savez(root / "calib.npz", images=images[:8])
    np.savez(root / "held.npz", images=images[8:])
    return root


SPEC = """\
name: det-{precision}
model: det.onnx
backend: tensorrt-rtx
precision: {precision}
calibration: {{data: calib.npz, batches: 8}}
targets: [sm89]
accuracy:
  data: held.npz
  samples: 8
  outputs:
    output:
      - {{axis: 2, start: 0, stop: 4, label: boxes, min_cosine: 0.996}}
      - {{axis: 2, start: 4, stop: 6, label: scores, min_cosine: 0.996}}
"""


def test_int8_fails_its_gate_on_the_score_slice_the_whole_output_hides(project: Path) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.precision.accuracy import AccuracyReport

    spec = write(project, "det-int8.yaml", SPEC.format(precision="int8"))
    paths = OutputPaths(out=project / "build", records=project / "records")
    (outcome,) = build_all([spec], paths).outcomes
    assert (outcome.status, outcome.stage) == ("failed", "accuracy"), outcome.message
    assert outcome.message.startswith(
        f"{spec}:11: accuracy.outputs: output 'output[scores]': cosine similarity 0.99"), \
        outcome.message
    assert "is below accuracy.outputs.output[scores].min_cosine 0.996" in outcome.message
    assert "[boxes]" not in outcome.message
    # int8 clamps no weight; the first node whose output falls below 0.996 is named instead.
    named = re.search(r"\. The first node whose output diverges from fp32 in the int8 model is "
                      r"'([^']+)' \((\w+); cosine (0\.\d+) < 0\.996 on one sample, onnxruntime "
                      r"CPU\); keep it in fp32 with `keep_fp32: \{nodes: \[\1\]\}`$",
                      outcome.message)
    assert named is not None, outcome.message
    nodes = {n.name: n.op_type for n in onnx.load(str(fd.DET_MODEL)).graph.node}
    assert nodes[named[1]] == named[2] and float(named[3]) < 0.996
    gate = json.loads(paths.gate("det-int8").read_text())
    report = decode(AccuracyReport, gate["accuracy"])
    outs = {o.name: o for o in report.outputs}
    assert list(outs) == ["output", "output[boxes]", "output[scores]"]
    assert outs["output[scores]"].shape == (1, 3549, 2)
    assert outs["output[scores]"].cosine < 0.996 <= outs["output"].cosine
    assert outs["output[boxes]"].cosine >= 0.996
    # The same tolerance over the whole output passes: the mixed cosine hides the damage.
    whole = dataclasses.replace(report, outputs=(outs["output"],))
    assert check_tolerance(whole, {"min_cosine": 0.996}) == []
    # [1, 3549, 6] holds anchors, not classes: no top-1 agreement anywhere.
    assert all(o.top1_agreement is None for o in report.outputs)


def test_fp32_engine_gets_no_reformat_cast_warning(project: Path) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import read_record

    spec = write(project, "det-fp32.yaml", SPEC.format(precision="fp32").split("calibration")[0]
                 + "targets: [sm89]\n")
    paths = OutputPaths(out=project / "build", records=project / "records")
    (outcome,) = build_all([spec], paths).outcomes
    assert outcome.status == "built", outcome.message
    record = read_record(paths.record("det-fp32"))
    (moves,) = [f for f in record.findings or () if f.kind == "reformat-cast"]
    # Myelin kernels implementing the model's own Concat/Reshape/Slice/Transpose are left out.
    assert (moves.severity, moves.what) == ("info", (
        "4 reformat/cast layers of 168 (2.4%): 0 cast, 4 reformat; not counted: 2 that "
        "implement the model's own Concat, Reshape, Slice, Transpose")), moves.what

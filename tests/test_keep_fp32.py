"""``keep_fp32``: ops and nodes kept in fp32, on PaddleOCR's PP-OCRv4 text detector.

Its fp16 conversion clamps one BatchNormalization's running variance (up to 9.79e7, held in a
Constant node) to 65,504; kept in fp32, that node reads it whole and the engine is accurate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, write

from trtdoc.check import check_specs

MODEL = REPO / "models" / "ppocr_v4_det.onnx"
CLAMPED_BN = "p2o.BatchNormalization.1"  # reads batch_norm_0.w_2, the clamped variance


def page_images(count: int, seed: int = 0) -> np.ndarray:
    """Seeded page-like images prepared as rapidocr prepares them for its detector: BGR, values
    (x / 255 - 0.5) / 0.5, CHW, 320 x 320 (multiples of 32); dark strokes on light paper."""
    rng = np.random.default_rng(seed)
    img = np.full((count, 320, 320, 3), 230.0) + rng.normal(0, 8, (count, 320, 320, 3))
    for i in range(count):
        for _ in range(12):
            y, x = rng.integers(0, 290), rng.integers(0, 200)
            img[i, y:y + 14, x:x + rng.integers(40, 120)] = rng.integers(0, 60)
    img = np.clip(img, 0, 255)
    return ((img / 255.0 - 0.5) / 0.5).astype(np.float32).transpose(0, 3, 1, 2).copy()


SPEC = """\
    name: {name}
    model: {model}
    precision: fp16
    {keep}
    profiles:
      - x: {{min: [1, 3, 320, 320], opt: [1, 3, 320, 320], max: [1, 3, 320, 320]}}
    accuracy: {{data: held.npz, samples: 3, tolerance: {{min_cosine: 0.99}}}}
    """


def test_check_refuses_names_the_model_does_not_have(tmp_path: Path) -> None:
    spec = write(tmp_path, "s.yaml", SPEC.format(
        name="s", model=MODEL,
        keep="keep_fp32: {ops: [BatchNorm], nodes: [p2o.BatchNormalization.1, nope]}"))
    np.savez(tmp_path / "held.npz", x=page_images(3))
    assert [str(e) for e in check_specs([spec])[1]] == [
        f"{spec}:4:19: keep_fp32.ops[0]: the model has no op type 'BatchNorm'. "
        "Hint: did you mean 'BatchNormalization'?",
        f"{spec}:4:65: keep_fp32.nodes[1]: the model has no node named 'nope'. "
        "Hint: name one of its 331 nodes (the page's op histogram, or Netron)"]


def test_fp16_passes_its_gate_with_the_clamped_node_kept_in_fp32(tmp_path: Path) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import read_record

    specs = tmp_path / "specs"
    np.savez(write(specs, "held.npz", ""), x=page_images(3))
    write(specs, "plain.yaml", SPEC.format(name="det-fp16", model=MODEL, keep=""))
    write(specs, "kept.yaml", SPEC.format(name="det-fp16-kept", model=MODEL,
                                          keep=f"keep_fp32: {{nodes: [{CLAMPED_BN}]}}"))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([specs], paths)

    status = {o.name: o.status for o in result.outcomes}
    assert status == {"det-fp16": "failed", "det-fp16-kept": "built"}, result.outcomes
    # Without it the gate fails, and its line names the node and the fix.
    (failed,) = (o for o in result.outcomes if o.name == "det-fp16")
    assert failed.stage == "accuracy"
    assert ("; loosen accuracy.tolerance.min_cosine or choose a higher precision. The fp16 "
            f"conversion clamped weights to 65,504 that node(s) {CLAMPED_BN} read; keep them in "
            f"fp32 with `keep_fp32: {{nodes: [{CLAMPED_BN}]}}`. The first node whose output "
            f"diverges from fp32 in the fp16 model is '{CLAMPED_BN}' (BatchNormalization; "
            "cosine 0.") in failed.message, failed.message
    assert failed.message.endswith(" < 0.99 on one sample, onnxruntime CPU), one of those")
    record = read_record(paths.record("det-fp16-kept"))
    assert record.accuracy is not None and record.precision is not None
    assert record.accuracy.outputs[0].cosine is not None
    assert record.accuracy.outputs[0].cosine >= 0.99
    calls = "\n".join(record.precision.calls)
    assert f"node_block_list=['{CLAMPED_BN}']" in calls
    assert "constants_to_initializers(model.graph)" in calls
    assert (f"kept in fp32 by the spec's keep_fp32: node(s) {CLAMPED_BN} "
            "(p2o.BatchNormalization.1 reads a weight the conversion would clamp "
            "(9.79e+07 -> 6.55e+04))") in record.precision.notes


def test_int8_leaves_kept_nodes_unquantized(tmp_path: Path) -> None:
    import onnx

    from trtdoc.precision.convert import convert_model

    first = "/features/features.0/features.0.0/Conv"
    result = convert_model(REPO / "models" / "mobilenet_v2_035.onnx", "int8", calibration=None,
                           cache_dir=tmp_path, profile_shapes={"input": (1, 3, 224, 224)},
                           keep_fp32=((), (first,)))
    graph = onnx.load(str(result.model)).graph
    dq = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    convs = {n.name: any(i in dq for i in n.input) for n in graph.node if n.op_type == "Conv"}
    assert convs[first] is False
    assert sum(convs.values()) == len(convs) - 1
    assert f"nodes_to_exclude=['{first}']" in result.calls[-1]
    assert f"kept in fp32 by the spec's keep_fp32: node(s) {first} " \
           "(their values stay out of the low precision)" in result.notes

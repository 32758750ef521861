"""Gates on slices of an output (``accuracy.outputs.<name>: [slices]``), on a YOLO-like
detection head written with onnx.helper and built for real with TensorRT-RTX in int8.

The head's output is [N, 4+18, 64]: box coordinates around 160 (up to ~320) beside 18 sigmoid
class scores, both from one MatMul, so int8 quantises the score logits with a step sized for
the boxes. Over the whole output the cosine stays above 0.99; over the scores it does not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from click.testing import CliRunner
from conftest import write

from trtdoc.check import check_specs
from trtdoc.cli.group import cli
from trtdoc.diff.compare import changes_between
from trtdoc.precision.accuracy import compare_models, load_metric
from trtdoc.record.files import read_gates, read_record, write_record
from trtdoc.render.write import render_site
from trtdoc.spec.load import load_specs
from trtdoc.spec.section import spec_section_from_spec
from trtdoc.spec.types import OutputSlice, Tolerance
from trtdoc.typed import encode

F = onnx.TensorProto.FLOAT
CLASSES, ANCHORS = 18, 64


def detection_head(path: Path, *, box: float = 40.0, seed: int = 0) -> Path:
    """``output0 = concat(w[:4] @ x + 160, sigmoid(w[4:] @ x - 2))`` along axis 1."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((4 + CLASSES, 8)).astype(np.float32)
    w[:4] *= box
    w[2:4] *= 0.25  # widths and heights stay positive
    graph = oh.make_graph(
        [oh.make_node("MatMul", ["w", "images"], ["feat"]),
         oh.make_node("Split", ["feat", "split"], ["box_raw", "logits"], axis=1),
         oh.make_node("Add", ["box_raw", "box_shift"], ["boxes"]),
         oh.make_node("Add", ["logits", "score_shift"], ["shifted"]),
         oh.make_node("Sigmoid", ["shifted"], ["scores"]),
         oh.make_node("Concat", ["boxes", "scores"], ["output0"], axis=1)], "yolo_head",
        [oh.make_tensor_value_info("images", F, ["batch", 8, ANCHORS])],
        [oh.make_tensor_value_info("output0", F, ["batch", 4 + CLASSES, ANCHORS])],
        [oh.make_tensor("w", F, list(w.shape), w.ravel()),
         oh.make_tensor("split", onnx.TensorProto.INT64, [2], [4, CLASSES]),
         oh.make_tensor("box_shift", F, [1], [160.0]),
         oh.make_tensor("score_shift", F, [1], [-2.0])])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], ir_version=8), path)
    return path


SPEC = """\
name: head
model: head.onnx
backend: tensorrt-rtx
precision: int8
profiles:
  - images: {min: [1, 8, 64], opt: [4, 8, 64], max: [4, 8, 64]}
calibration: {data: calib.npz, batches: 2}
targets: [sm89]
accuracy:
  data: held.npz
  samples: 8
  tolerance: {min_cosine: 0.99}
  outputs:
    output0:
%s
"""
SLICES = ("      - {axis: 1, start: 0, stop: 4, label: boxes, min_cosine: 0.99}\n"
          "      - {axis: 1, start: 4, stop: 22, label: scores, classes: true, "
          "min_cosine: 0.99}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    detection_head(tmp_path / "head.onnx")
    rng = np.random.default_rng(1)
    for name in ("calib", "held"):
        np.savez(tmp_path / f"{name}.npz", images=rng.standard_normal((8, 8, ANCHORS),
                                                                       dtype=np.float32))
    return tmp_path


def test_the_score_slice_fails_where_the_whole_output_passes(project: Path) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    # First a plain gate on the whole output, which passes; then the slices, which do not.
    spec = write(project, "head.yaml", SPEC % "      min_cosine: 0.99")
    paths = OutputPaths(out=project / "build", records=project / "records")
    (outcome,) = build_all([spec], paths).outcomes
    assert outcome.status == "built", outcome.message
    plain = read_record(paths.record("head"))
    spec = write(project, "head.yaml", SPEC % SLICES.replace(
        "classes: true, min_cosine: 0.99", "classes: true, min_cosine: 0.9"))
    (outcome,) = build_all([spec], paths).outcomes
    assert outcome.status == "re-checked", outcome.message  # the engine is the same
    sliced = read_record(paths.record("head"))
    # lint and diff name a slice as output0[scores], with its figures, as the page does.
    write_record(project / "plain.json", plain)
    lint = CliRunner().invoke(cli, ["lint", str(paths.record("head"))]).stdout
    (line,) = [x for x in lint.splitlines() if "output0[scores]" in x]
    assert line.startswith("head: accuracy output0[scores]: cosine 0."), line
    assert ", top-1 agreement " in line and line.endswith(" (8 held-out sample(s))")
    assert "head: accuracy output0[boxes]: cosine " in lint
    diff = CliRunner().invoke(cli, ["diff", str(project / "plain.json"),
                                    str(paths.record("head"))]).stdout
    assert "accuracy output0[scores] cosine" in diff and "none" in diff, diff
    # diff and the page name a slice as output0[scores].
    changes = {c.what: (c.old, c.new) for c in changes_between(plain, sliced).accuracy}
    assert changes["accuracy output0[scores] cosine"][0] == "none"
    assert float(changes["accuracy output0[scores] cosine"][1]) < 0.99
    # [N, 22, 64] is not [batch, classes]: no top-1 agreement before the slices either.
    assert plain.accuracy is not None and plain.accuracy.outputs[0].top1_agreement is None
    assert "accuracy output0 top1_agreement" not in changes
    spec = write(project, "head.yaml", SPEC % SLICES)
    (outcome,) = build_all([spec], paths).outcomes
    assert outcome.status == "failed"
    assert outcome.message.startswith(
        f"{spec}:14: accuracy.outputs: output 'output0[scores]': cosine similarity 0."), \
        outcome.message
    assert (" is below accuracy.outputs.output0[scores].min_cosine 0.99; loosen "
            "accuracy.outputs.output0[scores].min_cosine or choose a higher precision. ") \
        in outcome.message
    # The head's nodes have no names: the first diverging one is named by its tensor.
    assert outcome.message.endswith(
        " The first node whose output diverges from fp32 in the int8 model is an unnamed node "
        "making 'logits' (Split; cosine 0.9482 < 0.99 on one sample, onnxruntime CPU); give "
        "it a name in the model to keep it in fp32 with keep_fp32"), outcome.message
    assert "output0'" not in outcome.message and "[boxes]" not in outcome.message
    gate = json.loads(paths.gate("head").read_text())
    outs = {o["name"]: o for o in gate["accuracy"]["outputs"]}
    assert list(outs) == ["output0", "output0[boxes]", "output0[scores]"]
    assert outs["output0"]["cosine"] > 0.999 and outs["output0[boxes]"]["cosine"] > 0.999
    assert outs["output0[scores]"]["cosine"] < 0.99
    assert outs["output0[scores]"]["shape"] == [4, CLASSES, ANCHORS]
    # Top-1 only along the axis that holds classes: not over anchors, not over coordinates.
    assert outs["output0"]["top1_agreement"] is None
    assert outs["output0[boxes]"]["top1_agreement"] is None
    assert 0 < outs["output0[scores]"]["top1_agreement"] < 1

    site = project / "site"
    render_site([sliced], site, gates=read_gates(paths.records))
    page = (site / "engines" / "head.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith("| `output0[scores]`"))
    assert row.endswith("| cosine ≥ 0.9 |"), row  # its own limit, not accuracy.tolerance's
    assert "    | `output0[scores]` |" in page  # the failed gate's figures
    rule = ("the last axis of a whole output shaped [batch, classes], or the axis of a slice "
            "marked `classes: true`")
    assert page.count(rule) == 2


def test_slices_measure_their_own_part_and_take_top1_along_their_axis(project: Path) -> None:
    ref = project / "head.onnx"
    cand = detection_head(project / "cand.onnx", seed=0)
    # The candidate: the same model with class 5's logits raised, so its arg-max wins often.
    model = onnx.load(cand)
    w = onnx.numpy_helper.to_array(model.graph.initializer[0]).copy()
    w[4 + 5] += 0.5
    model.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w, "w"))
    onnx.save(model, cand)
    x = np.random.default_rng(2).standard_normal((4, 8, ANCHORS), dtype=np.float32)
    cut = OutputSlice("scores", 1, 4, 4 + CLASSES, Tolerance(), classes=True)
    report = compare_models(ref, cand, inputs=[{"images": x}],
                            slices={"output0": (cut, OutputSlice("boxes", 1, 0, 4, Tolerance()))})
    outs = {o.name: o for o in report.outputs}
    assert [o.name for o in report.outputs] == ["output0", "output0[boxes]", "output0[scores]"]
    assert outs["output0[boxes]"].max_abs == 0.0 and outs["output0[boxes]"].cosine == 1.0
    assert outs["output0[scores]"].max_abs > 0 and outs["output0[scores]"].shape == (4, 18, 64)
    assert outs["output0[scores]"].top1_agreement is not None
    assert outs["output0[scores]"].top1_agreement < 1.0
    assert outs["output0"].top1_agreement is None


def test_specs_without_slices_keep_their_record_section(project: Path) -> None:
    write(project, "plain.yaml", (SPEC % "      min_cosine: 0.9").replace("name: head",
                                                                         "name: plain"))
    loaded, errors = load_specs([project / "plain.yaml"])
    assert errors == []
    section = encode(spec_section_from_spec(loaded[0].spec))["accuracy"]
    assert section["outputs"] == {"output0": {"min_cosine": 0.9}}
    write(project, "head.yaml", SPEC % SLICES)
    loaded, errors = load_specs([project / "head.yaml"])
    assert errors == []
    assert encode(spec_section_from_spec(loaded[0].spec))["accuracy"]["outputs"] == {
        "output0": [{"label": "boxes", "axis": 1, "start": 0, "stop": 4,
                     "limits": {"min_cosine": 0.99}},
                    {"label": "scores", "axis": 1, "start": 4, "stop": 22,
                     "limits": {"min_cosine": 0.99}, "classes": True}]}


@pytest.mark.parametrize(("slices", "line"), [
    ("      - {axis: 3, start: 0, stop: 4, label: boxes}",
     "head.yaml:15:16: accuracy.outputs.output0[0].axis: output 'output0' has 3 axes "
     "['batch', 22, 64], so it has no axis 3. Hint: choose an axis from 0 to 2"),
    ("      - {axis: 1, start: 4, stop: 23, label: scores}",
     "head.yaml:15:35: accuracy.outputs.output0[0].stop: slice 'scores' stops at 23, but axis "
     "1 of output 'output0' ['batch', 22, 64] has 22 entries. Hint: make stop at most 22"),
])
def test_slice_bounds_are_checked_against_the_output_shape(project: Path, slices: str,
                                                           line: str) -> None:
    write(project, "head.yaml", SPEC % slices)
    _, errors = check_specs([project / "head.yaml"])
    assert [str(e).replace(f"{project}/", "") for e in errors] == [line]


@pytest.mark.parametrize(("slices", "line"), [
    ("      - {axis: 1, start: 4, stop: 4, label: scores}",
     "stop 4 is not after start 4"),
    ("      - {axis: 1, start: 4, stop: 22, label: scores, min_top1: 0.9}",
     "min_top1 needs `classes: true`"),
    ("      - {axis: 1, start: 0, stop: 4, label: a}\n"
     "      - {axis: 1, start: 4, stop: 22, label: a}",
     "label 'a' names two slices"),
])
def test_bad_slices_are_one_located_line(project: Path, slices: str, line: str) -> None:
    write(project, "head.yaml", SPEC % slices)
    _, errors = load_specs([project / "head.yaml"])
    assert len(errors) == 1, [str(e) for e in errors]
    assert str(errors[0]).startswith(f"{project / 'head.yaml'}:1"), str(errors[0])
    assert line in str(errors[0])


def readme_metric() -> str:
    """The detection metric the README shows under accuracy.metric, as it is there."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n# detection_metric.py", 1)[1].split("```", 1)[0]
    return "# detection_metric.py" + block


def test_the_readme_detection_metric_sees_what_the_cosine_hides(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    (project / "detection_metric.py").write_text(readme_metric())
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delitem(sys.modules, "detection_metric", raising=False)
    # The fp32 model against itself finds every detection again.
    held = np.load(project / "held.npz")["images"]
    same = compare_models(project / "head.onnx", project / "head.onnx",
                          inputs=[{"images": held[:4]}, {"images": held[4:]}],
                          metric=load_metric("detection_metric:matched_detections"),
                          metric_name="detection_metric:matched_detections")
    assert dict(same.metrics)["matched_detections"] == 1.0
    assert dict(same.metrics)["detections"] > 100
    spec = write(project, "head.yaml", SPEC.replace("  outputs:\n    output0:\n%s\n", (
        "  metric: detection_metric:matched_detections\n"
        "  metric_tolerance: {min_matched_detections: 0.95}\n")))
    paths = OutputPaths(out=project / "build", records=project / "records")
    (outcome,) = build_all([spec], paths).outcomes
    assert outcome.status == "failed"
    gate = json.loads(paths.gate("head").read_text())
    assert gate["accuracy"]["outputs"][0]["cosine"] > 0.999
    assert gate["accuracy"]["metric.matched_detections"] < 0.95, gate["accuracy"]
    assert gate["accuracy"]["metric.matched_detections"] < 0.6  # the README says 0.54
    assert gate["violations"] == [
        f"metric 'matched_detections': {gate['accuracy']['metric.matched_detections']:.6g} is "
        "below accuracy.metric_tolerance.min_matched_detections 0.95; loosen "
        "accuracy.metric_tolerance.min_matched_detections or choose a higher precision"]

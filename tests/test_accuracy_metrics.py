"""Accuracy figures for outputs of any shape, per-output limits, the task-metric hook, and
held-out data of any layout, on small models written with onnx.helper.

Every model here is built in the test; nothing is pretrained. Reference and candidate differ by
a constant added to some scores, which is damage of a known size.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest

from trtdoc.errors import BuildError
from trtdoc.precision.accuracy import AccuracyReport, check_tolerance, compare_models, load_metric
from trtdoc.precision.samples import batch_axes, held_out_batches, random_batches
from trtdoc.spec.keys import spec_accuracy_key, spec_build_key
from trtdoc.spec.load import load_specs
from trtdoc.spec.section import encode_spec, spec_section_from_spec
from trtdoc.spec.types import Accuracy, OutputSlice, OutputTolerance, Tolerance
from trtdoc.typed import decode_json, encode

F = onnx.TensorProto.FLOAT


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    # IR 8 keeps it loadable by older onnxruntime releases (1.23 reads IR 11 at most).
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], ir_version=8), path)
    return path


def _ctc(path: Path, bias: list[float], hn_bias: float = 0.0) -> Path:
    """``speech_probs = x + bias`` ([B, T, 3]) and ``hn = h + hn_bias`` ([B, 2])."""
    graph = oh.make_graph(
        [oh.make_node("Add", ["x", "bias"], ["speech_probs"]),
         oh.make_node("Add", ["h", "hn_bias"], ["hn"])], "ctc",
        [oh.make_tensor_value_info("x", F, ["batch", "time", 3]),
         oh.make_tensor_value_info("h", F, ["batch", 2])],
        [oh.make_tensor_value_info("speech_probs", F, ["batch", "time", 3]),
         oh.make_tensor_value_info("hn", F, ["batch", 2])],
        [oh.make_tensor("bias", F, [3], bias), oh.make_tensor("hn_bias", F, [1], [hn_bias])])
    return _save(graph, path)


def _sequence_batches() -> list[dict[str, np.ndarray]]:
    """Class 0 leads class 1 by 0.05 at a quarter of the positions and by 2 at the rest."""
    x = np.zeros((2, 8, 3), dtype=np.float32)
    x[..., 0] = 5.0
    x[..., 1] = 3.0
    x[:, :2, 1] = 4.95
    h = np.ones((2, 2), dtype=np.float32)
    return [{"x": x, "h": h}, {"x": x.copy(), "h": h.copy()}]


@pytest.fixture
def ctc(tmp_path: Path) -> tuple[Path, Path]:
    """fp32 model, and one whose class 1 gains 0.125 (flips a quarter of the positions) and whose
    ``hn`` is shifted far off."""
    return (_ctc(tmp_path / "ref.onnx", [0.0, 0.0, 0.0]),
            _ctc(tmp_path / "cand.onnx", [0.0, 0.125, 0.0], hn_bias=-3.0))


CLASSES = OutputSlice("classes", 2, 0, 3, Tolerance(), classes=True)


def test_sequence_outputs_get_top1_per_position_from_a_classes_slice(
        ctc: tuple[Path, Path]) -> None:
    report = compare_models(*ctc, inputs=_sequence_batches(),
                            slices={"speech_probs": (CLASSES,)})
    outs = {o.name: o for o in report.outputs}
    probs, cut = outs["speech_probs"], outs["speech_probs[classes]"]
    # Rank 3: trtdoc does not guess that the last axis holds classes; the slice says so.
    assert probs.shape == (2, 8, 3) and probs.top1_agreement is None
    # 4 of 16 positions per batch flip; the scores barely move, so cosine stays high.
    assert cut.shape == (2, 8, 3) and cut.top1_agreement == 0.75
    assert probs.cosine > 0.999 and probs.max_abs == 0.125
    assert (report.samples, report.batches) == (4, 2)
    assert check_tolerance(report, {"min_cosine": 0.99, "min_top1": 0.9},
                           outputs={"hn": None}) == [
        "output 'speech_probs[classes]': top-1 agreement 0.75 is below "
        "accuracy.tolerance.min_top1 0.9; loosen accuracy.tolerance.min_top1 or choose a "
        "higher precision"]
    # Without the slice, nothing has a class axis, and a min_top1 says so.
    plain = compare_models(*ctc, inputs=_sequence_batches())
    assert check_tolerance(plain, {"min_top1": 0.9}, outputs={"hn": None}) == [
        "accuracy.tolerance.min_top1 is set, but no gated output has a class axis (a [batch, "
        "classes] output or a slice marked `classes: true`, with more than one class); remove "
        "accuracy.tolerance.min_top1"]


def test_per_output_limits_override_figure_by_figure_and_ignore_is_not_gated(
        ctc: tuple[Path, Path]) -> None:
    report = compare_models(*ctc, inputs=_sequence_batches(),
                            slices={"speech_probs": (CLASSES,)})
    hn = next(o for o in report.outputs if o.name == "hn")
    assert hn.cosine < 0.5  # measured and kept for the page, though ignored below
    outputs = {"speech_probs": {"max_abs": 0.05}, "speech_probs[classes]": {"min_top1": 0.98},
               "hn": None}
    assert check_tolerance(report, {"min_cosine": 0.99}, outputs=outputs) == [
        "output 'speech_probs': max abs error 0.125 exceeds accuracy.outputs.speech_probs.max_abs "
        "0.05; loosen accuracy.outputs.speech_probs.max_abs or choose a higher precision",
        "output 'speech_probs[classes]': top-1 agreement 0.75 is below "
        "accuracy.outputs.speech_probs[classes].min_top1 0.98; loosen "
        "accuracy.outputs.speech_probs[classes].min_top1 or choose a higher precision"]
    # Not ignored, hn fails the shared min_cosine; the override keeps the rest of tolerance.
    tight = check_tolerance(report, {"min_cosine": 0.99, "mean_abs": 1e-9},
                            outputs={"speech_probs": {"max_abs": 1.0},
                                     "speech_probs[classes]": None})
    assert [v.split(":")[0] for v in tight] == ["output 'hn'"] * 2 + ["output 'speech_probs'"]
    assert "accuracy.tolerance.min_cosine 0.99" in tight[1]
    assert "mean abs error 0.0416667 exceeds accuracy.tolerance.mean_abs" in tight[2]


def _report(shape: list[int], top1: float | None) -> AccuracyReport:
    out = {"name": "score", "shape": shape, "max_abs": 0.0, "mean_abs": 0.0, "cosine": 1.0,
           "top1_agreement": top1, "reference_mean_abs": 1.0}
    return decode_json(AccuracyReport, json.dumps({
        "reference": "m.onnx", "candidate": "c.onnx", "outputs": [out], "samples": 4,
        "smoke": False, "seed": None, "runtime": "onnxruntime 1.32.0 CPU", "not_run": None}))


def test_min_top1_on_an_output_without_a_class_axis_says_so() -> None:
    assert check_tolerance(_report([4], None), {}, outputs={"score": {"min_top1": 0.9}}) == [
        "output 'score': accuracy.outputs.score.min_top1 is set, but the output has shape [4], "
        "so it has no top-1 agreement (that needs a [batch, classes] output or a slice marked "
        "`classes: true`, with more than one class); remove accuracy.outputs.score.min_top1"]
    assert check_tolerance(_report([], None), {"min_top1": 0.9}) == [
        "accuracy.tolerance.min_top1 is set, but no gated output has a class axis (a [batch, "
        "classes] output or a slice marked `classes: true`, with more than one class); remove "
        "accuracy.tolerance.min_top1"]
    assert check_tolerance(_report([4, 7, 3], 0.95), {"min_top1": 0.9}) == []


# --------------------------------------------------------------------------- metric hook
METRIC = '''
import numpy as np

def exact_match(reference, candidate, inputs):
    """Fraction of sequences whose every position keeps its arg-max."""
    same = [np.all(r["speech_probs"].argmax(-1) == c["speech_probs"].argmax(-1), axis=-1)
            for r, c in zip(reference, candidate)]
    return {"exact_match": float(np.concatenate(same).mean()),
            "batches_seen": float(len(inputs)), "x_sum": float(sum(i["x"].sum() for i in inputs))}

def broken(reference, candidate, inputs):
    return [1.0]
'''


@pytest.fixture
def metric_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "task_metrics_for_test.py").write_text(textwrap.dedent(METRIC))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "task_metrics_for_test"
    sys.modules.pop("task_metrics_for_test", None)


def test_the_metric_hook_gets_every_batch_and_its_figures_are_recorded_and_gated(
        ctc: tuple[Path, Path], metric_module: str) -> None:
    target = f"{metric_module}:exact_match"
    batches = _sequence_batches()
    report = compare_models(*ctc, inputs=batches, metric=load_metric(target),
                            metric_name=target)
    # Every sequence has flipped positions, so none matches exactly.
    # Figures are kept to six significant digits, like every other accuracy figure.
    assert report.metrics == (("batches_seen", 2.0), ("exact_match", 0.0), ("x_sum", 271.6))
    d = encode(dataclasses.replace(report, gate_key="k"))
    # The figures are flat metric.<figure> keys, after not_run and before gate_key.
    assert list(d)[-5:] == ["not_run", "metric.batches_seen", "metric.exact_match",
                            "metric.x_sum", "gate_key"]
    assert d["metric.exact_match"] == 0.0
    assert decode_json(AccuracyReport, json.dumps(d)) == dataclasses.replace(report,
                                                                                gate_key="k")
    assert check_tolerance(report, {}, metric_tolerance={"min_exact_match": 0.9,
                                                         "max_batches_seen": 2}) == [
        "metric 'exact_match': 0 is below accuracy.metric_tolerance.min_exact_match 0.9; loosen "
        "accuracy.metric_tolerance.min_exact_match or choose a higher precision"]
    assert check_tolerance(report, {}, metric_tolerance={"min_wer": 0.1}) == [
        "accuracy.metric_tolerance.min_wer is set, but accuracy.metric returned no figure 'wer' "
        "(it returned: batches_seen, exact_match, x_sum); name a returned figure or set "
        "accuracy.metric"]
    with pytest.raises(BuildError) as exc:
        compare_models(*ctc, inputs=batches, metric=load_metric(f"{metric_module}:broken"),
                       metric_name=f"{metric_module}:broken", engine="e")
    assert str(exc.value) == (
        f"e: accuracy.metric: '{metric_module}:broken' returned list, not a mapping of figure "
        "name to number. Return e.g. {'exact_match': 0.93}")


def test_a_metric_that_cannot_be_imported_is_one_line_naming_the_setting(
        metric_module: str) -> None:
    with pytest.raises(BuildError) as exc:
        load_metric("no_such_package_xyz.metrics:f", engine="e")
    assert str(exc.value) == (
        "e: accuracy.metric: cannot import no_such_package_xyz.metrics, which "
        "'no_such_package_xyz.metrics:f' names (ModuleNotFoundError: No module named "
        "'no_such_package_xyz'). Install the package that holds it, or put its folder on "
        "PYTHONPATH")
    with pytest.raises(BuildError) as exc:
        load_metric(f"{metric_module}:nothing", engine="e")
    assert str(exc.value) == (f"e: accuracy.metric: {metric_module} has no function 'nothing', "
                              f"which '{metric_module}:nothing' names. Name a function defined "
                              "there")


# --------------------------------------------------------------------------- data layouts
def _layouts(path: Path) -> Path:
    """Inputs x [B, 4], sr [] (a scalar), state [2, B, 3] (batch second), ids [B] int64."""
    graph = oh.make_graph(
        [oh.make_node("Mul", ["x", "sr"], ["y"]),
         oh.make_node("Cast", ["ids"], ["idf"], to=F),
         oh.make_node("Add", ["state", "idf"], ["s2"])], "layouts",
        [oh.make_tensor_value_info("x", F, ["batch", 4]),
         oh.make_tensor_value_info("sr", F, []),
         oh.make_tensor_value_info("state", F, [2, "batch", 3]),
         oh.make_tensor_value_info("ids", onnx.TensorProto.INT64, ["batch", 1])],
        [oh.make_tensor_value_info("y", F, ["batch", 4]),
         oh.make_tensor_value_info("s2", F, [2, "batch", 3])])
    return _save(graph, path)


OPT = {"x": (4, 4), "state": (2, 4, 3), "ids": (4, 1)}


def test_scalar_and_batch_second_inputs_split_by_the_models_batch_axis(tmp_path: Path) -> None:
    model = _layouts(tmp_path / "layouts.onnx")
    assert batch_axes(model) == {"x": 0, "sr": None, "state": 1, "ids": 0}
    rng = np.random.default_rng(0)
    data = tmp_path / "held.npz"
    np.savez(data, x=rng.standard_normal((11, 4)), sr=np.float32(16000.0),
             state=rng.standard_normal((2, 11, 3)).astype(np.float32),
             ids=np.arange(11, dtype=np.float64).reshape(11, 1))  # whole numbers: cast to int64
    batches = held_out_batches(data, model, samples=10, shapes=OPT, engine="e")
    assert [b["state"].shape for b in batches] == [(2, 4, 3), (2, 4, 3), (2, 2, 3)]
    assert [b["x"].shape for b in batches] == [(4, 4), (4, 4), (2, 4)]
    assert all(b["sr"].shape == () for b in batches) and batches[0]["ids"].dtype == np.int64
    assert batches[2]["ids"].ravel().tolist() == [8, 9]
    report = compare_models(model, model, inputs=batches)
    assert (report.samples, report.batches) == (10, 3) and not report.smoke
    assert all(o.cosine == 1.0 for o in report.outputs)

    with pytest.raises(BuildError) as exc:
        held_out_batches(data, model, samples=12, shapes=OPT, engine="e")
    assert str(exc.value) == (f"e: accuracy.data: {data} holds 11 samples, fewer than the 12 "
                              "accuracy.samples asks for. Add samples or lower accuracy.samples")


def test_random_inputs_count_samples_along_the_batch_axis(tmp_path: Path) -> None:
    model = _layouts(tmp_path / "layouts.onnx")
    batches = random_batches(model, {**OPT, "sr": ()}, samples=6)
    assert [b["state"].shape for b in batches] == [(2, 4, 3), (2, 2, 3)]
    report = compare_models(model, model, inputs=None, samples=6, shapes={**OPT, "sr": ()})
    assert (report.samples, report.batches) == (6, 2) and report.smoke


def test_a_folder_is_read_in_order_and_split_into_opt_batches(tmp_path: Path) -> None:
    model = _ctc(tmp_path / "ref.onnx", [0.0, 0.0, 0.0])
    folder = tmp_path / "held"
    folder.mkdir()
    for i, n in enumerate((3, 5)):
        np.savez(folder / f"{i}.npz", x=np.full((n, 2, 3), i, np.float32),
                 h=np.zeros((n, 2), np.float32))
    batches = held_out_batches(folder, model, samples=7, shapes={"x": (2, 2, 3), "h": (2, 2)})
    assert [(b["x"].shape[0], float(b["x"].flat[0])) for b in batches] == [
        (2, 0.0), (1, 0.0), (2, 1.0), (2, 1.0)]


# --------------------------------------------------------------------------- the spec
SPEC = """\
name: ctc
model: m.onnx
accuracy:
  data: held.npz
  samples: 32                        # input samples compared, not batches
  tolerance: {min_cosine: 0.99}      # every output, unless overridden below
  outputs:
    speech_probs: {max_abs: 0.2, min_top1: 0.98}
    hn: ignore                       # measured and shown, not gated
  metric: task.metrics:exact_match
  metric_tolerance: {min_exact_match: 0.9}
"""


def test_the_spec_syntax_freezes_per_output_limits_and_the_metric(tmp_path: Path) -> None:
    (tmp_path / "ctc.yaml").write_text(SPEC)
    np.savez(tmp_path / "held.npz", x=np.zeros((1, 2, 3)))
    (loaded,), errors = load_specs([tmp_path])
    assert errors == []
    acc = loaded.spec.accuracy
    assert acc == Accuracy(
        tolerance=Tolerance(min_cosine=0.99), data=tmp_path / "held.npz", samples=32,
        outputs=(OutputTolerance("hn", None),
                 OutputTolerance("speech_probs", Tolerance(max_abs=0.2, min_top1=0.98))),
        metric="task.metrics:exact_match", metric_tolerance=(("min_exact_match", 0.9),))
    assert acc.outputs[0].ignore and acc.output_limits() == {
        "hn": None, "speech_probs": {"max_abs": 0.2, "min_top1": 0.98}}
    assert encode_spec(spec_section_from_spec(loaded.spec))["accuracy"]["outputs"] == {
        "hn": "ignore", "speech_probs": {"max_abs": 0.2, "min_top1": 0.98}}
    # Accuracy settings key the gate, not the engine: an edit re-runs the check only.
    before = spec_accuracy_key(loaded.spec)
    (tmp_path / "ctc.yaml").write_text(SPEC.replace("hn: ignore", "hn: {max_abs: 1}"))
    (changed,), _ = load_specs([tmp_path])
    assert spec_accuracy_key(changed.spec) != before
    assert spec_build_key(changed.spec) == spec_build_key(loaded.spec)


def test_a_spec_without_the_new_keys_keeps_its_build_key_shape(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nmodel: m.onnx\naccuracy: {samples: 8}\n")
    (loaded,), _ = load_specs([tmp_path])
    assert encode_spec(spec_section_from_spec(loaded.spec))["accuracy"] == {
        "tolerance": None, "data": None, "samples": 8}


def test_bad_accuracy_keys_are_located_errors(tmp_path: Path) -> None:
    spec = tmp_path / "b.yaml"
    spec.write_text("name: b\nmodel: m.onnx\naccuracy:\n  outputs:\n"
                    "    speech_probs: {max_ab: 0.2}\n    hn: ignor\n"
                    "  metric: task_metrics\n  metric_tolerance: {exact_match: 0.9}\n")
    _, errors = load_specs([tmp_path])
    assert [str(e) for e in errors] == [
        f"{spec}:5:20: accuracy.outputs.speech_probs.max_ab: unknown key 'max_ab'. Hint: did "
        "you mean 'max_abs'?",
        f"{spec}:6:9: accuracy.outputs.hn: 'ignor' is neither 'ignore' nor a mapping of "
        "limits. Hint: write `ignore` (measured and shown, not gated) or limits such as "
        "`{max_abs: 0.1, min_top1: 0.98}`",
        f"{spec}:7:11: accuracy.metric: 'task_metrics' is not package.module:function. Hint: "
        "write for example `metric: mypackage.metrics:exact_match`",
        f"{spec}:8:35: accuracy.metric_tolerance.exact_match: 'exact_match' does not start "
        "with min_ or max_. Hint: write `min_<figure>` or `max_<figure>` for a figure the "
        "metric returns, e.g. `min_exact_match: 0.9`"]

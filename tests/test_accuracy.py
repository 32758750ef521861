"""Accuracy of converted shared models against fp32, in onnxruntime on the CPU.

The thresholds come from measured figures (in the comments) with a margin. The models have
seeded random weights, so mobilenet's logits are tiny (mean |x| about 1e-8): read its absolute
errors against ``reference_mean_abs``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from test_precision import BERT, IMAGE_OPT, MOBILENET, RESNET, TEXT_OPT, convert, image_data

from trtdoc.precision.accuracy import (
    AccuracyReport,
    OutputAccuracy,
    check_tolerance,
    compare_models,
)
from trtdoc.precision.samples import load_samples
from trtdoc.typed import decode_json, encode


@pytest.fixture(scope="session")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, np.ndarray], ...]:
    """Two batches of two images, drawn apart from the calibration data (other seed)."""
    path = image_data(tmp_path_factory, "held_out", 4, seed=7)
    return load_samples(path, ["input"], 2)


def test_identical_models_agree_exactly() -> None:
    report = compare_models(MOBILENET, MOBILENET, inputs=None, samples=6, shapes=IMAGE_OPT)
    (out,) = report.outputs
    assert (out.name, out.shape, out.max_abs, out.mean_abs, out.cosine, out.top1_agreement) == (
        "output", (4, 1000), 0.0, 0.0, 1.0, 1.0)
    # samples counts samples: six random ones, in batches of at most the opt batch (4).
    assert report.smoke and report.seed == 0 and (report.samples, report.batches) == (6, 2)
    assert re.fullmatch(r"onnxruntime \d+\.\d+\.\d+ CPU", report.runtime)


def test_mobilenet_fp16_and_int8(tmp_path_factory: pytest.TempPathFactory,
                                 held_out: tuple[dict[str, np.ndarray], ...]) -> None:
    fp16 = compare_models(MOBILENET, convert(tmp_path_factory, MOBILENET, "fp16").model,
                          inputs=held_out)
    (out,) = fp16.outputs
    # samples counts inputs, not batches: two batches of two images are four samples.
    assert not fp16.smoke and fp16.seed is None and (fp16.samples, fp16.batches) == (4, 2)
    # measured: max_abs 2.5e-11 (reference mean |x| 1.2e-8), cosine 1.0, top-1 1.0
    assert out.max_abs < 0.01 * out.reference_mean_abs
    assert out.cosine > 0.99999 and out.top1_agreement == 1.0

    int8 = compare_models(MOBILENET, convert(tmp_path_factory, MOBILENET, "int8").model,
                          inputs=held_out)
    (out,) = int8.outputs
    # measured: cosine 0.9997, top-1 1.0, max_abs 1.7e-9
    assert 0.99 < out.cosine < 1.0
    assert out.top1_agreement is not None and out.top1_agreement >= 0.75
    assert out.max_abs < 0.5 * out.reference_mean_abs


def test_resnet18_fp16_and_int8(tmp_path_factory: pytest.TempPathFactory) -> None:
    fp16 = compare_models(RESNET, convert(tmp_path_factory, RESNET, "fp16").model,
                          inputs=None, samples=2, shapes={"input": (2, 3, 224, 224)})
    (out,) = fp16.outputs
    # measured: max_abs 0.0021, mean_abs 0.00044 (reference mean |x| 1.1), cosine 1.0
    assert out.max_abs < 0.02 and out.mean_abs < 0.005
    assert out.cosine > 0.99999 and out.top1_agreement == 1.0

    int8 = compare_models(RESNET, convert(tmp_path_factory, RESNET, "int8").model,
                          inputs=None, samples=2, shapes={"input": (2, 3, 224, 224)})
    (out,) = int8.outputs
    # measured: max_abs 0.11, mean_abs 0.021, cosine 0.9998, top-1 1.0
    assert out.max_abs < 0.5 and out.mean_abs < 0.1
    assert 0.995 < out.cosine < 1.0 and out.top1_agreement is not None
    assert out.top1_agreement >= 0.75
    assert int8.smoke


def test_bert_fp16_on_random_tokens(tmp_path_factory: pytest.TempPathFactory) -> None:
    report = compare_models(BERT, convert(tmp_path_factory, BERT, "fp16").model, inputs=None,
                            samples=8, shapes=TEXT_OPT)
    (out,) = report.outputs
    # measured: max_abs 0.005, cosine 1.0. [batch, seq, hidden] holds no classes: an arg-max
    # over hidden units means nothing, so there is no top-1 agreement.
    assert out.name == "last_hidden_state" and out.shape == (4, 64, 128)
    assert (report.samples, report.batches) == (8, 2)
    assert out.top1_agreement is None
    assert out.cosine > 0.9999 and out.max_abs < 0.05


def test_a_tight_tolerance_names_output_figure_and_fix(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    report = compare_models(RESNET, convert(tmp_path_factory, RESNET, "fp16").model,
                            inputs=None, samples=2, shapes={"input": (2, 3, 224, 224)})
    measured = report.outputs[0].max_abs
    assert check_tolerance(report, {"max_abs": 1e-6, "min_cosine": 0.99}) == [
        f"output 'output': max abs error {measured:.6g} exceeds accuracy.tolerance.max_abs "
        "1e-06; loosen accuracy.tolerance.max_abs or choose a higher precision"]
    assert check_tolerance(report, {"max_abs": 0.1, "mean_abs": 0.01, "min_cosine": 0.999,
                                    "min_top1": 1.0}) == []
    assert check_tolerance(report, {}) == [] and check_tolerance(report, {"max_abs": None}) == []


def _report(**figures: float | None) -> AccuracyReport:
    out = {"name": "logits", "shape": [8, 10], "max_abs": 0.5, "mean_abs": 0.05,
           "cosine": 0.98, "top1_agreement": 0.875, "reference_mean_abs": 1.0, "nonfinite": 0}
    out.update(figures)
    return decode_json(AccuracyReport, json.dumps({
        "reference": "m.onnx", "candidate": "m.int8.onnx", "outputs": [out], "samples": 4,
        "smoke": False, "seed": None, "runtime": "onnxruntime 1.32.0 CPU", "not_run": None}))


def test_every_violation_is_one_line() -> None:
    tolerance = {"min_top1": 0.9, "max_abs": 0.25, "min_cosine": 0.999, "mean_abs": 0.01}
    assert check_tolerance(_report(nonfinite=3), tolerance) == [
        "output 'logits': 3 value(s) are NaN or infinite in the converted model but finite in "
        "the fp32 model; choose a higher precision",
        "output 'logits': max abs error 0.5 exceeds accuracy.tolerance.max_abs 0.25; loosen "
        "accuracy.tolerance.max_abs or choose a higher precision",
        "output 'logits': mean abs error 0.05 exceeds accuracy.tolerance.mean_abs 0.01; loosen "
        "accuracy.tolerance.mean_abs or choose a higher precision",
        "output 'logits': cosine similarity 0.98 is below accuracy.tolerance.min_cosine 0.999; "
        "loosen accuracy.tolerance.min_cosine or choose a higher precision",
        "output 'logits': top-1 agreement 0.875 is below accuracy.tolerance.min_top1 0.9; "
        "loosen accuracy.tolerance.min_top1 or choose a higher precision",
    ]
    with pytest.raises(ValueError, match="unknown tolerance 'max_rel'"):
        check_tolerance(_report(), {"max_rel": 0.1})


def test_spec_tolerance_objects_are_accepted() -> None:
    from trtdoc.spec.types import Tolerance

    assert check_tolerance(_report(), Tolerance(max_abs=1.0, min_cosine=0.9)) == []
    assert len(check_tolerance(_report(), Tolerance(min_cosine=0.99))) == 1


def _one_conv(path: Path, elem: int) -> Path:
    """A one-Conv model in ``elem`` precision, inputs and outputs fp32 (as AutoCast makes)."""
    w = oh.make_tensor("w", elem, [2, 3, 1, 1], [0.5] * 6)
    nodes = [oh.make_node("Cast", ["x"], ["xc"], to=elem),
             oh.make_node("Conv", ["xc", "w"], ["yc"]),
             oh.make_node("Cast", ["yc"], ["y"], to=onnx.TensorProto.FLOAT)]
    graph = oh.make_graph(
        nodes, "conv",
        [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 4, 4])],
        [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2, 4, 4])], [w])
    # IR 8 keeps it loadable by older onnxruntime releases (1.23 reads IR 11 at most).
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def test_a_model_the_cpu_cannot_run_is_reported_not_run(tmp_path: Path) -> None:
    reference = _one_conv(tmp_path / "fp32.onnx", onnx.TensorProto.FLOAT)
    candidate = _one_conv(tmp_path / "bf16.onnx", onnx.TensorProto.BFLOAT16)
    report = compare_models(reference, candidate, inputs=None)
    assert report.outputs == () and report.samples == 0
    assert report.not_run is not None
    assert report.not_run.startswith("onnxruntime cannot run the converted model on the CPU (")
    assert "Conv" in report.not_run
    assert check_tolerance(report, {"max_abs": 1.0}) == [
        f"accuracy was not measured: {report.not_run}; remove accuracy.tolerance or choose a "
        "precision onnxruntime runs on the CPU (fp16, int8, fp8)"]
    assert check_tolerance(report, {}) == []


def test_held_out_data_of_another_dtype_is_cast(tmp_path: Path) -> None:
    data = tmp_path / "held.npz"
    rng = np.random.default_rng(0)
    np.savez(data, input_ids=rng.integers(0, 1000, (2, 8)).astype(np.int32),
             attention_mask=np.ones((2, 8)))
    inputs = load_samples(data, ["input_ids", "attention_mask"], None, setting="accuracy.data")
    report = compare_models(BERT, BERT, inputs=inputs)
    assert not report.smoke and report.outputs[0].cosine == 1.0


def test_report_round_trips_through_json() -> None:
    report = compare_models(MOBILENET, MOBILENET, inputs=None, samples=1, shapes=IMAGE_OPT)
    text = json.dumps(encode(report), sort_keys=True)
    assert decode_json(AccuracyReport, text) == report
    assert list(encode(report)) == [
        "reference", "candidate", "outputs", "samples", "batches", "smoke", "seed", "runtime",
        "not_run"]
    assert list(encode(report)["outputs"][0]) == [
        "name", "shape", "max_abs", "mean_abs", "cosine", "top1_agreement",
        "reference_mean_abs", "nonfinite"]
    output = json.dumps(encode(report.outputs[0]))
    assert decode_json(OutputAccuracy, output) == report.outputs[0]

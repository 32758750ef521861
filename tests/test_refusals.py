"""Refusals that lead somewhere (issue 24 item 7), on real models and real TensorRT-RTX builds:
mobilenet_v2 (width 0.35, seeded random weights, ../shared/models) quantised by ONNX Runtime's
own ``quantize_dynamic``, and tiny ``If`` models written with onnx.helper."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from conftest import MODELS
from onnx import TensorProto, numpy_helper

from trtdoc.backends import choose_backend
from trtdoc.build.engine import engine_from_spec
from trtdoc.build.run import build_all
from trtdoc.check import check_specs
from trtdoc.errors import BuildError
from trtdoc.paths import OutputPaths
from trtdoc.spec.load import load_specs

pytest.importorskip("tensorrt_rtx")
quantization = pytest.importorskip("onnxruntime.quantization")

MOBILENET = MODELS / "mobilenet_v2_035.onnx"
PROFILE = ("profiles:\n  - input: {min: [1, 3, 224, 224], opt: [1, 3, 224, 224], "
           "max: [1, 3, 224, 224]}\ntargets: [sm89]\nbackend: tensorrt-rtx\n")


@pytest.fixture(scope="module")
def dynamic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mobilenet_v2 as ONNX Runtime's dynamic quantisation leaves it."""
    out = tmp_path_factory.mktemp("dyn") / "mobilenet_dynamic.onnx"
    quantization.quantize_dynamic(MOBILENET, out, weight_type=quantization.QuantType.QUInt8)
    return out


def test_check_names_every_refused_op_and_says_start_from_the_float_model(
        dynamic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.yaml").write_text(f"name: q\nmodel: {dynamic}\n{PROFILE}")
    _, errors = check_specs([tmp_path / "q.yaml"])
    assert [str(e) for e in errors] == [
        f"q.yaml:2:8: model: {dynamic} uses ops TensorRT's ONNX parser refuses (ConvInteger "
        "x52, DynamicQuantizeLinear x53, MatMulInteger). Hint: ONNX Runtime's dynamic "
        "quantisation (quantize_dynamic) writes these ops: start from the float model "
        "instead, and let trtdoc quantise it (`precision: int8` with `calibration` data writes "
        "the QuantizeLinear/DequantizeLinear pairs TensorRT reads)"]
    # The float model it came from passes the same check.
    (tmp_path / "q.yaml").write_text(f"name: q\nmodel: {MOBILENET}\n{PROFILE}")
    assert check_specs([tmp_path / "q.yaml"])[1] == []


def test_the_parser_itself_refuses_those_ops_in_one_line_per_op(
        dynamic: Path, tmp_path: Path) -> None:
    """What the check predicts is what TensorRT-RTX's parser does (measured, not assumed):
    each of the three ops is refused, 106 nodes in three entries."""

    (tmp_path / "q.yaml").write_text(f"name: q\nmodel: {MOBILENET}\n{PROFILE}")
    item = load_specs([tmp_path / "q.yaml"])[0][0]
    with pytest.raises(BuildError) as caught:
        engine_from_spec(item.spec, choose_backend("tensorrt-rtx"), dynamic)
    message = caught.value.message
    assert message.startswith("the ONNX parser failed: "), message
    entries = message.removeprefix("the ONNX parser failed: ").split("; ")
    assert sorted(e.rsplit(", op ", 1)[1] for e in entries) == [
        "ConvInteger)", "DynamicQuantizeLinear)", "MatMulInteger)"]
    assert "and 52 more" in message and "and 51 more" in message


def _if_model(path: Path, *, condition_input: bool) -> Path:
    """``y = If(sr == 16000, x * 2, Concat(x, x))``: branches of different shapes. With
    ``condition_input`` ``sr`` is a graph input; without, a constant in the model."""
    then_g = oh.make_graph([oh.make_node("Mul", ["x", "two"], ["a"])], "then", [],
                           [oh.make_tensor_value_info("a", TensorProto.FLOAT, ["N", "W"])])
    else_g = oh.make_graph([oh.make_node("Concat", ["x", "x"], ["b"], axis=1)], "else", [],
                           [oh.make_tensor_value_info("b", TensorProto.FLOAT, ["N", "W"])])
    inits = [numpy_helper.from_array(np.array(2, np.float32), "two"),
             numpy_helper.from_array(np.array(16000, np.int64), "k")]
    inputs = [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])]
    if condition_input:
        inputs.append(oh.make_tensor_value_info("sr", TensorProto.INT64, []))
    else:
        inits.append(numpy_helper.from_array(np.array(16000, np.int64), "sr"))
    nodes = [oh.make_node("Equal", ["sr", "k"], ["c"], name="is_16k"),
             oh.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g,
                          name="branch")]
    graph = oh.make_graph(nodes, "vad_like", inputs,
                          [oh.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "W"])], inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return path


def test_a_builder_assertion_on_if_says_what_to_do_next(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    profile = "profiles:\n  - x: {min: [1, 4], opt: [2, 4], max: [8, 4]}\n"
    _if_model(tmp_path / "if_input.onnx", condition_input=True)
    _if_model(tmp_path / "if_const.onnx", condition_input=False)
    for name in ("if_input", "if_const"):
        (specs / f"{name}.yaml").write_text(
            f"name: {name}\nmodel: ../{name}.onnx\nbackend: tensorrt-rtx\ntargets: [sm89]\n"
            + profile)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = build_all([specs], OutputPaths(out=tmp_path / "build",
                                                records=tmp_path / "records"))
    finally:
        os.chdir(cwd)
    assert not result.spec_errors, [str(e) for e in result.spec_errors]
    outcomes = {o.name: o for o in result.outcomes}
    # The step it suggests is the one that works: the condition fixed, the engine builds.
    assert outcomes["if_const"].status == "built", outcomes["if_const"].message
    failed = outcomes["if_input"]
    assert failed.status == "failed"
    assert "MyelinCheckException" in failed.message
    assert failed.message.endswith(
        ". The model has 1 `If` node (control flow), and TensorRT-RTX failed inside its graph "
        "compiler: fix the graph inputs each `If` condition is computed from as constants in "
        "the model (the parser then imports only the branch taken), for example by constant "
        "folding with those inputs set, or use an export of the model without `If`"), \
        failed.message

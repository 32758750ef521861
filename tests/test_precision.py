"""The precision step on the shared models, checked by real TensorRT-RTX builds.

The models in ../shared/models are real architectures with seeded random weights (see their
README); calibration and held-out inputs here are seeded random arrays in their input shape.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from conftest import MODELS

from trtdoc.errors import BuildError
from trtdoc.model import file_sha256
from trtdoc.precision.checks import check_converted
from trtdoc.precision.convert import convert_model
from trtdoc.precision.result import Calibration, PrecisionResult
from trtdoc.precision.samples import load_samples, random_samples
from trtdoc.typed import decode_json, encode

MOBILENET = MODELS / "mobilenet_v2_035.onnx"
RESNET = MODELS / "resnet18.onnx"
BERT = MODELS / "bert_tiny.onnx"
IMAGE_OPT = {"input": (4, 3, 224, 224)}
IMAGE_PROFILE = {"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))}
TEXT_OPT = {"input_ids": (4, 64), "attention_mask": (4, 64)}
TEXT_PROFILE = {n: ((1, 8), (4, 64), (8, 128)) for n in TEXT_OPT}


# Shared with test_accuracy.py: one cache and one calibration file per session, so the second
# module gets cache hits instead of converting again.
def shared_cache(factory: pytest.TempPathFactory) -> Path:
    path = factory.getbasetemp() / "precision-cache"
    path.mkdir(exist_ok=True)
    return path


def image_data(factory: pytest.TempPathFactory, name: str, samples: int, seed: int) -> Path:
    """An .npz of ``samples`` seeded random images, written once per session."""
    path = factory.getbasetemp() / f"{name}.npz"
    if not path.exists():
        rng = np.random.default_rng(seed)
        np.savez(path, input=rng.standard_normal((samples, 3, 224, 224), dtype=np.float32))
    return path


def calibration_file(factory: pytest.TempPathFactory) -> Path:
    return image_data(factory, "calibration", 16, seed=1)


def convert(factory: pytest.TempPathFactory, model: Path, precision: str,
            batches: int = 4) -> PrecisionResult:
    calibration = (Calibration(calibration_file(factory), batches)
                   if precision in ("int8", "fp8") and model != BERT else None)
    shapes = TEXT_OPT if model == BERT else IMAGE_OPT
    return convert_model(model, precision, calibration=calibration,
                         cache_dir=shared_cache(factory), profile_shapes=shapes)


# --------------------------------------------------------------------------- TensorRT-RTX


def rtx_build(model: Path, sm: str = "SM89") -> dict[str, Any]:
    """Build ``model`` with TensorRT-RTX and read the DETAILED layer log and weight total."""
    trt = pytest.importorskip("tensorrt_rtx")

    class Log(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.messages: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            self.messages.append(msg)

    log = Log()
    builder = trt.Builder(log)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, log)
    assert parser.parse_from_file(str(model)), [str(parser.get_error(i))
                                                for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    profile = builder.create_optimization_profile()
    for name, shapes in (TEXT_PROFILE if "bert" in model.name else IMAGE_PROFILE).items():
        profile.set_shape(name, *shapes)
    config.add_optimization_profile(profile)
    config.num_compute_capabilities = 1
    config.set_compute_capability(getattr(trt.ComputeCapability, sm), 0)
    plan = builder.build_serialized_network(network, config)
    text = "\n".join(log.messages)
    layers = next((m for m in log.messages if m.startswith("Layers:")), "")
    dtypes: Counter[str] = Counter()
    for line in layers.splitlines():
        if line.startswith("Name:") and "Outputs: [" in line:
            outputs = line.split("Outputs: [", 1)[1].split("TacticName", 1)[0]
            dtypes.update(re.findall(r"Datatype: (\w+)", outputs))
    weights = re.search(r"Total Weights Memory: (\d+) bytes", text)
    return {"ok": plan is not None, "dtypes": dtypes, "plan_bytes": plan.nbytes if plan else 0,
            "weights": int(weights.group(1)) if weights else None, "log": text}


@pytest.fixture(scope="session")
def fp32_builds() -> dict[str, dict[str, Any]]:
    return {m.name: rtx_build(m) for m in (MOBILENET, RESNET)}


# --------------------------------------------------------------------------- conversions


def test_fp32_is_the_model_as_it_is(tmp_path: Path) -> None:
    result = convert_model(MOBILENET, "fp32", calibration=None, cache_dir=tmp_path)
    assert result.model == MOBILENET
    assert (result.method, result.tool, result.cache_key) == (
        "none: the fp32 model is built as it is", "", "")
    assert result.nodes_before == result.nodes_after == 210
    assert result.low_precision_ops == ()
    assert dict(result.fp32_ops)["Conv"] == 52
    assert not list(tmp_path.iterdir())


def test_mobilenet_fp16_builds_half_layers(tmp_path_factory: pytest.TempPathFactory,
                                           fp32_builds: dict[str, dict[str, Any]]) -> None:
    result = convert(tmp_path_factory, MOBILENET, "fp16")
    assert result.tool == "onnxruntime"
    assert result.method.startswith("onnxruntime.transformers.float16.convert_float_to_float16")
    assert result.calls == (
        "onnxruntime.transformers.float16.convert_float_to_float16(model, keep_io_types=True)",
        "onnxruntime.transformers.onnx_model.OnnxModel(model).topological_sort()")
    assert result.checked == ("onnx.checker.check_model(full_check=True), "
                              "onnxruntime.InferenceSession (CPU)")
    assert dict(result.low_precision_ops)["Conv"] == 52
    assert result.fp32_ops == ()
    assert result.cast_nodes == 2  # keep_io_types: one Cast in, one out
    assert result.calibration is None and result.calibration_batches is None
    proto = onnx.load(str(result.model), load_external_data=False)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT

    build = rtx_build(result.model)
    assert build["ok"]
    assert build["dtypes"]["Half"] >= 50, build["dtypes"]
    fp32 = fp32_builds[MOBILENET.name]
    assert build["weights"] < 0.55 * fp32["weights"]
    assert build["plan_bytes"] < fp32["plan_bytes"]


def test_mobilenet_int8_builds_int8_layers(tmp_path_factory: pytest.TempPathFactory,
                                           fp32_builds: dict[str, dict[str, Any]]) -> None:
    result = convert(tmp_path_factory, MOBILENET, "int8")
    assert result.tool == "onnxruntime"
    assert result.method.startswith("onnxruntime.quantization.quantize_static (QDQ, int8")
    assert (result.calibration, result.calibration_batches, result.calibration_samples) == (
        "data", 4, 16)
    assert result.notes == ()
    assert result.qdq_nodes > 100
    assert dict(result.low_precision_ops) == {"Conv": 52, "Gemm": 1}

    build = rtx_build(result.model)
    assert build["ok"]
    assert build["dtypes"]["Int8"] >= 50, build["dtypes"]
    assert build["weights"] < 0.35 * fp32_builds[MOBILENET.name]["weights"]


def test_resnet18_fp16_and_int8_shrink_the_weights(
        tmp_path_factory: pytest.TempPathFactory,
        fp32_builds: dict[str, dict[str, Any]]) -> None:
    fp32 = fp32_builds[RESNET.name]["weights"]
    fp16 = convert(tmp_path_factory, RESNET, "fp16")
    int8 = convert(tmp_path_factory, RESNET, "int8")
    half, quant = rtx_build(fp16.model), rtx_build(int8.model)
    assert half["dtypes"]["Half"] >= 20 and quant["dtypes"]["Int8"] >= 15
    assert 0.45 * fp32 < half["weights"] < 0.55 * fp32
    assert 0.2 * fp32 < quant["weights"] < 0.3 * fp32
    assert dict(int8.low_precision_ops) == {"Conv": 20, "Gemm": 1}
    # resnet18's tiny weights (< 1e-7) are clamped by the fp16 converter, and the page says so.
    assert any("outside the fp16 range were clamped" in n for n in fp16.notes)


def test_second_call_is_a_cache_hit(tmp_path_factory: pytest.TempPathFactory) -> None:
    first = convert(tmp_path_factory, MOBILENET, "int8")
    started = time.perf_counter()
    again = convert(tmp_path_factory, MOBILENET, "int8")
    assert time.perf_counter() - started < 1.0
    assert again.cache_hit
    assert again.model == first.model and again.cache_key == first.cache_key
    assert encode(again) | {"cache_hit": False} == encode(first) | {"cache_hit": False}
    assert first.model.name == f"mobilenet_v2_035.int8.{first.cache_key[:16]}.onnx"
    assert sorted(p.name for p in first.model.parent.glob("mobilenet_v2_035.int8.*")) == [
        first.model.name, first.model.name + ".json"]


def test_external_data_models_convert_and_key_on_their_weights(tmp_path: Path) -> None:
    model = tmp_path / "mb.onnx"
    onnx.save(onnx.load(str(MOBILENET)), str(model), save_as_external_data=True,
              all_tensors_to_one_file=True, location="mb.weights")
    result = convert_model(model, "fp16", calibration=None, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / (result.model.name + ".data")).is_file()
    build = rtx_build(result.model)
    assert build["ok"] and build["dtypes"]["Half"] >= 50
    weights = tmp_path / "mb.weights"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    changed = convert_model(model, "fp16", calibration=None, cache_dir=tmp_path / "cache")
    assert not changed.cache_hit and changed.cache_key != result.cache_key


def test_cache_key_follows_calibration_data_and_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = tmp_path / "text.npz"
    np.savez(data, input_ids=rng.integers(0, 1000, (6, 16)),
             attention_mask=np.ones((6, 16), dtype=np.int64))

    def key(batches: int) -> str:
        return convert_model(BERT, "int8", calibration=Calibration(data, batches),
                             cache_dir=tmp_path / "cache").cache_key

    two = key(2)
    assert key(2) == two
    assert key(3) != two
    np.savez(data, input_ids=rng.integers(0, 1000, (6, 16)),
             attention_mask=np.ones((6, 16), dtype=np.int64))
    assert key(2) != two


def test_bert_integer_inputs_are_never_converted(tmp_path_factory: pytest.TempPathFactory
                                                 ) -> None:
    for precision in ("fp16", "int8"):
        result = convert(tmp_path_factory, BERT, precision)
        assert result.untouched_inputs == ("attention_mask", "input_ids")
        graph = onnx.load(str(result.model), load_external_data=False).graph
        assert {i.name: i.type.tensor_type.elem_type for i in graph.input} == {
            "input_ids": onnx.TensorProto.INT64, "attention_mask": onnx.TensorProto.INT64}
        readers = sorted(n.op_type for n in graph.node
                         for i in n.input if i in ("input_ids", "attention_mask"))
        assert "QuantizeLinear" not in readers
        gather = next(n for n in graph.node if "input_ids" in n.input and n.op_type == "Gather")
        assert gather.input[1] == "input_ids"

    int8 = convert(tmp_path_factory, BERT, "int8")
    assert int8.calibration == "random" and int8.calibration_batches == 8
    assert int8.notes == ("calibrated on seeded random inputs: the scales fit noise, not real "
                          "data; give calibration.data for a deployable model",)
    assert dict(int8.low_precision_ops) == {"MatMul": 16}
    build = rtx_build(int8.model)
    assert build["ok"] and build["dtypes"]["Int8"] > 0


def test_fp8_builds_for_ada_and_fails_clearly_for_ampere(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        result = convert(tmp_path_factory, MOBILENET, "fp8", batches=2)
    except BuildError as exc:
        # onnxruntime 1.23 (the last for Python 3.10) cannot quantize to fp8 with onnx >= 1.21.
        if "failed on an import" in str(exc):
            pytest.skip(str(exc))
        raise
    assert "FLOAT8E4M3FN" in result.method and result.calibration_batches == 2
    graph = onnx.load(str(result.model), load_external_data=False).graph
    assert any(i.data_type == onnx.TensorProto.FLOAT8E4M3FN for i in graph.initializer)
    build = rtx_build(result.model, "SM89")
    assert build["ok"] and build["dtypes"]["FP8"] >= 50, build["dtypes"]
    ampere = rtx_build(result.model, "SM86")
    assert not ampere["ok"]
    assert "Cannot compile for target(s) sm86, because the model contains HW-specific " \
           "datatypes: fp8_e4m3" in ampere["log"]


@pytest.mark.skipif(importlib.util.find_spec("modelopt") is not None,
                    reason="NVIDIA ModelOpt is installed, so bf16 converts")
def test_bf16_without_modelopt_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as info:
        convert_model(MOBILENET, "bf16", calibration=None, cache_dir=tmp_path)
    assert str(info.value) == (
        "mobilenet_v2_035.onnx: precision: precision bf16 needs nvidia-modelopt, which is not "
        "installed; install it with: pip install 'trtdoc[modelopt]' (NVIDIA ModelOpt with its "
        "ONNX extra pulls in torch and CUDA libraries, about 6.7 GB), or choose fp16")


@pytest.mark.skipif(importlib.util.find_spec("modelopt") is None,
                    reason="bf16 needs NVIDIA ModelOpt: pip install 'trtdoc[modelopt]'")
def test_bf16_with_modelopt_builds_bfloat16_layers(tmp_path: Path) -> None:
    result = convert_model(MOBILENET, "bf16", calibration=None, cache_dir=tmp_path)
    assert result.tool == "nvidia-modelopt"
    build = rtx_build(result.model, "SM80")
    assert build["ok"] and build["dtypes"]["BFloat16"] >= 50


def test_unknown_precision(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"unknown precision 'int4'; choose one of fp32, fp16, "
                                         r"bf16, int8, fp8$"):
        convert_model(MOBILENET, "int4", calibration=None, cache_dir=tmp_path)


def test_result_round_trips_through_json(tmp_path_factory: pytest.TempPathFactory) -> None:
    result = convert(tmp_path_factory, BERT, "int8")
    text = json.dumps(encode(result), sort_keys=True)
    back = decode_json(PrecisionResult, text)
    assert back == result
    assert json.dumps(encode(back), sort_keys=True) == text
    assert "model_sha256" not in encode(result)  # the cache file's form
    base = shared_cache(tmp_path_factory)
    relative = result.in_project(base)  # the record's form
    assert encode(relative)["model"] == result.model.name
    assert relative.model_sha256 == file_sha256(result.model)
    assert list(encode(relative))[-4:] == ["notes", "calls", "checked", "model_sha256"]


# --------------------------------------------------------------------------- converter bugs
# Each graph below is the smallest one that shows a converter bug met on a real model (magika's
# standard_v3_3, see models/README.md). Each test shows the bug with the converter called
# directly, then that trtdoc's recipe avoids it, or that its check refuses the output with the
# converter, the node and the bug named.

_FP16_OLD = "onnxconverter_common.float16.convert_float_to_float16(model, keep_io_types=True)"
_FP16_ORT = ("onnxruntime.transformers.float16.convert_float_to_float16(model, "
             "keep_io_types=True)")


def _graph(path: Path, nodes: list[Any], inputs: list[Any], outputs: list[Any],
           inits: dict[str, np.ndarray], opset: int = 17) -> Path:
    from onnx import helper, numpy_helper

    graph = helper.make_graph(nodes, path.stem, inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path


def _io(name: str, elem: int, dims: list[Any]) -> Any:
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _run(model: Path, feed: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(None, feed)[0]


def one_hot_model(tmp_path: Path) -> Path:
    """int32 ids -> Equal -> Cast(to=float) -> MatMul: magika's one-hot input layer."""
    from onnx import TensorProto as T
    from onnx.helper import make_node

    rng = np.random.default_rng(0)
    return _graph(tmp_path / "one_hot.onnx",
                  [make_node("Equal", ["ids", "k"], ["eq"], name="eq"),
                   make_node("Cast", ["eq"], ["one_hot"], to=T.FLOAT, name="one_hot_cast"),
                   make_node("MatMul", ["one_hot", "w"], ["y"], name="dense")],
                  [_io("ids", T.INT32, ["n", 4])], [_io("y", T.FLOAT, ["n", 3])],
                  {"k": np.array([1, 2, 3, 4], np.int32),
                   "w": rng.standard_normal((4, 3)).astype(np.float32)})


def test_fp16_cast_typed_wrong_by_onnxconverter_common_is_refused_and_avoided(
        tmp_path: Path) -> None:
    # trtdoc no longer uses it; the test shows why, where it is installed.
    float16 = pytest.importorskip("onnxconverter_common.float16")
    model = one_hot_model(tmp_path)
    # The bug (onnxconverter-common 1.16, issue #320): the Cast still computes float, but its
    # output is typed fp16, so onnxruntime refuses the model.
    broken = tmp_path / "broken.onnx"
    onnx.save(float16.convert_float_to_float16(onnx.load(str(model)), keep_io_types=True),
              str(broken))
    with pytest.raises(BuildError) as info:
        check_converted(broken, converter=_FP16_OLD, precision="fp16", engine="e")
    assert str(info.value) == (
        f"e: precision: {_FP16_OLD} made an invalid fp16 model: the ONNX checker refuses node "
        "'one_hot_cast' (Cast): the graph declares its output 'one_hot' as tensor(float16), but "
        "the node computes tensor(float): a Cast(to=float) whose output the converter typed "
        "fp16, as in onnxconverter-common issue #320. trtdoc does not build it; choose another "
        "precision, or report the model to the converter's maintainers")

    result = convert_model(model, "fp16", calibration=None, cache_dir=tmp_path / "cache")
    assert result.calls[0] == _FP16_ORT
    ids = np.array([[1, 0, 3, 4], [2, 2, 2, 2]], np.int32)
    assert np.allclose(_run(result.model, {"ids": ids}), _run(model, {"ids": ids}), atol=1e-2)
    assert rtx_build_simple(result.model, {"ids": ((1, 4), (2, 4), (4, 4))})


def test_fp16_casts_are_sorted_into_topological_order(tmp_path: Path) -> None:
    from onnx import TensorProto as T
    from onnx.helper import make_node
    from onnxruntime.transformers.float16 import convert_float_to_float16

    # Max is on the converter's fp32 list, so it gets Casts around it.
    model = _graph(tmp_path / "max.onnx",
                   [make_node("Add", ["x", "b"], ["a"], name="add"),
                    make_node("Max", ["a", "zero"], ["r"], name="relu_max"),
                    make_node("Mul", ["r", "b"], ["y"], name="scale")],
                   [_io("x", T.FLOAT, ["n", 3])], [_io("y", T.FLOAT, ["n", 3])],
                   {"b": np.array([1, 2, 3], np.float32), "zero": np.zeros(3, np.float32)})
    # The converter alone appends its Casts at the end of the graph.
    unsorted = tmp_path / "unsorted.onnx"
    onnx.save(convert_float_to_float16(onnx.load(str(model)), keep_io_types=True),
              str(unsorted))
    with pytest.raises(BuildError) as info:
        check_converted(unsorted, converter=_FP16_ORT, precision="fp16", engine="e")
    assert str(info.value) == (
        f"e: precision: {_FP16_ORT} made an invalid fp16 model: the ONNX checker refuses node "
        "'add' (Add): the nodes are not in topological order (its input 'graph_input_cast_0' "
        "is made by a later node). onnxruntime.transformers.float16 appends the Casts it "
        "inserts at the end of the graph; onnxruntime.transformers.onnx_model.OnnxModel(model)"
        ".topological_sort() orders them. trtdoc does not build it; choose another precision, "
        "or report the model to the converter's maintainers")

    result = convert_model(model, "fp16", calibration=None, cache_dir=tmp_path / "cache")
    graph = onnx.load(str(result.model)).graph
    made = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    for node in graph.node:
        assert all(i in made for i in node.input if i), f"{node.name} comes before its inputs"
        made.update(node.output)
    assert dict(result.fp32_ops) == {"Max": 1}
    x = np.array([[-5, 0, 1]], np.float32)
    assert np.allclose(_run(result.model, {"x": x}), _run(model, {"x": x}))


def test_int8_gemm_with_a_row_bias_quantizes_per_channel(tmp_path: Path) -> None:
    from onnx import TensorProto as T
    from onnx.helper import make_node
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    rng = np.random.default_rng(0)
    # A Gemm with a [1, N] bias, as quant_pre_process fuses magika's MatMul + Add.
    model = _graph(tmp_path / "gemm.onnx",
                   [make_node("Gemm", ["x", "w", "c"], ["y"], name="dense")],
                   [_io("x", T.FLOAT, ["n", 4])], [_io("y", T.FLOAT, ["n", 3])],
                   {"w": rng.standard_normal((4, 3)).astype(np.float32),
                    "c": rng.standard_normal((1, 3)).astype(np.float32)})
    data = tmp_path / "calib.npz"
    np.savez(data, x=rng.standard_normal((8, 4)).astype(np.float32))
    batches = load_samples(data, ["x"], 2)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(batches)

        def get_next(self) -> Any:
            return next(self.it, None)

    # The bug (onnxruntime issue #24815), with trtdoc's options less the workaround.
    with pytest.raises(ValueError, match="truth value of an array with more than one element "
                                         "is ambiguous"):
        quantize_static(str(model), str(tmp_path / "q.onnx"), Reader(),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                                       "QuantizeBias": False})

    result = convert_model(model, "int8", calibration=Calibration(data, 2),
                           cache_dir=tmp_path / "cache")
    assert "'QDQDisableWeightAdjustForInt32Bias': True" in result.calls[-1]
    assert "per_channel=True" in result.calls[-1]
    assert dict(result.low_precision_ops) == {"Gemm": 1}
    x = batches[0]["x"]
    assert np.allclose(_run(result.model, {"x": x}), _run(model, {"x": x}), atol=0.1)
    assert rtx_build_simple(result.model, {"x": ((1, 4), (4, 4), (8, 4))})


def conv_opset11(tmp_path: Path) -> tuple[Path, Path]:
    from onnx import TensorProto as T
    from onnx.helper import make_node

    rng = np.random.default_rng(0)
    model = _graph(tmp_path / "conv11.onnx",
                   [make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1])],
                   [_io("x", T.FLOAT, ["n", 3, 8, 8])], [_io("y", T.FLOAT, ["n", 4, 8, 8])],
                   {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                    "b": rng.standard_normal(4).astype(np.float32)}, opset=11)
    data = tmp_path / "calib.npz"
    np.savez(data, x=rng.standard_normal((4, 3, 8, 8)).astype(np.float32))
    return model, data


def test_int8_per_channel_upgrades_an_opset_11_model_to_13(tmp_path: Path) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    model, data = conv_opset11(tmp_path)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(load_samples(data, ["x"], 2))

        def get_next(self) -> Any:
            return next(self.it, None)

    # The bug: onnxruntime writes DequantizeLinear(axis=0) into an opset-11 model.
    broken = tmp_path / "broken.onnx"
    quantize_static(str(model), str(broken), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, extra_options={"QuantizeBias": False})
    with pytest.raises(BuildError) as info:
        check_converted(broken, converter="quantize_static(...)", precision="int8",
                        engine="e")
    assert str(info.value) == (
        "e: precision: quantize_static(...) made an invalid int8 model: the ONNX checker "
        "refuses node 'w_DequantizeLinear' (DequantizeLinear): per-channel "
        "DequantizeLinear(axis=...) needs opset >= 13, and the model declares opset 11. "
        "Upgrade it first (onnx.version_converter.convert_version(model, 13)) or quantize per "
        "tensor. trtdoc does not build it; choose another precision, or report the model to "
        "the converter's maintainers")

    result = convert_model(model, "int8", calibration=Calibration(data, 2),
                           cache_dir=tmp_path / "cache")
    assert result.calls[0] == "onnx.version_converter.convert_version(model, 13)"
    assert result.notes == ("upgraded from opset 11 to 13 before quantizing: per-channel "
                            "DequantizeLinear(axis=...) needs it",)
    proto = onnx.load(str(result.model))
    assert [o.version for o in proto.opset_import if o.domain == ""] == [13]
    assert any(a.name == "axis" for n in proto.graph.node if n.op_type == "DequantizeLinear"
               for a in n.attribute)
    assert rtx_build_simple(result.model, {"x": ((1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8))})


def test_int8_falls_back_per_tensor_when_the_opset_cannot_be_upgraded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from onnx import version_converter

    def refuse(model: Any, target: int) -> Any:
        raise RuntimeError("no adapter for this op")

    monkeypatch.setattr(version_converter, "convert_version", refuse)
    model, data = conv_opset11(tmp_path)
    result = convert_model(model, "int8", calibration=Calibration(data, 2),
                           cache_dir=tmp_path / "cache")
    assert "per_channel=False" in result.calls[-1]
    assert "per-tensor weights" in result.method
    assert result.notes == (
        "weights quantized per tensor: per-channel DequantizeLinear(axis=...) needs opset >= "
        "13, and onnx.version_converter could not upgrade this opset-11 model (RuntimeError: "
        "no adapter for this op)",)
    onnx.checker.check_model(str(result.model), full_check=True)


def test_an_invalid_conversion_is_never_cached_or_built(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import trtdoc.precision.convert as convert
    from trtdoc.precision.conversion import Conversion

    float16 = pytest.importorskip("onnxconverter_common.float16")
    model = one_hot_model(tmp_path)

    def old_converter(source: Path, out: Path, external: bool, keep: Any = ()) -> Any:
        onnx.save(float16.convert_float_to_float16(onnx.load(str(source)),
                                                   keep_io_types=True), str(out))
        return Conversion(calls=(_FP16_OLD,))

    monkeypatch.setattr(convert, "to_fp16", old_converter)
    cache = tmp_path / "cache"
    with pytest.raises(BuildError, match=r"^one_hot.onnx: precision: onnxconverter_common\."
                                         r"float16.convert_float_to_float16\(model, "
                                         r"keep_io_types=True\) made an invalid fp16 model: "):
        convert_model(model, "fp16", calibration=None, cache_dir=cache)
    assert list(cache.iterdir()) == []


def rtx_build_simple(model: Path, profile: dict[str, tuple[tuple[int, ...], ...]]) -> bool:
    """Whether TensorRT-RTX builds ``model`` for sm89 with this one profile."""
    trt = pytest.importorskip("tensorrt_rtx")
    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    assert parser.parse_from_file(str(model)), [str(parser.get_error(i))
                                                for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    opt = builder.create_optimization_profile()
    for name, shapes in profile.items():
        opt.set_shape(name, *shapes)
    config.add_optimization_profile(opt)
    config.num_compute_capabilities = 1
    config.set_compute_capability(trt.ComputeCapability.SM89, 0)
    return builder.build_serialized_network(network, config) is not None


# --------------------------------------------------------------------------- samples


def _fail(path: Path, names: list[str], batches: int | None, **kw: Any) -> str:
    with pytest.raises(BuildError) as info:
        load_samples(path, names, batches, engine="e", **kw)
    return str(info.value)


def test_npz_is_split_into_batches(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    np.savez(path, input_ids=np.arange(10).reshape(5, 2), attention_mask=np.ones((5, 2)),
             extra=np.zeros(1))
    batches = load_samples(path, ["input_ids", "attention_mask"], 2,
                           dtypes={"input_ids": np.int64, "attention_mask": np.int64})
    assert [len(b["input_ids"]) for b in batches] == [3, 2]
    assert sorted(batches[0]) == ["attention_mask", "input_ids"]
    assert batches[1]["attention_mask"].dtype == np.int64
    assert load_samples(path, ["input_ids"], None)[0]["input_ids"].shape == (5, 2)


def test_folder_gives_one_batch_per_file_in_name_order(tmp_path: Path) -> None:
    for i in (2, 0, 1):
        np.save(tmp_path / f"b{i}.npy", np.full((1, 3), i, dtype=np.float64))
    (tmp_path / "README.txt").write_text("ignored")
    batches = load_samples(tmp_path, ["x"], 2, dtypes={"x": np.float32})
    assert [b["x"][0, 0] for b in batches] == [0.0, 1.0]
    assert batches[0]["x"].dtype == np.float32
    assert len(load_samples(tmp_path, ["x"], None)) == 3


def test_sample_errors_say_how_to_fix_them(tmp_path: Path) -> None:
    npz = tmp_path / "c.npz"
    np.savez(npz, ids=np.zeros((2, 4)))
    assert _fail(npz, ["input_ids", "attention_mask"], 1) == (
        f"e: calibration.data: {npz} has no array for model input(s) input_ids, "
        "attention_mask (it holds: ids). Name each array after the model input it feeds")
    assert _fail(npz, ["ids"], 4) == (
        f"e: calibration.data: {npz} holds 2 samples along the first axis, too few for 4 "
        "batches. Add samples or ask for fewer batches")
    np.savez(npz, ids=np.full((2, 4), 0.5))
    assert _fail(npz, ["ids"], 1, dtypes={"ids": np.int64}) == (
        f"e: calibration.data: {npz}: array 'ids' holds fractional float64 values, but model "
        "input 'ids' is int64. Save integer data for it")
    npy = tmp_path / "one.npy"
    np.save(npy, np.zeros((2, 4)))
    assert _fail(npy, ["a", "b"], 1) == (
        f"e: calibration.data: {npy} is an .npy file with one array, but the model has 2 "
        "inputs (a, b). Save an .npz with one array per input name: "
        "numpy.savez(file, **{input_name: array})")
    pickled = tmp_path / "dict.npy"
    np.save(pickled, np.array({"x": 1}, dtype=object), allow_pickle=True)
    assert _fail(pickled, ["x"], 1) == (
        f"e: calibration.data: {pickled} holds pickled Python objects, which trtdoc does not "
        "load. Save plain arrays: numpy.savez(file, **{input_name: array})")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    assert _fail(junk, ["x"], 1) == (
        f"e: calibration.data: {junk} is not a readable numpy file (unknown format). Fix or "
        "replace the file")
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, a=np.zeros((2, 1)), b=np.zeros((3, 1)))
    assert _fail(uneven, ["a", "b"], 1, setting="accuracy.data") == (
        f"e: accuracy.data: {uneven}: arrays have different sample counts along the first "
        "axis (a: 2, b: 3). Give every input the same number of samples")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _fail(empty, ["x"], 1) == (
        f"e: calibration.data: {empty} holds no .npz, .npy or .json files. Save one array per "
        "model input with numpy.savez")
    np.save(empty / "a.npy", np.zeros((1, 2)))
    assert _fail(empty, ["x"], 3) == (
        f"e: calibration.data: {empty} holds 1 files, one batch each, but 3 batches were asked "
        "for. Add files or ask for fewer batches")
    missing = tmp_path / "nope.npz"
    assert _fail(missing, ["x"], 1) == (
        f"e: calibration.data: {missing} does not exist. Point calibration.data at an .npz, "
        "an .npy, a Polygraphy inputs .json, or a folder of them")


def test_random_inputs_stay_valid_for_token_models() -> None:
    (batch,) = random_samples(BERT, TEXT_OPT, count=1, seed=3)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert ids.shape == mask.shape == (4, 64)
    assert ids.dtype == mask.dtype == np.int64
    # The vocabulary (1000) comes from the word-embedding Gather's table.
    assert ids.min() >= 0 and ids.max() < 1000 and ids.max() > 500
    assert set(np.unique(mask)) == {1}
    again = random_samples(BERT, TEXT_OPT, count=1, seed=3)[0]
    assert np.array_equal(again["input_ids"], ids)


def test_random_inputs_need_a_shape_for_dynamic_axes() -> None:
    with pytest.raises(BuildError) as info:
        random_samples(BERT, None, count=1, engine="bert")
    assert str(info.value) == (
        "bert: profiles: input 'input_ids' has dynamic dimensions ['batch', 'seq'], so random "
        "inputs need a shape. Add an optimization profile for it (its opt shape is used) or "
        "give held-out data")


def test_calibration_batches_follow_each_inputs_batch_axis(tmp_path: Path) -> None:
    """silero-vad's state [2, B, 128] and a fixed h [1, 1, 8]: calibration splits the state
    along axis 1 and feeds h whole to every batch (seen failing on the real model)."""
    import onnx.helper as oh
    from onnx import TensorProto

    from trtdoc.precision.samples import batch_axes, load_samples

    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 4])
    state = oh.make_tensor_value_info("state", TensorProto.FLOAT, [2, "B", 8])
    h = oh.make_tensor_value_info("h", TensorProto.FLOAT, [1, 1, 8])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 4])
    graph = oh.make_graph([oh.make_node("Identity", ["x"], ["y"])], "g", [x, state, h], [y])
    model = tmp_path / "m.onnx"
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), model)
    data = tmp_path / "calib.npz"
    np.savez(data, x=np.zeros((6, 4), np.float32), state=np.zeros((2, 6, 8), np.float32),
             h=np.ones((1, 1, 8), np.float32))
    batches = load_samples(data, ["x", "state", "h"], 3, axes=batch_axes(model), model=model)
    assert [b["state"].shape for b in batches] == [(2, 2, 8)] * 3
    assert [b["x"].shape for b in batches] == [(2, 4)] * 3
    assert all(b["h"].shape == (1, 1, 8) for b in batches)


def test_fp16_of_a_model_whose_if_branches_read_a_graph_input(tmp_path: Path) -> None:
    """silero-vad's op18 model keeps its network inside an If whose branches read the graph
    input. The fp16 converter appends that input's Cast at the end, and topological_sort()
    does not see the branches' outer reads; trtdoc orders them too, so the model is valid."""
    import onnx.helper as oh
    from onnx import TensorProto

    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    w = onnx.numpy_helper.from_array(np.full((4, 4), 0.5, np.float32), "w")
    then_g = oh.make_graph([oh.make_node("MatMul", ["x", "w"], ["t"], name="then_mm")], "then",
                           [], [oh.make_tensor_value_info("t", TensorProto.FLOAT, ["N", 4])])
    else_g = oh.make_graph([oh.make_node("Relu", ["x"], ["e"], name="else_relu")], "else",
                           [], [oh.make_tensor_value_info("e", TensorProto.FLOAT, ["N", 4])])
    nodes = [oh.make_node("Constant", [], ["c"], name="cond",
                          value=oh.make_tensor("cv", TensorProto.BOOL, [], [True])),
             oh.make_node("If", ["c"], ["y"], name="branch", then_branch=then_g,
                          else_branch=else_g)]
    model = tmp_path / "if.onnx"
    onnx.save(oh.make_model(oh.make_graph(nodes, "g", [x], [y], initializer=[w]),
                            opset_imports=[oh.make_opsetid("", 17)]), model)

    result = convert_model(model, "fp16", calibration=None, cache_dir=tmp_path / "cache")

    assert result.calls[-1] == "trtdoc.precision.sort_with_subgraph_inputs(model.graph)"
    converted = onnx.load(str(result.model))
    onnx.checker.check_model(converted, full_check=True)
    order = [n.name for n in converted.graph.node]
    input_cast = next(n.name for n in converted.graph.node
                      if n.op_type == "Cast" and list(n.input) == ["x"])
    assert order.index(input_cast) < order.index("branch")


def test_int8_that_quantizes_nothing_is_refused(tmp_path: Path) -> None:
    """silero-vad's op18 model keeps its Convs inside an If: the quantizer inserted no Q/DQ
    nodes and the 'int8' engine was the fp32 one. A model with nothing to quantize is refused."""
    import onnx.helper as oh
    from onnx import TensorProto

    from trtdoc.errors import BuildError

    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    graph = oh.make_graph([oh.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y])
    model = tmp_path / "relu.onnx"
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), model)
    with pytest.raises(BuildError, match="inserted no Q/DQ nodes") as err:
        convert_model(model, "int8", calibration=None, cache_dir=tmp_path / "cache",
                      profile_shapes={"x": (2, 4)})
    assert err.value.setting == "precision"
    assert not list((tmp_path / "cache").glob("*.onnx"))  # nothing refused is cached

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
from trtdoc.precision import (
    Calibration,
    PrecisionResult,
    convert_model,
    load_samples,
    random_samples,
)

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
    assert result.tool == "onnxconverter-common"
    assert result.method.startswith("onnxconverter_common.float16.convert_float_to_float16")
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
    assert again.to_dict() | {"cache_hit": False} == first.to_dict() | {"cache_hit": False}
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
    text = json.dumps(result.to_dict(), sort_keys=True)
    back = PrecisionResult.from_dict(json.loads(text))
    assert back == result
    assert json.dumps(back.to_dict(), sort_keys=True) == text
    base = shared_cache(tmp_path_factory)
    relative = result.to_dict(base=base)
    assert relative["model"] == result.model.name
    assert PrecisionResult.from_dict(relative, base=base).model == result.model


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
        f"e: calibration.data: {empty} holds no .npz or .npy files. Save one array per model "
        "input with numpy.savez")
    np.save(empty / "a.npy", np.zeros((1, 2)))
    assert _fail(empty, ["x"], 3) == (
        f"e: calibration.data: {empty} holds 1 files, one batch each, but 3 batches were asked "
        "for. Add files or ask for fewer batches")
    missing = tmp_path / "nope.npz"
    assert _fail(missing, ["x"], 1) == (
        f"e: calibration.data: {missing} does not exist. Point calibration.data at an .npz, "
        "an .npy, or a folder of them")


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

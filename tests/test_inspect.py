"""The inspection stage against real TensorRT output: RTX build logs, TREx/trtexec exports.

Fixtures: tests/data/*.build.jsonl are real TensorRT-RTX 1.7 build logs (see
tests/data/README.md); ../shared/fixtures/trex holds real TensorRT 8.x trtexec exports from
NVIDIA's TREx examples (an A100, ResNet-18, fp16 and fp32).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import onnx
import pytest
from capture_build_logs import NASTY, raw_build
from conftest import MODELS, TREX
from onnx import TensorProto, helper, numpy_helper

from trtdoc.errors import InspectError
from trtdoc.inspect.build_log import inspection_from_build_log
from trtdoc.inspect.fusion import fused_from_metadata
from trtdoc.inspect.gpu import gpu_runtime_available, inspection_from_engine
from trtdoc.inspect.inspector_json import inspection_from_inspector_json
from trtdoc.inspect.trtexec import inspection_from_trtexec
from trtdoc.inspect.types import (
    Inspection,
    IOTensor,
    Layer,
    Memory,
    ProfileShape,
    TensorDesc,
    layer_precision,
    normalise_dtype,
    output_type,
)
from trtdoc.typed import decode, encode

DATA = Path(__file__).parent / "data"

FP16 = TREX / "fp16" / "resnet.onnx.engine.graph.json"
FP16_PROFILE = TREX / "fp16" / "resnet.onnx.engine.profile.json"
FP32 = TREX / "fp32" / "resnet.onnx.engine.graph.json"
FP32_PROFILE = TREX / "fp32" / "resnet.onnx.engine.profile.json"
BERT_SHAPES = ((1, 8), (2, 64), (4, 128))


def read_log(name: str) -> list[str]:
    """Messages of a tests/data/*.build.jsonl capture: one JSON object per builder message."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["message"] for line in lines]


@pytest.fixture(scope="module")
def bert() -> Inspection:
    return inspection_from_build_log(read_log("bert_tiny.build.jsonl"))


@pytest.fixture(scope="module")
def trt():
    return pytest.importorskip("tensorrt_rtx")


def build_log(trt, model: Path, profiles: list[dict[str, tuple]], targets: tuple[str, ...] = (
        "SM86",)) -> tuple[list[str], bytes]:
    """Build ``model`` the way trtdoc does (DETAILED, VERBOSE); return messages and plan."""
    messages, plan = raw_build(trt, model, profiles, list(targets))
    return [m for _, m in messages], plan


# --------------------------------------------------------------------------------------------
# The RTX build log (captured)
# --------------------------------------------------------------------------------------------
def test_bert_log_layers_types_and_precision(bert):
    assert bert.source == "build-log"
    assert len(bert.layers) == 36
    assert Counter(layer.type for layer in bert.layers) == {
        "kgen": 22, "gemm": 10, "runtime_fusion": 2, "ShapeHostToDevice": 1, "shape_call": 1}
    # The shape copy has no inputs (it writes an Int64 shape tensor) and the shape call no
    # tensors at all: neither computes anything, so neither has a precision.
    assert bert.precision_mix() == (("Float", 34),)
    assert (bert.layers[0].type, bert.layers[0].precision, bert.layers[0].output_type) == (
        "ShapeHostToDevice", "", "Int64")
    assert bert.layers[1].name == "__mye9813_0_myl1_0"
    assert bert.layers[1].precision == ""
    # Index inputs do not decide: the embedding lookup is fed only Int64 ids, so its Float
    # tables (the largest math-typed constant) do; the mask layer lists two Int64 inputs
    # before its Float one.
    embeddings, mask = bert.layers[2], bert.layers[8]
    assert [t.dtype for t in embeddings.inputs] == ["Int64"]
    assert (embeddings.precision, embeddings.output_type) == ("Float", "Float")
    assert [t.dtype for t in mask.inputs] == ["Int64", "Int64", "Float"]
    assert mask.precision == "Float"


def test_bert_log_fusion_provenance(bert):
    assert len(bert.fusion_groups()) == 21
    embeddings = bert.layers[2]
    assert embeddings.type == "kgen"
    assert embeddings.fused == (
        "/m/embeddings/Slice", "/m/embeddings/Expand_1", "/m/embeddings/word_embeddings/Gather",
        "/m/embeddings/Add", "/m/embeddings/token_type_embeddings/Gather",
        "/m/embeddings/LayerNorm/LayerNormalization", "/m/embeddings/Add_1",
        "/m/embeddings/position_embeddings/Gather", "/m/embeddings/GatherElements")
    qkv = bert.layers[3]
    assert qkv.name == ("/m/encoder/layer.0/attention/self/value/MatMul+/m/encoder/layer.0/"
                        "attention/self/key/MatMul+/m/encoder/layer.0/attention/self/query/"
                        "MatMul_myl1_2")
    assert qkv.type == "gemm"
    assert qkv.tactic == "__myelin_CASK_STUB"
    assert qkv.fused == ("/m/encoder/layer.0/attention/self/value/MatMul",
                         "/m/encoder/layer.0/attention/self/key/MatMul",
                         "/m/encoder/layer.0/attention/self/query/MatMul")
    assert qkv.inputs == (TensorDesc("__mye30008_36_myl1", (-1, 128), "Float",
                                     "(Linear) Row major linear format"),)
    assert qkv.constants[0] == TensorDesc("__mye30003_dconst_myl1", (128, 384), "Float",
                                          "(Linear) Row major linear format")
    # A Myelin-generated layer that implements no ONNX node of its own.
    assert bert.layers[13].name == "__myl_Tran_myl1_12"
    assert bert.layers[13].fused == ()
    assert bert.layers[13].outputs[0].format == "(Arbitrary) Format with stride order = [1,2,0]"


def test_bert_log_io_and_memory(bert):
    assert bert.io == (
        IOTensor("input_ids", "Input", "Int64", (-1, -1), (ProfileShape(*BERT_SHAPES),),
                 "Row major linear INT64 format (kLINEAR)"),
        IOTensor("attention_mask", "Input", "Int64", (-1, -1), (ProfileShape(*BERT_SHAPES),),
                 "Row major linear INT64 format (kLINEAR)"),
        IOTensor("last_hidden_state", "Output", "Float", (-1, -1, 128), (),
                 "Row major linear FP32 format (kLINEAR)"),
    )
    assert bert.memory == Memory(weights=1_699_200, activation=10_551_808, scratch=10_551_296,
                                 host_persistent=80, device_persistent=0)
    assert bert.profile_count == 1
    assert bert.total_time_ms is None


def test_round_trip_is_exact_and_key_order_fixed(bert):
    text = json.dumps(encode(bert))
    again = decode(Inspection, json.loads(text))
    assert again == bert
    assert json.dumps(encode(again)) == text
    assert list(encode(bert)) == ["source", "optimization_profile", "profile_count",
                                  "memory", "io", "layers"]
    assert list(encode(bert.layers[3])) == [
        "name", "type", "precision", "tactic", "fused", "inputs", "constants", "outputs",
        "profile", "time_ms", "time_pct"]


def test_missing_layers_message_says_how_to_fix():
    messages = [m for m in read_log("bert_tiny.build.jsonl") if not m.startswith("Layers:")]
    with pytest.raises(InspectError) as err:
        inspection_from_build_log(messages)
    assert str(err.value) == (
        "the build log has no layer information; build with config.profiling_verbosity = "
        "ProfilingVerbosity.DETAILED and a logger that keeps VERBOSE messages (trtexec: "
        "--profilingVerbosity=detailed --verbose)")


def test_a_log_without_the_io_section_still_gives_layers():
    text = "Layers:\n" + _record("only", [], ["y"], "[ONNX Layer: n1][ONNX Layer: n2]")
    inspection = inspection_from_build_log([text])
    assert [(layer.name, layer.fused) for layer in inspection.layers] == [("only", ("n1", "n2"))]
    assert inspection.io == ()


def test_unreadable_layers_message_is_an_error_not_garbage():
    with pytest.raises(InspectError) as err:
        inspection_from_build_log(["Layers:\nName: x, LayerType: kgen, Inputs: [ { Name: y"
                                   "\n\nI/O Tensors:\n Name: i, IOMode: Input\n"])
    assert str(err.value).startswith(
        "cannot read the layer information in the build log (the 'Layers:' message, which "
        "starts 'Name: x, LayerType: kgen, Inputs: [ { Name: y")


# --------------------------------------------------------------------------------------------
# Hostile names: the reader must not be fooled by names that imitate the syntax
# --------------------------------------------------------------------------------------------
def _tensor(name: str, dims: str = "[1,2]") -> str:
    return (f"{{ Name: {name}, Dimensions: {dims}, Strides: [2,1], StrideOrder: [1,0], "
            "Datatype: Half, Format: (Linear) Row major linear format }")


def _record(name: str, inputs: list[str], outputs: list[str], metadata: str) -> str:
    def tensors(names: list[str]) -> str:
        return "[ " + ", ".join(_tensor(n) for n in names) + "]" if names else "[]"

    return (f"Name: {name}, LayerType: kgen, Inputs: {tensors(inputs)}, Constants: [], "
            f"Outputs: {tensors(outputs)}, TacticName: __myl_x_0x1, StreamId: 0, "
            f"Metadata: {metadata}")


HOSTILE = [
    "a, b",
    "x[0]",
    'say "hi": \'there\'',
    "weird }], Outputs: [ { Name: fake",
    "looks, Dimensions: [3,3], Datatype: Float, Format: x }",
    "n, LayerType: kgen, Inputs: [], Outputs: []",
    "multi\nline\nName: not a layer, LayerType: kgen",
    "{ Name: nested }",
    "trailing, ",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_survive_a_round_through_the_log_syntax(name):
    text = ("Layers:\n"
            + _record(f"L {name}", [name], [f"{name}.out"], f"[ONNX Layer: {name}]") + "\n"
            + _record("second", [f"{name}.out"], ["y"], "[ONNX Layer: second]")
            + "\n\nI/O Tensors:\n"
            + f" Name: {name}, IOMode: Input, DataType: Half, Dimensions: [1,2], Location: "
              "Device, IsShapeInferenceIO: false, ProfileInfo: [ { MinShape: [1,2], OptShape: "
              "[1,2], MaxShape: [1,2], Format: Row major linear FP16 format (kLINEAR) }]\n"
            + " Name: y, IOMode: Output, DataType: Half, Dimensions: [1,2], Location: Device, "
              "IsShapeInferenceIO: false, ProfileInfo: [ { Format: Row major linear FP16 "
              "format (kLINEAR) }]\n\nEngine Metadata:\n Multi-Device: Disabled")
    inspection = inspection_from_build_log([text])
    first, second = inspection.layers
    assert first.name == f"L {name}"
    assert [t.name for t in first.inputs] == [name]
    assert [t.name for t in first.outputs] == [f"{name}.out"]
    assert first.inputs[0].dims == (1, 2)
    assert first.fused == (name,)
    assert second.name == "second"
    assert [t.name for t in second.inputs] == [f"{name}.out"]
    assert [(t.name, t.mode) for t in inspection.io] == [(name, "Input"), ("y", "Output")]


def test_real_tensorrt_output_for_a_model_with_hostile_names():
    # TensorRT-RTX printed these names unescaped (tests/data/nasty_names.build.jsonl).
    inspection = inspection_from_build_log(read_log("nasty_names.build.jsonl"))
    assert [(layer.name, layer.type) for layer in inspection.layers] == [
        ("__mye126_0_myl0_0", "shape_call"),
        ("__myl_Move_myl0_1", "kgen"),
        (NASTY["conv"] + "_myl0_2", "correlation"),
        ("__myl_ReluAddMul_myl0_3", "kgen"),
    ]
    move, conv, rest = inspection.layers[1:]
    assert [t.name for t in move.inputs] == [NASTY["in"]]
    assert [t.name for t in move.outputs] == [NASTY["t1"] + ".1_7_myl0"]
    assert [(t.name, t.dims) for t in conv.inputs] == [(NASTY["t1"] + ".1_7_myl0",
                                                        (-1, 3, 16, 16))]
    assert conv.fused == (NASTY["conv"],)
    assert [t.name for t in rest.outputs] == [NASTY["out"]]
    assert [(t.name, t.mode, t.dims) for t in inspection.io] == [
        (NASTY["in"], "Input", (-1, 3, 16, 16)), (NASTY["out"], "Output", (-1, 8, 16, 16))]
    # "relu]<US>[ONNX Layer: notreal" reads like two nodes; only the model can say otherwise.
    assert rest.fused == ("relu", "notreal", NASTY["add"], NASTY["mul"])


def test_onnx_node_names_settle_ambiguous_fusion_names():
    nodes = {n.name for n in onnx.load(DATA / "nasty_names.onnx").graph.node}
    inspection = inspection_from_build_log(read_log("nasty_names.build.jsonl"),
                                           onnx_nodes=nodes)
    assert inspection.layers[3].fused == (NASTY["relu"], NASTY["add"], NASTY["mul"])


def test_hostile_input_cannot_make_the_reader_slow():
    evil = ", LayerType: kgen, Inputs: [ { Name: x }]" * 300 + " }]" * 300
    text = "Layers:\n" + _record(evil, [evil], ["o"], "") + "\n\nI/O Tensors:\n"
    started = time.perf_counter()
    with pytest.raises(InspectError):
        inspection_from_build_log([text])
    assert time.perf_counter() - started < 5


# --------------------------------------------------------------------------------------------
# Metadata and dtypes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("metadata", "fused"), [
    ("", ()),
    ("[ONNX Layer: /conv1/Conv]", ("/conv1/Conv",)),
    ("[ONNX Layer: a]\x1f[ONNX Layer: b]", ("a", "b")),  # the RTX build log
    ("[ONNX Layer: a]\x1e[ONNX Layer: b]", ("a", "b")),  # inspector JSON, TensorRT >= 8.6
    ("[ONNX Layer: conv0][ONNX Layer: relu0]", ("conv0", "relu0")),
    ("[ONNX Layer: f/Mul | Local Function: Gelu]", ("f/Mul",)),
    ("[ONNX Layer: a[ONNX Layer: b]]", ("a[ONNX Layer: b]",)),  # not after "]": part of a
    ("[ONNX Layer: a]\x1f[ONNX Layer: a]", ("a",)),
    ("user metadata without nodes", ()),
])
def test_fused_from_metadata(metadata, fused):
    assert fused_from_metadata(metadata) == fused


@pytest.mark.parametrize(("text", "dtype"), [
    ("Float", "Float"), ("FP32", "Float"), ("Half", "Half"), ("FP16", "Half"),
    ("BFloat16", "BFloat16"), ("Int8", "Int8"), ("INT8", "Int8"), ("FP8", "FP8"),
    ("Int32", "Int32"), ("Int64", "Int64"), ("Bool", "Bool"), ("UInt8", "UInt8"),
    ("Int4", "Int4"), ("FP4", "FP4"),
    ("Row major linear FP32 format", "Float"),
    ("Row major linear FP32", "Float"),
    ("Channel major FP16 format where channel % 8 == 0", "Half"),
    ("Row major linear INT64 format (kLINEAR)", "Int64"),
    ("Four wide channel vectorized row major Int8 format", "Int8"),
    ("Row major linear BOOL", "Bool"),
    ("Channel major BFloat16 format where channel % 8 == 0", "BFloat16"),
    ("(Linear) Row major linear format", ""),
    ("Unknown format", ""),
])
def test_normalise_dtype(text, dtype):
    assert normalise_dtype(text) == dtype


def test_layer_precision_is_read_from_inputs_and_weights_not_outputs():
    def t(dtype: str, *dims: int) -> TensorDesc:
        return TensorDesc(dtype.lower(), dims or (1,), dtype, "")

    assert layer_precision([t("Int8")], [t("Int8", 16, 8, 3, 3), t("Float", 16)]) == "Int8"
    assert layer_precision([t("Float"), t("Half")]) == "Float"  # the first input, as in TREx
    assert layer_precision([t("Int64"), t("Half")]) == "Half"  # indices do not decide
    assert layer_precision([t("Int64")], [t("Float", 2), t("Half", 1000, 64)]) == "Half"
    assert layer_precision([t("Int64"), t("Bool")]) == "Int64"  # integer shape arithmetic
    assert layer_precision([], [t("Half", 8)]) == "Half"
    assert layer_precision([], []) == ""


def test_output_type_is_the_dominant_output_dtype():
    half, flt = TensorDesc("h", (1,), "Half", ""), TensorDesc("f", (1,), "Float", "")
    assert output_type([flt, half, half]) == "Half"
    assert output_type([flt, half]) == "Float"  # a tie goes to the first listed
    assert output_type([]) == ""


def test_precision_summary_names_the_dominant_low_precision_and_the_others():
    def layer(dtype: str) -> Layer:
        x = TensorDesc("x", (1,), dtype, "")
        return Layer("l", "kgen", (x,), (x,), "", (), layer_precision((x,)))

    def summary(*dtypes: str) -> str:
        return Inspection("trtexec", tuple(layer(d) for d in dtypes), ()).precision_summary()

    assert summary("Int8", "Int8", "Half", "Float") == "int8, 2 of 4 layers; also fp16 1"
    assert summary("Int8", "Half", "Float") == "int8, 1 of 3 layers; also fp16 1"  # narrower
    assert summary("Float", "Float") == "fp32, 2 of 2 layers"
    assert summary("Int64") == "" and summary() == ""


def test_stored_precision_is_recomputed_on_read():
    """Records written under the old rule (the dominant output type) read with the new one."""
    data = json.loads((DATA / "records" / "bert-tiny.json").read_text(encoding="utf-8"))
    stored = data["inspection"]["layers"][0]
    assert stored["type"] == "ShapeHostToDevice"
    stored = {**stored, "precision": "Int64"}  # what the old rule stored for this layer
    layer = decode(Layer, stored)
    assert (layer.precision, layer.output_type) == ("", "Int64")
    assert encode(layer)["precision"] == ""


# --------------------------------------------------------------------------------------------
# IEngineInspector JSON and trtexec exports (real TREx fixtures)
# --------------------------------------------------------------------------------------------
def test_trtexec_fp16_layers_times_and_precision():
    inspection = inspection_from_trtexec(FP16, FP16_PROFILE)
    assert inspection.source == "trtexec"
    assert len(inspection.layers) == 36
    assert Counter(layer.type for layer in inspection.layers) == {
        "CaskConvolution": 21, "NoOp": 11, "Reformat": 2, "CudaPooling": 1, "CaskPooling": 1}
    assert inspection.precision_mix() == (("Half", 35), ("Float", 1))
    assert inspection.precision_summary() == "fp16, 35 of 36 layers"
    assert not inspection.has_qdq()
    # A Reformat is read like TREx reads it: the type it converts from. The only fp32 layer
    # converts the fp32 input binding to fp16; the last one converts back.
    first = inspection.layers[0]
    assert (first.type, first.precision, first.output_type) == ("Reformat", "Float", "Half")
    conv = inspection.layers[1]
    assert conv.name == "Conv_0 + Relu_1"
    assert conv.constants == (TensorDesc("Weights", (9408,), "Half", ""),
                              TensorDesc("Bias", (64,), "Half", ""))
    assert conv.time_ms == 0.111616 and conv.time_pct == 10.9768
    assert conv.tactic == ("trt_turing_cutlass_image_network_first_layer_hmma_fprop_f16f16f32"
                           "_nhwc_nhwc_k64r7s7c4_stride2x2")
    assert conv.outputs[0].format == "Channel major FP16 format where channel % 8 == 0"
    last = inspection.layers[-1]
    assert (last.name, last.precision, last.output_type, last.time_ms) == (
        "Reformatting CopyNode for Output Tensor 0 to reshape_after_Gemm_48", "Half", "Float",
        0.007168)
    assert all(layer.time_ms is not None for layer in inspection.layers)
    assert all(layer.time_ms == 0 for layer in inspection.layers if layer.type == "NoOp")
    assert inspection.total_time_ms == pytest.approx(1.016832)
    # Pre-8.6 exports carry no Metadata, so there is no fusion provenance to show.
    assert inspection.fusion_groups() == ()


def test_trtexec_fp32_layers_and_times():
    inspection = inspection_from_trtexec(FP32, FP32_PROFILE)
    assert len(inspection.layers) == 32
    assert inspection.precision_mix() == (("Float", 32),)
    assert inspection.precision_summary() == "fp32, 32 of 32 layers"
    conv = inspection.layers[0]
    assert (conv.name, conv.time_ms, conv.time_pct) == ("Conv_0 + Relu_1", 0.52224, 24.5902)
    assert conv.tactic == "ampere_scudnn_128x64_relu_xregs_large_nn_v1"
    assert inspection.total_time_ms == pytest.approx(2.123776)


def test_names_only_bindings_take_shape_and_type_from_the_layers():
    inspection = inspection_from_trtexec(FP16)
    assert inspection.io == (
        IOTensor("input.1", "Input", "Float", (32, 3, 224, 224), (), "Row major linear FP32"),
        IOTensor("191", "Output", "Float", (32, 1000), (), "Row major linear FP32"),
    )
    assert all(layer.time_ms is None for layer in inspection.layers)


def test_profile_from_another_engine_is_refused(tmp_path):
    other = tmp_path / "other.profile.json"
    other.write_text(json.dumps([{"count": 1}, {"name": "conv9", "timeMs": 1, "averageMs": 1,
                                                "medianMs": 1, "percentage": 100}]))
    with pytest.raises(InspectError) as err:
        inspection_from_trtexec(FP16, other)
    assert str(err.value).endswith(
        "other.profile.json: none of the 1 timed layers in the profile is a layer of "
        "resnet.onnx.engine.graph.json; export both files from the same trtexec run")


def _engine_json(layers, io_key="I/O Tensors", io=()):
    return json.dumps({"Layers": layers, io_key: list(io)})


LAYER = {
    "Name": "/conv/Conv + /relu/Relu", "LayerType": "CaskConvolution",
    "Inputs": [{"Name": "x", "Location": "Device", "Dimensions": [-1, 3, 8, 8],
                "Format/Datatype": "Row major linear FP16 format"}],
    "Outputs": [{"Name": "y", "Location": "Device", "Dimensions": [-1, 8, 8, 8],
                 "Format/Datatype": "Channel major FP16 format where channel % 8 == 0"}],
    "ParameterType": "Convolution", "TacticName": "sm86_xmma_fprop", "TacticValue": "0x1",
    "Metadata": "[ONNX Layer: /conv/Conv]\x1e[ONNX Layer: /relu/Relu]",
}


def test_tensorrt_11_io_tensors_and_metadata():
    io = [
        {"Name": "x", "IOMode": "Input", "DataType": "Half", "Dimensions": [-1, 3, 8, 8],
         "ProfileInfo": [{"MinShape": [1, 3, 8, 8], "OptShape": [2, 3, 8, 8],
                          "MaxShape": [4, 3, 8, 8], "Format": "kLINEAR"}]},
        {"Name": "y", "IOMode": "Output", "DataType": "Half", "Dimensions": [-1, 8, 8, 8],
         "ProfileInfo": [{"Format": "kHWC8"}]},
    ]
    inspection = inspection_from_inspector_json(_engine_json([LAYER], io=io))
    layer = inspection.layers[0]
    assert layer.fused == ("/conv/Conv", "/relu/Relu")
    assert (layer.precision, layer.tactic) == ("Half", "sm86_xmma_fprop")
    assert layer.inputs[0] == TensorDesc("x", (-1, 3, 8, 8), "Half",
                                         "Row major linear FP16 format", "Device")
    assert inspection.io == (
        IOTensor("x", "Input", "Half", (-1, 3, 8, 8),
                 (ProfileShape((1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8)),), "kLINEAR"),
        IOTensor("y", "Output", "Half", (-1, 8, 8, 8), (), "kHWC8"),
    )


def test_layer_names_only_means_the_engine_was_not_built_detailed():
    with pytest.raises(InspectError) as err:
        inspection_from_inspector_json(_engine_json(["conv", "relu"], "Bindings", ["x"]),
                                       path=Path("engine.json"))
    assert str(err.value) == (
        "engine.json: the engine information lists layer names only, so the engine was built "
        "below ProfilingVerbosity DETAILED; build with config.profiling_verbosity = "
        "ProfilingVerbosity.DETAILED and a logger that keeps VERBOSE messages (trtexec: "
        "--profilingVerbosity=detailed --verbose)")


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "the engine information is not JSON (Expecting property name enclosed in "
                  "double quotes: line 1 column 2 (char 1))"),
    ('{"Bindings": []}', "the engine information has no 'Layers' key; is this "
                         "IEngineInspector JSON (trtexec --exportLayerInfo)?"),
    ('{"Layers": [{"LayerType": "NoOp"}]}', "layer 0 has no 'Name' key; is this "
                                            "IEngineInspector JSON (trtexec --exportLayerInfo)?"),
])
def test_malformed_inspector_json(text, message):
    with pytest.raises(InspectError) as err:
        inspection_from_inspector_json(text)
    assert str(err.value) == message


# --------------------------------------------------------------------------------------------
# Live TensorRT-RTX builds
# --------------------------------------------------------------------------------------------
def test_live_mobilenet_build(trt):
    shapes = {"input": ((1, 3, 224, 224), (4, 3, 224, 224), (8, 3, 224, 224))}
    messages, _ = build_log(trt, MODELS / "mobilenet_v2_035.onnx", [shapes])
    inspection = inspection_from_build_log(messages)
    assert len(inspection.layers) == 57
    assert inspection.precision_mix() == (("Float", 56),)
    assert len(inspection.fusion_groups()) == 45
    stem = inspection.layers[2]
    assert (stem.name, stem.type) == ("/features/features.0/features.0.0/Conv_myl0_2",
                                      "correlation")
    assert stem.fused == ("/features/features.0/features.0.0/Conv",
                          "/features/features.0/features.0.2/Clip")
    assert inspection.layers[-1].fused == ("/classifier/classifier.1/Gemm",)
    assert inspection.memory.weights == 6_663_104
    assert inspection.io[0].profiles == (ProfileShape(*shapes["input"]),)


def test_live_multi_profile_build_lists_one_profile_at_a_time(trt):
    profiles = [{"input_ids": s, "attention_mask": s}
                for s in (BERT_SHAPES, ((4, 128), (8, 128), (16, 256)))]
    messages, _ = build_log(trt, MODELS / "bert_tiny.onnx", profiles)
    every = inspection_from_build_log(messages, optimization_profile=None)
    first = inspection_from_build_log(messages)
    second = inspection_from_build_log(messages, optimization_profile=1)
    assert every.profile_count == first.profile_count == 2
    assert len(every.layers) == len(first.layers) + len(second.layers)
    assert {layer.profile for layer in first.layers} == {0}
    assert {layer.profile for layer in second.layers} == {1}
    # TensorRT marks the second copy; Myelin-generated names carry no mark at all.
    assert first.layers[0].name == "[ShapeHostToDeviceCopy 0]"
    assert second.layers[0].name == "[ShapeHostToDeviceCopy 0] [profile 1]"
    assert not any("[profile" in layer.name for layer in first.layers)
    assert first.io[0].profiles == (ProfileShape(*BERT_SHAPES),
                                    ProfileShape((4, 128), (8, 128), (16, 256)))
    with pytest.raises(InspectError) as err:
        inspection_from_build_log(messages, optimization_profile=2)
    assert str(err.value) == ("optimization profile 2 does not exist; the engine has 2 "
                              "(numbered from 0)")


def qdq_conv_model() -> onnx.ModelProto:
    """x → Q/DQ (int8, per tensor) → Conv with Q/DQ int8 weights → Relu, opset 13.

    The activation's Q/DQ nodes are named the way onnxruntime's quantize_static names them;
    the weights' are not, so only the model's ops show that they are Q/DQ too.
    """
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "B"),
        numpy_helper.from_array(np.array(0.05, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(0.02, np.float32), "w_scale"),
        numpy_helper.from_array(np.array(0, np.int8), "zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "zero"], ["xq"],
                         name="x_QuantizeLinear"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "zero"], ["xdq"],
                         name="x_DequantizeLinear"),
        helper.make_node("QuantizeLinear", ["W", "w_scale", "zero"], ["wq"], name="q_w"),
        helper.make_node("DequantizeLinear", ["wq", "w_scale", "zero"], ["wdq"], name="dq_w"),
        helper.make_node("Conv", ["xdq", "wdq", "B"], ["y"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["y"], ["out"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes, "qdq_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 16, 16])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 16, 16, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def test_live_int8_conv_is_int8_though_it_writes_float(trt, tmp_path):
    path = tmp_path / "qdq_conv.onnx"
    onnx.save(qdq_conv_model(), path)
    messages, _ = build_log(trt, path, [{"x": ((1, 8, 16, 16), (2, 8, 16, 16), (4, 8, 16, 16))}])
    inspection = inspection_from_build_log(messages)
    by_type = {layer.type: layer for layer in inspection.layers}
    conv = by_type["correlation"]
    assert conv.fused == ("conv", "x_DequantizeLinear", "dq_w", "relu", "q_w")
    assert [t.dtype for t in conv.inputs] == ["Int8"]
    assert [t.dtype for t in conv.constants] == ["Int8", "Float", "Float", "Float"]
    assert (conv.precision, conv.output_type) == ("Int8", "Float")
    # The quantize layer computes in Float (scale, round, clamp) and writes Int8.
    quantize = next(layer for layer in inspection.layers if layer.fused == ("x_QuantizeLinear",))
    assert (quantize.precision, quantize.output_type) == ("Float", "Int8")
    assert inspection.precision_mix() == (("Float", 2), ("Int8", 1))
    assert inspection.has_qdq()  # the fused node names show it
    assert inspection.precision_summary() == "int8 (Q/DQ), 1 of 4 layers"
    unnamed = Inspection(inspection.source, tuple(
        replace(layer, name="l", fused=()) for layer in inspection.layers), inspection.io)
    assert unnamed.precision_summary() == "int8, 1 of 4 layers"
    assert unnamed.precision_summary(["QuantizeLinear", "Conv"]) == "int8 (Q/DQ), 1 of 4 layers"


def test_live_build_of_hostile_names_matches_the_capture(trt):
    messages, _ = build_log(trt, DATA / "nasty_names.onnx",
                            [{NASTY["in"]: ((1, 3, 16, 16), (2, 3, 16, 16), (4, 3, 16, 16))}])
    live = inspection_from_build_log(messages)
    captured = inspection_from_build_log(read_log("nasty_names.build.jsonl"))
    assert live.layers == captured.layers
    assert live.io == captured.io


# --------------------------------------------------------------------------------------------
# Deserialising an engine (GPU only)
# --------------------------------------------------------------------------------------------
def test_gpu_runtime_available_names_what_is_missing():
    fake = SimpleNamespace(__name__="fake_trt")
    assert gpu_runtime_available(fake) == (
        False, "fake_trt has no Runtime, so it cannot deserialise engines")


def test_inspection_from_engine_without_a_gpu_says_why(trt):
    ok, why = gpu_runtime_available(trt)
    if ok:
        pytest.skip("a GPU is present; test_inspection_from_engine covers this host")
    assert why
    with pytest.raises(InspectError) as err:
        inspection_from_engine(b"vtrt", trt)
    assert str(err.value) == (f"cannot deserialise the engine here: {why}. Read the layers "
                              "from the DETAILED build log instead")


@pytest.mark.gpu
def test_inspection_from_engine(trt):
    ok, why = gpu_runtime_available(trt)
    if not ok:
        pytest.skip(f"IEngineInspector needs a GPU runtime: {why}")
    shapes = {"input_ids": BERT_SHAPES, "attention_mask": BERT_SHAPES}
    # Every target bert_tiny builds for (its fp32 GEMMs rule out SM75), so any RTX-capable
    # GPU can load it.
    _, plan = build_log(trt, MODELS / "bert_tiny.onnx", [shapes],
                        ("SM80", "SM86", "SM89", "SM120", "SM121"))
    live = inspection_from_engine(plan, trt)
    assert live.source == "inspector-json"
    assert [(t.name, t.mode, t.dtype) for t in live.io] == [
        ("input_ids", "Input", "Int64"), ("attention_mask", "Input", "Int64"),
        ("last_hidden_state", "Output", "Float")]
    fused = {name for layer in live.layers for name in layer.fused}
    assert "/m/encoder/layer.0/attention/self/query/MatMul" in fused


def test_layer_is_hashable_and_frozen():
    layer = Layer("a", "kgen", (), (), "", (), "")
    with pytest.raises(AttributeError):
        layer.name = "b"  # type: ignore[misc]
    assert hash(layer) == hash(Layer("a", "kgen", (), (), "", (), ""))


def test_a_one_element_scale_is_not_weights():
    """magika-int8's first layer quantizes the Int32 byte ids with one Float scale: that scale
    must not make the layer Float while the same layer in the fp32 engine reads Int32."""
    from trtdoc.inspect.types import layer_precision

    ids = TensorDesc("bytes", (-1, 2048), "Int32", "")
    scale = TensorDesc("scale", (1,), "Float", "")
    assert layer_precision((ids,), (scale,)) == "Int32"
    weights = TensorDesc("w", (64, 257), "Half", "")
    assert layer_precision((ids,), (scale, weights)) == "Half"


def test_memory_of_a_two_profile_engine_is_its_largest_profile():
    """The builder logs activation and scratch memory once per profile (here bert-tiny's two
    profiles, as TensorRT-RTX 1.7 logged them): the engine needs the larger, not the last."""
    messages = [m for m in read_log("bert_tiny.build.jsonl")
                if not m.startswith(("Total Activation Memory", "Max Scratch Memory"))]
    messages += ["Max Scratch Memory: 12910592 bytes", "Total Activation Memory: 12911104 bytes",
                 "Max Scratch Memory: 9764864 bytes", "Total Activation Memory: 9765376 bytes"]
    memory = inspection_from_build_log(messages).memory
    assert (memory.activation, memory.scratch) == (12911104, 12910592)


# --------------------------------------------------------------------------------------------
# Names that forge whole records (a real build of a real model)
# --------------------------------------------------------------------------------------------
MOBILENET_SHAPES = ((1, 3, 224, 224), (2, 3, 224, 224), (4, 3, 224, 224))


def hostile_names(model: onnx.ModelProto, real_log: str) -> tuple[onnx.ModelProto, dict[str, str]]:
    """A copy of ``model`` whose every node and tensor name embeds TensorRT's own syntax, and
    the map from each new name to the old one.

    The fragments are real: whole lines of ``real_log`` (the plain model's ``Layers:``
    message), so forged records look exactly like genuine ones, plus the I/O section, a
    TensorRT 8-style ``Layer(...)`` line, JSON, quotes, separators, a private-use character
    (the parser's own mask alphabet) and a name of 3,000 characters.
    """
    lines = real_log.split("\n")[1:]
    records = [line for line in lines if line.startswith("Name: ")]
    io_section = real_log[real_log.index("\n\nI/O Tensors:"):]

    def name(kind: str, i: int, old: str) -> str:
        record = records[(7 * i) % len(records)]
        forged = [
            f"{old}, LayerType: kgen, Inputs: [], Constants: [], Outputs: [], TacticName: , "
            f"StreamId: 0, Metadata: \n{record}\nName: x{i}",
            f"{old}]\n{record}\nLayer(Myelin): {{\"Name\": \"x{i}\", 'q': [1, 2]}}, Tactic: "
            f"0x0, input[Float(1,3)] -> output[Half(1)]\n[ONNX Layer: y{i}",
            f"{old} }}], Outputs: [ {{ Name: z{i}, Dimensions: [9,9], Datatype: Half, Format: "
            f"}}], TacticName: t, StreamId: 0, Metadata: {io_section}\n{record}",
            f"{old}\t\\ \"é\" | \x1e\x1f\U000f0000 }}, {{ Name: w{i}, Dimensions: [1], "
            f"Datatype: Float, Format: x }}]\n\n" + "Name: long, " * 250,
        ]
        return f"{kind}{i}:{forged[i % len(forged)]}"

    hostile = onnx.ModelProto()
    hostile.CopyFrom(model)
    graph = hostile.graph
    new: dict[str, str] = {}

    def tensor(old: str) -> str:
        if old and old not in new:
            new[old] = name("t", len(new), old)
        return new.get(old, old)

    old_of: dict[str, str] = {}
    for k, node in enumerate(graph.node):
        node_name = name("n", k, node.name)
        old_of[node_name] = node.name
        node.name = node_name
        node.input[:] = [tensor(x) for x in node.input]
        node.output[:] = [tensor(x) for x in node.output]
    for value in (*graph.input, *graph.output, *graph.value_info, *graph.initializer):
        value.name = tensor(value.name)
    onnx.checker.check_model(hostile)
    old_of.update({v: k for k, v in new.items()})
    return hostile, old_of


def _restored(inspection: Inspection, old_of: Mapping[str, str]) -> tuple[Any, Any]:
    """The layers and I/O of ``inspection`` with every hostile name put back as it was.

    TensorRT prints '"' and '\\' as '_' in layer and tensor names (measured), so both
    spellings are replaced."""
    pairs = sorted({(h, o) for h, o in old_of.items()}
                   | {(h.replace('"', "_").replace("\\", "_"), o) for h, o in old_of.items()},
                   key=lambda ho: -len(ho[0]))

    def plain(text: str) -> str:
        for hostile, old in pairs:
            if hostile in text:
                text = text.replace(hostile, old)
        return text

    def tensors(ts: tuple[TensorDesc, ...]) -> tuple[TensorDesc, ...]:
        return tuple(replace(t, name=plain(t.name)) for t in ts)

    layers = [replace(layer, name=plain(layer.name), fused=tuple(map(plain, layer.fused)),
                      inputs=tensors(layer.inputs), outputs=tensors(layer.outputs),
                      constants=tensors(layer.constants)) for layer in inspection.layers]
    return layers, [replace(t, name=plain(t.name)) for t in inspection.io]


def test_model_names_cannot_forge_layers(trt, tmp_path):
    model = onnx.load(MODELS / "mobilenet_v2_035.onnx")
    messages, _ = build_log(trt, MODELS / "mobilenet_v2_035.onnx",
                            [{"input": MOBILENET_SHAPES}])
    plain = inspection_from_build_log(messages)
    real_log = next(m for m in messages if m.startswith("Layers:"))
    hostile, old_of = hostile_names(model, real_log)
    path = tmp_path / "hostile.onnx"
    onnx.save(hostile, path)
    new_of = {old: new for new, old in old_of.items()}
    hostile_messages, _ = build_log(trt, path, [{new_of["input"]: MOBILENET_SHAPES}])

    graph = hostile.graph
    nodes = {n.name for n in graph.node}
    tensors = ({x for n in graph.node for x in (*n.input, *n.output)}
               | {v.name for v in (*graph.input, *graph.output, *graph.initializer)})
    inspection = inspection_from_build_log(hostile_messages, onnx_nodes=nodes,
                                           onnx_tensors=tensors)
    assert len(plain.layers) == 57
    assert len(inspection.layers) == len(plain.layers)
    assert [layer.type for layer in inspection.layers] == [layer.type for layer in plain.layers]
    layers, io = _restored(inspection, old_of)
    # Names, types, tensors and fused nodes. Not tactics: TensorRT-RTX names some Myelin
    # tactics by a hash that differs from one build to the next in one process (measured),
    # whatever the model's names.
    def without_tactics(items):
        return [dataclasses.replace(layer, tactic=None) for layer in items]

    assert without_tactics(layers) == without_tactics(plain.layers)
    assert io == list(plain.io)
    # The names do forge records when the parser is not told them (312 layers measured).
    assert len(inspection_from_build_log(hostile_messages).layers) != len(plain.layers)


def test_hostile_names_in_inspector_json_stay_names():
    # The JSON reader is structural, so names may hold anything: newlines, "|" (a Markdown
    # cell), JSON text, the reader's mask alphabet and 100,000 characters.
    data = json.loads(FP16.read_text(encoding="utf-8"))
    plain = inspection_from_inspector_json(json.dumps(data))
    hostile: dict[str, str] = {}

    def evil(name: str) -> str:
        if name not in hostile:
            i = len(hostile)
            hostile[name] = [
                f'{name}\n{{"Name": "x{i}", "LayerType": "Reformat"}}\nName: y{i}, LayerType: kgen',
                f"{name} | a | b |\n|---|\n| forged{i} |",
                f"{name}\U000f0000\x1e[ONNX Layer: z{i}]\x1f\\\"",
                name + "L" * 100_000,
            ][i % 4]
        return hostile[name]

    for layer in data["Layers"]:
        layer["Name"] = evil(layer["Name"])
        for key in ("Inputs", "Outputs"):
            for t in layer[key]:
                t["Name"] = evil(t["Name"])
    data["Bindings"] = [evil(b) for b in data["Bindings"]]
    data["Layers"][1]["Metadata"] = "\x1e".join(
        f"[ONNX Layer: {n}]" for n in ("conv]\x1e[ONNX Layer: fake", "relu\n|x|"))
    inspection = inspection_from_inspector_json(
        json.dumps(data), onnx_nodes={"conv]\x1e[ONNX Layer: fake", "relu\n|x|"})
    old_of = {v: k for k, v in hostile.items()}
    assert len(inspection.layers) == len(plain.layers) == 36
    for got, want in zip(inspection.layers, plain.layers, strict=True):
        assert (got.type, got.precision, got.tactic) == (want.type, want.precision, want.tactic)
        assert old_of[got.name] == want.name
        assert [old_of[t.name] for t in got.inputs + got.outputs] == [
            t.name for t in want.inputs + want.outputs]
        assert [(t.dims, t.format) for t in got.inputs] == [(t.dims, t.format)
                                                            for t in want.inputs]
    assert inspection.layers[1].fused == ("conv]\x1e[ONNX Layer: fake", "relu\n|x|")
    assert [(old_of[t.name], t.mode, t.dims) for t in inspection.io] == [
        (t.name, t.mode, t.dims) for t in plain.io]

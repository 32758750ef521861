"""Findings: each kind triggered by a small model built for real with TensorRT-RTX, the shipped
builds' findings naming their real layers and ONNX nodes, and ``trtdoc lint``."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from click.testing import CliRunner
from conftest import MODELS, REPO, TREX, write
from onnx import TensorProto
from onnx import numpy_helper as nh

from trtdoc.cli.group import cli
from trtdoc.findings.current import current_findings, fp32_variant
from trtdoc.findings.rules import findings_from_record
from trtdoc.findings.types import KINDS
from trtdoc.record.codec import record_from_json
from trtdoc.record.files import read_record
from trtdoc.record.text import dumps
from trtdoc.typed import encode

pytest.importorskip("tensorrt_rtx")
pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


def _model(folder: Path, name: str, nodes: list, inits: dict, x: list) -> None:
    graph = oh.make_graph(
        nodes, name, [oh.make_tensor_value_info("x", TensorProto.FLOAT, x)],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [nh.from_array(v, k) for k, v in inits.items()])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]),
              folder / f"{name}.onnx")


def _f32(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


SPECS = {
    # TopK: onnxruntime's fp16 converter keeps it in fp32 (and casts around it). Its profile's
    # max is 128× its opt.
    "topk.yaml": """
        name: topk-fp16
        model: topk.onnx
        backend: tensorrt-rtx
        precision: fp16
        profiles:
          - x: {min: [1, 8], opt: [2, 8], max: [256, 8]}
        targets: [sm86]
    """,
    # Weights beyond the fp16 range: the precision step clamps them and says so.
    "clamp.yaml": """
        name: clamp-fp16
        model: clamp.onnx
        backend: tensorrt-rtx
        precision: fp16
        profiles:
          - x: {min: [1, 8], opt: [2, 8], max: [4, 8]}
        targets: [sm86]
    """,
    # Conv → Relu → Softmax: the Q/DQ on the Relu output feeds a Softmax, which has no int8
    # kernel; the fp32 variant beside it is smaller than the int8 engine.
    "conv.yaml": """
        name: conv
        model: conv.onnx
        backend: tensorrt-rtx
        calibration: {data: conv_calib.npz, batches: 2}
        profiles:
          - x: {min: [1, 3, 16, 16], opt: [2, 3, 16, 16], max: [4, 3, 16, 16]}
        targets: [sm86]
        variants:
          precision: [fp32, int8]
    """,
    # A YOLOv8-like detector (issue 24): C2f blocks (Split, Concat) and a head that concatenates
    # each scale's box and class convolutions, reshapes, concatenates and splits them.
    "yolo.yaml": """
        name: yolo-fp32
        model: yolo.onnx
        backend: tensorrt-rtx
        precision: fp32
        profiles:
          - images: {min: [1, 3, 64, 64], opt: [2, 3, 64, 64], max: [4, 3, 64, 64]}
        targets: [sm86]
    """,
    # Conv1d → ConvTranspose: TensorRT-RTX runs the ConvTranspose in fp32 in an int8 build.
    "deconv.yaml": """
        name: deconv-int8
        model: deconv.onnx
        backend: tensorrt-rtx
        precision: int8
        calibration: {data: deconv_calib.npz, batches: 2}
        profiles:
          - x: {min: [1, 4, 16], opt: [2, 4, 16], max: [4, 4, 16]}
        targets: [sm86]
    """,
    # Only a ConvTranspose: no convolution of the int8 engine runs in int8.
    "deconv_only.yaml": """
        name: deconv-only-int8
        model: deconv_only.onnx
        backend: tensorrt-rtx
        precision: int8
        calibration: {data: deconv_only_calib.npz, batches: 2}
        profiles:
          - x: {min: [1, 8, 16], opt: [2, 8, 16], max: [4, 8, 16]}
        targets: [sm86]
    """,
}


def _yolo(folder: Path) -> None:
    """The Split/Concat/Reshape structure of an ultralytics YOLOv8 export (conv + SiLU, C2f,
    the Detect head), small and with seeded weights: the real NudeNet 320n detector is AGPL."""
    nodes: list = []
    inits: dict = {}

    def conv(x: str, cin: int, cout: int, name: str, stride: int = 1, k: int = 3) -> str:
        inits[name + ".w"] = _f32(cout, cin, k, k, scale=0.1)
        nodes.extend([
            oh.make_node("Conv", [x, name + ".w"], [name + ".c"], name=name + "/Conv",
                         pads=[k // 2] * 4, strides=[stride, stride]),
            oh.make_node("Sigmoid", [name + ".c"], [name + ".s"], name=name + "/Sigmoid"),
            oh.make_node("Mul", [name + ".c", name + ".s"], [name], name=name + "/Mul")])
        return name

    def c2f(x: str, c: int, name: str) -> str:
        a = conv(x, c, c, name + ".cv1", k=1)
        inits[name + ".split"] = np.array([c // 2, c // 2], np.int64)
        nodes.append(oh.make_node("Split", [a, name + ".split"], [name + ".a", name + ".b"],
                                  name=name + "/Split", axis=1))
        m = conv(name + ".b", c // 2, c // 2, name + ".m")
        nodes.append(oh.make_node("Concat", [name + ".a", name + ".b", m], [name + ".cat"],
                                  name=name + "/Concat", axis=1))
        return conv(name + ".cat", 3 * c // 2, c, name + ".cv2", k=1)

    x, heads = conv("images", 3, 8, "m0", stride=2), []
    for i in range(3):
        x = c2f(conv(x, 8, 8, f"down{i}", stride=2), 8, f"c2f{i}")
        inits[f"shape{i}"] = np.array([0, 8, -1], np.int64)
        nodes.extend([
            oh.make_node("Concat", [conv(x, 8, 4, f"box{i}"), conv(x, 8, 4, f"cls{i}")],
                         [f"h{i}"], name=f"/head/Concat_{i}", axis=1),
            oh.make_node("Reshape", [f"h{i}", f"shape{i}"], [f"r{i}"],
                         name=f"/head/Reshape_{i}")])
        heads.append(f"r{i}")
    inits["hsplit"] = np.array([4, 4], np.int64)
    nodes.extend([
        oh.make_node("Concat", heads, ["all"], name="/head/Concat", axis=2),
        oh.make_node("Split", ["all", "hsplit"], ["boxes", "scores"], name="/head/Split",
                     axis=1),
        oh.make_node("Sigmoid", ["scores"], ["probs"], name="/head/Sigmoid"),
        oh.make_node("Concat", ["boxes", "probs"], ["output0"], name="/head/Concat_out",
                     axis=1)])
    graph = oh.make_graph(
        nodes, "yolo", [oh.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 3, 64, 64])],
        [oh.make_tensor_value_info("output0", TensorProto.FLOAT, None)],
        [nh.from_array(v, k) for k, v in inits.items()])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]),
              folder / "yolo.onnx")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every spec above built once; returns the records folder."""
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    root = tmp_path_factory.mktemp("findings")
    w8 = _f32(8, 8)
    _model(root, "topk", [oh.make_node("MatMul", ["x", "w"], ["a"], name="mm0"),
                          oh.make_node("TopK", ["a", "k"], ["v", "i"], name="topk0", axis=1),
                          oh.make_node("MatMul", ["v", "w2"], ["y"], name="mm1")],
           {"w": w8, "k": np.array([4], np.int64), "w2": _f32(4, 8)}, ["n", 8])
    _model(root, "clamp", [oh.make_node("MatMul", ["x", "w"], ["y"], name="mm0")],
           {"w": w8 * 1e6}, ["n", 8])
    _model(root, "conv", [oh.make_node("Conv", ["x", "cw"], ["a"], name="conv0",
                                       pads=[1, 1, 1, 1]),
                          oh.make_node("Relu", ["a"], ["b"], name="relu0"),
                          oh.make_node("Softmax", ["b"], ["y"], name="softmax0", axis=1)],
           {"cw": _f32(8, 3, 3, 3)}, ["n", 3, 16, 16])
    np.savez(root / "conv_calib.npz", x=_f32(16, 3, 16, 16))
    _model(root, "deconv", [oh.make_node("Conv", ["x", "w"], ["a"], name="conv1d", pads=[1, 1]),
                            oh.make_node("ConvTranspose", ["a", "wt"], ["y"], name="deconv")],
           {"w": _f32(8, 4, 3), "wt": _f32(8, 4, 3)}, ["n", 4, 16])
    np.savez(root / "deconv_calib.npz", x=_f32(8, 4, 16))
    _model(root, "deconv_only", [oh.make_node("ConvTranspose", ["x", "wt"], ["y"],
                                              name="deconv")],
           {"wt": _f32(8, 4, 3)}, ["n", 8, 16])
    np.savez(root / "deconv_only_calib.npz", x=_f32(8, 8, 16))
    _yolo(root)
    for name, text in SPECS.items():
        write(root, name, text)
    paths = OutputPaths(out=root / "build", records=root / "records")
    result = build_all(sorted(root.glob("*.yaml")), paths)
    assert {o.status for o in result.outcomes} == {"built"}, result.outcomes
    return root / "records"


def _of(records: Path, name: str, kind: str) -> list:
    record = read_record(records / f"{name}.json")
    return [f for f in record.findings or () if f.kind == kind]


# --------------------------------------------------------------------------------------------
# One finding kind per small model
# --------------------------------------------------------------------------------------------
def test_an_op_the_fp16_converter_keeps_in_fp32_is_an_fp32_island(built: Path) -> None:
    (f,) = _of(built, "topk-fp16", "precision-island")
    assert (f.severity, f.numbers["layers"], f.numbers["of_layers"]) == ("warning", 2, 5)
    assert f.what == ("2 of 5 layers compute in fp32 in this fp16 engine (ONNX ops the fp16 "
                      "converter keeps in fp32: TopK)")
    assert "__myl_CastTopk_myl0_3" in f.layers
    assert {"a_cast_to_fp32_node", "topk0"} <= set(f.onnx_nodes)
    assert f.onnx_ops == ("TopK",)


def test_int8_layers_outside_the_quantized_ops_are_fp32_islands_for_information(
        built: Path) -> None:
    (f,) = _of(built, "deconv-int8", "precision-island")
    assert f.severity == "info"
    assert "deconv_myl0_5" in f.layers and "deconv" in f.onnx_nodes
    assert f.what.endswith("run in fp32 in this int8 engine (ONNX ops: ConvTranspose)")


def test_a_cast_in_the_graph_is_a_cast_layer(built: Path) -> None:
    (f,) = _of(built, "topk-fp16", "reformat-cast")
    assert f.what == "1 reformat/cast layer of 5 (20.0%): 1 cast, 0 reformat"
    assert (f.severity, f.layers, f.onnx_nodes, f.onnx_ops) == (
        "info", ("__myl_Cast_myl0_1",), ("graph_input_cast0",), ("Cast",))
    assert "keep_io_types" in f.fix


def test_layout_moves_are_reformat_layers(built: Path) -> None:
    (f,) = _of(built, "conv-fp32", "reformat-cast")
    assert f.layers == ("__myl_Move_myl0_1", "__myl_Move_myl0_4")
    assert (f.numbers["reformats"], f.numbers["casts"], f.severity) == (2, 0, "info")


def test_a_detectors_own_split_concat_reshape_is_not_a_reformat(built: Path) -> None:
    """Issue 24: Myelin kernels that implement the model's own Split/Concat/Reshape
    (``__myl_Slic…``, ``__myl_SlicConc…``, ``__myl_ConcResh…``) are not counted."""
    (f,) = _of(built, "yolo-fp32", "reformat-cast")
    assert f.what == ("1 reformat/cast layer of 28 (3.6%): 0 cast, 1 reformat; not counted: 6 "
                      "that implement the model's own Concat, Split")
    assert (f.severity, f.layers, f.onnx_nodes) == ("info", ("__myl_Move_myl0_1",), ())
    assert (f.numbers["layers"], f.numbers["model_moves"]) == (1, 6)
    assert "unknown" not in f.what and "--model" not in f.fix


def test_without_op_types_a_detectors_moves_are_counted_and_it_says_so(built: Path) -> None:
    record = read_record(built / "yolo-fp32.json")
    (f,) = [f for f in findings_from_record(record) if f.kind == "reformat-cast"]
    assert f.severity == "warning"  # 7 of 28: what the rule said before it read op types
    assert f.what == (
        "7 reformat/cast layers of 28 (25.0%): 0 cast, 7 reformat; counted, though they may "
        "be the model's own Split/Concat/Reshape: 6 whose ONNX nodes have unknown op types "
        "(the record was read without its model)")
    assert f.numbers["unknown_ops"] == 6
    assert f.fix.endswith("; build, or import with --model, so that trtdoc reads the op types "
                          "and leaves the model's own data movement out")


def test_reformat_time_share_from_a_real_trtexec_profile() -> None:
    from trtdoc.importer import record_from_trtexec

    folder = TREX / "fp16"
    record = record_from_trtexec("resnet-a100", folder / "resnet.onnx.engine.graph.json",
                                 folder / "resnet.onnx.engine.profile.json")
    (f,) = [f for f in record.findings or () if f.kind == "reformat-cast"]
    assert f.layers == ("Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1",
                        "Reformatting CopyNode for Output Tensor 0 to reshape_after_Gemm_48")
    assert (f.numbers["time_pct"], f.severity) == (8.7, "info")  # under the 10% of time
    assert f.what == ("2 reformat/cast layers of 36 (5.6%): 0 cast, 2 reformat; 0.08806 ms, "
                      "8.7% of the measured time")


def test_a_qdq_pair_whose_consumer_has_no_int8_kernel_did_not_fuse(built: Path) -> None:
    (f,) = _of(built, "conv-int8", "qdq-unfused")
    assert f.severity == "warning"
    assert f.what.startswith("1 of 2 Q/DQ pairs do not feed an int8 convolution or GEMM")
    assert f.onnx_nodes == ("a_QuantizeLinear", "a_DequantizeLinear")
    assert f.layers == ("__myl_MulMulMinMaxRounCastCastMulReluMaxrSubExpSumDiv_myl0_3",)


def test_int8_coverage_of_convolutions_and_gemms(built: Path) -> None:
    (full,) = _of(built, "conv-int8", "int8-coverage")
    assert (full.severity, full.what) == ("info", "the one convolution or GEMM layer runs in "
                                                  "int8")
    (part,) = _of(built, "deconv-int8", "int8-coverage")
    assert part.severity == "warning"
    assert part.what == ("1 of 2 convolution and GEMM layers run in int8 (50.0%); the others: "
                         "Float 1")
    assert (part.layers, part.onnx_nodes) == (("deconv_myl0_5",), ("deconv",))
    (none,) = _of(built, "deconv-only-int8", "int8-coverage")
    assert none.severity == "error"
    assert none.what.startswith("0 of 1 convolution and GEMM layers run in int8 (0.0%)")


def test_weights_clamped_to_the_fp16_range_are_a_build_warning(built: Path) -> None:
    (f,) = _of(built, "clamp-fp16", "build-warnings")
    assert f.severity == "warning"
    assert f.what.startswith("1 precision step warning: weights clamped to the fp16 range: "
                             "62 fp32 weight value(s) in 1 tensor(s) outside the fp16 range "
                             "were clamped")


def test_a_profile_max_far_beyond_opt(built: Path) -> None:
    (f,) = _of(built, "topk-fp16", "profile-range")
    assert (f.severity, f.tensors) == ("warning", ("x",))
    assert f.what == "profile 0: input 'x' max [256, 8] is 128× its opt [2, 8] in elements"
    assert not _of(built, "clamp-fp16", "profile-range")  # max 4 is 2× opt 2


def test_an_int8_engine_larger_than_its_fp32_variant(built: Path) -> None:
    (f,) = _of(built, "conv-int8", "larger-than-fp32")
    int8, fp32 = (read_record(built / f"conv-{p}.json") for p in ("int8", "fp32"))
    assert int8.engine_bytes > fp32.engine_bytes  # measured: 452,500 B against 439,164 B
    assert f.severity == "warning"
    assert f.what.startswith(f"the int8 engine is {int8.engine_bytes:,} B, "
                             f"{int8.engine_bytes / fp32.engine_bytes:.2f}× its fp32 variant "
                             f"conv-fp32 ({fp32.engine_bytes:,} B)")
    assert not _of(built, "conv-fp32", "larger-than-fp32")


def test_every_kind_is_triggered_by_a_build_here(built: Path) -> None:
    seen = {f.kind for p in built.glob("*.json") for f in read_record(p).findings or ()}
    # TensorRT-RTX 1.7.1 refuses to build an FP32 GEMM for sm75, so no build here makes a
    # turing-fp32-gemm finding: tests/test_hazards.py shows both the refusal and the finding.
    assert seen == set(KINDS) - {"turing-fp32-gemm"}


# --------------------------------------------------------------------------------------------
# The shipped builds of real models
# --------------------------------------------------------------------------------------------
def _shipped(name: str, kind: str) -> list:
    record = read_record(REPO / "records" / f"{name}.json")
    assert record.findings is not None, f"records/{name}.json was written without findings"
    return [f for f in record.findings if f.kind == kind]


def test_magika_int8_real_layers_and_nodes() -> None:
    (qdq,) = _shipped("magika-int8", "qdq-unfused")
    assert qdq.what.startswith("3 of 6 Q/DQ pairs")
    prefix = "jax2tf_get_logits_/pjit_get_logits_/MagikaV2/"
    assert {prefix + "Conv_0/Conv2D:0_QuantizeLinear", prefix + "Conv_0/Conv2D:0_DequantizeLinear",
            prefix + "Dense_1/AddV2:0_QuantizeLinear"} <= set(qdq.onnx_nodes)
    (island,) = _shipped("magika-int8", "precision-island")
    assert (island.numbers["layers"], island.numbers["of_layers"]) == (7, 14)  # README: Float 7
    assert "Tanh" in island.onnx_ops and "Gemm" not in island.onnx_ops
    (coverage,) = _shipped("magika-int8", "int8-coverage")
    assert coverage.what == "all 3 convolution and GEMM layers run in int8"
    assert prefix + "Conv_0/Conv2D_myl0_6" in coverage.layers


def test_magika_fp16_layer_norms_keep_max_in_fp32() -> None:
    (island,) = _shipped("magika-fp16", "precision-island")
    assert island.onnx_ops == ("Max",)
    assert "jax2tf_get_logits_/pjit_get_logits_/MagikaV2/LayerNorm_0/Sub:0_cast_to_fp32_node" \
        in island.onnx_nodes
    assert len(island.layers) == 3


@pytest.mark.parametrize("keep", [
    {"ops": ("Max",)},
    {"nodes": tuple(f"jax2tf_get_logits_/pjit_get_logits_/{n}Maximum" for n in (
        "MagikaV2/LayerNorm_0/", "MagikaV2/LayerNorm_1/", ""))}])
def test_ops_the_spec_keeps_in_fp32_are_not_blamed(keep: dict) -> None:
    """magika-fp16 built with ``keep_fp32`` naming its Max ops (or their nodes): the island is
    what the spec asked for, stated as info with no advice to rewrite the ops."""
    from trtdoc.model import model_facts_from_onnx
    from trtdoc.spec.types import KeepFp32

    record = read_record(REPO / "records" / "magika-fp16.json")
    record = dataclasses.replace(record, spec=dataclasses.replace(
        record.spec, keep_fp32=KeepFp32(**keep)))
    model = model_facts_from_onnx(REPO / "models" / "magika_standard_v3_3.onnx")
    (island,) = [f for f in findings_from_record(record, model=model)
                 if f.kind == "precision-island"]
    assert (island.severity, island.onnx_ops, len(island.layers)) == ("info", ("Max",), 3)
    assert island.what == ("3 of 14 layers compute in fp32 in this fp16 engine (ONNX ops the "
                           "spec's keep_fp32 keeps in fp32: Max ×3)")
    assert island.fix == "nothing: this is what the spec's keep_fp32 asks for"
    assert "rewrite" not in island.line("magika-fp16")


def test_mobilenet_fp16_input_cast_and_transpose() -> None:
    (moves,) = _shipped("mobilenet-v2-fp16", "reformat-cast")
    assert moves.layers == ("__myl_CastReplConc_myl0_1", "__myl_Tran_myl0_54")
    assert moves.what == "2 reformat/cast layers of 57 (3.5%): 1 cast, 1 reformat"
    # The converter's input cast is a Cast by its name even without the model's op types.
    record = read_record(REPO / "records" / "mobilenet-v2-fp16.json")
    (fresh,) = [f for f in findings_from_record(record) if f.kind == "reformat-cast"]
    assert (fresh.what, fresh.layers) == (moves.what, moves.layers)
    (clamped,) = _shipped("mobilenet-v2-fp16", "build-warnings")
    assert "outside the fp16 range were clamped" in clamped.what


def test_mobilenet_int8_is_larger_than_its_fp32_plan(tmp_path: Path) -> None:
    """Issue 14's example, built for real: the small mobilenet_v2's int8 plan outweighs fp32."""
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    np.savez(tmp_path / "calib.npz", input=_f32(8, 3, 224, 224))
    spec = write(tmp_path, "mobilenet.yaml", f"""
        name: mobilenet
        model: {MODELS / "mobilenet_v2_035.onnx"}
        backend: tensorrt-rtx
        calibration: {{data: calib.npz, batches: 2}}
        profiles:
          - input: {{min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}}
        targets: [sm89]
        variants:
          precision: [fp32, int8]
    """)
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    assert {o.status for o in build_all([spec], paths).outcomes} == {"built"}
    int8 = read_record(paths.record("mobilenet-int8"))
    (f,) = [f for f in int8.findings or () if f.kind == "larger-than-fp32"]
    assert 1.2 < f.numbers["ratio"] < 1.5  # measured: 9,524,604 B against 7,216,940 B, 1.32×
    assert f.what.startswith("the int8 engine is ") and "its fp32 variant mobilenet-fp32" in f.what
    assert "; weights " in f.what  # 0.27× the fp32 weights: the kernels outweigh the saving


def test_magika_fp16_keeps_its_real_reformat() -> None:
    (moves,) = _shipped("magika-fp16", "reformat-cast")
    assert moves.layers == ("__myl_MoveReplConc_myl0_2",)  # Myelin names the Einsum beside it
    assert moves.what == "1 reformat/cast layer of 14 (7.1%): 0 cast, 1 reformat"


@pytest.mark.parametrize("name, model", [("magika-fp32", "magika_standard_v3_3.onnx"),
                                         ("mobilenet-v2-fp32", "mobilenet_v2_035.onnx"),
                                         ("bert-tiny", "bert_tiny.onnx")])
def test_shipped_fp32_findings_are_what_the_model_op_types_give(name: str, model: str) -> None:
    """An fp32 build's model is the spec's, so these are computed exactly as the build did."""
    from trtdoc.model import model_facts_from_onnx

    record = read_record(REPO / "records" / f"{name}.json")
    facts = model_facts_from_onnx(REPO / "models" / model)
    assert findings_from_record(record, model=facts) == record.findings


def test_bert_int64_input_warnings_are_grouped_into_one_finding() -> None:
    (f,) = _shipped("bert-tiny", "build-warnings")
    assert (f.severity, f.numbers["warnings"]) == ("info", 2)
    assert f.what == ("2 build log warnings: int64 inputs kept as int64: ModelImporter.cpp:1071: "
                      "Make sure input attention_mask has Int64 binding. (and 1 more)")


def test_shipped_records_hold_what_findings_compute_now() -> None:
    """The stored findings are what this trtdoc computes (rebuild with --force if not).

    Computed here from the record alone: only the op types (read from the built model) and
    the fp32-island text that names them can differ, so those are left out of the compare."""
    records = [read_record(p) for p in sorted((REPO / "records").glob("*.json"))]

    def comparable(f: object) -> dict:
        d = encode(f)
        d.pop("onnx_ops")
        if d["kind"] == "precision-island":
            d["what"] = d["what"].split(" (ONNX ops")[0]
        if d["kind"] == "reformat-cast":  # nodes of unknown op type are counted, and said
            d["what"] = re.sub(r"; counted, though they may be the model's own .*", "",
                               d["what"])
            d["fix"] = d["fix"].split("; build, or import with --model")[0]
            d["numbers"].pop("unknown_ops", None)
        return d

    for record in records:
        assert current_findings(record, fp32_variant(record, records))[1] == (), record.name
        fresh = findings_from_record(record, fp32=fp32_variant(record, records))
        assert [comparable(f) for f in fresh] == [comparable(f) for f in record.findings or ()], (
            f"records/{record.name}.json: stored findings differ from what trtdoc computes; "
            "run `trtdoc build specs/ --deploy deploy.yaml --force`")


# --------------------------------------------------------------------------------------------
# Records without findings, and an fp32 variant rebuilt later
# --------------------------------------------------------------------------------------------
def test_a_record_written_before_findings_is_computed_and_says_so() -> None:
    data = json.loads((REPO / "records" / "magika-int8.json").read_text())
    del data["findings"]
    record = record_from_json(json.dumps(data))
    assert record.findings is None
    assert '"findings": null' in dumps(record)  # not [], which would claim "none found"
    found, notes = current_findings(record)
    assert notes == ("computed now: this record was written before trtdoc stored findings "
                     "(`trtdoc build --force`, or `trtdoc import` again, stores them)",)
    assert {f.kind for f in found} == {"qdq-unfused", "precision-island", "reformat-cast",
                                       "int8-coverage"}


def test_the_size_against_fp32_follows_the_fp32_record_as_it_is(built: Path) -> None:
    int8, fp32 = (read_record(built / f"conv-{p}.json") for p in ("int8", "fp32"))
    assert current_findings(int8, fp32)[1] == ()
    bigger = dataclasses.replace(fp32, engine_bytes=10 * int8.engine_bytes)
    found, notes = current_findings(int8, bigger)
    assert "larger-than-fp32" not in {f.kind for f in found}
    assert notes == ("the size against conv-fp32 was computed again: conv-fp32 changed (or "
                     "appeared, or went) since this record was built",)


def test_findings_need_no_model() -> None:
    record = read_record(REPO / "records" / "magika-int8.json")
    kinds = {f.kind for f in findings_from_record(record)}
    assert kinds == {f.kind for f in record.findings or ()}


# --------------------------------------------------------------------------------------------
# trtdoc lint
# --------------------------------------------------------------------------------------------
def _lint(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def test_lint_prints_one_line_per_finding(built: Path) -> None:
    code, out, err = _lint(str(built / "topk-fp16.json"))
    assert code == 0
    assert out.splitlines()[0] == (
        "topk-fp16: warning: 2 of 5 layers compute in fp32 in this fp16 engine (ONNX ops the "
        "fp16 converter keeps in fp32: TopK) — layers __myl_CastTopk_myl0_3, "
        "__myl_CastSlicSlicSlicSlicMulMulMulMulAddAddAddCast_myl0_4; ONNX nodes "
        "a_cast_to_fp32_node, topk0, v_cast_to_fp16_node (+2 more); try: the fp16 converter "
        "keeps ops it cannot convert safely (Max, Min, TopK, Range, ...) in fp32 and casts "
        "around them; rewrite those ops in the model (for example a Relu or Clip for a Max "
        "with a constant), or keep them if their time is small")
    # Three findings, then the accuracy figures per output, as the page shows them.
    assert len(out.splitlines()) == 5
    assert out.splitlines()[3].startswith("topk-fp16: accuracy y: cosine ")
    assert out.splitlines()[3].endswith(" (smoke check on seeded random inputs)")
    assert out.splitlines()[-1] == ("3 finding(s) in 1 record(s): 0 error, 2 warning, 1 info "
                                    "(--fail-on error)")
    assert err == ""


def test_lint_fails_at_the_chosen_severity(built: Path) -> None:
    assert _lint(str(built / "topk-fp16.json"))[0] == 0
    assert _lint("--fail-on", "warning", str(built / "topk-fp16.json"))[0] == 1
    code, out, _ = _lint(str(built))  # a folder: deconv-only-int8 has an error
    assert code == 1
    assert out.count("deconv-only-int8: error: 0 of 1 convolution and GEMM layers") == 1


def test_lint_json(built: Path) -> None:
    code, out, _ = _lint("--format", "json", str(built / "conv-int8.json"))
    data = json.loads(out)
    assert code == 0 and [d["engine"] for d in data] == ["conv-int8"]
    assert data[0]["notes"] == []
    assert [f["kind"] for f in data[0]["findings"]] == [
        "qdq-unfused", "larger-than-fp32", "precision-island", "reformat-cast", "int8-coverage"]


def test_lint_says_when_it_computed_the_findings(tmp_path: Path) -> None:
    shutil.copy(REPO / "tests" / "data" / "records" / "bert-tiny.json", tmp_path)
    code, out, err = _lint(str(tmp_path))
    assert code == 0 and out.startswith("bert-tiny: warning: 8 reformat/cast layers of 36")
    assert err.splitlines()[0] == (
        "bert-tiny: note: computed now: this record was written before trtdoc stored "
        "findings (`trtdoc build --force`, or `trtdoc import` again, stores them)")


def test_lint_bad_paths_and_records_are_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, out, err = _lint(str(tmp_path / "broken.json"), str(tmp_path / "missing"))
    assert code == 1 and out == ("0 finding(s) in 0 record(s): 0 error, 0 warning, 0 info "
                                 "(--fail-on error)\n")
    lines = err.splitlines()
    assert lines[0] == (f"error: {tmp_path / 'missing'}: no such file or folder; name a record "
                        "file or a records folder")
    assert lines[1].startswith(f"error: {tmp_path / 'broken.json'}: not valid JSON")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _lint(str(empty))[2].splitlines()[0] == (
        f"error: {empty}: no records (*.json) in this folder; build first (`trtdoc build "
        "specs/`) or name another")


def test_the_page_shows_the_findings_near_the_top(built: Path, tmp_path: Path) -> None:
    from trtdoc.render.write import render_site

    records = [read_record(p) for p in sorted(built.glob("*.json"))]
    render_site(records, tmp_path)
    page = (tmp_path / "engines" / "deconv-only-int8.md").read_text()
    assert page.index('!!! failure "Findings: 1 error') < page.index("## Parameters")
    assert ("    - **error**: 0 of 1 convolution and GEMM layers run in int8 (0.0%); the "
            "others: Float 1. Layers: `deconv_myl0_3`. ONNX nodes: `deconv`.") in page
    info_only = (tmp_path / "engines" / "conv-fp32.md").read_text()
    assert '??? info "Findings: 1 info"' in info_only  # folded when there is nothing worse


def test_reformats_past_a_tenth_of_the_measured_time_are_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from trtdoc.findings import rules as findings
    from trtdoc.importer import record_from_trtexec

    folder = TREX / "fp16"
    record = record_from_trtexec("resnet-a100", folder / "resnet.onnx.engine.graph.json",
                                 folder / "resnet.onnx.engine.profile.json")
    monkeypatch.setattr(findings, "RESHAPE_TIME_WARNING", 0.08)  # 8.7% is then past it
    (f,) = [f for f in findings_from_record(record) if f.kind == "reformat-cast"]
    assert f.severity == "warning"


def test_an_inspection_of_every_profile_counts_one_copy_of_the_graph() -> None:
    record = read_record(REPO / "records" / "bert-tiny.json")
    layers = record.inspection.layers
    both = dataclasses.replace(record.inspection, optimization_profile=None, layers=(
        *layers, *(dataclasses.replace(la, profile=1) for la in layers)))
    (f,) = [f for f in findings_from_record(dataclasses.replace(record, inspection=both))
            if f.kind == "reformat-cast"]
    assert f.what.startswith("8 reformat/cast layers of 36 (22.2%)")


def test_hostile_names_stay_on_one_line_in_lint(tmp_path: Path) -> None:
    record = read_record(REPO / "tests" / "data" / "records" / "hostile-names.json")
    # Reformat layers (by type) whose names and fused nodes hold a newline and a terminal
    # escape: a line must not be split, nor print a fake "error:" line in colour.
    layers = tuple(dataclasses.replace(la, name=f"{la.name}\n\x1b[31mfake: error: x",
                                       type="Reformat", fused=(*la.fused, "evil\nnode"))
                   for la in record.inspection.layers)
    record = dataclasses.replace(record, inspection=dataclasses.replace(
        record.inspection, layers=layers), warnings=("two\nlines",))
    record = dataclasses.replace(record, findings=findings_from_record(record))
    (tmp_path / "hostile-names.json").write_text(dumps(record), encoding="utf-8")
    code, out, _ = _lint(str(tmp_path))
    *lines, summary = out.splitlines()
    assert summary.startswith("2 finding(s) in 1 record(s)")
    assert code == 0 and len(lines) == len(record.findings or ()) == 2
    assert all(line.startswith("hostile-names: ") for line in lines)
    assert "\\x1b[31mfake: error: x" in out and "\x1b" not in out


def test_lint_of_the_most_findings_a_record_may_hold(tmp_path: Path, monkeypatch) -> None:
    # 5,000 findings took 11.8 s: rich's cost is per print call, and lint printed each finding
    # alone. The count of calls is the check (no timings in tests): one per record.
    import rich.console

    from trtdoc.spec.limits import MAX_FINDINGS

    data = json.loads((REPO / "records" / "bert-tiny.json").read_text(encoding="utf-8"))
    first = data["findings"][0]
    data["findings"] = [dict(first, what=f"finding {i}") for i in range(MAX_FINDINGS)]
    (tmp_path / "bert-tiny.json").write_text(json.dumps(data), encoding="utf-8")
    calls = []
    real = rich.console.Console.print

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(rich.console.Console, "print", counted)
    code, out, _ = _lint(str(tmp_path / "bert-tiny.json"))
    assert code == 0
    assert len(out.splitlines()) == MAX_FINDINGS + 1
    assert len(calls) <= 3
    # One more is refused in one line, before any is printed.
    data["findings"].append(first)
    (tmp_path / "bert-tiny.json").write_text(json.dumps(data), encoding="utf-8")
    code, out, err = _lint(str(tmp_path / "bert-tiny.json"))
    assert code == 1
    assert err == (f"error: {tmp_path / 'bert-tiny.json'}: findings: expected a list of at most "
                   "1,000 items, got a list; rebuild it with `trtdoc build --force`\n")

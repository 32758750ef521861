"""Cost per layer (trtdoc.cost): each rule against values worked out by hand, TREx's real A100
exports (the judged Conv_0 figure, coverage, and the lower bound against measured times), a
real TensorRT-RTX build of mobilenet_v2, and the page's per-layer estimate.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TREX

from trtdoc.cost.bound import LABEL, engine_bound, layer_bound
from trtdoc.cost.gpus import PEAKS, peaks_named
from trtdoc.cost.rules import KIND_OF_TYPE, RULES, kind_of, layer_cost
from trtdoc.inspect.trtexec import inspection_from_trtexec
from trtdoc.inspect.types import Layer, LayerCost, TensorDesc


def t(dims: tuple[int, ...], dtype: str = "Half", name: str = "t") -> TensorDesc:
    return TensorDesc(name, dims, dtype, "")


def layer(type_: str, ins: list[TensorDesc], outs: list[TensorDesc],
          consts: tuple[TensorDesc, ...] = ()) -> Layer:
    return Layer("l", type_, tuple(ins), tuple(outs), "", (), "Half", constants=consts)


# ---- one test per rule, against figures worked out by hand ----------------------------------
def test_convolution_counts_two_flops_per_multiply_add() -> None:
    # 3→64 channels, 7×7, batch 32, 112×112 out: 2·32·64·112·112·3·7·7 = 7,552,892,928.
    conv = layer("CaskConvolution", [t((32, 3, 224, 224))], [t((32, 64, 112, 112))],
                 (t((9408,), name="Weights"), t((64,), name="Bias")))
    cost = layer_cost(conv)
    assert cost == LayerCost(flops=7_552_892_928,
                             bytes=2 * (32 * 3 * 224 * 224 + 9408 + 64 + 32 * 64 * 112 * 112))


def test_convolution_from_its_parameters_when_the_weights_are_not_listed() -> None:
    # Depthwise 3×3 over 16 channels (groups 16): weights 16·1·9 = 144; out 1×16×8×8.
    conv = layer("Convolution", [t((1, 16, 8, 8))], [t((1, 16, 8, 8))])
    cost = layer_cost(conv, {"Kernel": [3, 3], "OutMaps": 16, "Groups": 16})
    assert cost is not None and cost.flops == 2 * 1 * 16 * 8 * 8 * 9


def test_deconvolution_scatters_each_input_element() -> None:
    # 8→4 channels, 2×2, input 1×8×5×5: weights 8·4·2·2 = 128; 2·(8·5·5)·(4·2·2) = 6,400.
    deconv = layer("CaskDeconvolution", [t((1, 8, 5, 5))], [t((1, 4, 10, 10))],
                   (t((128,), name="Weights"),))
    assert layer_cost(deconv).flops == 6_400  # type: ignore[union-attr]


def test_matmul_gemm_and_fully_connected() -> None:
    # [256, 128] × [128, 384] (a fused QKV gemm of TensorRT-RTX): 2·256·384·128.
    gemm = layer("gemm", [t((256, 128), "Float")], [t((256, 384), "Float")],
                 (t((128, 384), "Float"),))
    assert layer_cost(gemm) == LayerCost(
        flops=2 * 256 * 384 * 128, bytes=4 * (256 * 128 + 128 * 384 + 256 * 384))
    # Batched, two inputs, A transposed: A is [4, 64, 10] (K = 64), out [4, 10, 12].
    mm = layer("MatrixMultiply", [t((4, 64, 10)), t((4, 64, 12))], [t((4, 10, 12))])
    assert layer_cost(mm, {"MatrixOpA": "kTRANSPOSE"}).flops == 2 * 4 * 10 * 12 * 64  # type: ignore[union-attr]
    # Fully connected: 512 → 1000 at batch 32: weights 512,000, 2·32·512,000.
    fc = layer("CaskFullyConnected", [t((32, 512, 1, 1))], [t((32, 1000, 1, 1))],
               (t((512_000,), name="Weights"),))
    assert layer_cost(fc).flops == 32_768_000  # type: ignore[union-attr]


def test_pooling_elementwise_scale_normalisation_reduce_softmax() -> None:
    pool = layer("CudaPooling", [t((32, 64, 112, 112))], [t((32, 64, 56, 56))])
    assert layer_cost(pool, {"WindowSize": [3, 3]}).flops == 32 * 64 * 56 * 56 * 9  # type: ignore[union-attr]
    gap = layer("CaskPooling", [t((32, 512, 7, 7))], [t((32, 512, 1, 1))])
    assert layer_cost(gap).flops == 32 * 512 * 49  # type: ignore[union-attr]
    x = [t((2, 3, 4))]
    assert layer_cost(layer("ElementWise", x + x, x)).flops == 24  # type: ignore[union-attr]
    assert layer_cost(layer("Activation", x, x)).flops == 24  # type: ignore[union-attr]
    assert layer_cost(layer("Scale", x, x)).flops == 48  # type: ignore[union-attr]
    assert layer_cost(layer("Normalization", x, x)).flops == 7 * 24  # type: ignore[union-attr]
    assert layer_cost(layer("Reduce", x, [t((2, 3))])).flops == 24  # type: ignore[union-attr]
    assert layer_cost(layer("Softmax", x, x)).flops == 5 * 24  # type: ignore[union-attr]


def test_copies_move_bytes_and_no_ops_nothing() -> None:
    # A reformat from fp32 to fp16 reads 4 and writes 2 bytes per element.
    reformat = layer("Reformat", [t((1, 3, 4, 4), "Float")], [t((1, 3, 4, 4), "Half")])
    assert layer_cost(reformat) == LayerCost(flops=0, bytes=48 * 6)
    assert layer_cost(layer("NoOp", [t((8,))], [t((8,))])) == LayerCost(flops=0, bytes=0)
    assert layer_cost(layer("shape_call", [], [])) == LayerCost(flops=0, bytes=0)


def test_no_rule_or_an_unresolved_dimension_is_unknown_never_zero() -> None:
    assert layer_cost(layer("kgen", [t((1, 8))], [t((1, 8))])) is None
    assert layer_cost(layer("PluginV2", [t((1, 8))], [t((1, 8))])) is None
    assert layer_cost(layer("ElementWise", [t((-1, 8))], [t((-1, 8))])) is None
    assert layer_cost(layer("ElementWise", [t((-1, 8))], [t((-1, 8))]),
                      resolve=lambda d: tuple(4 if x < 0 else x for x in d)) is not None


def test_every_kind_has_a_rule_and_parameter_type_wins() -> None:
    assert set(KIND_OF_TYPE.values()) == set(RULES)
    assert kind_of("CaskConvolution", {"ParameterType": "Convolution"}) == "convolution"
    assert kind_of("SomethingNew", {"ParameterType": "Pooling"}) == "pooling"


# ---- the judged figures on TREx's real A100 exports ----------------------------------------
def _trex(precision: str):  # type: ignore[no-untyped-def]
    folder = TREX / precision
    return inspection_from_trtexec(folder / "resnet.onnx.engine.graph.json",
                                   folder / "resnet.onnx.engine.profile.json")


def test_trex_fp16_conv_0_is_7_55_gflop_and_most_timed_layers_have_a_cost() -> None:
    inspection = _trex("fp16")
    conv = next(x for x in inspection.layers if x.name == "Conv_0 + Relu_1")
    assert conv.cost is not None and conv.cost.flops == 7_552_892_928
    timed = [x for x in inspection.layers if x.time_ms]
    assert len(timed) == 25
    assert sum(x.cost is not None for x in timed) >= 0.9 * len(timed)


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_a100_bound_stays_at_or_below_the_measured_time(precision: str) -> None:
    a100 = peaks_named("A100")
    assert a100 is not None and a100.bandwidth_gbs == 2039.0
    timed = [x for x in _trex(precision).layers if x.time_ms]
    below = [x for x in timed if (b := layer_bound(x, a100)) is not None
             and b.ms <= x.time_ms]  # type: ignore[operator]
    assert len(below) >= 0.95 * len(timed), [x.name for x in timed if x not in below]
    total = engine_bound(_trex(precision).layers, a100)
    assert 0 < total.ms <= sum(x.time_ms for x in timed)  # type: ignore[misc]


def test_fp32_convolutions_are_bounded_by_the_tf32_rate() -> None:
    # TensorRT allows TF32 for fp32 convolutions: TREx's fp32 Conv_3 took 0.1085 ms, less
    # than its FLOPs over the CUDA-core fp32 rate (7.4e9 / 19.5e12 = 0.379 ms).
    a100 = peaks_named("A100")
    assert a100 is not None and a100.rate("fp32") == 156e12
    conv = next(x for x in _trex("fp32").layers if x.name == "Conv_3 + Relu_4")
    assert conv.time_ms is not None and conv.cost is not None
    assert conv.cost.flops / 19.5e12 * 1e3 > conv.time_ms >= layer_bound(conv, a100).ms  # type: ignore[union-attr]


def test_every_peak_row_names_a_known_gpu_and_cites_a_datasheet() -> None:
    for row in PEAKS:
        assert peaks_named(row.model) is row
        assert row.source.startswith("https://")
    assert peaks_named("NVIDIA A100-SXM4-80GB") is peaks_named("A100")
    assert peaks_named("RTX 3090") is None and peaks_named("not a gpu") is None


def test_the_page_shows_the_per_layer_estimate_for_the_a100(tmp_path: Path) -> None:
    from trtdoc.importer import record_from_trtexec
    from trtdoc.render.engine_page import engine_context
    from trtdoc.render.environment import environment, render_template

    folder = TREX / "fp16"
    record = record_from_trtexec("resnet-a100", folder / "resnet.onnx.engine.graph.json",
                                 folder / "resnet.onnx.engine.profile.json")
    record = replace(record, host=replace(record.host, gpu="A100"))
    page = render_template(environment(), "engine.md.j2",
                           **engine_context(record)).decode()
    assert "## Cost and lower bound" in page
    assert "On the **A100 80GB SXM**" in page and LABEL in page
    row = next(line for line in page.splitlines() if line.endswith("  Conv_0 + Relu_1")
               and "7,552,892,928" in line)
    # 7.55e9 / 312e12 = 0.0242 ms < bytes 61,032,960 / 2,039e9 = 0.0299 ms: memory-bound.
    assert "0.029933" in row and "memory" in row and "0.111616" in row and "3.73" in row
    unnamed = render_template(environment(), "engine.md.j2",
                              **engine_context(replace(record, host=replace(
                                  record.host, gpu=None)))).decode()
    assert "no time bound is shown" in unnamed and "7,552,892,928" not in unnamed


def test_a_real_rtx_build_prices_its_layers_at_the_opt_shape(
        mobilenet_build: tuple[Path, Path]) -> None:
    from trtdoc.record.codec import record_from_json

    record = record_from_json(mobilenet_build[0].read_bytes())
    layers = record.inspection.layers
    assert sum(x.cost is not None for x in layers) >= 0.9 * len(layers)
    first = next(x for x in layers if x.type == "correlation")
    # Conv 3→16, 3×3, stride 2, at the opt batch 2 (the I/O's one dynamic value): output
    # 2×16×112×112, so 2·(2·16·112·112)·(3·3·3) = 21,676,032; the fused Clip (one FLOP per
    # output element, 401,408) is counted in this layer, not in the kgen that also lists it.
    assert first.cost is not None and first.cost.flops == 21_676_032 + 401_408


_PRICE_AGAIN = """
import json, sys
from dataclasses import replace
from pathlib import Path
from trtdoc.cost.layers import inspection_with_costs
from trtdoc.record.codec import record_from_json
record = record_from_json(Path(sys.argv[1]).read_bytes())
bare = replace(record.inspection, layers=tuple(replace(x, cost=None)
                                                for x in record.inspection.layers))
priced = inspection_with_costs(bare, Path(sys.argv[2]), cache=Path(sys.argv[3]))
print(json.dumps({"same": priced.layers == record.inspection.layers,
                  "onnx": "onnx" in sys.modules}))
"""


def test_a_rebuild_reads_the_models_shapes_back_without_onnx(
        mobilenet_build: tuple[Path, Path]) -> None:
    # The shapes at the opt shape cost a build 0.2 to 0.3 s (onnx imported, graph read,
    # shapes inferred); the build keeps them, and pricing the same model file again reads them.
    import json
    import os
    import subprocess
    import sys

    from conftest import MODELS, REPO

    record_file = mobilenet_build[0]
    model = MODELS / "mobilenet_v2_035.onnx"
    folder = record_file.parent.parent / "build" / "cache" / "model-shapes"
    kept = list(folder.glob("*.json"))
    assert len(kept) == 1

    def price() -> dict[str, bool]:
        proc = subprocess.run([sys.executable, "-c", _PRICE_AGAIN, str(record_file),
                               str(model), str(folder)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.splitlines()[-1])

    assert price() == {"same": True, "onnx": False}
    # A damaged cache is inferred again (the same costs), and written whole again.
    kept[0].write_text('{"key": [')
    assert price() == {"same": True, "onnx": True}
    assert price() == {"same": True, "onnx": False}
    # A FIFO in its place is not opened for reading (it would hang the build), but replaced.
    kept[0].unlink()
    os.mkfifo(kept[0])
    assert price() == {"same": True, "onnx": True}
    assert price() == {"same": True, "onnx": False}

"""Graph facts of an ONNX model before and after conversion: node counts, the precision mix
and the opset it declares."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from trtdoc.precision.recipe import QUANTIZED_OP_TYPES
from trtdoc.values import QUANTIZED, HalfPrecision

_QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})
# Nodes that move or re-type data without computing: not counted in the precision mix.
_PLUMBING_OPS = _QDQ_OPS | {"Cast", "Constant", "Identity"}
# ONNX element types: FLOAT, FLOAT16, DOUBLE, BFLOAT16, FLOAT8E4M3FN.
_FLOAT_TYPES = frozenset({1, 10, 11, 16, 17})
_LOW_TYPE: dict[HalfPrecision, int] = {"fp16": 10, "bf16": 16}


def _histogram(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def graph_summary(model: Path, precision: str) -> dict[str, Any]:
    """Node counts and the precision mix of ``model``, read with shape-inferred tensor types."""
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    try:
        # Types of intermediate tensors come from shape inference; data is not needed for it.
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - the mix is a best effort; counts below still hold
        inferred = proto
    graph = inferred.graph
    types: dict[str, int] = {}
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        types[vi.name] = vi.type.tensor_type.elem_type
    for init in graph.initializer:
        types[init.name] = init.data_type
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    types[node.output[0]] = a.t.data_type

    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    low: Counter[str] = Counter()
    fp32: Counter[str] = Counter()
    ops: Counter[str] = Counter()
    for node in graph.node:
        ops[node.op_type] += 1
        if node.op_type in _PLUMBING_OPS:
            continue
        out_types = {types.get(o, 0) for o in node.output}
        # Q/DQ around other ops only carry scales between quantized layers; TensorRT decides
        # whether to fuse them, and its layer table reports that per layer.
        quantized = (precision in QUANTIZED and node.op_type in QUANTIZED_OP_TYPES
                     and any(i in dq_outputs for i in node.input))
        if quantized or (precision in _LOW_TYPE and _LOW_TYPE[precision] in out_types):
            low[node.op_type] += 1
        elif 1 in out_types:
            fp32[node.op_type] += 1
    inits = {i.name for i in graph.initializer}
    untouched = tuple(sorted(vi.name for vi in graph.input if vi.name not in inits
                             and vi.type.tensor_type.elem_type not in _FLOAT_TYPES))
    return {
        "nodes": sum(ops.values()),
        "qdq": sum(ops[o] for o in _QDQ_OPS),
        "cast": ops["Cast"],
        "low_ops": _histogram(low),
        "fp32_ops": _histogram(fp32),
        "untouched": untouched,
    }


def opset_of(proto: Any) -> int:
    """The default-domain (ai.onnx) opset ``proto`` declares; 1 if it declares none."""
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)

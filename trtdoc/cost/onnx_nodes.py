"""FLOPs of ONNX nodes at the opt shape, for the Myelin fusions of engines built here.

TensorRT-RTX fuses ONNX nodes into generated kernels (``kgen``, ``runtime_fusion``) whose own
facts say little; their ``Metadata`` names the ONNX nodes they implement. With the model in
hand, its shapes are inferred with the inputs fixed at the opt shape, and each node's FLOPs
follow the same conventions as :mod:`trtdoc.cost.rules` (a multiply-add counts 2). An op
without a rule has ``None``: the layers that fuse it stay unknown.

Only the graph is read (``load_external_data=False``): weights are never loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trtdoc.cost.rules import NORMALIZATION_FLOPS_PER_ELEMENT, SOFTMAX_FLOPS_PER_ELEMENT

_KEEP_ELEMENTS = 1024  # initializers kept whole for shape inference (shape and axes tensors)
# Ops computing one value per output element.
_ELEMENTWISE = frozenset([
    "Add", "Sub", "Mul", "Div", "Relu", "Clip", "Sigmoid", "Tanh", "Erf", "Exp", "Log", "Sqrt",
    "Pow", "Neg", "Abs", "Max", "Min", "Mod", "LeakyRelu", "HardSigmoid", "HardSwish", "Where",
    "Not", "And", "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
    "Floor", "Ceil", "Round", "Reciprocal", "PRelu", "Elu", "Selu", "Softplus", "Softsign",
    "Mish", "Gelu", "Sign", "Cos", "Sin", "IsNaN", "Resize", "Upsample", "QuantizeLinear",
    "DequantizeLinear", "BitShift"])
# Ops that move or reinterpret data without arithmetic.
_NO_MATH = frozenset([
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather",
    "GatherElements", "GatherND", "Cast", "Identity", "Shape", "Size", "Constant", "Split",
    "Expand", "Pad", "Tile", "ConstantOfShape", "Range", "ScatterND", "ScatterElements",
    "DepthToSpace", "SpaceToDepth", "NonZero"])
_REDUCE = frozenset([
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSumExp", "ReduceSumSquare", "GlobalAveragePool", "GlobalMaxPool", "ArgMax",
    "ArgMin", "TopK"])
_NORMALIZATION = frozenset([
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization"])


@dataclass(frozen=True)
class NodeFacts:
    """One ONNX node at the opt shape."""

    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    flops: int | None


@dataclass(frozen=True)
class ModelShapes:
    """Every node's FLOPs and every tensor's (dims, element bytes) at the opt shape."""

    nodes: Mapping[str, NodeFacts]
    tensors: Mapping[str, tuple[tuple[int, ...], int]]  # dims (all known), bytes per element
    weights: frozenset[str] = frozenset()  # initializers and Constant outputs: never dynamic


def _elements(dims: tuple[int, ...] | None) -> int | None:
    return math.prod(dims) if dims is not None else None


def _node_flops(op: str, attrs: Mapping[str, object], ins: list[tuple[int, ...] | None],
                outs: list[tuple[int, ...] | None]) -> int | None:
    first_in = ins[0] if ins else None
    first_out = outs[0] if outs else None
    if op in _NO_MATH:
        return 0
    if op in ("Conv", "ConvTranspose"):
        w = ins[1] if len(ins) > 1 else None
        base = first_out if op == "Conv" else first_in
        if w is None or base is None:
            return None
        return 2 * math.prod(base) * math.prod(w[1:])
    if op in ("MatMul", "Gemm"):
        if first_in is None or first_out is None or not first_in:
            return None
        k = first_in[0] if op == "Gemm" and attrs.get("transA") and len(first_in) == 2 \
            else first_in[-1]
        return 2 * math.prod(first_out) * k
    if op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = attrs.get("kernel_shape")
        if first_out is None or not isinstance(kernel, list):
            return None
        return math.prod(first_out) * math.prod(kernel)
    if op == "BatchNormalization":
        return 2 * math.prod(first_out) if first_out is not None else None
    if op in _NORMALIZATION:
        return (NORMALIZATION_FLOPS_PER_ELEMENT * math.prod(first_in)
                if first_in is not None else None)
    if op in ("Softmax", "LogSoftmax"):
        return SOFTMAX_FLOPS_PER_ELEMENT * math.prod(first_in) if first_in is not None else None
    if op in _REDUCE:
        return _elements(first_in)
    if op in _ELEMENTWISE:
        return _elements(first_out)
    return None


def model_shapes(model: Path, opt: Mapping[str, tuple[int, ...]]) -> ModelShapes:
    """The nodes and tensors of ``model`` with its inputs at the ``opt`` shapes (input name →
    dims). Raises what onnx raises on a model it cannot read."""
    import onnx
    from onnx import helper, shape_inference

    m = onnx.load(str(model), load_external_data=False)
    # Shape inference copies the model; large weights are only dims to it (small ones, such as
    # Reshape's shape, it reads). Dropping their bytes took resnet18 from 2.4 s to 0.1 s.
    sizes: dict[str, tuple[tuple[int, ...], int]] = {}
    for init in m.graph.initializer:
        sizes[init.name] = (tuple(init.dims), _itemsize(init.data_type))
        if math.prod(init.dims) > _KEEP_ELEMENTS:
            stub = helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            m.graph.input.append(stub)
    big = [i for i in m.graph.initializer if math.prod(i.dims) > _KEEP_ELEMENTS]
    for init in big:
        m.graph.initializer.remove(init)
    for value in m.graph.input:
        dims = opt.get(value.name)
        if dims is None or not value.type.HasField("tensor_type"):
            continue
        shape = value.type.tensor_type.shape
        for d, n in zip(shape.dim, dims, strict=False):
            d.ClearField("dim_param")
            d.dim_value = int(n)
    m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    tensors: dict[str, tuple[tuple[int, ...], int]] = dict(sizes)
    for value in (*m.graph.input, *m.graph.value_info, *m.graph.output):
        t = value.type.tensor_type if value.type.HasField("tensor_type") else None
        if t is None or not t.HasField("shape"):
            continue
        if all(d.HasField("dim_value") for d in t.shape.dim):
            tensors[value.name] = (tuple(d.dim_value for d in t.shape.dim),
                                   _itemsize(t.elem_type))
    nodes: dict[str, NodeFacts] = {}
    for node in m.graph.node:
        if node.op_type == "Constant":
            for out in node.output:  # PaddlePaddle keeps weights in Constant nodes
                for a in node.attribute:
                    if a.name == "value":
                        tensors.setdefault(out, (tuple(a.t.dims),
                                                 _itemsize(a.t.data_type)))
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute
                 if a.name in ("kernel_shape", "transA")}
        ins = [tensors[n][0] if n in tensors else None for n in node.input]
        outs = [tensors[n][0] if n in tensors else None for n in node.output]
        nodes[node.name] = NodeFacts(node.op_type, tuple(node.input), tuple(node.output),
                                     _node_flops(node.op_type, attrs, ins, outs))
    weights = set(sizes) | {
        out for node in m.graph.node if node.op_type == "Constant" for out in node.output}
    return ModelShapes(nodes, tensors, frozenset(weights))


def _itemsize(elem_type: int) -> int:
    import numpy as np
    from onnx.helper import tensor_dtype_to_np_dtype

    try:
        return int(np.dtype(tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError):
        return 0  # unknown: the tensor's bytes are not known

"""Constant subgraphs of an ONNX model, folded into the weights they compute.

Exports often compute a weight from other weights: a Constant read through a Transpose, a
Cast of an int8 or fp16 Constant to float, a Reshape, Identity or Unsqueeze of one. A node
whose every input is a constant (an initializer, a Constant node's value, or the output of
another such node) computes a constant, which TensorRT folds when it builds. trtdoc folds it
too, with onnx's reference evaluator, so the parameter count, the weight bytes and the fp16
range check see the weights the engine holds: each constant subgraph's frontier (the tensors
a non-constant node or a graph output reads) in place of the leaves only that subgraph reads.
An Identity is a new name, not a new weight (PyTorch exports alias shared weights with one).

Not folded: Q/DQ nodes (an int8 weight and its scale are what the engine holds), random ops,
nodes with subgraphs or in other domains. Bounded: models whose file and external data pass
:data:`MAX_MODEL_BYTES`, or with more than :data:`MAX_FOLDED_NODES` constant nodes, are not
folded, and their weight facts are the initializers and Constant values alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_MODEL_BYTES = 512 * 1024 * 1024
MAX_FOLDED_NODES = 5000
NOT_FOLDED = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "RandomNormal",
    "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"})
_FLOATS = frozenset({1, 10, 11, 16})  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16


@dataclass(frozen=True)
class FoldedWeights:
    """``values``: each frontier tensor a folded node makes, by name; ``producers``: the node
    (name, op type) that makes it; ``absorbed``: the leaf constants only folded nodes read."""

    values: Mapping[str, np.ndarray] = field(default_factory=dict)
    producers: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    absorbed: frozenset[str] = frozenset()


def _leaves(graph: Any) -> dict[str, Any]:
    """Constant tensors by name: initializers and Constant nodes' ``value`` tensors."""
    leaves = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and node.output:
            for attr in node.attribute:
                if attr.name == "value":
                    leaves[node.output[0]] = attr.t
    return leaves


def constant_nodes(graph: Any) -> list[Any]:
    """The nodes of ``graph`` (top level, in order) whose every input is a constant."""
    known = set(_leaves(graph))
    out = []
    for node in graph.node:
        inputs = [i for i in node.input if i]
        if node.op_type == "Constant" or node.op_type in NOT_FOLDED or not inputs \
                or node.domain not in ("", "ai.onnx") \
                or any(a.HasField("g") or a.graphs for a in node.attribute) \
                or not all(i in known for i in inputs):
            continue
        out.append(node)
        known.update(o for o in node.output if o)
    return out


def fold_constants(model: Path, proto: Any | None = None) -> FoldedWeights | None:
    """The folded frontier of ``model``'s constant subgraphs; None when it has none, is past
    the bounds, or the reference evaluator cannot run them (then nothing is folded)."""
    import onnx
    from onnx import numpy_helper

    size = model.stat().st_size
    if size > MAX_MODEL_BYTES:
        return None
    if proto is None:
        proto = onnx.load(str(model), load_external_data=False)
    graph = proto.graph
    nodes = constant_nodes(graph)
    if not nodes or len(nodes) > MAX_FOLDED_NODES:
        return None
    leaves = _leaves(graph)
    external = [t for t in leaves.values()
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if external and size + sum(p.stat().st_size for p in model.parent.iterdir()
                               if p.is_file() and p != model) > MAX_MODEL_BYTES:
        return None
    folded = {o for n in nodes for o in n.output if o}
    # An Identity only renames (PyTorch exports alias a shared weight so): its output is the
    # tensor it reads, so whoever reads the output reads that tensor, and nothing new is made.
    alias: dict[str, str] = {}
    for n in nodes:
        if n.op_type == "Identity":
            alias[n.output[0]] = alias.get(n.input[0], n.input[0])
    readers: dict[str, set[str]] = {}  # tensor -> "folded" / "other" readers
    ids = {id(n) for n in nodes if n.op_type != "Identity"}
    for node in graph.node:
        if node.op_type == "Identity" and node.output and node.output[0] in alias:
            continue
        kind = "folded" if id(node) in ids else "other"
        for i in node.input:
            readers.setdefault(alias.get(i, i), set()).add(kind)
    outputs = {alias.get(o.name, o.name) for o in graph.output}
    frontier = sorted(t for t in folded - set(alias)
                      if "other" in readers.get(t, ()) or t in outputs)
    absorbed = frozenset(t for t in leaves if readers.get(t) == {"folded"}
                         and t not in outputs)
    if not frontier:
        return None
    needed = {i for n in nodes for i in n.input if i in leaves}
    sub = onnx.helper.make_graph(
        list(nodes), "constants", [],
        [onnx.helper.make_empty_tensor_value_info(t) for t in frontier],
        [_named(numpy_helper.to_array(leaves[t], base_dir=str(model.parent)), t)
         for t in sorted(needed)])
    folded_model = onnx.helper.make_model(sub, opset_imports=list(proto.opset_import),
                                          ir_version=proto.ir_version)
    try:
        from onnx.reference import ReferenceEvaluator

        values = ReferenceEvaluator(folded_model).run(frontier, {})
    except Exception:  # an op the evaluator lacks, or a bad model: weight facts as before
        return None
    by_output = {o: (n.name, n.op_type) for n in nodes for o in n.output}
    arrays: list[Any] = list(values)
    return FoldedWeights(values=dict(zip(frontier, arrays, strict=True)),
                         producers={t: by_output[t] for t in frontier}, absorbed=absorbed)


def _named(array: Any, name: str) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(array, name)


def _counted(tensor: Any, initializer: bool) -> tuple[int, int]:
    """Values and bytes trtdoc's model reader counts for a leaf: every initializer; a Constant's
    value when it is a float tensor (scalars included)."""
    import math

    import onnx

    count = math.prod(tensor.dims)
    if not initializer and (tensor.data_type not in _FLOATS or count < 1):
        return 0, 0
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
    return count, count * dtype.itemsize


def weight_change(model: Path) -> tuple[int, int] | None:
    """(values, bytes) to add to the count of initializers and Constant values of ``model`` for
    its folded constant subgraphs: the frontier's float tensors in, the leaves only they read
    out. None when nothing is folded."""
    import onnx

    try:
        proto = onnx.load(str(model), load_external_data=False)
        folded = fold_constants(model, proto)
    except Exception:  # the wire reader read it; anything onnx refuses is folded by no one
        return None
    if folded is None:
        return None
    initializers = {i.name for i in proto.graph.initializer}
    leaves = _leaves(proto.graph)
    values = size = 0
    for array in folded.values.values():
        if array.dtype.kind == "f" and array.size >= 1:
            values, size = values + array.size, size + array.nbytes
    for name in folded.absorbed:
        count, nbytes = _counted(leaves[name], name in initializers)
        values, size = values - count, size - nbytes
    return values, size

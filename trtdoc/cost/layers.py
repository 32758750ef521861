"""Every layer's cost: :func:`inspection_with_costs`.

Layers first get their cost from their own facts (:mod:`trtdoc.cost.rules`), with dynamic
dimensions (-1) resolved at the opt shape: a tensor takes the shape of a same-rank ONNX tensor
of the nodes the layer fuses (shapes inferred with the inputs at the engine's opt shape) whose
fixed dimensions agree. A -1 is never taken to be the batch: Myelin flattens axes (a
``[-1, 258]`` tensor there is batch × 2,048 rows), so a guess would be wrong by that factor.

Myelin fusions (``kgen``, ``runtime_fusion``, ``ForeignNode``), which have no rule of their
own, sum the FLOPs of the ONNX nodes they fuse (:mod:`trtdoc.cost.onnx_nodes`), each node
counted in one layer only: the one whose rule computes it (a convolution layer for a ``Conv``)
where there is one, else the last that lists it. A layer whose dimensions cannot be resolved
is priced the same way. Their bytes are their own tensors',
else the bytes crossing the fusion's boundary. What cannot be worked out stays ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from trtdoc.cost.onnx_nodes import ModelShapes
from trtdoc.cost.rules import RULES, facts_of, kind_of, layer_cost, tensor_bytes
from trtdoc.cost.shapes_cache import cached_model_shapes
from trtdoc.inspect.types import Inspection, Layer, LayerCost

# The ONNX ops a layer kind computes itself (its node is counted in that layer).
_OWN_OPS = {"convolution": {"Conv"}, "deconvolution": {"ConvTranspose"},
            "matmul": {"MatMul", "Gemm"}, "fully-connected": {"Gemm", "MatMul"}}


def opt_shapes(inspection: Inspection) -> dict[str, tuple[int, ...]]:
    """Input name → its opt dims in the listed optimisation profile (profile 0 for all)."""
    index = inspection.optimization_profile or 0
    out = {}
    for t in inspection.io:
        if t.mode == "Input" and len(t.profiles) > index:
            out[t.name] = tuple(t.profiles[index].opt)
    return out


def inspection_with_costs(inspection: Inspection, model: Path | None = None,
                          cache: Path | None = None) -> Inspection:
    """``inspection`` with a cost on every layer a rule (or the fused ONNX nodes) can price.

    ``model`` is the ONNX model the engine was built from, where trtdoc has it; a model onnx
    cannot read is passed over (the fusions it would have priced stay unknown). ``cache``: the
    folder keeping the model's shapes between builds (:mod:`trtdoc.cost.shapes_cache`).
    """
    opt = opt_shapes(inspection)
    shapes: ModelShapes | None = None
    if model is not None and inspection.layers:
        try:
            shapes = cached_model_shapes(model, opt, cache)
        except Exception:  # noqa: BLE001 - a model onnx cannot read only leaves costs unknown
            shapes = None
    owner = _owners(inspection.layers, shapes) if shapes is not None else {}
    layers = []
    for i, layer in enumerate(inspection.layers):
        cost = layer.cost if layer.cost is not None else _cost(i, layer, shapes, owner)
        layers.append(layer if cost is layer.cost else replace(layer, cost=cost))
    return replace(inspection, layers=tuple(layers))


def _owners(layers: Sequence[Layer], shapes: ModelShapes) -> dict[str, int]:
    """ONNX node name → the index of the one layer its FLOPs are counted in."""
    owner: dict[str, int] = {}
    strong: set[str] = set()
    for i, layer in enumerate(layers):
        own = _OWN_OPS.get(kind_of(layer.type) or "", set())
        for name in layer.fused:
            node = shapes.nodes.get(name)
            if node is not None and node.op in own:
                owner[name] = i
                strong.add(name)
            elif name not in strong:
                owner[name] = i
    return owner


def _cost(i: int, layer: Layer, shapes: ModelShapes | None,
          owner: Mapping[str, int]) -> LayerCost | None:
    resolve = _resolver(layer, shapes)
    kind = kind_of(layer.type)
    if kind is not None:
        own = layer_cost(layer, resolve=resolve)
        if own is not None and shapes is not None and RULES[kind][1]:
            # The layer's rule prices its main op; fused activations and adds it owns add on.
            extra = _node_flops(layer, shapes, owner, i, skip=_OWN_OPS.get(kind, set()))
            return LayerCost(flops=own.flops + (extra or 0), bytes=own.bytes)
        if own is not None or not RULES[kind][1]:
            return own
        # Dimensions the engine flattened ([-1, 128] for batch × sequence): its ONNX nodes.
    if shapes is None or not layer.fused:
        return None  # a fusion without its ONNX nodes, or a type no rule knows
    flops = _node_flops(layer, shapes, owner, i)
    if flops is None:
        return None
    facts = facts_of(layer, resolve=resolve)
    moved = (tensor_bytes(facts.inputs + facts.constants + facts.outputs)
             if facts is not None else None)
    if moved is None:
        moved = _boundary_bytes(layer, shapes)
    return LayerCost(flops=flops, bytes=moved) if moved is not None else None


def _node_flops(layer: Layer, shapes: ModelShapes, owner: Mapping[str, int], i: int,
                skip: set[str] | frozenset[str] = frozenset()) -> int | None:
    total = 0
    for name in layer.fused:
        node = shapes.nodes.get(name)
        if node is None or owner.get(name) != i or node.op in skip:
            continue  # not a node of the model (a cast TensorRT added), or counted elsewhere
        if node.flops is None:
            return None
        total += node.flops
    return total


def _boundary_bytes(layer: Layer, shapes: ModelShapes) -> int | None:
    """Bytes of the ONNX tensors crossing the fusion: read from outside, or used outside."""
    nodes = [shapes.nodes[n] for n in layer.fused if n in shapes.nodes]
    made = {t for n in nodes for t in n.outputs}
    used = {t for n in nodes for t in n.inputs}
    consumed_elsewhere = {t for name, n in shapes.nodes.items() if name not in layer.fused
                          for t in n.inputs}
    crossing = (used - made) | {t for t in made if t in consumed_elsewhere or t not in used}
    total = 0
    for t in crossing:
        if not t:
            continue  # an omitted optional input
        found = shapes.tensors.get(t)
        if found is None or found[1] == 0:
            return None
        dims, size = found
        n = 1
        for d in dims:
            n *= d
        total += n * size
    return total


def _resolver(layer: Layer, shapes: ModelShapes | None
              ) -> Callable[[tuple[int, ...]], tuple[int, ...] | None]:
    candidates: list[tuple[int, ...]] = []
    if shapes is not None:
        for name in layer.fused:
            node = shapes.nodes.get(name)
            if node is not None:
                # weights are never the dynamic tensor a -1 stands in
                candidates += [shapes.tensors[t][0] for t in (*node.inputs, *node.outputs)
                               if t in shapes.tensors and t not in shapes.weights]

    def resolve(dims: tuple[int, ...]) -> tuple[int, ...] | None:
        for c in candidates:
            if len(c) == len(dims) and all(d < 0 or d == e for d, e in zip(dims, c,
                                                                           strict=True)):
                return c
        return None

    return resolve

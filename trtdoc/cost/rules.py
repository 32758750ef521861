"""The registry of per-layer cost rules: FLOPs and bytes of one engine layer from its own facts.

A rule reads a layer's type, its parameters (the inspector JSON's type-specific keys: ``Kernel``,
``WindowSize``, ``Weights``...), the dimensions of its tensors at the opt shape and their types.
A multiply-add counts 2 FLOPs. Bytes are every input, weight and output read or written once
(a lower bound on traffic: caches and re-reads are not modelled). A layer type without a rule,
or a dimension that cannot be resolved, gives ``None`` ("unknown"), never 0.

Which rule a layer gets is :func:`kind_of`: its ``ParameterType`` (inspector JSON) where given,
else its ``LayerType``, looked up in ``KIND_OF_TYPE`` without case. The rules themselves are
``RULES`` (kind → function); each one is tested against values worked out by hand in
``tests/test_cost_rules.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc.inspect.types import Layer, LayerCost

# Bits per element of each TensorRT DataType name (trtdoc.inspect.types.DTYPES).
DTYPE_BITS = {"Float": 32, "Half": 16, "BFloat16": 16, "Int8": 8, "FP8": 8, "Int32": 32,
              "Int64": 64, "Bool": 8, "UInt8": 8, "Int4": 4, "FP4": 4, "E8M0": 8}

# FLOPs per element for the rules that are not multiply-adds (documented in README, "What a
# page shows"). Softmax: max, subtract, exp, sum, divide. Normalisation: mean, subtract,
# square, sum, scale by the reciprocal deviation, then the affine scale and shift.
SOFTMAX_FLOPS_PER_ELEMENT = 5
NORMALIZATION_FLOPS_PER_ELEMENT = 7

# LayerType / ParameterType (TensorRT 8-11 inspector JSON, trtexec) and TensorRT-RTX (Myelin)
# layer types → the kind of rule. Lower case; looked up without case.
KIND_OF_TYPE: dict[str, str] = {
    "convolution": "convolution", "caskconvolution": "convolution",
    "cudnnconvolution": "convolution", "correlation": "convolution",
    "deconvolution": "deconvolution", "caskdeconvolution": "deconvolution",
    "cudnndeconvolution": "deconvolution",
    "matrixmultiply": "matmul", "gemm": "matmul", "caskgemm": "matmul",
    "fullyconnected": "fully-connected", "caskfullyconnected": "fully-connected",
    "pooling": "pooling", "caskpooling": "pooling", "cudapooling": "pooling",
    "elementwise": "elementwise", "pointwise": "elementwise", "pointwisev2": "elementwise",
    "unary": "elementwise", "activation": "elementwise", "resize": "elementwise",
    "scale": "scale", "normalization": "normalization",
    "reduce": "reduce", "softmax": "softmax", "cudasoftmax": "softmax",
    "reformat": "copy", "shuffle": "copy", "concatenation": "copy", "slice": "copy",
    "gather": "copy", "cast": "copy", "padding": "copy", "copy": "copy",
    "noop": "none", "shape_call": "none", "shapehosttodevice": "none", "constant": "none",
}


@dataclass(frozen=True)
class Facts:
    """A layer's facts as rules read them: dims resolved at the opt shape (no -1 left)."""

    inputs: tuple[tuple[tuple[int, ...], str], ...]  # (dims, dtype) per input
    constants: tuple[tuple[tuple[int, ...], str], ...]
    outputs: tuple[tuple[tuple[int, ...], str], ...]
    params: Mapping[str, Any]

    @property
    def in_elements(self) -> int:
        return elements(self.inputs[0][0]) if self.inputs else 0

    @property
    def out_elements(self) -> int:
        return elements(self.outputs[0][0]) if self.outputs else 0

    def weights(self) -> int | None:
        """Elements of the weights: the JSON's ``Weights`` count, else the largest constant
        of more than one element (biases and scales are smaller); None without weights."""
        counts = [elements(d) for d, _ in self.constants if elements(d) > 1]
        return max(counts) if counts else None


def elements(dims: Sequence[int]) -> int:
    """Elements of a tensor; ``()`` (a scalar) is one."""
    return math.prod(dims)


def tensor_bytes(tensors: Sequence[tuple[tuple[int, ...], str]]) -> int | None:
    """Bytes of ``tensors``; None when one has no known type."""
    total = 0
    for dims, dtype in tensors:
        bits = DTYPE_BITS.get(dtype)
        if bits is None:
            return None
        total += (elements(dims) * bits + 7) // 8
    return total


def _traffic(f: Facts) -> int | None:
    return tensor_bytes(f.inputs + f.constants + f.outputs)


def _convolution(f: Facts) -> int | None:
    # Each output element is a dot product over Cin/groups × kernel; the weights hold
    # Cout × Cin/groups × kernel, so the product is weights / Cout per output element.
    w = f.weights() or _weights_from_params(f)
    if not w or not f.outputs or len(f.outputs[0][0]) < 2 or f.outputs[0][0][1] <= 0:
        return None
    cout = f.outputs[0][0][1]
    return 2 * f.out_elements * w // cout


def _weights_from_params(f: Facts) -> int | None:
    kernel, groups = f.params.get("Kernel"), f.params.get("Groups", 1)
    out_maps = f.params.get("OutMaps")
    if not (isinstance(kernel, list) and all(isinstance(k, int) for k in kernel)
            and isinstance(out_maps, int) and isinstance(groups, int) and groups > 0
            and f.inputs and len(f.inputs[0][0]) >= 2):
        return None
    return out_maps * f.inputs[0][0][1] // groups * math.prod(kernel)


def _deconvolution(f: Facts) -> int | None:
    # Each input element is scattered through Cout/groups × kernel weights; the weights hold
    # Cin × Cout/groups × kernel, so the product is weights / Cin per input element.
    w = f.weights()
    if not w or not f.inputs or len(f.inputs[0][0]) < 2 or f.inputs[0][0][1] <= 0:
        return None
    return 2 * f.in_elements * w // f.inputs[0][0][1]


def _matmul(f: Facts) -> int | None:
    # Each output element is a dot product over K, the first input's last axis (second to
    # last when that input is transposed).
    if not f.inputs or not f.outputs or not f.inputs[0][0]:
        return None
    a = f.inputs[0][0]
    transposed = "TRANSPOSE" in str(f.params.get("MatrixOpA", "")).upper()
    k = a[-2] if transposed and len(a) >= 2 else a[-1]
    return 2 * f.out_elements * k


def _fully_connected(f: Facts) -> int | None:
    # Weights are Cout × K; the output is [N, Cout, 1, 1].
    w = f.weights()
    if not w or not f.outputs or len(f.outputs[0][0]) < 2:
        return None
    n = f.outputs[0][0][0]
    return 2 * n * w


def _pooling(f: Facts) -> int | None:
    window = f.params.get("WindowSize")
    if isinstance(window, list) and window and all(isinstance(k, int) for k in window):
        return f.out_elements * math.prod(window)
    if f.inputs and f.outputs:  # no window given: every input element is read once (global)
        return f.in_elements
    return None


def _elementwise(f: Facts) -> int | None:
    return f.out_elements if f.outputs else None


def _scale(f: Facts) -> int | None:
    return 2 * f.out_elements if f.outputs else None


def _normalization(f: Facts) -> int | None:
    return NORMALIZATION_FLOPS_PER_ELEMENT * f.in_elements if f.inputs else None


def _reduce(f: Facts) -> int | None:
    return f.in_elements if f.inputs else None


def _softmax(f: Facts) -> int | None:
    return SOFTMAX_FLOPS_PER_ELEMENT * f.in_elements if f.inputs else None


def _no_math(f: Facts) -> int | None:
    return 0


# kind → (FLOPs rule, whether it moves its tensors; "none" kinds move nothing).
RULES: dict[str, tuple[Callable[[Facts], int | None], bool]] = {
    "convolution": (_convolution, True),
    "deconvolution": (_deconvolution, True),
    "matmul": (_matmul, True),
    "fully-connected": (_fully_connected, True),
    "pooling": (_pooling, True),
    "elementwise": (_elementwise, True),
    "scale": (_scale, True),
    "normalization": (_normalization, True),
    "reduce": (_reduce, True),
    "softmax": (_softmax, True),
    "copy": (_no_math, True),  # reformat, shuffle, concatenation, slice: bytes only
    "none": (_no_math, False),  # NoOp (an alias), shape calls: neither
}


def kind_of(layer_type: str, params: Mapping[str, Any] | None = None) -> str | None:
    """The rule kind of a layer: its ``ParameterType`` where given, else its type."""
    for word in ((params or {}).get("ParameterType"), layer_type):
        if isinstance(word, str):
            kind = KIND_OF_TYPE.get(word.lower())
            if kind is not None:
                return kind
    return None


def cost_from_facts(kind: str, facts: Facts) -> LayerCost | None:
    """The cost of a layer of ``kind`` with these (resolved) facts; None when not known."""
    rule, moves = RULES[kind]
    flops = rule(facts)
    if flops is None:
        return None
    traffic = _traffic(facts) if moves else 0
    if traffic is None:
        return None
    return LayerCost(flops=flops, bytes=traffic)


@dataclass(frozen=True)
class Parts:
    """What the rules read of a layer, for a parser that prices it before making it."""

    type: str
    inputs: tuple[Any, ...]
    constants: tuple[Any, ...]
    outputs: tuple[Any, ...]


def facts_of(layer: Layer | Parts, params: Mapping[str, Any] | None = None,
             resolve: Callable[[tuple[int, ...]], tuple[int, ...] | None] | None = None
             ) -> Facts | None:
    """``layer``'s facts with every dimension resolved (``resolve`` maps a tensor's dims with
    -1 to concrete ones, or None); None when some dimension stays unknown."""
    def one(tensors: Sequence[Any]) -> tuple[tuple[tuple[int, ...], str], ...] | None:
        out = []
        for t in tensors:
            dims = t.dims
            if dims and min(dims) < 0:
                found = resolve(dims) if resolve is not None else None
                if found is None:
                    return None
                dims = found
            out.append((dims, t.dtype))
        return tuple(out)

    inputs, constants, outputs = one(layer.inputs), one(layer.constants), one(layer.outputs)
    if inputs is None or constants is None or outputs is None:
        return None
    return Facts(inputs, constants, outputs, params or {})


def layer_cost(layer: Layer | Parts, params: Mapping[str, Any] | None = None,
               resolve: Callable[[tuple[int, ...]], tuple[int, ...] | None] | None = None
               ) -> LayerCost | None:
    """The cost of ``layer`` (a :class:`Layer`, or its :class:`Parts` before it is made) from
    its own facts; None without a rule or resolved dims."""
    kind = kind_of(layer.type, params)
    if kind is None:
        return None
    if not RULES[kind][1]:
        return LayerCost(flops=0, bytes=0)
    facts = facts_of(layer, params, resolve)
    return cost_from_facts(kind, facts) if facts is not None else None

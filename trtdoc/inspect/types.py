"""The inspection model: what is inside an engine, as frozen dataclasses every parser produces.

:class:`Inspection` holds the engine's :class:`Layer` s and :class:`IOTensor` s whichever source
they were read from (build log, inspector JSON, trtexec exports). It is also the
``inspection`` part of a record, and the rules that read a layer's precision live with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

# TensorRT DataType names, spelled as the Python enum's members print them (DataType.HALF is
# "Half"). Inspector JSON, trtexec and the RTX log use several spellings; these map onto one.
_DTYPE_WORDS = {
    "fp32": "Float", "float": "Float", "float32": "Float", "kfloat": "Float",
    "fp16": "Half", "half": "Half", "float16": "Half", "khalf": "Half",
    "bf16": "BFloat16", "bfloat16": "BFloat16", "kbf16": "BFloat16",
    "int8": "Int8", "kint8": "Int8",
    "fp8": "FP8", "e4m3": "FP8", "float8": "FP8", "kfp8": "FP8",
    "int32": "Int32", "kint32": "Int32",
    "int64": "Int64", "kint64": "Int64",
    "bool": "Bool", "kbool": "Bool",
    "uint8": "UInt8", "kuint8": "UInt8",
    "int4": "Int4", "kint4": "Int4",
    "fp4": "FP4", "e2m1": "FP4", "kfp4": "FP4",
    "e8m0": "E8M0", "ke8m0": "E8M0",
}
DTYPES = ("Float", "Half", "BFloat16", "Int8", "FP8", "Int32", "Int64", "Bool", "UInt8", "Int4",
          "FP4", "E8M0")


def normalise_dtype(text: str) -> str:
    """TensorRT's DataType name ("Half", "Float", ...) for any spelling TensorRT prints.

    Accepts a bare type ("FP16", "Half", "kHALF") and trtexec/inspector format strings such as
    ``"Channel major FP16 format where channel % 8 == 0"``. Returns "" when no type is named.
    """
    for word in re.findall(r"[A-Za-z0-9]+", text):
        found = _DTYPE_WORDS.get(word.lower())
        if found:
            return found
    return ""


# --------------------------------------------------------------------------------------------
# The normalised model
#
# These frozen dataclasses are also the ``inspection`` part of a record: trtdoc.typed (and
# trtdoc.record.codec for a whole record) decodes, encodes and describes (JSON Schema) them with
# pydantic, strictly, with unknown keys refused. Where the JSON key order differs from the
# constructor's argument order, the class names its key order.
# --------------------------------------------------------------------------------------------
_RECORD_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


def _keyed(schema: Any, keys: tuple[str, ...], after: Callable[[Any], Any] | None = None,
           omit_none: tuple[str, ...] = ()) -> Any:
    """``schema`` (a dataclass's) serialised with ``keys`` in this order, ``after`` run on
    every decoded value; the ``omit_none`` keys are left out while None (fields added after
    records were shipped: an older record re-encodes byte for byte)."""
    from pydantic_core import core_schema

    def ordered(value: Any, serialise: Any) -> Any:
        d = serialise(value)
        return {k: d[k] for k in keys if k not in omit_none or d[k] is not None}

    return core_schema.no_info_after_validator_function(
        after or (lambda v: v), schema,
        serialization=core_schema.wrap_serializer_function_ser_schema(ordered))


@dataclass(frozen=True)
class TensorDesc:
    """One tensor at a layer boundary, as the engine stores it."""

    __pydantic_config__ = _RECORD_CONFIG

    name: str
    dims: tuple[int, ...]  # -1 for a dynamic axis
    dtype: str  # a name from DTYPES, or "" when TensorRT did not say
    format: str  # TensorRT's own words for the memory layout
    location: str = ""  # "Device" / "Host" where TensorRT reports it


# The most FLOPs or bytes one layer's cost may say (10^24: a yotta-operation per inference, far
# past any engine): a larger number in a record is refused, not carried into a float overflow.
MAX_COST = 10**24


@dataclass(frozen=True)
class LayerCost:
    """The work of one layer at the opt shape: an estimate from its facts (trtdoc.cost.rules)."""

    __pydantic_config__ = _RECORD_CONFIG

    flops: Annotated[int, Field(ge=0, le=MAX_COST, description=(
        "Floating-point (or integer) operations; a multiply-add counts 2."))]
    bytes: Annotated[int, Field(ge=0, le=MAX_COST, description=(
        "Bytes read and written: inputs, weights and outputs, each once."))]


@dataclass(frozen=True)
class Layer:
    """One engine layer: a kernel (or a no-op, reformat or sync point) TensorRT will run."""

    __pydantic_config__ = _RECORD_CONFIG

    name: str
    type: str  # LayerType as TensorRT prints it: "CaskConvolution", "kgen", "Reformat", ...
    inputs: tuple[TensorDesc, ...]
    outputs: tuple[TensorDesc, ...]
    tactic: str  # TacticName, else TacticValue, else ""
    # ONNX node names this layer implements, in TensorRT's order
    fused: Annotated[tuple[str, ...], Field(
        description="ONNX nodes fused into this layer (fusion provenance).")]
    precision: str  # the type the math runs in: see layer_precision(); "" when not known
    time_ms: float | None = None  # average per inference (trtexec --exportProfile)
    time_pct: float | None = None  # share of the total, in percent
    # Median per inference (trtexec --exportProfile's medianMs); written only where known.
    median_ms: float | None = None
    # Weights baked into the layer: the TensorRT-RTX log's Constants, or the inspector JSON's
    # "Weights" and "Bias" (name "Weights"/"Bias", dims (Count,), format "").
    constants: tuple[TensorDesc, ...] = ()
    profile: Annotated[int, Field(ge=0)] = 0  # the optimisation profile this copy serves
    # FLOPs and bytes at the opt shape (trtdoc.cost); None (no "cost" key in the JSON): no
    # rule knows this layer, or the record predates costs
    cost: Annotated[LayerCost | None, Field(description=(
        "FLOPs and bytes at the opt shape, an estimate (trtdoc.cost); absent or null when no "
        "rule knows the layer: unknown, never 0."))] = None

    @property
    def output_type(self) -> str:
        """The type most of the layer's outputs are stored in; see :func:`output_type`."""
        return output_type(self.outputs)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _keyed(handler(source), (
            "name", "type", "precision", "tactic", "fused", "inputs", "constants", "outputs",
            "profile", "time_ms", "time_pct", "median_ms", "cost"), after=_recompute_precision,
            omit_none=("median_ms", "cost"))


def _recompute_precision(layer: Layer) -> Layer:
    # The stored "precision" is written for other readers of the JSON, but not trusted on
    # read: it is recomputed from the tensors, so records written under an older rule (the
    # dominant output type, before trtdoc 0.2) show the current one without a rebuild. The
    # layer was made by the decoder a moment ago and is not shared yet.
    object.__setattr__(layer, "precision", layer_precision(layer.inputs, layer.constants))
    return layer


# Types that carry numbers the math works on. The others hold indices, shapes, masks or
# block scales (Int32, Int64, Bool, UInt8, E8M0): a Gather with Int64 indices and Half data
# A Myelin kernel's name lists the ops it runs: __myl_FcAddDivErf_myl1_15 is Fc, Add, Div, Erf.
MYELIN_KERNEL = re.compile(r"^__myl_([A-Za-z0-9]+?)_myl\d+_\d+$")


def myelin_ops(name: str) -> tuple[str, ...] | None:
    """The op abbreviations of a Myelin kernel's name ("Fc", "Gemm", "Matm", "Conv", ...);
    None for a layer that is not such a kernel."""
    m = MYELIN_KERNEL.match(name)
    return tuple(re.findall(r"[A-Z][a-z0-9]*", m.group(1))) if m else None


# computes in Half, and a shape tensor must not make a Half layer look integer.
MATH_DTYPES = frozenset({"Float", "Half", "BFloat16", "Int8", "FP8", "Int4", "FP4"})


def layer_precision(inputs: Sequence[TensorDesc], constants: Sequence[TensorDesc] = ()) -> str:
    """The type a layer's math runs in, read from what goes into it, never from its outputs.

    TREx (NVIDIA's TensorRT Engine Explorer, ``trex/layer.py``) takes a layer's precision
    from its first input, so an int8 convolution that writes Float is Int8, and a Reformat or
    Cast takes the type it converts *from* (its output type is shown beside it). trtdoc
    follows that rule and makes two refinements that TensorRT-RTX logs need:

    1. the first non-constant input of a math type (see ``MATH_DTYPES``) wins; index, shape
       and mask tensors are passed over;
    2. if no input has a math type (an embedding lookup fed only Int64 ids), the weights
       decide: the largest math-typed constant of more than one element, since biases and
       scales are smaller;
    3. failing both, the first typed input (integer shape arithmetic is Int64 math), then the
       first typed constant;
    4. a layer with neither inputs nor weights (a shape call, a host-to-device shape copy,
       a sync point) has precision "", as TREx gives it None: it computes nothing.
    """
    for t in inputs:
        if t.dtype in MATH_DTYPES:
            return t.dtype
    # A one-element constant is a scale or a clamp bound, not weights: it says nothing about
    # the type the layer computes in (a quantize of Int32 ids holds one Float scale).
    weights = [t for t in constants if t.dtype in MATH_DTYPES and _elements(t.dims) > 1]
    if weights:
        # max keeps the first of equal sizes
        return max(weights, key=lambda t: _elements(t.dims)).dtype
    for tensors in (inputs, constants):
        for t in tensors:
            if t.dtype:
                return t.dtype
    return ""


def _elements(dims: Sequence[int]) -> int:
    n = 1
    for d in dims:
        n *= max(int(d), 1)  # -1 (dynamic) counts as one
    return n


def output_type(outputs: Sequence[TensorDesc]) -> str:
    """The dtype most of a layer's outputs have ("" without typed outputs).

    This is the type the layer *stores*, which is not its precision: an int8 convolution
    may write Float, a quantize layer computes in Float and writes Int8. A tie goes to the
    output TensorRT lists first.
    """
    if len(outputs) <= 2:  # most layers: the first typed one wins (a tie goes to it)
        return next((t.dtype for t in outputs if t.dtype), "")
    counts = Counter(t.dtype for t in outputs if t.dtype)
    return counts.most_common(1)[0][0] if counts else ""  # most_common keeps first-seen order


@dataclass(frozen=True)
class ProfileShape:
    """min/opt/max dimensions of one input in one optimisation profile."""

    __pydantic_config__ = _RECORD_CONFIG

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class IOTensor:
    """An engine input or output. Inputs carry one ProfileShape per optimisation profile."""

    __pydantic_config__ = _RECORD_CONFIG

    name: str
    mode: Annotated[str, Field(pattern=r"^(Input|Output)$")]  # "Input" | "Output"
    dtype: str
    dims: tuple[int, ...]
    profiles: tuple[ProfileShape, ...] = ()
    format: str = ""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _keyed(handler(source), ("name", "mode", "dtype", "dims", "format", "profiles"))


@dataclass(frozen=True)
class Memory:
    """Memory totals in bytes, from the build log. None where the source does not say."""

    __pydantic_config__ = _RECORD_CONFIG

    weights: _Bytes | None = None
    activation: _Bytes | None = None
    scratch: _Bytes | None = None
    host_persistent: _Bytes | None = None
    device_persistent: _Bytes | None = None


_Bytes = Annotated[int, Field(ge=0)]


SOURCES = ("build-log", "inspector-json", "trtexec")

# A layer precision (a TensorRT DataType name) as the precision words of specs and pages.
PRECISION_OF_DTYPE = {"Float": "fp32", "Half": "fp16", "BFloat16": "bf16", "Int8": "int8",
                      "FP8": "fp8", "Int4": "int4", "FP4": "fp4"}
_LOW_PRECISION = ("FP4", "Int4", "FP8", "Int8", "BFloat16", "Half")  # narrowest first
_QUANTIZED = frozenset({"FP4", "Int4", "FP8", "Int8"})
_QDQ_NAME = re.compile(r"(?i)(?:de)?quantize(?:linear|_scale_node)")


@dataclass(frozen=True)
class Inspection:
    """Everything trtdoc knows about an engine's insides, whichever source it came from."""

    __pydantic_config__ = _RECORD_CONFIG

    source: Annotated[str, Field(pattern=r"^(build-log|inspector-json|trtexec)$")]  # SOURCES
    layers: tuple[Layer, ...]
    io: tuple[IOTensor, ...]
    memory: Memory = Memory()
    # The optimisation profile whose layers are listed (None: all of them, each tagged with
    # Layer.profile). An engine with N profiles holds N copies of its layers.
    optimization_profile: Annotated[int, Field(ge=0)] | None = 0
    profile_count: Annotated[int, Field(ge=0)] = 1

    def precision_mix(self) -> tuple[tuple[str, int], ...]:
        """``(dtype, layer count)`` pairs, most common first, then by name.

        Layers without a precision (shape calls, sync points) are not counted.
        """
        counts = Counter(layer.precision for layer in self.layers if layer.precision)
        return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def precision_summary(self, model_ops: Iterable[str] = ()) -> str:
        """What the layers say the engine's precision is, or "" when no layer says.

        The dominant low precision (most layers; a tie goes to the narrower type) and its
        count of the layers that have a precision: ``"int8 (Q/DQ), 22 of 24 layers"``, and the
        other low precisions after it (``"; also fp16 2"``). Without low-precision layers,
        the dominant type: ``"fp32, 32 of 32 layers"``. "(Q/DQ)" marks a quantized type only
        where Q/DQ shows (see :meth:`has_qdq`); int8 inputs alone do not show it, because
        TensorRT 10 and older also make them by implicit calibration. ``model_ops`` are the
        ONNX op types of the model, where known.
        """
        mix = [(d, n) for d, n in self.precision_mix() if d in PRECISION_OF_DTYPE]
        # Of every engine layer, so the count agrees with the page's "Engine layers".
        total = len(self.layers)
        if not mix:
            return ""
        low = sorted(((d, n) for d, n in mix if d in _LOW_PRECISION),
                     key=lambda dn: (-dn[1], _LOW_PRECISION.index(dn[0])))
        qdq = self.has_qdq(model_ops)

        def word(dtype: str) -> str:
            return PRECISION_OF_DTYPE[dtype] + (" (Q/DQ)" if qdq and dtype in _QUANTIZED
                                                 else "")

        (dtype, n), *rest = low or mix
        text = f"{word(dtype)}, {n} of {total} layers"
        if rest and low:
            text += "; also " + ", ".join(f"{word(d)} {k}" for d, k in rest)
        return text

    def has_qdq(self, model_ops: Iterable[str] = ()) -> bool:
        """True when quantize/dequantize shows: a Quantize/Dequantize layer, a layer or fused
        ONNX node named after QuantizeLinear/DequantizeLinear or after the scale nodes
        TensorRT's ONNX parser makes of them (``QuantizeLinear_8_quantize_scale_node``), or
        such ops in the model."""
        if any(op in ("QuantizeLinear", "DequantizeLinear") for op in model_ops):
            return True
        if any(layer.type.lower() in ("quantize", "dequantize") for layer in self.layers):
            return True
        # One search over every name (the pattern cannot match across the separator) instead
        # of one per name: 200 pages of 1,000 layers spent 1.5 s here.
        names = "\n".join(n for layer in self.layers for n in (layer.name, *layer.fused))
        return "quantize" in names.lower() and _QDQ_NAME.search(names) is not None

    def fusion_groups(self) -> tuple[Layer, ...]:
        """Layers that implement two or more ONNX nodes, in engine order."""
        return tuple(layer for layer in self.layers if len(layer.fused) >= 2)

    @property
    def total_time_ms(self) -> float | None:
        """Sum of the per-layer times, or None when no layer was timed."""
        times = [layer.time_ms for layer in self.layers if layer.time_ms is not None]
        return sum(times) if times else None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _keyed(handler(source), ("source", "optimization_profile", "profile_count",
                                        "memory", "io", "layers"))

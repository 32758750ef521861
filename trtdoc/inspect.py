"""The inspection stage: what is inside an engine, as one normalised model.

Three sources describe an engine's layers, and each has its own converter into
:class:`Inspection`:

* :func:`inspection_from_build_log`: the builder's own log. With
  ``config.profiling_verbosity = ProfilingVerbosity.DETAILED`` and a logger that keeps VERBOSE
  messages, the builder emits one message that starts ``Layers:``. This needs no GPU, which is
  why trtdoc uses it by default.
* :func:`inspection_from_inspector_json`: ``IEngineInspector.get_engine_information(JSON)``.
  :func:`inspection_from_engine` produces it from engine bytes on a GPU host.
* :func:`inspection_from_trtexec`: ``trtexec --exportLayerInfo`` (the same JSON), optionally
  joined with per-layer times from ``--exportProfile``.

The ``Layers:`` message is not JSON. It prints names as they are, with no quoting and no
escaping, and names come from the model, which may be untrusted. A node may be called
``a, LayerType: x]`` or hold a newline. The parser here therefore does not split on
delimiters. It backtracks over where each *name* ends, and accepts a reading only when
everything after the name parses as TensorRT's own fields: known keys, no repeated keys, the
required keys present. Values that TensorRT generates itself, such as types, dimensions and
formats, never contain a delimiter, and that is what makes the reading unique in practice.
Where a record still reads two ways, the reading whose inputs are produced by an earlier layer
wins (a name can imitate the syntax, but not the dataflow), then the shortest name. The ONNX
node names in ``Metadata`` are the one case the text cannot settle: ``[ONNX Layer:
a]\\x1f[ONNX Layer: b]`` is also a single node named ``a]\\x1f[ONNX Layer: b``. Pass
``onnx_nodes`` (the model's node names) to settle that.

No module-level TensorRT import: converters that need TensorRT take the module as an argument.
"""

from __future__ import annotations

import errno
import functools
import gc
import json
import math
import os
import re
import stat
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import Field, TypeAdapter

from trtdoc.errors import InspectError

DETAILED_HINT = (
    "build with config.profiling_verbosity = ProfilingVerbosity.DETAILED and a logger that "
    "keeps VERBOSE messages (trtexec: --profilingVerbosity=detailed --verbose)"
)

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

_PROFILE_MARK = re.compile(r"\[profile (\d+)\]")
# RTX (Myelin) layer names end in _myl<graph>_<index>; one Myelin graph serves one profile.
_MYELIN_GRAPH = re.compile(r"_myl(\d+)_\d+$")


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
# These frozen dataclasses are also the ``inspection`` part of a record: trtdoc/record.py
# decodes, encodes and describes (JSON Schema) them with pydantic, strictly, with unknown keys
# refused. Where the JSON key order differs from the constructor's argument order, the
# class names its key order.
# --------------------------------------------------------------------------------------------
_RECORD_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}
_adapter = functools.cache(TypeAdapter)


def _keyed(schema: Any, keys: tuple[str, ...], after: Callable[[Any], Any] | None = None) -> Any:
    """``schema`` (a dataclass's) serialised with ``keys`` in this order, ``after`` run on
    every decoded value."""
    from pydantic_core import core_schema

    def ordered(value: Any, serialise: Any) -> Any:
        d = serialise(value)
        return {k: d[k] for k in keys}

    return core_schema.no_info_after_validator_function(
        after or (lambda v: v), schema,
        serialization=core_schema.wrap_serializer_function_ser_schema(ordered))


class _FromRecord:
    """``to_dict``/``from_dict`` of a record part, generated from its type."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as a record stores it."""
        out: dict[str, Any] = _adapter(type(self)).dump_python(self, mode="json")
        return out

    @classmethod
    def from_dict(cls: type[_T], d: Mapping[str, Any]) -> _T:
        """Decode ``d`` exactly as a record file is decoded (strict types, no unknown keys)."""
        decoded: _T = _adapter(cls).validate_json(json.dumps(d), strict=True)
        return decoded


_T = TypeVar("_T")


@dataclass(frozen=True)
class TensorDesc:
    """One tensor at a layer boundary, as the engine stores it."""

    __pydantic_config__ = _RECORD_CONFIG

    name: str
    dims: tuple[int, ...]  # -1 for a dynamic axis
    dtype: str  # a name from DTYPES, or "" when TensorRT did not say
    format: str  # TensorRT's own words for the memory layout
    location: str = ""  # "Device" / "Host" where TensorRT reports it


@dataclass(frozen=True)
class Layer(_FromRecord):
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
    # Weights baked into the layer: the TensorRT-RTX log's Constants, or the inspector JSON's
    # "Weights" and "Bias" (name "Weights"/"Bias", dims (Count,), format "").
    constants: tuple[TensorDesc, ...] = ()
    profile: Annotated[int, Field(ge=0)] = 0  # the optimisation profile this copy serves

    @property
    def output_type(self) -> str:
        """The type most of the layer's outputs are stored in; see :func:`output_type`."""
        return output_type(self.outputs)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return _keyed(handler(source), (
            "name", "type", "precision", "tactic", "fused", "inputs", "constants", "outputs",
            "profile", "time_ms", "time_pct"), after=_recompute_precision)


def _recompute_precision(layer: Layer) -> Layer:
    # The stored "precision" is written for other readers of the JSON, but not trusted on
    # read: it is recomputed from the tensors, so records written under an older rule (the
    # dominant output type, before trtdoc 0.2) show the current one without a rebuild. The
    # layer was made by the decoder a moment ago and is not shared yet.
    object.__setattr__(layer, "precision", layer_precision(layer.inputs, layer.constants))
    return layer


# Types that carry numbers the math works on. The others hold indices, shapes, masks or
# block scales (Int32, Int64, Bool, UInt8, E8M0): a Gather with Int64 indices and Half data
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
class Inspection(_FromRecord):
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


# --------------------------------------------------------------------------------------------
# Fusion provenance: the Metadata field
# --------------------------------------------------------------------------------------------
_ONNX_OPEN = "[ONNX Layer: "
# The ONNX parser appends " | Local Function: <f>" inside the brackets for nodes in a function.
_LOCAL_FUNCTION = " | Local Function: "
# Entries are joined with \x1f in the RTX build log and with \x1e in inspector JSON from
# TensorRT 8.6 on; some builds print them back to back.
_META_SEPARATORS = "\x1e\x1f"


def fused_from_metadata(text: str, onnx_nodes: Collection[str] | None = None) -> tuple[str, ...]:
    """The ONNX node names in a layer's ``Metadata`` string, in order, without repeats.

    ``text`` is ``[ONNX Layer: a]<sep>[ONNX Layer: b]...`` where ``<sep>`` is \\x1e, \\x1f or
    nothing. A name may itself contain ``][ONNX Layer: ``. Without ``onnx_nodes`` such a name
    is split. With ``onnx_nodes`` the split is chosen so that every piece is a known node.
    """
    starts = [m.start() for m in re.finditer(re.escape(_ONNX_OPEN), text)]
    if not starts:
        return ()
    # Past the first, an entry can open only right after "]" and one optional separator,
    # because that is how TensorRT joins them. Elsewhere "[ONNX Layer: " is part of a name.
    opens = [starts[0]] + [
        p for p in starts[1:]
        if text[p - 1] == "]" or (text[p - 1] in _META_SEPARATORS and text[p - 2] == "]")
    ]
    ends = [*opens[1:], len(text)]

    def entry(i: int, j: int) -> str:
        raw = text[opens[i] + len(_ONNX_OPEN):ends[j]]
        if raw and raw[-1] in _META_SEPARATORS and j + 1 < len(opens):
            raw = raw[:-1]
        return raw[:-1] if raw.endswith("]") else raw  # metadata over 4000 chars is truncated

    def clean(raw: str) -> str:
        if onnx_nodes is not None and raw in onnx_nodes:
            return raw
        name, sep, _ = raw.rpartition(_LOCAL_FUNCTION)
        return name if sep else raw

    n = len(opens)
    pieces = [clean(entry(i, i)) for i in range(n)]
    if onnx_nodes is not None and not all(p in onnx_nodes for p in pieces):
        # Merge neighbouring pieces until each is a node the model really has. Prefer the
        # finest split (the nearest start) so two real nodes are never glued together.
        back: list[int | None] = [None] * (n + 1)
        back[0] = 0
        for j in range(1, n + 1):
            for i in range(j - 1, -1, -1):
                if back[i] is not None and clean(entry(i, j - 1)) in onnx_nodes:
                    back[j] = i
                    break
        if back[n] is not None:
            merged: list[str] = []
            j = n
            while j > 0:
                start = back[j]
                assert start is not None
                merged.append(clean(entry(start, j - 1)))
                j = start
            pieces = merged[::-1]
    return tuple(dict.fromkeys(pieces))


# --------------------------------------------------------------------------------------------
# The build log's "Layers:" message: a backtracking reader
# --------------------------------------------------------------------------------------------
# ", Key: " where Key is one of TensorRT's field names (word characters; "Format/Datatype").
_KEY = re.compile(r", ([A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z0-9_]+)?): ")
_INTS = re.compile(r"\[(?:-?\d+(?:,-?\d+)*)?\]")
_LAYER_TYPE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .\-]*")
_TENSOR_LIST_KEYS = frozenset({"Inputs", "Outputs", "Constants"})
_OPENERS, _CLOSERS = "[{(", "]})"
# One record may backtrack this much before trtdoc gives up on it. Real records need a few
# hundred steps; the cap keeps a hostile model from making the parse exponential.
_STEP_BUDGET = 50_000
# A layer record may contain at most this many lines that look like the start of a record.
_MERGE_WINDOW = 64


class _TooAmbiguous(Exception):
    pass


class _Budget:
    def __init__(self) -> None:
        self.left = _STEP_BUDGET

    def step(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooAmbiguous


_Fields = list[tuple[str, Any]]


def _generic_ends(s: str, start: int) -> Iterator[int]:
    """Where a TensorRT-generated value starting at ``start`` may end: before each ", Key: "
    outside brackets, nearest first, and finally at the end of the record."""
    depth = 0
    for i in range(start, len(s)):
        c = s[i]
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth = max(0, depth - 1)  # a stray closer in a value must not hide later keys
        elif c == "," and depth == 0 and _KEY.match(s, i):
            yield i
    yield len(s)


# The keys TensorRT prints for a tensor and for an I/O tensor. A first, strict reading accepts
# only these (and ends every generated value at the first delimiter), so a name such as
# "in, put: [x]" cannot pass for a name plus a "put" field. Only if no strict reading exists
# does a lenient one allow other keys, in case a newer TensorRT adds some.
_TENSOR_KEYS = frozenset({"Location", "Dimensions", "Strides", "StrideOrder", "Datatype",
                          "DataType", "Format", "Format/Datatype"})
_IO_KEYS = frozenset({"IOMode", "DataType", "Datatype", "Dimensions", "Location",
                      "IsShapeInferenceIO", "ProfileInfo", "Format"})
_KNOWN_KEYS = {"tensor": _TENSOR_KEYS, "io": _IO_KEYS}


@dataclass(frozen=True)
class _Mode:
    level: str  # "layer" | "tensor" | "io"
    strict: bool
    budget: _Budget

    def at(self, level: str) -> _Mode:
        return _Mode(level, self.strict, self.budget)


def _fields(s: str, pos: int, seen: frozenset[str], mode: _Mode) -> Iterator[_Fields]:
    """Every reading of ``s[pos:]`` as ``, Key: value`` pairs, preferred readings first."""
    mode.budget.step()
    if pos == len(s):
        yield []
        return
    m = _KEY.match(s, pos)
    # A key twice means a name swallowed or lost a field. "DataType" and "Datatype" are one.
    if not m or m.group(1).lower() in seen:
        return
    key, start = m.group(1), m.end()
    known = _KNOWN_KEYS.get(mode.level)
    if mode.strict and known is not None and key not in known:
        return
    for value, end in _values(s, key, start, mode):
        for rest in _fields(s, end, seen | {key.lower()}, mode):
            yield [(key, value), *rest]


def _values(s: str, key: str, start: int, mode: _Mode) -> Iterator[tuple[Any, int]]:
    if mode.level == "layer" and key == "Metadata":
        # The last field of a record; it holds model node names, so it may contain anything.
        yield s[start:], len(s)
        if not mode.strict:
            ends = [e for e in _generic_ends(s, start) if e < len(s)]
            for end in reversed(ends):
                yield s[start:end], end
        return
    is_list = s.startswith("[]", start) or s.startswith("[ { Name: ", start)
    if mode.level == "layer" and (key in _TENSOR_LIST_KEYS or is_list):
        if is_list:
            yield from _tensor_lists(s, start, mode)
        if key in _TENSOR_LIST_KEYS:
            return
    for end in _generic_ends(s, start):
        mode.budget.step()
        yield s[start:end], end
        if mode.strict:  # TensorRT's own values never contain ", Key: "
            return


def _tensor_lists(s: str, start: int, mode: _Mode
                  ) -> Iterator[tuple[tuple[dict[str, Any], ...], int]]:
    """Readings of ``[ { Name: ... }, { Name: ... }]`` starting at ``start``."""
    if s.startswith("[]", start):
        yield (), start + 2
        return
    first = start + 2  # the "{" of the first tensor
    for m in re.finditer(re.escape(" }]"), s[first:]):
        mode.budget.step()
        close = first + m.start() + 1  # index of "}"
        tensors = _split_tensors(s[first:close + 1], mode.at("tensor"))
        if tensors is not None:
            yield tensors, close + 2


def _split_tensors(text: str, mode: _Mode) -> tuple[dict[str, Any], ...] | None:
    """``{ Name: a, ... }, { Name: b, ... }`` as tensors, or None if it does not parse."""
    # " }, { Name: " ends one tensor ("}" at +1) and opens the next ("{" at +4).
    cuts = [0] + [m.start() + 4 for m in re.finditer(re.escape(" }, { Name: "), text)]
    return _segment(text, cuts, lambda seg: _parse_tensor(seg, mode), sep=2)


def _segment(text: str, cuts: Sequence[int], parse: Callable[[str], Any],
             sep: int) -> tuple[Any, ...] | None:
    """Split ``text`` at a subset of ``cuts`` (each followed by a record, each preceded by a
    ``sep``-character separator) so that every piece parses. Prefers the most pieces."""
    n = len(cuts)
    bounds = [*cuts, len(text) + sep]
    back: list[int | None] = [None] * (n + 1)
    parsed: dict[int, Any] = {}
    back[0] = 0
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - _MERGE_WINDOW), -1):
            if back[i] is None:
                continue
            value = parse(text[bounds[i]:bounds[j] - sep])
            if value is not None:
                back[j], parsed[j] = i, value
                break
    if back[n] is None:
        return None
    out: list[Any] = []
    j = n
    while j > 0:
        out.append(parsed[j])
        start = back[j]
        assert start is not None
        j = start
    return tuple(out[::-1])


def _parse_tensor(seg: str, mode: _Mode) -> dict[str, Any] | None:
    if not (seg.startswith("{ Name: ") and seg.endswith(" }")):
        return None
    inner = seg[len("{ Name: "):-2]
    for m in _KEY.finditer(inner):
        for fields in _fields(inner, m.start(), frozenset(), mode):
            d = dict(fields)
            if "Dimensions" in d and _INTS.fullmatch(d["Dimensions"]) and (
                    "Datatype" in d or "DataType" in d or "Format/Datatype" in d):
                d["Name"] = inner[:m.start()]
                return d
    return None


# How many readings of one record to keep when TensorRT's text allows several.
_MAX_READINGS = 8


def _parse_record(seg: str, head: str, first_key: str, level: str,
                  valid: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, Any], ...] | None:
    """Readings of ``<head><name>, <first_key>: ...``, shortest name first; strict readings
    only, unless there are none. None if the record does not parse at all."""
    if not seg.startswith(head):
        return None
    budget = _Budget()
    cuts = [m.start() for m in re.finditer(re.escape(f", {first_key}: "), seg)]
    found: list[dict[str, Any]] = []
    try:
        for strict in (True, False):
            mode = _Mode(level, strict, budget)
            for cut in cuts:
                for fields in _fields(seg, cut, frozenset(), mode):
                    d = dict(fields)
                    if valid(d):
                        d["Name"] = seg[len(head):cut]
                        if not found and _plain(d):
                            return (d,)  # nothing in it imitates syntax: the only reading
                        found.append(d)
                        if len(found) == _MAX_READINGS:
                            return tuple(found)
            if found:
                break
    except _TooAmbiguous:
        pass  # keep what was found before the budget ran out
    return tuple(found) or None


_SYNTAX = re.compile(_KEY.pattern + r"|\{ Name: | \}\]")


def _plain(d: Mapping[str, Any]) -> bool:
    """True when no free text in a reading (names, metadata) looks like TensorRT syntax."""
    texts = [d["Name"], d.get("Metadata", "")]
    for key in _TENSOR_LIST_KEYS:
        value = d.get(key)
        if isinstance(value, tuple):
            texts.extend(t["Name"] for t in value)
    return not any(_SYNTAX.search(t) for t in texts)


def _parse_layer(seg: str) -> tuple[dict[str, Any], ...] | None:
    return _parse_record(
        seg, "Name: ", "LayerType", "layer",
        lambda d: "Inputs" in d and "Outputs" in d and bool(_LAYER_TYPE.fullmatch(d["LayerType"])))


def _parse_io(seg: str) -> tuple[dict[str, Any], ...] | None:
    return _parse_record(
        seg, " Name: ", "IOMode", "io",
        lambda d: (d.get("IOMode") in ("Input", "Output")
                   and bool(_INTS.fullmatch(d.get("Dimensions", "")))
                   and ("DataType" in d or "Datatype" in d)))


def _choose_layers(records: Sequence[tuple[dict[str, Any], ...]], inputs: Iterable[str]
                   ) -> list[dict[str, Any]]:
    """One reading per layer record. Where the text reads several ways, the reading whose
    input tensors come from the engine inputs or an earlier layer wins (a name can imitate
    TensorRT's syntax, but not the dataflow); then the one with the shortest layer name."""
    known = set(inputs)
    chosen = []
    for readings in records:
        best = max(enumerate(readings),
                   key=lambda ir: (sum(t["Name"] in known for t in ir[1]["Inputs"]), -ir[0]))[1]
        known.update(t["Name"] for t in best["Outputs"])
        chosen.append(best)
    return chosen


def _records(text: str, head: str, parse: Callable[[str], Any]) -> tuple[Any, ...] | None:
    """Newline-separated records that each start with ``head``; a name may hold a newline."""
    if not text:
        return ()
    if not text.startswith(head):
        return None
    cuts = [0] + [m.start() + 1 for m in re.finditer(re.escape("\n" + head), text)]
    return _segment(text, cuts, parse, sep=1)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.strip("[]").split(",") if x)


def _profile_infos(text: str) -> list[dict[str, str]]:
    """``[ { MinShape: [..], OptShape: [..], MaxShape: [..], Format: ... }, ...]`` (all of it
    generated by TensorRT, so a plain split is safe)."""
    out = []
    for m in re.finditer(r"\{ (.*?) \}", text):
        parts = re.split(r", (?=[A-Za-z]+: )", m.group(1))
        out.append(dict(p.split(": ", 1) for p in parts if ": " in p))
    return out


def _tensor_from_log(d: Mapping[str, Any]) -> TensorDesc:
    dtype = d.get("Datatype") or d.get("DataType") or d.get("Format/Datatype", "")
    fmt = d.get("Format") or d.get("Format/Datatype", "")
    return TensorDesc(d["Name"], _ints(d["Dimensions"]), normalise_dtype(dtype), fmt.strip(),
                      d.get("Location", ""))


def _io_from_log(d: Mapping[str, Any]) -> IOTensor:
    infos = _profile_infos(d.get("ProfileInfo", ""))
    profiles = tuple(ProfileShape(_ints(p["MinShape"]), _ints(p["OptShape"]),
                                  _ints(p["MaxShape"]))
                     for p in infos if {"MinShape", "OptShape", "MaxShape"} <= p.keys())
    fmt = infos[0].get("Format", "") if infos else ""
    return IOTensor(d["Name"], d["IOMode"], normalise_dtype(d.get("DataType") or d["Datatype"]),
                    _ints(d["Dimensions"]), profiles, fmt)


_IO_HEADS = ("\n\nI/O Tensors:\n", "\n\nBindings:\n")
_META_HEAD = "\n\nEngine Metadata:\n"


# --------------------------------------------------------------------------------------------
# Masking the model's own names before the message is read
# --------------------------------------------------------------------------------------------
# Backtracking over where a name ends settles names that imitate a *field*, but not names that
# imitate whole *records*: a node called "a, LayerType: kgen, ..., Metadata: \nName: b, ..."
# reads as two layers as well as TensorRT's one, and preferring either reading lets a name
# either add layers or hide them. So where the model's names are known, each occurrence of one
# in a place where TensorRT prints a name is replaced by a single private-use character before
# the message is read, and restored after. The reader then never sees syntax that came from
# the model: layers, I/O tensors and fused nodes come out as with plain names.
#
# Where TensorRT prints a name, and what it prints right after it (measured on TensorRT-RTX
# 1.7 builds of mobilenet_v2 with hostile names): a layer name is a node name (or several
# joined by "+") with a "_myl<g>_<i>" suffix, a tensor name has a ".1_49_myl0"-like suffix, a
# fused node sits alone in its "[ONNX Layer: ...]" and an I/O tensor is printed as it is.
# An occurrence counts only in such a place and only when that follows, so a name that
# happens to spell TensorRT's own text elsewhere is left alone.
_NAME_SLOT = re.compile(r"\nName: |\{ Name: |\[ONNX Layer: |\n Name: |\+")
_LAYER_NAME_END = re.compile(r"[\w.\-]*(?:, LayerType: |\+)")
_FOLLOWS = {
    "\nName: ": _LAYER_NAME_END,
    "+": _LAYER_NAME_END,
    "{ Name: ": re.compile(r"[\w.\-]*, Dimensions: "),
    "[ONNX Layer: ": re.compile(r"\]| \| Local Function: "),
    "\n Name: ": re.compile(r", IOMode: "),
}
# Characters that can take part in the message's syntax. A name without them cannot be read
# as anything but a name, so it needs no mask.
_SYNTAX_CHARS = frozenset("\n\r,:[]{}()+|\x1e\x1f")
# Private-use planes 15 and 16: never printed by TensorRT; a character the message already
# holds (a model may use them too) is never used as a mask.
_MASK_CODEPOINTS = (range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))


def _printed(name: str) -> str:
    return name.replace('"', "_").replace("\\", "_")


class _Masks:
    """The model's names in one message, each replaced by one private-use character."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        # TensorRT prints '"' and '\\' as '_' in layer and tensor names (not in Metadata).
        variants = {v for name in names for v in (name, _printed(name))
                    if v and not _SYNTAX_CHARS.isdisjoint(v)}
        self._by_length: dict[int, set[str]] = defaultdict(set)
        for v in variants:
            self._by_length[len(v)].add(v)
        self._lengths = sorted(self._by_length, reverse=True)
        used = set(text)
        self._free = (chr(c) for r in _MASK_CODEPOINTS for c in r if chr(c) not in used)
        self._token: dict[str, str] = {}
        self.table: dict[int, str] = {}  # for str.translate: mask -> the name as printed

    def _mask(self, name: str) -> str:
        token = self._token.get(name)
        if token is None:
            token = next(self._free, None)
            if token is None:  # 2 x 65534 distinct names in one message: leave the rest
                return name
            self._token[name] = token
            self.table[ord(token)] = name
        return token

    def apply(self, text: str) -> str:
        """``text`` with every name in a name's place masked (the longest name that fits)."""
        if not self._lengths:
            return text
        out: list[str] = []
        cursor = 0
        for m in _NAME_SLOT.finditer(text):
            start = m.end()
            if m.start() < cursor:
                continue  # the opener is inside a name already masked
            follows = _FOLLOWS[m.group()]
            for n in self._lengths:
                name = text[start:start + n]
                if name in self._by_length[n] and follows.match(text, start + n):
                    out.append(text[cursor:start])
                    out.append(self._mask(name))
                    cursor = start + n
                    break
        out.append(text[cursor:])
        return "".join(out)

    def restore(self, value: Any) -> Any:
        """``value`` (a string, or the reader's dicts and tuples of them) with names restored."""
        if not self.table:
            return value
        if isinstance(value, str):
            return value.translate(self.table)
        if isinstance(value, dict):
            return {k: self.restore(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.restore(v) for v in value)
        if isinstance(value, IOTensor):
            return replace(value, name=self.restore(value.name),
                           format=self.restore(value.format))
        return value

    def of(self, names: Collection[str]) -> set[str]:
        """``names`` as the masked message spells them."""
        masked = set(names)
        masked.update(self._mask(n) for n in names if n in self._token)
        return masked


def _parse_layers_message(text: str, restore: Callable[[str], str] = str
                          ) -> tuple[list[dict[str, Any]], tuple[IOTensor, ...]]:
    body = text[len("Layers:\n"):] if text.startswith("Layers:\n") else text[len("Layers:"):]
    body = "\n" + body  # so a missing layer list still reads "\n\nI/O Tensors:\n"
    # The section heads follow every layer record, so the last real head is the last one that
    # leaves parseable sections on both sides; a node name that contains one comes earlier.
    candidates = sorted((m.start(), head) for head in _IO_HEADS
                        for m in re.finditer(re.escape(head), body))
    meta = body.rfind(_META_HEAD)
    if not candidates:  # an older log without the I/O section
        end = meta if meta >= 0 else len(body)
        layers = _records(body[1:end].rstrip("\n"), "Name: ", _parse_layer)
        if layers is not None:
            return _choose_layers(layers, ()), ()
    for pos, head in reversed(candidates):
        io_text = body[pos + len(head):meta if meta > pos else len(body)]
        ios = _records(io_text.rstrip("\n"), " Name: ", _parse_io)
        if ios is None:
            continue
        layers = _records(body[1:pos], "Name: ", _parse_layer)
        if layers is not None:
            io = tuple(_io_from_log(readings[0]) for readings in ios)
            return _choose_layers(layers, (t.name for t in io if t.mode == "Input")), io
    raise InspectError(
        "cannot read the layer information in the build log (the 'Layers:' message, which "
        f"starts {restore(body[1:100])!r}); report it to trtdoc with the log, and use inspector "
        "JSON or trtexec --exportLayerInfo meanwhile")


_MEMORY_LINE = re.compile(
    r"(Total Weights Memory|Total Activation Memory|Max Scratch Memory|"
    r"Total Host Persistent Memory|Total Device Persistent Memory): (\d+) bytes\s*$")
_MEMORY_FIELD = {
    "Total Weights Memory": "weights", "Total Activation Memory": "activation",
    "Max Scratch Memory": "scratch", "Total Host Persistent Memory": "host_persistent",
    "Total Device Persistent Memory": "device_persistent",
}


def inspection_from_build_log(messages: Iterable[str], *, optimization_profile: int | None = 0,
                              onnx_nodes: Collection[str] | None = None,
                              onnx_tensors: Collection[str] | None = None) -> Inspection:
    """Layers, I/O tensors and memory totals from the builder's log messages.

    ``messages`` are the strings the builder passed to ``ILogger.log``, one per call (the
    ``Layers:`` message spans many lines and must stay whole). The engine must have been built
    with ``ProfilingVerbosity.DETAILED`` and a logger that kept VERBOSE messages.

    ``optimization_profile`` selects whose layers to list (an engine holds one copy of its
    layers per profile); None lists all.

    ``onnx_nodes`` and ``onnx_tensors`` are the model's node and tensor names. Pass them
    whenever the model is at hand: names come from whoever made the model, and with them the
    layers, tensors and fused nodes read the same whatever the names say (see ``_Masks``).
    Without them, a name that imitates whole layer records can still add or hide layers.
    """
    layers_text: str | None = None
    memory: dict[str, int] = {}
    for message in messages:
        if message.startswith("Layers:"):
            layers_text = message  # a logger reused across builds: the last build wins
            continue
        m = _MEMORY_LINE.match(message)
        if m:
            field, value = _MEMORY_FIELD[m.group(1)], int(m.group(2))
            # The builder reports activation and scratch memory once per optimisation profile;
            # an execution context needs the one of its profile, so the engine needs the
            # largest of them (not whichever profile happened to be logged last).
            if field in ("activation", "scratch"):
                value = max(value, memory.get(field, 0))
            memory[field] = value
    if layers_text is None:
        raise InspectError(f"the build log has no layer information; {DETAILED_HINT}")
    masks = _Masks(layers_text, [*(onnx_nodes or ()), *(onnx_tensors or ())])
    raw_layers, io = _parse_layers_message(masks.apply(layers_text), masks.restore)
    # Fused nodes are split while still masked, so a masked node name stays one node.
    nodes = masks.of(onnx_nodes) if onnx_nodes is not None else None
    layers = [
        _layer(masks.restore(d["Name"]), d["LayerType"],
               tuple(_tensor_from_log(masks.restore(t)) for t in d["Inputs"]),
               tuple(_tensor_from_log(masks.restore(t)) for t in d["Outputs"]),
               tuple(_tensor_from_log(masks.restore(t)) for t in d.get("Constants", ())),
               (d.get("TacticName", "").strip() or d.get("TacticValue", "").strip()),
               tuple(dict.fromkeys(masks.restore(f) for f in
                                   fused_from_metadata(d.get("Metadata", ""), nodes))))
        for d in raw_layers
    ]
    io = tuple(masks.restore(t) for t in io)
    count = max([len(t.profiles) for t in io if t.mode == "Input"] or [1])
    return _finish("build-log", layers, io, Memory(**memory), optimization_profile, count)


def _layer(name: str, type_: str, inputs: tuple[TensorDesc, ...],
           outputs: tuple[TensorDesc, ...], constants: tuple[TensorDesc, ...], tactic: str,
           fused: tuple[str, ...]) -> Layer:
    return Layer(name=name, type=type_, inputs=inputs, outputs=outputs, tactic=tactic,
                 fused=fused, precision=layer_precision(inputs, constants), constants=constants)


def _assign_profiles(layers: Sequence[Layer], count: int) -> list[Layer]:
    """Tag each layer with the optimisation profile it serves.

    TensorRT marks the copies for profile N >= 1 with "[profile N]" in some name: the layer's,
    a tensor's, or a fused node's. Myelin-generated names carry no mark, but a whole Myelin
    graph (the _myl<K>_ suffix) serves one profile, and the copies are listed profile by
    profile, so an unmarked layer takes its graph's profile, else its predecessor's.
    """
    def marks(layer: Layer) -> int | None:
        names = [layer.name, *(t.name for t in layer.inputs + layer.outputs), *layer.fused]
        found = [int(m) for n in names for m in _PROFILE_MARK.findall(n) if int(m) < count]
        return max(found) if found else None

    own = [marks(layer) for layer in layers]
    graph_profile: dict[str, int] = {}
    for layer, mark in zip(layers, own, strict=True):
        g = _MYELIN_GRAPH.search(layer.name)
        if g and mark is not None:
            graph_profile[g.group(1)] = max(mark, graph_profile.get(g.group(1), 0))
    out, current = [], 0
    for layer, mark in zip(layers, own, strict=True):
        if mark is None:
            g = _MYELIN_GRAPH.search(layer.name)
            mark = graph_profile.get(g.group(1)) if g else None
        current = current if mark is None else mark
        out.append(_replace_profile(layer, current))
    return out


def _replace_profile(layer: Layer, profile: int) -> Layer:
    if layer.profile == profile:
        return layer
    return replace(layer, profile=profile)


def _finish(source: str, layers: Sequence[Layer], io: Sequence[IOTensor], memory: Memory,
            optimization_profile: int | None, count: int,
            path: Path | str | None = None) -> Inspection:
    tagged = _assign_profiles(layers, count)
    count = max([count, *(layer.profile + 1 for layer in tagged)])
    if optimization_profile is not None:
        if not 0 <= optimization_profile < count:
            raise InspectError(
                f"optimization profile {optimization_profile} does not exist; the engine has "
                f"{count} (numbered from 0)", source=path)
        tagged = [layer for layer in tagged if layer.profile == optimization_profile]
    return Inspection(source=source, layers=tuple(tagged), io=tuple(io), memory=memory,
                      optimization_profile=optimization_profile, profile_count=count)


# --------------------------------------------------------------------------------------------
# IEngineInspector JSON (and trtexec --exportLayerInfo, which is the same)
# --------------------------------------------------------------------------------------------
# Exports of huge engines (10^6 layers, near 1 GB of JSON) are read as a stream: the file in
# chunks, the top-level object walked here, and each layer decoded alone by json's C scanner
# and turned into a Layer at once. Decoding the whole file first held the text, a dict per
# layer and tensor, and then the Layers: 8 GB for 10^6 layers.
_CHUNK = 1 << 20
# The largest single JSON value read whole: one layer, the I/O tensor list, or any other key's
# value (a real layer is under 10 KB; TensorRT truncates Metadata at 4,000 characters).
MAX_JSON_VALUE_CHARS = 64 << 20
_WS = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder().raw_decode
# Interning tables are cleared past this many entries, so hostile input cannot grow them.
_INTERN_LIMIT = 1 << 16


class _JsonStream:
    """A JSON text read in chunks, for walking its top level by hand.

    ``value()`` decodes the next whole value with json's C scanner. Errors read as
    ``json.loads`` words them (with the line, column and character of the whole text), so a
    file gives the same one line whether it is read here or at once.
    """

    def __init__(self, what: str, path: Path | str | None, *, f: Any = None, text: str = "",
                 limit: int = 0, sha256: Any = None, file_what: str | None = None) -> None:
        import codecs

        # What the text is called in JSON errors, and what the file is in reading errors.
        self.what, self.file_what, self.path = what, file_what or what, path
        self._f, self._limit, self._sha256 = f, limit, sha256
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._read = 0  # bytes read from the file
        self.buf, self.pos = text, 0
        self.eof = f is None
        self._base = self._lines = self._col0 = 0  # where buf starts in the whole text

    def _fill(self) -> None:
        if self.pos > _CHUNK:  # drop what was read, keeping the count of lines for errors
            head = self.buf[:self.pos]
            newlines = head.count("\n")
            self._col0 = (self.pos - head.rfind("\n") - 1) if newlines else self._col0 + self.pos
            self._lines += newlines
            self._base += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        raw = self._f.read(_CHUNK)
        pending = len(self._decoder.getstate()[0])
        start = self._read - pending
        self._read += len(raw)
        if self._read > self._limit:
            raise InspectError(f"the {self.file_what} is over {self._limit:,} bytes; trtdoc "
                               f"reads at most {self._limit:,} ({_size(self._limit)})",
                               source=self.path)
        if self._sha256 is not None:
            self._sha256.update(raw)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise InspectError(f"the {self.file_what} is not UTF-8 text (byte "
                               f"0x{exc.object[exc.start]:02x} at offset {start + exc.start})",
                               source=self.path) from None
        self.eof = not raw
        self.buf += text

    def error(self, message: str, pos: int | None = None) -> InspectError:
        """``message`` at ``pos`` in buf (default: here), as json.loads words it."""
        pos = self.pos if pos is None else pos
        line = self._lines + self.buf.count("\n", 0, pos) + 1
        last = self.buf.rfind("\n", 0, pos)
        col = pos - last if last >= 0 else self._col0 + pos + 1
        return InspectError(f"the {self.what} is not JSON ({message}: line {line} column {col} "
                            f"(char {self._base + pos}))", source=self.path)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), without taking it."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self._fill()

    def take(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value, decoded."""
        self.peek()
        while True:
            try:
                value, end = _SCAN(self.buf, self.pos)
                # A number (or literal) that ends where the buffer does may go on in the file.
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            except RecursionError:  # "[" * 100000: the scanner recurses per level
                raise InspectError(f"the {self.what} is nested too deeply to be read",
                                   source=self.path) from None
            except json.JSONDecodeError as exc:
                # Incomplete input fails at its end (or in a string that runs past it); any
                # other failure is the file's.
                incomplete = (exc.pos >= len(self.buf) - 6
                              or exc.msg.startswith("Unterminated string"))
                if self.eof or not incomplete:
                    raise self.error(exc.msg, exc.pos) from None
            if len(self.buf) - self.pos > MAX_JSON_VALUE_CHARS:
                raise InspectError(
                    f"the {self.what} holds a single JSON value of over "
                    f"{MAX_JSON_VALUE_CHARS:,} characters (at character {self._base + self.pos:,}"
                    "); trtdoc reads no larger value", source=self.path)
            self._fill()

    def items(self, limit: int, too_many: Callable[[], str]) -> Iterator[Any]:
        """The elements of the array that starts here, one by one; past ``limit`` elements
        this raises with the message ``too_many()``."""
        self.take("[", "Expecting value")
        if self.peek() == "]":
            self.pos += 1
            return
        n = 0
        while True:
            n += 1
            if n > limit:
                raise InspectError(too_many(), source=self.path)
            yield self.value()
            c = self.peek()
            self.pos += 1
            if c == "]":
                return
            if c != ",":
                self.pos -= 1
                raise self.error("Expecting ',' delimiter")

    def end(self) -> None:
        """Refuse anything but white space after the top-level value."""
        if self.peek():
            raise self.error("Extra data")


def _size(limit: int) -> str:
    return f"{limit // 2**30} GiB" if limit % 2**30 == 0 else f"{limit // 2**20} MiB"


def _require(d: Any, key: str, what: str, path: Path | str | None) -> Any:
    if not isinstance(d, Mapping) or key not in d:
        raise InspectError(f"{what} has no {key!r} key; is this IEngineInspector JSON "
                           "(trtexec --exportLayerInfo)?", source=path)
    return d[key]


class _Interned:
    """Equal values read from an export, stored once: a layer's input is its producer's
    output, and formats, types, shapes and weights repeat from layer to layer."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self.dtypes: dict[str, str] = {}

    def get(self, value: Any) -> Any:
        if len(self.values) > _INTERN_LIMIT:
            self.values.clear()
        return self.values.setdefault(value, value)

    def dtype(self, text: str) -> str:
        found = self.dtypes.get(text)
        if found is None:
            if len(self.dtypes) > _INTERN_LIMIT:
                self.dtypes.clear()
            found = self.dtypes[text] = normalise_dtype(text)
        return found


def _tensor_from_json(t: Any, where: str, path: Path | str | None) -> TensorDesc:
    name = _require(t, "Name", where, path)
    dims = t.get("Dimensions", [])
    try:
        dims_t = tuple(int(x) for x in dims)
    except (TypeError, ValueError):
        raise InspectError(f"{where}: tensor {name!r} has Dimensions {dims!r}, not a list of "
                           "integers", source=path) from None
    fmt = str(t.get("Format/Datatype") or t.get("Format") or "")
    dtype = str(t.get("Datatype") or t.get("DataType") or fmt)
    return TensorDesc(str(name), dims_t, normalise_dtype(dtype), fmt.strip(),
                      str(t.get("Location", "")))


def _tensors_from_json(raw: Any, where: str, path: Path | str | None,
                       interned: _Interned) -> tuple[TensorDesc, ...]:
    """A layer's "Inputs" or "Outputs". A tensor as trtexec writes it (string values, a list of
    integers) is looked up by its raw values first: each one but the engine's inputs is
    read twice, as its producer's output and its consumer's input."""
    if not raw:
        return ()
    out = []
    cache = interned.values
    for t in raw:
        if type(t) is dict:
            dims = t.get("Dimensions")
            key = (t.get("Name"), t.get("Format/Datatype"), t.get("Format"),
                   t.get("Datatype"), t.get("DataType"), t.get("Location"))
            if (type(dims) is list and type(key[0]) is str
                    and all(type(v) is str for v in key[1:] if v is not None)
                    and all(type(x) is int for x in dims)):
                full = (key, *dims)
                found = cache.get(full)
                if found is None:
                    d = _tensor_from_json(t, where, path)
                    found = TensorDesc(d.name, interned.get(d.dims), interned.get(d.dtype),
                                       interned.get(d.format), interned.get(d.location))
                    if len(cache) > _INTERN_LIMIT:
                        cache.clear()
                    cache[full] = found
                out.append(found)
                continue
        out.append(_tensor_from_json(t, where, path))
    return tuple(out)


def _weights_from_json(raw: Mapping[str, Any], interned: _Interned | None = None
                       ) -> tuple[TensorDesc, ...]:
    """A layer's ``"Weights"`` and ``"Bias"`` (``{"Type": "Half", "Count": 9408}``, the keys
    TREx reads) as constants; entries without a usable type or count are left out."""
    out = []
    for key in ("Weights", "Bias"):
        w = raw.get(key)
        if not isinstance(w, Mapping):
            continue
        type_ = str(w.get("Type", ""))
        dtype = interned.dtype(type_) if interned is not None else normalise_dtype(type_)
        try:
            count = int(w.get("Count", 0))
        except (TypeError, ValueError):
            continue
        if dtype and count > 0:
            t = TensorDesc(key, (count,), dtype, "")
            out.append(interned.get(t) if interned is not None else t)
    return tuple(out)


def _layer_from_json(raw: Any, i: int, path: Path | str | None,
                     onnx_nodes: Collection[str] | None, interned: _Interned) -> Layer:
    if isinstance(raw, str):
        raise InspectError(
            "the engine information lists layer names only, so the engine was built below "
            f"ProfilingVerbosity DETAILED; {DETAILED_HINT}", source=path)
    name = str(_require(raw, "Name", f"layer {i}", path))
    where = f"layer {i} ({name!r})"
    type_ = interned.get(str(raw.get("LayerType") or raw.get("ParameterType") or ""))
    inputs = _tensors_from_json(raw.get("Inputs"), where, path, interned)
    outputs = _tensors_from_json(raw.get("Outputs"), where, path, interned)
    tactic = interned.get(str(raw.get("TacticName") or raw.get("TacticValue") or "").strip())
    metadata = raw.get("Metadata") or ""
    fused = fused_from_metadata(str(metadata), onnx_nodes) if metadata else ()
    return _layer(name, type_, inputs, outputs, _weights_from_json(raw, interned), tactic,
                  fused)


def _io_from_json(entry: Any, layers: Sequence[Layer], path: Path | str | None,
                  seen: Mapping[str, tuple[str, TensorDesc]] | None = None) -> IOTensor:
    if isinstance(entry, str):
        # TensorRT 8.x-10 list only the names. Read dtype and shape off the layer that
        # consumes or produces the tensor; an input is a tensor no layer produces.
        if seen is None:
            seen = _binding_tensors(layers, {entry})
        mode, t = seen.get(entry, ("Input", None))
        if t is None:
            return IOTensor(entry, mode, "", ())
        return IOTensor(entry, mode, t.dtype, t.dims, (), t.format)
    name = str(_require(entry, "Name", "an I/O tensor", path))
    mode = str(entry.get("IOMode", "")).capitalize()
    if mode not in ("Input", "Output"):
        raise InspectError(f"I/O tensor {name!r} has IOMode {entry.get('IOMode')!r}, not "
                           "Input or Output", source=path)
    infos = entry.get("ProfileInfo") or []
    profiles = tuple(
        ProfileShape(tuple(p["MinShape"]), tuple(p["OptShape"]), tuple(p["MaxShape"]))
        for p in infos
        if isinstance(p, Mapping) and {"MinShape", "OptShape", "MaxShape"} <= p.keys()
    )
    fmt = str(infos[0].get("Format", "")) if infos and isinstance(infos[0], Mapping) else ""
    dtype = str(entry.get("DataType") or entry.get("Datatype") or "")
    return IOTensor(name, mode, normalise_dtype(dtype),
                    tuple(int(x) for x in entry.get("Dimensions", [])), profiles, fmt)


def _binding_tensors(layers: Sequence[Layer], names: Collection[str]
                     ) -> dict[str, tuple[str, TensorDesc]]:
    """For each of ``names``: ("Output", the last layer output of that name) if a layer
    produces it, else ("Input", the last layer input of that name). One pass over the layers,
    keeping only the names asked for."""
    produced: dict[str, TensorDesc] = {}
    consumed: dict[str, TensorDesc] = {}
    for layer in layers:
        for t in layer.outputs:
            if t.name in names:
                produced[t.name] = t
        for t in layer.inputs:
            if t.name in names:
                consumed[t.name] = t
    out = {name: ("Input", t) for name, t in consumed.items()}
    out.update((name, ("Output", t)) for name, t in produced.items())
    return out


def _json_kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def inspection_from_inspector_json(text: str, *, optimization_profile: int | None = 0,
                                   onnx_nodes: Collection[str] | None = None,
                                   path: Path | str | None = None) -> Inspection:
    """Layers and I/O tensors from ``IEngineInspector.get_engine_information(JSON)``.

    Reads TensorRT 8.x-10 (``{"Layers", "Bindings"}``) and 11 (``"I/O Tensors"``). The engine
    must have been built with ``ProfilingVerbosity.DETAILED``; at lower verbosity the layers
    are bare names and this raises :class:`InspectError`. ``path`` names the file in errors.
    """
    return _inspection_from_stream(_JsonStream("engine information", path, text=text),
                                   optimization_profile, onnx_nodes)


def _inspection_from_stream(s: _JsonStream, optimization_profile: int | None,
                            onnx_nodes: Collection[str] | None) -> Inspection:
    path = s.path
    if s.peek() != "{":
        data = s.value()
        s.end()
        raise InspectError(f"the engine information is a JSON {_json_kind(data)}, not the "
                           "object IEngineInspector and trtexec --exportLayerInfo write",
                           source=path)
    s.pos += 1
    layers: list[Layer] | None = None
    other: dict[str, Any] = {}
    interned = _Interned()

    def too_many() -> str:
        return (f"the engine information lists over {MAX_LAYERS:,} layers; trtdoc reads at "
                f"most {MAX_LAYERS:,}")

    # A million layers are millions of objects, none in a cycle: the cyclic collector would
    # rescan all of them every few thousand allocations (most of the time of a big import).
    enabled = gc.isenabled()
    gc.disable()
    try:
        c = s.peek()
        while c != "}":
            if c != '"':
                raise s.error("Expecting property name enclosed in double quotes")
            key = s.value()
            s.take(":", "Expecting ':' delimiter")
            if key == "Layers" and s.peek() == "[":
                if layers is not None:
                    raise InspectError("the engine information has two 'Layers' keys",
                                       source=path)
                layers = [_layer_from_json(raw, i, path, onnx_nodes, interned)
                          for i, raw in enumerate(s.items(MAX_LAYERS, too_many))]
            elif key == "Layers":
                s.value()
                raise InspectError("'Layers' is not a list", source=path)
            else:
                other[key] = s.value()
            c = s.peek()
            if c == ",":
                s.pos += 1
                c = s.peek()
                if c != '"':
                    raise s.error("Expecting property name enclosed in double quotes")
            elif c != "}":
                raise s.error("Expecting ',' delimiter")
        s.pos += 1
        s.end()
    finally:
        if enabled:
            gc.enable()
    del interned
    if layers is None:
        raise InspectError("the engine information has no 'Layers' key; is this "
                           "IEngineInspector JSON (trtexec --exportLayerInfo)?", source=path)
    raw_io = other.get("I/O Tensors", other.get("Bindings", []))
    if not isinstance(raw_io, list):
        raise InspectError("'I/O Tensors' / 'Bindings' is not a list", source=path)
    names = {entry for entry in raw_io if isinstance(entry, str)}
    seen = _binding_tensors(layers, names) if names else {}
    io = [_io_from_json(entry, layers, path, seen) for entry in raw_io]
    # Old engines list one binding per profile ("input [profile 1]"); keep the first copy.
    marked = [int(m) for t in io for m in _PROFILE_MARK.findall(t.name)]
    io = [t for t in io if not _PROFILE_MARK.search(t.name)]
    count = max([len(t.profiles) for t in io if t.mode == "Input"] + [m + 1 for m in marked]
                + [1])
    return _finish("inspector-json", layers, io, Memory(), optimization_profile, count, path)


# --------------------------------------------------------------------------------------------
# trtexec exports
# --------------------------------------------------------------------------------------------
# Limits on imported exports. Real exports are far below them (ResNet-18's layer JSON is 31 KB
# for 36 layers; a 1,000-layer LLM engine's is a few MB). They are set so that the largest
# export one could make, 10^6 layers in trtexec's layout (about 850 MiB with the ResNet-18
# layers' shapes), imports with room to spare, while a stray or hostile file stays bounded:
# the files are read as a stream, so memory grows with the layers kept, about 0.5 KB each,
# never with the size of the text.
MAX_EXPORT_BYTES = 2 * 1024 * 1024 * 1024
MAX_LAYERS = 2_000_000


def _open_export(path: Path, what: str, limit: int | None = None) -> Any:
    """The regular file ``path`` opened for reading, when it is at most ``limit`` bytes (None:
    ``MAX_EXPORT_BYTES``).

    Opened non-blocking and checked with fstat before a byte is read, so a FIFO never hangs,
    /dev/zero or a directory is refused, and a file larger than the limit is not read at all.
    """
    limit = MAX_EXPORT_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            # errors.display_path resolves the path, which raises on a loop: name it as given.
            error = InspectError(f"{path}: cannot read the {what} ({exc.strerror})")
            error.source = path
            raise error from None
        raise InspectError(f"cannot read the {what} ({exc.strerror or exc})",
                           source=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                    "a FIFO" if stat.S_ISFIFO(info.st_mode) else
                    "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a file")
            raise InspectError(f"the {what} is {kind}, not a regular file", source=path)
        if info.st_size > limit:
            raise InspectError(f"the {what} is {info.st_size:,} bytes; trtdoc reads at most "
                               f"{limit:,} ({_size(limit)})", source=path)
        return os.fdopen(os.dup(fd), "rb")
    finally:
        os.close(fd)


def _stream(path: Path, what: str, json_what: str,
            sha256: Any = None) -> tuple[Any, _JsonStream]:
    """The open file ``path`` and a :class:`_JsonStream` of it (a file that grows while it is
    read is still capped at ``MAX_EXPORT_BYTES``)."""
    f = _open_export(path, what)
    return f, _JsonStream(json_what, path, f=f, limit=MAX_EXPORT_BYTES, sha256=sha256,
                          file_what=what)


def inspection_from_trtexec(layer_info: Path, profile: Path | None = None, *,
                            optimization_profile: int | None = 0,
                            onnx_nodes: Collection[str] | None = None,
                            sha256: Any = None) -> Inspection:
    """Layers from ``trtexec --exportLayerInfo``, with times from ``--exportProfile``.

    The profile is ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs",
    "percentage"}, ...]``. Each layer gets ``time_ms`` = averageMs (per inference) and
    ``time_pct`` = percentage, joined by name (the k-th of equal names to the k-th).
    ``sha256`` (a ``hashlib`` object, None for none) is fed the layer file's bytes as they
    are read, so the caller need not read the file again to hash it.
    """
    f, s = _stream(layer_info, "layer information", "engine information", sha256)
    with f:
        inspection = _inspection_from_stream(s, optimization_profile, onnx_nodes)
    if profile is None:
        return Inspection("trtexec", inspection.layers, inspection.io, inspection.memory,
                          inspection.optimization_profile, inspection.profile_count)
    f, s = _stream(profile, "trtexec profile", "trtexec profile")
    enabled = gc.isenabled()
    gc.disable()  # as in _inspection_from_stream
    try:
        with f:
            _join_profile(inspection.layers, s, layer_info.name)
    finally:
        if enabled:
            gc.enable()
    return Inspection("trtexec", inspection.layers, inspection.io, inspection.memory,
                      inspection.optimization_profile, inspection.profile_count)


def _join_profile(layers: Sequence[Layer], s: _JsonStream, layer_file: str) -> None:
    """Set each layer's time from the profile records streamed from ``s``.

    trtexec lists the records in the layers' order, so they are read only as far as the
    next layer needs: records passed over wait in per-name queues, and in the usual case none
    wait at all. Then the rest is read too, so every record is checked.
    """
    path = s.path
    if s.peek() != "[":
        s.value()
        s.end()
        raise InspectError("the trtexec profile is not a JSON list; export it with trtexec "
                           "--exportProfile=<file>", source=path)

    def too_many() -> str:
        return (f"the trtexec profile lists over {MAX_LAYERS:,} layers; trtdoc reads at most "
                f"{MAX_LAYERS:,}")

    records = s.items(MAX_LAYERS + 1, too_many)  # the first record is {"count": N}
    waiting: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
    timed = 0

    def next_timed() -> tuple[str, float, float] | None:
        nonlocal timed
        for rec in records:
            if isinstance(rec, Mapping) and "name" in rec:
                try:
                    avg, pct = float(rec["averageMs"]), float(rec["percentage"])
                    if not (math.isfinite(avg) and math.isfinite(pct)):
                        raise ValueError
                except (KeyError, TypeError, ValueError):
                    raise InspectError(f"profile record {rec.get('name')!r} lacks a numeric "
                                       "averageMs or percentage", source=path) from None
                timed += 1
                return str(rec["name"]), avg, pct
        return None

    matched = 0
    done = False
    for layer in layers:
        queue = waiting.get(layer.name)
        found = queue.popleft() if queue else None
        while found is None and not done:
            rec = next_timed()
            if rec is None:
                done = True
            elif rec[0] == layer.name:
                found = rec[1:]
            else:
                waiting[rec[0]].append(rec[1:])
        if found is not None:
            matched += 1
            # The layers were made by this parse a moment ago and are not shared yet.
            object.__setattr__(layer, "time_ms", found[0])
            object.__setattr__(layer, "time_pct", found[1])
    while next_timed() is not None:
        pass
    s.end()
    if timed == 0:
        raise InspectError("the trtexec profile has no layer records", source=path)
    if matched == 0:
        raise InspectError(
            f"none of the {timed} timed layers in the profile is a layer of {layer_file}; "
            "export both files from the same trtexec run", source=path)


# --------------------------------------------------------------------------------------------
# A live engine (GPU hosts only)
# --------------------------------------------------------------------------------------------
def gpu_runtime_available(trt_module: Any) -> tuple[bool, str]:
    """``(True, "")`` when ``trt_module`` can deserialise engines here, else ``(False, why)``.

    Asks the CUDA driver directly (cuInit, cuDeviceGetCount through ctypes) and never raises:
    a machine without a GPU is the normal case for trtdoc.
    """
    name = getattr(trt_module, "__name__", "the TensorRT module")
    for attr in ("Runtime", "LayerInformationFormat", "ILogger"):
        if not hasattr(trt_module, attr):
            return False, f"{name} has no {attr}, so it cannot deserialise engines"
    from trtdoc.backends.cuda import cuda_device_status

    try:
        return cuda_device_status()
    except (OSError, AttributeError) as exc:  # a libcuda without the symbols we call
        return False, f"the CUDA driver could not be queried ({exc})"


def inspection_from_engine(engine_bytes: bytes, trt_module: Any, *,
                           optimization_profile: int | None = 0,
                           onnx_nodes: Collection[str] | None = None) -> Inspection:
    """Deserialise ``engine_bytes`` with ``trt_module`` and read its engine inspector JSON.

    Needs a CUDA driver and a GPU the engine supports; check :func:`gpu_runtime_available`
    first. Without them, use :func:`inspection_from_build_log` on the build's log instead.
    """
    ok, why = gpu_runtime_available(trt_module)
    if not ok:
        raise InspectError(f"cannot deserialise the engine here: {why}. Read the layers from "
                           "the DETAILED build log instead")

    class _Collect(trt_module.ILogger):  # type: ignore[misc,name-defined]
        # The library never prints, so TensorRT's complaints become part of the error.
        def __init__(self) -> None:
            trt_module.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if "ERROR" in str(severity):
                self.errors.append(msg)

    logger = _Collect()
    runtime = trt_module.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(engine_bytes)
    if engine is None:
        detail = "; ".join(logger.errors) or "no message"
        raise InspectError(f"{trt_module.__name__} could not deserialise the engine ({detail});"
                           " it needs the TensorRT version and a GPU the engine was built for")
    inspector = engine.create_engine_inspector()
    text = inspector.get_engine_information(trt_module.LayerInformationFormat.JSON)
    inspection = inspection_from_inspector_json(
        text, optimization_profile=optimization_profile, onnx_nodes=onnx_nodes)
    activation = getattr(engine, "device_memory_size_v2", None)
    if activation is None:
        activation = getattr(engine, "device_memory_size", None)
    return Inspection(inspection.source, inspection.layers, inspection.io,
                      Memory(activation=int(activation) if activation is not None else None),
                      inspection.optimization_profile, inspection.profile_count)

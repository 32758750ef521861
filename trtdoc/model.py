"""Facts about an ONNX model, read without loading its weights.

The protobuf is read field by field from a memory map: weight bytes, inside the file or in
external data, are skipped by offset and never copied, so a model of several GB stays cheap to
check, and ``onnx`` is not imported at all, but for a model with a constant subgraph, whose
weights constant_folding.py computes (bounded) so that the parameter count includes them.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import Field, PlainValidator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from trtdoc.constant_folding import NOT_FOLDED
from trtdoc.errors import TrtdocError, display_path
from trtdoc.paths import write_cache_file

# ONNX TensorProto element types as words a reader knows.
_DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
    20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
}
_ITEMSIZE = {
    "float32": 4, "uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "int64": 8,
    "bool": 1, "float16": 2, "float64": 8, "uint32": 4, "uint64": 8, "bfloat16": 2,
    "float8e4m3fn": 1, "float8e4m3fnuz": 1, "float8e5m2": 1, "float8e5m2fnuz": 1,
}


class ModelError(TrtdocError):
    """A model file that is missing or is not ONNX."""

    def __init__(self, message: str, *, path: Path, missing: bool = False) -> None:
        self.path = path
        self.reason = message
        self.missing = missing
        super().__init__(f"{display_path(path)}: {message}")


@dataclass(frozen=True)
class ModelTensor:
    """An ONNX graph input or output. Dimensions are ints, or names for dynamic axes."""

    __pydantic_config__ = {"extra": "forbid"}  # records are decoded strictly: see record/codec.py

    name: str
    dtype: str
    dims: tuple[int | str, ...]

    @property
    def is_dynamic(self) -> bool:
        return any(not isinstance(d, int) or d < 0 for d in self.dims)


_Count = Annotated[int, Field(ge=0)]


def _not_in_records(value: Any) -> Any:
    # A record never holds these keys, so one that does is refused like any unknown key.
    raise PydanticCustomError("extra_forbidden", "Extra inputs are not permitted")


# A field of the facts read from the model that records do not store: left out of the
# encoder and the JSON Schema, and refused by the decoder.
_T = TypeVar("_T")
_NotStored = Annotated[_T, Field(exclude=True), PlainValidator(_not_in_records), SkipJsonSchema()]


@dataclass(frozen=True)
class ModelFacts:
    """What a page shows about the ONNX model."""

    __pydantic_config__ = {"extra": "forbid"}

    ir_version: int
    # (domain, version); "" is the default ONNX domain
    opset: tuple[tuple[str, int], ...]
    producer: str
    producer_version: str
    nodes: _Count
    op_histogram: tuple[tuple[str, _Count], ...]  # sorted by count, then name
    parameters: _Count
    parameter_bytes: _Count
    external_data: bool
    inputs: tuple[ModelTensor, ...]
    outputs: tuple[ModelTensor, ...]
    custom_domains: tuple[str, ...] = ()
    # Not stored in records: only the log parser needs them, to split hostile node names.
    node_names: _NotStored[frozenset[str]] = field(
        default=frozenset(), compare=False, repr=False)
    # Likewise every tensor name (node inputs and outputs, graph I/O, initializers).
    tensor_names: _NotStored[frozenset[str]] = field(
        default=frozenset(), compare=False, repr=False)
    # Likewise each node's op type by node name, and each (QuantizeLinear, DequantizeLinear)
    # pair where the DQ reads the Q's output: the findings name the ONNX ops behind a layer.
    node_ops: _NotStored[tuple[tuple[str, str], ...]] = (
        field(default=(), compare=False, repr=False))
    qdq_pairs: _NotStored[tuple[tuple[str, str], ...]] = (
        field(default=(), compare=False, repr=False))

    @property
    def default_opset(self) -> int | None:
        return dict(self.opset).get("")


# --------------------------------------------------------------------------------------------
# Reading the ONNX protobuf
#
# trtdoc needs a few dozen scalar fields of a ModelProto, and never its weights. Reading them
# straight from the protobuf wire format skips the weight bytes by offset instead of copying
# them, and avoids importing ``onnx`` (which imports numpy): together about half a second of
# every ``trtdoc build``, which is more than TensorRT-RTX needs to build a small model. The
# field numbers below are those of onnx/onnx.proto, which ONNX keeps stable across versions.
# --------------------------------------------------------------------------------------------
class _WireError(Exception):
    """The bytes are not a well-formed protobuf message."""


_Ranges = list[tuple[int, int]]  # the byte ranges of one message; repeats are merged
_TEXT_SUFFIXES = (".pbtxt", ".txtpb", ".textproto", ".prototxt", ".json", ".onnxjson",
                  ".onnxtxt", ".onnxtext")  # onnx.load picks a text parser by these


def _varint(buf: Any, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        try:
            b = buf[pos]
        except IndexError:
            raise _WireError("truncated varint") from None
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _WireError("varint too long")


def _signed(v: int) -> int:
    """int32/int64 fields: negative values travel as 64-bit two's complement."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def _fields(buf: Any, ranges: _Ranges) -> Any:
    """``(field number, wire type, value)`` of every field in ``ranges``, in wire order: the int
    of a varint, or the ``(start, end)`` of a length-delimited or 32-bit field (AttributeProto's
    ``value_float``). 64-bit and group fields, which trtdoc never reads, are skipped."""
    for start, end in ranges:
        pos = start
        while pos < end:
            key, pos = _varint(buf, pos)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise _WireError("field number 0")
            if wire == 0:
                value, pos = _varint(buf, pos)
                yield number, wire, value
                continue
            if wire == 2:
                size, pos = _varint(buf, pos)
                if pos + size > end:
                    raise _WireError("length past the end of the message")
                yield number, wire, (pos, pos + size)
                pos += size
            elif wire == 1:
                pos += 8
            elif wire == 5:  # a truncated one is refused below, after its (unread) range
                yield number, wire, (pos, pos + 4)
                pos += 4
            elif wire == 3:
                pos = _skip_group(buf, pos, end, number)
            else:
                raise _WireError(f"wire type {wire}")
        if pos != end:
            raise _WireError("field past the end of the message")


def _skip_group(buf: Any, pos: int, end: int, number: int) -> int:
    while pos < end:
        key, pos = _varint(buf, pos)
        wire = key & 7
        if wire == 4:
            if key >> 3 != number:
                raise _WireError("mismatched end of group")
            return pos
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 3:
            pos = _skip_group(buf, pos, end, key >> 3)
        else:
            raise _WireError(f"wire type {wire}")
    raise _WireError("unterminated group")


def _text(buf: Any, span: tuple[int, int]) -> str:
    return bytes(buf[span[0]:span[1]]).decode("utf-8", "replace")


def _submessages(buf: Any, ranges: _Ranges, number: int) -> list[_Ranges]:
    """Each occurrence of repeated message field ``number``."""
    return [[v] for n, w, v in _fields(buf, ranges) if n == number and w == 2]


def _submessage(buf: Any, ranges: _Ranges, number: int) -> _Ranges | None:
    """Singular message field ``number``; repeated occurrences merge, as protobuf does."""
    spans = [v for n, w, v in _fields(buf, ranges) if n == number and w == 2]
    return spans or None


def _tensor_header(buf: Any, ranges: _Ranges) -> tuple[int, int, int, str, list[_Ranges]]:
    """A TensorProto's element count, data_type, data_location, name and external_data.

    TensorProto: dims=1, data_type=2, name=8, external_data=13, data_location=14.
    """
    count, data_type, location, name = 1, 0, 0, ""
    entries: list[_Ranges] = []
    for n, w, v in _fields(buf, ranges):
        if n == 1 and w == 0:
            count *= _signed(v)
        elif n == 1 and w == 2:  # packed dims
            pos, end = v
            while pos < end:
                d, pos = _varint(buf, pos)
                count *= _signed(d)
        elif n == 2 and w == 0:
            data_type = _signed(v)
        elif n == 8 and w == 2:
            name = _text(buf, v)
        elif n == 13 and w == 2:
            entries.append([v])
        elif n == 14 and w == 0:
            location = _signed(v)
    return count, data_type, location, name, entries


def _constant_weights(buf: Any, attributes: list[_Ranges]) -> tuple[int, int]:
    """Values and bytes of the floats a Constant node holds (Paddle exports keep every weight
    there), scalars too, as initializers count; integer ones (shapes, axes) are operands.
    AttributeProto: name=1, f=2 (value_float), t=5, floats=7."""
    values = size = 0
    for attr in attributes:
        fields = list(_fields(buf, attr))
        name = next((_text(buf, v) for n, w, v in fields if n == 1 and w == 2), "")
        for n, w, v in fields:
            if n == 5 and w == 2 and name == "value":
                count, data_type, *_ = _tensor_header(buf, [v])
                dtype = _DTYPES.get(data_type, "")
                if count >= 1 and dtype.startswith(("float", "bfloat")):
                    values, size = values + count, size + count * _ITEMSIZE.get(dtype, 0)
            elif n == 7 and w == 2 and name == "value_floats" and v[1] - v[0] >= 4:
                values, size = values + (v[1] - v[0]) // 4, size + v[1] - v[0]  # packed fixed32
            elif n == 2 and w == 5 and name == "value_float":
                values, size = values + 1, size + 4
    return values, size


def _tensor_from_wire(buf: Any, ranges: _Ranges) -> ModelTensor:
    """A ValueInfoProto: name=1, type=2 → TypeProto.tensor_type=1 → elem_type=1, shape=2."""
    name = ""
    elem_type = 0
    dims: list[int | str] = []
    type_ranges: _Ranges = []
    for n, w, v in _fields(buf, ranges):
        if n == 1 and w == 2:
            name = _text(buf, v)
        elif n == 2 and w == 2:
            type_ranges.append(v)
    tensor = _submessage(buf, type_ranges, 1) if type_ranges else None
    shapes: _Ranges = []
    for n, w, v in _fields(buf, tensor or []):
        if n == 1 and w == 0:
            elem_type = _signed(v)
        elif n == 2 and w == 2:
            shapes.append(v)
    for dim in _submessages(buf, shapes, 1):  # TensorShapeProto.dim
        value: int | str | None = None
        for n, w, v in _fields(buf, dim):  # oneof: the last of dim_value=1, dim_param=2
            if n == 1 and w == 0:
                value = _signed(v)
            elif n == 2 and w == 2:
                value = _text(buf, v) or None
        dims.append("?" if value is None else value)
    return ModelTensor(name, _DTYPES.get(elem_type, f"type{elem_type}"), tuple(dims))


@dataclass(frozen=True)
class _Summary:
    facts: ModelFacts
    external_locations: tuple[str, ...]  # sorted, each once
    folds: bool = False  # a node (no Identity) computes from constants only: constant_folding


def _summary_from_wire(buf: Any) -> _Summary | None:
    """Facts of a serialised ModelProto; None when it has no IR version or no graph."""
    ir_version = 0
    producer = producer_version = ""
    opsets: list[tuple[str, int]] = []
    graph: _Ranges = []
    whole = [(0, len(buf))]
    for n, w, v in _fields(buf, whole):
        if n == 1 and w == 0:
            ir_version = _signed(v)
        elif n == 2 and w == 2:
            producer = _text(buf, v)
        elif n == 3 and w == 2:
            producer_version = _text(buf, v)
        elif n == 7 and w == 2:
            graph.append(v)
        elif n == 8 and w == 2:  # OperatorSetIdProto: domain=1, version=2
            domain, version = "", 0
            for n2, w2, v2 in _fields(buf, [v]):
                if n2 == 1 and w2 == 2:
                    domain = _text(buf, v2)
                elif n2 == 2 and w2 == 0:
                    version = _signed(v2)
            opsets.append((domain, version))
    if ir_version <= 0 or not graph:
        return None

    initializers: list[_Ranges] = []
    inputs: list[_Ranges] = []
    outputs: list[_Ranges] = []
    nodes: list[_Ranges] = []
    for n, w, v in _fields(buf, graph):
        if w != 2:
            continue
        if n == 1:
            nodes.append([v])
        elif n == 5:
            initializers.append([v])
        elif n == 11:
            inputs.append([v])
        elif n == 12:
            outputs.append([v])

    params = param_bytes = 0
    external = False
    initializer_names: set[str] = set()
    locations: set[str] = set()
    for init in initializers:
        count, data_type, location, name, entries = _tensor_header(buf, init)
        initializer_names.add(name)
        params += count
        param_bytes += count * _ITEMSIZE.get(_DTYPES.get(data_type, ""), 0)
        if location == 1:  # TensorProto.EXTERNAL
            external = True
            for entry in entries:  # StringStringEntryProto: key=1, value=2
                key = value = ""
                for n, w, v in _fields(buf, entry):
                    if n == 1 and w == 2:
                        key = _text(buf, v)
                    elif n == 2 and w == 2:
                        value = _text(buf, v)
                if key == "location":
                    locations.add(value)

    ops: Counter[str] = Counter()
    domains: set[str] = set()
    names: set[str] = set()
    tensors: set[str] = set(initializer_names)
    node_ops: dict[str, str] = {}
    quantized: dict[str, str] = {}  # a QuantizeLinear's output tensor → its node
    dequantizing: list[tuple[str, str]] = []  # (a DequantizeLinear, its input tensor)

    weights = [params, param_bytes]  # Constant nodes' values join the initializers'

    constants = set(initializer_names)  # tensors a top-level Constant or folded node makes
    folds = [False]  # whether a top-level node computes from constants only (constant_folding)

    def count_nodes(node_list: list[_Ranges], top: bool = False) -> None:
        for node in node_list:  # NodeProto: name=3, op_type=4, attribute=5, domain=7
            name = op_type = domain = ""
            attributes: list[_Ranges] = []
            first: dict[int, str] = {}
            ends: dict[int, list[str]] = {1: [], 2: []}
            for n, w, v in _fields(buf, node):
                if w != 2:
                    continue
                if n in (1, 2):  # input, output
                    tensor = _text(buf, v)
                    tensors.add(tensor)
                    first.setdefault(n, tensor)
                    ends[n].append(tensor)
                elif n == 3:
                    name = _text(buf, v)
                elif n == 4:
                    op_type = _text(buf, v)
                elif n == 5:
                    attributes.append([v])
                elif n == 7:
                    domain = _text(buf, v)
            names.add(name)
            key = f"{domain}::{op_type}" if domain not in ("", "ai.onnx") else op_type
            if key == "Constant":
                values, size = _constant_weights(buf, attributes)
                weights[0] += values
                weights[1] += size
            inputs = [i for i in ends[1] if i]
            if top and (key == "Constant" or inputs and constants.issuperset(inputs)
                        and key not in NOT_FOLDED):
                # An Identity of constants only renames them (constant_folding folds none)
                folds[0] = folds[0] or key not in ("Constant", "Identity")
                constants.update(ends[2])
            ops[key] += 1
            node_ops.setdefault(name, key)
            if key == "QuantizeLinear" and 2 in first:
                quantized[first[2]] = name
            elif key == "DequantizeLinear" and 1 in first:
                dequantizing.append((name, first[1]))
            if domain not in ("", "ai.onnx", "ai.onnx.ml", "com.microsoft", "trt",
                              "trt.plugins"):
                domains.add(domain)
            for attr in attributes:  # AttributeProto.g=6: a subgraph (If, Loop, Scan)
                sub = _submessage(buf, attr, 6)
                if sub:
                    count_nodes(_submessages(buf, sub, 1))

    count_nodes(nodes, top=True)
    pairs = sorted((quantized[t], dq) for dq, t in dequantizing if t in quantized)
    facts = ModelFacts(
        ir_version=ir_version,
        opset=tuple(sorted(opsets)),
        producer=producer,
        producer_version=producer_version,
        nodes=sum(ops.values()),
        op_histogram=tuple(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        parameters=weights[0],
        parameter_bytes=weights[1],
        external_data=external,
        inputs=tuple(t for t in (_tensor_from_wire(buf, i) for i in inputs)
                     if t.name not in initializer_names),
        outputs=tuple(_tensor_from_wire(buf, o) for o in outputs),
        custom_domains=tuple(sorted(domains)),
        node_names=frozenset(names),
        tensor_names=frozenset(tensors | {t.name for t in (_tensor_from_wire(buf, x)
                                                           for x in (*inputs, *outputs))}),
        node_ops=tuple(sorted(node_ops.items())),
        qdq_pairs=tuple(pairs),
    )
    return _Summary(facts, tuple(sorted(locations)), folds[0])


def _read_summary(path: Path) -> _Summary:
    unreadable = "not a readable ONNX model (truncated, or not ONNX at all)"
    if path.suffix in _TEXT_SUFFIXES:
        import onnx  # text and JSON encodings are rare: let onnx parse them, then read the wire

        try:
            buf: Any = onnx.load(str(path), load_external_data=False).SerializeToString()
        except Exception as exc:
            raise ModelError(unreadable, path=path) from exc
        mapped = None
    else:
        with path.open("rb") as f:
            try:
                # Mapped, not read: the weight bytes are skipped, so their pages are never
                # touched and a large model costs no memory to check.
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                buf = mapped
            except (ValueError, OSError):  # an empty file cannot be mapped
                mapped = None
                buf = f.read()
    try:
        summary = _summary_from_wire(buf)
    except _WireError as exc:
        raise ModelError(unreadable, path=path) from exc
    finally:
        if mapped is not None:
            mapped.close()
    # An empty file (or a few stray bytes) is a well-formed but empty ModelProto.
    if summary is None:
        raise ModelError(unreadable, path=path)
    from trtdoc.constant_folding import weight_change  # weights that constant subgraphs make

    change = weight_change(path) if summary.folds and mapped is not None else None
    if change:
        facts = summary.facts
        summary = replace(summary, facts=replace(
            facts, parameters=max(0, facts.parameters + change[0]),
            parameter_bytes=max(0, facts.parameter_bytes + change[1])))
    return summary


# One run asks about a model several times (check, digest, record) and several specs often
# share a model: read each file once per process, and again whenever its stat changes.
_SUMMARIES: dict[tuple[Any, ...], _Summary] = {}
_DIGESTS: dict[tuple[Any, ...], str] = {}
_CACHE_LIMIT = 256
# A file modified this recently could change again within the same mtime tick unnoticed
# ("racy git"); such a file is read every time.
_SETTLED_NS = 2_000_000_000


def file_identity(path: Path) -> tuple[Any, ...] | None:
    """A key that changes whenever the file does (path, device, inode, size, mtime and ctime),
    or None if the file is too fresh to trust (changed within the last two seconds)."""
    st = path.stat()
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < _SETTLED_NS:
        return None
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns)


def _cached(cache: dict[tuple[Any, ...], _T], key: tuple[Any, ...] | None,
            make: Callable[[], _T]) -> _T:
    if key is not None and key in cache:
        return cache[key]
    value = make()
    if key is not None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value
    return value


_DIGEST_FORMAT = "trtdoc-file-sha256-1"


@contextmanager
def digest_cache(file: Path, *, trusted: bool = True) -> Iterator[None]:
    """Keep model digests in ``file`` between runs, keyed by each model file's identity and stat.

    Hashing reads every byte of every model on every run, seconds for models of GBs, even when
    nothing changed. As git's index does, a digest is reused only while every file it covers has
    the same device, inode, size, mtime and ctime (which every write updates) and was already
    settled when it was hashed. With ``trusted=False`` (``--force``) every model is hashed again.
    The file is a cache: when it is unreadable it is ignored, and when it cannot be written the
    next run hashes again.
    """
    stored: dict[tuple[Any, ...], str] = {}
    if trusted:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if data.get("format") == _DIGEST_FORMAT:
                stored = {_tuples(key): digest for key, digest in data["digests"]}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            stored = {}
        _DIGESTS.update(stored)
    else:
        _DIGESTS.clear()
    try:
        yield
    finally:
        if stored != _DIGESTS:
            text = json.dumps({"format": _DIGEST_FORMAT,
                               "digests": sorted([list(k), v] for k, v in _DIGESTS.items())})
            write_cache_file(file, text)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _summary(path: Path) -> _Summary:
    if not path.is_file():
        raise ModelError("model file not found", path=path, missing=True)
    return _cached(_SUMMARIES, file_identity(path),
                   lambda: _read_summary(path))


def model_facts_from_onnx(path: Path) -> ModelFacts:
    """Read opset, producer, node and parameter counts, op histogram and I/O of ``path``."""
    return _summary(path).facts


def model_files(path: Path) -> list[Path]:
    """The model file and every external-data file it references, in a fixed order."""
    return [path, *(path.parent / e for e in _summary(path).external_locations)]


def file_sha256(path: Path) -> str:
    """What ``sha256sum`` prints for ``path`` (cached by the file's identity and mtime)."""
    try:
        key = file_identity(path)
    except OSError:
        key = None  # a missing file: _sha256 says so
    return _cached(_DIGESTS, key, lambda: _sha256(path))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_file_digests(path: Path) -> tuple[tuple[Path, int, str], ...]:
    """``(file, bytes, sha256)`` of the model and of each external-data file, in a fixed order.

    The sha256 is the plain hash of the file's bytes, so a reader can check it by hand.
    """
    out = []
    for p in model_files(path):
        try:
            out.append((p, p.stat().st_size, file_sha256(p)))
        except FileNotFoundError as exc:
            raise ModelError(f"external data file {p.name} is missing", path=path) from exc
    return tuple(out)


def model_digest(path: Path) -> str:
    """One key for the model and all its external data, so a weight change is noticed.

    Not shown on pages (they show each file's own sha256): it is a sha256 over the lines
    ``<file name> <sha256>`` of :func:`model_file_digests`.
    """
    lines = "".join(f"{p.name} {sha}\n" for p, _, sha in model_file_digests(path))
    return hashlib.sha256(lines.encode()).hexdigest()


def input_dim_names_from_onnx(path: Path) -> dict[str, tuple[str | None, ...]]:
    """The ``dim_param`` of every dimension of every graph input; None where a dim has none.

    :class:`ModelTensor` shows an unnamed dynamic dim as ``"?"``, like a dim named ``"?"``;
    TensorRT ties together only dims that share a real name, so checks need the difference.
    Initializers listed as inputs (old exporters) are left out, as in :class:`ModelFacts`.
    """
    if path.suffix in _TEXT_SUFFIXES:
        import onnx

        proto = onnx.load(str(path), load_external_data=False)
        inits = {i.name for i in proto.graph.initializer}
        return {vi.name: tuple(d.dim_param if d.HasField("dim_param") and d.dim_param else None
                               for d in vi.type.tensor_type.shape.dim)
                for vi in proto.graph.input if vi.name not in inits}
    with path.open("rb") as f:
        try:
            buf: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            return {}
        try:
            return _dim_names_from_wire(buf)
        except _WireError:
            return {}
        finally:
            buf.close()


def _dim_names_from_wire(buf: Any) -> dict[str, tuple[str | None, ...]]:
    graph = _submessage(buf, [(0, len(buf))], 7) or []
    inits: set[str] = set()
    found: list[tuple[str, tuple[str | None, ...]]] = []
    for n, w, v in _fields(buf, graph):
        if w != 2:
            continue
        if n == 5:  # TensorProto.name=8
            inits.update(_text(buf, v2) for n2, w2, v2 in _fields(buf, [v]) if n2 == 8 and w2 == 2)
        elif n == 11:  # ValueInfoProto, read as in _tensor_from_wire
            name = ""
            types: _Ranges = []
            for n2, w2, v2 in _fields(buf, [v]):
                if n2 == 1 and w2 == 2:
                    name = _text(buf, v2)
                elif n2 == 2 and w2 == 2:
                    types.append(v2)
            tensor = _submessage(buf, types, 1) if types else None
            shapes = [v2 for n2, w2, v2 in _fields(buf, tensor or []) if n2 == 2 and w2 == 2]
            dims: list[str | None] = []
            for dim in _submessages(buf, shapes, 1):
                param: str | None = None
                for n2, w2, v2 in _fields(buf, dim):
                    if n2 == 1 and w2 == 0:
                        param = None
                    elif n2 == 2 and w2 == 2:
                        param = _text(buf, v2) or None
                dims.append(param)
            found.append((name, tuple(dims)))
    return {name: dims for name, dims in found if name not in inits}

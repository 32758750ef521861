"""The build log's ``Layers:`` message, read into layer and I/O tensor records by backtracking.

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
``onnx_nodes`` (the model's node names) to settle that (see :mod:`trtdoc.inspect.build_log`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc.errors import InspectError
from trtdoc.inspect.types import IOTensor, ProfileShape, TensorDesc, normalise_dtype

# ", Key: " where Key is one of TensorRT's field names (word characters; "Format/Datatype").
_KEY = re.compile(r", ([A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z0-9_]+)?): ")
_INTS = re.compile(r"\[(?:-?[0-9]+(?:,-?[0-9]+)*)?\]")
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


def tensor_from_log(d: Mapping[str, Any]) -> TensorDesc:
    """One tensor record of the message (``Name``, ``Dimensions``, ``Datatype`` or
    ``Format/Datatype``, ...) as a :class:`TensorDesc`."""
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


def parse_layers_message(text: str, restore: Callable[[str], str] = str
                         ) -> tuple[list[dict[str, Any]], tuple[IOTensor, ...]]:
    """The layer records (one reading each, as dicts of TensorRT's keys) and the I/O tensors
    of a ``Layers:`` message; raises :class:`InspectError` when it does not read.

    ``restore`` undoes the caller's masking of names in the text quoted by that error.
    """
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

"""IEngineInspector JSON as an Inspection: TensorRT 8-10 (``Bindings``) and 11 (``I/O Tensors``).

``IEngineInspector.get_engine_information(JSON)`` and ``trtexec --exportLayerInfo`` write the
same JSON; it is walked as a stream (:mod:`trtdoc.inspect.json_stream`), one layer at a time.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import trtdoc.inspect.limits as limits
from trtdoc.cost.rules import Parts, layer_cost
from trtdoc.errors import InspectError
from trtdoc.inspect.assemble import (
    DETAILED_HINT,
    PROFILE_MARK,
    inspection_from_layers,
    layer_from_parts,
)
from trtdoc.inspect.fusion import fused_from_metadata
from trtdoc.inspect.json_stream import JsonStream
from trtdoc.inspect.types import (
    Inspection,
    IOTensor,
    Layer,
    Memory,
    ProfileShape,
    TensorDesc,
    normalise_dtype,
)
from trtdoc.spec.limits import MAX_DIM, MAX_RANK
from trtdoc.spec.text import excerpt

# Interning tables are cleared past this many entries, so hostile input cannot grow them.
_INTERN_LIMIT = 1 << 16


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


def dims_from_json(dims: Any, what: str, path: Path | str | None) -> tuple[int, ...]:
    """An export's ``Dimensions`` (or a profile's shape): a list of at most ``MAX_RANK``
    integers, each -1 (dynamic) up to ``MAX_DIM``, as the spec's shapes are. ``1.5``,
    ``1e30``, ``true``, ``-2`` or ``Infinity`` is one :class:`InspectError` naming ``what``."""
    if not isinstance(dims, list) or len(dims) > MAX_RANK or not all(
            type(x) is int and -1 <= x <= MAX_DIM for x in dims):
        raise InspectError(f"{what} is {excerpt(dims)}, not a list of at most {MAX_RANK} "
                           f"integers from -1 (dynamic) to {MAX_DIM:,}; export the engine "
                           "information again with TensorRT", source=path)
    return tuple(dims)


def _tensor_from_json(t: Any, where: str, path: Path | str | None) -> TensorDesc:
    name = _require(t, "Name", where, path)
    dims_t = dims_from_json(t.get("Dimensions", []),
                            f"{where}: the Dimensions of tensor {excerpt(str(name))}", path)
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
        count = w.get("Count", 0)
        if type(count) is not int or count > limits.MAX_WEIGHT_COUNT:
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
    weights = _weights_from_json(raw, interned)
    # The type-specific keys (Kernel, WindowSize, MatrixOpA...) are read here, while the raw
    # layer is at hand; dimensions still dynamic (-1) wait for trtdoc.cost.layers.
    cost = layer_cost(Parts(type_, inputs, weights, outputs), raw)
    return layer_from_parts(name, type_, inputs, outputs, weights, tactic, fused, cost)


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
    where = f"I/O tensor {excerpt(name)}"
    profiles = tuple(
        ProfileShape(*(dims_from_json(p[k], f"{where}: its {k}", path)
                       for k in ("MinShape", "OptShape", "MaxShape")))
        for p in infos
        if isinstance(p, Mapping) and {"MinShape", "OptShape", "MaxShape"} <= p.keys()
    )
    fmt = str(infos[0].get("Format", "")) if infos and isinstance(infos[0], Mapping) else ""
    dtype = str(entry.get("DataType") or entry.get("Datatype") or "")
    return IOTensor(name, mode, normalise_dtype(dtype),
                    dims_from_json(entry.get("Dimensions", []), f"{where}: its Dimensions",
                                   path), profiles, fmt)


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


def _other_export(data: Any) -> str:
    """Where a trtexec export that is not the layer information goes, if ``data`` is one."""
    first = data[0] if isinstance(data, list) and data else None
    if isinstance(first, dict) and "latencyMs" in first:
        return "; this is a trtexec --exportTimes file: give it as --times"
    if isinstance(first, dict) and "count" in first:
        return "; this is a trtexec --exportProfile file: give it as --profile"
    return ""


def inspection_from_inspector_json(text: str, *, optimization_profile: int | None = 0,
                                   onnx_nodes: Collection[str] | None = None,
                                   path: Path | str | None = None) -> Inspection:
    """Layers and I/O tensors from ``IEngineInspector.get_engine_information(JSON)``.

    Reads TensorRT 8.x-10 (``{"Layers", "Bindings"}``) and 11 (``"I/O Tensors"``). The engine
    must have been built with ``ProfilingVerbosity.DETAILED``; at lower verbosity the layers
    are bare names and this raises :class:`InspectError`. ``path`` names the file in errors.
    """
    return inspection_from_json_stream(JsonStream("engine information", path, text=text),
                                       optimization_profile, onnx_nodes)


def inspection_from_json_stream(s: JsonStream, optimization_profile: int | None,
                                onnx_nodes: Collection[str] | None) -> Inspection:
    """The Inspection of the engine information read from ``s`` (text or a file); see
    :func:`inspection_from_inspector_json`. Layers past ``limits.MAX_LAYERS`` are refused."""
    path = s.path
    if s.peek() != "{":
        data = s.value()
        s.end()
        raise InspectError(f"the engine information is a JSON {_json_kind(data)}, not the "
                           "object IEngineInspector and trtexec --exportLayerInfo write"
                           + _other_export(data), source=path)
    s.pos += 1
    layers: list[Layer] | None = None
    other: dict[str, Any] = {}
    interned = _Interned()

    def too_many() -> str:
        return (f"the engine information lists over {limits.MAX_LAYERS:,} layers; trtdoc reads "
                f"at most {limits.MAX_LAYERS:,}")

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
                          for i, raw in enumerate(s.items(limits.MAX_LAYERS, too_many))]
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
    marked = [int(m) for t in io for m in PROFILE_MARK.findall(t.name)]
    io = [t for t in io if not PROFILE_MARK.search(t.name)]
    count = max([len(t.profiles) for t in io if t.mode == "Input"] + [m + 1 for m in marked]
                + [1])
    return inspection_from_layers("inspector-json", layers, io, Memory(), optimization_profile,
                                  count, path)

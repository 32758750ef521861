"""A record's text in pieces, so a record of 10^6 layers is written without one giant string.

The text is exactly :func:`dumps`'s layout (``json.dumps(encode(r), indent=1,
ensure_ascii=False)`` and a newline, :func:`trtdoc.typed.encode` being the types' own
encoder), made in two parts:

* everything but the layers, by the types' own encoder (``encode`` and ``json``), with
  the layer list left empty;
* the layers, each written straight from its :class:`~trtdoc.inspect.Layer` in that same
  layout. Going through ``encode`` and ``json.dumps(indent=...)`` (whose indenting
  encoder is pure Python) took 35 s for 10^5 layers, and held a dict per layer and tensor
  plus the whole text.

The layer writer repeats the layer's key order, so it checks itself: the first layer is also
encoded by the types' encoder, and if the two texts differ (a field was added to Layer and
not here) every layer is encoded that way, slower but right. A layer holding a value the
writer does not expect (a float that is not finite) is encoded that way too.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator
from dataclasses import replace
from json.encoder import encode_basestring  # json's own, C
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trtdoc.inspect.types import Layer, TensorDesc
    from trtdoc.record.types import EngineRecord

# Where the layers sit: record → "inspection" (indent 1) → "layers" (2) → a layer (3).
_EMPTY_LAYERS = '\n  "layers": []\n }'
_LAYER_INDENT = 3
_BATCH = 2000  # layers per piece


def _slow_layer(layer: Layer) -> str:
    """One layer by the types' encoder, indented as it sits in the record."""
    from trtdoc.typed import encode

    text = json.dumps(encode(layer), indent=1, ensure_ascii=False)
    pad = " " * _LAYER_INDENT
    return pad + text.replace("\n", "\n" + pad)


def _slow(record: EngineRecord) -> str:
    from trtdoc.typed import encode

    return json.dumps(encode(record), indent=1, ensure_ascii=False) + "\n"


class _LayerWriter:
    """Layers as text in the record's layout; tensors shared by layers are encoded once."""

    def __init__(self) -> None:
        self._tensors: dict[int, tuple[Any, str]] = {}  # id → (the tensor, its text)

    def _strings(self, items: tuple[str, ...]) -> str:
        if not items:
            return "[]"
        return "[\n     " + ",\n     ".join(map(encode_basestring, items)) + "\n    ]"

    def _tensor(self, t: TensorDesc) -> str:
        hit = self._tensors.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        dims = ("[\n       " + ",\n       ".join(map(int.__repr__, t.dims)) + "\n      ]"
                if t.dims else "[]")
        text = (f'     {{\n      "name": {encode_basestring(t.name)},\n      "dims": {dims},\n'
                f'      "dtype": {encode_basestring(t.dtype)},\n'
                f'      "format": {encode_basestring(t.format)},\n'
                f'      "location": {encode_basestring(t.location)}\n     }}')
        if len(self._tensors) > 1 << 16:
            self._tensors.clear()
        self._tensors[id(t)] = (t, text)  # the tensor is kept, so its id is not reused
        return text

    def _tensors_text(self, tensors: tuple[TensorDesc, ...]) -> str:
        if not tensors:
            return "[]"
        return "[\n" + ",\n".join(map(self._tensor, tensors)) + "\n    ]"

    def layer(self, layer: Layer) -> str | None:
        """The layer's text, or None when it holds what only the types' encoder writes."""
        times = []
        for value in (layer.time_ms, layer.time_pct, layer.median_ms):
            if value is None:
                times.append("null")
            elif type(value) is float and math.isfinite(value):
                times.append(float.__repr__(value))
            else:
                return None
        if type(layer.profile) is not int:
            return None
        # median_ms is written only where it is known (records before it keep their bytes)
        median = "" if layer.median_ms is None else f',\n    "median_ms": {times[2]}'
        cost = layer.cost
        if cost is None:  # left out, as the types' encoder does (older records unchanged)
            cost_text = ""
        elif type(cost.flops) is int and type(cost.bytes) is int:
            cost_text = (f',\n    "cost": {{\n     "flops": {int.__repr__(cost.flops)},\n'
                         f'     "bytes": {int.__repr__(cost.bytes)}\n    }}')
        else:
            return None
        return (f'   {{\n    "name": {encode_basestring(layer.name)},\n'
                f'    "type": {encode_basestring(layer.type)},\n'
                f'    "precision": {encode_basestring(layer.precision)},\n'
                f'    "tactic": {encode_basestring(layer.tactic)},\n'
                f'    "fused": {self._strings(layer.fused)},\n'
                f'    "inputs": {self._tensors_text(layer.inputs)},\n'
                f'    "constants": {self._tensors_text(layer.constants)},\n'
                f'    "outputs": {self._tensors_text(layer.outputs)},\n'
                f'    "profile": {int.__repr__(layer.profile)},\n'
                f'    "time_ms": {times[0]},\n    "time_pct": {times[1]}{median}{cost_text}\n   }}')


def record_chunks(record: EngineRecord) -> Iterator[str]:
    """The text of :func:`dumps`, in pieces of a few thousand layers each."""
    layers = record.inspection.layers
    if not layers:
        yield _slow(record)
        return
    shell = _slow(replace(record, inspection=replace(record.inspection, layers=())))
    cut = shell.rfind(_EMPTY_LAYERS)  # the last: a spec can hold a "layers" key, but comes first
    writer = _LayerWriter()
    encode: Any = writer.layer
    if cut < 0 or encode(layers[0]) != _slow_layer(layers[0]):
        yield _slow(record)
        return
    yield shell[:cut] + '\n  "layers": [\n'
    for start in range(0, len(layers), _BATCH):
        # No cycles are made here, yet the cyclic collector would rescan the record's
        # millions of objects every few thousand allocations (half the time of 10^5 layers).
        # It is off only between yields, never while the caller runs.
        enabled = gc.isenabled()
        gc.disable()
        try:
            texts = []
            for layer in layers[start:start + _BATCH]:
                text = encode(layer)
                texts.append(text if text is not None else _slow_layer(layer))
            piece = ("" if start == 0 else ",\n") + ",\n".join(texts)
        finally:
            if enabled:
                gc.enable()
        yield piece
    yield "\n  ]\n }" + shell[cut + len(_EMPTY_LAYERS):]


def dumps(record: EngineRecord) -> str:
    """The record as the exact text written to disk (fixed key order, ``\\n`` endings)."""
    return "".join(record_chunks(record))


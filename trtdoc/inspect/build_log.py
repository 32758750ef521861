"""The builder's DETAILED log as an Inspection: layers, I/O tensors and memory totals.

With ``config.profiling_verbosity = ProfilingVerbosity.DETAILED`` and a logger that keeps
VERBOSE messages, the builder emits one message that starts ``Layers:`` (read by
:mod:`trtdoc.inspect.layers_message`). This needs no GPU, which is why trtdoc uses it by default.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from trtdoc.errors import InspectError
from trtdoc.inspect.assemble import DETAILED_HINT, inspection_from_layers, layer_from_parts
from trtdoc.inspect.fusion import fused_from_metadata
from trtdoc.inspect.layers_message import parse_layers_message, tensor_from_log
from trtdoc.inspect.name_masks import NameMasks
from trtdoc.inspect.types import Inspection, Memory

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
    layers, tensors and fused nodes read the same whatever the names say (see ``NameMasks``).
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
    masks = NameMasks(layers_text, [*(onnx_nodes or ()), *(onnx_tensors or ())])
    raw_layers, io = parse_layers_message(masks.apply(layers_text), masks.restore)
    # Fused nodes are split while still masked, so a masked node name stays one node.
    nodes = masks.of(onnx_nodes) if onnx_nodes is not None else None
    layers = [
        layer_from_parts(
            masks.restore(d["Name"]), d["LayerType"],
            tuple(tensor_from_log(masks.restore(t)) for t in d["Inputs"]),
            tuple(tensor_from_log(masks.restore(t)) for t in d["Outputs"]),
            tuple(tensor_from_log(masks.restore(t)) for t in d.get("Constants", ())),
            (d.get("TacticName", "").strip() or d.get("TacticValue", "").strip()),
            tuple(dict.fromkeys(masks.restore(f) for f in
                                fused_from_metadata(d.get("Metadata", ""), nodes))))
        for d in raw_layers
    ]
    io = tuple(masks.restore(t) for t in io)
    count = max([len(t.profiles) for t in io if t.mode == "Input"] or [1])
    return inspection_from_layers("build-log", layers, io, Memory(**memory),
                                  optimization_profile, count)

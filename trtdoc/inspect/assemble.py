"""What every parser shares: a Layer from its parts, and the finished Inspection.

Each source lists layers, I/O tensors and a profile count; :func:`inspection_from_layers` tags
each layer with the optimisation profile it serves, checks the profile asked for and keeps its
layers, the same way whichever parser read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from trtdoc.errors import InspectError
from trtdoc.inspect.types import (
    Inspection,
    IOTensor,
    Layer,
    LayerCost,
    Memory,
    TensorDesc,
    layer_precision,
)

DETAILED_HINT = (
    "build with config.profiling_verbosity = ProfilingVerbosity.DETAILED and a logger that "
    "keeps VERBOSE messages (trtexec: --profilingVerbosity=detailed --verbose)"
)

# "[profile N]": how TensorRT marks the names of the copies that serve profile N >= 1.
PROFILE_MARK = re.compile(r"\[profile (\d+)\]")
# RTX (Myelin) layer names end in _myl<graph>_<index>; one Myelin graph serves one profile.
_MYELIN_GRAPH = re.compile(r"_myl(\d+)_\d+$")


def layer_from_parts(name: str, type_: str, inputs: tuple[TensorDesc, ...],
                     outputs: tuple[TensorDesc, ...], constants: tuple[TensorDesc, ...],
                     tactic: str, fused: tuple[str, ...], cost: LayerCost | None = None
                     ) -> Layer:
    """A :class:`Layer` of profile 0, its precision read from ``inputs`` and ``constants``
    (see :func:`~trtdoc.inspect.types.layer_precision`)."""
    return Layer(name=name, type=type_, inputs=inputs, outputs=outputs, tactic=tactic,
                 fused=fused, precision=layer_precision(inputs, constants), constants=constants,
                 cost=cost)


def _assign_profiles(layers: Sequence[Layer], count: int) -> list[Layer]:
    """Tag each layer with the optimisation profile it serves.

    TensorRT marks the copies for profile N >= 1 with "[profile N]" in some name: the layer's,
    a tensor's, or a fused node's. Myelin-generated names carry no mark, but a whole Myelin
    graph (the _myl<K>_ suffix) serves one profile, and the copies are listed profile by
    profile, so an unmarked layer takes its graph's profile, else its predecessor's.
    """
    def marks(layer: Layer) -> int | None:
        names = [layer.name, *(t.name for t in layer.inputs + layer.outputs), *layer.fused]
        found = [int(m) for n in names for m in PROFILE_MARK.findall(n) if int(m) < count]
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


def inspection_from_layers(source: str, layers: Sequence[Layer], io: Sequence[IOTensor],
                           memory: Memory, optimization_profile: int | None, count: int,
                           path: Path | str | None = None) -> Inspection:
    """The :class:`Inspection` of ``layers`` as one source lists them.

    Each layer is tagged with the optimisation profile it serves; ``count`` is the number of
    profiles the source names (raised if a layer is marked with a later one). Then only the
    layers of ``optimization_profile`` are kept (None keeps all); a profile the engine does
    not have raises :class:`InspectError`, naming ``path``.
    """
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

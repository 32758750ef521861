"""The engine page's "Cost and lower bound" section: FLOPs and bytes per layer, and on each GPU
the page names (the GPU the record ran on, the targets that deploy it) the roofline lower bound,
with measured ÷ bound per layer where an imported profile timed the layers.

Every figure comes from the record's layer costs (:mod:`trtdoc.cost`) and the cited datasheet
row of the GPU; the section says it is an estimate and a lower bound, not a measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from trtdoc.cost.bound import LABEL, EngineBound, engine_bound, layer_bound
from trtdoc.cost.gpus import GpuPeaks, peaks_named
from trtdoc.inspect.types import Layer
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import fenced, one_line

ROWS = 2000  # per-layer rows shown per GPU; the engine totals count every layer


@dataclass(frozen=True)
class GpuEstimate:
    """One GPU's bound for this engine, and its per-layer rows as a text table."""

    peaks: GpuPeaks
    bound: EngineBound
    table: Markup
    shown: int  # rows in the table


@dataclass(frozen=True)
class CostView:
    """What the cost section shows."""

    label: str
    layers: int
    known: int  # layers with a cost
    flops: int  # sum over the layers with a cost
    bytes: int
    gpus: tuple[GpuEstimate, ...]
    named_unknown: tuple[str, ...]  # GPUs named for this engine without a datasheet row
    timed: bool


def _number(n: float) -> str:
    return f"{n:,.0f}"


def _table(layers: Sequence[Layer], peaks: GpuPeaks, timed: bool) -> str:
    head = ["#", "FLOPs", "Bytes", "Bound ms", "Limited by"]
    if timed:
        head += ["Measured ms", "Measured ÷ bound"]
    rows = [[*head, "Layer"]]
    rates: dict[str, float] = {}
    for i, layer in enumerate(layers[:ROWS]):
        b = layer_bound(layer, peaks, rates)
        cells = [str(i)]
        if layer.cost is None or b is None:
            cells += ["unknown", "unknown", "unknown", ""]
        else:
            cells += [_number(layer.cost.flops), _number(layer.cost.bytes), f"{b.ms:.6f}",
                      b.limited_by if b.ms > 0 else "nothing"]
        if timed:
            t = layer.time_ms
            cells += ["" if t is None else f"{t:.6f}",
                      "" if t is None or b is None or b.ms <= 0 else f"{t / b.ms:.2f}"]
        rows.append([*cells, one_line(layer.name)])
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
             for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def cost_view(record: EngineRecord, gpu_names: Iterable[str] = (), *,
              host: bool = True) -> CostView:
    """The section for ``record``; ``gpu_names`` are the GPUs it is shown on, each once, after
    the GPU the record ran on (``host``)."""
    layers = record.inspection.layers
    priced = [layer for layer in layers if layer.cost is not None]
    # the GPU it ran on: an import's --gpu (trtexec profiled it there), else the build host's
    ran_on = record.profiled.gpu if record.profiled and record.profiled.gpu else record.host.gpu
    names = [n for n in ((ran_on,) if host else ()) + tuple(gpu_names) if n]
    if not priced:  # a record from before costs, or layers no rule knows: no bound at all
        names = []
    gpus, unknown, seen = [], [], set()
    for name in names:
        peaks = peaks_named(name)
        if peaks is None:
            if one_line(name) not in unknown:
                unknown.append(one_line(name))
            continue
        if peaks.model in seen:
            continue
        seen.add(peaks.model)
        timed = any(layer.time_ms is not None for layer in layers)
        gpus.append(GpuEstimate(peaks, engine_bound(layers, peaks),
                                fenced(_table(layers, peaks, timed)), min(len(layers), ROWS)))
    return CostView(LABEL, len(layers), len(priced),
                    sum(layer.cost.flops for layer in priced if layer.cost),
                    sum(layer.cost.bytes for layer in priced if layer.cost), tuple(gpus),
                    tuple(unknown), any(layer.time_ms is not None for layer in layers))

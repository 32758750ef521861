"""What changed in time between two records that both have times: the total of the per-layer
times (imported ``trtexec --exportProfile``), the latency summary (``--exportTimes``), and the
layers whose time moved most, paired as the layer comparison pairs them
(:func:`trtdoc.diff.layers.align_layers`).

Times are compared as the page prints them (``format_ms``: to the microsecond), so a last-digit
difference is not a change.
"""

from __future__ import annotations

from collections.abc import Sequence

from trtdoc.diff.changes import Change
from trtdoc.diff.layers import align_layers
from trtdoc.inspect.types import Layer
from trtdoc.record.types import EngineRecord
from trtdoc.render.parameters import format_ms

MOVED_LAYERS = 5  # layers listed by how much their time moved, largest first


def _change(what: str, old: float | None, new: float | None) -> Change | None:
    a, b = format_ms(old) or "none", format_ms(new) or "none"
    if a == b:
        return None
    delta = f"{(new - old) / old * 100:+.1f}%" if old and new is not None else ""
    return Change(what, a, b, delta)


def time_changes(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    """The total per-layer time, then the latency median, p90 and p99, where both records
    have them and they differ as printed."""
    rows = []
    if old.inspection.total_time_ms is not None and new.inspection.total_time_ms is not None:
        rows.append(_change("time (sum of layer times)", old.inspection.total_time_ms,
                            new.inspection.total_time_ms))
    a = old.profiled.latency if old.profiled else None
    b = new.profiled.latency if new.profiled else None
    if a is not None and b is not None:
        rows += [_change("latency median", a.median_ms, b.median_ms),
                 _change("latency p90", a.p90_ms, b.p90_ms),
                 _change("latency p99", a.p99_ms, b.p99_ms)]
    return tuple(c for c in rows if c is not None)


def layer_time_changes(old: Sequence[Layer], new: Sequence[Layer],
                       top: int = MOVED_LAYERS) -> tuple[Change, ...]:
    """The ``top`` layers whose time moved most (by absolute change, then in the new engine's
    order), when both engines have per-layer times: ``what`` is the layer's new name (its old
    one for a layer that went). A layer added or removed moved by all its time."""
    if not any(la.time_ms is not None for la in old) or not any(
            la.time_ms is not None for la in new):
        return ()
    pairs, removed, added = align_layers(old, new)
    moved: list[tuple[float, int, Change]] = []
    candidates = ([(new[j].name, old[i].time_ms, new[j].time_ms, j) for i, j in pairs]
                  + [(new[j].name, None, new[j].time_ms, j) for j in added]
                  + [(old[i].name, old[i].time_ms, None, len(new) + i) for i in removed])
    for name, a, b, order in candidates:
        change = _change(name, a, b)
        if change is not None:
            moved.append((abs((b or 0.0) - (a or 0.0)), order, change))
    moved.sort(key=lambda m: (-m[0], m[1]))
    return tuple(c for _, _, c in moved[:top])

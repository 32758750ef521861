"""The latency distribution of an imported engine (``trtdoc import --times``): its median,
p90 and p99 as a small table, and its histogram as a Mermaid ``xychart-beta`` bar chart,
which the bundled mermaid@11 draws offline in the mkdocs and the Zensical build.

Every number shown is the record's (:class:`~trtdoc.inspect.latency.Latency`), printed with
all the digits it has (``format_latency``), so a reader, or a test, can parse a chart back
and find the record. The chart holds only numbers and fixed words: nothing from a model or a
file reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

from trtdoc.inspect.latency import Latency
from trtdoc.record.types import EngineRecord
from trtdoc.render.tolerant import tolerant


def format_latency(ms: float) -> str:
    """``1.99072`` → ``1.99072``, ``2.0`` → ``2``: the record's value, no digit added or lost
    (the record keeps at most ``latency.DECIMALS`` decimals)."""
    text = f"{ms:.6f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class LatencyView:
    """What the page's "Latency" section shows."""

    latency: Latency
    rows: tuple[tuple[str, str], ...]  # (statistic, "1.99072 ms")
    chart: str  # Mermaid source


def histogram_chart(latency: Latency) -> str:
    """The histogram as Mermaid ``xychart-beta`` bars: one bar per bin, labelled by the bin's
    lower edge in ms, its height the number of inferences in it."""
    if not all(type(b.count) is int for b in latency.histogram):  # a hand-edited record
        raise TypeError("a histogram count is not an integer")
    labels = ", ".join(f'"{format_latency(b.low_ms)}"' for b in latency.histogram)
    counts = ", ".join(str(b.count) for b in latency.histogram)
    top = max(b.count for b in latency.histogram)
    width = latency.histogram[0].high_ms - latency.histogram[0].low_ms
    return "\n".join([
        "xychart-beta",
        f'    title "{latency.count:,} inferences, bins of {format_latency(round(width, 5))} ms"',
        f'    x-axis "latency (ms), lower edge of each bin" [{labels}]',
        f'    y-axis "inferences" 0 --> {top}',
        f"    bar [{counts}]",
    ])


def _none(record: EngineRecord) -> LatencyView | None:
    return None


@tolerant(_none)
def latency_view(record: EngineRecord) -> LatencyView | None:
    """The "Latency" section of ``record``'s page, or None when it has no latency summary."""
    latency = record.profiled.latency if record.profiled is not None else None
    if latency is None or not latency.histogram:
        return None
    rows = tuple((what, f"{format_latency(ms)} ms") for what, ms in (
        ("min", latency.min_ms), ("median", latency.median_ms), ("p90", latency.p90_ms),
        ("p99", latency.p99_ms), ("max", latency.max_ms), ("mean", latency.mean_ms)))
    return LatencyView(latency, rows, histogram_chart(latency))

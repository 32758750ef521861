"""The latency distribution of an imported engine (``trtdoc import --times``): its median,
p90 and p99 as a small table, and its histogram as a Mermaid ``xychart-beta`` bar chart,
which the bundled mermaid@11 draws offline in the mkdocs and the Zensical build.

Every number shown is the record's (:class:`~trtdoc.inspect.latency.Latency`), printed with
all the digits it has (``format_latency``), so a reader, or a test, can parse a chart back
and find the record. The chart holds only numbers and fixed words: nothing from a model or a
file reaches it.
"""

from __future__ import annotations

import json
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
    bins: tuple[tuple[str, str, str], ...]  # ("1.91181", "1.91918", "17"): each bar's numbers


# Mermaid starts every bar at the plot's edge but puts 0 on the value axis half a label in from
# it, so an empty bin drew as a short bar. Without value-axis labels there is no such padding;
# the axis title gives the longest bar and the table under the chart every count.
# mkdocs-material styles flowcharts and pies for its dark scheme but not xycharts, which came
# out as a white box with pale text: the chart is transparent, its text and lines mid-grey
# (legible on white and on slate), its bars indigo 400.
_GREY = "#888888"
_CONFIG = {
    # 480 px wide, not Mermaid's 700: a phone's 358 px column then shrinks it by a quarter,
    # not by half, and its labels stay readable.
    "xyChart": {"width": 480, "height": 520, "yAxis": {"showLabel": False, "showTick": False}},
    "themeVariables": {"xyChart": {
        "backgroundColor": "transparent", "titleColor": _GREY,
        "xAxisLabelColor": _GREY, "xAxisTitleColor": _GREY, "xAxisLineColor": _GREY,
        "xAxisTickColor": _GREY, "yAxisTitleColor": _GREY, "yAxisLineColor": _GREY,
        "plotColorPalette": "#5c6bc0"}},
}


def histogram_chart(latency: Latency) -> str:
    """The histogram as Mermaid ``xychart-beta`` bars, one per bin, labelled by the bin's lower
    edge in ms and as long as the number of inferences in it. The bars run across (a
    ``horizontal`` chart): twenty edge labels side by side overlapped at 1,280 px, while one
    per row stays legible on a phone too."""
    if not all(type(b.count) is int for b in latency.histogram):  # a hand-edited record
        raise TypeError("a histogram count is not an integer")
    labels = ", ".join(f'"{format_latency(b.low_ms)}"' for b in latency.histogram)
    counts = ", ".join(str(b.count) for b in latency.histogram)
    top = max(b.count for b in latency.histogram)
    width = latency.histogram[0].high_ms - latency.histogram[0].low_ms
    return "\n".join([
        "%%{init: " + json.dumps(_CONFIG, separators=(", ", ": ")) + "}%%",
        "xychart-beta horizontal",
        f'    title "{latency.count:,} inferences, bins of {format_latency(round(width, 5))} ms"',
        f'    x-axis "bin start (ms)" [{labels}]',
        f'    y-axis "inferences (longest bar {top:,})" 0 --> {top}',
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
    bins = tuple((format_latency(b.low_ms), format_latency(b.high_ms), f"{b.count:,}")
                 for b in latency.histogram)
    return LatencyView(latency, rows, histogram_chart(latency), bins)

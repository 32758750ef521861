"""Charts drawn from a record: per-layer and per-type time, the precision mix, memory, and the
sizes of a spec's variants, as Mermaid source (``xychart-beta`` bars and ``pie``).

Pure functions of records: no I/O, no state. Every category label goes through
:func:`~trtdoc.render.escape.mermaid_label` (layer names come from untrusted models; a quote,
``<``, ``%%``, a backtick or a newline in one must not end the label or the chart), and
every number is written in plain decimal notation (``0.000012``, never ``1.2e-05``, which
Mermaid does not read) from the record's value rounded to :data:`MS_DIGITS` decimals (times)
or two decimals of the unit shown (bytes). The bundled Mermaid 11 draws them offline in the
mkdocs-material and the Zensical build alike.

Each bar's label ends with its number (``#1 Conv_0 + Relu_1: 0.1116 ms``), so a reader need
not read it off the axis. Mermaid's own data labels are not used: it draws them all at the
size that fits the narrowest bar, 0 px when one bar is short (measured with Mermaid 11.17).
Each chart starts with a front-matter block that sizes it to its bars.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc.inspect.types import Layer
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import is_number, mermaid_label, one_line
from trtdoc.spec.section import SpecSection
from trtdoc.values import PRECISIONS

BARS_SHOWN = 20  # per-layer and per-type bars; the rest are summed into one bar
SLOWEST_ROWS = 10  # rows of the open "Slowest layers" table
CHART_LABEL = 40  # characters of a bar's name at most (the table has names whole)
MS_DIGITS = 6  # trtexec profiles give times to the nanosecond: 0.111616 ms
NO_PRECISION = "no precision"

# Bytes per element of each TensorRT DataType (Int4/FP4 pack two to a byte).
DTYPE_BYTES = {"Float": 4.0, "Half": 2.0, "BFloat16": 2.0, "Int8": 1.0, "FP8": 1.0,
               "Int32": 4.0, "Int64": 8.0, "Bool": 1.0, "UInt8": 1.0, "Int4": 0.5,
               "FP4": 0.5, "E8M0": 1.0}
_UNITS = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1))


def number(value: float, digits: int = MS_DIGITS) -> str:
    """``value`` rounded to ``digits`` decimals, in plain decimal notation Mermaid reads."""
    text = f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def byte_unit(largest: float) -> tuple[str, int]:
    """The unit (name, bytes) a chart of byte counts up to ``largest`` is drawn in."""
    return next(((name, size) for name, size in _UNITS if largest >= size), ("B", 1))


@dataclass(frozen=True)
class Bar:
    """One bar: its label as text (escaped when the chart is written) and its value."""

    label: str
    value: float


# A bar label's width as Mermaid measures it, in px of its 14 px axis font, per character
# (erring wide): Mermaid sizes the label column from the widest label and, when one is wider
# than the chart allows, draws no category label at all (Mermaid 11.17: 24 "W"s and
# ": 1234.5678 ms" fit a 700 px chart, 27 do not).
LABEL_PX = 460
_WIDE, _NARROW = frozenset("MWmw@%"), frozenset("iljtfrI!|.,:;'` ()[]")


def label_px(escaped: str) -> float:
    """About how wide Mermaid measures the escaped label ``escaped``: it measures each entity
    code as its placeholder (``#quot;`` → ``ﬂ°quot¶ß``), not as the one character shown."""
    text = re.sub(r"#(\w+);", lambda m: "\ufb02\u00b0" + m.group(1) + "\u00b6\u00df", escaped)
    return sum(14.0 if c in _WIDE else 4.5 if c in _NARROW else
               16.0 if ord(c) > 127 else  # Cyrillic, CJK and emoji: wide
               10.5 if c.isupper() else 8.5 for c in text)


def chart_label(text: str, suffix: str = "", limit: int = CHART_LABEL) -> str:
    """``text`` escaped as an xychart category, then ``suffix`` (escaped too), the name cut
    (with an ellipsis) to at most ``limit`` characters and so that the whole label stays
    within :data:`LABEL_PX` as Mermaid measures it: a name full of quotes is cut shorter."""
    tail = mermaid_label(suffix) if suffix else ""
    cut = limit
    while True:
        label = f"{mermaid_label(text, cut)}{tail}"
        if cut <= 4 or label_px(label) <= LABEL_PX:
            return label
        cut -= 1


# 680 px fits mkdocs-material's 688 px column at 1,280 px unscaled. On a phone the chart is
# scaled down to the column; trtdoc.css lets Mermaid measure its labels unscaled first.
CHART_WIDTH = 680
# The chart's colours from the theme's Mermaid colours, so that it reads in the light and the
# dark scheme: Mermaid's own are dark text on a white box, and mkdocs-material's stylesheet
# turns some of that text light (its rule for unclassed last-child text). Custom properties
# reach into the shadow root mkdocs-material draws a diagram in; the fallbacks serve other
# themes. This replaces the site's themeCSS for these charts only (Mermaid merges a
# diagram's front matter over the site's configuration).
CHART_CSS = (".background{fill:transparent}"
             "text{fill:var(--md-mermaid-label-fg-color,#333333)}"
             "path{stroke:var(--md-mermaid-edge-color,#333333)}"
             ".plot rect{fill:var(--md-mermaid-node-fg-color,#5c6bc0);"
             "stroke:var(--md-mermaid-node-fg-color,#5c6bc0)}")


def xychart(title: str, axis: str, bars: Sequence[Bar], digits: int = MS_DIGITS,
            shown: int = 4) -> str:
    """Horizontal bars, first bar on top, as ``xychart-beta`` source. Horizontal, because
    layer names are long: they read left of their bars, not slanted under them. Each label
    ends with its bar's value to ``shown`` decimals and ``axis`` (the unit)."""
    height = 120 + 30 * len(bars)
    labels = ", ".join(f'"{chart_label(b.label, f": {number(b.value, shown)} {axis}")}"'
                       for b in bars)
    values = ", ".join(number(b.value, digits) for b in bars)
    top = max((b.value for b in bars), default=0.0)
    axis_max = number(top * 1.05 if top > 0 else 1.0, digits)
    return "\n".join([
        "---", "config:", f"  themeCSS: \"{CHART_CSS}\"", "  xyChart:",
        f"    width: {CHART_WIDTH}", f"    height: {height}",
        "    plotReservedSpacePercent: 35",
        "    yAxis: {showLabel: false, showTitle: false, showTick: false}", "---",
        "xychart-beta horizontal",
        f'    title "{mermaid_label(title)}"',
        f"    x-axis [{labels}]",
        f'    y-axis "{mermaid_label(axis)}" 0 --> {axis_max}',
        f"    bar [{values}]",
    ])


def timed_layers(record: EngineRecord) -> list[tuple[int, Layer]]:
    """``(engine index, layer)`` of every layer with a time, slowest first (ties: engine
    order)."""
    timed = [(i, layer) for i, layer in enumerate(record.inspection.layers)
             if is_number(layer.time_ms)]
    return sorted(timed, key=lambda il: (-float(il[1].time_ms or 0.0), il[0]))


def layer_time_bars(record: EngineRecord, shown: int = BARS_SHOWN) -> list[Bar]:
    """The slowest ``shown`` layers, one bar each (``#index name``, the index of the layer
    table), then the rest summed into one bar ``N other layers``."""
    timed = timed_layers(record)
    bars = [Bar(f"#{i} {one_line(layer.name)}", float(layer.time_ms or 0.0))
            for i, layer in timed[:shown]]
    rest = timed[shown:]
    if rest:
        bars.append(Bar(f"{len(rest):,} other layers",
                        sum(float(layer.time_ms or 0.0) for _, layer in rest)))
    return bars


def layer_time_chart(record: EngineRecord) -> str | None:
    """Per-layer time, slowest first, or None for an engine without times."""
    bars = layer_time_bars(record)
    return xychart("Time per layer, slowest first (ms per inference)", "ms", bars) if bars else None


def type_time_bars(record: EngineRecord, shown: int = BARS_SHOWN) -> list[Bar]:
    """Time summed per layer type, most first, labelled with the type's timed layer count."""
    time: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    for _, layer in timed_layers(record):
        kind = one_line(layer.type) or "(none)"
        time[kind] += float(layer.time_ms or 0.0)
        count[kind] += 1
    ranked = sorted(time.items(), key=lambda kv: (-kv[1], kv[0]))
    bars = [Bar(f"{kind} ({count[kind]} layer{'s' * (count[kind] != 1)})", ms)
            for kind, ms in ranked[:shown]]
    rest = ranked[shown:]
    if rest:
        bars.append(Bar(f"{len(rest)} other types", sum(ms for _, ms in rest)))
    return bars


def type_time_chart(record: EngineRecord) -> str | None:
    """Time per layer type, or None for an engine without times."""
    bars = type_time_bars(record)
    return (xychart("Time per layer type (ms per inference)", "ms", bars)
            if bars else None)


def weight_bytes(layer: Layer) -> float:
    """The bytes of the weights a layer holds: its constants of more than one element (one
    is a scale or a bound), by their type's size; constants of no known type count 0."""
    total = 0.0
    for t in layer.constants:
        elements = 1
        for d in t.dims:
            elements *= max(int(d), 1)
        if elements > 1:
            total += elements * DTYPE_BYTES.get(t.dtype, 0.0)
    return total


@dataclass(frozen=True)
class PrecisionMix:
    """The precision mix as the page draws it: slices (label, value) and what they weigh.

    ``weight`` is ``"time"`` (ms, where the layers carry times), ``"weights"`` (bytes of
    weights, in ``unit``) or ``"layers"`` (a count). ``layers`` counts every layer per
    precision, :data:`NO_PRECISION` included, whatever the weighting."""

    weight: str
    unit: str
    slices: tuple[tuple[str, float], ...]
    layers: tuple[tuple[str, int], ...]
    digits: int


def precision_mix(record: EngineRecord) -> PrecisionMix | None:
    """The layers' precisions weighted by time where there are times, else by weight bytes,
    else counted; layers without a precision are :data:`NO_PRECISION`, never left out."""
    layers = record.inspection.layers
    if not layers:
        return None

    def label(layer: Layer) -> str:
        return one_line(layer.precision) or NO_PRECISION

    counts = Counter(label(layer) for layer in layers)
    by_count = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    sums: dict[str, float] = defaultdict(float)
    if any(is_number(layer.time_ms) for layer in layers):
        weight, unit, digits = "time", "ms", MS_DIGITS
        for layer in layers:
            if is_number(layer.time_ms):
                sums[label(layer)] += float(layer.time_ms or 0.0)
    else:
        held = [(label(layer), weight_bytes(layer)) for layer in layers]
        if any(b > 0 for _, b in held):
            weight, digits = "weights", 2
            unit, size = byte_unit(sum(b for _, b in held))
            for name, b in held:
                sums[name] += b / size
        else:
            weight, unit, digits = "layers", "layers", 0
            for name, n in by_count:
                sums[name] = float(n)
    slices = tuple(sorted(((k, v) for k, v in sums.items() if round(v, digits) > 0),
                          key=lambda kv: (-kv[1], kv[0])))
    return PrecisionMix(weight, unit, slices, by_count, digits)


def precision_pie(record: EngineRecord) -> str | None:
    """The precision mix as a Mermaid pie, or None for an engine without layers or with one
    precision (a full circle says no more than the sentence beside it)."""
    mix = precision_mix(record)
    if mix is None or len(mix.slices) < 2:
        return None
    # No title: Mermaid draws it black on the dark scheme; the page says what the pie weighs.
    lines = ["pie showData"]
    lines += [f'    "{mermaid_label(name, CHART_LABEL)}" : {number(value, mix.digits)}'
              for name, value in mix.slices]
    return "\n".join(lines)


_MEMORY = (("weights", "Weights"), ("activation", "Activations"), ("scratch", "Scratch"),
           ("host_persistent", "Host persistent"), ("device_persistent", "Device persistent"))


def memory_bars(record: EngineRecord) -> tuple[str, list[Bar]]:
    """(unit, bars) of the memory totals the record has, in the unit of the largest."""
    memory = record.inspection.memory
    known = [(title, float(getattr(memory, key))) for key, title in _MEMORY
             if is_number(getattr(memory, key))]
    unit, size = byte_unit(max((v for _, v in known), default=0.0))
    return unit, [Bar(title, value / size) for title, value in known]


def memory_chart(record: EngineRecord) -> str | None:
    """Weights, activation, scratch and persistent memory, or None when none is known."""
    unit, bars = memory_bars(record)
    return xychart("Memory", unit, bars, digits=2, shown=2) if bars else None


def _precision_rank(record: EngineRecord) -> tuple[int, str]:
    spec = record.spec
    precision = spec.precision if isinstance(spec, SpecSection) else ""
    rank = PRECISIONS.index(precision) if precision in PRECISIONS else len(PRECISIONS)
    return rank, one_line(record.name)


def variant_groups(records: Iterable[EngineRecord]) -> list[tuple[str, list[EngineRecord]]]:
    """``(spec file, its records)`` of every spec file that made two or more engines of one
    model (``variants:``), each group by precision (fp32 first), groups by spec file."""
    groups: dict[tuple[str, str], list[EngineRecord]] = defaultdict(list)
    for record in records:
        spec = record.spec
        if isinstance(spec, SpecSection) and spec.source:
            groups[(one_line(spec.source), one_line(record.model_sha256))].append(record)
    return [(source, sorted(members, key=_precision_rank))
            for (source, _), members in sorted(groups.items()) if len(members) > 1]


def variant_bars(records: Sequence[EngineRecord]) -> tuple[str, list[Bar]]:
    """(unit, bars): each variant's engine file and weights, side by side."""
    pairs: list[tuple[str, Any]] = []
    for r in records:
        pairs += [(f"{one_line(r.name)} engine", r.engine_bytes),
                  (f"{one_line(r.name)} weights", r.inspection.memory.weights)]
    known = [(label, float(v)) for label, v in pairs if is_number(v)]
    unit, size = byte_unit(max((v for _, v in known), default=0.0))
    return unit, [Bar(label, v / size) for label, v in known]


def variant_chart(records: Sequence[EngineRecord]) -> str | None:
    """Engine size and weights across the variants of one spec, or None without sizes."""
    unit, bars = variant_bars(records)
    return (xychart("Engine file and weights per variant", unit, bars, digits=2, shown=2)
            if len(bars) > 1 else None)

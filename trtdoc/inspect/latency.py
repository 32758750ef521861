"""End-to-end latency of many inferences, summarised: what a record keeps of ``trtexec
--exportTimes`` (:mod:`trtdoc.inspect.trtexec_times` reads the file).

A record keeps the summary, not the list: a long trtexec run writes millions of inferences,
and a page shows their median, percentiles and a histogram. The statistics are computed as
trtexec computes the ones it prints (``samples/common/sampleReporting.cpp``: the median of an
even count is the mean of the middle two; percentile p is the value with
``int((1 - p/100) * n)`` values above it), so the page agrees with trtexec's own summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}
_Ms = Annotated[float, Field(ge=0)]

DECIMALS = 5  # trtexec writes times to 10 ns (1.93843 ms); finer digits are float noise
MAX_BINS = 20  # histogram bars: enough to see the shape, few enough to read at 390 px


@dataclass(frozen=True)
class LatencyBin:
    """One bar of the histogram: inferences with ``low_ms`` ≤ latency < ``high_ms`` (the last
    bar includes its high end)."""

    __pydantic_config__ = _CONFIG

    low_ms: _Ms
    high_ms: _Ms
    count: Annotated[int, Field(ge=0)]


@dataclass(frozen=True, kw_only=True)
class Latency:
    """The latencies of ``count`` inferences, in milliseconds."""

    __pydantic_config__ = _CONFIG

    metric: Annotated[str, Field(description=(
        "The field of each trtexec --exportTimes record summarised (latencyMs: host-to-"
        "device copy, compute and device-to-host copy of one inference)."))] = "latencyMs"
    count: Annotated[int, Field(ge=1)]
    min_ms: _Ms
    median_ms: _Ms
    p90_ms: _Ms
    p99_ms: _Ms
    max_ms: _Ms
    mean_ms: _Ms
    histogram: Annotated[tuple[LatencyBin, ...], Field(description=(
        "Equal-width bins from min_ms to max_ms; their counts add up to count."))]


def _ms(value: float) -> float:
    return round(value, DECIMALS)


def percentile(ordered: Sequence[float], p: float) -> float:
    """trtexec's percentile of sorted values: the one with ``int((1 - p/100) * n)`` above it."""
    n = len(ordered)
    # (100 - p) * n / 100, not (1 - p/100) * n: in doubles 1 - 0.9 is 0.0999..., which would
    # drop one value too few at n = 100 (trtexec's float arithmetic gives 10 there).
    exclude = int((100 - p) * n / 100)
    return ordered[max(n - 1 - exclude, 0)]


def median(ordered: Sequence[float]) -> float:
    """trtexec's median of sorted values: the middle one, or the mean of the middle two."""
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def latency_from_values(values: Sequence[float], metric: str = "latencyMs") -> Latency:
    """The summary of ``values`` (at least one, each finite and ≥ 0), in milliseconds."""
    ordered = sorted(values)
    n = len(ordered)
    low, high = ordered[0], ordered[-1]
    bins = max(1, min(MAX_BINS, math.ceil(math.sqrt(n)))) if high > low else 1
    width = (high - low) / bins
    counts = [0] * bins
    for v in ordered:
        counts[min(int((v - low) / width), bins - 1) if width else 0] += 1
    histogram = tuple(LatencyBin(_ms(low + i * width), _ms(low + (i + 1) * width if i + 1 < bins
                                                           else high), c)
                      for i, c in enumerate(counts))
    return Latency(metric=metric, count=n, min_ms=_ms(low), median_ms=_ms(median(ordered)),
                   p90_ms=_ms(percentile(ordered, 90)), p99_ms=_ms(percentile(ordered, 99)),
                   max_ms=_ms(high), mean_ms=_ms(math.fsum(ordered) / n), histogram=histogram)

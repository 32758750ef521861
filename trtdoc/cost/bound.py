"""A lower bound on an engine's time on one GPU: an estimate, never a measurement.

Per layer, the larger of its FLOPs over the GPU's peak rate at the layer's precision and its
bytes over the GPU's memory bandwidth (the roofline); per engine, the sum over the layers that
have a cost. Peaks are datasheet maxima (:mod:`trtdoc.cost.gpus`), so a real kernel takes at
least this long; layers without a cost add nothing, which keeps the sum a lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trtdoc.cost.gpus import GpuPeaks
from trtdoc.inspect.types import PRECISION_OF_DTYPE, Layer

LABEL = "an estimate and a lower bound, not a measurement"


@dataclass(frozen=True)
class LayerBound:
    """One layer's roofline time on one GPU."""

    compute_ms: float
    memory_ms: float

    @property
    def ms(self) -> float:
        return max(self.compute_ms, self.memory_ms)

    @property
    def limited_by(self) -> str:
        """``compute`` or ``memory``: which side of the roofline sets the bound."""
        return "compute" if self.compute_ms >= self.memory_ms else "memory"


def layer_bound(layer: Layer, gpu: GpuPeaks,
                rates: dict[str, float] | None = None) -> LayerBound | None:
    """The bound of ``layer`` on ``gpu``; None for a layer without a cost. ``rates`` (layer
    precision → FLOP/s) is filled as it goes, so an engine's layers look each rate up once."""
    cost = layer.cost
    if cost is None:
        return None
    rates = {} if rates is None else rates
    rate = rates.get(layer.precision)
    if rate is None:
        rate = rates[layer.precision] = gpu.rate(PRECISION_OF_DTYPE.get(layer.precision, ""))
    return LayerBound(compute_ms=cost.flops / rate * 1e3,
                      memory_ms=cost.bytes / gpu.bandwidth * 1e3)


@dataclass(frozen=True)
class EngineBound:
    """The sum of the layer bounds, and how many layers had none."""

    gpu: GpuPeaks
    ms: float
    layers: int  # layers counted
    unknown: int  # layers without a cost (not counted)


def engine_bound(layers: Sequence[Layer], gpu: GpuPeaks) -> EngineBound:
    """The engine's bound on ``gpu``: the sum over its layers with a cost."""
    rates: dict[str, float] = {}
    bounds = [b for b in (layer_bound(layer, gpu, rates) for layer in layers) if b is not None]
    return EngineBound(gpu, sum(b.ms for b in bounds), len(bounds), len(layers) - len(bounds))

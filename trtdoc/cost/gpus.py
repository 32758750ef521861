"""Peak rates, memory bandwidth and memory of GPUs, each row citing the datasheet it comes from.

Rates are dense (no structured sparsity) tensor-core rates where the GPU has tensor cores for
that precision, in TFLOP/s (TOP/s for int8); ``fp32`` is the CUDA-core rate and ``tf32`` the
tensor-core rate TensorRT may use for fp32 convolutions and matrix multiplies (it allows TF32
unless told not to). Bandwidth is in GB/s (10^9 bytes), memory in bytes.

A row names its GPU as :mod:`trtdoc.compat.gpus` does (one source for GPU names); where a model
comes in variants (A100 40 GB and 80 GB), the row is the variant it says, and a deployment
target gives its own ``memory:`` for another. GPUs without a row here have no bound: nothing is
guessed. Add rows with their datasheet URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from trtdoc.compat.gpus import Gpu, UnknownGpu, find_gpu

_GIB = 1 << 30


@dataclass(frozen=True)
class GpuPeaks:
    """One GPU's datasheet figures."""

    model: str  # as trtdoc.compat.gpus.GPU_MODELS spells it
    variant: str  # the datasheet column these figures are from
    tflops: tuple[tuple[str, float], ...]  # (precision word, dense TFLOP/s), see module doc
    bandwidth_gbs: float
    memory_bytes: int
    source: str

    def rate(self, precision: str) -> float:
        """FLOP/s for math in ``precision`` (a spec precision word: fp32, fp16, int8...).

        fp32 is the faster of the CUDA-core and TF32 rates; a precision without a row (int4,
        integer index math) takes the GPU's fastest rate. Both keep the bound a lower bound.
        """
        rates = dict(self.tflops)
        if precision == "fp32":
            found = max(rates.get("fp32", 0.0), rates.get("tf32", 0.0)) or None
        else:
            found = rates.get(precision)
        return (found or max(rates.values())) * 1e12

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.bandwidth_gbs * 1e9


_A100 = ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
         "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf")
_H100 = "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet"
_L4 = "https://www.nvidia.com/en-us/data-center/l4/"
_L40S = "https://www.nvidia.com/en-us/data-center/l40s/"
_T4 = ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/"
       "t4-tensor-core-datasheet-951643.pdf")
_A10 = ("https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/"
        "a10-datasheet.pdf")
_ADA = ("https://images.nvidia.com/aem-dam/Solutions/geforce/ada/"
        "nvidia-ada-gpu-architecture.pdf")

PEAKS: tuple[GpuPeaks, ...] = (
    # The A100 80GB SXM column: the fastest memory of the A100s, so the bound stays below
    # the 40 GB (1,555 GB/s) and PCIe (1,935 GB/s) cards too.
    GpuPeaks("A100", "A100 80GB SXM", (("fp32", 19.5), ("tf32", 156.0), ("fp16", 312.0),
             ("bf16", 312.0), ("int8", 624.0)), 2039.0, 80 * _GIB, _A100),
    GpuPeaks("H100 SXM", "H100 SXM", (("fp32", 67.0), ("tf32", 494.5), ("fp16", 989.5),
             ("bf16", 989.5), ("fp8", 1979.0), ("int8", 1979.0)), 3350.0, 80 * _GIB, _H100),
    GpuPeaks("L4", "L4", (("fp32", 30.3), ("tf32", 60.0), ("fp16", 121.0), ("bf16", 121.0),
             ("fp8", 242.5), ("int8", 242.5)), 300.0, 24 * _GIB, _L4),
    GpuPeaks("L40S", "L40S", (("fp32", 91.6), ("tf32", 183.0), ("fp16", 362.05),
             ("bf16", 362.05), ("fp8", 733.0), ("int8", 733.0)), 864.0, 48 * _GIB, _L40S),
    GpuPeaks("A10", "A10", (("fp32", 31.2), ("tf32", 62.5), ("fp16", 125.0), ("bf16", 125.0),
             ("int8", 250.0)), 600.0, 24 * _GIB, _A10),
    GpuPeaks("T4", "T4", (("fp32", 8.1), ("fp16", 65.0), ("int8", 130.0)), 320.0, 16 * _GIB,
             _T4),
    # The Ada whitepaper's RTX 4090 column; fp16 with fp16 accumulation (the faster rate).
    GpuPeaks("RTX 4090", "GeForce RTX 4090", (("fp32", 82.6), ("tf32", 82.6),
             ("fp16", 330.3), ("bf16", 165.2), ("fp8", 660.6), ("int8", 660.6)), 1008.0,
             24 * _GIB, _ADA),
)
_BY_MODEL = {p.model: p for p in PEAKS}


def peaks_of(gpu: Gpu) -> GpuPeaks | None:
    """The datasheet row of ``gpu``; None for a GPU without one (or given as a compute
    capability)."""
    return _BY_MODEL.get(gpu.model or "")


def peaks_named(text: str) -> GpuPeaks | None:
    """The row of the GPU ``text`` names ("A100", "NVIDIA A100-SXM4-80GB"); None when the
    name is unknown or the GPU has no row."""
    try:
        return peaks_of(find_gpu(text))
    except UnknownGpu:
        return None

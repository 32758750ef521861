"""Which runtime versions run on which GPUs: the data behind the compatibility page.

Every row names the NVIDIA page (or the measurement) it comes from. A fact that no source
gives is ``None`` and the page prints "unknown"; nothing here is guessed. When a new release
comes out, add a row with its support-matrix URL; ``compat.py`` picks the row whose version
matches a record best.

The minimum driver follows from the CUDA major version a runtime is built with (CUDA minor
version compatibility): CUDA 11.x needs driver >= 450, 12.x >= 525, 13.x >= 580.
"""

from __future__ import annotations

from dataclasses import dataclass

CUDA_COMPAT_URL = "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html"
# CUDA major → minimum driver branch, from the table at CUDA_COMPAT_URL.
MIN_DRIVER_FOR_CUDA = {"11": ">= 450", "12": ">= 525", "13": ">= 580"}


@dataclass(frozen=True)
class Architecture:
    """A GPU architecture column of the compatibility matrix."""

    key: str  # sm86: the spelling specs and TensorRT-RTX's ComputeCapability use
    compute_capability: str  # 8.6
    family: str  # Ampere
    example: str  # a device the cited support matrix names
    source: str


_RTX_MATRIX = "https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/support-matrix.html"
_TRT_101_MATRIX = ("https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-1010/"
                   "support-matrix/index.html")
_CUDA_GPUS = "https://developer.nvidia.com/cuda-gpus"

ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("sm75", "7.5", "Turing", "RTX 2080 Ti", _RTX_MATRIX),
    Architecture("sm80", "8.0", "Ampere", "A100", _CUDA_GPUS),
    Architecture("sm86", "8.6", "Ampere", "RTX 3090", _RTX_MATRIX),
    Architecture("sm89", "8.9", "Ada Lovelace", "RTX 4090", _RTX_MATRIX),
    Architecture("sm90", "9.0", "Hopper", "H100", _TRT_101_MATRIX),
    Architecture("sm100", "10.0", "Blackwell", "", ""),
    Architecture("sm120", "12.0", "Blackwell", "RTX 5090", _RTX_MATRIX),
    Architecture("sm121", "12.1", "Blackwell", "GB10", _RTX_MATRIX),
)
ARCHITECTURE_KEYS = tuple(a.key for a in ARCHITECTURES)


@dataclass(frozen=True)
class Runtime:
    """One runtime release line and what its NVIDIA support matrix says about it.

    ``architectures`` is None where no cited source lists them. ``default_targets`` are the
    compute capabilities a TensorRT-RTX engine is compiled for when the spec names none.
    """

    backend: str  # "tensorrt" | "tensorrt-rtx"
    version: str  # "1.7", "10.14.1": matched as a prefix of the record's version
    cuda: str | None
    min_driver: str | None
    architectures: tuple[str, ...] | None
    sources: tuple[str, ...]
    default_targets: tuple[str, ...] = ()
    note: str = ""

    @property
    def display(self) -> str:
        name = "TensorRT-RTX" if self.backend == "tensorrt-rtx" else "TensorRT"
        return f"{name} {self.version}"


RUNTIMES: tuple[Runtime, ...] = (
    Runtime(
        "tensorrt-rtx", "1.0", None, None, ("sm75", "sm86", "sm89", "sm120"),
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.0.html",),
        default_targets=("sm86", "sm89", "sm120"),
        note="engines are portable across 8.6, 8.9 and 12.0 by default; Turing needs an "
             "explicit target",
    ),
    Runtime(
        "tensorrt-rtx", "1.4", "12.9 or later (separate CUDA 12.x and 13.x packages)",
        ">= 525 (CUDA 12.x package); >= 580 (CUDA 13.x package)",
        ("sm75", "sm86", "sm89", "sm120"),
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.4.html",
         "https://docs.nvidia.com/deeplearning/tensorrt-rtx/1.4/installing-tensorrt-rtx/"
         "prerequisites.html",
         CUDA_COMPAT_URL),
        default_targets=("sm86", "sm89", "sm120"),
    ),
    Runtime(
        "tensorrt-rtx", "1.5", None, None, ("sm75", "sm86", "sm89", "sm120", "sm121"),
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.5.html",),
        default_targets=("sm86", "sm89", "sm120"),
        note="adds compute capability 12.1 (GB10)",
    ),
    Runtime(
        "tensorrt-rtx", "1.7", "13.x (the tensorrt-rtx-cu13 wheel this project installs)",
        ">= 580", ("sm75", "sm80", "sm86", "sm89", "sm120", "sm121"),
        ("measured: tensorrt_rtx 1.7.1 ComputeCapability has SM75, SM80, SM86, SM89, SM120, "
         "SM121 and no SM90 or SM100",
         "https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/"
         "cpu-engines.html",
         CUDA_COMPAT_URL),
        default_targets=("sm80", "sm86", "sm89", "sm120"),
        note="the default (no targets) runs on 8.0, 8.6, 8.9, 12.0 and later; Turing (7.5) "
             "needs an explicit target",
    ),
    Runtime(
        "tensorrt", "8.6", "11.0 update 1 to 12.1 update 1 (Linux x86-64)", None, None,
        ("https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-861/support-matrix/"
         "index.html",),
        note="driver depends on which CUDA build is used (11.x: >= 450, 12.x: >= 525)",
    ),
    Runtime(
        "tensorrt", "10.1", "12.0 update 1 to 12.4 update 1, and 11.8", None,
        ("sm75", "sm80", "sm86", "sm89", "sm90"),
        (_TRT_101_MATRIX, CUDA_COMPAT_URL),
        note="compiled for SM 7.0 and higher; Blackwell is not in this release's matrix",
    ),
    Runtime(
        "tensorrt", "10.14", "13.0 update 2 (the first CUDA the support matrix lists)",
        ">= 580 (CUDA 13.x build)", None,
        ("https://docs.nvidia.com/deeplearning/tensorrt/latest/getting-started/"
         "support-matrix-10/10.14.1.html", CUDA_COMPAT_URL),
    ),
)

# Facts about engine portability that hold for every version of a flavour.
TENSORRT_PORTABILITY_URL = ("https://docs.nvidia.com/deeplearning/tensorrt/latest/getting-started/"
                            "support-matrix-10/10.14.1.html")
HARDWARE_COMPAT_URL = ("https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/"
                       "advanced.html")
RTX_TARGETS_URL = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/inference-library/"
                   "cpu-engines.html")

"""The rules of where an engine runs, as data: every fact names the NVIDIA page (or the
measurement) it comes from.

A fact that no source gives is absent, and the verdict that needs it is "unknown" with that
reason; nothing here is guessed. When a release comes out, add its rows with their URLs.

Two parts:

* ``ARCHITECTURES`` and ``RUNTIMES``: the engines × architectures matrix of the compatibility
  page (``matrix.py``);
* the deployment rules below ``# Deployment rules``: version compatibility, hardware
  compatibility, TensorRT-RTX targets and releases, CUDA builds and minimum drivers, and which
  compute capabilities each release supports (``verdicts.py`` applies them).
"""

from __future__ import annotations

from dataclasses import dataclass

from trtdoc.compat.hazards import TURING_FP32_GEMM_SOURCES
from trtdoc.compat.jetson import JETSON_SOURCES
from trtdoc.values import EngineBackend, RuntimeFlavour, Target

CUDA_COMPAT_URL = "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html"
# CUDA major → the minimum driver branch, from Table 1 at CUDA_COMPAT_URL ("CUDA 13.x >= 580,
# CUDA 12.x >= 525, CUDA 11.x >= 450"; newer drivers run older CUDA by backward compatibility).
MIN_DRIVER_FOR_CUDA: dict[str, int] = {"11": 450, "12": 525, "13": 580}


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

    ``default_targets`` are the compute capabilities a TensorRT-RTX engine is compiled for when
    the spec names none. Which architectures a release supports is ``ARCH_SUPPORT``'s (one
    table for the matrix and the deployment verdicts).
    """

    backend: EngineBackend
    version: str  # "1.7", "10.14.1": matched as a prefix of the record's version
    cuda: str | None
    min_driver: str | None
    sources: tuple[str, ...]
    default_targets: tuple[Target, ...] = ()
    note: str = ""

    @property
    def all_sources(self) -> tuple[str, ...]:
        """This row's sources, then those of the CUDA_BUILDS and ARCH_SUPPORT rows its page
        cells come from."""
        rows = [releases_row(table, self.backend, _v(self.version))
                for table in (CUDA_BUILDS, ARCH_SUPPORT)]
        extra = [s for r in rows if r is not None for s in r.sources]
        if isinstance(rows[0], CudaBuilds):
            extra.append(CUDA_COMPAT_URL)
        return tuple(dict.fromkeys((*self.sources, *extra)))

    @property
    def cuda_text(self) -> str | None:
        """The CUDA builds of this release (CUDA_BUILDS), then what its matrix says."""
        row = releases_row(CUDA_BUILDS, self.backend, _v(self.version))
        builds = (", ".join(f"{m}.x" for m in row.majors) + " builds"
                  if isinstance(row, CudaBuilds) else None)
        return "; ".join(t for t in (builds, self.cuda) if t) or None

    @property
    def min_driver_text(self) -> str | None:
        """The minimum driver of each CUDA build (MIN_DRIVER_FOR_CUDA), or the row's text."""
        row = releases_row(CUDA_BUILDS, self.backend, _v(self.version))
        if not isinstance(row, CudaBuilds):
            return self.min_driver
        return "; ".join(f">= {MIN_DRIVER_FOR_CUDA[m]} (CUDA {m}.x build)" for m in row.majors)

    @property
    def architectures(self) -> tuple[str, ...] | None:
        """The keys (sm86) of the compute capabilities ARCH_SUPPORT lists for this release;
        None where no cited source lists them."""
        row = releases_row(ARCH_SUPPORT, self.backend, _v(self.version))
        if not isinstance(row, ArchSupport):
            return None
        return tuple("sm" + cc.replace(".", "") for cc in row.supported)

    @property
    def display(self) -> str:
        name = "TensorRT-RTX" if self.backend == "tensorrt-rtx" else "TensorRT"
        return f"{name} {self.version}"


# What TensorRT-RTX 1.0 to 1.5 compile for when a spec names no targets (their support matrices).
_RTX_DEFAULT_TARGETS: tuple[Target, ...] = ("sm86", "sm89", "sm120")

RUNTIMES: tuple[Runtime, ...] = (
    Runtime(
        "tensorrt-rtx", "1.0", None, None,
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.0.html",),
        default_targets=_RTX_DEFAULT_TARGETS,
        note="engines are portable across 8.6, 8.9 and 12.0 by default; Turing needs an "
             "explicit target",
    ),
    Runtime(
        "tensorrt-rtx", "1.4", "12.9 or later (separate CUDA 12.x and 13.x packages)",
        None,
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.4.html",
         "https://docs.nvidia.com/deeplearning/tensorrt-rtx/1.4/installing-tensorrt-rtx/"
         "prerequisites.html",
         CUDA_COMPAT_URL),
        default_targets=_RTX_DEFAULT_TARGETS,
    ),
    Runtime(
        "tensorrt-rtx", "1.5", None, None,
        ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
         "support-matrix-1/1.5.html",),
        default_targets=_RTX_DEFAULT_TARGETS,
        note="adds compute capability 12.1 (GB10)",
    ),
    Runtime(
        "tensorrt-rtx", "1.7", "this project installs the tensorrt-rtx-cu13 wheel",
        None,
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
        "tensorrt", "8.6", "11.0 update 1 to 12.1 update 1 (Linux x86-64)", None,
        ("https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-861/support-matrix/"
         "index.html",),
        note="the driver depends on which CUDA build is used",
    ),
    Runtime(
        "tensorrt", "10.1", "12.0 update 1 to 12.4 update 1, and 11.8", None,
        (_TRT_101_MATRIX, CUDA_COMPAT_URL),
        note="compiled for SM 7.0 and higher; Blackwell is not in this release's matrix",
    ),
    Runtime(
        "tensorrt", "10.14", "13.0 update 2 is the first CUDA its support matrix lists",
        None,
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


# --------------------------------------------------------------------------------------------
# Deployment rules: what ``trtdoc compat --deploy`` applies to each (engine, target) pair
# --------------------------------------------------------------------------------------------
# The names of the runtimes a deployment target can name (values.FLAVOURS).
FLAVOUR_NAMES: dict[RuntimeFlavour, str] = {
    "tensorrt": "TensorRT", "tensorrt-rtx": "TensorRT-RTX",
    "tensorrt-lean": "the TensorRT lean runtime"}
# Which plan flavour each runtime loads (the lean runtime is TensorRT's).
PLAN_FLAVOUR: dict[RuntimeFlavour, EngineBackend] = {
    "tensorrt": "tensorrt", "tensorrt-rtx": "tensorrt-rtx", "tensorrt-lean": "tensorrt"}

_TRT_DOCS = "https://docs.nvidia.com/deeplearning/tensorrt"
_RTX_DOCS = "https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest"
RTX_ENGINE_COMPAT_URL = f"{_RTX_DOCS}/inference-library/engine-compatibility.html"
RTX_PORTING_URL = f"{_RTX_DOCS}/inference-library/porting.html"
TRT_VERSION_COMPAT_URL = f"{_TRT_DOCS}/10.16.1/inference-library/version-compatibility.html"
TRT_ENGINE_COMPAT_URL = f"{_TRT_DOCS}/11.1.0/inference-library/engine-compatibility.html"
TRT_PORTABILITY_URL = f"{_TRT_DOCS}/11.4.1/getting-started/support-matrix.html"
# NvInfer.h's HardwareCompatibilityLevel (kNONE, kAMPERE_PLUS, kSAME_COMPUTE_CAPABILITY), as the
# TensorRT-RTX Rust bindings reproduce it.
TRT_HARDWARE_LEVEL_URL = ("https://docs.rs/trtx-sys/latest/trtx_sys/real_bindings/nvinfer1/"
                          "enum.HardwareCompatibilityLevel.html")
TRT_LEAN_URL = "https://developer.nvidia.com/ja-jp/blog/tensorrt-hardware-version-compatibility/"
TRT_DRIVE_EXACT_URL = ("https://developer.nvidia.com/docs/drive/drive-os/7.0.3/public/"
                       "drive-os-tensorrt-release-notes/release-properties.html")
TRT_MEMORY_URL = f"{_TRT_DOCS}/latest/architecture/how-trt-works.html"
TRT_LLM_MEMORY_URL = "https://nvidia.github.io/TensorRT-LLM/reference/memory.html"
HEADER_MEASURED = ("measured: TensorRT-RTX 1.7.1.116 plans carry magic b'vtrt' and a "
                   "compute-capability bitmask at byte 32 (trtdoc/inspect/header.py); TensorRT "
                   "plans start with b'ftrt'")


@dataclass(frozen=True)
class Rule:
    """One rule a verdict can rest on: what it says, and where NVIDIA says it."""

    id: str
    says: str
    sources: tuple[str, ...]


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("flavour", "A plan loads only in the flavour that built it: a TensorRT-RTX plan in "
         "TensorRT-RTX, a TensorRT plan in TensorRT (or its lean runtime).",
         (RTX_PORTING_URL, HEADER_MEASURED)),
    Rule("rtx-release", "TensorRT-RTX engines are not compatible between different releases of "
         "TensorRT-RTX: the runtime must be the release that built the plan.",
         (RTX_ENGINE_COMPAT_URL,)),
    Rule("trt-version", "By default a TensorRT plan loads only in the TensorRT version that "
         "built it (major, minor, patch and build).",
         (TRT_VERSION_COMPAT_URL, TRT_DRIVE_EXACT_URL)),
    Rule("version-compatible", "A version-compatible plan (built by TensorRT 8.6 or later) loads "
         "in the same or a newer runtime of its major; across majors only 8 → 10 and 10 → 11; "
         "never in an older runtime.",
         (TRT_VERSION_COMPAT_URL, TRT_ENGINE_COMPAT_URL, TRT_PORTABILITY_URL)),
    Rule("lean", "The lean runtime runs only version-compatible plans.",
         (TRT_LEAN_URL, TRT_VERSION_COMPAT_URL)),
    Rule("rtx-targets", "A TensorRT-RTX plan runs only on the compute capabilities compiled into "
         "it, which its header lists.",
         (RTX_TARGETS_URL, RTX_ENGINE_COMPAT_URL, HEADER_MEASURED)),
    Rule("hardware-compatibility", "A TensorRT plan runs on the compute capability of the GPU "
         "that built it; with hardware compatibility ampere+ on Ampere (8.0) and later; with "
         "same-cc on GPUs of the building GPU's compute capability.",
         (TRT_ENGINE_COMPAT_URL, TRT_HARDWARE_LEVEL_URL, TRT_PORTABILITY_URL)),
    Rule("architecture", "Each runtime release supports the compute capabilities of its "
         "support matrix and release notes.", ()),
    Rule("cuda-runtime", "A TensorRT-RTX plan needs a CUDA runtime no older than the one that "
         "built it (kOLD_CUDA_RUNTIME).", (RTX_ENGINE_COMPAT_URL,)),
    Rule("memory", "An engine instance needs device memory for its weights (allocated when "
         "the plan is deserialised), its activations (per execution context; the build's "
         "total is the largest over its profiles), its persistent memory and the rest of the "
         "plan; it fits where that is no more than the target's memory.",
         (TRT_MEMORY_URL, TRT_LLM_MEMORY_URL)),
    Rule("turing-fp32-gemm", "TensorRT-RTX does not support FP32 GEMMs on Turing (sm75): a "
         "dynamic-shape FP32 GEMM there runs and silently returns zeros, a static one gets "
         "no execution context.", TURING_FP32_GEMM_SOURCES),
    Rule("jetson", "Full TensorRT on Jetson: 11.4.1 runs on Jetson AGX Orin and Thor with "
         "JetPack 7.2.2 or later; 11.2.1, 11.3.0, 11.4.0 and 11.5.0 have no JetPack build.",
         JETSON_SOURCES),
    Rule("driver", "A runtime built with CUDA N.x needs a driver of at least the branch CUDA "
         "minor version compatibility names for N (13: 580, 12: 525, 11: 450).",
         (CUDA_COMPAT_URL, RTX_ENGINE_COMPAT_URL)),
)}

# Version compatibility across majors: (plan major, runtime major) pairs NVIDIA supports.
VERSION_COMPAT_FIRST = (8, 6)
VERSION_COMPAT_ACROSS_MAJORS = frozenset({(8, 10), (10, 11)})
# Hardware compatibility levels and the first compute capability each runs on.
AMPERE = (8, 0)


def version_parts(version: str) -> tuple[int, ...]:
    """A version's leading numbers: "10.13.3.9" → (10, 13, 3, 9); "unknown" → ()."""
    out = []
    for part in version.split("."):
        if not (part.isascii() and part.isdigit()):
            break
        out.append(int(part))
    return tuple(out)


_v = version_parts


@dataclass(frozen=True)
class CudaBuilds:
    """The CUDA majors a range of releases of one flavour is built for."""

    flavour: EngineBackend  # the lean runtime ships with TensorRT
    first: tuple[int, ...]
    last: tuple[int, ...]
    majors: tuple[str, ...]
    sources: tuple[str, ...]


_PYPI = "https://pypi.org/project/{}/#history"
_PYPI_MEASURED = "measured 2026-12-02 with `pip index versions {}`: {}"
CUDA_BUILDS: tuple[CudaBuilds, ...] = (
    CudaBuilds("tensorrt", (8, 6), (8, 6, 99), ("11", "12"),
               ("https://docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-861/"
                "support-matrix/index.html",)),
    CudaBuilds("tensorrt", (10, 0), (10, 13, 1), ("11", "12"),
               (_PYPI.format("tensorrt-cu11"), _PYPI.format("tensorrt-cu12"),
                _PYPI_MEASURED.format("tensorrt-cu11", "10.0.1 to 10.13.0.35"))),
    CudaBuilds("tensorrt", (10, 13, 2), (11, 4, 99), ("12", "13"),
               (_PYPI.format("tensorrt-cu12"), _PYPI.format("tensorrt-cu13"),
                _PYPI_MEASURED.format("tensorrt-cu13", "10.13.2.6 to 11.4.0.106"))),
    CudaBuilds("tensorrt-rtx", (1, 0), (1, 1, 99), ("12",),
               (f"{_RTX_DOCS}/getting-started/release-notes-1/1.1.html",)),
    CudaBuilds("tensorrt-rtx", (1, 2), (1, 3, 99), ("12", "13"),
               (f"{_RTX_DOCS}/getting-started/release-notes-1/1.2.html",
                f"{_RTX_DOCS}/getting-started/release-notes-1/1.3.html")),
    CudaBuilds("tensorrt-rtx", (1, 4), (1, 7, 99), ("12", "13"),
               (_PYPI.format("tensorrt-rtx-cu12"), _PYPI.format("tensorrt-rtx-cu13"),
                _PYPI_MEASURED.format("tensorrt-rtx-cu12",
                                      "1.4.0.76 to 1.7.1.116, as tensorrt-rtx-cu13"))),
)


@dataclass(frozen=True)
class ArchSupport:
    """Which compute capabilities a range of releases of one flavour supports.

    ``supported`` are listed by a cited page; ``unsupported`` are named as unsupported (or
    removed); a compute capability in neither is "unknown". ``below`` fails everything under
    that compute capability (a release note that drops an architecture).
    """

    flavour: EngineBackend
    first: tuple[int, ...]
    last: tuple[int, ...]
    supported: tuple[str, ...]
    unsupported: tuple[str, ...]
    below: str | None
    sources: tuple[str, ...]
    note: str = ""


_TRT_NOTES = f"{_TRT_DOCS}/latest/getting-started"
ARCH_SUPPORT: tuple[ArchSupport, ...] = (
    ArchSupport("tensorrt", (10, 0), (10, 4, 99),
                ("7.0", "7.5", "8.0", "8.6", "8.9", "9.0"), ("10.0", "12.0"), "7.0",
                (_TRT_101_MATRIX, f"{_TRT_NOTES}/release-notes-10/10.8.0.html"),
                "compiled for SM 7.0 and higher; Blackwell came in 10.8"),
    ArchSupport("tensorrt", (10, 5), (10, 7, 99), ("7.5", "8.0", "8.6", "8.9", "9.0"),
                ("10.0", "12.0"), "7.5",
                (f"{_TRT_NOTES}/release-notes-10/10.5.0.html",
                 f"{_TRT_NOTES}/release-notes-10/10.8.0.html"),
                "Volta (7.0) removed in 10.5; Blackwell came in 10.8"),
    ArchSupport("tensorrt", (10, 8), (10, 99), ("7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0"),
                (), "7.5", (f"{_TRT_NOTES}/release-notes-10/10.8.0.html",
                            f"{_TRT_NOTES}/release-notes-10/10.5.0.html"),
                "Blackwell (GeForce 50-series; B200 early access) from 10.8"),
    ArchSupport("tensorrt", (11, 0), (11, 99), ("7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0",
                                              "12.1"),
                (), "7.5", (f"{_TRT_NOTES}/release-notes-11/11.1.0.html", TRT_PORTABILITY_URL),
                "TensorRT 11 requires Turing or later; 11.1 tunes SM121 (DGX Spark)"),
    ArchSupport("tensorrt-rtx", (1, 0), (1, 4, 99), ("7.5", "8.6", "8.9", "12.0"), ("9.0", "10.0"),
                "7.5", (f"{_RTX_DOCS}/getting-started/support-matrix-1/1.0.html",
                        f"{_RTX_DOCS}/getting-started/support-matrix-1/1.4.html")),
    ArchSupport("tensorrt-rtx", (1, 5), (1, 6, 99), ("7.5", "8.6", "8.9", "12.0", "12.1"),
                ("9.0", "10.0"), "7.5",
                (f"{_RTX_DOCS}/getting-started/support-matrix-1/1.5.html",)),
    ArchSupport("tensorrt-rtx", (1, 7), (1, 7, 99), ("7.5", "8.0", "8.6", "8.9", "12.0", "12.1"),
                ("9.0", "10.0"), "7.5",
                (RTX_TARGETS_URL, "measured: tensorrt_rtx 1.7.1 ComputeCapability has SM75, "
                 "SM80, SM86, SM89, SM120, SM121 and no SM90 or SM100")),
)
# TensorRT-RTX runs on x86-64 Linux and Windows only: never on Jetson.
RTX_PLATFORMS_URL = f"{_RTX_DOCS}/getting-started/support-matrix.html"


def releases_row(rows: tuple[CudaBuilds, ...] | tuple[ArchSupport, ...], flavour: str,
                 version: tuple[int, ...]) -> CudaBuilds | ArchSupport | None:
    """The row of ``flavour`` whose release range holds ``version``, or None."""
    for row in rows:
        if row.flavour == flavour and row.first <= version <= row.last + (99,) * 4:
            return row
    return None

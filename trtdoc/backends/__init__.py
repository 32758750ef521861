"""The lazy seam between trtdoc and TensorRT.

No other trtdoc module imports TensorRT. ``choose_backend`` decides which flavour to use for a
spec, and ``import_backend`` imports it only when a build actually needs it. Both flavours have
the same Python API shape, so they share ``builder_config.py`` and the build code; the little
that differs lives in ``Backend`` subclasses in ``tensorrt.py`` and ``tensorrt_rtx.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from types import ModuleType

from trtdoc.backends.base import Backend
from trtdoc.backends.cuda import cuda_device_status
from trtdoc.backends.tensorrt import TensorRTBackend
from trtdoc.backends.tensorrt_rtx import TensorRTRTXBackend
from trtdoc.errors import BackendUnavailableError
from trtdoc.values import Backend as BackendName
from trtdoc.values import EngineBackend
from trtdoc.versions import dist_version

# The CUDA majors a TensorRT package name can carry (tensorrt-cu12, tensorrt-rtx-cu13).
CUDA_MAJORS = ("11", "12", "13", "14")

BACKENDS: dict[EngineBackend, Backend] = {
    b.name: b for b in (TensorRTBackend(), TensorRTRTXBackend())}


@dataclass(frozen=True)
class BackendChoice:
    """Which flavour builds a spec, its version, and why it was chosen."""

    backend: Backend
    version: str
    reason: str
    cuda: str | None = None  # the CUDA major of the installed package ("13"), if it says

    @property
    def name(self) -> EngineBackend:
        return self.backend.name


def installed_version(backend: Backend) -> str | None:
    """The installed version of a flavour, read from package metadata without importing it."""
    if importlib.util.find_spec(backend.module_name) is None:
        return None
    for dist in backend.distributions:
        version = dist_version(dist)
        if version is not None:
            return version
    return "unknown"


def installed_cuda(backend: Backend, version: str) -> str | None:
    """The CUDA major the installed flavour is built for, from its package name
    (``tensorrt_rtx_cu13`` → ``"13"``) at ``version``; None when no such package says.

    Each name is looked up directly (a scan of every installed package's metadata took 50 ms
    of a 1 s build)."""
    majors = set()
    for base in {re.sub(r"[-_.]+", "_", b.lower()) for b in backend.distributions}:
        if re.search(r"_cu\d+$", base):
            continue
        for major in CUDA_MAJORS:
            if dist_version(f"{base}_cu{major}") == version:
                majors.add(major)
    return majors.pop() if len(majors) == 1 else None


def _choice(backend: Backend, version: str, reason: str) -> BackendChoice:
    return BackendChoice(backend, version, reason, installed_cuda(backend, version))


def choose_backend(requested: BackendName) -> BackendChoice:
    """Resolve ``auto | tensorrt | tensorrt-rtx`` to an installed backend, with the reason."""
    if requested != "auto":
        backend = BACKENDS[requested]
        version = installed_version(backend)
        if version is None:
            raise BackendUnavailableError(
                f"{backend.display} is not installed (module {backend.module_name}); "
                f"install it with `{backend.install_hint}` or set `backend: auto`")
        return _choice(backend, version, f"the spec asks for {requested}")
    full = BACKENDS["tensorrt"]
    rtx = BACKENDS["tensorrt-rtx"]
    full_version = installed_version(full)
    has_gpu, gpu_reason = cuda_device_status()
    if full_version is not None and has_gpu:
        return _choice(full, full_version,
                       "auto: TensorRT is installed and a CUDA device is present")
    rtx_version = installed_version(rtx)
    if rtx_version is None:
        raise BackendUnavailableError(
            "neither TensorRT with a CUDA device nor TensorRT-RTX is available; "
            f"install TensorRT-RTX with `{rtx.install_hint}`")
    why = ("TensorRT is not installed" if full_version is None
           else f"TensorRT is installed but {gpu_reason}")
    return _choice(rtx, rtx_version,
                   f"auto: {why}, and TensorRT-RTX builds ahead of time without a GPU")


def import_backend(backend: Backend) -> ModuleType:
    """Import the TensorRT module of ``backend``; a clear error if it cannot be loaded."""
    try:
        return importlib.import_module(backend.module_name)
    except Exception as exc:  # a stub wheel or a missing shared library fails in many ways
        raise BackendUnavailableError(
            f"{backend.display} could not be imported ({type(exc).__name__}: {exc}); "
            f"install it with `{backend.install_hint}`") from exc


__all__ = ["BACKENDS", "Backend", "BackendChoice", "choose_backend", "import_backend",
           "installed_cuda", "installed_version"]

"""Is there a CUDA device here? Asked of the driver directly, without importing TensorRT."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def cuda_device_status() -> tuple[bool, str]:
    """``(True, "")`` when a CUDA driver reports a device, else ``(False, reason)``."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False, "no CUDA driver is installed (libcuda.so.1 not found)"
    if lib.cuInit(0) != 0:
        return False, "the CUDA driver did not initialise (no usable GPU)"
    count = ctypes.c_int(0)
    if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return False, "the CUDA driver reports no GPU"
    return True, ""


# cuDeviceGetAttribute's CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR (cuda.h).
_CC_MAJOR, _CC_MINOR = 75, 76


@functools.cache
def device_compute_capability() -> str | None:
    """Compute capability of CUDA device 0 ("8.6"), or None without one."""
    ok, _ = cuda_device_status()
    if not ok:
        return None
    lib = ctypes.CDLL("libcuda.so.1")
    device = ctypes.c_int(0)
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    if (lib.cuDeviceGet(ctypes.byref(device), 0) != 0
            or lib.cuDeviceGetAttribute(ctypes.byref(major), _CC_MAJOR, device) != 0
            or lib.cuDeviceGetAttribute(ctypes.byref(minor), _CC_MINOR, device) != 0):
        return None
    return f"{major.value}.{minor.value}"

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

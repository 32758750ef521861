"""The value lists a spec may name (precisions, targets, hardware levels, backends), defined once.

Each list is a ``Literal`` type, for pydantic and mypy, and a tuple of its members derived from
it with ``typing.get_args``, for code that iterates, indexes or prints them.
"""

from __future__ import annotations

from typing import Literal, get_args

Precision = Literal["fp32", "fp16", "bf16", "int8", "fp8"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

# The precisions that need calibration data (or a quantised model).
QuantizedPrecision = Literal["int8", "fp8"]
QUANTIZED: tuple[QuantizedPrecision, ...] = get_args(QuantizedPrecision)

# How a precision is reached: by converting the model, or by builder flags.
PrecisionMethod = Literal["model", "builder_flags"]
PRECISION_METHODS: tuple[PrecisionMethod, ...] = get_args(PrecisionMethod)

Backend = Literal["auto", "tensorrt", "tensorrt-rtx"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)

# TensorRT-RTX compute capabilities, in the order of their bits in an engine header (bit i is
# the i-th; header.py's RTX_COMPUTE_CAPABILITIES holds the same list). Targets sort this way.
Target = Literal["sm75", "sm80", "sm86", "sm89", "sm120", "sm121"]
TARGETS: tuple[Target, ...] = get_args(Target)

HardwareCompatibility = Literal["none", "ampere+", "same-cc"]
HARDWARE_COMPATIBILITY: tuple[HardwareCompatibility, ...] = get_args(HardwareCompatibility)

__all__ = [
    "BACKENDS",
    "HARDWARE_COMPATIBILITY",
    "PRECISIONS",
    "PRECISION_METHODS",
    "QUANTIZED",
    "TARGETS",
    "Backend",
    "HardwareCompatibility",
    "Precision",
    "PrecisionMethod",
    "QuantizedPrecision",
    "Target",
]

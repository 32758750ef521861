"""The value lists a spec may name (precisions, targets, hardware levels, backends), defined once.

Each list is a ``Literal`` type, for pydantic and mypy, and a tuple of its members derived from
it with ``typing.get_args``, for code that iterates, indexes or prints them. A list that is a
part of another (the quantised precisions, the targets fp8 runs on) is named here too: where
the part is a ``Literal`` of its own, the whole is built from its parts (nested ``Literal``s
flatten), else the part's tuple is derived from the whole's.
"""

from __future__ import annotations

from typing import Literal, get_args

# The 16-bit float precisions: reached by casting the model's float weights.
HalfPrecision = Literal["fp16", "bf16"]
HALF_PRECISIONS: tuple[HalfPrecision, ...] = get_args(HalfPrecision)

# The precisions that need calibration data (or a quantised model).
QuantizedPrecision = Literal["int8", "fp8"]
QUANTIZED: tuple[QuantizedPrecision, ...] = get_args(QuantizedPrecision)

Precision = Literal["fp32", HalfPrecision, QuantizedPrecision]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

# How a precision is reached: by converting the model, or by builder flags.
PrecisionMethod = Literal["model", "builder_flags"]
PRECISION_METHODS: tuple[PrecisionMethod, ...] = get_args(PrecisionMethod)

# The TensorRT flavours that build an engine (a record's backend); a spec may also say "auto".
EngineBackend = Literal["tensorrt", "tensorrt-rtx"]
ENGINE_BACKENDS: tuple[EngineBackend, ...] = get_args(EngineBackend)

Backend = Literal["auto", EngineBackend]
BACKENDS: tuple[Backend, ...] = get_args(Backend)

# The runtimes a deployment target can name (``runtime: tensorrt 10.13.3``): the engine
# backends, and TensorRT's lean runtime (which loads TensorRT plans).
RuntimeFlavour = Literal[EngineBackend, "tensorrt-lean"]
FLAVOURS: tuple[RuntimeFlavour, ...] = get_args(RuntimeFlavour)

# TensorRT-RTX compute capabilities, in the order of their bits in an engine header (bit i is
# TARGETS[i]; inspect/header.py reads the mask with this list). Targets sort this way.
Target = Literal["sm75", "sm80", "sm86", "sm89", "sm120", "sm121"]
TARGETS: tuple[Target, ...] = get_args(Target)

# The targets fp8 runs on: fp8 tensor cores arrived with Ada (compute capability 8.9).
FP8_TARGETS: tuple[Target, ...] = TARGETS[TARGETS.index("sm89"):]

HardwareCompatibility = Literal["none", "ampere+", "same-cc"]
HARDWARE_COMPATIBILITY: tuple[HardwareCompatibility, ...] = get_args(HardwareCompatibility)

# The levels whose plan runs on the compute capability of the GPU that built it, and no other.
SAME_CC_LEVELS: tuple[HardwareCompatibility, ...] = tuple(
    level for level in HARDWARE_COMPATIBILITY if level != "ampere+")

__all__ = [
    "BACKENDS",
    "ENGINE_BACKENDS",
    "FLAVOURS",
    "FP8_TARGETS",
    "HALF_PRECISIONS",
    "HARDWARE_COMPATIBILITY",
    "PRECISIONS",
    "PRECISION_METHODS",
    "QUANTIZED",
    "SAME_CC_LEVELS",
    "TARGETS",
    "Backend",
    "EngineBackend",
    "HalfPrecision",
    "HardwareCompatibility",
    "Precision",
    "PrecisionMethod",
    "QuantizedPrecision",
    "RuntimeFlavour",
    "Target",
]

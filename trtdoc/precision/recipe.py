"""The conversion recipes and what keys them: which tool and options make each precision.

``RECIPE_VERSION`` is part of both keys built here: :func:`recipe_key` (in the engine's build
key) and :func:`cache_key` (the converted-model cache), so bumping it reconverts and rebuilds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trtdoc.precision.result import Calibration
from trtdoc.values import QUANTIZED, Precision
from trtdoc.versions import dist_version

# Bump when a recipe below changes (options, op lists, pre-processing): cached models made by
# the old recipe then stop matching and are converted again.
RECIPE_VERSION = 2

# The ops whose weights and inputs get Q/DQ. TensorRT runs these in int8/fp8 and fuses the
# pointwise ops around them; quantizing glue ops (Add, Gather, Reshape...) only adds error,
# and leaves embedding Gathers and integer index paths untouched.
QUANTIZED_OP_TYPES = ("Conv", "ConvTranspose", "Gemm", "MatMul")

# Seeded random calibration when the spec gives no data: enough batches for stable min/max.
RANDOM_CALIBRATION_BATCHES = 8

# Per precision: the distribution that converts (its version keys the cache) and the method as
# a page states it.
METHODS: dict[Precision, tuple[str, str]] = {
    "fp16": ("onnxruntime", "onnxruntime.transformers.float16.convert_float_to_float16 "
             "(keep_io_types: graph inputs and outputs stay fp32), then topologically sorted"),
    "bf16": ("nvidia-modelopt", "modelopt.onnx.autocast.convert_to_mixed_precision "
             "(bf16, keep_io_types: graph inputs and outputs stay fp32)"),
    "int8": ("onnxruntime", "onnxruntime.quantization.quantize_static (QDQ, int8, MinMax "
             "calibration, symmetric, per-channel weights; "
             + "/".join(QUANTIZED_OP_TYPES) + ")"),
    "fp8": ("onnxruntime", "onnxruntime.quantization.quantize_static (QDQ, FLOAT8E4M3FN, "
            "Distribution calibration, per-tensor; " + "/".join(QUANTIZED_OP_TYPES) + ")"),
}

# DequantizeLinear has its per-channel `axis` attribute from opset 13 on.
PER_CHANNEL_MIN_OPSET = 13


def installed_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or "not installed"."""
    return dist_version(dist) or "not installed"


def recipe_key(precision: str) -> str:
    """What besides the model and the spec decides the converted model: the recipe and the
    version of the tool that runs it. Part of the engine's build key, so upgrading
    onnxruntime (or changing a recipe) rebuilds the engines it converts."""
    if precision not in METHODS:
        return ""
    tool = METHODS[precision][0]
    return f"trtdoc-precision/{RECIPE_VERSION} {tool} {installed_version(tool)}"


def _hash_files(h: Any, files: Sequence[Path]) -> None:
    for p in files:
        h.update(p.name.encode() + b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)


def _calibration_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".npz", ".npy") and p.is_file())
    return [path] if path.is_file() else []


def cache_key(model: Path, precision: str, calibration: Calibration | None,
              profile_shapes: Mapping[str, Sequence[int]] | None, tool_version: str,
              keep_fp32: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> str:
    """The key a converted model is cached under: the model bytes (external data too), the
    precision, the calibration bytes and batch count (or the random-calibration shapes), the
    recipe version and ``tool_version``."""
    from trtdoc.model import model_digest

    h = hashlib.sha256()
    h.update(f"trtdoc-precision/{RECIPE_VERSION}/{precision}/{tool_version}\n".encode())
    h.update(model_digest(model).encode())
    if keep_fp32 != ((), ()):  # only when set: older cache keys stay valid
        h.update(f"\nkeep_fp32={json.dumps(keep_fp32)}\n".encode())
    if precision in QUANTIZED:
        if calibration is not None:
            h.update(f"\ncalibration batches={calibration.batches}\n".encode())
            if calibration.sample_axis:  # only when set: older cache keys stay valid
                h.update(f"sample_axis={json.dumps(calibration.sample_axis)}\n".encode())
            _hash_files(h, _calibration_files(calibration.data))
        else:
            shapes = sorted((k, [int(d) for d in v]) for k, v in (profile_shapes or {}).items())
            h.update(f"\nrandom {RANDOM_CALIBRATION_BATCHES} {json.dumps(shapes)}\n".encode())
    return h.hexdigest()

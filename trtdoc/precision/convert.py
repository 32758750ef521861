"""The precision step as the builder runs it: :func:`convert_model`.

Picks the converter for the precision, loads or makes calibration samples, reuses a cached
model when its key matches, checks what the converter made, and caches it with its result.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from trtdoc.errors import BuildError, display_path
from trtdoc.precision.checks import check_converted
from trtdoc.precision.float16 import KeepFp32, to_bf16, to_fp16
from trtdoc.precision.graph import graph_summary
from trtdoc.precision.quantize import quantize
from trtdoc.precision.recipe import (
    METHODS,
    RANDOM_CALIBRATION_BATCHES,
    cache_key,
    installed_version,
)
from trtdoc.precision.result import Calibration, PrecisionResult
from trtdoc.precision.samples import (
    batch_axes,
    count_samples,
    input_specs,
    load_samples,
    random_samples,
)
from trtdoc.typed import decode_json, encode
from trtdoc.values import PRECISIONS, QUANTIZED, Precision

if TYPE_CHECKING:
    import numpy as np

# The functions whose output a check failure is blamed on (the last of them in `calls`).
_CONVERTERS = frozenset({"convert_float_to_float16", "convert_to_mixed_precision",
                         "quantize_static"})

def _missing_tool(precision: Precision, engine: str) -> BuildError:
    tool = METHODS[precision][0]
    if tool == "nvidia-modelopt":
        how = ("install it with: pip install 'trtdoc[modelopt]' (NVIDIA ModelOpt with its ONNX "
               "extra pulls in torch and CUDA libraries, about 6.7 GB), or choose fp16")
    else:
        how = f"install it with: pip install {tool}"
    return BuildError(f"precision {precision} needs {tool}, which is not installed; {how}",
                      engine=engine, setting="precision")


def _broken_tool(precision: str, tool: str, tool_version: str, exc: ImportError,
                 engine: str) -> BuildError:
    spec = "'nvidia-modelopt[onnx]'" if tool == "nvidia-modelopt" else tool
    return BuildError(
        f"{tool} {tool_version} is installed, but converting to {precision} failed on an "
        f"import ({exc}): it and its dependencies do not fit together. Upgrade it with: "
        f"pip install --upgrade {spec}", engine=engine, setting="precision")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep converter chatter off the user's terminal: the library never prints.

    onnxruntime.quantization logs warnings on the root logger, onnxruntime.transformers logs
    every value it clamps, and some calibrators print. Everything is restored on the way out.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def _external(model: Path) -> bool:
    from trtdoc.model import model_files

    return len(model_files(model)) > 1


def convert_model(model: Path, precision: str, *, calibration: Calibration | None,
                  cache_dir: Path, profile_shapes: Mapping[str, Sequence[int]] | None = None,
                  engine: str = "", seed: int = 0,
                  keep_fp32: KeepFp32 = ((), ())) -> PrecisionResult:
    """Convert the fp32 ONNX ``model`` to ``precision`` and return where the result is.

    fp32 returns the model unchanged. fp16/bf16 convert with keep_io_types, so the engine's
    inputs and outputs stay fp32. int8/fp8 insert Q/DQ nodes calibrated on ``calibration``
    (``load_samples``); without it, on seeded random inputs shaped by ``profile_shapes`` (opt
    shapes), which the result flags. Integer inputs are never converted or quantized.

    The converted model must pass :func:`check_converted` before it is cached or returned.
    Results are cached in ``cache_dir`` under a key over the model bytes (external data too),
    the precision, the calibration bytes and batch count, the recipe and the tool version.
    Failures raise :class:`BuildError` naming the spec setting to change.
    """
    engine = engine or model.name
    if precision not in PRECISIONS:
        raise BuildError(f"unknown precision {precision!r}; choose one of "
                         f"{', '.join(PRECISIONS)}", engine=engine, setting="precision")
    started = time.perf_counter()
    if precision == "fp32":
        before = graph_summary(model, precision)
        return PrecisionResult(
            source=model, model=model, precision="fp32",
            method="none: the fp32 model is built as it is", tool="", tool_version="",
            calibration=None, calibration_batches=None, calibration_samples=None,
            cache_key="", cache_hit=False, seconds=0.0, nodes_before=before["nodes"],
            nodes_after=before["nodes"], qdq_nodes=before["qdq"], cast_nodes=before["cast"],
            low_precision_ops=(), fp32_ops=before["fp32_ops"],
            untouched_inputs=before["untouched"])

    tool, method = METHODS[precision]
    tool_version = installed_version(tool)
    if tool_version == "not installed":
        raise _missing_tool(precision, engine)
    if calibration is not None and precision in QUANTIZED \
            and not calibration.data.exists():
        raise BuildError(f"{display_path(calibration.data)} does not exist. Point "
                         "calibration.data at an .npz, an .npy, or a folder of them",
                         engine=engine, setting="calibration.data")
    key = cache_key(model, precision, calibration, profile_shapes, tool_version, keep_fp32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"{model.stem}.{precision}.{key[:16]}.onnx"
    sidecar = out.with_name(out.name + ".json")
    if sidecar.is_file() and out.is_file():
        try:
            cached = decode_json(PrecisionResult, sidecar.read_bytes())
        except (OSError, ValueError):
            cached = None  # a damaged entry is rebuilt below, never trusted
        if cached is not None and cached.cache_key == key:
            return replace(cached, source=model, model=out, cache_hit=True)

    samples: tuple[dict[str, np.ndarray], ...] = ()
    source_kind: str | None = None
    notes: list[str] = []
    if precision in QUANTIZED:
        dtypes = {name: dtype for name, dtype, _ in input_specs(model)}
        if calibration is not None:
            samples = load_samples(calibration.data, list(dtypes), calibration.batches,
                                   dtypes=dtypes, engine=engine,
                                   axes=batch_axes(model, dict(calibration.sample_axis)),
                                   model=model)
            source_kind = "data"
        else:
            samples = random_samples(model, profile_shapes, count=RANDOM_CALIBRATION_BATCHES,
                                     seed=seed, engine=engine)
            source_kind = "random"
            notes.append("calibrated on seeded random inputs: the scales fit noise, not real "
                         "data; give calibration.data for a deployable model")

    before = graph_summary(model, precision)
    external = _external(model)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache_dir))
    try:
        staged = staging / out.name
        with _quiet():
            try:
                if precision == "fp16":
                    done = to_fp16(model, staged, external, keep_fp32)
                elif precision == "bf16":
                    done = to_bf16(model, staged, external, keep_fp32)
                else:
                    done = quantize(model, staged, precision, samples, external, staging,
                                    keep_fp32)
            except ImportError as exc:
                # The distribution is installed (checked above), so a part of it or one of its
                # dependencies does not fit: onnxruntime 1.23 (the last for Python 3.10)
                # imports an fp8 helper that onnx 1.21 no longer has, for one.
                raise _broken_tool(precision, tool, tool_version, exc, engine) from exc
            except BuildError:
                raise
            except Exception as exc:  # converters raise anything from ValueError to RuntimeError
                raise BuildError(
                    f"{tool} could not convert {model.name} to {precision} "
                    f"({type(exc).__name__}: {str(exc).strip() or 'no message'}). Check that "
                    "the model runs in onnxruntime on the CPU and that calibration.data matches "
                    "its inputs, or choose another precision", engine=engine,
                    setting="precision") from exc
            # The call that makes the model's precision is the one to name if it is invalid.
            converter = next(c for c in reversed(done.calls)
                             if c.split("(", 1)[0].rsplit(".", 1)[-1] in _CONVERTERS)
            checked = check_converted(staged, converter=converter, precision=precision,
                                      engine=engine)
        notes.extend(done.notes)
        after = graph_summary(staged, precision)
        if precision in QUANTIZED and not after["qdq"]:
            # Nothing was quantized (the quantizer skips ops inside If/Loop bodies, and models
            # without Conv/Gemm/MatMul): the "int8" engine would be the fp32 one.
            raise BuildError(
                f"onnxruntime.quantization inserted no Q/DQ nodes into {display_path(model)}, "
                f"so a {precision} engine would be the fp32 engine under another name. It "
                "quantizes Conv, ConvTranspose, Gemm and MatMul of the main graph, not inside "
                "If or Loop bodies; choose fp16, or export the model without control flow",
                engine=engine, setting="precision")
        result = PrecisionResult(
            source=model, model=out, precision=precision, method=done.method or method,
            tool=tool, tool_version=tool_version, calibration=source_kind,
            calibration_batches=len(samples) if samples else None,
            calibration_samples=(sum(count_samples(b, batch_axes(
                model, dict(calibration.sample_axis) if calibration else None)) for b in samples)
                                 if samples else None),
            cache_key=key, cache_hit=False, seconds=time.perf_counter() - started,
            nodes_before=before["nodes"], nodes_after=after["nodes"], qdq_nodes=after["qdq"],
            cast_nodes=after["cast"], low_precision_ops=after["low_ops"],
            fp32_ops=after["fp32_ops"], untouched_inputs=after["untouched"],
            notes=tuple(notes), calls=done.calls, checked=checked,
            clamped_nodes=done.clamped_nodes)
        # Data files first and the model next, then the sidecar: a sidecar marks a whole entry.
        for p in sorted(staging.iterdir(), key=lambda p: p.name == staged.name):
            if p.name.startswith(out.name):
                os.replace(p, cache_dir / p.name)
        tmp = staging / sidecar.name
        tmp.write_text(json.dumps(encode(result), indent=1, sort_keys=True) + "\n",
                       "utf-8")
        os.replace(tmp, sidecar)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result

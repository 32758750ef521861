"""The precision step: turn an fp32 ONNX model into the model a strongly typed TensorRT builds.

TensorRT 11 and TensorRT-RTX take precision from the model, not from builder flags, so an
fp16/bf16/int8/fp8 engine starts here:

- fp16: ``onnxruntime.transformers.float16.convert_float_to_float16`` (onnxruntime's maintained
  fork of ONNX's converter; graph inputs and outputs stay fp32, so the engine is a drop-in for
  the fp32 one), then ``OnnxModel.topological_sort()``, since it appends the Casts it inserts at
  the end of the graph. onnxconverter-common 1.16's converter is not used: it can leave a
  ``Cast(to=float)`` whose output it types fp16 (its issue #320), which onnxruntime refuses.
- bf16: NVIDIA ModelOpt AutoCast, the only maintained bf16 converter; it is an optional extra
  (``trtdoc[modelopt]``) because it pulls in torch and CUDA libraries (several GB).
- int8, fp8: explicit quantization by ``onnxruntime.quantization.quantize_static`` in QDQ format,
  calibrated on the spec's data. ModelOpt's ONNX PTQ is built on the same quantizer. Models
  below opset 13 are upgraded first for int8 (per-channel ``DequantizeLinear(axis=)`` needs 13).

Every converted model is checked before it is built: ``onnx.checker`` with full type and shape
inference, and an onnxruntime CPU session. A model that fails raises :class:`BuildError` naming
the converter call, the node and, where it is a known converter bug, the bug. The calls made,
with their options, are kept in the result (``calls``) so a page can show how to reproduce it.

Converted models are cached by content: the same model, precision, calibration data and recipe
give the same file without converting again. Every conversion library is imported inside the
function that needs it, so ``import trtdoc`` stays fast and works without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtdoc._dist import dist_version
from trtdoc.errors import BuildError, display_path

if TYPE_CHECKING:
    import numpy as np

PRECISIONS = ("fp32", "fp16", "bf16", "int8", "fp8")

# Bump when a recipe below changes (options, op lists, pre-processing): cached models made by
# the old recipe then stop matching and are converted again.
RECIPE_VERSION = 2

# The ops whose weights and inputs get Q/DQ. TensorRT runs these in int8/fp8 and fuses the
# pointwise ops around them; quantizing glue ops (Add, Gather, Reshape...) only adds error,
# and leaves embedding Gathers and integer index paths untouched.
QUANTIZED_OP_TYPES = ("Conv", "ConvTranspose", "Gemm", "MatMul")

# Seeded random calibration when the spec gives no data: enough batches for stable min/max.
RANDOM_CALIBRATION_BATCHES = 8

_QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})
# Nodes that move or re-type data without computing: not counted in the precision mix.
_PLUMBING_OPS = _QDQ_OPS | {"Cast", "Constant", "Identity"}
# ONNX element types: FLOAT, FLOAT16, DOUBLE, BFLOAT16, FLOAT8E4M3FN.
_FLOAT_TYPES = frozenset({1, 10, 11, 16, 17})
_LOW_TYPE = {"fp16": 10, "bf16": 16}

_METHODS = {
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

_FIX_DATA = "Fix or replace the file"

# DequantizeLinear has its per-channel `axis` attribute from opset 13 on.
PER_CHANNEL_MIN_OPSET = 13
# The fp16 converter's range (onnxruntime.transformers.float16 defaults): smaller magnitudes
# become the smallest fp16 subnormal, larger ones the largest finite fp16.
_FP16_MIN_POSITIVE = 5.96e-08
_FP16_MAX_FINITE = 65504.0


@dataclass(frozen=True)
class Calibration:
    """Calibration data for int8/fp8: an .npz, an .npy, or a folder of them; ``batches`` to use."""

    data: Path
    batches: int


@dataclass(frozen=True)
class PrecisionResult:
    """What the precision step did, as a page shows it. ``model`` is the file to build."""

    source: Path
    model: Path
    precision: str
    method: str
    tool: str
    tool_version: str
    calibration: str | None  # "data", "random" (seeded: scales are a guess), None if not used
    calibration_batches: int | None
    calibration_samples: int | None
    cache_key: str
    cache_hit: bool
    seconds: float  # time the conversion took when it ran (also on a cache hit)
    nodes_before: int
    nodes_after: int
    qdq_nodes: int
    cast_nodes: int
    low_precision_ops: tuple[tuple[str, int], ...]  # op type -> nodes computing in `precision`
    # op type -> float nodes left in fp32 (for int8/fp8: not quantized themselves, though
    # TensorRT may still fuse them into a quantized layer)
    fp32_ops: tuple[tuple[str, int], ...]
    untouched_inputs: tuple[str, ...]  # non-float graph inputs, passed through as they were
    notes: tuple[str, ...] = ()
    # The conversion as Python calls, in order, with every option passed ("model" is the file
    # before that call): what a page prints to reproduce the converted model.
    calls: tuple[str, ...] = ()
    checked: str = ""  # the checks the converted model passed before it was built

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        """JSON-ready, in a fixed key order; paths relative to ``base`` when given."""

        def rel(p: Path) -> str:
            if base is not None:
                from trtdoc.project import project_path

                return project_path(p, base)
            return p.as_posix()

        return {
            "source": rel(self.source),
            "model": rel(self.model),
            "precision": self.precision,
            "method": self.method,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "calibration": self.calibration,
            "calibration_batches": self.calibration_batches,
            "calibration_samples": self.calibration_samples,
            "cache_key": self.cache_key,
            "cache_hit": self.cache_hit,
            "seconds": round(self.seconds, 3),
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "qdq_nodes": self.qdq_nodes,
            "cast_nodes": self.cast_nodes,
            "low_precision_ops": [[op, n] for op, n in self.low_precision_ops],
            "fp32_ops": [[op, n] for op, n in self.fp32_ops],
            "untouched_inputs": list(self.untouched_inputs),
            "notes": list(self.notes),
            "calls": list(self.calls),
            "checked": self.checked,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base: Path | None = None) -> PrecisionResult:
        """Inverse of :meth:`to_dict`; relative paths are taken from ``base`` when given."""

        def path(s: str) -> Path:
            p = Path(s)
            return base / p if base is not None and not p.is_absolute() else p

        return cls(
            source=path(d["source"]),
            model=path(d["model"]),
            precision=d["precision"],
            method=d["method"],
            tool=d["tool"],
            tool_version=d["tool_version"],
            calibration=d["calibration"],
            calibration_batches=d["calibration_batches"],
            calibration_samples=d["calibration_samples"],
            cache_key=d["cache_key"],
            cache_hit=d["cache_hit"],
            seconds=float(d["seconds"]),
            nodes_before=d["nodes_before"],
            nodes_after=d["nodes_after"],
            qdq_nodes=d["qdq_nodes"],
            cast_nodes=d["cast_nodes"],
            low_precision_ops=tuple((op, n) for op, n in d["low_precision_ops"]),
            fp32_ops=tuple((op, n) for op, n in d["fp32_ops"]),
            untouched_inputs=tuple(d["untouched_inputs"]),
            notes=tuple(d.get("notes", ())),
            calls=tuple(d.get("calls", ())),
            checked=d.get("checked", ""),
        )


# --------------------------------------------------------------------------- samples


def load_samples(path: Path, input_names: Sequence[str], batches: int | None, *,
                 dtypes: Mapping[str, Any] | None = None, engine: str = "",
                 setting: str = "calibration.data",
                 axes: Mapping[str, int | None] | None = None
                 ) -> tuple[dict[str, np.ndarray], ...]:
    """Read model inputs from an .npz, an .npy, or a folder of them, as ``batches`` batches.

    An .npz holds one array per input, keyed by input name; an .npy holds the one input of a
    single-input model. The first axis of every array is the sample axis. A file is split along
    it into ``batches`` batches; a folder gives one batch per file, sorted by name, of which the
    first ``batches`` are used. ``batches=None`` takes every file whole. ``dtypes`` (input name
    -> numpy dtype) casts each array to the model's type, refusing lossy casts (fractional
    values for an integer input). ``axes`` (input -> sample axis, None: fed whole to every
    batch; see :func:`batch_axes`) replaces the leading sample axis, so ``state [2, B, 128]``
    splits along axis 1. Problems raise :class:`BuildError` naming ``setting``.
    """
    import numpy as np

    names = list(input_names)
    engine = engine or path.name

    def fail(message: str) -> BuildError:
        return BuildError(message, engine=engine, setting=setting)

    files = _data_files(path, fail, setting)
    if path.is_dir():
        if batches is not None and len(files) < batches:
            raise fail(f"{display_path(path)} holds {len(files)} files, one batch each, but "
                       f"{batches} batches were asked for. Add files or ask for fewer batches")
        chosen = files if batches is None else files[:batches]
        return tuple(_read_sample_file(p, names, dtypes, fail, axes) for p in chosen)
    arrays = _read_sample_file(path, names, dtypes, fail, axes)
    if batches is None:
        return (arrays,)
    axis_of = {n: (0 if axes is None else axes.get(n, 0)) for n in names}
    batched = [n for n in names if axis_of[n] is not None]
    count = (arrays[batched[0]].shape[axis_of[batched[0]]]  # type: ignore[index]
             if batched else 1)
    if count < batches:
        along = "the first axis" if axes is None else "the batch axis"
        raise fail(f"{display_path(path)} holds {count} samples along {along}, too few "
                   f"for {batches} batches. Add samples or ask for fewer batches")
    parts = {n: (np.array_split(arrays[n], batches, axis=axis_of[n]) if axis_of[n] is not None
                 else [arrays[n]] * batches) for n in names}
    return tuple({n: parts[n][i] for n in names} for i in range(batches))


def _read_sample_file(path: Path, names: list[str], dtypes: Mapping[str, Any] | None,
                      fail: Any, axes: Mapping[str, int | None] | None = None
                      ) -> dict[str, np.ndarray]:
    """The arrays of one file. ``axes`` (input -> sample axis, None: not batched) replaces the
    default of a leading sample axis on every array."""
    import numpy as np

    where = display_path(path)

    def unreadable(exc: Exception) -> BuildError:
        head = path.open("rb").read(1) if path.is_file() else b""
        # numpy reports any file it cannot recognise as pickled data; a real pickle starts
        # with the protocol byte 0x80.
        if "Object arrays" in str(exc) or ("pickled" in str(exc) and head == b"\x80"):
            return fail(f"{where} holds pickled Python objects, which trtdoc does not load. "
                        "Save plain arrays: numpy.savez(file, **{input_name: array})")
        reason = "unknown format" if "pickled" in str(exc) else f"{type(exc).__name__}: {exc}"
        return fail(f"{where} is not a readable numpy file ({reason}). {_FIX_DATA}")

    try:
        # allow_pickle=False: a pickle runs code on load, and data files come from anywhere.
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise unreadable(exc) from exc
    if isinstance(loaded, np.ndarray):
        if len(names) != 1:
            raise fail(f"{where} is an .npy file with one array, but the model has "
                       f"{len(names)} inputs ({', '.join(names)}). Save an .npz with one array "
                       "per input name: numpy.savez(file, **{input_name: array})")
        arrays = {names[0]: loaded}
    else:
        with loaded:
            keys = sorted(loaded.files)
            missing = [n for n in names if n not in keys]
            if missing:
                raise fail(f"{where} has no array for model input(s) {', '.join(missing)} "
                           f"(it holds: {', '.join(keys) or 'nothing'}). Name each array "
                           "after the model input it feeds")
            try:
                arrays = {n: loaded[n] for n in names}
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise unreadable(exc) from exc
    lengths = set()
    for name, arr in arrays.items():
        axis = 0 if axes is None else axes.get(name, 0)
        if axis is not None and arr.ndim <= axis:
            raise fail(f"{where}: array {name!r} is a scalar. Give it a leading sample axis"
                       if arr.ndim == 0 else
                       f"{where}: array {name!r} has shape {list(arr.shape)}, but model input "
                       f"{name!r} stacks samples along axis {axis}. Save it with that axis")
        if axis is not None:
            lengths.add(arr.shape[axis])
        want = None if dtypes is None else dtypes.get(name)
        if want is not None:
            want = np.dtype(want)
            # Whole numbers saved as floats (numpy.ones makes float64) cast losslessly.
            if want.kind in "iub" and arr.dtype.kind == "f" \
                    and not (np.isfinite(arr).all() and np.array_equal(arr, np.round(arr))):
                raise fail(f"{where}: array {name!r} holds fractional {arr.dtype} values, but "
                           f"model input {name!r} is {want}. Save integer data for it")
            if arr.dtype.kind not in "iubf":
                raise fail(f"{where}: array {name!r} holds {arr.dtype} values, which cannot "
                           f"feed model input {name!r} ({want})")
            # asarray, not ascontiguousarray: that makes a scalar 1-d.
            arrays[name] = np.asarray(arr, dtype=want, order="C")
    if len(lengths) > 1:
        if axes is None:
            sizes = ", ".join(f"{n}: {a.shape[0]}" for n, a in arrays.items())
            raise fail(f"{where}: arrays have different sample counts along the first axis "
                       f"({sizes}). Give every input the same number of samples")
        sizes = ", ".join(f"{n}: {a.shape[ax]}" for n, a in arrays.items()
                          if (ax := axes.get(n, 0)) is not None)
        raise fail(f"{where}: arrays have different sample counts along their batch axes "
                   f"({sizes}). Give every input the same number of samples")
    return arrays


def batch_axes(model: Path) -> dict[str, int | None]:
    """Per graph input of ``model``, the axis its samples are stacked along (None: not batched).

    The batch axis is the input's dynamic axis (one whose symbol names a batch, else the first
    dynamic one), so ``state [2, batch, 128]`` is batched along axis 1. A static input beside
    dynamic ones, and a scalar such as a sample rate, is fed whole to every batch. In a fully
    static model every input of rank >= 1 is batched along axis 0.
    """
    specs = input_specs(model)
    dynamic = {name: [i for i, d in enumerate(dims) if not (isinstance(d, int) and d > 0)]
               for name, _, dims in specs}
    any_dynamic = any(dynamic.values())
    axes: dict[str, int | None] = {}
    for name, _, dims in specs:
        if dynamic[name]:
            named = [i for i in dynamic[name]
                     if isinstance(dims[i], str) and "batch" in dims[i].lower()]
            axes[name] = (named or dynamic[name])[0]
        else:
            axes[name] = 0 if dims and not any_dynamic else None
    return axes


def _batch_limit(model: Path, axes: Mapping[str, int | None],
                 shapes: Mapping[str, Sequence[int]] | None) -> tuple[int | None, bool]:
    """Largest batch (the profile's opt batch, or the fixed one) and whether it is fixed."""
    sizes, fixed = [], False
    for name, _, dims in input_specs(model):
        axis = axes.get(name)
        if axis is None:
            continue
        given = None if shapes is None else shapes.get(name)
        if isinstance(dims[axis], int) and dims[axis] > 0:
            sizes.append(int(dims[axis]))
            fixed = True
        elif given is not None and len(given) > axis:
            sizes.append(int(given[axis]))
    return (min(sizes) if sizes else None), fixed


def count_samples(batch: Mapping[str, Any], axes: Mapping[str, int | None]) -> int:
    """Samples in one batch: the batch-axis length of its first batched input (none: 1)."""
    for name in sorted(batch):
        axis = axes.get(name, 0)
        shape = getattr(batch[name], "shape", ())
        if axis is not None and len(shape) > axis:
            return int(shape[axis])
    return 1


def _take(batch: Mapping[str, np.ndarray], axes: Mapping[str, int | None], start: int,
          stop: int) -> dict[str, np.ndarray]:
    import numpy as np

    return {n: a if (ax := axes.get(n, 0)) is None
            else np.take(a, np.arange(start, stop), axis=ax) for n, a in batch.items()}


def held_out_batches(path: Path, model: Path, *, samples: int,
                     shapes: Mapping[str, Sequence[int]] | None, engine: str = "",
                     setting: str = "accuracy.data") -> tuple[dict[str, np.ndarray], ...]:
    """The first ``samples`` samples of held-out data, in batches of at most the opt batch.

    ``path`` is an .npz (one array per model input), an .npy (single-input models) or a folder
    of them, read in name order. Each array stacks samples along its input's batch axis
    (:func:`batch_axes`); a scalar input is a 0-d array, fed to every batch. Arrays are cast to
    the model's input types, refusing fractional values for integer inputs. Fewer than
    ``samples`` samples, or a count a fixed batch size does not divide, raise
    :class:`BuildError` naming ``setting``.
    """
    names = [n for n, _, _ in input_specs(model)]
    dtypes = {n: t for n, t, _ in input_specs(model)}
    axes = batch_axes(model)
    limit, fixed = _batch_limit(model, axes, shapes)
    engine = engine or path.name

    def fail(message: str) -> BuildError:
        return BuildError(message, engine=engine, setting=setting)

    if fixed and limit and samples % limit:
        raise fail(f"the model takes batches of exactly {limit}, so accuracy.samples "
                   f"{samples} cannot be split into them. Make accuracy.samples a multiple "
                   f"of {limit}")
    files = _data_files(path, fail)
    out: list[dict[str, np.ndarray]] = []
    taken = 0
    for file in files:
        arrays = _read_sample_file(file, names, dtypes, fail, axes)
        available = count_samples(arrays, axes)
        start = 0
        while start < available and taken < samples:
            size = min(limit or samples, available - start, samples - taken)
            out.append(_take(arrays, axes, start, start + size))
            start, taken = start + size, taken + size
        if taken >= samples:
            break
    if taken < samples:
        raise fail(f"{display_path(path)} holds {taken} samples, fewer than the "
                   f"{samples} accuracy.samples asks for. Add samples or lower accuracy.samples")
    return tuple(out)


def _data_files(path: Path, fail: Any, setting: str = "accuracy.data") -> list[Path]:
    """The .npz/.npy files ``path`` names (itself, or a folder's, sorted by name)."""
    if not path.exists():
        raise fail(f"{display_path(path)} does not exist. Point {setting} at an .npz, an .npy, "
                   "or a folder of them")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".npz", ".npy") and p.is_file())
        if not files:
            raise fail(f"{display_path(path)} holds no .npz or .npy files. Save one array per "
                       "model input with numpy.savez")
        return files
    if path.suffix not in (".npz", ".npy"):
        raise fail(f"{display_path(path)} is not an .npz or .npy file. Save the inputs with "
                   "numpy.savez (one array per input name) or numpy.save (single-input models)")
    return [path]


def random_batches(model: Path, shapes: Mapping[str, Sequence[int]] | None, *, samples: int,
                   seed: int = 0, engine: str = "") -> tuple[dict[str, np.ndarray], ...]:
    """``samples`` seeded random samples (:func:`random_samples`) in opt-shape batches.

    The last batch is cut to the samples left, unless the model's batch size is fixed: then
    every batch is whole, and the count rounds up to a multiple of it.
    """
    axes = batch_axes(model)
    limit, fixed = _batch_limit(model, axes, shapes)
    per = count_samples(random_samples(model, shapes, count=1, seed=seed, engine=engine)[0],
                        axes) if limit is None else limit
    count = -(-samples // per)
    batches = list(random_samples(model, shapes, count=count, seed=seed, engine=engine))
    rest = samples - (count - 1) * per
    if not fixed and 0 < rest < count_samples(batches[-1], axes):
        batches[-1] = _take(batches[-1], axes, 0, rest)
    return tuple(batches)


# ONNX type names that numpy reads otherwise (onnx maps strings to Python objects); a name
# numpy does not know at all raises TypeError, and onnx's own mapping is used.
_NUMPY_NAMES = {"string": "object", "bfloat16": "?unknown", "float8e4m3fn": "?unknown"}


def input_specs(model: Path) -> tuple[tuple[str, Any, tuple[int | str, ...]], ...]:
    """``(name, numpy dtype, dims)`` per graph input of ``model``; dims are ints or axis names.

    Read by trtdoc's own header reader (cached, no weights): ``import onnx`` alone costs about
    a second, which a no-op build and ``trtdoc check`` must not pay.
    """
    import numpy as np

    from trtdoc.model import model_facts_from_onnx

    try:
        return tuple((t.name, np.dtype(_NUMPY_NAMES.get(t.dtype, t.dtype)), t.dims)
                     for t in model_facts_from_onnx(model).inputs)
    except TypeError:
        pass  # a type numpy has no name for (bfloat16, float8): onnx knows the mapping
    import onnx
    from onnx.helper import tensor_dtype_to_np_dtype

    proto = onnx.load(str(model), load_external_data=False)
    inits = {i.name for i in proto.graph.initializer}
    specs = []
    for vi in proto.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        dims = tuple(int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                     for d in t.shape.dim)
        specs.append((vi.name, tensor_dtype_to_np_dtype(t.elem_type), dims))
    return tuple(specs)


def _index_bounds(proto: Any) -> dict[str, int]:
    """Exclusive upper bound for integer graph inputs that index a Gather's table.

    An input that reaches a Gather's indices through shape-only ops (Cast, Reshape...) indexes
    that table, so random values must stay below its row count: the vocabulary size for token
    ids, 2 for token types.
    """
    graph = proto.graph
    init_dims = {i.name: tuple(i.dims) for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def table_rows(name: str, axis: int) -> int | None:
        seen = 0
        while name not in init_dims and name in producer and seen < 8:
            node = producer[name]
            if node.op_type != "Identity":
                return None
            name, seen = node.input[0], seen + 1
        dims = init_dims.get(name)
        return int(dims[axis]) if dims and len(dims) > axis else None

    bounds: dict[str, int] = {}
    pass_through = {"Cast", "Identity", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Expand"}
    for vi in graph.input:
        frontier, found = [vi.name], []
        for _ in range(6):
            nxt = []
            for tensor in frontier:
                for node in consumers.get(tensor, ()):
                    if node.op_type == "Gather" and len(node.input) > 1 \
                            and node.input[1] == tensor:
                        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
                        rows = table_rows(node.input[0], axis)
                        if rows:
                            found.append(rows)
                    elif node.op_type in pass_through and node.input[0] == tensor:
                        nxt.extend(node.output)
            frontier = nxt
        if found:
            bounds[vi.name] = min(found)
    return bounds


def random_samples(model: Path, shapes: Mapping[str, Sequence[int]] | None, *, count: int,
                   seed: int = 0, engine: str = "") -> tuple[dict[str, np.ndarray], ...]:
    """``count`` batches of seeded random inputs for ``model``, valid for every input type.

    Float inputs are standard normal. Integer inputs that index an embedding table stay below
    its row count (token ids < vocabulary); other integer inputs are drawn from {0, 1}, and
    inputs named like a mask are all ones, since a random mask can hide a whole row. Dynamic
    axes take their size from ``shapes`` (the profile's opt shapes).
    """
    import numpy as np
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    bounds = _index_bounds(proto)
    rng = np.random.default_rng(seed)
    specs = input_specs(model)
    resolved: list[tuple[str, Any, tuple[int, ...]]] = []
    for name, dtype, dims in specs:
        given = None if shapes is None else shapes.get(name)
        if given is not None:
            shape = tuple(int(d) for d in given)
        elif all(isinstance(d, int) and d > 0 for d in dims):
            shape = tuple(int(d) for d in dims)  # type: ignore[arg-type]
        else:
            raise BuildError(
                f"input {name!r} has dynamic dimensions {list(dims)}, so random inputs need a "
                "shape. Add an optimization profile for it (its opt shape is used) or give "
                "held-out data", engine=engine or model.name, setting="profiles")
        resolved.append((name, np.dtype(dtype), shape))
    batches = []
    for _ in range(count):
        batch: dict[str, np.ndarray] = {}
        for name, dtype, shape in resolved:
            if dtype.kind == "f":
                batch[name] = rng.standard_normal(shape, dtype=np.float32).astype(dtype)
            elif dtype.kind == "b":
                batch[name] = rng.integers(0, 2, shape).astype(bool)
            elif "mask" in name.lower():
                batch[name] = np.ones(shape, dtype=dtype)
            else:
                batch[name] = rng.integers(0, bounds.get(name, 2), shape).astype(dtype)
        batches.append(batch)
    return tuple(batches)


# --------------------------------------------------------------------------- conversion


def _tool_version(dist: str) -> str:
    return dist_version(dist) or "not installed"


def recipe_key(precision: str) -> str:
    """What besides the model and the spec decides the converted model: the recipe and the
    version of the tool that runs it. Part of the engine's build key, so upgrading
    onnxruntime (or changing a recipe) rebuilds the engines it converts."""
    if precision not in _METHODS:
        return ""
    tool = _METHODS[precision][0]
    return f"trtdoc-precision/{RECIPE_VERSION} {tool} {_tool_version(tool)}"


def _missing_tool(precision: str, engine: str) -> BuildError:
    tool = _METHODS[precision][0]
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


def _cache_key(model: Path, precision: str, calibration: Calibration | None,
               profile_shapes: Mapping[str, Sequence[int]] | None, tool_version: str) -> str:
    from trtdoc.model import model_digest

    h = hashlib.sha256()
    h.update(f"trtdoc-precision/{RECIPE_VERSION}/{precision}/{tool_version}\n".encode())
    h.update(model_digest(model).encode())
    if precision in ("int8", "fp8"):
        if calibration is not None:
            h.update(f"\ncalibration batches={calibration.batches}\n".encode())
            _hash_files(h, _calibration_files(calibration.data))
        else:
            shapes = sorted((k, [int(d) for d in v]) for k, v in (profile_shapes or {}).items())
            h.update(f"\nrandom {RANDOM_CALIBRATION_BATCHES} {json.dumps(shapes)}\n".encode())
    return h.hexdigest()


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


@dataclass(frozen=True)
class _Conversion:
    """What a converter function did: its calls (as Python), notes, and a corrected method."""

    calls: tuple[str, ...]
    notes: tuple[str, ...] = ()
    method: str | None = None  # None: the precision's usual method


def _literal(value: Any) -> str:
    """``value`` as Python source: enums by name (QuantType.QInt8), containers element-wise."""
    import enum

    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _call(function: str, *args: str, **kwargs: Any) -> str:
    """One converter call as a line of Python; ``args`` are names (model, calibration_reader)."""
    return f"{function}({', '.join([*args, *(f'{k}={_literal(v)}' for k, v in kwargs.items())])})"


def convert_model(model: Path, precision: str, *, calibration: Calibration | None,
                  cache_dir: Path, profile_shapes: Mapping[str, Sequence[int]] | None = None,
                  engine: str = "", seed: int = 0) -> PrecisionResult:
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
        before = _graph_summary(model, precision)
        return PrecisionResult(
            source=model, model=model, precision="fp32",
            method="none: the fp32 model is built as it is", tool="", tool_version="",
            calibration=None, calibration_batches=None, calibration_samples=None,
            cache_key="", cache_hit=False, seconds=0.0, nodes_before=before["nodes"],
            nodes_after=before["nodes"], qdq_nodes=before["qdq"], cast_nodes=before["cast"],
            low_precision_ops=(), fp32_ops=before["fp32_ops"],
            untouched_inputs=before["untouched"])

    tool, method = _METHODS[precision]
    tool_version = _tool_version(tool)
    if tool_version == "not installed":
        raise _missing_tool(precision, engine)
    if calibration is not None and precision in ("int8", "fp8") \
            and not calibration.data.exists():
        raise BuildError(f"{display_path(calibration.data)} does not exist. Point "
                         "calibration.data at an .npz, an .npy, or a folder of them",
                         engine=engine, setting="calibration.data")
    key = _cache_key(model, precision, calibration, profile_shapes, tool_version)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"{model.stem}.{precision}.{key[:16]}.onnx"
    sidecar = out.with_name(out.name + ".json")
    if sidecar.is_file() and out.is_file():
        try:
            cached = PrecisionResult.from_dict(json.loads(sidecar.read_text("utf-8")))
        except (ValueError, KeyError, TypeError):
            cached = None  # a damaged entry is rebuilt below, never trusted
        if cached is not None and cached.cache_key == key:
            return replace(cached, source=model, model=out, cache_hit=True)

    samples: tuple[dict[str, np.ndarray], ...] = ()
    source_kind: str | None = None
    notes: list[str] = []
    if precision in ("int8", "fp8"):
        dtypes = {name: dtype for name, dtype, _ in input_specs(model)}
        if calibration is not None:
            samples = load_samples(calibration.data, list(dtypes), calibration.batches,
                                   dtypes=dtypes, engine=engine, axes=batch_axes(model))
            source_kind = "data"
        else:
            samples = random_samples(model, profile_shapes, count=RANDOM_CALIBRATION_BATCHES,
                                     seed=seed, engine=engine)
            source_kind = "random"
            notes.append("calibrated on seeded random inputs: the scales fit noise, not real "
                         "data; give calibration.data for a deployable model")

    before = _graph_summary(model, precision)
    external = _external(model)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache_dir))
    try:
        staged = staging / out.name
        with _quiet():
            try:
                if precision == "fp16":
                    done = _to_fp16(model, staged, external)
                elif precision == "bf16":
                    done = _to_bf16(model, staged, external)
                else:
                    done = _quantize(model, staged, precision, samples, external, staging)
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
        after = _graph_summary(staged, precision)
        if precision in ("int8", "fp8") and not after["qdq"]:
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
            calibration_samples=(sum(count_samples(b, batch_axes(model)) for b in samples)
                                 if samples else None),
            cache_key=key, cache_hit=False, seconds=time.perf_counter() - started,
            nodes_before=before["nodes"], nodes_after=after["nodes"], qdq_nodes=after["qdq"],
            cast_nodes=after["cast"], low_precision_ops=after["low_ops"],
            fp32_ops=after["fp32_ops"], untouched_inputs=after["untouched"],
            notes=tuple(notes), calls=done.calls, checked=checked)
        # Data files first and the model next, then the sidecar: a sidecar marks a whole entry.
        for p in sorted(staging.iterdir(), key=lambda p: p.name == staged.name):
            if p.name.startswith(out.name):
                os.replace(p, cache_dir / p.name)
        tmp = staging / sidecar.name
        tmp.write_text(json.dumps(result.to_dict(), indent=1, sort_keys=True) + "\n", "utf-8")
        os.replace(tmp, sidecar)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


# The functions whose output a check failure is blamed on (the last of them in `calls`).
_CONVERTERS = frozenset({"convert_float_to_float16", "convert_to_mixed_precision",
                         "quantize_static"})


def _save(proto: Any, out: Path, external: bool) -> None:
    import onnx

    if external:
        onnx.save(proto, str(out), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=out.name + ".data")
    else:
        onnx.save(proto, str(out))


def _to_fp16(model: Path, out: Path, external: bool) -> _Conversion:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    options: dict[str, Any] = {"keep_io_types": True}
    ranges = _fp16_range_report(model)
    # A path lets the converter run shape inference on disk, past protobuf's 2 GB limit.
    proto = convert_float_to_float16(str(model) if external else onnx.load(str(model)),
                                     **options)
    # The converter appends every Cast it inserts at the end of the graph, so a model with an
    # op it keeps in fp32 (Max, Min, TopK, Range...) comes out unsorted; the ONNX checker and
    # the onnx-tensorrt parser require topological order.
    OnnxModel(proto).topological_sort()
    moved = sort_with_subgraph_inputs(proto.graph)
    converted = {i.name for i in proto.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16}
    note = _clamp_note({k: v for k, v in ranges.items() if k in converted})
    _save(proto, out, external)
    calls = (_call("onnxruntime.transformers.float16.convert_float_to_float16", "model",
                   **options),
             "onnxruntime.transformers.onnx_model.OnnxModel(model).topological_sort()")
    if moved:
        calls += ("trtdoc.precision.sort_with_subgraph_inputs(model.graph)",)
    return _Conversion(calls=calls, notes=(note,) if note else ())


def sort_with_subgraph_inputs(graph: Any) -> bool:
    """Order ``graph``'s nodes so each comes after what it and its subgraphs read.

    ``OnnxModel.topological_sort()`` sees only a node's own inputs, not the outer-graph values
    an If/Loop/Scan body reads, so a Cast the fp16 converter appended for such a value stays
    after the If that needs it (seen on silero-vad's op18 model). This is Kahn's algorithm over
    those implicit inputs too, keeping the present order where it is free. Returns True if
    any node moved.
    """
    def reads(node: Any) -> set[str]:
        names = {i for i in node.input if i}
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                made = {o for n in sub.node for o in n.output} | {i.name for i in sub.input} \
                    | {i.name for i in sub.initializer}
                names |= {r for n in sub.node for r in reads(n)} - made
        return names

    import heapq

    nodes = list(graph.node)
    producer = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    needs = [{producer[r] for r in reads(n) if r in producer and producer[r] != i}
             for i, n in enumerate(nodes)]
    users: list[list[int]] = [[] for _ in nodes]
    for i, deps in enumerate(needs):
        for d in deps:
            users[d].append(i)
    waiting = [len(deps) for deps in needs]
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)  # the lowest index first: the present order where it is free
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(nodes):
        return False  # a cycle: leave the graph as it is; the checker will say why
    if order == list(range(len(nodes))):
        return False
    graph.ClearField("node")
    graph.node.extend(nodes[i] for i in order)
    return True


def _fp16_range_report(model: Path) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Per float initializer: how many values fp16 cannot hold, and the clamping it gets.

    Read one tensor at a time (external data too), so it costs no more memory than the
    largest weight.
    """
    import math

    import numpy as np
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(model), load_external_data=False)
    report: dict[str, tuple[int, tuple[str, ...]]] = {}
    for init in proto.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init, base_dir=str(model.parent)).ravel()
        magnitude = np.abs(values)
        tiny = (magnitude > 0) & (magnitude < _FP16_MIN_POSITIVE)
        huge = np.isfinite(values) & (magnitude > _FP16_MAX_FINITE)
        count = int(tiny.sum()) + int(huge.sum())
        if not count:
            continue
        examples = []
        for mask, pick, bound in ((tiny, np.argmin, _FP16_MIN_POSITIVE),
                                  (huge, np.argmax, _FP16_MAX_FINITE)):
            if mask.any():
                v = float(values[mask][pick(magnitude[mask])])
                examples.append(f"{v:.3g} -> {math.copysign(bound, v):.3g}")
        report[init.name] = (count, tuple(examples))
    return report


def _clamp_note(report: Mapping[str, tuple[int, tuple[str, ...]]]) -> str | None:
    """One line for the weight values the fp16 conversion clamped, or None."""
    if not report:
        return None
    examples = sorted({e for _, ex in report.values() for e in ex})
    shown = ", ".join(examples[:3]) + (", ..." if len(examples) > 3 else "")
    count = sum(n for n, _ in report.values())
    return (f"{count} fp32 weight value(s) in {len(report)} tensor(s) outside the fp16 range "
            f"were clamped ({shown})")


def _to_bf16(model: Path, out: Path, external: bool) -> _Conversion:
    from modelopt.onnx.autocast import convert_to_mixed_precision

    options: dict[str, Any] = {"low_precision_type": "bf16", "keep_io_types": True}
    proto = convert_to_mixed_precision(onnx_path=str(model), **options)
    _save(proto, out, external)
    return _Conversion(calls=(_call("modelopt.onnx.autocast.convert_to_mixed_precision",
                                    "onnx_path=model", **options),))


def _opset(proto: Any) -> int:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)


def _quantize(model: Path, out: Path, precision: str,
              samples: Sequence[Mapping[str, np.ndarray]], external: bool,
              workdir: Path) -> _Conversion:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class _Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict[str, Any] | None:
            batch = next(self._it, None)
            return None if batch is None else dict(batch)

    fp8 = precision == "fp8"
    # fp8 per-channel was no more accurate in our measurements and twice as slow.
    per_channel = not fp8
    calls: list[str] = []
    notes: list[str] = []
    method = None
    source = model
    opset = _opset(onnx.load(str(model), load_external_data=False))
    if per_channel and opset < PER_CHANNEL_MIN_OPSET:
        # Per-channel weights need DequantizeLinear's `axis`, which opset 11/12 do not have;
        # onnxruntime writes it anyway, and the result is invalid ONNX.
        from onnx import version_converter

        try:
            upgraded = version_converter.convert_version(onnx.load(str(model)),
                                                         PER_CHANNEL_MIN_OPSET)
            onnx.checker.check_model(upgraded)
        except Exception as exc:  # noqa: BLE001 - any adapter failure: fall back per tensor
            per_channel = False
            method = _METHODS[precision][1].replace("per-channel", "per-tensor")
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            notes.append(f"weights quantized per tensor: per-channel DequantizeLinear(axis=...) "
                         f"needs opset >= {PER_CHANNEL_MIN_OPSET}, and onnx.version_converter "
                         f"could not upgrade this opset-{opset} model ({type(exc).__name__}"
                         f"{': ' + reason[:200] if reason else ''})")
        else:
            source = workdir / "upgraded.onnx"
            _save(upgraded, source, external)
            calls.append(_call("onnx.version_converter.convert_version", "model",
                               str(PER_CHANNEL_MIN_OPSET)))
            notes.append(f"upgraded from opset {opset} to {PER_CHANNEL_MIN_OPSET} before "
                         "quantizing: per-channel DequantizeLinear(axis=...) needs it")

    # Pre-processing folds the Constant/Identity nodes torch exporters put in front of weights;
    # without it the quantizer sees those weights as activations and cannot quantize them
    # per channel. Symbolic shape inference needs sympy and adds nothing for static-rank models.
    pre = workdir / "preprocessed.onnx"
    pre_options: dict[str, Any] = {"skip_symbolic_shape": True}
    if external:
        pre_options |= {"save_as_external_data": True, "all_tensors_to_one_file": True,
                        "external_data_location": "preprocessed.onnx.data"}
    quant_pre_process(str(source), str(pre), **pre_options)
    calls.append(_call("onnxruntime.quantization.shape_inference.quant_pre_process", "model",
                       "output_path", **pre_options))
    qtype = QuantType.QFLOAT8E4M3FN if fp8 else QuantType.QInt8
    options: dict[str, Any] = {
        "quant_format": QuantFormat.QDQ,
        "op_types_to_quantize": list(QUANTIZED_OP_TYPES),
        "per_channel": per_channel,
        "activation_type": qtype,
        "weight_type": qtype,
        # onnxruntime supports only the Distribution calibrator for float8.
        "calibrate_method": CalibrationMethod.Distribution if fp8 else CalibrationMethod.MinMax,
        "use_external_data_format": external,
        "extra_options": {
            # TensorRT's quantization is symmetric (zero point 0).
            "ActivationSymmetric": True,
            "WeightSymmetric": True,
            # TensorRT's DequantizeLinear takes 8-bit (and 4-bit) inputs only; an int32 bias
            # fails to parse. TensorRT fuses the fp32 bias into the quantized layer instead.
            "QuantizeBias": False,
            # The weight-scale adjustment only keeps an int32 bias in range, and no bias is
            # quantized here. It also fails on a per-channel Gemm whose bias is [1, N] (as
            # quant_pre_process makes from MatMul+Add): "The truth value of an array with more
            # than one element is ambiguous" (onnxruntime issue #24815).
            "QDQDisableWeightAdjustForInt32Bias": True,
        },
    }
    quantize_static(str(pre), str(out), _Reader(), **options)
    calls.append(_call("onnxruntime.quantization.quantize_static", "model",
                       "output_path", "calibration_reader", **options))
    return _Conversion(calls=tuple(calls), notes=tuple(notes), method=method)


# --------------------------------------------------------------------------- checks

# Known ways converters break a model, by what the checker or onnxruntime says.
_TYPE_ORT = re.compile(r"Type \((tensor\(\w+\))\) of output arg \((.+?)\) of node \((.*?)\) "
                       r"does not match expected type \((tensor\(\w+\))\)")
_TYPE_CHECKER = re.compile(r"\(op_type:(\w+), node name: (.*?)\): \[TypeInferenceError\] "
                           r"Inferred elem type differs from existing elem type: \((\d+)\) vs "
                           r"\((\d+)\)")
_UNSORTED = re.compile(r"Nodes in a graph must be topologically sorted, however input '(.+?)' "
                       r"of node:\s*name: (.*?) OpType: (\w+)")
_BAD_ATTRIBUTE = re.compile(r"Unrecognized attribute: (\w+) for operator (\w+).*?Name: (.*?) "
                            r"OpType: (\w+)", re.S)
_ELEM = {1: "tensor(float)", 10: "tensor(float16)", 16: "tensor(bfloat16)", 11: "tensor(double)"}


def _subgraph_parent(proto: Any, node: str) -> tuple[str, str] | None:
    """``(name, op type)`` of the top-level If/Loop/Scan whose subgraph holds ``node``."""
    def holds(graph: Any) -> bool:
        return any(n.name == node or any(holds(a.g) for a in n.attribute if a.HasField("g"))
                   for n in graph.node)

    if any(n.name == node for n in proto.graph.node):
        return None
    for n in proto.graph.node:
        if any(a.HasField("g") and holds(a.g) for a in n.attribute):
            return n.name, n.op_type
    return None


def _diagnose(text: str, proto: Any) -> tuple[str, str, str]:
    """(node, op type, what is wrong) from a checker or onnxruntime message; '' if unknown."""
    ops = {n.name: n.op_type for n in proto.graph.node}
    if m := _TYPE_ORT.search(text):
        declared, tensor, node, computed = m.groups()
        op = ops.get(node, "")
        return node, op, _mistyped(op, tensor, declared, computed)
    if m := _TYPE_CHECKER.search(text):
        op, node, inferred, existing = m.groups()
        tensor = next((n_out for n in proto.graph.node if n.name == node
                       for n_out in n.output), "")
        return node, op, _mistyped(op, tensor, _ELEM.get(int(existing), existing),
                                   _ELEM.get(int(inferred), inferred))
    if m := _UNSORTED.search(text):
        tensor, node, op = m.groups()
        parent = _subgraph_parent(proto, node)
        if parent is not None:
            return node, op, (
                f"the nodes are not in topological order: {node!r} sits in a subgraph of "
                f"{parent[1]} {parent[0]!r} and reads {tensor!r} from the outer graph, where "
                "a later node makes it. onnxruntime.transformers.float16 appends the Casts it "
                "inserts at the end of the graph, and OnnxModel.topological_sort(), which "
                "trtdoc ran, does not see what a subgraph takes from outside, so it leaves "
                f"{parent[1]} {parent[0]!r} before that Cast")
        return node, op, (f"the nodes are not in topological order (its input {tensor!r} is "
                          "made by a later node). onnxruntime.transformers.float16 appends the "
                          "Casts it inserts at the end of the graph; "
                          "onnxruntime.transformers.onnx_model.OnnxModel(model)"
                          ".topological_sort() orders them")
    if m := _BAD_ATTRIBUTE.search(text):
        attribute, op, node, _ = m.groups()
        opset = _opset(proto)
        if attribute == "axis" and op in ("QuantizeLinear", "DequantizeLinear") \
                and opset < PER_CHANNEL_MIN_OPSET:
            return node, op, (f"per-channel {op}(axis=...) needs opset >= "
                              f"{PER_CHANNEL_MIN_OPSET}, and the model declares opset {opset}. "
                              "Upgrade it first (onnx.version_converter.convert_version(model, "
                              f"{PER_CHANNEL_MIN_OPSET})) or quantize per tensor")
        return node, op, f"{op} has no attribute {attribute!r} in opset {opset}"
    return "", "", ""


def _mistyped(op: str, tensor: str, declared: str, computed: str) -> str:
    what = (f"the graph declares its output {tensor!r} as {declared}, but the node computes "
            f"{computed}")
    if op == "Cast" and (declared, computed) == ("tensor(float16)", "tensor(float)"):
        what += (": a Cast(to=float) whose output the converter typed fp16, as in "
                 "onnxconverter-common issue #320")
    return what


def check_converted(model: Path, *, converter: str, precision: str, engine: str = "") -> str:
    """Refuse a converted model that the ONNX checker or onnxruntime refuses.

    The checker runs with full type and shape inference; onnxruntime loads the model in a CPU
    session. A model onnxruntime cannot run only for want of a CPU kernel (bf16 convolutions)
    is not invalid and passes, and the returned text says so. A failure raises
    :class:`BuildError` naming ``converter`` (the call that made the model), the node and, for
    the known converter bugs, the bug. Returns what was checked, for the record.
    """
    import onnx
    import onnxruntime as ort

    proto = onnx.load(str(model), load_external_data=False)

    def refuse(checker: str, exc: Exception) -> BuildError:
        text = str(exc).strip()
        node, op, what = _diagnose(text, proto)
        if node:
            why = f"{checker} refuses node {node!r} ({op}): {what}"
        else:  # not a known pattern: the tool's own words, first line
            first = text.splitlines()[0][:300] if text else type(exc).__name__
            why = f"{checker} refuses it: {first}"
        return BuildError(
            f"{converter} made an invalid {precision} model: {why}. trtdoc does not build it; "
            "choose another precision, or report the model to the converter's maintainers",
            engine=engine, setting="precision")

    try:
        # A path, not the proto: the checker then reads external data and passes 2 GB.
        onnx.checker.check_model(str(model), full_check=True)
    except Exception as exc:  # ValidationError, InferenceError, and protobuf's own errors
        raise refuse("the ONNX checker", exc) from exc
    checked = "onnx.checker.check_model(full_check=True), onnxruntime.InferenceSession (CPU)"
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the library never prints
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind error types
        if "NOT_IMPLEMENTED" not in str(exc):
            raise refuse("onnxruntime", exc) from exc
        checked = ("onnx.checker.check_model(full_check=True); onnxruntime has no CPU kernel "
                   "for it, so it was not loaded there")
    return checked


# --------------------------------------------------------------------------- graph facts


def _histogram(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _graph_summary(model: Path, precision: str) -> dict[str, Any]:
    """Node counts and the precision mix of ``model``, read with shape-inferred tensor types."""
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    try:
        # Types of intermediate tensors come from shape inference; data is not needed for it.
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - the mix is a best effort; counts below still hold
        inferred = proto
    graph = inferred.graph
    types: dict[str, int] = {}
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        types[vi.name] = vi.type.tensor_type.elem_type
    for init in graph.initializer:
        types[init.name] = init.data_type
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    types[node.output[0]] = a.t.data_type

    dq_outputs = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    low: Counter[str] = Counter()
    fp32: Counter[str] = Counter()
    ops: Counter[str] = Counter()
    for node in graph.node:
        ops[node.op_type] += 1
        if node.op_type in _PLUMBING_OPS:
            continue
        out_types = {types.get(o, 0) for o in node.output}
        # Q/DQ around other ops only carry scales between quantized layers; TensorRT decides
        # whether to fuse them, and its layer table reports that per layer.
        quantized = (precision in ("int8", "fp8") and node.op_type in QUANTIZED_OP_TYPES
                     and any(i in dq_outputs for i in node.input))
        if quantized or (precision in _LOW_TYPE and _LOW_TYPE[precision] in out_types):
            low[node.op_type] += 1
        elif 1 in out_types:
            fp32[node.op_type] += 1
    inits = {i.name for i in graph.initializer}
    untouched = tuple(sorted(vi.name for vi in graph.input if vi.name not in inits
                             and vi.type.tensor_type.elem_type not in _FLOAT_TYPES))
    return {
        "nodes": sum(ops.values()),
        "qdq": sum(ops[o] for o in _QDQ_OPS),
        "cast": ops["Cast"],
        "low_ops": _histogram(low),
        "fp32_ops": _histogram(fp32),
        "untouched": untouched,
    }

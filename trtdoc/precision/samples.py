"""Sample data for the precision step: calibration and held-out inputs, loaded or random.

Reads .npz/.npy files (or folders of them) into batches along each input's batch axis, and
makes seeded random inputs valid for every input type when no data is given.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtdoc.errors import BuildError, display_path

if TYPE_CHECKING:
    import numpy as np

_FIX_DATA = "Fix or replace the file"


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
    batched = [(n, ax) for n in names if (ax := axis_of[n]) is not None]
    count = arrays[batched[0][0]].shape[batched[0][1]] if batched else 1
    if count < batches:
        along = "the first axis" if axes is None else "the batch axis"
        raise fail(f"{display_path(path)} holds {count} samples along {along}, too few "
                   f"for {batches} batches. Add samples or ask for fewer batches")
    parts = {n: (np.array_split(arrays[n], batches, axis=ax) if (ax := axis_of[n]) is not None
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
                     if isinstance(dim := dims[i], str) and "batch" in dim.lower()]
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
        if isinstance(dim := dims[axis], int) and dim > 0:
            sizes.append(int(dim))
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
            shape = tuple(int(d) for d in dims)
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

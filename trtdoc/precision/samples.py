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
                 axes: Mapping[str, int | None] | None = None,
                 model: Path | None = None) -> tuple[dict[str, np.ndarray], ...]:
    """Read model inputs from an .npz, an .npy, a Polygraphy inputs .json, or a folder of them,
    as ``batches`` batches.

    An .npz holds one array per input, keyed by input name; an .npy holds the one input of a
    single-input model; a Polygraphy .json (``polygraphy run --save-inputs``) is a list of feed
    dicts, one batch each. A file is split along the sample axis into ``batches`` batches; a
    folder gives one batch per file, sorted by name, of which the first ``batches`` are used.
    ``batches=None`` takes every file whole. ``dtypes`` (input name -> numpy dtype) casts each
    array to the model's type, refusing lossy casts (fractional values for an integer input).
    ``axes`` (input -> batch axis, None: no certain one; see :func:`batch_axes`) says where
    samples are stacked; without it every array has a leading sample axis. ``model`` gives the
    inputs' dimensions, so that an array with one more axis than its input (a leading sample
    axis, each slice one complete input) is read as such, and a batch size the model fixes is
    kept. Problems raise :class:`BuildError` naming ``setting``.
    """
    import numpy as np

    names = list(input_names)
    engine = engine or path.name
    dims = {} if model is None else {n: d for n, _, d in input_specs(model)}

    def fail(message: str) -> BuildError:
        return BuildError(message, engine=engine, setting=setting)

    sources = _sources(path, fail, setting)
    if path.is_dir() or len(sources) > 1:
        if batches is not None and len(sources) < batches:
            what = "files" if path.is_dir() else "feed dicts"
            raise fail(f"{display_path(path)} holds {len(sources)} {what}, one batch each, but "
                       f"{batches} batches were asked for. Add {what} or ask for fewer batches")
        chosen = sources if batches is None else sources[:batches]
        return tuple(_laid_out(*_read_source(where, raw, names, dtypes, fail, axes, dims,
                                             setting))
                     for where, raw in chosen)
    where, raw = sources[0]
    arrays, axis_of, sliced = _read_source(where, raw, names, dtypes, fail, axes, dims, setting)
    if batches is None:
        return (_laid_out(arrays, axis_of, sliced),)
    count = count_samples(arrays, axis_of)
    per = 1 if sliced else _fixed_batch(dims, axis_of)
    if per is not None:
        # One slice, or the batch size the model fixes, per batch: the rest stay unused.
        if count < batches * per:
            raise fail(f"{where} holds {count} samples, too few for {batches} batches of "
                       f"{per} (the model's batch size). Add samples or ask for fewer batches")
        return tuple(_laid_out(_take(arrays, axis_of, i * per, (i + 1) * per), axis_of,
                               sliced) for i in range(batches))
    if count < batches:
        along = "the first axis" if axes is None else "the batch axis"
        raise fail(f"{where} holds {count} samples along {along}, too few "
                   f"for {batches} batches. Add samples or ask for fewer batches")
    parts = {n: (np.array_split(arrays[n], batches, axis=ax) if (ax := axis_of[n]) is not None
                 else [arrays[n]] * batches) for n in names}
    return tuple({n: parts[n][i] for n in names} for i in range(batches))


def _fixed_batch(dims: Mapping[str, tuple[int | str, ...]], axes: Mapping[str, int | None]
                 ) -> int | None:
    """The batch size the model fixes along a batched input's axis, if any."""
    for name in sorted(dims):
        axis = axes.get(name)
        if axis is not None and len(dims[name]) > axis \
                and isinstance(d := dims[name][axis], int) and d > 0:
            return d
    return None


def _laid_out(arrays: dict[str, np.ndarray], axes: Mapping[str, int | None],
              sliced: frozenset[str]) -> dict[str, np.ndarray]:
    """A batch as the model takes it: one-slice arrays of a leading sample axis lose it."""
    return {n: a[0] if n in sliced else a for n, a in arrays.items()}


def _sources(path: Path, fail: Any, setting: str) -> list[tuple[str, Any]]:
    """(where, raw arrays or a file) per batch source: a file, or each feed dict of a JSON."""
    out: list[tuple[str, Any]] = []
    for file in _data_files(path, fail, setting):
        if file.suffix == ".json":
            feeds = polygraphy_feeds(file, fail)
            out += [(f"{display_path(file)} feed {i}", feed) for i, feed in enumerate(feeds)]
        else:
            out.append((display_path(file), file))
    return out


def polygraphy_feeds(path: Path, fail: Any) -> list[dict[str, np.ndarray]]:
    """The feed dicts of a Polygraphy inputs file (``polygraphy run --save-inputs``).

    Polygraphy's JSON encoder writes a list of ``{input: {"array": base64 of numpy.save
    bytes, "polygraphy_class": "ndarray"}}``; arrays are loaded without pickle.
    """
    import base64
    import binascii
    import io
    import json

    import numpy as np

    where = display_path(path)
    hint = ("Save it with polygraphy run --save-inputs, or as an .npz: "
            "numpy.savez(file, **{input_name: array})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"{where} is not a readable JSON file ({type(exc).__name__}). {hint}") \
            from exc
    if not isinstance(data, list) or not data or not all(isinstance(f, dict) for f in data):
        raise fail(f"{where} is not a Polygraphy inputs file (a JSON list of feed dicts). "
                   f"{hint}")
    feeds = []
    for i, feed in enumerate(data):
        arrays = {}
        for name, value in feed.items():
            if not (isinstance(value, dict) and value.get("polygraphy_class") == "ndarray"
                    and isinstance(value.get("array"), str)):
                raise fail(f"{where}: feed {i}, input {name!r} is not a Polygraphy-encoded "
                           f"array. {hint}")
            try:
                arrays[str(name)] = np.load(io.BytesIO(base64.b64decode(value["array"],
                                                                        validate=True)),
                                            allow_pickle=False)
            except (ValueError, OSError, EOFError, binascii.Error) as exc:
                raise fail(f"{where}: feed {i}, input {name!r} does not decode to a numpy "
                           f"array ({type(exc).__name__}). {hint}") from exc
            if not isinstance(arrays[str(name)], np.ndarray):
                raise fail(f"{where}: feed {i}, input {name!r} is not one array. {hint}")
        feeds.append(arrays)
    return feeds


def _read_source(where: str, raw: Any, names: list[str], dtypes: Mapping[str, Any] | None,
                 fail: Any, axes: Mapping[str, int | None] | None,
                 dims: Mapping[str, tuple[int | str, ...]], setting: str
                 ) -> tuple[dict[str, np.ndarray], dict[str, int | None], frozenset[str]]:
    """One source's arrays, the sample axis of each (None: fed whole) and the arrays with a
    leading sample axis that are fed one slice at a time."""
    if isinstance(raw, Path):
        arrays = _read_sample_file(raw, names, dtypes, fail)
    else:
        missing = [n for n in names if n not in raw]
        if missing:
            raise fail(f"{where} has no array for model input(s) {', '.join(missing)} "
                       f"(it holds: {', '.join(sorted(raw)) or 'nothing'}). Name each array "
                       "after the model input it feeds")
        arrays = {n: _cast(where, n, raw[n], dtypes, fail) for n in names}
        # A feed dict is one batch as Polygraphy ran it: fed as it is, whatever its layout.
        return _layout(where, arrays, axes, dims, fail, setting, feed=True)
    return _layout(where, arrays, axes, dims, fail, setting)


def _layout(where: str, arrays: dict[str, np.ndarray], axes: Mapping[str, int | None] | None,
            dims: Mapping[str, tuple[int | str, ...]], fail: Any, setting: str,
            feed: bool = False
            ) -> tuple[dict[str, np.ndarray], dict[str, int | None], frozenset[str]]:
    """Where each array stacks its samples, by the rules of :func:`sample_layout`; in a
    Polygraphy ``feed`` an array with no certain batch axis is one whole input."""

    axis_of: dict[str, int | None] = {}
    sliced: set[str] = set()
    for name, arr in arrays.items():
        certain = 0 if axes is None else axes.get(name, 0)
        model_dims = dims.get(name)
        if model_dims is None:  # no model given: the old rule, a leading sample axis
            axis_of[name] = certain
        else:
            kind, axis = sample_layout(arr.shape, model_dims, certain)
            if kind == "leading":
                # Each slice is one complete input, fed as it is (never joined along a batch
                # axis: dimension 0 of a sequence model's input can be its time axis).
                axis_of[name] = 0
                sliced.add(name)
            elif kind == "ambiguous" and feed:
                axis_of[name] = None
            elif kind == "ambiguous":
                shown = ", ".join(str(d) for d in model_dims)
                raise fail(ambiguous_layout(where, name, ", ".join(str(d) for d in arr.shape),
                                            shown, setting))
            else:
                axis_of[name] = axis
        axis = axis_of[name]
        if axis is not None and arrays[name].ndim <= axis:
            raise fail(f"{where}: array {name!r} is a scalar. Give it a leading sample axis"
                       if arrays[name].ndim == 0 else
                       f"{where}: array {name!r} has shape {list(arrays[name].shape)}, but "
                       f"model input {name!r} stacks samples along axis {axis}. Save it with "
                       "that axis")
    lengths = {n: arrays[n].shape[ax] for n in arrays if (ax := axis_of[n]) is not None}
    if len(set(lengths.values())) > 1:
        # An array that is exactly one input (length 1 where the model fixes 1) is fed whole
        # to every batch beside inputs with more samples.
        for n in list(lengths):
            model_dims = dims.get(n, ())
            if lengths[n] == 1 and n not in sliced and tuple(arrays[n].shape) == model_dims:
                axis_of[n] = None
                del lengths[n]
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{n}: {c}" for n, c in lengths.items())
        along = "the first axis" if axes is None else "their batch axes"
        raise fail(f"{where}: arrays have different sample counts along {along} "
                   f"({sizes}). Give every input the same number of samples")
    return arrays, axis_of, frozenset(sliced)


def sample_layout(shape: Sequence[int], dims: Sequence[int | str], axis: int | None
                  ) -> tuple[str, int | None]:
    """How an array of ``shape`` holds samples of a model input of ``dims`` whose batch axis
    is ``axis`` (None: none is certain, see :func:`batch_axes`).

    ``("leading", 0)``: one more axis than the input, each slice one complete input.
    ``("batch", axis)``: the input's own rank, samples stacked along its batch axis.
    ``("whole", None)``: a scalar input, or an array that is exactly the input's fixed shape
    where no batch axis is certain; it feeds every batch. ``("ambiguous", None)``: the input's
    own rank with no certain batch axis; the user must say (a leading sample axis, or
    ``sample_axis``). ``("rank", None)``: neither rank.
    """
    if len(shape) == len(dims) + 1:
        return "leading", 0
    if len(shape) != len(dims):
        return "rank", None
    if axis is not None:
        return "batch", axis
    if not dims or tuple(shape) == tuple(dims):
        return "whole", None
    return "ambiguous", None


def ambiguous_layout(where: str, name: str, shape: str, dims: str, setting: str,
                     sep: str = ", ") -> str:
    """The message for an array whose sample axis trtdoc will not guess (``shape`` and
    ``dims`` as the caller writes them, without brackets, joined by ``sep``)."""
    block = setting.split(".", 1)[0]
    return (f"{where}: array {name!r} has shape [{shape}], the rank of model input {name!r} "
            f"[{dims}], which has no dimension trtdoc can take as the batch axis (a symbolic "
            "dimension named as a batch, or dimension 0 symbolic or fixed at 1). Save it "
            f"with a leading sample axis, [N{sep}{dims}] (each slice one complete input), or "
            f"set {block}.sample_axis: {{{name}: AXIS}}")


def _cast(where: str, name: str, arr: np.ndarray, dtypes: Mapping[str, Any] | None,
          fail: Any) -> np.ndarray:
    """``arr`` as the model input's type, refusing lossy casts."""
    import numpy as np

    want = None if dtypes is None else dtypes.get(name)
    if want is None:
        return arr
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
    return np.asarray(arr, dtype=want, order="C")


def _read_sample_file(path: Path, names: list[str], dtypes: Mapping[str, Any] | None,
                      fail: Any) -> dict[str, np.ndarray]:
    """The arrays of one .npz/.npy file, cast to the model's types (see :func:`_layout` for
    where each holds its samples)."""
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
    return {n: _cast(where, n, arr, dtypes, fail) for n, arr in arrays.items()}


def is_batch_name(dim: int | str) -> bool:
    """Whether a symbolic dimension is named as a batch (``batch``, ``batch_size``, ``N``...)."""
    return isinstance(dim, str) and ("batch" in dim.lower() or dim.lower() in _BATCH_NAMES)


_BATCH_NAMES = {"n", "b", "bs", "nbatch"}


def batch_axes(model: Path, sample_axis: Mapping[str, int] | None = None
               ) -> dict[str, int | None]:
    """Per graph input of ``model``, the axis samples of its own rank stack along, where that
    is certain; None where it is not (a scalar, or an input whose data must say).

    Certain means: the input's entry in ``sample_axis`` (the spec's ``sample_axis``), else a
    symbolic dimension named as a batch (``state [2, batch, 128]`` → 1), else dimension 0
    when it is symbolic or fixed at 1 (``[1, 1, 64, image_width]`` → 0, never the width).
    """
    axes: dict[str, int | None] = {}
    for name, _, dims in input_specs(model):
        named = [i for i, d in enumerate(dims) if is_batch_name(d)]
        if sample_axis is not None and name in sample_axis:
            axes[name] = sample_axis[name]
        elif named:
            axes[name] = named[0]
        elif dims and (not isinstance(dims[0], int) or dims[0] == 1):
            axes[name] = 0
        else:
            axes[name] = None
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
                     setting: str = "accuracy.data",
                     sample_axis: Mapping[str, int] | None = None
                     ) -> tuple[dict[str, np.ndarray], ...]:
    """The first ``samples`` samples of held-out data, in batches of at most the opt batch.

    ``path`` is an .npz (one array per model input), an .npy (single-input models), a
    Polygraphy inputs .json, or a folder of them, read in name order. An array with one more
    axis than its input has a leading sample axis (each slice one complete input); one of the
    input's own rank stacks samples along the input's certain batch axis (:func:`batch_axes`,
    ``sample_axis`` overriding it), and is refused with the way to say it where there is
    none; a scalar input is a 0-d array, fed to every batch. Arrays are cast to
    the model's input types, refusing fractional values for integer inputs. Fewer than
    ``samples`` samples, or a count a fixed batch size does not divide, raise
    :class:`BuildError` naming ``setting``.
    """
    names = [n for n, _, _ in input_specs(model)]
    dtypes = {n: t for n, t, _ in input_specs(model)}
    axes = batch_axes(model, sample_axis)
    limit, fixed = _batch_limit(model, axes, shapes)
    engine = engine or path.name

    def fail(message: str) -> BuildError:
        return BuildError(message, engine=engine, setting=setting)

    if fixed and limit and samples % limit:
        raise fail(f"the model takes batches of exactly {limit}, so accuracy.samples "
                   f"{samples} cannot be split into them. Make accuracy.samples a multiple "
                   f"of {limit}")
    dims = {n: d for n, _, d in input_specs(model)}
    out: list[dict[str, np.ndarray]] = []
    taken = 0
    for where, raw in _sources(path, fail, setting):
        arrays, axis_of, sliced = _read_source(where, raw, names, dtypes, fail, axes, dims,
                                               setting)
        available = count_samples(arrays, axis_of)
        per = 1 if sliced else (limit or samples)
        start = 0
        while start < available and taken < samples:
            size = min(per, available - start, samples - taken)
            out.append(_laid_out(_take(arrays, axis_of, start, start + size), axis_of, sliced))
            start, taken = start + size, taken + size
        if taken >= samples:
            break
    if taken < samples:
        raise fail(f"{display_path(path)} holds {taken} samples, fewer than the "
                   f"{samples} accuracy.samples asks for. Add samples or lower accuracy.samples")
    return tuple(out)


_DATA_SUFFIXES = (".npz", ".npy", ".json")


def _data_files(path: Path, fail: Any, setting: str = "accuracy.data") -> list[Path]:
    """The data files ``path`` names (itself, or a folder's, sorted by name)."""
    if not path.exists():
        raise fail(f"{display_path(path)} does not exist. Point {setting} at an .npz, an .npy, "
                   "a Polygraphy inputs .json, or a folder of them")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _DATA_SUFFIXES and p.is_file())
        if not files:
            raise fail(f"{display_path(path)} holds no .npz, .npy or .json files. Save one "
                       "array per model input with numpy.savez")
        return files
    if path.suffix not in _DATA_SUFFIXES:
        raise fail(f"{display_path(path)} is not an .npz, .npy or Polygraphy .json file. Save "
                   "the inputs with numpy.savez (one array per input name) or numpy.save "
                   "(single-input models)")
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

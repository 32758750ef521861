"""Checks of calibration and held-out data files at ``trtdoc check``: what the build will read.

Reads .npy headers (never the data, except to look for fractions in integer inputs) and
Polygraphy inputs files, and lays every array out as :mod:`trtdoc.precision.samples` does.
"""

from __future__ import annotations

import difflib
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtdoc.errors import SpecError, display_path
from trtdoc.model import ModelFacts, ModelTensor
from trtdoc.spec.locations import Locator

MAX_DATA_BYTES = 2 << 30
MAX_DATA_FILES = 10_000  # files in a data folder
MAX_DATA_ARRAYS = 1_000  # members of one .npz


def bytes_words(n: int) -> str:
    """``n`` bytes in words: ``1.5 GiB``."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


_INTEGER_INPUTS = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                   "uint64", "int4", "uint4")
_FIX_KEYS = "name each array after the model input it feeds: numpy.savez(file, **{input: array})"


@dataclass(frozen=True)
class _Header:
    shape: tuple[int, ...]
    dtype: Any  # numpy dtype



def _npy_header(fp: Any) -> tuple[tuple[int, ...], Any]:
    """Shape and dtype from an .npy stream's header; the data stays unread."""
    import numpy as np

    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
    return shape, dtype


def _headers(path: Path) -> dict[str, _Header] | None:
    """Each array's shape and dtype in an .npz or .npy, from its header; None if unreadable.

    Only the headers are read: an .npz member is a plain .npy file inside a zip, so its
    header is read from the member's stream and its data never decompressed.
    """

    def one(fp: Any) -> _Header:
        shape, dtype = _npy_header(fp)
        return _Header(tuple(shape), dtype)

    try:
        if path.suffix == ".npy":
            with path.open("rb") as f:
                return {"": one(f)}
        if _zip_members(path) > MAX_DATA_ARRAYS:
            return None
        with zipfile.ZipFile(path) as z:
            found = {}
            for member in z.namelist():
                if member.endswith(".npy"):
                    with z.open(member) as stream:
                        found[member[:-4]] = one(stream)
            return found
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        return None


def _zip_members(path: Path) -> int:
    """How many members the zip's end record lists, read before the central directory (which
    zipfile reads whole, one object per member)."""
    try:
        with path.open("rb") as f:
            # zipfile's private reader of the end record: typeshed leaves it (and
            # _ECD_ENTRIES_TOTAL) out; AttributeError below covers a Python without them.
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
    except (OSError, AttributeError):
        return 0
    return int(end[zipfile._ECD_ENTRIES_TOTAL]) if end else 0  # type: ignore[attr-defined]


def _has_fractions(path: Path, key: str) -> bool:
    """Whether float array ``key`` of ``path`` holds values an integer cast would change.

    The array is streamed in chunks of about 8 MiB (an .npz member is decompressed as it is
    read), so checking it never holds the whole array.
    """
    import numpy as np

    def chunks(fp: Any) -> Any:
        shape, dtype = _npy_header(fp)
        left = math.prod(shape)
        step = max(1, (8 << 20) // max(dtype.itemsize, 1))
        while left > 0:
            n = min(step, left)
            raw = fp.read(n * dtype.itemsize)
            if len(raw) < n * dtype.itemsize:
                return
            yield np.frombuffer(raw, dtype=dtype)
            left -= n

    def fractional(fp: Any) -> bool:
        for part in chunks(fp):
            if not (np.isfinite(part).all() and np.array_equal(part, np.round(part))):
                return True
        return False

    try:
        if path.suffix == ".npy":
            with path.open("rb") as f:
                return fractional(f)
        with zipfile.ZipFile(path) as z, z.open(f"{key}.npy") as stream:
            return fractional(stream)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile):
        return False


def check_data(loc: Locator, setting: tuple[str, str], data: Path, wanted: int,
                wanted_by: str, facts: ModelFacts,
                axes: dict[str, int | None] | None = None) -> list[SpecError]:
    """Problems with the data ``setting`` names, located at it, read as the build reads it.

    ``axes`` (input -> certain batch axis, see :func:`trtdoc.precision.samples.batch_axes`)
    lays out arrays of an input's own rank; without it samples stack along the first axis. A
    folder, or a Polygraphy inputs file, holds one calibration batch per file or feed dict.
    """
    errors: list[SpecError] = []
    total = 0
    inputs = {t.name: t for t in facts.inputs}
    suffixes = (".npz", ".npy", ".json")
    if data.is_dir():
        files = sorted(p for p in data.iterdir() if p.suffix in suffixes and p.is_file())
        if not files:
            return [loc.error(setting, f"{display_path(data)} holds no .npz, .npy or .json "
                              "files", "save one array per model input with numpy.savez")]
    elif data.suffix in suffixes:
        files = [data]
    else:
        return [loc.error(setting, f"{display_path(data)} is not an .npz, .npy or Polygraphy "
                          ".json file", "save the inputs with numpy.savez (one array per input "
                          "name) or numpy.save (single-input models)")]
    if len(files) > MAX_DATA_FILES:
        return [loc.error(setting, f"{display_path(data)} holds {len(files)} data files, more "
                          f"than the {MAX_DATA_FILES} trtdoc reads from a folder",
                          "merge them into fewer .npz files, or keep only those you use")]
    counts: set[int] = set()
    read_bytes = 0  # what the build loads whole, from the headers
    limit = f"{MAX_DATA_BYTES >> 30} GiB"
    # A folder, or a Polygraphy inputs file (a list of feed dicts), gives one batch per entry.
    per_entry = data.is_dir() or data.suffix == ".json"
    entries: list[tuple[Path, str, dict[str, _Header] | None]] = []
    for file in files:
        if file.suffix == ".json":
            feeds = _json_feeds(loc, setting, file, errors)
            if not feeds:  # unreadable, said once: counting its batches would say it again
                return errors
            entries += [(file, f"{display_path(file)} feed {i}", f)
                        for i, f in enumerate(feeds)]
            continue
        where = display_path(file)
        if file.suffix == ".npz" and _zip_members(file) > MAX_DATA_ARRAYS:
            errors.append(loc.error(
                setting, f"{where} holds more than {MAX_DATA_ARRAYS} arrays",
                "save one array per model input"))
            continue
        entries.append((file, where, _headers(file)))
    for index, (file, where, headers) in enumerate(entries):
        if headers is None:
            errors.append(loc.error(setting, f"{where} is not a readable numpy file",
                                    "save it again with numpy.savez or numpy.save"))
            continue
        # Calibration loads a file whole, or a folder's first `batches` files; held-out
        # data is read file by file until it has `samples` samples.
        if per_entry and setting[0] == "calibration":
            read = index < wanted
        else:
            read = setting[0] != "accuracy" or total < wanted
        if read:
            read_bytes += sum(math.prod(h.shape) * h.dtype.itemsize for h in headers.values())
        if read_bytes > MAX_DATA_BYTES:
            errors.append(loc.error(
                setting, f"{display_path(data)}: the arrays the build would load come to "
                f"{bytes_words(read_bytes)} (from the .npy headers, up to {where}), more "
                f"than the {limit} trtdoc loads", f"use fewer or smaller samples, or lower "
                f"{wanted_by}"))
            return errors
        if file.suffix == ".npy":
            if len(inputs) != 1:
                errors.append(loc.error(
                    setting, f"{where} is an .npy file with one array, but the model has "
                    f"{len(inputs)} inputs ({', '.join(sorted(inputs))})",
                    "save an .npz with one array per input name: "
                    "numpy.savez(file, **{input: array})"))
                continue
            headers = {next(iter(inputs)): headers[""]}
        extra = sorted(set(headers) - set(inputs))
        suggested: set[str] = set()
        for name in sorted(set(inputs) - set(headers)):
            close = difflib.get_close_matches(name, extra, n=1, cutoff=0.5)
            suggested.update(close)
            errors.append(loc.error(
                setting, f"{where} has no array for model input '{name}'",
                f"rename array '{close[0]}' to '{name}'" if close else
                f"it holds: {', '.join(sorted(headers)) or 'nothing'}; {_FIX_KEYS}"))
        for key in extra:
            if key not in suggested:
                errors.append(loc.error(
                    setting, f"{where} holds array '{key}', which is not a model input",
                    f"remove it, or name it after a model input "
                    f"({', '.join(sorted(inputs))})"))
        lengths: dict[str, int] = {}
        for name in sorted(set(headers) & set(inputs)):
            header, tensor = headers[name], inputs[name]
            axis = 0 if axes is None else axes.get(name, 0)
            problems, count = _check_array(loc, setting, file, name, header, tensor, axis)
            errors.extend(problems)
            if count is not None:
                lengths[name] = count
        if len(set(lengths.values())) > 1:
            # As the build reads it: an array that is exactly one input (its fixed shape, with
            # 1 along the batch axis) feeds every batch beside inputs with more samples.
            lengths = {n: c for n, c in lengths.items()
                       if not (c == 1 and headers[n].shape == inputs[n].dims)}
        if len(set(lengths.values())) > 1:
            sizes = ", ".join(f"{n}: {c}" for n, c in lengths.items())
            along = "the first axis" if axes is None else "their batch axes"
            errors.append(loc.error(
                setting, f"{where}: arrays have different sample counts along {along} "
                f"({sizes})", "give every input the same number of samples"))
        counts.update(lengths.values())
        total += max(lengths.values(), default=0)
    if per_entry and setting[0] == "calibration":
        if len(entries) < wanted:
            errors.append(loc.error(
                setting, f"{display_path(data)} holds {len(entries)} "
                f"{'files' if data.is_dir() else 'feed dicts'}, one batch each, but "
                f"{wanted_by} is {wanted}",
                f"add {'files' if data.is_dir() else 'feed dicts'}, or lower {wanted_by}"))
    elif axes is not None:
        if counts and total < wanted:
            errors.append(loc.error(
                setting, f"{display_path(data)} holds {total} samples, but {wanted_by} is "
                f"{wanted}", f"add samples, or lower {wanted_by}"))
    elif data.is_dir():
        if len(files) < wanted:
            errors.append(loc.error(
                setting, f"{display_path(data)} holds {len(files)} files, one batch each, but "
                f"{wanted_by} is {wanted}", f"add files, or lower {wanted_by}"))
    elif len(counts) == 1 and min(counts) < wanted:
        errors.append(loc.error(
            setting, f"{display_path(data)} holds {min(counts)} samples along the first axis, "
            f"but {wanted_by} is {wanted}", f"add samples, or lower {wanted_by}"))
    return errors


class _Unreadable(Exception):
    """A Polygraphy inputs file trtdoc cannot read (its message says why)."""


def _json_feeds(loc: Locator, setting: tuple[str, str], file: Path, errors: list[SpecError]
                ) -> list[dict[str, _Header]]:
    """Shape and type of every array of a Polygraphy inputs file, one dict per feed."""
    from trtdoc.precision.samples import polygraphy_feeds

    if file.stat().st_size > 2 * MAX_DATA_BYTES:  # base64 is 4/3 of the bytes
        errors.append(loc.error(setting, f"{display_path(file)} is larger than trtdoc loads "
                                f"({bytes_words(file.stat().st_size)})",
                                "use fewer or smaller samples"))
        return []
    try:
        feeds = polygraphy_feeds(file, _Unreadable)
    except _Unreadable as exc:
        message, _, hint = str(exc).partition(". ")
        errors.append(loc.error(setting, message, hint[:1].lower() + hint[1:]))
        return []
    return [{n: _Header(tuple(a.shape), a.dtype) for n, a in f.items()} for f in feeds]


def _check_array(loc: Locator, setting: tuple[str, str], file: Path, name: str,
                 header: _Header, tensor: ModelTensor, axis: int | None = 0
                 ) -> tuple[list[SpecError], int | None]:
    """Problems with one array, and the samples it holds (None: it feeds every batch whole),
    laid out as :func:`trtdoc.precision.samples.sample_layout` reads it."""
    from trtdoc.precision.samples import ambiguous_layout, sample_layout

    where = display_path(file)
    dims = ",".join(str(d) for d in tensor.dims)
    shape = ",".join(str(d) for d in header.shape)
    layout, _ = sample_layout(header.shape, tensor.dims, axis)
    if layout == "rank":
        return [loc.error(
            setting, f"{where}: array '{name}' has rank {len(header.shape)} [{shape}] but model "
            f"input '{name}' has rank {len(tensor.dims)} [{dims}]",
            "give the array one axis per model dimension (samples along the batch axis), or "
            "one more in front (a leading sample axis, each slice one complete input)")], None
    if layout == "ambiguous" and file.suffix == ".json":
        return [], None  # a Polygraphy feed dict is one batch, fed as it is
    if layout == "ambiguous":
        message, _, hint = ambiguous_layout(where, name, shape, dims,
                                            ".".join(str(k) for k in setting), sep=","
                                            ).partition(". Save it")
        return [loc.error(setting, message.replace(f"{where}: array {name!r}",
                                                   f"{where}: array '{name}'", 1),
                          "save it" + hint)], None
    lead = 1 if layout == "leading" else 0
    for d in range(len(tensor.dims)):
        if d == axis:
            continue  # the batch axis: any length
        fixed = tensor.dims[d]
        if isinstance(fixed, int) and fixed >= 0 and header.shape[d + lead] != fixed:
            return [loc.error(
                setting, f"{where}: array '{name}' has shape [{shape}] but model input "
                f"'{name}' fixes dimension {d} at {fixed} [{dims}]",
                f"give the array the model input's shape in dimension {d}"
                + (" (after the leading sample axis)" if lead else ""))], None
    if layout == "leading":
        count: int | None = header.shape[0]  # one complete input per slice
    elif layout == "batch" and axis is not None:
        count = header.shape[axis]
    else:
        count = None
    kind = header.dtype.kind
    if kind not in "iubf":
        return [loc.error(
            setting, f"{where}: array '{name}' holds {header.dtype} values, which cannot feed "
            f"model input '{name}' ({tensor.dtype})", f"save {tensor.dtype} data for it")], count
    # Integers feed float inputs, and narrower integers wider ones, without loss; whole
    # numbers saved as floats (numpy.ones makes float64) cast losslessly too.
    if tensor.dtype in _INTEGER_INPUTS and kind == "f" and file.suffix != ".json" \
            and _has_fractions(file, name):
        return [loc.error(
            setting, f"{where}: array '{name}' holds fractional {header.dtype} values, but "
            f"model input '{name}' is {tensor.dtype}", f"save {tensor.dtype} data for it")], count
    return [], count

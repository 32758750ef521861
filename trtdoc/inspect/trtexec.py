"""trtexec exports as an Inspection: ``--exportLayerInfo`` joined with ``--exportProfile`` times;
and ``--exportTimes`` (one record per inference) as a :class:`~trtdoc.inspect.latency.Latency`.

The files are opened with care (regular files only, size-checked before a byte is read) and
read as streams, within :mod:`trtdoc.inspect.limits`.
"""

from __future__ import annotations

import errno
import gc
import math
import os
import stat
from collections import defaultdict, deque
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import trtdoc.inspect.limits as limits
from trtdoc.errors import InspectError
from trtdoc.inspect.inspector_json import inspection_from_json_stream
from trtdoc.inspect.json_stream import JsonStream, format_size
from trtdoc.inspect.latency import Latency, latency_from_values
from trtdoc.inspect.types import Inspection, Layer


def _open_export(path: Path, what: str, limit: int | None = None) -> Any:
    """The regular file ``path`` opened for reading, when it is at most ``limit`` bytes (None:
    ``limits.MAX_EXPORT_BYTES``).

    Opened non-blocking and checked with fstat before a byte is read, so a FIFO never hangs,
    /dev/zero or a directory is refused, and a file larger than the limit is not read at all.
    """
    limit = limits.MAX_EXPORT_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            # errors.display_path resolves the path, which raises on a loop: name it as given.
            error = InspectError(f"{path}: cannot read the {what} ({exc.strerror})")
            error.source = path
            raise error from None
        raise InspectError(f"cannot read the {what} ({exc.strerror or exc})",
                           source=path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                    "a FIFO" if stat.S_ISFIFO(info.st_mode) else
                    "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a file")
            raise InspectError(f"the {what} is {kind}, not a regular file", source=path)
        if info.st_size > limit:
            raise InspectError(f"the {what} is {info.st_size:,} bytes; trtdoc reads at most "
                               f"{limit:,} ({format_size(limit)})", source=path)
        return os.fdopen(os.dup(fd), "rb")
    finally:
        os.close(fd)


def _stream(path: Path, what: str, json_what: str,
            sha256: Any = None) -> tuple[Any, JsonStream]:
    """The open file ``path`` and a :class:`JsonStream` of it (a file that grows while it is
    read is still capped at ``limits.MAX_EXPORT_BYTES``)."""
    f = _open_export(path, what)
    return f, JsonStream(json_what, path, f=f, limit=limits.MAX_EXPORT_BYTES, sha256=sha256,
                         file_what=what)


def inspection_from_trtexec(layer_info: Path, profile: Path | None = None, *,
                            optimization_profile: int | None = 0,
                            onnx_nodes: Collection[str] | None = None,
                            sha256: Any = None) -> Inspection:
    """Layers from ``trtexec --exportLayerInfo``, with times from ``--exportProfile``.

    The profile is ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs",
    "percentage"}, ...]``. Each layer gets ``time_ms`` = averageMs (per inference) and
    ``time_pct`` = percentage and ``median_ms`` = medianMs where the profile has it (trtexec
    of TensorRT 8 and later does), joined by name (the k-th of equal names to the k-th).
    ``sha256`` (a ``hashlib`` object, None for none) is fed the layer file's bytes as they
    are read, so the caller need not read the file again to hash it.
    """
    f, s = _stream(layer_info, "layer information", "engine information", sha256)
    with f:
        inspection = inspection_from_json_stream(s, optimization_profile, onnx_nodes)
    if profile is None:
        return Inspection("trtexec", inspection.layers, inspection.io, inspection.memory,
                          inspection.optimization_profile, inspection.profile_count)
    f, s = _stream(profile, "trtexec profile", "trtexec profile")
    enabled = gc.isenabled()
    gc.disable()  # as in inspection_from_json_stream
    try:
        with f:
            _join_profile(inspection.layers, s, layer_info.name)
    finally:
        if enabled:
            gc.enable()
    return Inspection("trtexec", inspection.layers, inspection.io, inspection.memory,
                      inspection.optimization_profile, inspection.profile_count)


def _join_profile(layers: Sequence[Layer], s: JsonStream, layer_file: str) -> None:
    """Set each layer's time from the profile records streamed from ``s``.

    trtexec lists the records in the layers' order, so they are read only as far as the
    next layer needs: records passed over wait in per-name queues, and in the usual case none
    wait at all. Then the rest is read too, so every record is checked.
    """
    path = s.path
    _require_list(s, "the trtexec profile", "--exportProfile")

    def too_many() -> str:
        return (f"the trtexec profile lists over {limits.MAX_LAYERS:,} layers; trtdoc reads at "
                f"most {limits.MAX_LAYERS:,}")

    records = s.items(limits.MAX_LAYERS + 1, too_many)  # the first record is {"count": N}
    waiting: dict[str, deque[tuple[float, float, float | None]]] = defaultdict(deque)
    timed = 0
    inferences = False  # records of --exportTimes, which were given in the wrong place

    def next_timed() -> tuple[str, float, float, float | None] | None:
        nonlocal timed, inferences
        for rec in records:
            inferences = inferences or (isinstance(rec, Mapping) and "latencyMs" in rec)
            if isinstance(rec, Mapping) and "name" in rec:
                try:
                    avg, pct = float(rec["averageMs"]), float(rec["percentage"])
                    if not (math.isfinite(avg) and math.isfinite(pct)):
                        raise ValueError
                except (KeyError, TypeError, ValueError):
                    raise InspectError(f"profile record {rec.get('name')!r} lacks a numeric "
                                       "averageMs or percentage", source=path) from None
                timed += 1
                return str(rec["name"]), avg, pct, _median(rec)
        return None

    matched = 0
    done = False
    for layer in layers:
        queue = waiting.get(layer.name)
        found = queue.popleft() if queue else None
        while found is None and not done:
            rec = next_timed()
            if rec is None:
                done = True
            elif rec[0] == layer.name:
                found = rec[1:]
            else:
                waiting[rec[0]].append(rec[1:])
        if found is not None:
            matched += 1
            # The layers were made by this parse a moment ago and are not shared yet.
            object.__setattr__(layer, "time_ms", found[0])
            object.__setattr__(layer, "time_pct", found[1])
            object.__setattr__(layer, "median_ms", found[2])
    while next_timed() is not None:
        pass
    s.end()
    if timed == 0:
        hint = ("; this is a trtexec --exportTimes file: give it as --times"
                if inferences else "")
        raise InspectError(f"the trtexec profile has no layer records{hint}", source=path)
    if matched == 0:
        raise InspectError(
            f"none of the {timed} timed layers in the profile is a layer of {layer_file}; "
            "export both files from the same trtexec run", source=path)


def latency_from_trtexec_times(path: Path) -> Latency:
    """The latency summary of ``trtexec --exportTimes``: a JSON list with one record per
    inference (``startEnqMs``, ..., ``computeMs``, ``latencyMs``), of which ``latencyMs`` is
    summarised. Read as a stream within ``limits.MAX_EXPORT_BYTES`` and
    ``limits.MAX_INFERENCES``; the values are kept as 8-byte floats, not as records."""
    from array import array

    f, s = _stream(path, "trtexec times file", "trtexec times file")
    with f:
        _require_list(s, "the trtexec times file", "--exportTimes")

        def too_many() -> str:
            return (f"the trtexec times file lists over {limits.MAX_INFERENCES:,} inferences; "
                    f"trtdoc reads at most {limits.MAX_INFERENCES:,}")

        values = array("d")
        for n, rec in enumerate(s.items(limits.MAX_INFERENCES, too_many), start=1):
            value = rec.get("latencyMs") if isinstance(rec, Mapping) else None
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value < 0):
                hint = ("; this is a --exportProfile file: give it as --profile"
                        if n == 1 and isinstance(rec, Mapping) and "count" in rec else "")
                raise InspectError(f"inference record {n:,} has no latencyMs that is a "
                                   f"number ≥ 0{hint}", source=path)
            values.append(float(value))
        s.end()
    if not values:
        raise InspectError("the trtexec times file lists no inference; export it with trtexec "
                           "--exportTimes=<file> from a run that timed at least one", source=path)
    return latency_from_values(values)


def _median(rec: Mapping[str, Any]) -> float | None:
    """A record's medianMs, or None where it has none (older trtexec) or it is not a finite
    number: the average alone still makes the layer's time."""
    value = rec.get("medianMs")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _require_list(s: JsonStream, what: str, flag: str) -> None:
    """Refuse a profile or times file whose top level is not a JSON list, saying where a
    layer-information file (an object with "Layers") goes instead."""
    if s.peek() == "[":
        return
    data = s.value()
    s.end()
    hint = (" (a --exportLayerInfo file is the import's first argument)"
            if isinstance(data, Mapping) and "Layers" in data else "")
    raise InspectError(f"{what} is not a JSON list; export it with trtexec {flag}=<file>{hint}",
                       source=s.path)

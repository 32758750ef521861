"""Where each engine runs: engines × GPU architectures, each cell with its reason.

The facts about runtimes live in ``data.py`` (each row cites its source); this module
only applies them to records. Three things decide a cell:

1. Does the runtime that built the engine support the architecture at all? (TensorRT-RTX has
   no Hopper support, so no RTX engine runs on sm90.)
2. Was the engine compiled for it? TensorRT-RTX engines carry their compute capabilities in
   the header; full TensorRT engines run on the GPU they were built on unless built with a
   hardware-compatibility level.
3. Where a record cannot say (an imported engine whose build GPU is not recorded), the cell
   says "unknown" and why, instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trtdoc.compat.data import (
    ARCHITECTURES,
    HARDWARE_COMPAT_URL,
    RTX_TARGETS_URL,
    RUNTIMES,
    TENSORRT_PORTABILITY_URL,
    Runtime,
)
from trtdoc.record import EngineRecord

YES = "✓"
NO = "✗"
UNKNOWN = "?"


@dataclass(frozen=True)
class Cell:
    """One engine on one architecture."""

    arch: str
    status: str  # YES | NO | UNKNOWN
    reason: str

    @property
    def text(self) -> str:
        return f"{self.status} {self.reason}"


@dataclass(frozen=True)
class EngineCompat:
    """One row of the matrix: an engine, the runtime it needs, and a cell per architecture."""

    engine: str
    runtime: str  # "TensorRT-RTX 1.7.1.116"
    runtime_row: Runtime | None
    compiled_for: tuple[str, ...]
    compiled_source: str  # where compiled_for came from, in words
    other_versions: str  # which other runtime versions can load it
    cells: tuple[Cell, ...]


def _version_key(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def runtime_for(backend: str, version: str) -> Runtime | None:
    """The data row that best matches ``backend`` at ``version`` (longest version prefix)."""
    want = _version_key(version)
    best: Runtime | None = None
    best_len = 0
    for row in RUNTIMES:
        if row.backend != backend:
            continue
        key = _version_key(row.version)
        if key and want[: len(key)] == key and len(key) > best_len:
            best, best_len = row, len(key)
    return best


def _display(backend: str) -> str:
    return "TensorRT-RTX" if backend == "tensorrt-rtx" else "TensorRT"


def _setting(record: EngineRecord, key: str) -> object:
    for s in record.settings:
        if s.key == key:
            return s.effective
    return None


def compiled_targets(record: EngineRecord) -> tuple[tuple[str, ...], str]:
    """The compute capabilities an RTX engine was compiled for, and where that is known from.

    The engine header is authoritative; the builder's read-back settings come next; an empty
    list means the builder's default targets.
    """
    if record.header is not None and record.header.compute_capabilities:
        return tuple(record.header.compute_capabilities), "engine header"
    targets = _setting(record, "targets")
    if isinstance(targets, (list, tuple)) and targets:
        return tuple(str(t) for t in targets), "builder settings"
    spec_targets = record.spec.get("targets") if record.spec else None
    if spec_targets:
        return tuple(str(t) for t in spec_targets), "spec"
    return (), "default targets"


def _rtx_cells(record: EngineRecord, row: Runtime | None) -> tuple[tuple[str, ...], str,
                                                                   tuple[Cell, ...]]:
    targets, source = compiled_targets(record)
    defaulted = not targets
    if defaulted and row is not None:
        targets = row.default_targets
    cells = []
    for arch in ARCHITECTURES:
        if row is not None and row.architectures is not None \
                and arch.key not in row.architectures:
            cells.append(Cell(arch.key, NO,
                              f"{_display(row.backend)} has no {arch.family} {arch.key} support"))
        elif arch.key in targets:
            how = " (default targets)" if defaulted else ""
            cells.append(Cell(arch.key, YES, f"compiled for {arch.key}{how}"))
        elif defaulted and row is None:
            cells.append(Cell(arch.key, UNKNOWN, "default targets of this version not known"))
        else:
            cells.append(Cell(arch.key, NO, "not among the targets"))
    return targets, source if not defaulted else "default targets", tuple(cells)


def _trt_cells(record: EngineRecord, row: Runtime | None) -> tuple[str, tuple[Cell, ...]]:
    level = _setting(record, "hardware_compatibility")
    if level is None and record.spec:
        level = record.spec.get("hardware_compatibility")
    cells = []
    for arch in ARCHITECTURES:
        supported = row is not None and row.architectures is not None
        if supported and row is not None and row.architectures is not None \
                and arch.key not in row.architectures:
            cells.append(Cell(arch.key, NO, f"{row.display} does not list {arch.family}"))
        elif level == "ampere+":
            if arch.key == "sm75":
                cells.append(Cell(arch.key, NO, "ampere+ starts at Ampere"))
            else:
                cells.append(Cell(arch.key, YES if supported else UNKNOWN,
                                  "hardware compatibility ampere+" if supported else
                                  "ampere+, but this version's GPUs are not known"))
        else:
            cells.append(Cell(arch.key, UNKNOWN, "build GPU not recorded"))
    how = ("hardware compatibility ampere+" if level == "ampere+"
           else "the build GPU (not recorded)")
    return how, tuple(cells)


def _other_versions(record: EngineRecord) -> str:
    if record.backend == "tensorrt-rtx":
        return "unknown: the TensorRT-RTX sources cited here do not say"
    if _setting(record, "version_compatible") or (record.spec or {}).get("version_compatible"):
        return "later versions of the same major (version-compatible engine)"
    return "the same TensorRT version only (engines are not version-compatible by default)"


def engine_compat(record: EngineRecord) -> EngineCompat:
    """The compatibility row of one record."""
    row = runtime_for(record.backend, record.backend_version)
    runtime = f"{_display(record.backend)} {record.backend_version}"
    if record.backend == "tensorrt-rtx":
        targets, source, cells = _rtx_cells(record, row)
        return EngineCompat(record.name, runtime, row, targets, source,
                            _other_versions(record), cells)
    how, cells = _trt_cells(record, row)
    return EngineCompat(record.name, runtime, row, (), how, _other_versions(record), cells)


def compat_matrix(records: Iterable[EngineRecord]) -> tuple[EngineCompat, ...]:
    """One row per record, sorted by engine name."""
    return tuple(engine_compat(r) for r in sorted(records, key=lambda r: r.name))


def used_runtimes(rows: Sequence[EngineCompat]) -> tuple[Runtime, ...]:
    """The data rows the matrix relied on, in data order."""
    used = {id(r.runtime_row) for r in rows if r.runtime_row is not None}
    return tuple(r for r in RUNTIMES if id(r) in used)


PORTABILITY_SOURCES = (
    ("TensorRT engines without hardware compatibility run only on the GPU architecture they "
     "were built on", TENSORRT_PORTABILITY_URL),
    ("TensorRT hardware compatibility and version compatibility", HARDWARE_COMPAT_URL),
    ("TensorRT-RTX compute-capability targets", RTX_TARGETS_URL),
)

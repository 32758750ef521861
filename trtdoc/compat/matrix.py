"""Where each engine runs: engines × GPU architectures, each cell with its reason.

The facts about runtimes live in ``data.py`` (each row cites its source); a cell is the
deployment rules of ``verdicts.py`` that concern the GPU, for a target running the release that
built the engine. Three things decide a cell:

1. Does the runtime that built the engine support the architecture at all? (TensorRT-RTX has
   no Hopper support, so no RTX engine runs on sm90.)
2. Was the engine compiled for it? TensorRT-RTX engines carry their compute capabilities in
   the header; full TensorRT engines run on the GPU they were built on unless built with a
   hardware-compatibility level.
3. Where a record cannot say (an imported engine whose build GPU is not recorded), the cell
   says "unknown" and why, instead of guessing. An import made with ``--gpu`` is known to run
   on that GPU's architecture, where trtexec ran it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trtdoc.compat.data import (
    ARCHITECTURES,
    HARDWARE_COMPAT_URL,
    RTX_TARGETS_URL,
    RUNTIMES,
    TENSORRT_PORTABILITY_URL,
    Architecture,
    Runtime,
    version_parts,
)
from trtdoc.compat.deploy import Runtime as DeployRuntime
from trtdoc.compat.deploy import Target
from trtdoc.compat.gpus import find_gpu
from trtdoc.compat.verdicts import (
    Plan,
    check_architecture,
    check_hardware,
    check_targets,
    other_releases,
)
from trtdoc.record.types import EngineRecord
from trtdoc.spec.section import SpecSection

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


def runtime_for(backend: str, version: str) -> Runtime | None:
    """The data row that best matches ``backend`` at ``version`` (longest version prefix)."""
    want = version_parts(version)
    best: Runtime | None = None
    best_len = 0
    for row in RUNTIMES:
        if row.backend != backend:
            continue
        key = version_parts(row.version)
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
    spec_targets = record.spec.targets if isinstance(record.spec, SpecSection) else ()
    if spec_targets:
        return spec_targets, "spec"
    return (), "default targets"


def _cell(plan: Plan, arch: Architecture) -> Cell:
    """One engine on one architecture, by the deployment rules that concern the GPU (the
    runtime is the release that built the plan; drivers are a deployment's question)."""
    target = Target(arch.key, find_gpu(arch.key), DeployRuntime(plan.flavour, plan.version))
    row = runtime_for(plan.flavour, plan.version)
    defaulted = (plan.flavour == "tensorrt-rtx" and not plan.compute_capabilities
                 and row is not None and bool(row.default_targets))
    if defaulted and row is not None:  # no header and no targets: the release's defaults
        plan = dataclasses.replace(plan, compute_capabilities=row.default_targets)
    checks = [c for check in (check_architecture, check_targets, check_hardware)
              if (c := check(plan, target)) is not None]
    if defaulted:
        checks = [dataclasses.replace(c, reason=c.reason + " (default targets)")
                  if c.rule == "rtx-targets" else c for c in checks]
    for outcome, status in (("fails", NO), ("unknown", UNKNOWN)):
        deciding = [c for c in checks if c.outcome == outcome]
        if deciding:
            return Cell(arch.key, status, deciding[0].reason)
    best = next((c for c in checks if c.rule in ("rtx-targets", "hardware-compatibility")),
                checks[0])
    return Cell(arch.key, YES, best.reason)


def engine_compat(record: EngineRecord) -> EngineCompat:
    """The compatibility row of one record: a cell per architecture, from the same rules as
    ``trtdoc compat --deploy``."""
    row = runtime_for(record.backend, record.backend_version)
    runtime = f"{_display(record.backend)} {record.backend_version}"
    plan = Plan.from_record(record)
    cells = tuple(_cell(plan, arch) for arch in ARCHITECTURES)
    if record.backend == "tensorrt-rtx":
        targets, source = compiled_targets(record)
        if not targets and row is not None:
            targets, source = row.default_targets, "default targets"
        return EngineCompat(record.name, runtime, row, targets, source,
                            other_releases(plan), cells)
    level = _setting(record, "hardware_compatibility")
    if level is None and isinstance(record.spec, SpecSection):
        level = record.spec.hardware_compatibility
    ran = record.profiled
    how = ("hardware compatibility ampere+" if level == "ampere+"
           else f"the build GPU ({record.host.compute_capability})"
           if record.host.compute_capability
           else f"{ran.gpu or 'a GPU'} ({ran.compute_capability}), where trtexec ran it; "
           "others not recorded" if ran is not None and ran.compute_capability
           else "the build GPU (not recorded)")
    return EngineCompat(record.name, runtime, row, (), how, other_releases(plan), cells)


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

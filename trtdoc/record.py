"""Build records: one schema-versioned JSON file per engine, the seam between build and pages.

A record holds everything a page shows, so pages re-render without rebuilding and without a
GPU. ``record_from_dict`` accepts only the schema version it knows; the JSON Schema shipped at
``trtdoc/schema/record.schema.json`` describes the file for other tools.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trtdoc.builder_config import Applied, Setting
from trtdoc.errors import RecordError
from trtdoc.header import EngineFacts
from trtdoc.inspect import Inspection
from trtdoc.model import ModelFacts

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "record.schema.json"


@dataclass(frozen=True)
class NotRun:
    """Something a page would show that did not run, and why."""

    what: str
    reason: str


@dataclass(frozen=True)
class ModelFile:
    """One file of the model (the .onnx file, then each external-data file)."""

    path: str  # relative to the project root
    bytes: int
    sha256: str  # what `sha256sum` prints


@dataclass(frozen=True)
class Host:
    os: str
    python: str
    cpu: str
    cpu_count: int
    gpu: str | None
    driver: str | None

    @classmethod
    def current(cls) -> Host:
        from trtdoc.backends.cuda import cuda_device_status

        has_gpu, _ = cuda_device_status()
        return cls(
            os=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
            cpu=_cpu_name(),
            cpu_count=os.cpu_count() or 0,
            gpu="present" if has_gpu else None,
            driver=None,
        )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True)
class EngineRecord:
    """Everything known about one built (or imported) engine."""

    name: str
    build_key: str
    spec: Mapping[str, Any]
    spec_hash: str
    model_path: str
    model_sha256: str
    model: ModelFacts | None
    backend: str
    backend_version: str
    backend_reason: str
    host: Host
    settings: tuple[Setting, ...]
    build_seconds: float | None
    engine_path: str | None
    engine_bytes: int | None
    engine_sha256: str | None
    header: EngineFacts | None
    inspection: Inspection
    precision: Mapping[str, Any] | None = None
    accuracy: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    not_run: tuple[NotRun, ...] = ()
    trtdoc_version: str = ""
    schema_version: int = SCHEMA_VERSION
    # The builder calls that made the engine, in order: the one source of the reproduce
    # snippet and command line.
    applied: tuple[Applied, ...] = ()
    model_files: tuple[ModelFile, ...] = ()

    def with_spec(self, spec: Mapping[str, Any]) -> EngineRecord:
        """The same build with refreshed documentation fields (description, owner, tags)."""
        return replace(self, spec=MappingProxyType(dict(spec)))


def record_to_dict(record: EngineRecord) -> dict[str, Any]:
    """JSON-ready data with a fixed key order."""
    return {
        "schema_version": record.schema_version,
        "trtdoc_version": record.trtdoc_version,
        "name": record.name,
        "build_key": record.build_key,
        "spec_hash": record.spec_hash,
        "spec": dict(record.spec),
        "model": {
            "path": record.model_path,
            "sha256": record.model_sha256,
            "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256}
                      for f in record.model_files],
            "facts": record.model.to_dict() if record.model else None,
        },
        "backend": {"name": record.backend, "version": record.backend_version,
                    "reason": record.backend_reason},
        "host": {"os": record.host.os, "python": record.host.python, "cpu": record.host.cpu,
                 "cpu_count": record.host.cpu_count, "gpu": record.host.gpu,
                 "driver": record.host.driver},
        "settings": [s.to_dict() for s in record.settings],
        "applied": [a.to_dict() for a in record.applied],
        "build_seconds": record.build_seconds,
        "engine": {
            "path": record.engine_path,
            "bytes": record.engine_bytes,
            "sha256": record.engine_sha256,
            "header": record.header.to_dict() if record.header else None,
        },
        "precision": dict(record.precision) if record.precision else None,
        "accuracy": dict(record.accuracy) if record.accuracy else None,
        "inspection": record.inspection.to_dict(),
        "warnings": list(record.warnings),
        "not_run": [{"what": n.what, "reason": n.reason} for n in record.not_run],
    }


def record_from_dict(d: Mapping[str, Any], *, path: Path | None = None) -> EngineRecord:
    """Rebuild a record; a wrong schema version or a missing key is a :class:`RecordError`."""
    version = d.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RecordError(
            f"schema_version {version!r} is not {SCHEMA_VERSION}; rebuild it with "
            "`trtdoc build --force`", path=path)
    try:
        host = d["host"]
        engine = d["engine"]
        return EngineRecord(
            schema_version=version,
            trtdoc_version=d.get("trtdoc_version", ""),
            name=d["name"],
            build_key=d["build_key"],
            spec_hash=d["spec_hash"],
            spec=MappingProxyType(dict(d["spec"])),
            model_path=d["model"]["path"],
            model_sha256=d["model"]["sha256"],
            model=ModelFacts.from_dict(d["model"]["facts"]) if d["model"]["facts"] else None,
            backend=d["backend"]["name"],
            backend_version=d["backend"]["version"],
            backend_reason=d["backend"]["reason"],
            host=Host(host["os"], host["python"], host["cpu"], host["cpu_count"], host["gpu"],
                      host["driver"]),
            settings=tuple(Setting.from_dict(s) for s in d["settings"]),
            applied=tuple(Applied.from_dict(a) for a in d.get("applied", ())),
            model_files=tuple(ModelFile(f["path"], int(f["bytes"]), f["sha256"])
                              for f in d["model"].get("files", ())),
            build_seconds=d["build_seconds"],
            engine_path=engine["path"],
            engine_bytes=engine["bytes"],
            engine_sha256=engine["sha256"],
            header=EngineFacts.from_dict(engine["header"]) if engine["header"] else None,
            precision=MappingProxyType(d["precision"]) if d.get("precision") else None,
            accuracy=MappingProxyType(d["accuracy"]) if d.get("accuracy") else None,
            inspection=Inspection.from_dict(d["inspection"]),
            warnings=tuple(d["warnings"]),
            not_run=tuple(NotRun(n["what"], n["reason"]) for n in d["not_run"]),
        )
    except KeyError as exc:
        raise RecordError(f"malformed record (missing key {exc}); rebuild it with "
                          "`trtdoc build --force`", path=path) from exc
    except (TypeError, ValueError) as exc:
        raise RecordError(f"malformed record ({exc}); rebuild it with `trtdoc build --force`",
                          path=path) from exc


def dumps(record: EngineRecord) -> str:
    """The record as the exact text written to disk (sorted-stable, ``\\n`` endings)."""
    return json.dumps(record_to_dict(record), indent=1, ensure_ascii=False) + "\n"


def read_record(path: Path) -> EngineRecord:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"cannot read record ({exc})", path=path) from exc
    return record_from_dict(data, path=path)


def read_records(folder: Path) -> list[EngineRecord]:
    """Every record in ``folder``, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted((read_record(p) for p in folder.glob("*.json")), key=lambda r: r.name)


def read_gates(folder: Path) -> dict[str, Mapping[str, Any]]:
    """The latest failed accuracy gate of each engine (``records/.gates/<name>.json``).

    A gate file that cannot be read is left out: the page then shows the last good build alone.
    """
    gates: dict[str, Mapping[str, Any]] = {}
    gate_dir = folder / ".gates"
    if not gate_dir.is_dir():
        return gates
    for path in sorted(gate_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (isinstance(data, dict) and isinstance(data.get("name"), str)
                and isinstance(data.get("violations"), list)
                and isinstance(data.get("accuracy"), dict)):
            gates[data["name"]] = data
    return gates


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write via a temporary file in the same folder and rename, so a kill leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are shared build products
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> int:
    """Delete leftovers of writes killed mid-way (only call while holding the build lock)."""
    if not folder.is_dir():
        return 0
    stale = list(folder.glob(".*.tmp"))
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def python_version() -> str:
    return sys.version.split()[0]

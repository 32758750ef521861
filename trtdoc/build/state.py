"""What the records folder says about one engine now: its record's state, the record a build
would replace, whether that record names its engine as a build does, and the spec as stored."""

from __future__ import annotations

import os
from pathlib import Path

from trtdoc.build.store import SHA256
from trtdoc.errors import FutureRecordError, RecordError, display_path, os_error_message
from trtdoc.paths import OutputPaths
from trtdoc.project import project_root
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord
from trtdoc.spec.section import SpecSection, spec_section_from_spec
from trtdoc.spec.types import EngineSpec


def spec_view(spec: EngineSpec, paths: OutputPaths) -> SpecSection:
    """``spec`` as a record stores it: paths relative to the project root."""
    return spec_section_from_spec(spec, project_root(spec.source, paths.records))


def previous_record(paths: OutputPaths, name: str) -> EngineRecord | None:
    """``name``'s current record, if it can be read and is this engine's; else None."""
    p = paths.record(name)
    if not p.is_file():
        return None
    try:
        record = read_record(p)
    except RecordError:
        return None  # an unreadable record is rebuilt, not trusted
    # A record under another engine's file name (hand-edited) is not this engine's either.
    return record if record.name == name else None


def names_its_engine(record: EngineRecord, paths: OutputPaths, spec_source: Path) -> bool:
    """Whether a built record names its engine as a build does: the stored file of its sha256
    (a hand-edited ``engine.path`` to anything else is not trusted). The path is relative to
    the project root; of the spec's, or of the folder holding the records."""
    sha = record.engine_sha256 or ""
    if not SHA256.fullmatch(sha) or not record.engine_path:
        return False
    stored = os.path.realpath(paths.engine_file(sha))
    roots = {project_root(spec_source, paths.records),
             project_root(paths.records / "_", paths.records)}
    return any(os.path.realpath(root / record.engine_path) == stored for root in roots)


def record_state(paths: OutputPaths, name: str) -> tuple[str, str]:
    """``(state, why)`` of ``name``'s record: ``missing``, ``ok``, ``newer`` (written by a newer
    trtdoc) or ``unreadable`` (damaged, edited, not a regular file). Never blocks: a FIFO is
    not opened for reading, and a symbolic link is not followed."""
    path = paths.record(name)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing", ""
    except OSError as exc:
        return "unreadable", os_error_message(exc, paths.records, "read")
    import stat

    if not stat.S_ISREG(st.st_mode):
        return "unreadable", f"{display_path(path)}: not a regular file, so not a record"
    try:
        read_record(path)
    except FutureRecordError as exc:
        return "newer", str(exc)
    except RecordError as exc:
        return "unreadable", str(exc)
    return "ok", ""

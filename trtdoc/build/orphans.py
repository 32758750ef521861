"""Orphans: records whose spec file no longer defines them. A build removes them (a copy goes to
history, so their pages go too); ``build --check`` lists them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from trtdoc.build.outcome import Outcome
from trtdoc.errors import RecordError, SpecError, display_path, os_error_message
from trtdoc.paths import OutputPaths
from trtdoc.project import project_root
from trtdoc.record.files import read_record, write_atomic
from trtdoc.spec.load import LoadedSpec
from trtdoc.spec.section import SpecSection


def remove_orphans(spec_paths: Sequence[Path], good: Sequence[LoadedSpec],
                   spec_errors: Sequence[SpecError], paths: OutputPaths) -> list[Outcome]:
    """Remove the records whose spec file under ``spec_paths`` no longer defines them."""
    from trtdoc.diff.history import history_path

    out: list[Outcome] = []
    for name, source in orphans(spec_paths, good, spec_errors, paths):
        record = paths.record(name)
        try:
            try:
                sha = read_record(record).engine_sha256 or ""
            except RecordError:
                continue  # changed since orphans() read it: leave it for the next build
            write_atomic(history_path(paths.records, name), record.read_bytes())
            record.unlink()
            paths.gate(name).unlink(missing_ok=True)
            paths.engine(name).unlink(missing_ok=True)
        except OSError as exc:
            out.append(Outcome(name, "failed", 0.0, f"{display_path(record)}: its spec is gone, "
                               f"but {os_error_message(exc, paths.records, 'remove it')}"))
            continue
        out.append(Outcome(name, "removed", 0.0, f"{source} no longer defines it; the record "
                           "went to records/.history/ and its page is removed",
                           released=(sha,)))
    return out


def orphans(spec_paths: Sequence[Path], good: Sequence[LoadedSpec],
            spec_errors: Sequence[SpecError], paths: OutputPaths) -> list[tuple[str, str]]:
    """``(name, spec file)`` of each built record whose spec file lies under ``spec_paths`` but
    no longer defines it: the file is gone, or it checks and names other engines. A spec file
    with errors keeps its records (its engines may only be mistyped)."""
    if not paths.records.is_dir():
        return []
    root = project_root(paths.records / "_", paths.records)
    given = [Path(os.path.realpath(p)) for p in spec_paths]
    defined: dict[Path, set[str]] = {}
    for item in good:
        defined.setdefault(Path(os.path.realpath(item.spec.source)), set()).add(item.spec.name)
    broken = {Path(os.path.realpath(e.path)) for e in spec_errors}
    found = []
    for path in sorted(paths.records.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError:
            continue
        if not isinstance(record.spec, SpecSection) or record.name != path.stem:
            continue  # imported, or not ours to judge
        source = record.spec.source
        spec_file = Path(os.path.realpath(root / source))
        if not any(spec_file == g or g in spec_file.parents for g in given):
            continue
        if spec_file in broken:
            continue
        if spec_file.exists() and record.name in defined.get(spec_file, set()):
            continue
        if spec_file.exists() and spec_file not in defined:
            continue  # a file the walk did not take as a spec: leave it to the user
        found.append((record.name, source))
    return found

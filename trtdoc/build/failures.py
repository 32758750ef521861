"""Failures that stay visible until they are fixed: ``records/.failed/<name>.json`` for each
spec that failed at check, conversion, accuracy or build, written when it fails and removed
when that spec builds again or is gone (the summary table and the engine index read them)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from trtdoc.build.outcome import Outcome
from trtdoc.errors import SpecError
from trtdoc.paths import OutputPaths
from trtdoc.project import project_path, project_root
from trtdoc.record.files import write_atomic
from trtdoc.record.types import FailedBuild
from trtdoc.typed import encode

# A top-level ``name:`` line with a name that is safe as a file name. The file is not parsed
# again: it is untrusted, and it just failed the check (which bounds YAML aliases and depth).
_NAME_LINE = re.compile(r"^name:[ \t]*([A-Za-z0-9_][A-Za-z0-9._-]{0,127})[ \t]*(?:#.*)?$", re.M)
_VARIANTS_LINE = re.compile(r"^variants:", re.M)
_MAX_SCAN = 1024 * 1024  # spec files are refused past 1 MiB anyway


def check_failure_name(path: Path) -> str:
    """The name a spec refused at check time goes by: its plain top-level ``name:`` when the
    file has one and no variants, else its file name (without ``.yaml``)."""
    try:
        if path.is_file() and path.stat().st_size <= _MAX_SCAN:  # never a FIFO
            text = path.read_text(encoding="utf-8", errors="replace")
            names = _NAME_LINE.findall(text)
            if len(names) == 1 and not _VARIANTS_LINE.search(text):
                return str(names[0])
    except OSError:
        pass
    return path.stem


def refused_at_check(spec_errors: Sequence[SpecError]
                     ) -> list[tuple[str, Path, list[SpecError]]]:
    """``(name, spec file, its errors)`` of each spec file refused at check time, by file."""
    by_file: dict[Path, list[SpecError]] = {}
    for e in spec_errors:
        if e.path.suffix in (".yaml", ".yml") and e.path.name != "_defaults.yaml":
            by_file.setdefault(e.path, []).append(e)
    return [(check_failure_name(p), p, errors) for p, errors in sorted(by_file.items())]


def failures_from_run(outcomes: Iterable[Outcome], spec_errors: Sequence[SpecError],
                      paths: OutputPaths) -> dict[str, FailedBuild]:
    """This run's failures by name: each spec refused at check (its errors joined, one line)
    and each engine that failed at a stage."""
    out: dict[str, FailedBuild] = {}
    for name, path, errors in refused_at_check(spec_errors):
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        out[name] = FailedBuild(name=name, stage="check", reason=str(errors[0]) + more,
                                spec_path=_relative(path, paths))
    for o in outcomes:
        if o.status == "failed" and o.stage:
            out[o.name] = FailedBuild(
                name=o.name, stage=o.stage, reason=o.message,
                spec_path=_relative(o.spec_path, paths) if o.spec_path else "",
                accuracy=o.figures)
    return out


def record_failures(outcomes: Sequence[Outcome], spec_errors: Sequence[SpecError],
                    paths: OutputPaths, *, whole_run: bool) -> None:
    """Write this run's failures and remove those fixed: every engine that built or is up to
    date, and (``whole_run``: no ``--only``) every failure this run no longer has."""
    current = failures_from_run(outcomes, spec_errors, paths)
    settled = {o.name for o in outcomes if o.status != "failed"} - set(current)
    folder = paths.failed("x").parent
    if whole_run and folder.is_dir():
        settled |= {p.stem for p in folder.glob("*.json")} - set(current)
    # Best effort: each failure was printed already, and a full disk must not hide that line.
    for name in sorted(settled):
        with contextlib.suppress(OSError):
            paths.failed(name).unlink(missing_ok=True)
    for name, failure in sorted(current.items()):
        with contextlib.suppress(OSError):
            write_atomic(paths.failed(name),
                         json.dumps(encode(failure), indent=1, sort_keys=True) + "\n")


def _relative(path: Path, paths: OutputPaths) -> str:
    return project_path(path, project_root(path, paths.records))

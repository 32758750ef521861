"""``build --check``: which records a build would change (specs, models, backend or converter
changed, records unreadable or naming another engine file, specs gone), without building."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from trtdoc.build.orphans import orphans
from trtdoc.build.outcome import Outcome, RunResult
from trtdoc.build.plan import failed_outcome, plan_build, select_specs
from trtdoc.build.state import names_its_engine, record_state, spec_view
from trtdoc.errors import RecordError, TrtdocError, os_error_message
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord
from trtdoc.spec.section import changed_fields


def check_records(spec_paths: Sequence[Path], paths: OutputPaths,
                  only: Sequence[str] = ()) -> RunResult:
    """What ``build --check`` reports: records whose specs, models, backend or converter
    changed, records that cannot be read or name another engine file, and records whose
    spec is gone.

    Nothing is built, so this runs in CI without a GPU and in seconds. An engine whose backend
    is not installed here fails alone, with its reason; the others are still checked.
    """
    selection = select_specs(spec_paths, only)
    every, good, spec_errors = selection.every, selection.chosen, selection.spec_errors
    outcomes: list[Outcome] = list(selection.outcomes)
    changed: list[Path] = []
    rebuilt: list[str] = []
    replaced: dict[str, EngineRecord | None] = {}
    for item in good:
        name = item.spec.name
        state, why = record_state(paths, name)
        if state == "newer":
            outcomes.append(failed_outcome(item, why))
            continue
        try:
            plan = plan_build(item, paths)
        except TrtdocError as exc:
            outcomes.append(failed_outcome(item, f"cannot check this engine here: {exc}"))
            continue
        except OSError as exc:
            outcomes.append(failed_outcome(item, os_error_message(
                exc, Path(exc.filename or paths.records).parent, "read")))
            continue
        prev = plan.previous
        view = spec_view(item.spec, paths)
        if prev is None:
            why = "no record yet" if state == "missing" else f"the record cannot be read ({why})"
        elif prev.build_key != plan.key:
            why = "settings, model, backend or converter changed"
        elif not names_its_engine(prev, paths, item.spec.source):
            why = "the record names another engine file than its sha256's"
        elif prev.spec != view:
            why = ", ".join(changed_fields(prev.spec, view)) + " changed"
            replaced[name] = prev.with_spec(view)
            changed.append(paths.record(name))
            outcomes.append(Outcome(name, "stale", 0.0, f"record out of date: {why}",
                                    item.spec.source))
            continue
        else:
            outcomes.append(Outcome(name, "up-to-date", 0.0, "", item.spec.source))
            continue
        changed.append(paths.record(name))
        rebuilt.append(name)
        outcomes.append(Outcome(name, "stale", 0.0, f"record out of date: {why}",
                                item.spec.source))
    for name, source in orphans(spec_paths, every, spec_errors, paths) if not only else ():
        changed.append(paths.record(name))
        replaced[name] = None
        outcomes.append(Outcome(name, "stale", 0.0, f"{source} no longer defines it: the record "
                                "and its page would be removed"))
    expected = []
    for path in sorted(paths.records.glob("*.json")) if paths.records.is_dir() else ():
        if path.stem in replaced:
            kept = replaced[path.stem]
            if kept is not None:
                expected.append(kept)
            continue
        with contextlib.suppress(RecordError):
            expected.append(read_record(path))
    return RunResult(tuple(outcomes), tuple(spec_errors), tuple(changed),
                     expected=tuple(expected), rebuilt=tuple(rebuilt))

"""Publishing one made engine. The record is the commit point: the engine is already in the
store under its sha256, the replaced record goes to history, then the record is replaced; the
build log and the engine's named link follow, and the next build repairs them if a kill came
first."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from trtdoc.build.make import Made, other_bytes
from trtdoc.build.outcome import Outcome
from trtdoc.build.store import link_engine
from trtdoc.errors import TrtdocError, os_error_message
from trtdoc.paths import OutputPaths
from trtdoc.record.files import write_atomic
from trtdoc.record.text import dumps
from trtdoc.record.types import EngineRecord
from trtdoc.spec.load import LoadedSpec

# Facts about the occasion of a build, not about the engine: a rebuild that reproduces the same
# engine keeps the first build's values.
_OCCASION_PRECISION_KEYS = ("seconds", "cache_hit")


def publish_made(item: LoadedSpec, paths: OutputPaths, result: Made, state: str,
                 previous: EngineRecord | None, started: float, stored: Sequence[str]
                 ) -> Outcome:
    """Publish ``result``, the engine made for ``item``: replace its record (unless the engine
    reproduces the record's, byte for byte, and the record says so already), then its log and
    named link. ``state`` and ``previous`` are :func:`~trtdoc.build.state.record_state` and the
    record as they were before the build; ``stored`` the engines the build stored on the way.
    """
    name = item.spec.name
    record, messages, attempts = result.record, result.messages, result.attempts
    reproduced = _as_reproduced(record, previous)
    current = paths.record(name)
    tries = f" on attempt {attempts}" if attempts > 1 else ""
    if reproduced is not None:
        # The same engine, byte for byte: the record keeps the host and timings of the build
        # that first made it, so a rebuild on a fresh clone changes no checked-in file.
        text = dumps(reproduced)
        kept = current.is_file() and current.read_text(encoding="utf-8") == text
        if not kept:
            commit_record(paths, name, text)
        sha = record.engine_sha256 or ""  # the previous record's: _as_reproduced checked it
        detail = (f"engine sha256 {sha[:12]}… equals the record's{tries}; "
                  f"record {'kept' if kept else 'refreshed'}")
        status = "reproduced"
    else:
        try:
            if state in ("newer", "unreadable"):
                _set_aside(paths, name)  # never overwritten: what this trtdoc cannot read
            _keep_previous(paths, record)
        except OSError as exc:
            raise TrtdocError(os_error_message(exc, paths.records / ".history")) from None
        commit_record(paths, name, dumps(record))
        detail = f"{record.engine_bytes:,} bytes in {record.build_seconds:.2f} s"
        if _same_engine_other_bytes(record, previous):
            detail += (f"; the recorded settings, but other bytes in {attempts} builds: "
                       "TensorRT did not serialise this engine alike, so the record now names "
                       "the new sha256")
        status = "built"
    # After the commit point: what follows only points at what the record already says.
    try:
        paths.gate(name).unlink(missing_ok=True)  # this build passed its gate
        write_log(paths.log(name), messages)
        link_engine(paths, name, record.engine_sha256 or "")
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else paths.out
        raise TrtdocError(f"the engine and its record were written, but "
                          f"{os_error_message(exc, folder)}; the next build completes it"
                          ) from None
    if result.retried_note:
        detail += f"; {result.retried_note}"
    # A previous record that names no engine (imported) releases none.
    released = ({*stored, (previous.engine_sha256 or "") if previous else ""}
                - {record.engine_sha256 or "", ""})
    return Outcome(name, status, time.perf_counter() - started, detail, item.spec.source,
                   released=tuple(sorted(released)), node_retries=result.node_retries)


def write_log(path: Path, messages: Sequence[tuple[str, str]]) -> None:
    """Write a build log: one ``[SEVERITY] message`` line per builder message."""
    write_atomic(path, "".join(f"[{sev}] {msg}\n" for sev, msg in messages))


def _set_aside(paths: OutputPaths, name: str) -> Path:
    """Move ``name``'s record, whatever it is, to ``records/.history/<name>.<n>.kept`` (the first
    free ``n``): kept for good, out of the way of the record that replaces it."""
    folder = paths.records / ".history"
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while os.path.lexists(folder / f"{name}.{n}.kept"):
        n += 1
    target = folder / f"{name}.{n}.kept"
    os.rename(paths.record(name), target)  # a rename: no byte is read, links are not followed
    return target


def commit_record(paths: OutputPaths, name: str, text: str) -> None:
    """Replace the record: the step that publishes a new engine (or leaves the last one)."""
    try:
        write_atomic(paths.record(name), text)
    except OSError as exc:
        raise TrtdocError(f"{os_error_message(exc, paths.records)}; the new engine was not "
                          "published: the last good engine, record and page were kept"
                          ) from None


def _same_engine_other_bytes(record: EngineRecord, previous: EngineRecord | None) -> bool:
    """The recorded build again (same build key) but not its bytes.

    The key covers every input of the build, so other bytes are TensorRT's own variation:
    measured here, the same spec gave other byte layouts of the same layers, sometimes a few
    bytes longer, from one process to the next.
    """
    if previous is None:
        return False
    return other_bytes(record, previous.engine_sha256, previous.build_key)


def _as_reproduced(record: EngineRecord, previous: EngineRecord | None) -> EngineRecord | None:
    """``record`` with the previous build's host and timings, if it made the same engine bytes."""
    if (previous is None or previous.engine_sha256 is None
            or previous.engine_sha256 != record.engine_sha256):
        return None
    precision = record.precision
    if precision is not None and previous.precision is not None:
        precision = dataclasses.replace(precision, **{
            k: getattr(previous.precision, k) for k in _OCCASION_PRECISION_KEYS})
    return dataclasses.replace(record, host=previous.host, build_seconds=previous.build_seconds,
                               precision=precision)


def _keep_previous(paths: OutputPaths, record: EngineRecord) -> None:
    """Keep the record being replaced, so the site can say what changed since that build."""
    from trtdoc.diff.history import history_path

    current = paths.record(record.name)
    if current.is_file():
        old = current.read_bytes()
        try:
            data = json.loads(old)
            # Other settings, or the same settings giving other engine bytes: either way the
            # page says what changed since the build it replaces.
            changed = (data.get("build_key") != record.build_key
                       or (data.get("engine") or {}).get("sha256") != record.engine_sha256)
        except (ValueError, AttributeError):
            changed = False  # a damaged record is not worth comparing against
        if changed:
            write_atomic(history_path(paths.records, record.name), old)

"""One engine, end to end: made (here, or by a Ray task) and published, with every failure
turned into this engine's failed :class:`~trtdoc.build.outcome.Outcome` (the others go on)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from trtdoc.backends import BackendChoice
from trtdoc.build.deferred import Keys
from trtdoc.build.make import Made, make_engine
from trtdoc.build.outcome import OnEvent, Outcome
from trtdoc.build.precision_step import gate_failed
from trtdoc.build.publish import publish_made, write_log
from trtdoc.build.state import previous_record, record_state
from trtdoc.errors import BuildError, GateError, TrtdocError, display_path, os_error_message
from trtdoc.paths import OutputPaths
from trtdoc.record.files import write_atomic
from trtdoc.spec.load import LoadedSpec


def build_and_publish(item: LoadedSpec, paths: OutputPaths, key: str | Keys, model_sha: str,
                      choice: BackendChoice, on_event: OnEvent | None,
                      made: Callable[[list[str]], Made] | None = None,
                      started: float | None = None) -> Outcome:
    """Build one engine and publish it; any failure is this engine's alone.

    ``key`` is the build key, or the plan's :data:`~trtdoc.build.deferred.Keys` (a
    :class:`~trtdoc.build.deferred.Failing` one fails this engine with its error).
    ``started`` is when this engine's run began (its outcome's seconds count from there).

    ``made(stored)``, when given, makes the engine instead of a local build (a Ray task's
    result, stored by the driver); it raises what that build raised.

    Publishing is ordered so that an interruption at any point leaves a record that agrees with
    the engine it names: the engine goes to the store under its sha256 (no record names it
    yet), the replaced record to history, and then the record is replaced (the commit point).
    The build log and the engine's named link follow; the next build repairs them if a kill
    came first.
    """
    started = time.perf_counter() if started is None else started
    name = item.spec.name
    stored: list[str] = []

    def failed(message: str) -> Outcome:
        # Called in the handlers below: the exception being handled says where it came from
        # (make.py marks the precision step's own failures) and carries the accuracy figures
        # measured before a later failure.
        error = sys.exc_info()[1]
        return Outcome(name, "failed", time.perf_counter() - started, message, item.spec.source,
                       released=tuple(stored),
                       stage=getattr(error, "trtdoc_stage", "build"),
                       figures=getattr(error, "trtdoc_figures", None))

    try:
        return _make_and_publish(item, paths, key, model_sha, choice, on_event, started,
                                 stored, made)
    except GateError as exc:
        try:
            return gate_failed(item, paths, exc, time.perf_counter() - started)
        except OSError as os_exc:
            return failed(f"{exc}; and {os_error_message(os_exc, paths.gate(name).parent)}")
    except BuildError as exc:
        if exc.details:
            with contextlib.suppress(OSError):  # the one line below still says what failed
                write_log(paths.failed_log(name), [("LOG", d) for d in exc.details])
        if exc.line is None and exc.setting:
            loc = item.locator.find(tuple(exc.setting.split(".")))
            exc = BuildError(exc.message, engine=exc.engine, spec_path=loc.path,
                             setting=exc.setting, line=loc.line)
        return failed(str(exc))
    except TrtdocError as exc:
        return failed(f"{display_path(item.spec.source)}: {exc}")
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else paths.out
        return failed(f"{display_path(item.spec.source)}: "
                      f"{os_error_message(exc, folder)}")
    except (MemoryError, RecursionError) as exc:
        return failed(f"{display_path(item.spec.source)}: the build ran out of "
                      f"{'memory' if isinstance(exc, MemoryError) else 'stack'}; the last good "
                      "engine, record and page were kept")
    except Exception as exc:  # noqa: BLE001 - one engine's bug must not stop the others
        return failed(_internal_error(paths, name, item.spec.source, exc))


def _internal_error(paths: OutputPaths, name: str, source: Path, exc: BaseException) -> str:
    """One line for a bug; its traceback goes to the engine's failed log, not the terminal."""
    import traceback

    log = paths.failed_log(name)
    # A bug on a Ray worker comes back with its traceback as text (tracebacks do not pickle).
    text = getattr(exc, "trtdoc_traceback", "") or "".join(traceback.format_exception(exc))
    try:
        write_atomic(log, text)
        where = f"the traceback is in {display_path(log)}"
    except OSError:
        where = "run it alone with -v to see more"
    return (f"{display_path(source)}: trtdoc failed on this engine ({type(exc).__name__}); "
            f"{where}; please report it. The last good engine, record and page were kept")


def _make_and_publish(item: LoadedSpec, paths: OutputPaths, key: str | Keys, model_sha: str,
                      choice: BackendChoice, on_event: OnEvent | None,
                      started: float, stored: list[str],
                      made: Callable[[list[str]], Made] | None = None) -> Outcome:
    name = item.spec.name
    state, _ = record_state(paths, name)
    previous = previous_record(paths, name) if state == "ok" else None
    if made is None:
        result = make_engine(item, paths, key, model_sha, choice, on_event,
                             (previous.engine_sha256, previous.build_key) if previous else None,
                             stored=stored)
    else:
        result = made(stored)
    return publish_made(item, paths, result, state, previous, started, stored)

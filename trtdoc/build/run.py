"""A whole build run, under the project lock: check the specs, decide what to build, build it
here (``--jobs``) or on a Ray cluster (``--ray``), remove orphans, collect unused engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from trtdoc.build.failures import record_failures
from trtdoc.build.orphans import remove_orphans
from trtdoc.build.outcome import OnEvent, Outcome, RunResult
from trtdoc.build.plan import Plan, decide, likely_backend, select_specs
from trtdoc.build.store import collect_engines
from trtdoc.build.workers import Workers, execute_locally
from trtdoc.lock import project_lock
from trtdoc.model import digest_cache
from trtdoc.paths import OutputPaths


@contextmanager
def build_lock(paths: OutputPaths) -> Iterator[None]:
    """Hold the project's lock on everything a build writes: the build folder and records."""
    with project_lock((paths.out, paths.records), "build"):
        yield


def build_all(spec_paths: Sequence[Path], paths: OutputPaths, *, jobs: int = 1,
              force: bool = False, only: Sequence[str] = (),
              on_event: OnEvent | None = None,
              on_published: Callable[[], None] | None = None,
              publish_last: bool = True, ray: str | None = None) -> RunResult:
    """Build every spec under ``spec_paths`` that changed (all of them with ``force``).

    With ``ray`` (a Ray cluster address, or ``auto``), each build is a task on that cluster
    (see :mod:`trtdoc.build.ray`); this process still plans, publishes and writes every record.
    No task is submitted, and the cluster is not even contacted, when nothing needs building.

    ``on_published`` is called after each engine is published (its record replaced), so the
    pages can follow the records during a long run, not only at its end; with
    ``publish_last=False`` not after the last one of a serial run (the caller renders then).

    Records of engines whose spec under ``spec_paths`` was deleted (or renamed) are removed,
    with a copy in history, so their pages go too.
    """
    selection = select_specs(spec_paths, only)
    every, good, spec_errors = selection.every, selection.chosen, selection.spec_errors
    outcomes: list[Outcome] = list(selection.outcomes)
    with build_lock(paths), digest_cache(paths.cache / "model-digests.json",
                                         trusted=not force):
        # Workers start now when --force means every engine builds (else only once planning
        # finds more than one to build: a no-op run must not pay for them).
        workers = (Workers(jobs, on_event, likely_backend(good))
                   if jobs > 1 and force and len(good) > 1 and ray is None else None)
        try:
            todo: list[Plan] = []
            for item in good:
                outcome, plan = decide(item, paths, force)
                if outcome is not None:
                    outcomes.append(outcome)
                if plan is not None:
                    todo.append(plan)
            if on_event is not None:
                on_event(("", "planned", "", 0, len(todo)))
            if ray is not None:
                from trtdoc.build.ray import execute_on_ray

                outcomes.extend(execute_on_ray(todo, paths, ray, on_event, on_published))
            else:
                if workers is None and jobs > 1 and len(todo) > 1:
                    workers = Workers(jobs, on_event, todo[0].choice.name)
                outcomes.extend(execute_locally(todo, paths, jobs, on_event, on_published,
                                                publish_last, workers))
        finally:
            if workers is not None:
                workers.close()
        if not only:
            outcomes.extend(remove_orphans(spec_paths, every, spec_errors, paths))
        collect_engines(paths, {sha for o in outcomes for sha in o.released})
        record_failures(outcomes, spec_errors, paths, whole_run=not only)
    order = {g.spec.name: i for i, g in enumerate(good)}
    outcomes.sort(key=lambda o: order.get(o.name, len(order)))
    return RunResult(tuple(outcomes), tuple(spec_errors))

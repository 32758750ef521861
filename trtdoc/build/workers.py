"""``--jobs`` builds: worker processes that die with their parent (PR_SET_PDEATHSIG), start
importing TensorRT while the parent plans, and send their progress back; and the local run of
a list of plans, in this process or on those workers. After a build failed inside TensorRT,
the next builds of that process run in a fresh one (:class:`FreshProcess`)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from trtdoc.backends import BackendChoice, import_backend
from trtdoc.build.deferred import Failing, Keys
from trtdoc.build.engine import builder_state_clean
from trtdoc.build.one_engine import build_and_publish
from trtdoc.build.outcome import OnEvent, Outcome, notify_done, notify_published
from trtdoc.build.plan import Plan, longest_first
from trtdoc.errors import display_path
from trtdoc.paths import OutputPaths
from trtdoc.spec.load import LoadedSpec
from trtdoc.values import EngineBackend

# A worker's end of the progress queue. It is handed over when the worker starts, because a
# multiprocessing queue cannot travel with each task; a Manager queue could, but every put is
# then a round trip to one more process, and a build sends thousands of progress steps.
_EVENTS: Any = None


def _init_worker(queue: Any, parent: int) -> None:
    global _EVENTS
    _EVENTS = queue
    _die_with(parent)


def _die_with(parent: int) -> None:
    """End this worker when the process that started it ends, however it ends.

    A SIGKILLed parent cannot stop its workers, and a worker builds for minutes holding
    hundreds of MB. Linux kills it at once (PR_SET_PDEATHSIG); elsewhere, and for a parent
    that died before that was set, a thread notices the parent is gone within a second.
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="trtdoc-parent-watch").start()


def _warm_worker(backend: EngineBackend) -> None:
    """Import what a build needs, so that the first build in this worker does not wait for
    it (run while the parent is still planning)."""
    from trtdoc.backends import BACKENDS
    from trtdoc.inspect.build_log import inspection_from_build_log  # noqa: F401
    from trtdoc.inspect.header import engine_facts_from_header  # noqa: F401

    with contextlib.suppress(Exception):  # the build reports a backend that cannot load
        import_backend(BACKENDS[backend])


class Workers:
    """``--jobs`` worker processes, started (and importing TensorRT) as soon as a run may need
    them, so that their start-up overlaps the planning (hashing models, reading records)
    instead of delaying the first build. Events of their builds are pumped to ``on_event``."""

    def __init__(self, jobs: int, on_event: OnEvent | None, backend: EngineBackend) -> None:
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.on_event = on_event
        self.queue = ctx.Queue() if on_event else None
        self.stop = threading.Event()
        self.pumper = (threading.Thread(target=self._pump, args=(self.queue, on_event),
                                        daemon=True)
                       if self.queue is not None and on_event is not None else None)
        if self.pumper:
            self.pumper.start()
        self.pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                           initializer=_init_worker,
                                           initargs=(self.queue, os.getpid()))
        self.warming = [self.pool.submit(_warm_worker, backend) for _ in range(jobs)]

    def _pump(self, queue: Any, on_event: OnEvent) -> None:
        while not self.stop.is_set() or not queue.empty():
            try:
                event = queue.get(timeout=0.1)
            except Exception:
                continue
            on_event(event)

    def close(self) -> None:
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self.stop.set()
            if self.pumper:
                self.pumper.join(timeout=5)
            if self.queue is not None:
                self.queue.close()


class FreshProcess:
    """Builds after a build failed inside TensorRT (:func:`~trtdoc.build.engine.
    builder_state_clean`), in a worker process whose builder never failed: TensorRT-RTX
    builds the next engine of a process differently after a failed build. The worker starts
    at the first such build (a run without failures pays nothing) and serves the next ones
    until a build in it fails; then the next build gets a new worker."""

    def __init__(self, on_event: OnEvent | None) -> None:
        self.on_event = on_event
        self.workers: Workers | None = None

    def build(self, item: LoadedSpec, paths: OutputPaths, keys: str | Keys, model_sha: str,
              choice: BackendChoice) -> Outcome:
        if isinstance(keys, str):
            key = keys
        else:
            try:
                key, model_sha = keys.result()
            except Exception as exc:  # noqa: BLE001 - build_and_publish makes it this engine's failure
                return build_and_publish(item, paths, Failing(exc), "", choice, None)
        if self.workers is None:
            self.workers = Workers(1, self.on_event, choice.name)
        try:
            outcome = self.workers.pool.submit(_worker, item, paths, key, model_sha,
                                               choice).result()
        except Exception as exc:  # noqa: BLE001 - the process died: this engine's failure
            outcome = _died(item, exc)
        if outcome.status == "failed":  # maybe inside TensorRT: the next build gets a new one
            self.close()
        return outcome

    def close(self) -> None:
        if self.workers is not None:
            workers, self.workers = self.workers, None
            workers.close()


# In a --jobs worker whose own build failed inside TensorRT: where its next builds run.
_FRESH: FreshProcess | None = None


def _worker(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
            choice: BackendChoice) -> Outcome:
    global _FRESH
    on_event = _EVENTS.put if _EVENTS is not None else None
    if builder_state_clean():
        return build_and_publish(item, paths, key, model_sha, choice, on_event)
    # A pool cannot replace one of its workers: this one hands its builds on instead.
    if _FRESH is None:
        from multiprocessing.util import Finalize

        _FRESH = FreshProcess(on_event)
        # A worker process ends in multiprocessing's exit function, which waits for the
        # worker's children: a finaliser with an exit priority runs before that wait (and
        # above 10, before the finalisers that close its queues).
        Finalize(_FRESH, _FRESH.close, exitpriority=100)
    return _FRESH.build(item, paths, key, model_sha, choice)


def _died(item: LoadedSpec, exc: BaseException) -> Outcome:
    return Outcome(item.spec.name, "failed", 0.0, f"{display_path(item.spec.source)}: the "
                   f"build process died ({exc}); run it alone with --jobs 1 to see the "
                   "builder's last words", item.spec.source)


def execute_locally(todo: Sequence[Plan], paths: OutputPaths, jobs: int,
                    on_event: OnEvent | None,
                    on_published: Callable[[], None] | None = None,
                    publish_last: bool = True, workers: Workers | None = None
                    ) -> list[Outcome]:
    """Build and publish every plan of ``todo``: in this process with one job (or one plan),
    else on ``workers``. ``on_published`` as for :func:`~trtdoc.build.run.build_all`."""
    if not todo:
        return []

    def published(outcome: Outcome) -> Outcome:
        return notify_published(on_published, notify_done(on_event, outcome))

    if jobs <= 1 or len(todo) == 1:
        # In-process: no interpreter start or TensorRT import beyond the one a bare script pays.
        # Without publish_last, the caller renders after the run anyway: not for the last.
        out = []
        fresh = FreshProcess(on_event)
        try:
            for i, p in enumerate(todo):
                outcome = (build_and_publish(p.item, paths, p.keys, "", p.choice, on_event)
                           if builder_state_clean()
                           else fresh.build(p.item, paths, p.keys, "", p.choice))
                out.append(published(outcome) if publish_last or i < len(todo) - 1
                           else notify_done(on_event, outcome))
        finally:
            fresh.close()
        return out
    import concurrent.futures as cf

    assert workers is not None, "more than one engine to build with --jobs > 1 has workers"
    results: list[Outcome] = []
    futures = {}
    for p in longest_first(todo):
        try:
            key, model_sha = p.keys.result()
        except Exception as exc:  # noqa: BLE001 - build_and_publish makes it this engine's failure
            results.append(published(build_and_publish(p.item, paths, Failing(exc), "",
                                                       p.choice, None)))
            continue
        futures[workers.pool.submit(_worker, p.item, paths, key, model_sha, p.choice)] = p
    for fut in cf.as_completed(futures):
        p = futures[fut]
        try:
            results.append(published(fut.result()))
        except cf.process.BrokenProcessPool as exc:
            results.append(published(_died(p.item, exc)))
    return results

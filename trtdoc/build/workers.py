"""``--jobs`` builds: worker processes that die with their parent (PR_SET_PDEATHSIG), start
importing TensorRT while the parent plans, and send their progress back; and the local run of
a list of plans, in this process or on those workers."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from trtdoc.backends import BackendChoice, import_backend
from trtdoc.build.deferred import Failing
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


def _worker(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
            choice: BackendChoice) -> Outcome:
    return build_and_publish(item, paths, key, model_sha, choice,
                             _EVENTS.put if _EVENTS is not None else None)


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
        for i, p in enumerate(todo):
            outcome = build_and_publish(p.item, paths, p.keys, "", p.choice, on_event)
            out.append(published(outcome) if publish_last or i < len(todo) - 1
                       else notify_done(on_event, outcome))
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
            results.append(published(Outcome(
                p.item.spec.name, "failed", 0.0, f"{display_path(p.item.spec.source)}: the "
                f"build process died ({exc}); run it alone with --jobs 1 to see the builder's "
                "last words", p.item.spec.source)))
    return results

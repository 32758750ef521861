"""Builds on a Ray cluster: ``trtdoc build specs/ --ray ADDRESS``.

Each engine's build (precision step, TensorRT build, inspection: :func:`trtdoc.build.make.
make_engine`, what a ``--jobs`` worker runs) is one Ray task. Everything else stays in this
process, the driver, as in a local build: it checks the specs, plans (an unchanged engine is
skipped before any task is submitted, and with nothing to build the cluster is not contacted),
stores each engine the tasks send back after checking its sha256, writes the records (the
commit point) and logs, and the CLI renders the pages, all under the project lock. A task
writes nothing of the build's: its engine bytes, build log and record come back as its return
value through Ray's object store.

Placement. A spec's ``build_on`` becomes Ray resources: ``gpu: A100`` Ray's accelerator type
(``accelerator_type:A100``, which Ray's GPU nodes report themselves), ``compute_capability:
"8.6"`` the custom resource ``trtdoc-sm86`` (start such nodes with ``ray start
--resources='{"trtdoc-sm86": 1}'``), ``resource: NAME`` the custom resource ``NAME``. Each is
asked for as a label (0.001 of it), so it picks nodes without limiting how many builds run on
one; each build takes one CPU, and a full-TensorRT build one GPU. TensorRT-RTX specs without
``build_on`` go anywhere. A spec that no node of the cluster can place fails before it is
submitted, in one line naming the missing resource; the others still build.

Faults. Ray runs a task again when its node or worker process dies (``max_retries``; a build
that fails is not retried: ``retry_exceptions=False``, and failures come back as values). An
actor on the driver's node counts the runs of each build, so the summary says which engines
were built again. Nothing a dead node was building is published: only a complete result
reaches the driver. Ctrl-C cancels the tasks still running (``ray.cancel(force=True)``).

Requirements on the nodes: the same trtdoc and TensorRT(-RTX) versions as the driver, and the
project (specs, models, data) at the same path as on the driver, e.g. one shared volume; a task
checks both and fails in one line if not. Ray is imported only by this module, only when a run
has something to build: ``pip install 'trtdoc[ray]'``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtdoc.errors import BuildError, TrtdocError, display_path

if TYPE_CHECKING:
    from trtdoc.backends import BackendChoice
    from trtdoc.build.make import Made
    from trtdoc.build.outcome import OnEvent, Outcome
    from trtdoc.build.plan import Plan
    from trtdoc.paths import OutputPaths
    from trtdoc.spec.load import LoadedSpec
    from trtdoc.spec.types import EngineSpec

# A placement label is asked for in this amount: it chooses nodes, it does not count builds.
LABEL = 0.001
# The custom resource a node with a GPU of compute capability 8.6 is started with.
CC_RESOURCE = "trtdoc-sm{}"
# Runs of one build after its first, when its node or worker process dies.
MAX_RETRIES = 3
INSTALL_HINT = "pip install 'trtdoc[ray]'"


@dataclass(frozen=True)
class Placement:
    """What one build asks Ray for, and in whose words (``why``: resource → spec setting)."""

    num_cpus: float = 1
    num_gpus: float = 0
    accelerator_type: str | None = None
    resources: tuple[tuple[str, float], ...] = ()
    why: tuple[tuple[str, str], ...] = ()

    def needs(self) -> dict[str, float]:
        """Every node resource this build needs, as ``ray.nodes()`` names them."""
        out = {"CPU": self.num_cpus, **dict(self.resources)}
        if self.num_gpus:
            out["GPU"] = self.num_gpus
        if self.accelerator_type:
            out[f"accelerator_type:{self.accelerator_type}"] = LABEL
        return out

    def options(self) -> dict[str, Any]:
        """Keyword arguments of a Ray task's ``.options()``."""
        out: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.accelerator_type:
            out["accelerator_type"] = self.accelerator_type
        if self.resources:
            out["resources"] = dict(self.resources)
        return out


def placement(spec: EngineSpec, backend: str) -> Placement:
    """Where ``spec`` may be built with ``backend`` (``tensorrt`` or ``tensorrt-rtx``)."""
    why: list[tuple[str, str]] = []
    resources: list[tuple[str, float]] = []
    gpus = 1.0 if backend == "tensorrt" else 0.0  # full TensorRT builds for the GPU it runs on
    if gpus:
        why.append(("GPU", "backend: tensorrt (full TensorRT builds on a GPU)"))
    on = spec.build_on
    accelerator = None
    if on is not None:
        if on.gpu is not None:
            accelerator = on.gpu
            why.append((f"accelerator_type:{on.gpu}", f"build_on.gpu: {on.gpu}"))
        if on.compute_capability is not None:
            name = CC_RESOURCE.format(on.compute_capability.replace(".", ""))
            resources.append((name, LABEL))
            why.append((name, f"build_on.compute_capability: {on.compute_capability}"))
        if on.resource is not None:
            resources.append((on.resource, LABEL))
            why.append((on.resource, f"build_on.resource: {on.resource}"))
    return Placement(1, gpus, accelerator, tuple(resources), tuple(why))


def unplaceable(place: Placement, nodes: Sequence[Mapping[str, float]]) -> tuple[str, str]:
    """``(why, setting)`` when no node of ``nodes`` (their total resources) can run a build:
    the missing resource, and the spec setting that asks for it; ``("", "")`` if one can."""
    needs = place.needs()
    if any(all(node.get(k, 0) >= v for k, v in needs.items()) for node in nodes):
        return "", ""
    settings = {k: words.split(":")[0] for k, words in place.why}
    for key, amount in needs.items():
        if not any(node.get(key, 0) >= amount for node in nodes):
            return (f"no node of the Ray cluster has the resource {key!r}; start a node that "
                    "has it, or change where this spec is built", settings.get(key, "build_on"))
    listed = ", ".join(repr(k) for k in needs)
    return (f"no node of the Ray cluster has all of {listed} at once; start a node that has "
            "them, or change where this spec is built", "build_on")


# --------------------------------------------------------------------------------------------
# The task (runs on a Ray worker)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskResult:
    """What a build task sends back: its engine or its failure, and which run it was."""

    run: int  # 1 for the first run, 2 after one retry, ...
    node: str
    record_json: str = ""
    plan: bytes = b""
    messages: tuple[tuple[str, str], ...] = ()
    attempts: int = 1
    failure: BaseException | None = None


def build_task(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
               choice: BackendChoice, previous: tuple[str | None, str] | None,
               cwd: str, trtdoc_version: str, tracker: Any) -> TaskResult:
    """One engine's build on a Ray worker: :func:`trtdoc.build.make.make_engine`, publishing
    nothing. Every failure comes back as a value, so Ray retries only lost workers."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    name = item.spec.name
    run = ray.get(tracker.begin.remote(name, node))
    try:
        _same_as_driver(item, cwd, model_sha, choice, trtdoc_version)
        from trtdoc.build.make import make_engine
        from trtdoc.record.text import dumps

        kept: list[memoryview] = []

        def store(plan: memoryview, _previous: str | None) -> tuple[Path, str]:
            kept[:] = [plan]  # only the last attempt's bytes go back
            sha = hashlib.sha256(plan).hexdigest()
            return paths.engine_file(sha), sha

        def on_event(event: tuple[str, str, str, int, int]) -> None:
            if event[1] == "phase":  # not the thousands of steps: each is a message to an actor
                tracker.event.remote(event)

        made = make_engine(item, paths, key, model_sha, choice, on_event, previous, store)
        return TaskResult(run, node, dumps(made.record), bytes(kept[-1]), made.messages,
                          made.attempts)
    except Exception as exc:  # noqa: BLE001 - the driver reports it as this engine's failure
        return TaskResult(run, node, failure=_portable(exc))


def _same_as_driver(item: LoadedSpec, cwd: str, model_sha: str, choice: BackendChoice,
                    trtdoc_version: str) -> None:
    """Refuse to build where the result would not be the driver's: another trtdoc or builder
    version, or other project files (the key was computed from the driver's)."""
    import socket

    from trtdoc import __version__
    from trtdoc.backends import installed_version
    from trtdoc.model import model_digest

    host = socket.gethostname()
    try:
        os.chdir(cwd)  # the spec and output paths are the driver's, often relative
    except OSError:
        raise TrtdocError(f"Ray node {host} has no folder {cwd} (the driver's working "
                          "directory): put the project at the same path on every node, e.g. "
                          "on a shared volume") from None
    if __version__ != trtdoc_version:
        raise TrtdocError(f"Ray node {host} has trtdoc {__version__}, the driver "
                          f"{trtdoc_version}: install the same trtdoc on every node")
    version = installed_version(choice.backend)
    if version != choice.version:
        raise TrtdocError(f"Ray node {host} has {choice.backend.display} {version or 'not'} "
                          f"installed, the driver {choice.version}: install the same version "
                          "on every node")
    try:
        digest = model_digest(item.spec.model)
    except OSError:
        digest = ""
    if digest != model_sha:
        raise TrtdocError(f"Ray node {host} does not see the driver's "
                          f"{display_path(item.spec.model)} (missing or other bytes): put the "
                          "project at the same path on every node, e.g. on a shared volume")


def _portable(exc: BaseException) -> BaseException:
    """``exc`` as it can travel to the driver: its traceback as text (tracebacks do not
    pickle), and a plain exception in its words if it does not pickle either."""
    import pickle
    import traceback

    if not isinstance(exc, (TrtdocError, OSError)):
        with contextlib.suppress(AttributeError, TypeError):
            text = "".join(traceback.format_exception(exc))
            # An attribute no exception type declares: read back with getattr on the driver.
            exc.trtdoc_traceback = text  # type: ignore[attr-defined]
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type may fail to pickle
        plain = RuntimeError(f"{type(exc).__name__}: {exc}")
        # As above: the driver reads it back with getattr.
        plain.trtdoc_traceback = getattr(exc, "trtdoc_traceback", "")  # type: ignore[attr-defined]
        return plain


class Tracker:
    """An actor on the driver's node: counts each build's runs (a retry is a second run) and
    queues the builds' phase events for the driver."""

    def __init__(self) -> None:
        self.runs: dict[str, list[str]] = {}
        self.events: list[tuple[str, str, str, int, int]] = []

    def begin(self, name: str, node: str) -> int:
        nodes = self.runs.setdefault(name, [])
        nodes.append(node)
        self.events.append((name, "phase", f"building on Ray node {node[:12]} (run "
                            f"{len(nodes)})", 0, 0))
        return len(nodes)

    def event(self, event: tuple[str, str, str, int, int]) -> None:
        self.events.append(event)

    def drain(self) -> list[tuple[str, str, str, int, int]]:
        out, self.events = self.events, []
        return out

    def nodes(self, name: str) -> list[str]:
        return list(self.runs.get(name, ()))


# --------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------
def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TrtdocError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


# What Ray's driver would print to stdout itself ("Task ... failed. There are 3 retries
# remaining", "node ... has been marked dead"): the library never prints, so these become events.
_RAY_SAID: list[str] = []


def _hear_ray(data: Mapping[str, Any], ignore_prefix: bool = False) -> None:
    _RAY_SAID.extend(str(line) for line in data.get("lines", ()))


@contextlib.contextmanager
def connected(address: str) -> Any:
    """This process as a Ray driver of the cluster at ``address`` (``auto``: the one running
    here); disconnected at the end, leaving the cluster running."""
    import logging

    ray = import_ray()
    # Ray's error-message thread prints through this module function (Ray 2.60); without it
    # (another Ray), its messages are printed as Ray prints them.
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    printer = getattr(worker, "print_to_stdstream", None)
    if worker is not None and printer is not None:
        worker.print_to_stdstream = _hear_ray
    try:
        yield from _connect(ray, address, logging.WARNING)
    finally:
        if worker is not None and printer is not None:
            worker.print_to_stdstream = printer


def _connect(ray: Any, address: str, level: int) -> Any:
    from trtdoc.build.ray_address import check_ray_address

    check_ray_address(address)  # ray.init retries for minutes where no cluster answers
    try:
        ray.init(address=address, namespace="trtdoc", log_to_driver=False,
                 logging_level=level, configure_logging=False)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrtdocError(f"--ray {address}: cannot connect to a Ray cluster ({first}); start "
                          "one with `ray start --head`, or pass its address (host:port, or "
                          "auto for the one running here)") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def alive_nodes(ray: Any) -> list[dict[str, float]]:
    return [dict(n.get("Resources") or {}) for n in ray.nodes() if n.get("Alive")]


def execute_on_ray(todo: Sequence[Plan], paths: OutputPaths, address: str,
                   on_event: OnEvent | None,
                   on_published: Callable[[], None] | None = None) -> list[Outcome]:
    """Build every plan of ``todo`` as a Ray task and publish each result here, as a local
    build does (:func:`trtdoc.build.one_engine.build_and_publish`)."""
    from trtdoc.build.deferred import Failing
    from trtdoc.build.one_engine import build_and_publish
    from trtdoc.build.outcome import notify_done, notify_published
    from trtdoc.build.plan import longest_first

    if not todo:
        return []
    outcomes: list[Outcome] = []

    def published(outcome: Outcome) -> Outcome:
        return notify_published(on_published, notify_done(on_event, outcome))

    with connected(address) as ray:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from trtdoc import __version__

        nodes = alive_nodes(ray)
        here = ray.get_runtime_context().get_node_id()
        tracker = ray.remote(num_cpus=0)(Tracker).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)).remote()
        task = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(build_task)
        pending: dict[Any, tuple[Plan, str, str, float]] = {}
        try:
            # Longest builds first, as with --jobs: no node is left with a long build at the end.
            for p in longest_first(todo):
                spec = p.item.spec
                why, setting = unplaceable(placement(spec, p.choice.name), nodes)
                if why:
                    loc = p.item.locator.find(tuple(setting.split(".")))
                    outcomes.append(published(_failed_at(p.item, why, setting, loc.path,
                                                         loc.line)))
                    continue
                try:
                    key, model_sha = p.keys.result()
                except Exception as exc:  # noqa: BLE001 - this engine's failure, as with --jobs
                    outcomes.append(published(build_and_publish(p.item, paths, Failing(exc), "",
                                                                p.choice, None)))
                    continue
                previous = ((p.previous.engine_sha256, p.previous.build_key)
                            if p.previous is not None else None)
                ref = task.options(**placement(spec, p.choice.name).options()).remote(
                    p.item, paths, key, model_sha, p.choice, previous, os.getcwd(),
                    __version__, tracker)
                pending[ref] = (p, key, model_sha, time.perf_counter())
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.25)
                _pump(ray, tracker, on_event)
                for ref in ready:
                    p, key, model_sha, submitted = pending.pop(ref)
                    outcomes.append(published(build_and_publish(
                        p.item, paths, key, model_sha, p.choice, None,
                        made=_fetch(ray, ref, paths, p, tracker), started=submitted)))
            _pump(ray, tracker, on_event)
        except BaseException:
            for ref in pending:  # Ctrl-C, or a bug here: no build goes on without a driver
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
    return outcomes


def _failed_at(item: LoadedSpec, message: str, setting: str, path: Path,
               line: int | None) -> Outcome:
    from trtdoc.build.outcome import Outcome

    error = BuildError(message, engine=item.spec.name, spec_path=path, setting=setting,
                       line=line)
    return Outcome(item.spec.name, "failed", 0.0, str(error), item.spec.source, stage="build")


def _pump(ray: Any, tracker: Any, on_event: OnEvent | None) -> None:
    said, _RAY_SAID[:] = list(_RAY_SAID), []
    if on_event is None:
        return
    for line in said:
        first = line.strip().split(". ")[0]
        if first:
            on_event(("(ray)", "phase", first, 0, 0))
    with contextlib.suppress(Exception):  # progress only: never a reason to fail a build
        for event in ray.get(tracker.drain.remote(), timeout=10):
            on_event(event)


def _fetch(ray: Any, ref: Any, paths: OutputPaths, plan: Plan,
           tracker: Any) -> Callable[[list[str]], Made]:
    """The made engine of a finished task, stored here after its sha256 is checked."""

    def made(stored: list[str]) -> Made:
        from trtdoc.build.make import Made
        from trtdoc.build.store import store_engine
        from trtdoc.record.codec import record_from_json

        try:
            result: TaskResult = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            raise TrtdocError("the Ray task was cancelled; the last good engine, record and "
                              "page were kept") from None
        except ray.exceptions.RayError as exc:
            runs = _runs(ray, tracker, plan.item.spec.name)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise TrtdocError(f"the Ray task was lost {runs} time(s) ({type(exc).__name__}: "
                              f"{first}); nothing was published: the last good engine, record "
                              "and page were kept") from None
        if result.failure is not None:
            raise result.failure
        record = record_from_json(result.record_json)
        path, sha = store_engine(paths, memoryview(result.plan),
                                 plan.previous.engine_sha256 if plan.previous else None)
        stored.append(sha)
        if sha != record.engine_sha256 or record.name != plan.item.spec.name:
            raise TrtdocError(f"the engine from Ray node {result.node[:12]} has sha256 "
                              f"{sha[:12]}…, not the {str(record.engine_sha256)[:12]}… its "
                              "record names (damaged on the way); nothing was published")
        note = ""
        if result.run > 1:
            note = (f"retried: Ray built it {result.run} times, its node or worker failed "
                    f"during {'the first run' if result.run == 2 else 'earlier runs'}")
        return Made(record, result.messages, result.attempts, node_retries=result.run - 1,
                    retried_note=note)

    return made


def _runs(ray: Any, tracker: Any, name: str) -> int:
    with contextlib.suppress(Exception):
        return len(ray.get(tracker.nodes.remote(name), timeout=10)) or MAX_RETRIES + 1
    return MAX_RETRIES + 1

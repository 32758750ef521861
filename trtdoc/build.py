"""The build stage: spec → (precision step) → TensorRT build → inspection → record.

One failing spec never stops the others and never overwrites its last good engine, log or
record: everything is written atomically, and only after the whole engine succeeded. A lock
keeps two builds of one output folder apart. Nothing here prints; progress goes to ``on_event``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from trtdoc import __version__
from trtdoc.backends import BackendChoice, choose_backend, import_backend
from trtdoc.backends.cuda import cuda_device_status
from trtdoc.builder_config import (
    Applied,
    applied_settings,
    network_creation_flags,
    read_settings,
    replay,
    settings_table,
)
from trtdoc.check import check_specs
from trtdoc.errors import (
    BackendUnavailableError,
    BuildError,
    GateError,
    InspectError,
    TrtdocError,
    display_path,
)
from trtdoc.model import (
    ModelFacts,
    digest_cache,
    file_sha256,
    model_digest,
    model_facts_from_onnx,
    model_file_digests,
)
from trtdoc.project import project_path, project_root
from trtdoc.record import (
    EngineRecord,
    Host,
    ModelFile,
    NotRun,
    RecordError,
    dumps,
    read_record,
    remove_stale_temporaries,
    write_atomic,
)
from trtdoc.spec import EngineSpec, LoadedSpec, SpecError

Event = tuple[str, str, str, int, int]  # (engine, kind, text, step, total)
OnEvent = Callable[[Event], None]


GATES_DIR = ".gates"


@dataclass(frozen=True)
class OutputPaths:
    """Where a build writes. Engines, logs and caches are build products; records are kept."""

    out: Path = Path("build")
    records: Path = Path("records")

    def engine(self, name: str) -> Path:
        return self.out / "engines" / f"{name}.engine"

    def log(self, name: str) -> Path:
        return self.out / "logs" / f"{name}.build.log"

    def failed_log(self, name: str) -> Path:
        return self.out / "logs" / f"{name}.failed.log"

    def record(self, name: str) -> Path:
        return self.records / f"{name}.json"

    def gate(self, name: str) -> Path:
        """The figures of the latest failed accuracy gate, kept beside the last good record."""
        return self.records / GATES_DIR / f"{name}.json"

    @property
    def cache(self) -> Path:
        return self.out / "cache"


@dataclass(frozen=True)
class Outcome:
    """What happened to one engine in a run."""

    name: str
    status: str  # built | up-to-date | updated | failed
    seconds: float = 0.0
    message: str = ""
    spec_path: Path | None = None


@dataclass(frozen=True)
class RunResult:
    outcomes: tuple[Outcome, ...]
    spec_errors: tuple[SpecError, ...] = ()
    would_change: tuple[Path, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.spec_errors) or any(o.status == "failed" for o in self.outcomes)


@dataclass(frozen=True)
class BuiltEngine:
    plan: memoryview  # read-only bytes of TensorRT's own buffer: a plan can be GBs, never copied
    messages: tuple[tuple[str, str], ...]  # (severity, message)
    seconds: float
    effective: dict[str, Any] = field(hash=False)
    defaults: dict[str, Any] = field(hash=False)
    applied: tuple[Applied, ...] = ()


# --------------------------------------------------------------------------------------------
# One engine, with TensorRT
# --------------------------------------------------------------------------------------------
def _make_logger(trt: Any, sink: list[tuple[str, str]]) -> Any:
    class Logger(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            sink.append((severity.name, msg))

    return Logger()


def _make_monitor(trt: Any, name: str, on_event: OnEvent | None) -> Any:
    class Monitor(trt.IProgressMonitor):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)

        def phase_start(self, phase: str, parent: str | None, steps: int) -> None:
            if on_event is not None and parent is not None:
                on_event((name, "phase", phase, 0, steps))

        def step_complete(self, phase: str, step: int) -> bool:
            if on_event is not None:
                on_event((name, "step", phase, step + 1, 0))
            return True

        def phase_finish(self, phase: str) -> None:
            pass

    return Monitor()


# Builder errors name symptoms; these patterns point at the spec setting most likely at fault.
_BLAME = (
    ((r"\bsm ?\d{2,3}\b", "turing", "ampere", "hopper", "blackwell", "compute capability"),
     ("targets",)),
    (("workspace", "memory pool", "insufficient memory", "out of memory", "scratch"),
     ("memory", "workspace")),
    (("profile", "optimization profile", "shape", "dimension", "reshape", "volume"),
     ("profiles",)),
    (("plugin", "importer", "custom", "domain", "unsupported operator"), ("model",)),
)


def blame(errors: Sequence[str]) -> tuple[str | int, ...]:
    """The spec key most likely at fault for builder error messages."""
    text = " ".join(errors).lower()
    for patterns, key in _BLAME:
        if any(re.search(p, text) for p in patterns):
            return key
    return ("model",)


def engine_from_spec(spec: EngineSpec, choice: BackendChoice, model_path: Path,
                     on_event: OnEvent | None = None,
                     custom_domains: Sequence[str] = ()) -> BuiltEngine:
    """Parse ``model_path``, apply every spec setting and build one serialised engine."""
    trt = import_backend(choice.backend)
    messages: list[tuple[str, str]] = []
    try:
        applied = applied_settings(trt, choice.backend, choice.version, spec)
    except BackendUnavailableError as exc:
        raise _build_error(spec, str(exc), (exc.setting or "backend",), messages) from exc
    logger = _make_logger(trt, messages)
    builder = trt.Builder(logger)
    network = builder.create_network(network_creation_flags(trt, applied))
    parser = trt.OnnxParser(network, logger)
    if on_event:
        on_event((spec.name, "phase", "Parsing ONNX", 0, 0))
    # parse_from_file resolves external-data files relative to the model's folder.
    if not parser.parse_from_file(str(model_path)):
        errors = []
        for i in range(parser.num_errors):
            e = parser.get_error(i)
            where = [f"node {e.node_name()!r}"] if e.node_name() else []
            where += [f"op {e.node_operator()}"] if e.node_operator() else []
            errors.append(f"{e.desc()}" + (f" ({', '.join(where)})" if where else ""))
        text = "the ONNX parser failed: " + "; ".join(errors)
        if custom_domains:
            text += (f". The model uses ops from custom domain(s) {', '.join(custom_domains)}: "
                     "load a TensorRT plugin for them, or export the model without custom ops")
        raise _build_error(spec, text, ("model",), messages)
    config = builder.create_builder_config()
    defaults = read_settings(trt, choice.backend, config)
    try:
        replay(trt, builder, config, applied)
    except BackendUnavailableError as exc:
        raise _build_error(spec, str(exc), (exc.setting or "backend",), messages) from exc
    if hasattr(config, "progress_monitor"):
        config.progress_monitor = _make_monitor(trt, spec.name, on_event)
    started = time.perf_counter()
    plan = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - started
    if plan is None:
        errors = [m for sev, m in messages if sev in ("ERROR", "INTERNAL_ERROR")]
        text = errors[-1] if errors else "build_serialized_network returned nothing"
        raise _build_error(spec, f"the builder failed: {text}", blame(errors), messages)
    # TensorRT only warns when min or max cannot pass the model's reshapes, yet the engine would
    # then reject exactly the shapes the spec promises; a docs tool must not publish that range.
    inconsistent = [m for sev, m in messages if sev == "WARNING" and "not self-consistent" in m]
    if inconsistent:
        raise _build_error(spec, "the builder says this profile cannot run: "
                           f"{inconsistent[0].strip()}. Narrow min/max to shapes the model "
                           "accepts", ("profiles",), messages)
    effective = read_settings(trt, choice.backend, config)
    return BuiltEngine(memoryview(plan).cast("B").toreadonly(), tuple(messages), seconds,
                       effective, defaults, applied)


def _build_error(spec: EngineSpec, message: str, key: tuple[str | int, ...],
                 messages: Sequence[tuple[str, str]]) -> BuildError:
    from trtdoc.spec import format_key

    return BuildError(message.strip(), engine=spec.name, spec_path=spec.source,
                      setting=format_key(key),
                      details=tuple(f"[{s}] {m}" for s, m in messages))


# --------------------------------------------------------------------------------------------
# Keys and the incremental decision
# --------------------------------------------------------------------------------------------
def build_key(spec: EngineSpec, model_sha: str, choice: BackendChoice) -> str:
    """Changes exactly when the engine would: settings, model bytes, backend and its version."""
    parts = (spec.build_key(), model_sha, choice.name, choice.version, "record-1")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _spec_view(spec: EngineSpec, paths: OutputPaths) -> dict[str, Any]:
    return spec.to_dict(base=project_root(spec.source, paths.records))


def _previous(paths: OutputPaths, name: str) -> EngineRecord | None:
    p = paths.record(name)
    if not p.is_file():
        return None
    try:
        return read_record(p)
    except RecordError:
        return None  # an unreadable record is rebuilt, not trusted


# --------------------------------------------------------------------------------------------
# One engine, end to end (runs in a worker process when --jobs > 1)
# --------------------------------------------------------------------------------------------
def _not_run(choice: BackendChoice, precision_ran: bool) -> tuple[NotRun, ...]:
    # Only what did not run, and why. What ran instead (the ONNX Runtime comparison) is stated
    # by the page from the record's accuracy field, so the two can never disagree.
    has_gpu, why = cuda_device_status()
    out: list[NotRun] = []
    if not has_gpu:
        out.append(NotRun("engine inspector (IEngineInspector JSON)",
                          f"{why}; the layers come from the builder's DETAILED log instead"))
        out.append(NotRun("engine execution and latency benchmark",
                          f"{why}; no timings are shown"))
        if precision_ran:
            out.append(NotRun("accuracy of the engine itself",
                              f"{why}; the engine needs a GPU to run"))
    return tuple(out)


def build_engine_record(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
                        choice: BackendChoice, on_event: OnEvent | None = None) -> EngineRecord:
    """Run the precision step, the build and the inspection; return the record (not written)."""
    from trtdoc.header import engine_facts_from_header
    from trtdoc.inspect import Inspection, inspection_from_build_log

    spec = item.spec
    root = project_root(spec.source, paths.records)
    facts = model_facts_from_onnx(spec.model)
    model_path = spec.model
    precision: dict[str, Any] | None = None
    accuracy: dict[str, Any] | None = None
    if spec.precision != "fp32" and spec.precision_method == "model":
        model_path, precision, accuracy = _precision_step(item, paths, facts, root, on_event)
    built = engine_from_spec(spec, choice, model_path, on_event, facts.custom_domains)
    _write_log(paths.log(spec.name), built.messages)
    if on_event:
        on_event((spec.name, "phase", "Inspecting", 0, 0))
    not_run = list(_not_run(choice, precision is not None))
    try:
        inspection = inspection_from_build_log((m for _, m in built.messages),
                                               onnx_nodes=facts.node_names)
    except InspectError as exc:
        # The engine itself is fine; the page says the layers could not be read, and why.
        inspection = Inspection(source="build-log", layers=(), io=())
        not_run.append(NotRun("layer inspection", str(exc)))
    header = engine_facts_from_header(built.plan)
    files = tuple(ModelFile(project_path(f, root), size, sha)
                  for f, size, sha in model_file_digests(spec.model))
    engine_path = paths.engine(spec.name)
    # Hashing (CPU) and writing (disk) a plan of hundreds of MB each take a while; hashlib
    # releases the GIL, so they overlap.
    engine_sha: list[str] = []
    hasher = threading.Thread(
        target=lambda: engine_sha.append(hashlib.sha256(built.plan).hexdigest()))
    hasher.start()
    try:
        write_atomic(engine_path, built.plan)  # type: ignore[arg-type]  # any buffer works
    finally:
        hasher.join()
    return EngineRecord(
        name=spec.name,
        build_key=key,
        spec=MappingProxyType(_spec_view(spec, paths)),
        spec_hash=spec.build_key(),
        model_path=project_path(spec.model, root),
        model_sha256=files[0].sha256,
        model_files=files,
        model=facts,
        backend=choice.name,
        backend_version=choice.version,
        backend_reason=choice.reason,
        host=Host.current(),
        settings=settings_table(spec, choice.name, built.effective, built.defaults),
        applied=built.applied,
        build_seconds=round(built.seconds, 3),
        engine_path=project_path(engine_path, root),
        engine_bytes=len(built.plan),
        engine_sha256=engine_sha[0],
        header=header,
        inspection=inspection,
        precision=MappingProxyType(precision) if precision else None,
        accuracy=MappingProxyType(accuracy) if accuracy else None,
        warnings=tuple(sorted({m.strip() for sev, m in built.messages if sev == "WARNING"})),
        not_run=tuple(not_run),
        trtdoc_version=__version__,
    )


def _opt_shapes(spec: EngineSpec) -> dict[str, tuple[int, ...]] | None:
    return {n: r.opt for n, r in spec.profiles[0].shapes} if spec.profiles else None


def convert_for_spec(spec: EngineSpec, paths: OutputPaths) -> Any:
    """The precision step alone: the converted model ``spec``'s engine is built from.

    ``trtdoc build`` and ``trtdoc convert`` both call this, so they write the same file.
    """
    from trtdoc.precision import Calibration, convert_model

    calibration = (Calibration(spec.calibration.data, spec.calibration.batches)
                   if spec.calibration else None)
    return convert_model(spec.model, spec.precision, calibration=calibration,
                         cache_dir=paths.cache / "precision", profile_shapes=_opt_shapes(spec))


def _precision_step(item: LoadedSpec, paths: OutputPaths, facts: ModelFacts, root: Path,
                    on_event: OnEvent | None) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    from trtdoc.accuracy import check_tolerance, compare_models, load_metric
    from trtdoc.precision import held_out_batches

    spec = item.spec
    if on_event:
        on_event((spec.name, "phase", f"Precision step ({spec.precision})", 0, 0))
    opt_shapes = _opt_shapes(spec)
    result = convert_for_spec(spec, paths)
    if on_event:
        on_event((spec.name, "phase", "Accuracy vs fp32 (ONNX Runtime, CPU)", 0, 0))
    accuracy = spec.accuracy
    held_out = None
    samples = accuracy.samples if accuracy else 4  # input samples, not batches
    if accuracy is not None and accuracy.data is not None:
        held_out = held_out_batches(accuracy.data, spec.model, samples=samples,
                                    shapes=opt_shapes, engine=spec.name)
    metric = (load_metric(accuracy.metric, engine=spec.name)
              if accuracy is not None and accuracy.metric else None)
    report = compare_models(spec.model, result.model, inputs=held_out, samples=samples,
                            shapes=opt_shapes, engine=spec.name, metric=metric,
                            metric_name=(accuracy.metric or "") if accuracy else "")
    # Records are checked in: keep paths relative, so they do not depend on the checkout.
    report = dataclasses.replace(report, reference=project_path(report.reference, root),
                                 candidate=project_path(report.candidate, root))
    figures = {**report.to_dict(), "gate_key": spec.accuracy_key()}
    if accuracy is not None:
        violations = check_tolerance(
            report, dict(accuracy.tolerance.items()) if accuracy.tolerance else {},
            outputs=accuracy.output_limits(), metric_tolerance=dict(accuracy.metric_tolerance))
        if violations:
            setting = next((s for s in ("accuracy.outputs", "accuracy.metric_tolerance")
                            if f"{s}." in violations[0]), "accuracy.tolerance")
            loc = item.locator.find(tuple(setting.split(".")))
            raise GateError("; ".join(violations), engine=spec.name, spec_path=loc.path,
                            setting=setting, line=loc.line, report=figures,
                            violations=violations)
    # The plain sha256 of the model that was built, so the reproduce snippet can be checked.
    info = {**result.to_dict(base=root), "model_sha256": file_sha256(result.model)}
    return result.model, info, figures


def _write_log(path: Path, messages: Sequence[tuple[str, str]]) -> None:
    write_atomic(path, "".join(f"[{sev}] {msg}\n" for sev, msg in messages))


def _run_one(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
             choice: BackendChoice, on_event: OnEvent | None) -> Outcome:
    started = time.perf_counter()
    previous = _previous(paths, item.spec.name)
    attempts = 0
    try:
        while True:
            attempts += 1
            record = build_engine_record(item, paths, key, model_sha, choice, on_event)
            # TensorRT-RTX does not always serialise an engine byte for byte alike from one
            # build to the next (measured: bert-tiny, and now and then mobilenet). Building
            # again usually writes the recorded bytes, and only then is the record's engine
            # sha256 true of the engine on disk.
            if attempts >= REPRODUCE_ATTEMPTS or not _same_engine_other_bytes(record,
                                                                              previous):
                break
    except GateError as exc:
        return _gate_failed(item, paths, exc, time.perf_counter() - started)
    except BuildError as exc:
        if exc.details:
            _write_log(paths.failed_log(item.spec.name), [("LOG", d) for d in exc.details])
        if exc.line is None and exc.setting:
            loc = item.locator.find(tuple(exc.setting.split(".")))
            exc = BuildError(exc.message, engine=exc.engine, spec_path=loc.path,
                             setting=exc.setting, line=loc.line)
        return Outcome(item.spec.name, "failed", time.perf_counter() - started, str(exc),
                       item.spec.source)
    except TrtdocError as exc:
        return Outcome(item.spec.name, "failed", time.perf_counter() - started,
                       f"{display_path(item.spec.source)}: {exc}", item.spec.source)
    paths.gate(item.spec.name).unlink(missing_ok=True)  # this build passed its gate
    reproduced = _as_reproduced(record, previous)
    tries = f" on attempt {attempts}" if attempts > 1 else ""
    if reproduced is not None:
        # The same engine, byte for byte: the record keeps the host and timings of the build
        # that first made it, so a rebuild on a fresh clone changes no checked-in file.
        text = dumps(reproduced)
        current = paths.record(item.spec.name)
        if current.is_file() and current.read_text(encoding="utf-8") == text:
            return Outcome(item.spec.name, "reproduced", time.perf_counter() - started,
                           f"engine sha256 {record.engine_sha256[:12]}… equals the record's"
                           f"{tries}; record kept", item.spec.source)
        write_atomic(current, text)
        return Outcome(item.spec.name, "reproduced", time.perf_counter() - started,
                       f"engine sha256 {record.engine_sha256[:12]}… equals the record's"
                       f"{tries}; record refreshed", item.spec.source)
    _keep_previous(paths, record)
    write_atomic(paths.record(item.spec.name), dumps(record))
    detail = f"{record.engine_bytes:,} bytes in {record.build_seconds:.2f} s"
    if _same_engine_other_bytes(record, previous):
        detail += (f"; the recorded settings, but other bytes in {attempts} builds: "
                   "TensorRT did not serialise this engine alike, so the record now names the "
                   "new sha256")
    return Outcome(item.spec.name, "built", time.perf_counter() - started, detail,
                   item.spec.source)


def _gate_failed(item: LoadedSpec, paths: OutputPaths, exc: GateError,
                 seconds: float) -> Outcome:
    """Keep the failed gate's figures for the pages; the last good engine and record stay."""
    gate = {"name": item.spec.name, "violations": list(exc.violations),
            "accuracy": exc.report, "spec": _spec_view(item.spec, paths)}
    write_atomic(paths.gate(item.spec.name), json.dumps(gate, indent=1, sort_keys=True) + "\n")
    return Outcome(item.spec.name, "failed", seconds, str(exc), item.spec.source)


def recheck_accuracy(item: LoadedSpec, paths: OutputPaths,
                     previous: EngineRecord) -> tuple[EngineRecord, Outcome]:
    """Run the accuracy gate again for an unchanged engine whose ``accuracy`` changed.

    The converted model comes from the precision cache (or is converted again); no TensorRT
    build runs. Raises :class:`GateError` when the new limits fail.
    """
    started = time.perf_counter()
    spec = item.spec
    root = project_root(spec.source, paths.records)
    facts = model_facts_from_onnx(spec.model)
    _, _, figures = _precision_step(item, paths, facts, root, None)
    record = dataclasses.replace(previous.with_spec(_spec_view(spec, paths)),
                                 accuracy=MappingProxyType(figures))
    return record, Outcome(spec.name, "re-checked", time.perf_counter() - started,
                           "accuracy changed: gate re-run on the converted model; engine "
                           "unchanged", spec.source)


# How often a build is repeated when it makes the recorded engine in other bytes.
REPRODUCE_ATTEMPTS = 6


def _same_engine_other_bytes(record: EngineRecord, previous: EngineRecord | None) -> bool:
    """The recorded build again (same build key) but not its bytes.

    The key covers every input of the build, so other bytes are TensorRT's own variation:
    measured here, the same spec gave other byte layouts of the same layers, sometimes a few
    bytes longer, from one process to the next.
    """
    if previous is None or previous.engine_sha256 in (None, record.engine_sha256):
        return False
    return previous.build_key == record.build_key


# Facts about the occasion of a build, not about the engine: a rebuild that reproduces the same
# engine keeps the first build's values.
_OCCASION_PRECISION_KEYS = ("seconds", "cache_hit")


def _as_reproduced(record: EngineRecord, previous: EngineRecord | None) -> EngineRecord | None:
    """``record`` with the previous build's host and timings, if it made the same engine bytes."""
    if (previous is None or previous.engine_sha256 is None
            or previous.engine_sha256 != record.engine_sha256):
        return None
    precision = record.precision
    if precision is not None and previous.precision is not None:
        precision = MappingProxyType({**precision, **{
            k: previous.precision[k] for k in _OCCASION_PRECISION_KEYS
            if k in previous.precision and k in precision}})
    return dataclasses.replace(record, host=previous.host, build_seconds=previous.build_seconds,
                               precision=precision)


def _keep_previous(paths: OutputPaths, record: EngineRecord) -> None:
    """Keep the record being replaced, so the site can say what changed since that build."""
    from trtdoc.diff import history_path

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


# A worker's end of the progress queue. It is handed over when the worker starts, because a
# multiprocessing queue cannot travel with each task; a Manager queue could, but every put is
# then a round trip to one more process, and a build sends thousands of progress steps.
_EVENTS: Any = None


def _init_worker(queue: Any) -> None:
    global _EVENTS
    _EVENTS = queue


def _worker(item: LoadedSpec, paths: OutputPaths, key: str, model_sha: str,
            choice: BackendChoice) -> Outcome:
    return _run_one(item, paths, key, model_sha, choice,
                    _EVENTS.put if _EVENTS is not None else None)


# --------------------------------------------------------------------------------------------
# A whole run
# --------------------------------------------------------------------------------------------
@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for the length of a run."""
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / ".trtdoc.lock"
    with lock_path.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise TrtdocError(
                f"{display_path(folder)} is locked by a running trtdoc build ({holder}); wait "
                "for it to finish or build into another folder with --out") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class _Plan:
    item: LoadedSpec
    key: str
    model_sha: str
    choice: BackendChoice
    previous: EngineRecord | None


def _plan(item: LoadedSpec, paths: OutputPaths) -> _Plan:
    spec = item.spec
    choice = choose_backend(spec.backend)
    model_sha = model_digest(spec.model)
    return _Plan(item, build_key(spec, model_sha, choice), model_sha, choice,
                 _previous(paths, spec.name))


def build_all(spec_paths: Sequence[Path], paths: OutputPaths, *, jobs: int = 1,
              force: bool = False, only: Sequence[str] = (),
              on_event: OnEvent | None = None) -> RunResult:
    """Build every spec under ``spec_paths`` that changed (all of them with ``force``)."""
    good, spec_errors = check_specs(spec_paths)
    if only:
        unknown = sorted(set(only) - {g.spec.name for g in good})
        if unknown and not spec_errors:
            raise TrtdocError(f"--only {', '.join(unknown)}: no such engine in the specs; "
                              f"known: {', '.join(sorted(g.spec.name for g in good))}")
        good = [g for g in good if g.spec.name in only]
    outcomes: list[Outcome] = []
    with build_lock(paths.out), digest_cache(paths.cache / "model-digests.json",
                                             trusted=not force):
        for folder in (paths.out / "engines", paths.out / "logs", paths.records):
            remove_stale_temporaries(folder)
        todo: list[_Plan] = []
        for item in good:
            try:
                plan = _plan(item, paths)
            except TrtdocError as exc:
                outcomes.append(Outcome(item.spec.name, "failed", 0.0,
                                        f"{display_path(item.spec.source)}: {exc}",
                                        item.spec.source))
                continue
            prev = plan.previous
            if (not force and prev is not None and prev.build_key == plan.key
                    and paths.engine(item.spec.name).is_file()):
                view = _spec_view(item.spec, paths)
                if (prev.precision is not None and prev.accuracy is not None
                        and prev.accuracy.get("gate_key") != item.spec.accuracy_key()):
                    try:
                        record, outcome = recheck_accuracy(item, paths, prev)
                    except GateError as exc:
                        outcomes.append(_gate_failed(item, paths, exc, 0.0))
                        continue
                    except TrtdocError as exc:
                        outcomes.append(Outcome(item.spec.name, "failed", 0.0,
                                                f"{display_path(item.spec.source)}: {exc}",
                                                item.spec.source))
                        continue
                    paths.gate(item.spec.name).unlink(missing_ok=True)
                    write_atomic(paths.record(item.spec.name), dumps(record))
                    outcomes.append(outcome)
                    continue
                # The record's own check is the spec's again (say, a tolerance edit undone):
                # a failed gate of an edit in between no longer applies.
                paths.gate(item.spec.name).unlink(missing_ok=True)
                if dict(prev.spec) != view:
                    write_atomic(paths.record(item.spec.name), dumps(prev.with_spec(view)))
                    changed = sorted(k for k in view if view[k] != prev.spec.get(k))
                    note = ("; no precision step, so nothing to check"
                            if "accuracy" in changed else "")
                    outcomes.append(Outcome(item.spec.name, "updated", 0.0,
                                            f"{', '.join(changed)} only{note}; engine "
                                            "unchanged", item.spec.source))
                else:
                    outcomes.append(Outcome(item.spec.name, "up-to-date", 0.0, "",
                                            item.spec.source))
                continue
            todo.append(plan)
        outcomes.extend(_execute(todo, paths, jobs, on_event))
    order = {g.spec.name: i for i, g in enumerate(good)}
    outcomes.sort(key=lambda o: order.get(o.name, len(order)))
    return RunResult(tuple(outcomes), tuple(spec_errors))


def _execute(todo: Sequence[_Plan], paths: OutputPaths, jobs: int,
             on_event: OnEvent | None) -> list[Outcome]:
    if not todo:
        return []
    if jobs <= 1 or len(todo) == 1:
        # In-process: no interpreter start or TensorRT import beyond the one a bare script pays.
        return [_run_one(p.item, paths, p.key, p.model_sha, p.choice, on_event) for p in todo]
    # Imported here: a serial build, the common case, does not pay for them.
    import concurrent.futures as cf
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue() if on_event else None
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set() or (queue is not None and not queue.empty()):
            try:
                event = queue.get(timeout=0.1)  # type: ignore[union-attr]
            except Exception:
                continue
            on_event(event)  # type: ignore[misc]

    pumper = threading.Thread(target=pump, daemon=True) if queue is not None else None
    if pumper:
        pumper.start()
    # Longest builds first (as long as they took last time; unknown ones count as long), so
    # that no worker is left with a long build while the other has nothing to do.
    longest_first = sorted(todo, key=lambda p: -(p.previous.build_seconds or 1e9)
                           if p.previous is not None else -1e9)
    results: list[Outcome] = []
    try:
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                    initargs=(queue,)) as pool:
            futures = {pool.submit(_worker, p.item, paths, p.key, p.model_sha, p.choice): p
                       for p in longest_first}
            for fut in cf.as_completed(futures):
                p = futures[fut]
                try:
                    results.append(fut.result())
                except cf.process.BrokenProcessPool as exc:
                    results.append(Outcome(p.item.spec.name, "failed", 0.0,
                                           f"{display_path(p.item.spec.source)}: the build "
                                           f"process died ({exc}); run it alone with --jobs 1 "
                                           "to see the builder's last words",
                                           p.item.spec.source))
    finally:
        stop.set()
        if pumper:
            pumper.join(timeout=5)
        if queue is not None:
            queue.close()
    return results


def check_records(spec_paths: Sequence[Path], paths: OutputPaths) -> RunResult:
    """What ``build --check`` reports: records whose specs, models or backend changed.

    Nothing is built, so this runs in CI without a GPU and in seconds.
    """
    good, spec_errors = check_specs(spec_paths)
    changed: list[Path] = []
    outcomes: list[Outcome] = []
    for item in good:
        plan = _plan(item, paths)
        prev = plan.previous
        if (prev is None or prev.build_key != plan.key
                or dict(prev.spec) != _spec_view(item.spec, paths)):
            changed.append(paths.record(item.spec.name))
            outcomes.append(Outcome(item.spec.name, "stale", 0.0, "record out of date",
                                    item.spec.source))
        else:
            outcomes.append(Outcome(item.spec.name, "up-to-date", 0.0, "", item.spec.source))
    return RunResult(tuple(outcomes), tuple(spec_errors), tuple(changed))

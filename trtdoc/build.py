"""The build stage: spec → (precision step) → TensorRT build → inspection → record.

One failing spec never stops the others and never overwrites its last good engine, log or
record: everything is written atomically, and only after the whole engine succeeded. A lock
keeps two builds of one output folder apart. Nothing here prints; progress goes to ``on_event``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
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
    os_error_message,
)
from trtdoc.findings import fp32_candidates, with_findings
from trtdoc.lock import project_lock
from trtdoc.model import (
    ModelFacts,
    digest_cache,
    file_sha256,
    model_digest,
    model_facts_from_onnx,
    model_file_digests,
)
from trtdoc.paths import OutputPaths
from trtdoc.project import project_path, project_root
from trtdoc.record import (
    EngineRecord,
    Host,
    ModelFile,
    NotRun,
    RecordError,
    dumps,
    read_record,
    write_atomic,
)
from trtdoc.spec import EngineSpec, LoadedSpec, SpecError

Event = tuple[str, str, str, int, int]  # (engine, kind, text, step, total)
OnEvent = Callable[[Event], None]


_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Outcome:
    """What happened to one engine in a run."""

    name: str
    status: str  # built | up-to-date | updated | failed
    seconds: float = 0.0
    message: str = ""
    spec_path: Path | None = None
    # Stored engines this run wrote or replaced that this engine's record does not name (any
    # other record may still): deleted at the end of the run if none does.
    released: tuple[str, ...] = ()
    # Times the build was run again because the machine building it failed (``--ray``).
    node_retries: int = 0


@dataclass(frozen=True)
class RunResult:
    outcomes: tuple[Outcome, ...]
    spec_errors: tuple[SpecError, ...] = ()
    would_change: tuple[Path, ...] = ()
    # ``build --check``: the records as a build would leave them, where that is known without
    # building (documentation edits applied, removed records left out); None for a build.
    expected: tuple[EngineRecord, ...] | None = None
    # ``build --check``: engines whose record a build would replace with one not known yet.
    rebuilt: tuple[str, ...] = ()

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
    (("workspace", "memory pool", "insufficient memory", r"out ?of ?memory", "scratch",
      "requested size was"), ("memory", "workspace")),
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


_REQUESTED = re.compile(r"Requested size was (\d+) bytes", re.IGNORECASE)


def workspace_hint(messages: Sequence[tuple[str, str]]) -> str:
    """For a build that ran out of workspace (``OutOfMemory (Requested size was N bytes)``):
    the size to raise ``memory.workspace`` to; empty otherwise."""
    sizes = [int(m.group(1)) for _, text in messages for m in _REQUESTED.finditer(text)]
    if not sizes:
        return ""
    need = max(sizes)
    mib = -(-need // 2**20)  # rounded up, so that the hint is enough
    # Measured on mobilenet-v2 (batch 32): 8 MiB → asked 15,053,984 bytes; 15 MiB → asked
    # 22,394,016. Each limit lets the builder try tactics that may want more, so "at least".
    return (f". The builder asked for {need:,} bytes in one workspace request, more than "
            f"memory.workspace allows: raise it to at least {mib} MiB "
            f"(`memory: {{workspace: {mib}MiB}}`); with more room it may try tactics that "
            "ask for more, so leave headroom (for example 1GiB)")


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
    # Nothing Python-heavy may run beside this call: the builder calls the Python logger
    # thousands of times, and each call waits for the GIL (a template-compiling thread made a
    # bert_tiny build 2 s slower).
    plan = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - started
    if plan is None:
        errors = [m for sev, m in messages if sev in ("ERROR", "INTERNAL_ERROR")]
        text = errors[-1] if errors else "build_serialized_network returned nothing"
        raise _build_error(spec, f"the builder failed: {text}{workspace_hint(messages)}",
                           blame(errors), messages)
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
    """Changes exactly when the engine would: settings, model bytes, backend and its version,
    and for a converted model the converter's recipe and version. The last part changes when
    what a record names does (record-2: engines are stored by sha256)."""
    recipe = ""
    if spec.precision != "fp32" and spec.precision_method == "model":
        from trtdoc.precision import recipe_key

        recipe = recipe_key(spec.precision)
    parts = (spec.build_key(), model_sha, choice.name, choice.version, choice.cuda or "", recipe,
             "record-2")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _spec_view(spec: EngineSpec, paths: OutputPaths) -> dict[str, Any]:
    return spec.to_dict(base=project_root(spec.source, paths.records))


def _previous(paths: OutputPaths, name: str) -> EngineRecord | None:
    p = paths.record(name)
    if not p.is_file():
        return None
    try:
        record = read_record(p)
    except RecordError:
        return None  # an unreadable record is rebuilt, not trusted
    # A record under another engine's file name (hand-edited) is not this engine's either.
    return record if record.name == name else None


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
    """Run the precision step, the build and the inspection; return the record (not written).

    The engine is written to the engine store under its sha256, which no record names yet.
    """
    prev = _previous(paths, item.spec.name)
    return _build_once(item, paths, key, model_sha, choice, on_event,
                       prev.engine_sha256 if prev else None)[0]


# Where a made engine goes: ``store(plan, previous_sha) -> (file, sha256)``. A local build
# writes it to the engine store; a Ray task only hashes it and hands the bytes to the driver.
Store = Callable[[memoryview, "str | None"], tuple[Path, str]]


def _build_once(item: LoadedSpec, paths: OutputPaths, key: str | _Keys, model_sha: str,
                choice: BackendChoice, on_event: OnEvent | None,
                previous_sha: str | None = None, store: Store | None = None
                ) -> tuple[EngineRecord, tuple[tuple[str, str], ...]]:
    from trtdoc.header import engine_facts_from_header
    from trtdoc.inspect import Inspection, inspection_from_build_log

    spec = item.spec
    if isinstance(key, _Failing):
        key.result()  # the model could not be hashed: this engine fails now, before building
    root = project_root(spec.source, paths.records)
    facts = model_facts_from_onnx(spec.model)
    model_path = spec.model
    precision: dict[str, Any] | None = None
    accuracy: dict[str, Any] | None = None
    if spec.precision != "fp32" and spec.precision_method == "model":
        model_path, precision, accuracy = _precision_step(item, paths, facts, root, on_event)
    built = engine_from_spec(spec, choice, model_path, on_event, facts.custom_domains)
    # Writing (and fsyncing) the plan overlaps reading the build log: the disk and the CPU.
    if store is None:
        def store(plan: memoryview, previous: str | None) -> tuple[Path, str]:
            return _store_engine(paths, plan, previous)
    storing = _Background(lambda: store(built.plan, previous_sha))
    if on_event:
        on_event((spec.name, "phase", "Inspecting", 0, 0))
    not_run = list(_not_run(choice, precision is not None))
    try:
        inspection = inspection_from_build_log((m for _, m in built.messages),
                                               onnx_nodes=facts.node_names,
                                               onnx_tensors=facts.tensor_names)
    except InspectError as exc:
        # The engine itself is fine; the page says the layers could not be read, and why.
        inspection = Inspection(source="build-log", layers=(), io=())
        not_run.append(NotRun("layer inspection", str(exc)))
    header = engine_facts_from_header(built.plan)
    if not isinstance(key, str):  # hashed beside the build (see _plan); done by now, mostly
        key = key.result()[0]
    files = tuple(ModelFile(project_path(f, root), size, sha)
                  for f, size, sha in model_file_digests(spec.model))
    engine_path, engine_sha = storing.result()
    record = EngineRecord(
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
        backend_cuda=choice.cuda,
        host=Host.current(),
        settings=settings_table(spec, choice.name, built.effective, built.defaults),
        applied=built.applied,
        build_seconds=round(built.seconds, 3),
        engine_path=project_path(engine_path, root),
        engine_bytes=len(built.plan),
        engine_sha256=engine_sha,
        header=header,
        inspection=inspection,
        precision=MappingProxyType(precision) if precision else None,
        accuracy=MappingProxyType(accuracy) if accuracy else None,
        warnings=tuple(sorted({m.strip() for sev, m in built.messages if sev == "WARNING"})),
        not_run=tuple(not_run),
        trtdoc_version=__version__,
    )
    # The findings read the model that was built (after the precision step: its Q/DQ and
    # casts), and the fp32 variant's record as it is on disk now (see trtdoc.findings).
    built_facts = facts if model_path == spec.model else model_facts_from_onnx(model_path)
    record = with_findings(record, model=built_facts,
                           records=fp32_candidates(paths.records, record))
    return record, built.messages


class _Failing:
    """Keys whose computation failed: ``result()`` raises it again, inside ``_run_one``."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def result(self) -> Any:
        raise self._error


# The build key (and model digest) of a plan: known already, or being computed beside the build.
_Keys = "_Done | _Background | _Failing"


class _Done:
    """A value already known, with :class:`_Background`'s ``result()``."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self) -> Any:
        return self._value


class _Background:
    """``fn()`` in a thread; ``result()`` waits for it and returns its value or raises its
    exception, so work overlapped is reported exactly as if it had run in line."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised by result()
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _store_engine(paths: OutputPaths, plan: memoryview, previous_sha: str | None = None
                  ) -> tuple[Path, str]:
    """Write ``plan`` to the engine store under its sha256; return the file and the sha256.

    Hashing (CPU) and writing (disk) a plan of hundreds of MB each take a while; hashlib
    releases the GIL, so they overlap: the bytes go to a temporary file that is renamed once
    its hash is known. A rebuild that reproduces the previous engine (``previous_sha``, stored
    intact, of the same size) is not written again: the write and its fsync were 0.2 s of a
    1.3 s resnet18 build.
    """
    import tempfile

    if previous_sha and _SHA256.fullmatch(previous_sha):
        stored = paths.engine_file(previous_sha)
        try:
            same_size = stored.is_file() and stored.stat().st_size == len(plan)
        except OSError:
            same_size = False
        if same_size:
            # The plan's hash (needed anyway) and the stored file's, side by side: hashlib
            # releases the GIL, so on two cores this costs one hash, not two (measured: a byte
            # compare of 320 MB is slower than its sha256 here).
            hashing = _Background(lambda: hashlib.sha256(plan).hexdigest())
            stored_sha = file_sha256(stored)
            if stored_sha == previous_sha and hashing.result() == previous_sha:
                return stored, previous_sha

    store = paths.engine_file("0" * 64).parent
    try:
        store.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".engine.", suffix=".tmp", dir=store)
    except OSError as exc:
        raise TrtdocError(os_error_message(exc, store)) from None
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(hashlib.sha256(plan).hexdigest()))
    hasher.start()
    try:
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; engines are shared
            with os.fdopen(fd, "wb") as f:
                f.write(plan)
                f.flush()
                os.fsync(f.fileno())
        finally:
            hasher.join()
        target = paths.engine_file(digest[0])
        if target.is_file() and file_sha256(target) == digest[0]:
            Path(tmp).unlink()  # stored already (an identical engine): keep its links
        else:
            os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TrtdocError(os_error_message(exc, store)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, digest[0]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


@dataclass(frozen=True)
class Made:
    """One engine made and not yet published: its record (naming the engine by sha256), the
    build log and how many builds it took to get the recorded bytes (see
    :data:`REPRODUCE_ATTEMPTS`). ``stored``: engines written to the store on the way."""

    record: EngineRecord
    messages: tuple[tuple[str, str], ...]
    attempts: int = 1
    # Times the engine was built again after the machine building it failed (a Ray retry).
    node_retries: int = 0
    retried_note: str = ""


def make_engine(item: LoadedSpec, paths: OutputPaths, key: str | _Keys, model_sha: str,
                choice: BackendChoice, on_event: OnEvent | None,
                previous: tuple[str | None, str] | None, store: Store | None = None,
                stored: list[str] | None = None) -> Made:
    """Build one engine until it has the recorded bytes (when the settings are the recorded
    ones), publishing nothing: what a ``--jobs`` worker and a Ray task both run.

    ``previous`` is ``(engine sha256, build key)`` of the current record. ``stored`` (if given)
    collects the sha256 of every engine the store was handed, even if a later attempt fails.
    """
    stored = [] if stored is None else stored
    attempts = 0
    prev_sha, prev_key = previous if previous is not None else (None, "")
    while True:
        attempts += 1
        record, messages = _build_once(item, paths, key, model_sha, choice, on_event,
                                       prev_sha, store)
        stored.append(record.engine_sha256 or "")
        # TensorRT-RTX does not always serialise an engine byte for byte alike from one build
        # to the next (measured: bert-tiny, and now and then mobilenet). Building again usually
        # writes the recorded bytes, and only then is the record's engine sha256 true of the
        # engine on disk.
        if (attempts >= REPRODUCE_ATTEMPTS
                or not _other_bytes(record, prev_sha, prev_key)):
            break
    return Made(record, messages, attempts)


def _run_one(item: LoadedSpec, paths: OutputPaths, key: str | _Keys, model_sha: str,
             choice: BackendChoice, on_event: OnEvent | None,
             made: Callable[[list[str]], Made] | None = None,
             started: float | None = None) -> Outcome:
    """Build one engine and publish it; any failure is this engine's alone.

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
        return Outcome(name, "failed", time.perf_counter() - started, message, item.spec.source,
                       released=tuple(stored))

    try:
        return _build_and_publish(item, paths, key, model_sha, choice, on_event, started,
                                  stored, made)
    except GateError as exc:
        try:
            return _gate_failed(item, paths, exc, time.perf_counter() - started)
        except OSError as os_exc:
            return failed(f"{exc}; and {os_error_message(os_exc, paths.gate(name).parent)}")
    except BuildError as exc:
        if exc.details:
            with contextlib.suppress(OSError):  # the one line below still says what failed
                _write_log(paths.failed_log(name), [("LOG", d) for d in exc.details])
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


def _build_and_publish(item: LoadedSpec, paths: OutputPaths, key: str | _Keys, model_sha: str,
                       choice: BackendChoice, on_event: OnEvent | None,
                       started: float, stored: list[str],
                       made: Callable[[list[str]], Made] | None = None) -> Outcome:
    name = item.spec.name
    state, _ = record_state(paths, name)
    previous = _previous(paths, name) if state == "ok" else None
    if made is None:
        result = make_engine(item, paths, key, model_sha, choice, on_event,
                             (previous.engine_sha256, previous.build_key) if previous else None,
                             stored=stored)
    else:
        result = made(stored)
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
            _commit(paths, name, text)
        detail = (f"engine sha256 {record.engine_sha256[:12]}… equals the record's{tries}; "
                  f"record {'kept' if kept else 'refreshed'}")
        status = "reproduced"
    else:
        try:
            if state in ("newer", "unreadable"):
                _set_aside(paths, name)  # never overwritten: what this trtdoc cannot read
            _keep_previous(paths, record)
        except OSError as exc:
            raise TrtdocError(os_error_message(exc, paths.records / ".history")) from None
        _commit(paths, name, dumps(record))
        detail = f"{record.engine_bytes:,} bytes in {record.build_seconds:.2f} s"
        if _same_engine_other_bytes(record, previous):
            detail += (f"; the recorded settings, but other bytes in {attempts} builds: "
                       "TensorRT did not serialise this engine alike, so the record now names "
                       "the new sha256")
        status = "built"
    # After the commit point: what follows only points at what the record already says.
    try:
        paths.gate(name).unlink(missing_ok=True)  # this build passed its gate
        _write_log(paths.log(name), messages)
        _link_engine(paths, name, record.engine_sha256 or "")
    except OSError as exc:
        folder = Path(exc.filename).parent if exc.filename else paths.out
        raise TrtdocError(f"the engine and its record were written, but "
                          f"{os_error_message(exc, folder)}; the next build completes it"
                          ) from None
    if result.retried_note:
        detail += f"; {result.retried_note}"
    released = {*stored, previous.engine_sha256 if previous else ""} - {record.engine_sha256, ""}
    return Outcome(name, status, time.perf_counter() - started, detail, item.spec.source,
                   released=tuple(sorted(released)), node_retries=result.node_retries)


def names_its_engine(record: EngineRecord, paths: OutputPaths, spec_source: Path) -> bool:
    """Whether a built record names its engine as a build does: the stored file of its sha256
    (a hand-edited ``engine.path`` to anything else is not trusted). The path is relative to
    the project root; of the spec's, or of the folder holding the records."""
    sha = record.engine_sha256 or ""
    if not _SHA256.fullmatch(sha) or not record.engine_path:
        return False
    stored = os.path.realpath(paths.engine_file(sha))
    roots = {project_root(spec_source, paths.records),
             project_root(paths.records / "_", paths.records)}
    return any(os.path.realpath(root / record.engine_path) == stored for root in roots)


def record_state(paths: OutputPaths, name: str) -> tuple[str, str]:
    """``(state, why)`` of ``name``'s record: ``missing``, ``ok``, ``newer`` (written by a newer
    trtdoc) or ``unreadable`` (damaged, edited, not a regular file). Never blocks: a FIFO is
    not opened for reading, and a symbolic link is not followed."""
    from trtdoc.errors import FutureRecordError

    path = paths.record(name)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing", ""
    except OSError as exc:
        return "unreadable", os_error_message(exc, paths.records, "read")
    import stat

    if not stat.S_ISREG(st.st_mode):
        return "unreadable", f"{display_path(path)}: not a regular file, so not a record"
    try:
        read_record(path)
    except FutureRecordError as exc:
        return "newer", str(exc)
    except RecordError as exc:
        return "unreadable", str(exc)
    return "ok", ""


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


def _commit(paths: OutputPaths, name: str, text: str) -> None:
    """Replace the record: the step that publishes a new engine (or leaves the last one)."""
    try:
        write_atomic(paths.record(name), text)
    except OSError as exc:
        raise TrtdocError(f"{os_error_message(exc, paths.records)}; the new engine was not "
                          "published: the last good engine, record and page were kept"
                          ) from None


def _link_engine(paths: OutputPaths, name: str, sha256: str) -> None:
    """Point ``engines/<name>.engine`` at the stored engine (a hard link, else a copy)."""
    import shutil
    import tempfile

    source = paths.engine_file(sha256)
    target = paths.engine(name)
    try:
        if target.is_file() and os.path.samefile(source, target):
            return
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(source, tmp)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                raise
            shutil.copyfile(source, tmp)  # a file system without hard links
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
REPRODUCE_ATTEMPTS = 10


def _same_engine_other_bytes(record: EngineRecord, previous: EngineRecord | None) -> bool:
    """The recorded build again (same build key) but not its bytes.

    The key covers every input of the build, so other bytes are TensorRT's own variation:
    measured here, the same spec gave other byte layouts of the same layers, sometimes a few
    bytes longer, from one process to the next.
    """
    if previous is None:
        return False
    return _other_bytes(record, previous.engine_sha256, previous.build_key)


def _other_bytes(record: EngineRecord, previous_sha: str | None, previous_key: str) -> bool:
    if previous_sha in (None, record.engine_sha256):
        return False
    return previous_key == record.build_key


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


def _warm_worker(backend: str) -> None:
    """Import what a build needs, so that the first build in this worker does not wait for
    it (run while the parent is still planning)."""
    from trtdoc.backends import BACKENDS
    from trtdoc.header import engine_facts_from_header  # noqa: F401
    from trtdoc.inspect import inspection_from_build_log  # noqa: F401

    with contextlib.suppress(Exception):  # the build reports a backend that cannot load
        import_backend(BACKENDS[backend])


class _Workers:
    """``--jobs`` worker processes, started (and importing TensorRT) as soon as a run may need
    them, so that their start-up overlaps the planning (hashing models, reading records)
    instead of delaying the first build. Events of their builds are pumped to ``on_event``."""

    def __init__(self, jobs: int, on_event: OnEvent | None, backend: str) -> None:
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.on_event = on_event
        self.queue = ctx.Queue() if on_event else None
        self.stop = threading.Event()
        self.pumper = (threading.Thread(target=self._pump, daemon=True)
                       if self.queue is not None else None)
        if self.pumper:
            self.pumper.start()
        self.pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                           initializer=_init_worker,
                                           initargs=(self.queue, os.getpid()))
        self.warming = [self.pool.submit(_warm_worker, backend) for _ in range(jobs)]

    def _pump(self) -> None:
        queue = self.queue
        while not self.stop.is_set() or (queue is not None and not queue.empty()):
            try:
                event = queue.get(timeout=0.1)  # type: ignore[union-attr]
            except Exception:
                continue
            self.on_event(event)  # type: ignore[misc]

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
    return _run_one(item, paths, key, model_sha, choice,
                    _EVENTS.put if _EVENTS is not None else None)


# --------------------------------------------------------------------------------------------
# A whole run
# --------------------------------------------------------------------------------------------
@contextmanager
def build_lock(paths: OutputPaths) -> Iterator[None]:
    """Hold the project's lock on everything a build writes: the build folder and records."""
    with project_lock((paths.out, paths.records), "build"):
        yield


@dataclass(frozen=True)
class _Plan:
    item: LoadedSpec
    keys: _Background  # (build key, model digest)
    choice: BackendChoice
    previous: EngineRecord | None

    @property
    def key(self) -> str:
        return self.keys.result()[0]  # type: ignore[no-any-return]

    @property
    def model_sha(self) -> str:
        return self.keys.result()[1]  # type: ignore[no-any-return]


def _plan(item: LoadedSpec, paths: OutputPaths, *, later: bool = False) -> _Plan:
    """The plan of one build. With ``later`` (``--force``: the key decides nothing, the record
    only stores it), the model is hashed in a thread while the builder reads the same bytes:
    a 2 GiB model's hash took 1.3 s of a 7.5 s build, in line before it."""
    spec = item.spec
    choice = choose_backend(spec.backend)

    def keys() -> tuple[str, str]:
        model_sha = model_digest(spec.model)
        return build_key(spec, model_sha, choice), model_sha

    # The precision step reads the model too (and hashes it for its cache): no overlap then.
    overlap = later and (spec.precision == "fp32" or spec.precision_method != "model")
    return _Plan(item, _Background(keys) if overlap else _Done(keys()), choice,
                 _previous(paths, spec.name))


def build_all(spec_paths: Sequence[Path], paths: OutputPaths, *, jobs: int = 1,
              force: bool = False, only: Sequence[str] = (),
              on_event: OnEvent | None = None,
              on_published: Callable[[], None] | None = None,
              publish_last: bool = True, ray: str | None = None) -> RunResult:
    """Build every spec under ``spec_paths`` that changed (all of them with ``force``).

    With ``ray`` (a Ray cluster address, or ``auto``), each build is a task on that cluster
    (see :mod:`trtdoc.ray_build`); this process still plans, publishes and writes every record.
    No task is submitted, and the cluster is not even contacted, when nothing needs building.

    ``on_published`` is called after each engine is published (its record replaced), so the
    pages can follow the records during a long run, not only at its end; with
    ``publish_last=False`` not after the last one of a serial run (the caller renders then).

    Records of engines whose spec under ``spec_paths`` was deleted (or renamed) are removed,
    with a copy in history, so their pages go too.
    """
    good, spec_errors = check_specs(spec_paths)
    every = good
    outcomes: list[Outcome] = []
    if only:
        outcomes.extend(_unknown_only(only, good, spec_errors))
        good = [g for g in good if g.spec.name in only]
    with build_lock(paths), digest_cache(paths.cache / "model-digests.json",
                                         trusted=not force):
        # Workers start now when --force means every engine builds (else only once planning
        # finds more than one to build: a no-op run must not pay for them).
        workers = (_Workers(jobs, on_event, _likely_backend(good))
                   if jobs > 1 and force and len(good) > 1 and ray is None else None)
        try:
            todo: list[_Plan] = []
            for item in good:
                outcome, plan = _decide(item, paths, force)
                if outcome is not None:
                    outcomes.append(outcome)
                if plan is not None:
                    todo.append(plan)
            if ray is not None:
                from trtdoc.ray_build import execute_on_ray

                outcomes.extend(execute_on_ray(todo, paths, ray, on_event, on_published))
            else:
                if workers is None and jobs > 1 and len(todo) > 1:
                    workers = _Workers(jobs, on_event, todo[0].choice.name)
                outcomes.extend(_execute(todo, paths, jobs, on_event, on_published,
                                         publish_last, workers))
        finally:
            if workers is not None:
                workers.close()
        if not only:
            outcomes.extend(_remove_orphans(spec_paths, every, spec_errors, paths))
        _collect_engines(paths, {sha for o in outcomes for sha in o.released})
    order = {g.spec.name: i for i, g in enumerate(good)}
    outcomes.sort(key=lambda o: order.get(o.name, len(order)))
    return RunResult(tuple(outcomes), tuple(spec_errors))


def _failed(item: LoadedSpec, message: str) -> Outcome:
    return Outcome(item.spec.name, "failed", 0.0, f"{display_path(item.spec.source)}: {message}",
                   item.spec.source)


def _decide(item: LoadedSpec, paths: OutputPaths, force: bool
            ) -> tuple[Outcome | None, _Plan | None]:
    """What this run does with one engine: an outcome now (up to date, updated, re-checked,
    failed), or a plan to build it."""
    name = item.spec.name
    try:
        state, why = record_state(paths, name)
        if state == "newer" and not force:
            return _failed(item, f"{why}; or pass --force to rebuild it (the newer record "
                           "is then kept as records/.history/<name>.<n>.kept)"), None
        plan = _plan(item, paths, later=force)
    except TrtdocError as exc:
        return _failed(item, str(exc)), None
    except OSError as exc:
        return _failed(item, os_error_message(exc, Path(exc.filename or paths.records).parent,
                                              "read")), None
    except (MemoryError, RecursionError, ValueError, OverflowError) as exc:
        return _failed(item, f"cannot plan this build ({type(exc).__name__}); check the "
                       "model file"), None
    prev = plan.previous
    if force or prev is None or prev.build_key != plan.key:
        return None, plan
    if not names_its_engine(prev, paths, item.spec.source):
        return None, plan  # the record names some other file (edited): it is not trusted
    try:
        intact = _engine_intact(paths, prev)
    except OSError as exc:
        return _failed(item, os_error_message(exc, paths.out / "engines")), None
    if not intact:
        return None, plan
    view = _spec_view(item.spec, paths)
    try:
        if (prev.precision is not None and prev.accuracy is not None
                and prev.accuracy.get("gate_key") != item.spec.accuracy_key()):
            try:
                record, outcome = recheck_accuracy(item, paths, prev)
            except GateError as exc:
                return _gate_failed(item, paths, exc, 0.0), None
            paths.gate(name).unlink(missing_ok=True)
            _commit(paths, name, dumps(record))
            return outcome, None
        # The record's own check is the spec's again (say, a tolerance edit undone): a failed
        # gate of an edit in between no longer applies.
        paths.gate(name).unlink(missing_ok=True)
        if dict(prev.spec) != view:
            _commit(paths, name, dumps(prev.with_spec(view)))
            changed = sorted(k for k in view if view[k] != prev.spec.get(k))
            note = "; no precision step, so nothing to check" if "accuracy" in changed else ""
            return Outcome(name, "updated", 0.0, f"{', '.join(changed)} only{note}; engine "
                           "unchanged", item.spec.source), None
    except TrtdocError as exc:
        return _failed(item, str(exc)), None
    except OSError as exc:
        return _failed(item, os_error_message(exc, paths.records)), None
    return Outcome(name, "up-to-date", 0.0, "", item.spec.source), None


def _engine_intact(paths: OutputPaths, record: EngineRecord) -> bool:
    """Whether the engine ``record`` names is on disk with the recorded sha256 (then its named
    link is made to point at it). A replaced or damaged engine file means a rebuild."""
    sha = record.engine_sha256 or ""
    if not _SHA256.fullmatch(sha):
        return False
    stored = paths.engine_file(sha)
    if not stored.is_file():
        return False
    if file_sha256(stored) != sha:
        stored.unlink()  # damaged: the rebuild writes it again
        return False
    _link_engine(paths, record.name, sha)
    return True


def _remove_orphans(spec_paths: Sequence[Path], good: Sequence[LoadedSpec],
                    spec_errors: Sequence[SpecError], paths: OutputPaths) -> list[Outcome]:
    """Remove the records whose spec file under ``spec_paths`` no longer defines them."""
    from trtdoc.diff import history_path

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
        source = record.spec.get("source") if record.spec else None
        if not isinstance(source, str) or not source or record.name != path.stem:
            continue  # imported, or not ours to judge
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


def _collect_engines(paths: OutputPaths, released: set[str]) -> None:
    """Delete the stored engines in ``released`` that no record names.

    Only engines this run wrote or replaced are candidates: another records folder sharing
    this build folder may name any other. If a record cannot be read, nothing is deleted: it
    may name one of them.
    """
    released = {sha for sha in released if _SHA256.fullmatch(sha)}
    if not released:
        return
    named: set[str] = set()
    for path in paths.records.glob("*.json") if paths.records.is_dir() else ():
        try:
            named.add(read_record(path).engine_sha256 or "")
        except RecordError:
            return
    for sha in released - named:
        with contextlib.suppress(OSError):
            paths.engine_file(sha).unlink()


_PUBLISHED = ("built", "reproduced")


def _likely_backend(good: Sequence[LoadedSpec]) -> str:
    """The backend the first spec will most likely build with (for warming workers)."""
    requested = good[0].spec.backend if good else "auto"
    return "tensorrt-rtx" if requested == "auto" else requested


def _execute(todo: Sequence[_Plan], paths: OutputPaths, jobs: int,
             on_event: OnEvent | None,
             on_published: Callable[[], None] | None = None,
             publish_last: bool = True, workers: _Workers | None = None) -> list[Outcome]:
    if not todo:
        return []

    def published(outcome: Outcome) -> Outcome:
        if on_published is not None and outcome.status in _PUBLISHED:
            on_published()
        return outcome

    if jobs <= 1 or len(todo) == 1:
        # In-process: no interpreter start or TensorRT import beyond the one a bare script pays.
        # Without publish_last, the caller renders after the run anyway: not for the last.
        out = []
        for i, p in enumerate(todo):
            outcome = _run_one(p.item, paths, p.keys, "", p.choice, on_event)
            out.append(published(outcome) if publish_last or i < len(todo) - 1 else outcome)
        return out
    import concurrent.futures as cf

    assert workers is not None, "more than one engine to build with --jobs > 1 has workers"
    # Longest builds first (as long as they took last time; unknown ones count as long), so
    # that no worker is left with a long build while the other has nothing to do.
    longest_first = sorted(todo, key=lambda p: -(p.previous.build_seconds or 1e9)
                           if p.previous is not None else -1e9)
    results: list[Outcome] = []
    futures = {}
    for p in longest_first:
        try:
            key, model_sha = p.keys.result()
        except Exception as exc:  # noqa: BLE001 - as _run_one turns it into this engine's failure
            results.append(_run_one(p.item, paths, _Failing(exc), "", p.choice, None))
            continue
        futures[workers.pool.submit(_worker, p.item, paths, key, model_sha, p.choice)] = p
    for fut in cf.as_completed(futures):
        p = futures[fut]
        try:
            results.append(published(fut.result()))
        except cf.process.BrokenProcessPool as exc:
            results.append(Outcome(p.item.spec.name, "failed", 0.0,
                                   f"{display_path(p.item.spec.source)}: the build "
                                   f"process died ({exc}); run it alone with --jobs 1 "
                                   "to see the builder's last words", p.item.spec.source))
    return results


def check_records(spec_paths: Sequence[Path], paths: OutputPaths,
                  only: Sequence[str] = ()) -> RunResult:
    """What ``build --check`` reports: records whose specs, models, backend or converter
    changed, records that cannot be read or name another engine file, and records whose
    spec is gone.

    Nothing is built, so this runs in CI without a GPU and in seconds. An engine whose backend
    is not installed here fails alone, with its reason; the others are still checked.
    """
    good, spec_errors = check_specs(spec_paths)
    every = good
    outcomes: list[Outcome] = []
    if only:
        outcomes.extend(_unknown_only(only, good, spec_errors))
        good = [g for g in good if g.spec.name in only]
    changed: list[Path] = []
    rebuilt: list[str] = []
    replaced: dict[str, EngineRecord | None] = {}
    for item in good:
        name = item.spec.name
        state, why = record_state(paths, name)
        if state == "newer":
            outcomes.append(_failed(item, why))
            continue
        try:
            plan = _plan(item, paths)
        except TrtdocError as exc:
            outcomes.append(_failed(item, f"cannot check this engine here: {exc}"))
            continue
        except OSError as exc:
            outcomes.append(_failed(item, os_error_message(
                exc, Path(exc.filename or paths.records).parent, "read")))
            continue
        prev = plan.previous
        view = _spec_view(item.spec, paths)
        if prev is None:
            why = "no record yet" if state == "missing" else f"the record cannot be read ({why})"
        elif prev.build_key != plan.key:
            why = "settings, model, backend or converter changed"
        elif not names_its_engine(prev, paths, item.spec.source):
            why = "the record names another engine file than its sha256's"
        elif dict(prev.spec) != view:
            why = ", ".join(sorted(k for k in view if view[k] != prev.spec.get(k))) + " changed"
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
            if replaced[path.stem] is not None:
                expected.append(replaced[path.stem])
            continue
        with contextlib.suppress(RecordError):
            expected.append(read_record(path))
    return RunResult(tuple(outcomes), tuple(spec_errors), tuple(changed),
                     expected=tuple(expected), rebuilt=tuple(rebuilt))


def _unknown_only(only: Sequence[str], good: Sequence[LoadedSpec],
                  spec_errors: Sequence[SpecError]) -> list[Outcome]:
    """``--only`` names no spec defines: an error, or with spec errors a failed outcome each
    (a spec with errors may be the one that defines it)."""
    unknown = sorted(set(only) - {g.spec.name for g in good})
    known = ", ".join(sorted(g.spec.name for g in good)) or "none"
    if unknown and not spec_errors:
        raise TrtdocError(f"--only {', '.join(unknown)}: no such engine in the specs; "
                          f"known: {known}")
    return [Outcome(n, "failed", 0.0, f"--only {n}: no spec that checks defines it (fix the "
                    f"spec problems above, or choose one of: {known})") for n in unknown]

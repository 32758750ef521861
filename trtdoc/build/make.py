"""One engine made, not published: the precision step, the TensorRT build, the inspection and
the record that names the engine by sha256. What a ``--jobs`` worker and a Ray task both run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trtdoc import __version__
from trtdoc.backends import BackendChoice
from trtdoc.backends.cuda import cuda_device_status
from trtdoc.build.deferred import Background, Failing, Keys
from trtdoc.build.engine import engine_from_spec
from trtdoc.build.outcome import OnEvent
from trtdoc.build.precision_step import precision_step
from trtdoc.build.state import previous_record, spec_view
from trtdoc.build.store import Store, store_engine
from trtdoc.builder.settings import settings_table
from trtdoc.errors import GateError, InspectError
from trtdoc.findings.current import fp32_candidates, with_findings
from trtdoc.model import model_facts_from_onnx, model_file_digests
from trtdoc.paths import OutputPaths
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.precision.result import PrecisionResult
from trtdoc.project import project_path, project_root
from trtdoc.record.types import EngineRecord, Host, ModelFile, NotRun
from trtdoc.spec.keys import spec_build_key
from trtdoc.spec.load import LoadedSpec

# How often a build is repeated when it makes the recorded engine in other bytes.
REPRODUCE_ATTEMPTS = 10


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
    prev = previous_record(paths, item.spec.name)
    return _build_once(item, paths, key, model_sha, choice, on_event,
                       prev.engine_sha256 if prev else None)[0]


def _build_once(item: LoadedSpec, paths: OutputPaths, key: str | Keys, model_sha: str,
                choice: BackendChoice, on_event: OnEvent | None,
                previous_sha: str | None = None, store: Store | None = None
                ) -> tuple[EngineRecord, tuple[tuple[str, str], ...]]:
    from trtdoc.cost.layers import inspection_with_costs
    from trtdoc.inspect.build_log import inspection_from_build_log
    from trtdoc.inspect.header import engine_facts_from_header
    from trtdoc.inspect.types import Inspection

    spec = item.spec
    if isinstance(key, Failing):
        key.result()  # the model could not be hashed: this engine fails now, before building
    root = project_root(spec.source, paths.records)
    facts = model_facts_from_onnx(spec.model)
    model_path = spec.model
    precision: PrecisionResult | None = None
    accuracy: AccuracyReport | None = None
    if spec.precision != "fp32" and spec.precision_method == "model":
        try:
            model_path, precision, accuracy = precision_step(item, paths, facts, root,
                                                             on_event)
        except GateError:
            raise
        except Exception as exc:
            exc.trtdoc_stage = "conversion"  # type: ignore[attr-defined]
            raise
    try:
        built = engine_from_spec(spec, choice, model_path, on_event, facts.custom_domains,
                                 facts.op_histogram)
    except Exception as exc:
        # The gate passed, then the builder failed: its figures go with the failure.
        exc.trtdoc_figures = accuracy  # type: ignore[attr-defined]
        raise
    # Writing (and fsyncing) the plan overlaps reading the build log: the disk and the CPU.
    if store is None:
        def store(plan: memoryview, previous: str | None) -> tuple[Path, str]:
            return store_engine(paths, plan, previous)
    storing = Background(lambda: store(built.plan, previous_sha))
    if on_event:
        on_event((spec.name, "phase", "Inspecting", 0, 0))
    not_run = list(_not_run(choice, precision is not None))
    try:
        inspection = inspection_from_build_log((m for _, m in built.messages),
                                               onnx_nodes=facts.node_names,
                                               onnx_tensors=facts.tensor_names)
        inspection = inspection_with_costs(inspection, model_path,
                                           cache=paths.cache / "model-shapes")
    except InspectError as exc:
        # The engine itself is fine; the page says the layers could not be read, and why.
        inspection = Inspection(source="build-log", layers=(), io=())
        not_run.append(NotRun("layer inspection", str(exc)))
    header = engine_facts_from_header(built.plan)
    if not isinstance(key, str):  # hashed beside the build (see plan_build); done by now, mostly
        key = key.result()[0]
    files = tuple(ModelFile(project_path(f, root), size, sha)
                  for f, size, sha in model_file_digests(spec.model))
    engine_path, engine_sha = storing.result()
    record = EngineRecord(
        name=spec.name,
        build_key=key,
        spec=spec_view(spec, paths),
        spec_hash=spec_build_key(spec),
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
        precision=precision,
        accuracy=accuracy,
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


def make_engine(item: LoadedSpec, paths: OutputPaths, key: str | Keys, model_sha: str,
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
                or not other_bytes(record, prev_sha, prev_key)):
            break
    return Made(record, messages, attempts)


def other_bytes(record: EngineRecord, previous_sha: str | None, previous_key: str) -> bool:
    """Whether ``record`` names other engine bytes than ``previous_sha`` for the same build key
    (``previous_key``): the recorded build again, but TensorRT serialised it differently."""
    if previous_sha in (None, record.engine_sha256):
        return False
    return previous_key == record.build_key

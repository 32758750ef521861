"""Records for engines built elsewhere, from the files trtexec exports.

``trtexec --exportLayerInfo=X.graph.json --exportProfile=X.profile.json`` on a GPU machine
gives the inspector's layer JSON and per-layer timings; ``trtdoc import`` turns them into a
record, so the engine gets a page like any other. What trtdoc could not see (the spec, the
builder settings, the host) is listed as not known rather than guessed; what the layers show
is stated from them instead (the page's precision is their precision mix, see
:meth:`trtdoc.inspect.Inspection.precision_summary`, and their weights' types are kept).

``--gpu`` names the GPU trtexec ran the engine on (any name ``trtdoc compat`` knows), so the
compatibility matrix can say the engine runs on that architecture; ``--times``
(``trtexec --exportTimes``) adds the latency summary the page draws (see
:class:`~trtdoc.record.types.Profiled`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from trtdoc import __version__
from trtdoc.compat.gpus import Gpu, UnknownGpu, find_gpu
from trtdoc.errors import RecordError, TrtdocError, display_path
from trtdoc.findings.current import with_findings
from trtdoc.inspect.trtexec import inspection_from_trtexec
from trtdoc.model import file_sha256, model_digest, model_facts_from_onnx
from trtdoc.record.types import EngineRecord, Host, NotRun, Profiled
from trtdoc.spec.section import ImportedSpec


def record_from_trtexec(name: str, layer_info: Path, profile: Path | None = None, *,
                        model: Path | None = None, engine: Path | None = None,
                        backend_version: str = "unknown", gpu: str | None = None,
                        times: Path | None = None) -> EngineRecord:
    """A record for an engine that trtexec built and exported, with per-layer times if given,
    the GPU it ran on (``gpu``, a name ``trtdoc compat`` knows) and the latency summary of
    ``trtexec --exportTimes`` (``times``)."""
    from trtdoc.inspect.header import engine_facts_from_header
    from trtdoc.inspect.trtexec import latency_from_trtexec_times

    found = gpu_named(gpu) if gpu is not None else None  # refused before any file is read

    for path, what in ((model, "--model"), (engine, "--engine")):
        if path is not None:
            _regular_file(path, what)
    # Hashed as the parser reads it: a 10^6-layer export is about 850 MiB, read once.
    sha256 = hashlib.sha256()
    inspection = inspection_from_trtexec(layer_info, profile, sha256=sha256)
    latency = latency_from_trtexec_times(times) if times is not None else None
    header = engine_facts_from_header(engine) if engine is not None else None
    version = header.version if header is not None else backend_version
    digest = sha256.hexdigest()
    not_run = [NotRun("trtdoc build", "imported from trtexec exports; the spec and builder "
                      "settings that made this engine are not known")]
    if profile is None:
        not_run.append(NotRun("per-layer timing", "no --exportProfile file was given"))
    if engine is None:
        not_run.append(NotRun("engine header", "no engine file was given"))
    if times is None:
        not_run.append(NotRun("latency distribution", "no --exportTimes file was given"))
    engine_bytes = engine.stat().st_size if engine is not None else None
    record = EngineRecord(
        name=name,
        build_key=f"import:{digest}",
        spec=ImportedSpec(name=name, description=f"Imported from {layer_info.name}",
                          imported_from=tuple(sorted(
                              p.name for p in (layer_info, profile, times) if p is not None))),
        spec_hash="",
        model_path=display_path(model) if model is not None else "",
        model_sha256=model_digest(model) if model is not None else "",
        model=model_facts_from_onnx(model) if model is not None else None,
        backend="tensorrt",
        backend_version=version,
        backend_reason="imported: built by trtexec elsewhere",
        host=Host("unknown", "unknown", "unknown", 0, None, None),
        settings=(),
        build_seconds=None,
        engine_path=display_path(engine) if engine is not None else None,
        engine_bytes=engine_bytes,
        engine_sha256=file_sha256(engine) if engine else None,
        header=header,
        inspection=inspection,
        not_run=tuple(not_run),
        trtdoc_version=__version__,
        profiled=Profiled(gpu=found.model if found else None,
                          compute_capability=found.compute_capability if found else None,
                          latency=latency) if found or latency else None,
    )
    # An import has no spec, so no requested precision and no fp32 variant: the findings are
    # the layers' (reformats with their measured time share, Q/DQ) and the profiles'.
    return with_findings(record, model=record.model)


def gpu_named(name: str) -> Gpu:
    """The GPU ``--gpu`` names, or one line saying it is not known and how to see the names."""
    try:
        return find_gpu(name)
    except UnknownGpu as exc:
        near = f"did you mean {exc.suggestion!r}? " if exc.suggestion else ""
        raise TrtdocError(f"--gpu: {name[:80]!r} is not a GPU trtdoc knows ({near}`trtdoc "
                          "schema deploy` lists the known models under gpu; a compute "
                          "capability such as 8.0 or sm80 names any GPU)") from None


def _regular_file(path: Path, what: str) -> None:
    """Refuse what is not a regular file (a FIFO would hang a read, /dev/zero never end)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise TrtdocError(f"{display_path(path)}: cannot read the {what} file "
                          f"({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise TrtdocError(f"{display_path(path)}: the {what} file is not a regular file")


def replace_check(record_path: Path, *, force: bool) -> bytes | None:
    """The bytes of the record an import would replace, or None when there is none.

    Without ``force`` an existing record (built or imported) is never replaced: this raises,
    saying what the record came from. With ``force`` the caller keeps the returned bytes in
    the history (``trtdoc.diff.history_path``) before it writes the new record.
    """
    if not record_path.exists() and not record_path.is_symlink():
        return None
    if not record_path.is_file() or record_path.is_symlink():
        raise RecordError("exists and is not a regular file; move it away to import under this "
                          "name", path=record_path)  # never opened: a FIFO would hang
    try:
        old = record_path.read_bytes()
    except OSError as exc:
        raise RecordError(f"exists but cannot be read ({exc.strerror or exc}); move it away to "
                          "import under this name", path=record_path) from None
    if not force:
        raise TrtdocError(f"{display_path(record_path)} exists ({_origin(old)}); pass --force "
                          f"to replace it (the old record goes to "
                          f"{display_path(record_path.parent / '.history')}/)")
    return old


def _origin(raw: bytes) -> str:
    """What a record was made from, in a few words, for the refusal above."""
    try:
        spec = json.loads(raw).get("spec") or {}
    except (ValueError, AttributeError):
        return "not a readable record"
    if spec.get("imported_from"):
        return "imported from " + ", ".join(str(p) for p in spec["imported_from"])
    if spec.get("source"):
        return f"built from {spec['source']}"
    return "made by an earlier trtdoc"

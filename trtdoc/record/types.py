"""The record types: one frozen dataclass per section of a build record's JSON.

A record holds everything a page shows, so pages re-render without rebuilding and without a
GPU. The types below, with the record parts they hold (:class:`~trtdoc.model.ModelFacts`,
:class:`~trtdoc.inspect.header.EngineFacts`, :class:`~trtdoc.inspect.types.Inspection`, ...),
are at once the decoder, the encoder and the JSON Schema, through pydantic's ``TypeAdapter``
(:mod:`trtdoc.record.codec`).

The type tree *is* the JSON layout: ``record.model_section`` is the ``"model"`` object,
``record.backend_section`` the ``"backend"`` one, ``record.engine_section`` the ``"engine"``
one. The flat names the rest of trtdoc uses (``record.model``, ``record.model_path``,
``record.backend``, ``record.engine_sha256``, ``record.header``, ...) are read-only properties,
and ``EngineRecord(...)`` and ``dataclasses.replace`` take them too.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from trtdoc.builder.calls import Applied
from trtdoc.builder.settings import Setting
from trtdoc.findings.types import Finding
from trtdoc.inspect.header import EngineFacts
from trtdoc.inspect.latency import Latency
from trtdoc.inspect.types import Inspection
from trtdoc.model import ModelFacts
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.precision.result import PrecisionResult
from trtdoc.spec.limits import MAX_FINDINGS
from trtdoc.spec.section import ImportedSpec, RecordSpec, SpecSection
from trtdoc.values import EngineBackend

SCHEMA_VERSION = 1
# Unknown keys are refused (a typo, or another tool's field, would vanish on the next write),
# and so are NaN and Infinity, which are not JSON.
_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_Count = Annotated[int, Field(ge=0)]


class _EmptyIsNull:
    """Lets ``{}`` through where a section is optional (an empty section is read as null, as
    trtdoc wrote and read it while sections were free-form); anything else is the section."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.tagged_union_schema(
            {"section": handler(source), "empty": core_schema.dict_schema(max_length=0)},
            discriminator=lambda v: "empty" if v == {} else "section")


_EMPTY_IS_NULL = _EmptyIsNull()


@dataclass(frozen=True)
class NotRun:
    """Something a page would show that did not run, and why."""

    __pydantic_config__ = _CONFIG

    what: str
    reason: str


@dataclass(frozen=True)
class ModelFile:
    """One file of the model (the .onnx file, then each external-data file)."""

    __pydantic_config__ = _CONFIG

    path: str  # relative to the project root
    bytes: _Count
    sha256: _Sha256  # what `sha256sum` prints


@dataclass(frozen=True)
class Host:
    """The machine that built the engine."""

    __pydantic_config__ = _CONFIG

    os: str
    python: str
    cpu: str
    cpu_count: _Count
    gpu: str | None
    driver: str | None
    compute_capability: Annotated[str | None, Field(
        pattern=r"^[0-9]{1,2}\.[0-9]$", description=(
            "Compute capability of the GPU the build ran on (\"8.6\"), as the CUDA driver "
            "reports it; null without a GPU. A TensorRT plan without hardware compatibility "
            "runs only on this compute capability."))] = None

    @classmethod
    def current(cls) -> Host:
        from trtdoc.backends.cuda import cuda_device_status, device_compute_capability

        has_gpu, _ = cuda_device_status()
        return cls(
            os=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
            cpu=_cpu_name(),
            cpu_count=os.cpu_count() or 0,
            gpu="present" if has_gpu else None,
            driver=None,
            compute_capability=device_compute_capability() if has_gpu else None,
        )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass(frozen=True, kw_only=True)
class ModelSection:
    """The ONNX model the engine was built from (``"model"`` in the file)."""

    __pydantic_config__ = _CONFIG

    path: str
    sha256: Annotated[str, Field(description=(
        "sha256 of the .onnx file's bytes, as sha256sum prints it (empty for an import "
        "without a model)"))]
    files: Annotated[tuple[ModelFile, ...], Field(description=(
        "The .onnx file, then each external-data file, each with the sha256 that sha256sum "
        "prints."))] = ()
    facts: ModelFacts | None


@dataclass(frozen=True, kw_only=True)
class BackendSection:
    """The TensorRT flavour that built the engine (``"backend"`` in the file)."""

    __pydantic_config__ = _CONFIG

    name: EngineBackend
    version: str
    reason: Annotated[str, Field(description=(
        "Why this backend was used (auto picks full TensorRT only with a CUDA device)."))]
    cuda: Annotated[str | None, Field(pattern=r"^[0-9]{1,3}$", description=(
        "CUDA major version of the installed builder package (tensorrt_rtx_cu13 → \"13\"); a "
        "TensorRT-RTX plan needs a CUDA runtime no older than this. Null when not known."))] = None


@dataclass(frozen=True, kw_only=True)
class EngineSection:
    """The plan file (``"engine"`` in the file); all null for an import without one."""

    __pydantic_config__ = _CONFIG

    path: str | None
    bytes: _Count | None
    sha256: _Sha256 | None
    header: EngineFacts | None


@dataclass(frozen=True, kw_only=True)
class Profiled:
    """Where trtexec ran an imported engine, and how fast (``trtdoc import --gpu/--times``)."""

    __pydantic_config__ = _CONFIG

    gpu: Annotated[str | None, Field(description=(
        "The GPU trtexec ran the engine on to export its files, as trtdoc compat names it "
        "(\"A100\"); null when not given, or given as a compute capability."))] = None
    compute_capability: Annotated[str | None, Field(pattern=r"^[0-9]{1,2}\.[0-9]$", description=(
        "That GPU's compute capability (\"8.0\"): the engine is known to run there."))] = None
    latency: Annotated[Latency | None, Field(description=(
        "The latency summary of trtexec --exportTimes; null when not given."))] = None


_UNSET: Any = object()


@dataclass(frozen=True, init=False, kw_only=True)
class EngineRecord:
    """Everything known about one built (or imported) engine, in the record's own layout.

    The fields are the JSON keys in file order. Construct it with the flat names (``model``,
    ``model_path``, ``model_sha256``, ``model_files``, ``backend``, ``backend_version``,
    ``backend_reason``, ``engine_path``, ``engine_bytes``, ``engine_sha256``, ``header``) or
    with the sections; a flat name given beside its section wins, which is how
    ``dataclasses.replace(record, header=None)`` works.
    """

    __pydantic_config__ = _CONFIG

    # Not Literal[1], which lets JSON true through (True == 1).
    schema_version: Annotated[int, Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION,
                                         json_schema_extra={"const": SCHEMA_VERSION})]
    trtdoc_version: str = ""
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    build_key: Annotated[str, Field(description=(
        "Hash of settings, model bytes and backend version; unchanged means the engine need "
        "not be rebuilt."))]
    spec_hash: str
    spec: Annotated[RecordSpec, Field(description=(
        "The normalised spec (paths relative to the project root); for an import, the files "
        "it was made from."))]
    model_section: Annotated[ModelSection, Field(alias="model")]
    backend_section: Annotated[BackendSection, Field(alias="backend")]
    host: Host
    settings: Annotated[tuple[Setting, ...], Field(description=(
        "Builder settings read back from the config after trtdoc set them, beside the values "
        "a fresh config holds."))]
    # The builder calls that made the engine, in order: the one source of the reproduce
    # snippet and command line.
    applied: Annotated[tuple[Applied, ...], Field(description=(
        "The builder calls that made the engine, in order. The reproduce snippet and command "
        "line on the page are renderings of this list."))] = ()
    build_seconds: Annotated[float, Field(ge=0)] | None
    engine_section: Annotated[EngineSection, Field(alias="engine")]
    precision: Annotated[PrecisionResult | None, _EMPTY_IS_NULL, Field(description=(
        "The precision step (conversion or quantisation) that ran before the build."))] = None
    accuracy: Annotated[AccuracyReport | None, _EMPTY_IS_NULL, Field(description=(
        "Converted model vs the fp32 model, in ONNX Runtime on the CPU."))] = None
    inspection: Inspection
    warnings: tuple[str, ...]
    not_run: tuple[NotRun, ...]
    # None, not (): a record written before trtdoc stored findings has no key, and readers
    # must tell "none found" from "never computed" (trtdoc.findings.current_findings).
    findings: Annotated[tuple[Finding, ...] | None, Field(max_length=MAX_FINDINGS, description=(
        "What the build tells you about the engine (trtdoc.findings), most severe first; "
        "null in a record written before trtdoc computed them."))] = None
    # Left out when null: a build never has it, and its record stays as it was written.
    profiled: Annotated[Profiled | None, Field(exclude_if=lambda v: v is None, description=(
        "For an import: the GPU trtexec ran it on and its latency summary (trtdoc import "
        "--gpu/--times); absent for a build, or an import without either."))] = None

    def __init__(
        self, *, name: str, build_key: str, spec: SpecSection | ImportedSpec, spec_hash: str,
        host: Host, settings: tuple[Setting, ...], inspection: Inspection,
        build_seconds: float | None = None,
        model_section: ModelSection | None = None,
        backend_section: BackendSection | None = None,
        engine_section: EngineSection | None = None,
        model: ModelFacts | None = _UNSET, model_path: str = _UNSET,
        model_sha256: str = _UNSET, model_files: tuple[ModelFile, ...] = _UNSET,
        backend: EngineBackend = _UNSET, backend_version: str = _UNSET,
        backend_reason: str = _UNSET, backend_cuda: str | None = _UNSET,
        engine_path: str | None = _UNSET, engine_bytes: int | None = _UNSET,
        engine_sha256: str | None = _UNSET, header: EngineFacts | None = _UNSET,
        precision: PrecisionResult | None = None, accuracy: AccuracyReport | None = None,
        warnings: tuple[str, ...] = (), not_run: tuple[NotRun, ...] = (),
        trtdoc_version: str = "", schema_version: int = SCHEMA_VERSION,
        applied: tuple[Applied, ...] = (),
        findings: tuple[Finding, ...] | None = None,
        profiled: Profiled | None = None,
    ) -> None:
        def pick(flat: Any, section: Any, attr: str, default: Any = _UNSET) -> Any:
            if flat is not _UNSET:
                return flat
            if section is not None:
                return getattr(section, attr)
            if default is _UNSET:
                raise TypeError(f"EngineRecord() needs the section or {attr!r}")
            return default

        m, b, e = model_section, backend_section, engine_section
        sections = {
            "model_section": ModelSection(
                path=pick(model_path, m, "path"), sha256=pick(model_sha256, m, "sha256"),
                files=tuple(pick(model_files, m, "files", ())),
                facts=pick(model, m, "facts")),
            "backend_section": BackendSection(
                name=pick(backend, b, "name"),
                version=pick(backend_version, b, "version"),
                reason=pick(backend_reason, b, "reason"),
                cuda=pick(backend_cuda, b, "cuda", None)),
            "engine_section": EngineSection(
                path=pick(engine_path, e, "path"), bytes=pick(engine_bytes, e, "bytes"),
                sha256=pick(engine_sha256, e, "sha256"), header=pick(header, e, "header")),
        }
        values = dict(
            schema_version=schema_version, trtdoc_version=trtdoc_version, name=name,
            build_key=build_key, spec_hash=spec_hash, spec=spec, host=host,
            settings=tuple(settings), applied=tuple(applied), build_seconds=build_seconds,
            precision=precision, accuracy=accuracy, inspection=inspection,
            warnings=tuple(warnings), not_run=tuple(not_run),
            findings=None if findings is None else tuple(findings), profiled=profiled,
            **sections)
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        # Also run by the decoder, which fills the fields without __init__: the free-form
        # mappings are frozen at the top, and an empty precision or accuracy object is None,
        # as it is written.
        for key in ("precision", "accuracy"):
            object.__setattr__(self, key, getattr(self, key) or None)

    # The flat names the build, the importer and the pages use.
    @property
    def model(self) -> ModelFacts | None:
        return self.model_section.facts

    @property
    def model_path(self) -> str:
        return self.model_section.path

    @property
    def model_sha256(self) -> str:
        return self.model_section.sha256

    @property
    def model_files(self) -> tuple[ModelFile, ...]:
        return self.model_section.files

    @property
    def backend(self) -> EngineBackend:
        return self.backend_section.name

    @property
    def backend_version(self) -> str:
        return self.backend_section.version

    @property
    def backend_reason(self) -> str:
        return self.backend_section.reason

    @property
    def backend_cuda(self) -> str | None:
        return self.backend_section.cuda

    @property
    def engine_path(self) -> str | None:
        return self.engine_section.path

    @property
    def engine_bytes(self) -> int | None:
        return self.engine_section.bytes

    @property
    def engine_sha256(self) -> str | None:
        return self.engine_section.sha256

    @property
    def header(self) -> EngineFacts | None:
        return self.engine_section.header

    def with_spec(self, spec: SpecSection | ImportedSpec) -> EngineRecord:
        """The same build with refreshed documentation fields (description, owner, tags)."""
        return replace(self, spec=spec)


@dataclass(frozen=True, kw_only=True)
class FailedGate:
    """The latest failed accuracy gate of an engine (``records/.gates/<name>.json``), kept
    beside its last good record so its page can say what failed."""

    __pydantic_config__ = _CONFIG

    name: str
    violations: tuple[str, ...]  # one line per limit that failed, as the build printed them
    accuracy: AccuracyReport  # the figures measured, with the key of the accuracy settings
    spec: SpecSection  # the spec as it was when the gate failed


@dataclass(frozen=True, kw_only=True)
class FailedBuild:
    """The latest failure of a spec (``records/.failed/<name>.json``): written when a build
    fails at check, conversion, accuracy or build, removed when that spec builds again or is
    gone, so the summary and the engine index show it until it is fixed."""

    __pydantic_config__ = _CONFIG

    name: str  # the engine's name; a spec refused at check time: its file's name
    stage: str  # check | conversion | accuracy | build
    reason: str  # the one line the build printed
    spec_path: str = ""  # the spec file, relative to the project root
    # Accuracy figures measured before a later stage failed (the builder, after the gate passed).
    accuracy: AccuracyReport | None = None

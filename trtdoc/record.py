"""Build records: one schema-versioned JSON file per engine, the seam between build and pages.

A record holds everything a page shows, so pages re-render without rebuilding and without a
GPU. Records are untrusted input (anyone can edit ``records/*.json``), so the one set of frozen
dataclasses below, with the record parts they hold (:class:`~trtdoc.model.ModelFacts`,
:class:`~trtdoc.header.EngineFacts`, :class:`~trtdoc.inspect.Inspection`, ...), is at once
the decoder, the encoder and the JSON Schema, through pydantic's ``TypeAdapter``:

* decoding (:func:`read_record`, :func:`record_from_json`) is strict: a string, a float or a
  boolean where an integer belongs is refused, and so is a key this trtdoc does not write
  (a typo, or a field of another tool, would otherwise vanish on the next write). Each refusal
  is one :class:`RecordError` line naming the file, the field path and the fix;
* encoding (:func:`dumps`) writes the keys in the order of the types' fields;
* ``trtdoc/schema/record.schema.json`` is generated: ``python -m trtdoc.record --schema``.

The type tree *is* the JSON layout: ``record.model_section`` is the ``"model"`` object,
``record.backend_section`` the ``"backend"`` one, ``record.engine_section`` the ``"engine"``
one. The flat names the rest of trtdoc uses (``record.model``, ``record.model_path``,
``record.backend``, ``record.engine_sha256``, ``record.header``, ...) are read-only properties,
and ``EngineRecord(...)`` and ``dataclasses.replace`` take them too.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from trtdoc.builder_config import Applied, Setting
from trtdoc.errors import FutureRecordError, RecordError
from trtdoc.findings import Finding
from trtdoc.header import EngineFacts
from trtdoc.inspect import Inspection
from trtdoc.model import ModelFacts

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "record.schema.json"
SCHEMA_COMMAND = "python -m trtdoc.record --schema > trtdoc/schema/record.schema.json"
# The largest record read. A built engine's record is tens of kB to tens of MB; an import of
# trtexec's export of 10^6 layers (bench/import_scale.py) writes about 1 GB, which renders
# (slowly: ~7 GB of memory) with this limit. A file past it was not written by trtdoc, and
# reading it whole could exhaust memory.
MAX_RECORD_BYTES = 1280 * 1024 * 1024
# The figures of a failed accuracy gate: a few kB per output.
MAX_GATE_BYTES = 16 * 1024 * 1024
FIX = "rebuild it with `trtdoc build --force`"
_EXCERPT = 40  # characters of a bad value an error line quotes

# Unknown keys are refused (a typo, or another tool's field, would vanish on the next write),
# and so are NaN and Infinity, which are not JSON.
_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


def _plain(value: Any) -> Any:
    """Free-form JSON data (``spec``, ``precision``, ``accuracy``) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# A JSON object of free-form JSON values. Decoded from JSON, Any can only be a JSON value; the
# renderer escapes every one of them.
_JsonObject = Annotated[Mapping[str, Any], PlainSerializer(_plain)]
_Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_Count = Annotated[int, Field(ge=0)]


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

    name: Literal["tensorrt", "tensorrt-rtx"]
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
    spec: Annotated[_JsonObject, Field(description=(
        "The normalised spec (paths relative to the working directory of the build)."))]
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
    precision: Annotated[_JsonObject | None, Field(description=(
        "The precision step (conversion or quantisation) that ran before the build."))] = None
    accuracy: Annotated[_JsonObject | None, Field(description=(
        "Converted model vs the fp32 model, in ONNX Runtime on the CPU."))] = None
    inspection: Inspection
    warnings: tuple[str, ...]
    not_run: tuple[NotRun, ...]
    # None, not (): a record written before trtdoc stored findings has no key, and readers
    # must tell "none found" from "never computed" (trtdoc.findings.current_findings).
    findings: Annotated[tuple[Finding, ...] | None, Field(description=(
        "What the build tells you about the engine (trtdoc.findings), most severe first; "
        "null in a record written before trtdoc computed them."))] = None

    def __init__(
        self, *, name: str, build_key: str, spec: Mapping[str, Any], spec_hash: str,
        host: Host, settings: tuple[Setting, ...], inspection: Inspection,
        build_seconds: float | None = None,
        model_section: ModelSection | None = None,
        backend_section: BackendSection | None = None,
        engine_section: EngineSection | None = None,
        model: ModelFacts | None = _UNSET, model_path: str = _UNSET,
        model_sha256: str = _UNSET, model_files: tuple[ModelFile, ...] = _UNSET,
        backend: str = _UNSET, backend_version: str = _UNSET, backend_reason: str = _UNSET,
        backend_cuda: str | None = _UNSET,
        engine_path: str | None = _UNSET, engine_bytes: int | None = _UNSET,
        engine_sha256: str | None = _UNSET, header: EngineFacts | None = _UNSET,
        precision: Mapping[str, Any] | None = None, accuracy: Mapping[str, Any] | None = None,
        warnings: tuple[str, ...] = (), not_run: tuple[NotRun, ...] = (),
        trtdoc_version: str = "", schema_version: int = SCHEMA_VERSION,
        applied: tuple[Applied, ...] = (),
        findings: tuple[Finding, ...] | None = None,
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
                name=pick(backend, b, "name"),  # type: ignore[arg-type]
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
            findings=None if findings is None else tuple(findings), **sections)
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        # Also run by the decoder, which fills the fields without __init__: the free-form
        # mappings are frozen at the top, and an empty one is None, as it is written.
        object.__setattr__(self, "spec", MappingProxyType(dict(self.spec)))
        for key in ("precision", "accuracy"):
            value = getattr(self, key)
            object.__setattr__(self, key, MappingProxyType(dict(value)) if value else None)

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
    def backend(self) -> str:
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

    def with_spec(self, spec: Mapping[str, Any]) -> EngineRecord:
        """The same build with refreshed documentation fields (description, owner, tags)."""
        return replace(self, spec=MappingProxyType(dict(spec)))


# --------------------------------------------------------------------------------------------
# Encoding, decoding and the JSON Schema, all from the types above
# --------------------------------------------------------------------------------------------
@functools.cache
def _adapter() -> TypeAdapter[EngineRecord]:
    return TypeAdapter(EngineRecord)


def record_to_dict(record: EngineRecord) -> dict[str, Any]:
    """JSON-ready data with the file's key order (the types' field order)."""
    data: dict[str, Any] = _adapter().dump_python(record, mode="json", by_alias=True)
    return data


def dumps(record: EngineRecord) -> str:
    """The record as the exact text written to disk (fixed key order, ``\\n`` endings)."""
    from trtdoc.record_text import record_chunks  # that module imports this one

    return "".join(record_chunks(record))


def write_record(path: Path, record: EngineRecord) -> None:
    """``write_atomic(path, dumps(record))`` without the whole text in memory at once."""
    from trtdoc.record_text import record_chunks

    write_atomic(path, record_chunks(record))


def record_from_json(text: str | bytes, *, path: Path | None = None) -> EngineRecord:
    """Decode a record's text; anything but a record this trtdoc writes is a
    :class:`RecordError` (a :class:`FutureRecordError` for a newer schema) naming ``path``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                              f"{exc.start}); {FIX}", path=path) from None
    try:
        return _adapter().validate_json(text, strict=True)
    except ValidationError as exc:
        raise _decode_error(text, exc, path) from None


def read_record(path: Path) -> EngineRecord:
    """Read one record file (at most :data:`MAX_RECORD_BYTES`); see :func:`record_from_json`.

    A record is named after its engine: a file whose ``name`` is another engine's (an edited
    record) is refused, so it can neither stand in for that engine nor replace its page.
    """
    import stat

    try:
        # O_NONBLOCK: a FIFO named *.json must not hang the run.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise RecordError(f"not a regular file, so not a record; remove it. {FIX}",
                                  path=path)
            if st.st_size > MAX_RECORD_BYTES:
                raise RecordError(_too_big(st.st_size), path=path)
            # Read one byte past the limit: a file that grows is caught too.
            raw = f.read(MAX_RECORD_BYTES + 1)
    except OSError as exc:
        raise RecordError(f"cannot read record ({exc.strerror or exc})", path=path) from None
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(_too_big(len(raw)), path=path)
    record = record_from_json(raw, path=path)
    if record.name != Path(path).stem:
        raise RecordError(f"name: {_excerpt(record.name)} is not this file's engine "
                          f"{Path(path).stem!r} (was the record edited?); {FIX}", path=path)
    return record


def read_records(folder: Path) -> list[EngineRecord]:
    """Every record in ``folder``, sorted by name.

    The first bad file, in file-name order, raises its :class:`RecordError` naming that file.
    """
    if not folder.is_dir():
        return []
    return sorted((read_record(p) for p in sorted(folder.glob("*.json"))),
                  key=lambda r: r.name)


def _too_big(size: int) -> str:
    mib = 1024 * 1024
    return (f"{size / mib:.1f} MiB is larger than any record trtdoc writes (the limit is "
            f"{MAX_RECORD_BYTES // mib} MiB), so it is not read; {FIX}")


def record_schema() -> dict[str, Any]:
    """The JSON Schema of a record file, generated from :class:`EngineRecord`."""
    body = _adapter().json_schema(by_alias=True, schema_generator=_RecordJsonSchema)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://trtdoc.dev/schema/record-{SCHEMA_VERSION}.json",
        "title": "trtdoc build record",
        "description": (
            "One engine: the spec it came from, the model, the backend, the effective builder "
            "settings, the engine file, its layers and I/O, and what was not run. Written by "
            "`trtdoc build` and `trtdoc import`; every page is rendered from it. Generated "
            f"from trtdoc/record.py by `{SCHEMA_COMMAND}`."),
    }
    body.pop("title", None)
    body.pop("description", None)
    return {**head, **body}


def schema_text() -> str:
    """What ``trtdoc/schema/record.schema.json`` holds."""
    return json.dumps(record_schema(), indent=1, ensure_ascii=False) + "\n"


class _RecordJsonSchema(GenerateJsonSchema):
    # Titles made from field names ("Ir Version") say nothing the key does not.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


# --------------------------------------------------------------------------------------------
# One line per bad record
# --------------------------------------------------------------------------------------------
_EXPECTED = {
    "int_type": "an integer", "string_type": "a string", "float_type": "a number",
    "bool_type": "true or false", "tuple_type": "a list", "list_type": "a list",
    "frozen_set_type": "a list", "set_type": "a list", "dataclass_type": "an object",
    "dataclass_exact_type": "an object", "dict_type": "an object", "model_type": "an object",
    "finite_number": "a finite number", "none_required": "null",
}
_KIND = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
         list: "a list", dict: "an object", type(None): "null"}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")
_MISSING = ("missing", "missing_keyword_only_argument", "missing_argument")


def _decode_error(text: str, exc: ValidationError, path: Path | None) -> RecordError:
    errors = exc.errors(include_url=False)
    if errors[0]["type"] == "json_invalid":
        why = str(errors[0].get("ctx", {}).get("error", errors[0]["msg"]))
        if why.startswith("recursion limit exceeded"):
            why = "nested too deeply: " + why
        return RecordError(f"not valid JSON ({why}); {FIX}", path=path)
    import pydantic_core

    data = pydantic_core.from_json(text)  # valid JSON: validate_json got past the parse
    if not isinstance(data, dict):
        return RecordError(
            f"not a trtdoc record: the file holds {_kind(data, json_word=True)}, not a JSON "
            f"object; {FIX}", path=path)
    version = data.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        return FutureRecordError(
            f"schema_version {version} is newer than the {SCHEMA_VERSION} this trtdoc reads: "
            "the record was written by a newer trtdoc; upgrade trtdoc "
            "(`pip install --upgrade trtdoc`) to read it", path=path)
    if "schema_version" not in data:
        return RecordError(f"schema_version: missing, so this is not a trtdoc record; {FIX}",
                           path=path)
    if type(version) is not int or version != SCHEMA_VERSION:
        return RecordError(f"schema_version: expected {SCHEMA_VERSION}, got "
                           f"{_got(version)}; {FIX}", path=path)
    # One line per file: the first field at fault, and how many others there are.
    problems: dict[str, list[dict[str, Any]]] = {}
    for err in errors:
        problems.setdefault(_field_path(data, err), []).append(dict(err))
    (where, errs), others = next(iter(problems.items())), len(problems) - 1
    more = f" (and {others} more problem{'s' * (others != 1)})" if others else ""
    return RecordError(f"{where}: {_problem(errs)}{more}; {FIX}", path=path)


def _field_path(data: Any, err: Any) -> str:
    """``model.facts.opset[0][1]``: the error's location in the file, without the names
    pydantic gives the members of a union."""
    parts: list[str] = []
    node = data
    loc = err["loc"]
    for i, item in enumerate(loc):
        if ((isinstance(node, dict) and isinstance(item, str) and item in node)
                or (isinstance(node, list) and isinstance(item, int)
                    and 0 <= item < len(node))):
            node = node[item]
        elif not (i == len(loc) - 1 and err["type"] in _UNKNOWN + _MISSING):
            continue  # a union member's tag, not a key of the file
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.isidentifier():
            parts.append(f".{item}" if parts else item)
        else:
            parts.append(f"[{_excerpt(item)}]")
    return "".join(parts) or "(the record)"


def _problem(errs: list[dict[str, Any]]) -> str:
    first = errs[0]
    kind = first["type"]
    if kind in _UNKNOWN:
        return "unknown key (trtdoc writes no such field here)"
    if kind in _MISSING:
        return "missing"
    expected: list[str] = []
    for err in errs:
        word = _expected(err)
        if word not in expected:
            expected.append(word)
    return f"expected {' or '.join(expected)}, got {_got(first.get('input'))}"


def _expected(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx.get('ge')}"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')!r}"
    if kind in ("too_short", "too_long"):
        return f"a list of {ctx.get('min_length') or ctx.get('max_length')} items"
    msg = str(err.get("msg", kind))
    return msg.removeprefix("Input should be ").rstrip(".")


def _got(value: Any) -> str:
    if isinstance(value, (list, dict)) or value is None:
        return _kind(value)
    shown = _excerpt(value) if isinstance(value, str) else _excerpt(json.dumps(value))[1:-1]
    return f"{shown} ({_kind(value)})"


def _kind(value: Any, *, json_word: bool = False) -> str:
    word = _KIND.get(type(value), type(value).__name__)
    if json_word and value is not None:
        return word.replace("a ", "a JSON ", 1).replace("an ", "a JSON ", 1)
    return "JSON null" if json_word else word


def _excerpt(value: str) -> str:
    """``repr(value)``, escaped and cut to at most 40 characters."""
    shown = repr(value)
    return shown if len(shown) <= _EXCERPT else shown[:_EXCERPT - 1] + "…"


# --------------------------------------------------------------------------------------------
# Other files beside the records
# --------------------------------------------------------------------------------------------
def read_gates(folder: Path) -> dict[str, Mapping[str, Any]]:
    """The latest failed accuracy gate of each engine (``records/.gates/<name>.json``).

    A gate file that cannot be read is left out: the page then shows the last good build alone.
    """
    gates: dict[str, Mapping[str, Any]] = {}
    gate_dir = folder / ".gates"
    if not gate_dir.is_dir():
        return gates
    for path in sorted(gate_dir.glob("*.json")):
        try:
            if not path.is_file() or path.stat().st_size > MAX_GATE_BYTES:
                continue  # not one trtdoc wrote: a FIFO would hang, a huge one would fill RAM
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if (isinstance(data, dict) and data.get("name") == path.stem
                and isinstance(data.get("violations"), list)
                and isinstance(data.get("accuracy"), dict)):
            gates[data["name"]] = data
    return gates


def write_atomic(path: Path, data: bytes | str | Iterable[bytes | str]) -> None:
    """Write via a temporary file in the same folder and rename, so a kill leaves no half file.

    ``data`` may come in pieces (an iterable of them), so no piece need hold all of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = [data] if isinstance(data, (bytes, bytearray, memoryview, str)) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are shared build products
        with os.fdopen(fd, "wb") as f:
            for piece in pieces:
                f.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def python_version() -> str:
    return sys.version.split()[0]


def main(argv: list[str] | None = None) -> int:
    """``python -m trtdoc.record --schema``: print the record schema trtdoc ships."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--schema"]:
        print(f"usage: {SCHEMA_COMMAND}", file=sys.stderr)
        return 2
    sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``spec`` section of a build record: the normalised spec, typed, and the one conversion
from an ``EngineSpec`` to it.

:class:`SpecSection` is at once the decoder, the encoder and the JSON Schema of a record's
``"spec"`` object (through pydantic, with the rest of the record: :mod:`trtdoc.record.codec`).
Its fields are the JSON keys in file order; a key added after the first release
(``triton``, ``build_on``, and accuracy's ``outputs``, ``metric``, ``metric_tolerance``) is
written only when set, so the records of specs that do not use it stay as they were. A
record ``trtdoc import`` made has an :class:`ImportedSpec` instead: no spec made its engine.

A field marked :class:`NotInBuildKey` (:data:`DOC_ONLY` for description, owner and tags) is
left out of the build key (:mod:`trtdoc.spec.keys`); every other field is in it. Paths are
relative to the project root in a record, and as the spec resolved them with ``base=None``;
the data files a setting names are ``Path``s, which the keys count by their bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PlainSerializer, Tag, TypeAdapter

from trtdoc.project import project_path
from trtdoc.spec.limits import MAX_DESCRIPTION_CHARS, MAX_TAG_CHARS, MAX_TAGS
from trtdoc.spec.types import (
    BuildOn,
    Calibration,
    EngineSpec,
    KeepFp32,
    ShapeRange,
    Tolerance,
)
from trtdoc.values import Backend, HardwareCompatibility, Precision, PrecisionMethod, Target

_RECORD_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


@dataclass(frozen=True)
class NotInBuildKey:
    """Marks a field of :class:`SpecSection` that the build key leaves out, saying why. A
    field without it is in the key: a new setting cannot be left out by forgetting it."""

    why: str


DOC_ONLY = NotInBuildKey("documentation only: it changes the page, not the engine")


def _set_only(value: Any) -> dict[str, Any]:
    # Written only when set, so limits and places a spec does not name add no keys.
    return {f.name: v for f in fields(value) if (v := getattr(value, f.name)) is not None}


def _unset(value: Any) -> bool:
    return value is None


def _empty(value: Any) -> bool:
    return not value


def _calibration_json(value: Calibration) -> dict[str, Any]:
    # sample_axis came later: written only when set, so older records stay as they were.
    out: dict[str, Any] = {"data": value.data.as_posix(), "batches": value.batches}
    if value.sample_axis:
        out["sample_axis"] = [list(pair) for pair in value.sample_axis]
    return out


_Calibration = Annotated[Calibration, PlainSerializer(_calibration_json)]
# Tolerance and BuildOn as a record writes them: the fields that are set.
_Limits = Annotated[Tolerance, PlainSerializer(_set_only)]
_Place = Annotated[BuildOn, PlainSerializer(_set_only)]


@dataclass(frozen=True, kw_only=True)
class MemorySection:
    """``memory:`` (bytes; null: TensorRT's default)."""

    __pydantic_config__ = _RECORD_CONFIG

    workspace: int | None
    tactic_shared_memory: int | None


@dataclass(frozen=True, kw_only=True)
class SliceSection:
    """One slice of ``accuracy.outputs.<name>``: indices ``start`` .. ``stop - 1`` along
    ``axis``, gated as ``<name>[<label>]`` by ``limits``; ``classes``: top-1 along the axis."""

    __pydantic_config__ = _RECORD_CONFIG

    label: str
    axis: int
    start: int
    stop: int
    limits: _Limits
    classes: Annotated[bool, Field(exclude_if=_empty)] = False


@dataclass(frozen=True, kw_only=True)
class AccuracySection:
    """``accuracy:``; ``outputs`` maps an output to its own limits or ``"ignore"``."""

    __pydantic_config__ = _RECORD_CONFIG

    tolerance: _Limits | None
    data: Path | None
    samples: int
    outputs: Annotated[Mapping[str, _Limits | Literal["ignore"] | tuple[SliceSection, ...]],
                       Field(exclude_if=_empty)] = field(default_factory=dict)
    metric: Annotated[str | None, Field(exclude_if=_unset)] = None
    metric_tolerance: Annotated[Mapping[str, float],
                                Field(exclude_if=_empty)] = field(default_factory=dict)
    sample_axis: Annotated[Mapping[str, int],
                           Field(exclude_if=_empty)] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TritonSection:
    """``triton:``: the Triton model this engine is one plan of."""

    __pydantic_config__ = _RECORD_CONFIG

    model: str


@dataclass(frozen=True, kw_only=True)
class SpecSection:
    """The spec an engine was built from, as its record stores it (``"spec"``)."""

    __pydantic_config__ = _RECORD_CONFIG

    name: Annotated[str, NotInBuildKey("which engine, not how it is built")]
    source: Annotated[str, NotInBuildKey("where the spec file is, not what it says")]
    model: Annotated[str, NotInBuildKey(
        "the model's bytes are in the build key instead (trtdoc.build.key)")]
    # The spec's limits hold in a record too: a record from a pull request reaches the site.
    description: Annotated[str, DOC_ONLY, Field(max_length=MAX_DESCRIPTION_CHARS)]
    owner: Annotated[str | None, DOC_ONLY]
    tags: Annotated[tuple[Annotated[str, Field(max_length=MAX_TAG_CHARS)], ...], DOC_ONLY,
                    Field(max_length=MAX_TAGS)]
    backend: Backend
    precision: Precision
    precision_method: PrecisionMethod
    calibration: _Calibration | None
    profiles: tuple[Mapping[str, ShapeRange], ...]
    memory: MemorySection
    optimization_level: int | None
    targets: tuple[Target, ...]
    hardware_compatibility: HardwareCompatibility
    version_compatible: bool
    flags: tuple[str, ...]
    accuracy: Annotated[AccuracySection | None, NotInBuildKey(
        "it checks the converted model, not the engine: trtdoc.spec.keys.spec_accuracy_key")]
    variant: Annotated[Mapping[str, Any], NotInBuildKey(
        "which variant this is; its values are in the fields they set")]
    triton: Annotated[TritonSection | None, NotInBuildKey("how the engine is served"),
                      Field(exclude_if=_unset)] = None
    build_on: Annotated[_Place | None, NotInBuildKey(
        "where the engine is built, not what: the same engine anywhere"),
        Field(exclude_if=_unset)] = None
    # Only when set, so the records of specs without it stay as they were.
    keep_fp32: Annotated[KeepFp32 | None, Field(exclude_if=_unset)] = None


@dataclass(frozen=True, kw_only=True)
class ImportedSpec:
    """The ``"spec"`` of a record ``trtdoc import`` made: the files it was made from."""

    __pydantic_config__ = _RECORD_CONFIG

    name: str
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)]
    imported_from: tuple[str, ...]


def _spec_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "imported" if "imported_from" in value else "built"
    return "imported" if isinstance(value, ImportedSpec) else "built"


# A record's "spec": one of the two, told apart by imported_from (so a wrong field is named
# once, under the kind it belongs to).
_Built = Annotated[SpecSection, Tag("built")]
_Imported = Annotated[ImportedSpec, Tag("imported")]
RecordSpec = Annotated[_Built | _Imported, Discriminator(_spec_kind)]


@functools.cache
def _adapter() -> TypeAdapter[SpecSection | ImportedSpec]:
    return TypeAdapter(RecordSpec)


def encode_spec(spec: SpecSection | ImportedSpec) -> dict[str, Any]:
    """The spec as its record's ``"spec"`` object (JSON-ready, in file key order)."""
    data: dict[str, Any] = _adapter().dump_python(spec, mode="json")
    return data


def changed_fields(old: SpecSection | ImportedSpec, new: SpecSection) -> list[str]:
    """The keys of ``new``'s record ``"spec"`` whose value ``old`` does not have, sorted."""
    was, now = encode_spec(old), encode_spec(new)
    return sorted(k for k in now if now[k] != was.get(k))


def spec_section_from_spec(spec: EngineSpec, base: Path | None = None) -> SpecSection:
    """``spec`` as its record stores it; paths relative to ``base`` when given."""

    def rel(p: Path) -> Path:
        return p if base is None else Path(project_path(p, base))

    def text(p: Path) -> str:
        return p.as_posix() if base is None else project_path(p, base)

    acc = spec.accuracy
    return SpecSection(
        name=spec.name, source=text(spec.source), model=text(spec.model),
        description=spec.description, owner=spec.owner, tags=spec.tags,
        backend=spec.backend, precision=spec.precision,
        precision_method=spec.precision_method,
        calibration=None if spec.calibration is None else Calibration(
            rel(spec.calibration.data), spec.calibration.batches, spec.calibration.sample_axis),
        profiles=tuple(dict(p.shapes) for p in spec.profiles),
        memory=MemorySection(workspace=spec.workspace,
                             tactic_shared_memory=spec.tactic_shared_memory),
        optimization_level=spec.optimization_level, targets=spec.targets,
        hardware_compatibility=spec.hardware_compatibility,
        version_compatible=spec.version_compatible, flags=spec.flags,
        accuracy=None if acc is None else AccuracySection(
            tolerance=acc.tolerance, data=None if acc.data is None else rel(acc.data),
            samples=acc.samples,
            outputs={o.name: tuple(SliceSection(
                label=x.label, axis=x.axis, start=x.start, stop=x.stop, limits=x.tolerance,
                classes=x.classes)
                for x in o.slices) if o.slices else "ignore" if o.tolerance is None
                else o.tolerance for o in acc.outputs},
            metric=acc.metric, metric_tolerance=dict(acc.metric_tolerance),
            sample_axis=dict(acc.sample_axis)),
        variant=dict(spec.variant),
        triton=None if spec.triton_model is None else TritonSection(model=spec.triton_model),
        build_on=spec.build_on,
        keep_fp32=spec.keep_fp32,
    )

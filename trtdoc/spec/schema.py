"""The pydantic models of a spec file, its JSON Schema, and the keys allowed at each level.

pydantic validates here and nowhere else; :mod:`trtdoc.spec.freeze` turns a validated
:class:`SpecModel` into a frozen ``EngineSpec``. The models are built on first use
(``defer_build``), so importing this module stays cheap.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from trtdoc.spec.fields import Dims, Flag, Float, PathText, Size, float_within, int_at_most
from trtdoc.spec.json_schema import SCHEMA_ID, JsonSchema, SchemaGenerator
from trtdoc.spec.limits import (
    MAX_ACCURACY_SAMPLES,
    MAX_CALIBRATION_BATCHES,
    MAX_DESCRIPTION_CHARS,
    MAX_PROFILES,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_VARIANTS,
)
from trtdoc.spec.names import NAME_SCHEMA, name_problem
from trtdoc.spec.text import excerpt
from trtdoc.values import Backend, HardwareCompatibility, Precision, PrecisionMethod, Target

# Ray's accelerator types of NVIDIA GPUs (the constants of ray.util.accelerators, Ray 2.60):
# what a GPU node reports, so what ``build_on: {gpu: ...}`` may name. tests/test_ray.py checks
# this list against the installed Ray.
RAY_NVIDIA_GPUS = ("A100", "A100-40G", "A100-80G", "A10G", "B200", "B300", "GB200", "GB300",
                   "H100", "H20", "H200", "K80", "L4", "L40S", "P100", "P4", "RTX-PRO-6000",
                   "T4", "V100")
# Ray resources Ray itself accounts for: not placement labels.
RAY_OWN_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory")
_RESOURCE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,99}")

# Types built by a call are not types to mypy: it sees the plain type each validates to.
if TYPE_CHECKING:
    _NonNegative = float
    _Cosine = float
    _Fraction = float
    _CalibrationBatches = int
    _AccuracySamples = int
else:
    _NonNegative = float_within(ge=0)
    _Cosine = float_within(ge=-1, le=1)
    _Fraction = float_within(ge=0, le=1)
    _CalibrationBatches = int_at_most(
        MAX_CALIBRATION_BATCHES, "calibration batches trtdoc reads",
        "calibration needs a few hundred batches at most")
    _AccuracySamples = int_at_most(
        MAX_ACCURACY_SAMPLES, "samples trtdoc compares",
        "a few hundred to a few thousand samples measure accuracy well")


def _tags(value: list[str]) -> list[str]:
    if len(value) > MAX_TAGS:
        raise ValueError(f"{len(value):,} tags is more than the {MAX_TAGS} trtdoc shows; keep "
                         "the few words a reader searches for")
    for tag in value:
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"the tag {excerpt(tag)} is longer than {MAX_TAG_CHARS} "
                             "characters; a tag is a word or two")
    return value


def _description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ValueError(f"{len(value):,} characters is more than the "
                         f"{MAX_DESCRIPTION_CHARS:,} a description may have; keep it to a "
                         "paragraph and link to the rest")
    return value


def _profiles(value: list[Any]) -> list[Any]:
    if len(value) > MAX_PROFILES:
        raise ValueError(f"{len(value)} profiles is more than the {MAX_PROFILES} trtdoc "
                         "builds; keep the shapes you deploy")
    return value


class _Model(BaseModel):
    # defer_build: the models are built on first use, not at import; the project file reader
    # uses the spec package's helpers only, and a no-change `trtdoc render` then starts 0.5 s
    # sooner.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class _ShapeRange(_Model):
    min: Dims
    opt: Dims
    max: Dims
    # min <= opt <= max and equal ranks are checked in check.py, so that these problems are
    # reported together with every other problem in the same file.


_SampleAxis = dict[str, Annotated[int, Field(ge=0, le=64)]]


class _Calibration(_Model):
    data: PathText
    batches: _CalibrationBatches = Field(8, ge=1)
    sample_axis: _SampleAxis = {}


class _KeepFp32(_Model):
    ops: list[str] = []
    nodes: list[str] = []


class _Memory(_Model):
    workspace: Size | None = None
    tactic_shared_memory: Size | None = None


class _Tolerance(_Model):
    max_abs: _NonNegative | None = None
    mean_abs: _NonNegative | None = None
    min_cosine: _Cosine | None = None
    min_top1: _Fraction | None = None


class _OutputTolerance(_Tolerance):
    ignore: bool = False  # what `name: ignore` becomes


_LABEL_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class _Slice(_Tolerance):
    """One slice of an output, ``start:stop`` along ``axis``, gated as ``output[label]``."""

    axis: int = Field(ge=0, le=64)
    start: int = Field(ge=0)
    stop: int = Field(ge=1)
    label: Annotated[str, Field(pattern=_LABEL_RE.pattern)]
    classes: bool = False  # the axis holds classes: top-1 agreement is taken along it

    @model_validator(mode="after")
    def _range(self) -> _Slice:
        if self.stop <= self.start:
            raise ValueError(f"stop {self.stop} is not after start {self.start}; a slice takes "
                             "indices start .. stop-1, so make stop > start")
        if self.min_top1 is not None and not self.classes:
            raise ValueError("min_top1 needs `classes: true`: top-1 agreement is taken only "
                             "along an axis that holds classes; add `classes: true` if axis "
                             f"{self.axis} of slice {self.label!r} does, or remove min_top1")
        return self


def _unique_labels(value: list[_Slice]) -> list[_Slice]:
    labels = [s.label for s in value]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ValueError(f"label {twice[0]!r} names two slices; give each slice its own label")
    if not value:
        raise ValueError("an empty list of slices; list at least one slice, or write limits")
    return value


def _limits_or_slices(value: Any) -> str:
    return "slices" if isinstance(value, list) else "limits"


def _output_limits(value: Any) -> Any:
    if value == "ignore":
        return {"ignore": True}
    if isinstance(value, list):
        return value
    if isinstance(value, str) or value is None:
        raise ValueError(f"{excerpt(value)} is neither 'ignore' nor a mapping of limits; write "
                         "`ignore` (measured and shown, not gated) or limits such as "
                         "`{max_abs: 0.1, min_top1: 0.98}`")
    return value


_METRIC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _metric_target(value: str) -> str:
    if not _METRIC_RE.match(value):
        raise ValueError(f"{excerpt(value)} is not package.module:function; write for example "
                         "`metric: mypackage.metrics:exact_match`")
    return value


def _metric_key(value: str) -> str:
    kind, _, figure = value.partition("_")
    if kind not in ("min", "max") or not figure:
        raise ValueError(f"{excerpt(value)} does not start with min_ or max_; write `min_<figure>` "
                         "or `max_<figure>` for a figure the metric returns, e.g. "
                         "`min_exact_match: 0.9`")
    return value


class _Accuracy(_Model):
    tolerance: _Tolerance | None = None
    data: PathText | None = None
    samples: _AccuracySamples = Field(4, ge=1)
    outputs: dict[str, Annotated[
        Annotated[Annotated[_OutputTolerance, Tag("limits")]
                  | Annotated[list[_Slice], AfterValidator(_unique_labels), Tag("slices")],
                  Discriminator(_limits_or_slices)],
        BeforeValidator(_output_limits), JsonSchema(
            lambda limits: {"anyOf": [{"const": "ignore"}, *limits["oneOf"]]})]] = {}
    metric: Annotated[str, AfterValidator(_metric_target),
                      JsonSchema(pattern=_METRIC_RE.pattern)] | None = None
    metric_tolerance: Annotated[dict[Annotated[str, AfterValidator(_metric_key),
                                               JsonSchema(pattern="^(?:min|max)_.")], Float],
                                JsonSchema(additionalProperties=False)] = {}
    sample_axis: _SampleAxis = {}


class _Triton(_Model):
    model: str

    @field_validator("model")
    @classmethod
    def _slug(cls, v: str) -> str:
        problem = name_problem(v)
        if problem is not None:
            raise ValueError(problem.replace("page slug and file name", "Triton model folder"))
        return v


def _ray_gpu(value: str) -> str:
    by_upper = {g.upper(): g for g in RAY_NVIDIA_GPUS}
    known = by_upper.get(value.strip().upper())
    if known is not None:
        return known
    close = difflib.get_close_matches(value.strip().upper(), list(by_upper), n=1, cutoff=0.6)
    hint = (f"did you mean '{by_upper[close[0]]}'?" if close else
            f"use one of Ray's accelerator types: {', '.join(RAY_NVIDIA_GPUS)}")
    raise ValueError(f"{excerpt(value)} is not a GPU Ray knows; {hint} (for any other GPU, "
                     "start its nodes with a custom resource and use `build_on: {resource: "
                     "NAME}`)")


def _compute_capability(value: Any) -> Any:
    if isinstance(value, float):  # 8.6 unquoted
        value = repr(value)
    if not isinstance(value, str):
        return value
    from trtdoc.compat.gpus import UnknownGpu, find_gpu

    try:
        gpu = find_gpu(value)
    except UnknownGpu:
        gpu = None
    if gpu is None or gpu.model is not None:
        raise ValueError(f"{excerpt(value)} is not a compute capability any GPU has; write it "
                         "as \"8.6\" or sm86")
    return gpu.compute_capability


def _ray_resource(value: str) -> str:
    if value in RAY_OWN_RESOURCES:
        raise ValueError(f"{excerpt(value)} is a resource Ray itself counts, not a label; name "
                         "a custom resource your build nodes are started with (ray start "
                         "--resources='{\"trt-builder\": 1}')")
    if not _RESOURCE_RE.fullmatch(value):
        raise ValueError(f"{excerpt(value)} is not a resource name; use letters, digits and "
                         "_ . : / - (at most 100), as in `ray start --resources='{\"NAME\": 1}'`")
    return value


class _BuildOn(_Model):
    gpu: Annotated[str, AfterValidator(_ray_gpu)] | None = None
    compute_capability: Annotated[str, BeforeValidator(_compute_capability)] | None = None
    resource: Annotated[str, AfterValidator(_ray_resource)] | None = None

    @model_validator(mode="after")
    def _something(self) -> _BuildOn:
        if self.gpu is None and self.compute_capability is None and self.resource is None:
            raise ValueError("says nowhere to build; give gpu, compute_capability or resource, "
                             "e.g. `build_on: {gpu: A100}`, or remove build_on")
        return self


# One spec file as written (defaults and variants merged in); paths are relative to it. No
# docstring on these models: pydantic would make it the schema's description.
class SpecModel(_Model):
    name: Annotated[str, JsonSchema(lambda _: dict(NAME_SCHEMA))]
    description: Annotated[str, AfterValidator(_description),
                           JsonSchema(maxLength=MAX_DESCRIPTION_CHARS)] = ""
    owner: str | None = None
    tags: Annotated[list[str], AfterValidator(_tags),
                    JsonSchema(maxItems=MAX_TAGS, items={"type": "string",
                                                         "maxLength": MAX_TAG_CHARS})] = []
    model: PathText
    backend: Backend = "auto"
    precision: Precision = "fp32"
    precision_method: PrecisionMethod = "model"
    calibration: _Calibration | None = None
    profiles: Annotated[list[dict[str, _ShapeRange]], AfterValidator(_profiles),
                        JsonSchema(maxItems=MAX_PROFILES)] = []
    memory: _Memory = _Memory()
    optimization_level: int | None = Field(None, ge=0, le=5)
    targets: list[Target] = []
    hardware_compatibility: HardwareCompatibility = "none"
    version_compatible: bool = False
    flags: list[Flag] = []
    accuracy: _Accuracy | None = None
    triton: _Triton | None = None
    build_on: _BuildOn | None = None
    keep_fp32: _KeepFp32 | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        problem = name_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v


def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of one spec file (or a ``_defaults.yaml``), from :class:`SpecModel`.

    Nothing is required: a spec may take ``model`` from a ``_defaults.yaml``, and a defaults
    file holds neither ``name`` nor ``model`` (the loader says so once they are merged).
    ``variants`` maps a key to a list of values, each valid for that key.
    """
    body = SpecModel.model_json_schema(schema_generator=SchemaGenerator)
    body.pop("required", None)
    props = body["properties"]
    props["variants"] = {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "description": "one engine per combination; its name is the name plus each value",
        "properties": {key: {"type": "array", "items": value, "minItems": 1,
                             "maxItems": MAX_VARIANTS, "uniqueItems": True}
                       for key, value in props.items() if key != "name"},
    }
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(kind="spec"),
        "title": "trtdoc engine spec",
        "description": "One engine (or one per variant) for `trtdoc build`; paths are "
                       "relative to the spec file. Generated from trtdoc/spec/schema.py by "
                       "`trtdoc schema spec`.",
    }
    return {**head, **body}


# Keys allowed at each level, for "did you mean" hints.
KEYS_AT: dict[str, tuple[str, ...]] = {
    "": (*_fields(SpecModel), "variants"),
    "calibration": _fields(_Calibration),
    "keep_fp32": _fields(_KeepFp32),
    "memory": _fields(_Memory),
    "accuracy": _fields(_Accuracy),
    "accuracy.tolerance": _fields(_Tolerance),
    "accuracy.outputs.*": _fields(_Tolerance),
    "accuracy.outputs.*[]": _fields(_Slice),
    "triton": _fields(_Triton),
    "profile": _fields(_ShapeRange),
    "build_on": _fields(_BuildOn),
}

"""The frozen objects a spec becomes and the build stage receives: ``EngineSpec`` and its parts.

No pydantic here: these are plain frozen dataclasses (tuples, not lists). ``None`` means
"leave TensorRT's default". The parts a record stores as they are (:class:`ShapeRange`,
:class:`Calibration`, :class:`Tolerance`, :class:`BuildOn`) are also types of the record's
``spec`` section (:mod:`trtdoc.spec.section`); their ``__pydantic_config__`` is a plain dict,
read only when a record is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from trtdoc.values import Backend, HardwareCompatibility, Precision, PrecisionMethod, Target

# Records are decoded strictly: an unknown key is refused, and so are NaN and Infinity.
_RECORD_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


@dataclass(frozen=True)
class ShapeRange:
    """min/opt/max dimensions for one input in one optimisation profile."""

    __pydantic_config__ = _RECORD_CONFIG

    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class Profile:
    """One optimisation profile: ``(input name, ShapeRange)`` pairs sorted by name."""

    shapes: tuple[tuple[str, ShapeRange], ...]

    def get(self, name: str) -> ShapeRange | None:
        """The shape range of input ``name``, or None if this profile does not set it."""
        return dict(self.shapes).get(name)


@dataclass(frozen=True)
class Calibration:
    """The ``calibration:`` block: its data and how many batches to read. ``data`` is resolved
    in an ``EngineSpec`` and relative to the project root in a record. ``sample_axis``
    (input, axis), sorted, says where samples of an input's own rank are stacked where the
    model does not (trtdoc.precision.samples.batch_axes)."""

    __pydantic_config__ = _RECORD_CONFIG

    data: Path
    batches: int
    sample_axis: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class KeepFp32:
    """The ``keep_fp32:`` block: op types and node names kept in fp32 through fp16/bf16
    conversion and left out of int8/fp8 quantization; as written, so check can point at each
    (the converters get them sorted)."""

    __pydantic_config__ = _RECORD_CONFIG

    ops: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tolerance:
    """How far the converted model's outputs may drift from the original's; None: no limit."""

    __pydantic_config__ = _RECORD_CONFIG

    max_abs: float | None = None
    mean_abs: float | None = None
    min_cosine: float | None = None
    min_top1: float | None = None

    def items(self) -> tuple[tuple[str, float], ...]:
        """The limits that are set, in field order."""
        return tuple((f.name, v) for f in fields(self) if (v := getattr(self, f.name)) is not None)


@dataclass(frozen=True)
class OutputSlice:
    """Indices ``start`` .. ``stop - 1`` along ``axis`` of an output, measured and gated as
    ``output[label]`` with its own ``tolerance``. ``classes``: the axis holds classes, so
    top-1 agreement is taken along it (and only then)."""

    label: str
    axis: int
    start: int
    stop: int
    tolerance: Tolerance
    classes: bool = False


@dataclass(frozen=True)
class OutputTolerance:
    """One output's own limits (``accuracy.outputs.<name>``); ``tolerance`` None: ``ignore``,
    unless ``slices`` is set: then the whole output keeps ``accuracy.tolerance`` and each
    slice has its own limits."""

    name: str
    tolerance: Tolerance | None
    slices: tuple[OutputSlice, ...] = ()

    @property
    def ignore(self) -> bool:
        """Measured and shown, not gated."""
        return self.tolerance is None and not self.slices


@dataclass(frozen=True)
class Accuracy:
    """The ``accuracy:`` block.

    ``samples`` counts input samples (not batches); they are run in batches of at most the
    profile's opt batch size. ``tolerance`` bounds every output; ``outputs`` overrides it figure
    by figure for named outputs (sorted by name), or ignores one. ``metric`` names a task-metric
    function (``package.module:function``) whose figures ``metric_tolerance`` bounds with
    ``min_<figure>``/``max_<figure>`` keys (sorted).
    """

    tolerance: Tolerance | None = None
    data: Path | None = None  # held-out inputs; None means seeded random inputs (a smoke check)
    samples: int = 4
    outputs: tuple[OutputTolerance, ...] = ()
    metric: str | None = None
    metric_tolerance: tuple[tuple[str, float], ...] = ()
    sample_axis: tuple[tuple[str, int], ...] = ()  # as Calibration.sample_axis

    def output_limits(self) -> dict[str, dict[str, float] | None]:
        """Output name -> its own limits, or None for an ignored output; a slice is named
        ``output[label]`` (:func:`slice_name`), and its whole output keeps ``tolerance``."""
        out: dict[str, dict[str, float] | None] = {}
        for o in self.outputs:
            if o.slices:
                out.update((slice_name(o.name, s.label), dict(s.tolerance.items()))
                           for s in o.slices)
            else:
                out[o.name] = None if o.tolerance is None else dict(o.tolerance.items())
        return out

    def output_slices(self) -> dict[str, tuple[OutputSlice, ...]]:
        """Output name -> its slices, for the outputs that have any."""
        return {o.name: o.slices for o in self.outputs if o.slices}


def slice_name(output: str, label: str) -> str:
    """How a slice of an output is named in records, pages, ``lint`` and ``diff``."""
    return f"{output}[{label}]"


@dataclass(frozen=True)
class BuildOn:
    """Where the engine must be built (``trtdoc build --ray``): a GPU model (Ray's accelerator
    type), a compute capability (the custom resource ``trtdoc-sm86``) or any custom resource.
    Every one given must hold on the same node."""

    __pydantic_config__ = _RECORD_CONFIG

    gpu: str | None = None
    compute_capability: str | None = None  # "8.6"
    resource: str | None = None


@dataclass(frozen=True)
class EngineSpec:
    """One engine to build. ``None`` means "leave TensorRT's default"."""

    name: str
    source: Path
    model: Path
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    backend: Backend = "auto"
    precision: Precision = "fp32"
    precision_method: PrecisionMethod = "model"
    calibration: Calibration | None = None
    keep_fp32: KeepFp32 | None = None
    profiles: tuple[Profile, ...] = ()
    workspace: int | None = None
    tactic_shared_memory: int | None = None
    optimization_level: int | None = None
    targets: tuple[Target, ...] = ()
    hardware_compatibility: HardwareCompatibility = "none"
    version_compatible: bool = False
    flags: tuple[str, ...] = ()
    accuracy: Accuracy | None = None
    variant: tuple[tuple[str, Any], ...] = field(default=())
    # The Triton model this engine is one plan of (`trtdoc triton`); None: its own, by name.
    triton_model: str | None = None
    build_on: BuildOn | None = None

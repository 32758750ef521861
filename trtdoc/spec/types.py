"""The frozen objects a spec becomes and the build stage receives: ``EngineSpec`` and its parts.

No pydantic here: these are plain frozen dataclasses (tuples, not lists). ``None`` means
"leave TensorRT's default".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtdoc.values import Backend, HardwareCompatibility, Precision, PrecisionMethod, Target


@dataclass(frozen=True)
class ShapeRange:
    """min/opt/max dimensions for one input in one optimisation profile."""

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
    """The ``calibration:`` block: its data (a resolved path) and how many batches to read."""

    data: Path
    batches: int


@dataclass(frozen=True)
class Tolerance:
    """How far the converted model's outputs may drift from the original's; None: no limit."""

    max_abs: float | None = None
    mean_abs: float | None = None
    min_cosine: float | None = None
    min_top1: float | None = None

    def items(self) -> tuple[tuple[str, float], ...]:
        """The limits that are set, in a fixed order."""
        pairs = (("max_abs", self.max_abs), ("mean_abs", self.mean_abs),
                 ("min_cosine", self.min_cosine), ("min_top1", self.min_top1))
        return tuple((k, v) for k, v in pairs if v is not None)


@dataclass(frozen=True)
class OutputTolerance:
    """One output's own limits (``accuracy.outputs.<name>``); ``tolerance`` None: ``ignore``."""

    name: str
    tolerance: Tolerance | None

    @property
    def ignore(self) -> bool:
        """Measured and shown, not gated."""
        return self.tolerance is None


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

    def output_limits(self) -> dict[str, dict[str, float] | None]:
        """Output name -> its own limits, or None for an ignored output."""
        return {o.name: None if o.tolerance is None else dict(o.tolerance.items())
                for o in self.outputs}

    def to_dict(self, rel: Any) -> dict[str, Any]:
        """JSON-ready; keys added after the first release appear only when set, so the build
        key of a spec that does not use them stays the same."""
        d: dict[str, Any] = {
            "tolerance": None if self.tolerance is None else dict(self.tolerance.items()),
            "data": rel(self.data),
            "samples": self.samples,
        }
        if self.outputs:
            d["outputs"] = {name: "ignore" if limits is None else limits
                            for name, limits in self.output_limits().items()}
        if self.metric is not None:
            d["metric"] = self.metric
        if self.metric_tolerance:
            d["metric_tolerance"] = dict(self.metric_tolerance)
        return d


@dataclass(frozen=True)
class BuildOn:
    """Where the engine must be built (``trtdoc build --ray``): a GPU model (Ray's accelerator
    type), a compute capability (the custom resource ``trtdoc-sm86``) or any custom resource.
    Every one given must hold on the same node."""

    gpu: str | None = None
    compute_capability: str | None = None  # "8.6"
    resource: str | None = None

    def to_dict(self) -> dict[str, str]:
        pairs = (("gpu", self.gpu), ("compute_capability", self.compute_capability),
                 ("resource", self.resource))
        return {k: v for k, v in pairs if v is not None}


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

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        """The normalised spec as JSON-ready data; paths relative to ``base`` when given."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            if base is not None:
                from trtdoc.project import project_path

                return project_path(p, base)
            return p.as_posix()

        d: dict[str, Any] = {
            "name": self.name,
            "source": rel(self.source),
            "model": rel(self.model),
            "description": self.description,
            "owner": self.owner,
            "tags": list(self.tags),
            "backend": self.backend,
            "precision": self.precision,
            "precision_method": self.precision_method,
            "calibration": None if self.calibration is None else {
                "data": rel(self.calibration.data), "batches": self.calibration.batches},
            "profiles": [
                {name: {"min": list(r.min), "opt": list(r.opt), "max": list(r.max)}
                 for name, r in p.shapes}
                for p in self.profiles
            ],
            "memory": {"workspace": self.workspace,
                       "tactic_shared_memory": self.tactic_shared_memory},
            "optimization_level": self.optimization_level,
            "targets": list(self.targets),
            "hardware_compatibility": self.hardware_compatibility,
            "version_compatible": self.version_compatible,
            "flags": list(self.flags),
            "accuracy": None if self.accuracy is None else self.accuracy.to_dict(rel),
            "variant": {k: v for k, v in self.variant},
        }
        # Only when set, so the records of specs without it stay as they were.
        if self.triton_model is not None:
            d["triton"] = {"model": self.triton_model}
        if self.build_on is not None:  # only when set: other specs' records stay as they were
            d["build_on"] = self.build_on.to_dict()
        return d

    def build_key(self) -> str:
        """Hash of every setting that changes the engine (not description, owner or tags).

        ``accuracy`` is left out: it changes the check of the converted model, not the engine,
        so editing it re-runs the check (:meth:`accuracy_key`) without a TensorRT build.
        """
        d = self.to_dict()
        for k in ("description", "owner", "tags", "source", "model", "variant", "name",
                  "accuracy"):
            d.pop(k)
        d.pop("triton", None)  # how the engine is served, not how it is built
        d.pop("build_on", None)  # where it is built, not what: the same engine anywhere
        if self.calibration is not None:
            d["calibration"]["data"] = _file_digest(self.calibration.data)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def accuracy_key(self) -> str:
        """Hash of the accuracy settings and the bytes of their held-out data."""
        d = self.to_dict()["accuracy"]
        if d is not None and self.accuracy is not None and self.accuracy.data is not None:
            d["data"] = _file_digest(self.accuracy.data)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in paths:
        h.update(p.name.encode())
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


"""A validated :class:`SpecModel` → the frozen ``EngineSpec`` handed to the build stage.

Paths are resolved against the spec file's folder; lists become sorted tuples.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trtdoc.spec.schema import SpecModel
from trtdoc.spec.types import (
    Accuracy,
    BuildOn,
    Calibration,
    EngineSpec,
    KeepFp32,
    OutputSlice,
    OutputTolerance,
    Profile,
    ShapeRange,
    Tolerance,
)
from trtdoc.values import TARGETS


def engine_spec_from_model(spec: SpecModel, source: Path,
                           variant: tuple[tuple[str, Any], ...]) -> EngineSpec:
    """The frozen engine spec of ``spec``, read from ``source`` as the ``variant`` given."""
    here = source.parent

    def resolve(p: str) -> Path:
        # realpath, not Path.resolve: that raises on a symlink loop, which check reports.
        return Path(os.path.realpath(here / p)) if not Path(p).is_absolute() else Path(p)

    return EngineSpec(
        name=spec.name,
        source=source,
        model=resolve(spec.model),
        description=spec.description,
        owner=spec.owner,
        tags=tuple(sorted(spec.tags)),
        backend=spec.backend,
        precision=spec.precision,
        precision_method=spec.precision_method,
        calibration=None if spec.calibration is None else Calibration(
            resolve(spec.calibration.data), spec.calibration.batches,
            tuple(sorted(spec.calibration.sample_axis.items()))),
        keep_fp32=None if spec.keep_fp32 is None else KeepFp32(
            tuple(spec.keep_fp32.ops), tuple(spec.keep_fp32.nodes)),
        profiles=tuple(
            Profile(tuple(sorted(
                (n, ShapeRange(tuple(r.min), tuple(r.opt), tuple(r.max))) for n, r in p.items()
            )))
            for p in spec.profiles
        ),
        workspace=spec.memory.workspace,
        tactic_shared_memory=spec.memory.tactic_shared_memory,
        optimization_level=spec.optimization_level,
        targets=tuple(sorted(set(spec.targets), key=TARGETS.index)),
        hardware_compatibility=spec.hardware_compatibility,
        version_compatible=spec.version_compatible,
        flags=tuple(sorted({f.lower() for f in spec.flags})),
        accuracy=None if spec.accuracy is None else Accuracy(
            tolerance=None if spec.accuracy.tolerance is None else Tolerance(
                **spec.accuracy.tolerance.model_dump()),
            data=None if spec.accuracy.data is None else resolve(spec.accuracy.data),
            samples=spec.accuracy.samples,
            outputs=tuple(
                OutputTolerance(name, None, tuple(OutputSlice(
                    s.label, s.axis, s.start, s.stop, Tolerance(**s.model_dump(
                        exclude={"label", "axis", "start", "stop", "classes"})), s.classes)
                    for s in limits))
                if isinstance(limits, list) else
                OutputTolerance(name, None if limits.ignore else Tolerance(
                    **limits.model_dump(exclude={"ignore"})))
                for name, limits in sorted(spec.accuracy.outputs.items())),
            metric=spec.accuracy.metric,
            metric_tolerance=tuple(sorted(spec.accuracy.metric_tolerance.items())),
            sample_axis=tuple(sorted(spec.accuracy.sample_axis.items())),
        ),
        variant=variant,
        triton_model=spec.triton.model if spec.triton is not None else None,
        build_on=None if spec.build_on is None else BuildOn(
            spec.build_on.gpu, spec.build_on.compute_capability, spec.build_on.resource),
    )

"""The precision step of a build and its accuracy gate: convert the model (fp16, int8, ...),
compare it with the fp32 model in ONNX Runtime, and fail the engine when the spec's limits fail."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trtdoc.build.outcome import OnEvent, Outcome
from trtdoc.build.state import spec_view
from trtdoc.errors import GateError
from trtdoc.model import ModelFacts, model_facts_from_onnx
from trtdoc.paths import OutputPaths
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.precision.divergence import Divergence
from trtdoc.precision.result import PrecisionResult
from trtdoc.project import project_path, project_root
from trtdoc.record.files import write_atomic
from trtdoc.record.types import EngineRecord, FailedGate
from trtdoc.spec.keys import spec_accuracy_key
from trtdoc.spec.load import LoadedSpec
from trtdoc.spec.types import EngineSpec
from trtdoc.typed import encode

if TYPE_CHECKING:
    import numpy as np


def _opt_shapes(spec: EngineSpec) -> dict[str, tuple[int, ...]] | None:
    return {n: r.opt for n, r in spec.profiles[0].shapes} if spec.profiles else None


def convert_for_spec(spec: EngineSpec, paths: OutputPaths) -> PrecisionResult:
    """The precision step alone: the converted model ``spec``'s engine is built from.

    ``trtdoc build`` and ``trtdoc convert`` both call this, so they write the same file.
    """
    from trtdoc.precision.convert import convert_model
    from trtdoc.precision.result import Calibration

    calibration = (Calibration(spec.calibration.data, spec.calibration.batches,
                               spec.calibration.sample_axis) if spec.calibration else None)
    keep = ((tuple(sorted(set(spec.keep_fp32.ops))), tuple(sorted(set(spec.keep_fp32.nodes))))
            if spec.keep_fp32 else ((), ()))
    return convert_model(spec.model, spec.precision, calibration=calibration,
                         cache_dir=paths.cache / "precision", profile_shapes=_opt_shapes(spec),
                         keep_fp32=keep)


def precision_step(item: LoadedSpec, paths: OutputPaths, facts: ModelFacts, root: Path,
                   on_event: OnEvent | None
                   ) -> tuple[Path, PrecisionResult, AccuracyReport]:
    """Convert ``item``'s model and check its accuracy against fp32: ``(converted model, the
    record's precision facts, the record's accuracy figures)``, paths in both relative to the
    project root ``root``. Raises :class:`GateError` when the spec's accuracy limits fail."""
    from trtdoc.precision.accuracy import check_tolerance, compare_models, load_metric
    from trtdoc.precision.samples import held_out_batches

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
                                    shapes=opt_shapes, engine=spec.name,
                                    sample_axis=dict(accuracy.sample_axis))
    metric = (load_metric(accuracy.metric, engine=spec.name)
              if accuracy is not None and accuracy.metric else None)
    report = compare_models(spec.model, result.model, inputs=held_out, samples=samples,
                            shapes=opt_shapes, engine=spec.name, metric=metric,
                            metric_name=(accuracy.metric or "") if accuracy else "",
                            sample_axis=dict(accuracy.sample_axis) if accuracy else None,
                            slices=accuracy.output_slices() if accuracy else None)
    # Records are checked in: keep paths relative, so they do not depend on the checkout.
    figures = dataclasses.replace(report, reference=project_path(report.reference, root),
                                  candidate=project_path(report.candidate, root),
                                  gate_key=spec_accuracy_key(spec))
    if accuracy is not None:
        violations = check_tolerance(
            figures, dict(accuracy.tolerance.items()) if accuracy.tolerance else {},
            outputs=accuracy.output_limits(), metric_tolerance=dict(accuracy.metric_tolerance))
        if violations:
            setting = next((s for s in ("accuracy.outputs", "accuracy.metric_tolerance")
                            if f"{s}." in violations[0]), "accuracy.tolerance")
            loc = item.locator.find(tuple(setting.split(".")))
            message = "; ".join(violations)
            if result.clamped_nodes:
                names = ", ".join(result.clamped_nodes)
                message += (f". The {spec.precision} conversion clamped weights to 65,504 that "
                            f"node(s) {names} read; keep them in fp32 with "
                            f"`keep_fp32: {{nodes: [{names}]}}`")
            # The search compares cosines: it runs when a cosine (or NaN/inf) failed the gate.
            diverging = _first_divergence(spec, result.model, held_out) if any(
                "cosine similarity" in v or "NaN or infinite" in v for v in violations) else None
            if diverging is not None:
                message += ". " + diverging.sentence(spec.precision, result.clamped_nodes)
            raise GateError(message, engine=spec.name, spec_path=loc.path,
                            setting=setting, line=loc.line, report=figures,
                            violations=violations)
    return result.model, result.in_project(root), figures


def _first_divergence(spec: EngineSpec, converted: Path,
                      held_out: Sequence[Mapping[str, np.ndarray]] | None) -> Divergence | None:
    """The first node whose output diverges, on one sample (held-out, else seeded random),
    below the loosest ``min_cosine`` the gate sets; None when it sets none."""
    from trtdoc.precision.divergence import first_divergence
    from trtdoc.precision.samples import batch_axes, random_batches

    accuracy = spec.accuracy
    bounds = [accuracy.tolerance.min_cosine] if accuracy and accuracy.tolerance else []
    bounds += [limits.get("min_cosine") for limits in (
        accuracy.output_limits().values() if accuracy else ()) if limits]
    set_bounds = [b for b in bounds if b is not None]
    if not set_bounds:  # the search measures cosines: a gate on other figures has no bound
        return None
    bound = min(set_bounds)
    feeds = held_out or random_batches(spec.model, _opt_shapes(spec), samples=1, seed=0,
                                       engine=spec.name)
    axes = batch_axes(spec.model, dict(accuracy.sample_axis) if accuracy else None)
    feed: dict[str, np.ndarray] = {}
    for name, array in feeds[0].items():
        axis = axes.get(name)
        feed[name] = array if axis is None else array.take(range(1), axis=axis)
    return first_divergence(spec.model, converted, feed, min_cosine=bound)


def gate_failed(item: LoadedSpec, paths: OutputPaths, exc: GateError,
                seconds: float) -> Outcome:
    """Keep the failed gate's figures for the pages; the last good engine and record stay."""
    gate = FailedGate(name=item.spec.name, violations=exc.violations, accuracy=exc.report,
                      spec=spec_view(item.spec, paths))
    write_atomic(paths.gate(item.spec.name),
                 json.dumps(encode(gate), indent=1, sort_keys=True) + "\n")
    return Outcome(item.spec.name, "failed", seconds, str(exc), item.spec.source,
                   stage="accuracy")


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
    _, _, figures = precision_step(item, paths, facts, root, None)
    record = dataclasses.replace(previous.with_spec(spec_view(spec, paths)), accuracy=figures)
    return record, Outcome(spec.name, "re-checked", time.perf_counter() - started,
                           "accuracy changed: gate re-run on the converted model; engine "
                           "unchanged", spec.source)

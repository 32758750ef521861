"""Accuracy of a converted model against its fp32 reference, measured in onnxruntime on the CPU.

Both models run on the same inputs: held-out data from the spec, or seeded random inputs, in
which case the report is flagged as a smoke check (it shows the conversion is not broken, not
that accuracy on real data is within tolerance). Sessions use ONNX Runtime's basic graph
optimisations only: the extended ones rewrite Q/DQ pairs into ORT's own integer kernels, whose
rounding differs from the Q/DQ reference that TensorRT implements.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AliasChoices,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from trtdoc.errors import BuildError
from trtdoc.spec.types import OutputSlice, slice_name

if TYPE_CHECKING:
    import numpy as np

# Figures a tolerance may bound, as (spec key, report attribute, bound kind, words).
_LIMITS = {
    "max_abs": ("max_abs", "max", "max abs error"),
    "mean_abs": ("mean_abs", "max", "mean abs error"),
    "min_cosine": ("cosine", "min", "cosine similarity"),
    "min_top1": ("top1_agreement", "min", "top-1 agreement"),
}


# Decoded as strictly as the record around it: no unknown key, no NaN or Infinity.
_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}
_METRIC_KEYS_CONFIG: Any = {**_CONFIG, "extra": "allow"}
_Count = Annotated[int, Field(ge=0)]
METRIC_PREFIX = "metric."  # a task-metric figure's key in the record: metric.<figure>


@dataclass(frozen=True)
class OutputAccuracy:
    """Errors of one model output, or of one slice of it (``output0[scores]``), over every
    sample.

    ``top1_agreement`` is the fraction of positions whose arg-max along the class axis agrees.
    Only two kinds of output have a class axis (the rule the page states, TOP1_RULE): a whole
    output of rank 2, [batch, classes], along its last axis, one row per sample; and a slice
    marked ``classes: true``, along its own axis. Anything else ([N, 3549, 6] anchors, pixel
    maps, [batch, time, classes] sequences, an output cut into slices as a whole, a single
    class) has none (``None``): an arg-max over anchors or pixels means nothing.
    """

    __pydantic_config__ = _CONFIG

    name: str
    shape: tuple[int, ...]  # of the first sample
    max_abs: float
    mean_abs: float
    cosine: float
    top1_agreement: float | None
    reference_mean_abs: float  # scale of the reference output, to read max_abs against
    nonfinite: _Count = 0  # values that are NaN/inf in the candidate but finite in the reference


@dataclass(frozen=True, kw_only=True)
class AccuracyReport:
    """Per-output errors of ``candidate`` against ``reference``; ``not_run`` says why if absent.

    The fields are the JSON keys in file order, but for ``metrics``: each task-metric figure is
    a flat ``metric.<figure>`` key in their place, so the page's accuracy table shows them
    beside the sample counts.
    """

    # Unknown keys are let through the first pass only to be read as metric.<figure> keys (or
    # refused) by _metric_keys.
    __pydantic_config__ = _METRIC_KEYS_CONFIG

    reference: str
    candidate: str
    outputs: tuple[OutputAccuracy, ...]
    samples: _Count  # input samples compared, summed over the batches
    # onnxruntime runs the samples took; None (no key) in a record written before trtdoc
    # counted them
    batches: Annotated[_Count | None, Field(exclude_if=lambda v: v is None)] = None
    smoke: bool  # True: seeded random inputs, not held-out data
    seed: int | None
    runtime: str  # "onnxruntime 1.32.0 CPU"
    not_run: str | None = None
    # The task metric's figures, sorted by name. They are read from the metric.<figure> keys
    # (_metric_keys); the aliases only catch the keys that would be taken for the field.
    metrics: Annotated[tuple[tuple[str, float], ...], Field(
        validation_alias=AliasChoices("metrics", METRIC_PREFIX))] = ()
    # The key of the spec's accuracy settings the report was checked against
    # (EngineSpec.accuracy_key): a build whose key differs runs the gate again.
    gate_key: Annotated[str | None, Field(
        exclude_if=lambda v: v is None, description=(
            "Key of the spec's accuracy settings this report was checked against; another key "
            "runs the gate again."))] = None

    @model_validator(mode="after")
    def _metric_keys(self) -> AccuracyReport:
        # The keys no field took: metric.<figure> ones are the figures, any other is refused
        # as every unknown key of a record is.
        extra = {k: self.__dict__.pop(k) for k in list(self.__dict__) if k not in _FIELDS}
        unknown = {k: v for k, v in extra.items() if not k.startswith(METRIC_PREFIX)}
        # A "metrics" key is an unknown one too, and so is "metric." (a figure without a name):
        # the field's aliases took them.
        if self.metrics:
            unknown["metrics"] = self.metrics
        if unknown:
            raise ValidationError.from_exception_data(type(self).__name__, [
                {"type": "extra_forbidden", "loc": (k,), "input": v} for k, v in unknown.items()])
        figures = _figures_adapter().validate_python(extra, strict=True)
        object.__setattr__(self, "metrics", tuple(sorted(
            (k.removeprefix(METRIC_PREFIX), v) for k, v in figures.items())))
        return self

    @model_serializer(mode="wrap")
    def _flat_metrics(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in handler(self).items():
            if key == "metrics":
                out.update((f"{METRIC_PREFIX}{name}", figure) for name, figure in value)
            else:
                out[key] = value
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        json_schema = handler.resolve_ref_schema(handler(schema))
        for key in ("metrics", METRIC_PREFIX):
            json_schema["properties"].pop(key, None)
        json_schema["patternProperties"] = {
            r"^metric\.": {"type": "number", "description": "A figure of the task metric."}}
        json_schema["additionalProperties"] = False
        return json_schema


_FIELDS = frozenset(f.name for f in fields(AccuracyReport))


@functools.cache
def _figures_adapter() -> TypeAdapter[dict[str, float]]:
    return TypeAdapter(dict[str, float], config={"allow_inf_nan": False})


def _figure(x: float) -> float:
    # Enough digits for any tolerance, few enough that records diff cleanly.
    return float(f"{x:.6g}")


class _Stats:
    """Running error figures for one output, so samples of different shapes can be mixed."""

    def __init__(self, name: str, class_axis: int | None = -1, *, sliced: bool = False) -> None:
        self.name = name
        self.class_axis = class_axis
        self.sliced = sliced  # a slice says its class axis; a whole output needs rank 2
        self.shape: tuple[int, ...] = ()
        self.count = 0
        self.max_abs = 0.0
        self.sum_abs = 0.0
        self.sum_ref_abs = 0.0
        self.dot = 0.0
        self.ref_sq = 0.0
        self.cand_sq = 0.0
        self.rows = 0
        self.agree = 0
        self.top1 = True
        self.nonfinite = 0

    def add(self, ref: np.ndarray, cand: np.ndarray) -> None:
        import numpy as np

        if not self.shape:
            self.shape = tuple(int(d) for d in ref.shape)
        r = np.asarray(ref, dtype=np.float64)
        c = np.asarray(cand, dtype=np.float64).reshape(r.shape)
        finite = np.isfinite(r) & np.isfinite(c)
        self.nonfinite += int((np.isfinite(r) & ~np.isfinite(c)).sum())
        r, c = r[finite], c[finite]
        d = np.abs(r - c)
        self.count += d.size
        if d.size:
            self.max_abs = max(self.max_abs, float(d.max()))
        self.sum_abs += float(d.sum())
        self.sum_ref_abs += float(np.abs(r).sum())
        self.dot += float(np.dot(r, c))
        self.ref_sq += float(np.dot(r, r))
        self.cand_sq += float(np.dot(c, c))
        # Class scores along the class axis, more than one class: a whole [B, C] output, or a
        # slice that says ``classes: true``.
        axis = self.class_axis
        if axis is not None and ref.ndim >= 2 and ref.shape[axis] > 1 \
                and (self.sliced or ref.ndim == 2):
            self.rows += int(ref.size // ref.shape[axis])
            self.agree += int((np.argmax(ref, axis=axis) == np.argmax(
                np.asarray(cand).reshape(ref.shape), axis=axis)).sum())
        else:
            self.top1 = False

    def result(self) -> OutputAccuracy:
        if self.ref_sq == 0.0 and self.cand_sq == 0.0:
            cosine = 1.0  # both all zero: identical
        elif self.ref_sq == 0.0 or self.cand_sq == 0.0:
            cosine = 0.0
        else:
            cosine = self.dot / math.sqrt(self.ref_sq * self.cand_sq)
        n = max(self.count, 1)
        return OutputAccuracy(
            name=self.name, shape=self.shape, max_abs=_figure(self.max_abs),
            mean_abs=_figure(self.sum_abs / n), cosine=_figure(min(cosine, 1.0)),
            top1_agreement=(_figure(self.agree / self.rows) if self.top1 and self.rows
                            else None),
            reference_mean_abs=_figure(self.sum_ref_abs / n), nonfinite=self.nonfinite)


def _slice(array: np.ndarray, cut: OutputSlice, engine: str) -> np.ndarray:
    if array.ndim <= cut.axis or array.shape[cut.axis] < cut.stop:
        raise BuildError(f"slice {cut.label!r} takes {cut.start}:{cut.stop} along axis "
                         f"{cut.axis}, but the output has shape {list(array.shape)}; make "
                         "the slice fit the output", engine=engine, setting="accuracy.outputs")
    index = [slice(None)] * array.ndim
    index[cut.axis] = slice(cut.start, cut.stop)
    return array[tuple(index)]


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the library never prints
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_ORT_NUMPY = {"tensor(float)": "float32", "tensor(float16)": "float16",
              "tensor(double)": "float64", "tensor(int64)": "int64", "tensor(int32)": "int32",
              "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(bool)": "bool"}


def _as(array: Any, dtype: str | None) -> Any:
    return array if dtype is None or array.dtype == dtype else array.astype(dtype)


MetricFunction = Callable[[Sequence[Mapping[str, "np.ndarray"]],
                           Sequence[Mapping[str, "np.ndarray"]],
                           Sequence[Mapping[str, "np.ndarray"]]], Mapping[str, float]]


def load_metric(target: str, *, engine: str = "") -> MetricFunction:
    """The task-metric function ``accuracy.metric`` names, as ``package.module:function``.

    The function is called once, after every batch ran, as ``function(reference_outputs,
    candidate_outputs, inputs)``: three lists with one entry per batch, each a dict of
    name -> numpy array (outputs by the fp32 model's output names, inputs by model input name).
    It returns a mapping of figure name -> float, for example ``{"exact_match": 0.93}``; the
    record keeps each as ``metric.<figure>``, and ``accuracy.metric_tolerance`` gates them
    with ``min_<figure>``/``max_<figure>`` keys.
    """
    module_name, _, attr = target.partition(":")

    def fail(why: str) -> BuildError:
        return BuildError(why, engine=engine, setting="accuracy.metric")

    if not module_name or not attr:
        raise fail(f"{target!r} is not package.module:function; write for example "
                   "mypackage.metrics:exact_match")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may fail any way while importing
        first = (str(exc).splitlines() or [""])[0].strip()
        raise fail(f"cannot import {module_name}, which {target!r} names "
                   f"({type(exc).__name__}: {first}). Install the package that holds it, or "
                   "put its folder on PYTHONPATH") from exc
    function = getattr(module, attr, None)
    if not callable(function):
        raise fail(f"{module_name} has no function {attr!r}, which {target!r} names. Name a "
                   "function defined there")
    return function


def _metric_figures(function: MetricFunction, target: str, engine: str,
                    args: tuple[list[Any], list[Any], list[Any]]) -> tuple[tuple[str, float], ...]:
    def fail(why: str) -> BuildError:
        return BuildError(f"{target!r} {why}", engine=engine, setting="accuracy.metric")

    try:
        figures = function(*args)
    except Exception as exc:  # the user's code
        first = (str(exc).splitlines() or [""])[0].strip()
        raise fail(f"raised {type(exc).__name__}: {first}") from exc
    if not isinstance(figures, Mapping):
        raise fail(f"returned {type(figures).__name__}, not a mapping of figure name to "
                   "number. Return e.g. {'exact_match': 0.93}")
    out = []
    for name, value in figures.items():
        if not isinstance(name, str) or not name or isinstance(value, bool) \
                or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise fail(f"returned {name!r}: {value!r}; every figure needs a non-empty name and "
                       "a finite number")
        out.append((name, _figure(float(value))))
    return tuple(sorted(out))


def compare_models(reference: Path, candidate: Path, *,
                   inputs: Sequence[Mapping[str, np.ndarray]] | None, seed: int = 0,
                   samples: int = 4, shapes: Mapping[str, Sequence[int]] | None = None,
                   engine: str = "", metric: MetricFunction | None = None,
                   metric_name: str = "", sample_axis: Mapping[str, int] | None = None,
                   slices: Mapping[str, Sequence[OutputSlice]] | None = None
                   ) -> AccuracyReport:
    """Run both models on the same inputs in onnxruntime (CPU) and measure the difference.

    ``inputs`` are held-out batches (see :func:`trtdoc.precision.held_out_batches`). Without
    them, ``samples`` seeded random samples are drawn in opt-shape batches
    (:func:`trtdoc.precision.random_batches`, dynamic axes from ``shapes``) and the report is
    a smoke check. Per output it records max and mean absolute error, cosine similarity over
    all values, and top-1 agreement along a class axis (see :class:`OutputAccuracy`). ``metric``
    (see :func:`load_metric`) adds task figures. ``slices`` maps an output name to slices of
    it, each measured as one more output named ``output[label]``, listed after its output. A
    candidate onnxruntime cannot run on the CPU (bf16 convolutions, for one) gives a report
    with ``not_run`` set and no outputs; a broken reference raises :class:`BuildError`.
    """
    import onnxruntime as ort

    from trtdoc.precision.samples import batch_axes, count_samples, random_batches

    engine = engine or candidate.name
    runtime = f"onnxruntime {ort.__version__} CPU"
    smoke = inputs is None
    feeds: Sequence[Mapping[str, Any]]
    feeds = random_batches(reference, shapes, samples=samples, seed=seed, engine=engine) \
        if inputs is None else inputs
    try:
        ref = _session(reference)
    except Exception as exc:  # onnxruntime raises its own pybind error types
        raise BuildError(f"onnxruntime cannot load the fp32 reference {reference.name} "
                         f"({type(exc).__name__}: {exc}); the accuracy check needs it",
                         engine=engine, setting="model") from exc
    try:
        cand = _session(candidate)
    except Exception as exc:  # no CPU kernel for a type (bf16 Conv) is the usual cause
        reason = str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__
        return AccuracyReport(reference=str(reference), candidate=str(candidate), outputs=(),
                              samples=0, batches=0, smoke=smoke, seed=seed if smoke else None,
                              runtime=runtime,
                              not_run=f"onnxruntime cannot run the converted model on the CPU "
                                      f"({reason})")
    ref_names = [o.name for o in ref.get_outputs()]
    cand_names = [o.name for o in cand.get_outputs()]
    # Converters keep output names; fall back to position if one renamed them.
    if set(ref_names) <= set(cand_names):
        pairs = [(n, n) for n in ref_names]
    elif len(ref_names) == len(cand_names):
        pairs = list(zip(ref_names, cand_names, strict=True))
    else:
        raise BuildError(f"the converted model has outputs {cand_names}, the fp32 model "
                         f"{ref_names}; they cannot be compared", engine=engine,
                         setting="precision")
    # Held-out data may be float64 or int32 where the models take float32 or int64.
    ref_types = {i.name: _ORT_NUMPY.get(i.type) for i in ref.get_inputs()}
    cand_types = {i.name: _ORT_NUMPY.get(i.type) for i in cand.get_inputs()}
    ref_inputs = list(ref_types)
    stats = {name: _Stats(name) for name in ref_names}
    cut = [(name, x, slice_name(name, x.label)) for name, xs in sorted((slices or {}).items())
           if name in stats for x in xs]
    stats.update((key, _Stats(key, x.axis if x.classes else None, sliced=True))
                 for _, x, key in cut)
    for name, _, _ in cut:  # the slices say where the classes are, if anywhere
        stats[name].class_axis = None
    kept: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for batch in feeds:
        missing = [n for n in ref_inputs if n not in batch]
        if missing:
            raise BuildError(f"held-out inputs lack {', '.join(missing)}. Name each array "
                             "after the model input it feeds", engine=engine,
                             setting="accuracy.data")
        ref_feed = {n: _as(batch[n], ref_types[n]) for n in ref_inputs}
        cand_feed = {n: _as(batch[n], cand_types[n]) for n in cand_types}
        try:
            ref_out = dict(zip(ref_names, ref.run(ref_names, ref_feed), strict=True))
            cand_out = dict(zip(cand_names, cand.run(cand_names, cand_feed), strict=True))
        except Exception as exc:  # shape or type mismatch between data and model
            raise BuildError(f"onnxruntime could not run the models on these inputs "
                             f"({type(exc).__name__}: {str(exc).strip()[:300]}). Check that "
                             "the data matches the model's input shapes and types",
                             engine=engine, setting="accuracy.data" if not smoke
                             else "profiles") from exc
        named = {rname: cname for rname, cname in pairs}
        for rname, cname in pairs:
            stats[rname].add(ref_out[rname], cand_out[cname])
        for rname, x, key in cut:
            stats[key].add(*(_slice(out, x, engine) for out in (
                ref_out[rname], cand_out[named[rname]])))
        if metric is not None:
            kept[0].append(ref_out)
            kept[1].append({r: cand_out[c] for r, c in pairs})
            kept[2].append(dict(ref_feed))
    axes = batch_axes(reference, sample_axis)
    return AccuracyReport(
        reference=str(reference), candidate=str(candidate),
        outputs=tuple(stats[n].result() for n in sorted(
            stats, key=lambda n: (n.partition("[")[0], n) if n not in ref_names else (n, ""))),
        samples=sum(count_samples({n: b[n] for n in ref_inputs}, axes) for b in feeds),
        batches=len(feeds), smoke=smoke, seed=seed if smoke else None, runtime=runtime,
        metrics=() if metric is None else _metric_figures(metric, metric_name, engine, kept))


def accuracy_lines(report: AccuracyReport) -> list[str]:
    """The figures of each output and slice (``output0[scores]``), one line each, as ``trtdoc
    lint`` prints them; the page's accuracy table shows the same figures."""
    if report.not_run is not None:
        return [f"not measured: {report.not_run}"]
    where = ("smoke check on seeded random inputs" if report.smoke
             else f"{report.samples} held-out sample(s)")
    lines = []
    for out in report.outputs:
        figures = [f"cosine {out.cosine:.6g}", f"mean abs error {out.mean_abs:.6g}",
                   f"max abs error {out.max_abs:.6g}"]
        if out.top1_agreement is not None:
            figures.append(f"top-1 agreement {out.top1_agreement:.6g}")
        if out.nonfinite:
            figures.append(f"{out.nonfinite} NaN/inf value(s)")
        lines.append(f"{out.name}: {', '.join(figures)} ({where})")
    lines += [f"metric {name}: {value:.6g}" for name, value in report.metrics]
    return lines


def _tolerance_items(tolerance: Mapping[str, float | None] | Any) -> list[tuple[str, float]]:
    items: Iterable[tuple[str, Any]] = tolerance.items()
    out = []
    for key, value in items:
        if value is None:
            continue
        if key not in _LIMITS:
            raise ValueError(f"unknown tolerance {key!r}; expected one of {sorted(_LIMITS)}")
        out.append((key, float(value)))
    order = list(_LIMITS)
    return sorted(out, key=lambda kv: order.index(kv[0]))


def _metric_items(metric_tolerance: Mapping[str, float] | None) -> list[tuple[str, float]]:
    out = []
    for key, value in sorted((metric_tolerance or {}).items()):
        kind, _, figure = key.partition("_")
        if kind not in ("min", "max") or not figure:
            raise ValueError(f"metric tolerance {key!r} does not start with min_ or max_")
        out.append((key, float(value)))
    return out


def check_tolerance(report: AccuracyReport, tolerance: Mapping[str, float | None] | Any, *,
                    outputs: Mapping[str, Mapping[str, float | None] | None] | None = None,
                    metric_tolerance: Mapping[str, float] | None = None) -> list[str]:
    """Human-readable violations of the accuracy gate. Empty means the report passes.

    ``tolerance`` (max_abs, mean_abs, min_cosine, min_top1) bounds every output.
    ``outputs`` maps an output name to its own limits, which replace ``tolerance``'s figure by
    figure (the figures it does not name still apply), or to None: the output is measured and
    shown, not gated. ``metric_tolerance`` bounds the task metric's figures with
    ``min_<figure>``/``max_<figure>`` keys. Each line names the output (or figure), the measure,
    the measured and the allowed value, and what to change. A report that could not be
    measured fails every non-empty gate, since an unchecked gate must not pass.
    """
    base = _tolerance_items(tolerance)
    own = {name: None if limits is None else _tolerance_items(limits)
           for name, limits in (outputs or {}).items()}
    metric_limits = _metric_items(metric_tolerance)
    if not base and not metric_limits and not any(own.values()):
        return []
    if report.not_run is not None:
        return [f"accuracy was not measured: {report.not_run}; remove accuracy.tolerance or "
                "choose a precision onnxruntime runs on the CPU (fp16, int8, fp8)"]
    violations: list[str] = []
    order = list(_LIMITS)
    base_top1_used = False
    for out in report.outputs:
        if out.name in own and own[out.name] is None:
            continue  # ignored: measured and shown, not gated
        limits = {key: (value, f"accuracy.tolerance.{key}") for key, value in base}
        for key, value in own.get(out.name) or ():
            limits[key] = (value, f"accuracy.outputs.{out.name}.{key}")
        if not limits:
            continue
        if out.nonfinite:
            violations.append(
                f"output {out.name!r}: {out.nonfinite} value(s) are NaN or infinite in the "
                "converted model but finite in the fp32 model; choose a higher precision")
        for key in sorted(limits, key=order.index):
            allowed, setting = limits[key]
            attr, kind, words = _LIMITS[key]
            measured = getattr(out, attr)
            if measured is None:
                if setting.startswith("accuracy.outputs."):
                    violations.append(
                        f"output {out.name!r}: {setting} is set, but the output has shape "
                        f"{list(out.shape)}, so it has no top-1 agreement (that needs a "
                        "[batch, classes] output or a slice marked `classes: true`, with more "
                        f"than one class); remove {setting}")
                continue
            if key == "min_top1" and setting.startswith("accuracy.tolerance."):
                base_top1_used = True
            hint = f"loosen {setting} or choose a higher precision"
            if kind == "max" and measured > allowed:
                violations.append(f"output {out.name!r}: {words} {measured:.6g} exceeds "
                                  f"{setting} {allowed:.6g}; {hint}")
            elif kind == "min" and measured < allowed:
                violations.append(f"output {out.name!r}: {words} {measured:.6g} is below "
                                  f"{setting} {allowed:.6g}; {hint}")
    if any(k == "min_top1" for k, _ in base) and not base_top1_used and report.outputs:
        violations.append("accuracy.tolerance.min_top1 is set, but no gated output has a "
                          "class axis (a [batch, classes] output or a slice marked `classes: "
                          "true`, with more than one class); remove accuracy.tolerance.min_top1")
    figures = dict(report.metrics)
    for key, allowed in metric_limits:
        kind, _, figure = key.partition("_")
        setting = f"accuracy.metric_tolerance.{key}"
        if figure not in figures:
            violations.append(f"{setting} is set, but accuracy.metric returned no figure "
                              f"{figure!r} (it returned: {', '.join(figures) or 'nothing'}); "
                              f"name a returned figure or set accuracy.metric")
            continue
        measured = figures[figure]
        hint = f"loosen {setting} or choose a higher precision"
        if kind == "max" and measured > allowed:
            violations.append(f"metric {figure!r}: {measured:.6g} exceeds {setting} "
                              f"{allowed:.6g}; {hint}")
        elif kind == "min" and measured < allowed:
            violations.append(f"metric {figure!r}: {measured:.6g} is below {setting} "
                              f"{allowed:.6g}; {hint}")
    return violations

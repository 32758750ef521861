"""Where a spec value becomes a table cell: the parameter table of an engine page.

Every builder setting gets one row: the value the spec asked for, the value the builder used
(read back from the builder config), TensorRT's default (read from a fresh config), and one
line on what the setting does and when to change it. :mod:`trtdoc.builder.settings` is where
the same values become builder calls; this module only words and formats them. Values come
out as plain text; templates escape them for their context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trtdoc.builder.settings import SETTING_KEYS
from trtdoc.record.types import EngineRecord
from trtdoc.spec.section import SpecSection
from trtdoc.spec.types import ShapeRange

NOT_SET = "not set"
NOT_KNOWN = "not known"
# The "TensorRT default" column of a setting TensorRT does not have: trtdoc's own choices.
NOT_TENSORRT = "not a TensorRT setting"
# Keyed by setting, not by stored value: records written before the settings table stored
# None for these hold trtdoc's defaults ("auto", "model"), which are not TensorRT's.
TRTDOC_ONLY = frozenset({"backend", "precision_method", "calibration", "accuracy.tolerance"})


@dataclass(frozen=True)
class Parameter:
    """What a setting is called on the page and what it is for."""

    key: str
    title: str
    explanation: str  # one line: what it does, and when to change it


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("backend", "Backend",
              "Which TensorRT flavour builds the engine: TensorRT-RTX compiles ahead of time "
              "for chosen GPUs, full TensorRT for the GPU it runs on; change it when the "
              "runtime you deploy with changes (auto takes whichever is installed)."),
    Parameter("precision", "Precision",
              "Numeric type of weights and math after trtdoc's precision step (fp32 keeps the "
              "model as exported); lower it (fp16, bf16, or int8/fp8 with calibration data) "
              "for a smaller, faster engine once accuracy against fp32 is within tolerance."),
    Parameter("precision_method", "Precision method",
              "model: trtdoc converts the ONNX model (fp16/bf16 conversion, or calibrated Q/DQ "
              "nodes) and TensorRT keeps those types; builder_flags: the weak-typing flags of "
              "TensorRT 10 and older, only for runtimes that still need them."),
    Parameter("profiles", "Optimisation profiles",
              "The min/opt/max shape ranges the engine accepts, each tuned for its opt shape; "
              "add a profile (rather than widening one) when a second shape regime, such as "
              "long sequences, would run slowly with kernels tuned for the first."),
    Parameter("memory.workspace", "Workspace",
              "Upper bound on scratch memory tactics may use; raise it if the log warns that "
              "tactics were skipped for lack of memory, lower it on memory-tight devices."),
    Parameter("memory.tactic_shared_memory", "Tactic shared memory",
              "Upper bound on on-chip shared memory a kernel may use; lower it when the GPU "
              "runs graphics or other kernels alongside the engine, else leave it."),
    Parameter("optimization_level", "Optimisation level",
              "How hard the builder searches for faster tactics (0-5); raise it for a possibly "
              "faster engine at the cost of build time, lower it for quick iteration builds."),
    Parameter("targets", "Targets",
              "Compute capabilities a TensorRT-RTX engine is compiled for ahead of time; it "
              "refuses other GPUs, so list every architecture you deploy to (fewer targets "
              "give a smaller engine; Turing, sm75, is best served by its own engine)."),
    Parameter("hardware_compatibility", "Hardware compatibility",
              "Full TensorRT only: one engine for all Ampere-and-later GPUs (ampere+) or for "
              "one compute capability (same-cc), at some speed cost; use it for a mixed "
              "fleet. TensorRT-RTX uses targets instead."),
    Parameter("version_compatible", "Version compatible",
              "Lets later TensorRT versions of the same major load the engine, possibly "
              "slower; turn it on when runtimes are upgraded separately from engines."),
    Parameter("flags", "Builder flags",
              "Extra builder flags that are on (some, like tf32, are on by default); add one "
              "only for a documented need, since each changes what the builder may do."),
    Parameter("profiling_verbosity", "Profiling verbosity",
              "How much layer detail the engine and its build log keep; trtdoc always builds "
              "with DETAILED because this page's layer table comes from it."),
    Parameter("calibration", "Calibration",
              "Sample inputs that set the INT8/FP8 scale factors; use data drawn from "
              "production inputs, and more batches for steadier scales."),
    Parameter("accuracy.tolerance", "Accuracy tolerance",
              "Limits on the converted model's error against the fp32 model; the build fails "
              "past them. Tighten for accuracy-critical outputs, loosen only with evidence "
              "from held-out data."),
)
PARAMETER_KEYS = tuple(p.key for p in PARAMETERS)
_BY_KEY = {p.key: p for p in PARAMETERS}
assert set(SETTING_KEYS) <= set(PARAMETER_KEYS), "every builder setting needs a page row"


@dataclass(frozen=True)
class ParameterRow:
    """One row of the parameter table, as plain (unescaped) text."""

    key: str
    title: str
    spec: str
    effective: str
    default: str
    explanation: str


# --------------------------------------------------------------------------------------------
# Formatting: one function per kind of value
# --------------------------------------------------------------------------------------------
_BINARY = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def format_bytes(n: Any) -> str:
    """``536870912`` → ``512 MiB``; ``7022340`` → ``6.70 MiB``; None → ``not known``."""
    if n is None:
        return NOT_KNOWN
    n = int(n)
    for unit, size in _BINARY:
        if abs(n) >= size:
            if n % size == 0:
                return f"{n // size} {unit}"
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def format_bytes_exact(n: Any) -> str:
    """``7022340`` → ``6.70 MiB (7,022,340 B)``."""
    if n is None:
        return NOT_KNOWN
    human = format_bytes(n)
    return human if human.endswith(" B") else f"{human} ({int(n):,} B)"


def format_seconds(s: Any) -> str:
    """Build times: ``1.802`` → ``1.80 s``."""
    if s is None:
        return NOT_KNOWN
    return f"{float(s):.2f} s"


def format_ms(ms: Any) -> str:
    """Layer times: three significant decimals in milliseconds."""
    if ms is None:
        return ""
    return f"{float(ms):.3f} ms"


def format_shape(dims: Sequence[Any]) -> str:
    """``[1, 3, 224, 224]`` → ``1×3×224×224``; ``[]`` → ``scalar``."""
    if not dims:
        return "scalar"
    return "×".join(str(d) for d in dims)


def format_count(n: Any) -> str:
    return NOT_KNOWN if n is None else f"{int(n):,}"


def format_value(key: str, value: Any) -> str:
    """One setting value as table text, whichever column it is in."""
    if value is None:
        return NOT_SET
    if key.startswith("memory."):
        return format_bytes(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if key == "targets":
        return ", ".join(str(v) for v in value) if value else "none (builder default)"
    if key == "flags":
        return ", ".join(sorted(str(v) for v in value)) if value else "none"
    if key == "profiling_verbosity":
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "none"
    return str(value)


def _spec_profiles(profiles: tuple[Mapping[str, ShapeRange], ...]) -> str:
    if not profiles:
        return "none (static shapes)"
    parts = []
    for i, profile in enumerate(profiles):
        inputs = "; ".join(
            f"{name} {format_shape(r.min)} … {format_shape(r.max)}"
            for name, r in sorted(profile.items()))
        parts.append(f"#{i}: {inputs}")
    return f"{len(profiles)}: " + " / ".join(parts)


def _in_spec(spec: SpecSection, key: str) -> Any:
    """The spec's value of a row: the row's key is the field's path (``memory.workspace``)."""
    node: Any = spec
    for part in key.split("."):
        node = None if node is None else getattr(node, part)
    return node


def _spec_tolerance(spec: SpecSection) -> str:
    tol = spec.accuracy.tolerance if spec.accuracy is not None else None
    return _tolerance(None if tol is None else dict(tol.items()))


def _spec_value(record: EngineRecord, key: str) -> str:
    spec = record.spec
    if not isinstance(spec, SpecSection):
        return NOT_KNOWN  # imported: no spec made it
    if key == "profiles":
        return _spec_profiles(spec.profiles)
    if key == "profiling_verbosity":
        return "detailed (always)"
    if key == "calibration":
        cal = spec.calibration
        if cal is None:
            return NOT_SET
        axes = "".join(f", {name} samples along axis {axis}" for name, axis in cal.sample_axis)
        return f"{cal.data}, {cal.batches} batches{axes}"
    if key == "accuracy.tolerance":
        return _spec_tolerance(spec)
    if key == "hardware_compatibility" and spec.hardware_compatibility == "none":
        return "none"
    return format_value(key, _in_spec(spec, key))


def format_tolerance(tol: Any) -> str:
    """Accuracy limits as page text: ``cosine ≥ 0.99, top-1 agreement ≥ 0.95``."""
    return _tolerance(tol)


def _tolerance(tol: Any) -> str:
    if not tol:
        return NOT_SET
    words = {"max_abs": "max abs ≤", "mean_abs": "mean abs ≤", "min_cosine": "cosine ≥",
             "min_top1": "top-1 agreement ≥"}
    return ", ".join(f"{words.get(k, k)} {v:g}" if isinstance(v, (int, float))
                     else f"{k} {v}" for k, v in sorted(tol.items()))


def _effective(record: EngineRecord, key: str, settings: Mapping[str, Any]) -> str:
    if not isinstance(record.spec, SpecSection):
        return NOT_KNOWN  # imported: trtdoc ran no precision step or check, trtexec may have
    if key == "calibration":
        batches = (record.precision.calibration_batches if record.precision is not None
                   else None)
        return f"{batches} batches" if batches else "none"
    if key == "accuracy.tolerance":
        if record.accuracy is None:
            # No precision step ran, so nothing was compared: a tolerance inherited from
            # _defaults.yaml or variants: checked nothing for this engine.
            return "not checked (no precision step)"
        tol = _spec_tolerance(record.spec)
        return tol if tol != NOT_SET else "not checked"
    if key not in settings:
        return NOT_KNOWN
    effective = settings[key][0]
    if effective is None and key not in ("optimization_level",):
        # read_settings stores None where the flavour has no such setting at all.
        return f"n/a in {_flavour(record.backend)}"
    return format_value(key, effective)


def _default(record: EngineRecord, key: str, settings: Mapping[str, Any]) -> str:
    """TensorRT's own default, never trtdoc's."""
    if key in TRTDOC_ONLY:
        return NOT_TENSORRT
    if key == "precision":
        # TensorRT has no precision setting: without flags or a converted model it builds
        # the types the model has (and weakly typed TensorRT falls back to fp32).
        return "the model's own types"
    if key not in settings:
        return NOT_KNOWN
    effective, default = settings[key]
    if effective is None and key not in ("optimization_level",):
        return f"n/a in {_flavour(record.backend)}"
    if key == "profiles" and not default:
        return "none"
    if key == "targets" and not default:
        return _default_targets(record)
    return format_value(key, default)


def _default_targets(record: EngineRecord) -> str:
    """What a TensorRT-RTX build with no targets compiles for, from the cited runtime data."""
    from trtdoc.compat.matrix import runtime_for

    row = runtime_for(record.backend, record.backend_version)
    if record.backend != "tensorrt-rtx" or row is None or not row.default_targets:
        return "none (builder default)"
    return ("none: TensorRT-RTX " + row.version + " then compiles for "
            + ", ".join(row.default_targets))


def _flavour(backend: str) -> str:
    return "TensorRT-RTX" if backend == "tensorrt-rtx" else "TensorRT"


def parameter_rows(record: EngineRecord) -> tuple[ParameterRow, ...]:
    """The settings of ``record`` as page rows, in page order.

    A row where neither the spec nor the effective value is known is left out: TensorRT's
    default alone says nothing about this engine. An imported record (trtexec exports)
    carries no builder settings, so it gets no rows at all; the page says so in a sentence.
    """
    settings = {s.key: (s.effective, s.default) for s in record.settings}
    rows = []
    for p in PARAMETERS:
        spec, effective = _spec_value(record, p.key), _effective(record, p.key, settings)
        if spec == NOT_KNOWN and effective == NOT_KNOWN:
            continue
        rows.append(ParameterRow(p.key, p.title, spec, effective,
                                 _default(record, p.key, settings), p.explanation))
    return tuple(rows)


def parameter(key: str) -> Parameter:
    """The page wording of one setting."""
    return _BY_KEY[key]

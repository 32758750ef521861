"""YAML engine specs → validated, frozen ``EngineSpec`` objects.

This is the boundary: pydantic validates here and nowhere else. Everything inward receives
frozen dataclasses. Every problem is collected (not just the first), and each is addressed as
``file:line:col: key.path: message. Hint: fix`` so a user with three typos sees three lines.

What a spec value does to the builder lives in ``builder_config.py``; how it reads on a page
lives in ``parameters.py``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from trtdoc.errors import SpecError, SpecErrors, display_path

DEFAULTS_FILE = "_defaults.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")

PRECISIONS = ("fp32", "fp16", "bf16", "int8", "fp8")
QUANTIZED = ("int8", "fp8")
BACKENDS = ("auto", "tensorrt", "tensorrt-rtx")
TARGETS = ("sm75", "sm80", "sm86", "sm89", "sm120", "sm121")
HARDWARE_COMPATIBILITY = ("none", "ampere+", "same-cc")
# Builder flags a spec may name; whether the installed TensorRT has one is checked at build time.
KNOWN_FLAGS = (
    "debug", "direct_io", "disable_compilation_cache", "disable_timing_cache",
    "distributive_independence", "editable_timing_cache", "error_on_timing_cache_miss",
    "exclude_lean_runtime", "gpu_fallback", "monitor_memory", "prefer_precision_constraints",
    "obey_precision_constraints", "refit", "refit_identical", "refit_individual",
    "reject_empty_algorithms", "require_user_allocation", "safety_scope", "sparse_weights",
    "strict_nans", "strip_plan", "tf32", "version_compatible", "weight_streaming",
)

# Names become file names and page slugs: they start and end with a letter or digit (so
# "tiny", "tiny-" and "tiny." cannot share engines/tiny.md), fit a file name, and match whole
# (``$`` would accept a trailing newline).
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")
# engines/index.md is the engine index.
RESERVED_NAMES = frozenset({"index"})


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an engine, or None."""
    if not _NAME_RE.fullmatch(name):
        return (f"{name[:40]!r}{'...' if len(name) > 40 else ''} is not a valid name; use "
                "letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
                "at most 128 characters (it becomes the page slug and file name)")
    if name.lower() in RESERVED_NAMES:
        return f"{name!r} is reserved (engines/{name}.md is the engine index); choose another"
    return None
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}

KeyPath = tuple[str | int, ...]


# --------------------------------------------------------------------------------------------
# Frozen objects handed to the build stage
# --------------------------------------------------------------------------------------------
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
        return dict(self.shapes).get(name)


@dataclass(frozen=True)
class Calibration:
    data: Path
    batches: int


@dataclass(frozen=True)
class Tolerance:
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
class EngineSpec:
    """One engine to build. ``None`` means "leave TensorRT's default"."""

    name: str
    source: Path
    model: Path
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    backend: str = "auto"
    precision: str = "fp32"
    precision_method: str = "model"
    calibration: Calibration | None = None
    profiles: tuple[Profile, ...] = ()
    workspace: int | None = None
    tactic_shared_memory: int | None = None
    optimization_level: int | None = None
    targets: tuple[str, ...] = ()
    hardware_compatibility: str = "none"
    version_compatible: bool = False
    flags: tuple[str, ...] = ()
    accuracy: Accuracy | None = None
    variant: tuple[tuple[str, Any], ...] = field(default=())

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        """The normalised spec as JSON-ready data; paths relative to ``base`` when given."""

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            if base is not None:
                from trtdoc.project import project_path

                return project_path(p, base)
            return p.as_posix()

        return {
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

    def build_key(self) -> str:
        """Hash of every setting that changes the engine (not description, owner or tags).

        ``accuracy`` is left out: it changes the check of the converted model, not the engine,
        so editing it re-runs the check (:meth:`accuracy_key`) without a TensorRT build.
        """
        d = self.to_dict()
        for k in ("description", "owner", "tags", "source", "model", "variant", "name",
                  "accuracy"):
            d.pop(k)
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


# --------------------------------------------------------------------------------------------
# Where each value came from, so errors point at file:line:col
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Location:
    path: Path
    line: int | None = None
    col: int | None = None


class Locator:
    """Maps key paths to the YAML position (file, line, col) the value came from."""

    def __init__(self, default: Path, values: Mapping[KeyPath, Location] | None = None,
                 keys: Mapping[KeyPath, Location] | None = None) -> None:
        self.default = default
        self.values: dict[KeyPath, Location] = dict(values or {})
        self.keys: dict[KeyPath, Location] = dict(keys or {})

    def find(self, path: KeyPath, *, at_key: bool = False) -> Location:
        """The nearest recorded position for ``path`` (walking up to its parents)."""
        table = self.keys if at_key else self.values
        for n in range(len(path), -1, -1):
            if path[:n] in table:
                return table[path[:n]]
            if path[:n] in self.values:
                return self.values[path[:n]]
        return Location(self.default, 1, 1)

    def error(self, path: KeyPath, message: str, hint: str = "", *, at_key: bool = False
              ) -> SpecError:
        loc = self.find(path, at_key=at_key)
        return SpecError(message, path=loc.path, line=loc.line, col=loc.col,
                         key=format_key(path), hint=hint)


def format_key(path: KeyPath) -> str:
    """``('profiles', 0, 'input', 'min')`` → ``profiles[0].input.min``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Doc:
    data: Any
    locator: Locator


def _read_yaml(path: Path, errors: list[SpecError]) -> _Doc | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(SpecError(f"cannot read the file ({exc})", path=path))
        return None
    try:
        # One parse gives both the nodes (for positions) and the data, exactly as
        # ``yaml.compose`` and ``yaml.safe_load`` would give them one parse each.
        loader = yaml.SafeLoader(text)  # raises ReaderError for unprintable characters
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        errors.append(SpecError(f"malformed YAML: {problem}", path=path, line=line, col=col,
                                hint="fix the YAML syntax (indentation, colons, quotes)"))
        return None
    except yaml.YAMLError as exc:
        errors.append(SpecError(f"malformed YAML: {exc}", path=path))
        return None
    locator = Locator(path)
    if node is not None:
        _walk(node, (), path, locator, errors)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errors.append(SpecError("a spec must be a mapping of keys to values", path=path,
                                line=1, col=1, hint="start the file with `name: my-engine`"))
        return None
    return _Doc(data, locator)


def _walk(node: yaml.Node, path: KeyPath, file: Path, loc: Locator,
          errors: list[SpecError]) -> None:
    loc.values[path] = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                errors.append(SpecError(
                    "this key appears twice in one mapping", path=file,
                    line=key_node.start_mark.line + 1, col=key_node.start_mark.column + 1,
                    key=format_key((*path, key)), hint="keep one of them"))
            seen.add(key)
            loc.keys[path + (key,)] = Location(file, key_node.start_mark.line + 1,
                                              key_node.start_mark.column + 1)
            _walk(value_node, (*path, key), file, loc, errors)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), file, loc, errors)


def _merge(base: _Doc, over: _Doc) -> _Doc:
    """Deep-merge ``over`` onto ``base``: mappings merge, everything else is replaced."""

    replaced: list[KeyPath] = []

    def merge(a: Any, b: Any, path: KeyPath) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(a)
            for k, v in b.items():
                if k in a:
                    out[k] = merge(a[k], v, (*path, k))
                else:
                    out[k] = v
                    replaced.append((*path, k))
            return out
        replaced.append(path)
        return b

    data = merge(base.data, over.data, ())
    values = dict(base.locator.values)
    keys = dict(base.locator.keys)
    # Positions of a replaced subtree come wholly from the file that replaced it; inside merged
    # mappings, the keys that only ``base`` sets keep pointing at ``base``'s file.
    for table, source in ((values, over.locator.values), (keys, over.locator.keys)):
        for path in replaced:
            for old in [p for p in table if p[: len(path)] == path]:
                del table[old]
        table.update(source)
    values[()] = over.locator.values.get((), Location(over.locator.default, 1, 1))
    return _Doc(data, Locator(over.locator.default, values, keys))


# --------------------------------------------------------------------------------------------
# The schema (pydantic stays in this module)
# --------------------------------------------------------------------------------------------
def parse_size(value: Any) -> int:
    """``512MiB``, ``1GiB``, ``1.5GB`` or a plain byte count → bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value}; write a byte count, "
                             "or a number with a unit such as 512MiB")
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m:
            number, unit = float(m.group(1)), (m.group(2) or "b").lower()
            return int(number * _UNITS[unit])
    raise ValueError(f"{value!r} is not a size; write bytes or a number with a unit "
                     "(B, KiB, MiB, GiB, KB, MB, GB)")


def _as_float(value: Any) -> Any:
    # YAML 1.1 reads `1e-2` (no dot) as a string; the spec sketch writes tolerances that way.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _known_flag(value: str) -> str:
    # Checked per item, so that an error names the item's own position in the file.
    if value.lower() in KNOWN_FLAGS:
        return value
    close = difflib.get_close_matches(value.lower(), KNOWN_FLAGS, n=1, cutoff=0.6)
    hint = (f"did you mean '{close[0]}'?" if close else "use TensorRT BuilderFlag names in "
            f"lower case, e.g. {', '.join(KNOWN_FLAGS[:3])}")
    raise ValueError(f"unknown builder flag '{value}'; {hint}")


Size = Annotated[int, BeforeValidator(parse_size)]
Float = Annotated[float, BeforeValidator(_as_float)]
Flag = Annotated[str, AfterValidator(_known_flag)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ShapeRange(_Model):
    min: list[int]
    opt: list[int]
    max: list[int]
    # min <= opt <= max and equal ranks are checked in check.py, so that these problems are
    # reported together with every other problem in the same file.


class _Calibration(_Model):
    data: str
    batches: int = Field(8, ge=1)


class _Memory(_Model):
    workspace: Size | None = None
    tactic_shared_memory: Size | None = None


class _Tolerance(_Model):
    max_abs: Float | None = Field(None, ge=0)
    mean_abs: Float | None = Field(None, ge=0)
    min_cosine: Float | None = Field(None, ge=-1, le=1)
    min_top1: Float | None = Field(None, ge=0, le=1)


class _OutputTolerance(_Tolerance):
    ignore: bool = False  # what `name: ignore` becomes


def _output_limits(value: Any) -> Any:
    if value == "ignore":
        return {"ignore": True}
    if isinstance(value, str) or value is None:
        raise ValueError(f"{value!r} is neither 'ignore' nor a mapping of limits; write "
                         "`ignore` (measured and shown, not gated) or limits such as "
                         "`{max_abs: 0.1, min_top1: 0.98}`")
    return value


_METRIC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _metric_target(value: str) -> str:
    if not _METRIC_RE.match(value):
        raise ValueError(f"{value!r} is not package.module:function; write for example "
                         "`metric: mypackage.metrics:exact_match`")
    return value


def _metric_key(value: str) -> str:
    kind, _, figure = value.partition("_")
    if kind not in ("min", "max") or not figure:
        raise ValueError(f"'{value}' does not start with min_ or max_; write `min_<figure>` "
                         "or `max_<figure>` for a figure the metric returns, e.g. "
                         "`min_exact_match: 0.9`")
    return value


class _Accuracy(_Model):
    tolerance: _Tolerance | None = None
    data: str | None = None
    samples: int = Field(4, ge=1)
    outputs: dict[str, Annotated[_OutputTolerance, BeforeValidator(_output_limits)]] = {}
    metric: Annotated[str, AfterValidator(_metric_target)] | None = None
    metric_tolerance: dict[Annotated[str, AfterValidator(_metric_key)], Float] = {}


class _Spec(_Model):
    name: str
    description: str = ""
    owner: str | None = None
    tags: list[str] = []
    model: str
    backend: Literal["auto", "tensorrt", "tensorrt-rtx"] = "auto"
    precision: Literal["fp32", "fp16", "bf16", "int8", "fp8"] = "fp32"
    precision_method: Literal["model", "builder_flags"] = "model"
    calibration: _Calibration | None = None
    profiles: list[dict[str, _ShapeRange]] = []
    memory: _Memory = _Memory()
    optimization_level: int | None = Field(None, ge=0, le=5)
    targets: list[Literal["sm75", "sm80", "sm86", "sm89", "sm120", "sm121"]] = []
    hardware_compatibility: Literal["none", "ampere+", "same-cc"] = "none"
    version_compatible: bool = False
    flags: list[Flag] = []
    accuracy: _Accuracy | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        problem = name_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v


# Keys allowed at each level, for "did you mean" hints.
def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


_KEYS_AT: dict[str, tuple[str, ...]] = {
    "": (*_fields(_Spec), "variants"),
    "calibration": _fields(_Calibration),
    "memory": _fields(_Memory),
    "accuracy": _fields(_Accuracy),
    "accuracy.tolerance": _fields(_Tolerance),
    "accuracy.outputs.*": _fields(_Tolerance),
    "profile": _fields(_ShapeRange),
}

_TYPE_WORDS = {
    "int_type": "an integer", "int_parsing": "an integer", "string_type": "a string",
    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
    "float_type": "a number", "float_parsing": "a number", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


_TYPE_HINTS = {
    "list_type": "write a list, as `[a, b]` or one `- item` per line",
    "dict_type": "write a mapping, as `{key: value}` or one `key: value` per line",
    "model_type": "write a mapping, as `{key: value}` or one `key: value` per line",
    "model_attributes_type": "write a mapping, as `{key: value}` or one `key: value` per line",
}


def _example_for(path: KeyPath) -> str:
    examples = {
        "name": "name: resnet18-fp16", "model": "model: ../models/resnet18.onnx",
        "calibration.data": "data: ../calib/sample.npz",
    }
    return examples.get(format_key(tuple(p for p in path if not isinstance(p, int))), "")


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping", type(None): "nothing"}.get(type(value), "a value")
    text = repr(value) if isinstance(value, (int, float, str, bool)) else ""
    return f"{kind} {text}".strip()


def _spec_errors(exc: ValidationError, doc: _Doc) -> list[SpecError]:
    out: list[SpecError] = []
    for err in exc.errors():
        path: KeyPath = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(path[-1])
            parent = tuple(path[:-1])
            level = ("profile" if parent and parent[0] == "profiles" and len(parent) == 3
                     else "accuracy.outputs.*" if parent[:2] == ("accuracy", "outputs")
                     and len(parent) == 3
                     else format_key(tuple(p for p in parent if not isinstance(p, int))))
            allowed = _KEYS_AT.get(level, ())
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"valid keys here: {', '.join(allowed)}")
            out.append(doc.locator.error(path, f"unknown key '{key}'", hint, at_key=True))
        elif kind == "missing":
            example = _example_for(path)
            hint = f"add `{example}`" if example else f"add the key '{path[-1]}'"
            out.append(doc.locator.error(path, "required key is missing", hint))
        elif kind == "literal_error":
            expected = err["ctx"]["expected"]
            options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
            close = difflib.get_close_matches(str(err["input"]), options, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(options)}"
            out.append(doc.locator.error(
                path, f"{err['input']!r} is not one of {', '.join(options)}", hint))
        elif kind in _TYPE_WORDS:
            out.append(doc.locator.error(
                path, f"expected {_TYPE_WORDS[kind]}, got {_describe(err['input'])}",
                _TYPE_HINTS.get(kind, "fix the value's type (quotes make a string)")))
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            out.append(doc.locator.error(
                path, f"{err['input']!r} is out of range: {err['msg'].lower()}",
                "choose a value in the allowed range"))
        else:
            msg = str(err.get("msg", "invalid value"))
            msg = msg.removeprefix("Value error, ")
            message, _, hint = msg.partition("; ")
            out.append(doc.locator.error(path, message, hint))
    return out


def _expand_variants(doc: _Doc, errors: list[SpecError]) -> list[_Doc]:
    variants = doc.data.get("variants")
    if variants is None:
        return [doc]
    if not isinstance(variants, dict) or not variants:
        errors.append(doc.locator.error(
            ("variants",), "expected a mapping of spec keys to lists of values",
            "write for example `variants: {precision: [fp32, fp16]}`"))
        return []
    keys: list[str] = []
    for key, values in variants.items():
        if key not in _KEYS_AT[""] or key in ("name", "variants"):
            close = difflib.get_close_matches(str(key), _KEYS_AT[""], n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "name a top-level spec key"
            errors.append(doc.locator.error(("variants", key),
                                            f"cannot vary unknown key '{key}'", hint,
                                            at_key=True))
        elif not isinstance(values, list) or not values:
            errors.append(doc.locator.error(("variants", key), "expected a non-empty list",
                                            f"write `{key}: [a, b]`"))
        else:
            repeated = [i for i, v in enumerate(values) if v in values[:i]]
            for i in repeated:
                errors.append(doc.locator.error(
                    ("variants", key, i), f"{values[i]!r} is listed twice",
                    "list each value once (each one becomes an engine)"))
            if not repeated:
                keys.append(key)
    if len(keys) != len(variants):
        return []
    out = []
    for combo in itertools.product(*(enumerate(variants[k]) for k in keys)):
        data = {k: v for k, v in doc.data.items() if k != "variants"}
        loc = Locator(doc.locator.default, doc.locator.values, doc.locator.keys)
        suffix = []
        for key, (i, value) in zip(keys, combo, strict=True):
            data[key] = value
            for table in (loc.values, loc.keys):
                for p in [p for p in table if p[:1] == (key,)]:
                    del table[p]
            for p, where in doc.locator.values.items():
                if p[:3] == ("variants", key, i):
                    loc.values[(key,) + p[3:]] = where
            suffix.append(_slug_value(value, i))
        base = data.get("name", "")
        data["name"] = "-".join([str(base), *suffix]) if isinstance(base, str) else base
        data["__variant__"] = tuple((k, v) for k, (_, v) in zip(keys, combo, strict=True))
        out.append(_Doc(data, loc))
    return out


def _slug_value(value: Any, index: int) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        s = re.sub(r"[^A-Za-z0-9._]+", "-", str(value)).strip("-").lower()
        return s or f"v{index}"
    return f"v{index}"


def _freeze(spec: _Spec, source: Path, variant: tuple[tuple[str, Any], ...]) -> EngineSpec:
    here = source.parent

    def resolve(p: str) -> Path:
        return (here / p).resolve() if not Path(p).is_absolute() else Path(p)

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
            resolve(spec.calibration.data), spec.calibration.batches),
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
                OutputTolerance(name, None if limits.ignore else Tolerance(
                    **limits.model_dump(exclude={"ignore"})))
                for name, limits in sorted(spec.accuracy.outputs.items())),
            metric=spec.accuracy.metric,
            metric_tolerance=tuple(sorted(spec.accuracy.metric_tolerance.items())),
        ),
        variant=variant,
    )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedSpec:
    """A frozen spec together with where each of its values was written."""

    spec: EngineSpec
    locator: Locator
    duplicate: bool = False  # another spec has the same name; only ``check`` keeps these


def find_spec_files(paths: Iterable[Path]) -> list[Path]:
    """Spec files named by ``paths`` (files, or folders searched recursively), sorted."""
    found: set[Path] = set()
    for p in paths:
        if p.is_dir():
            for q in p.rglob("*"):
                if (q.suffix in SPEC_SUFFIXES and q.is_file() and not q.name.startswith("_")
                        and not any(part.startswith(".") for part in q.relative_to(p).parts)):
                    found.add(q)
        else:
            found.add(p)
    return sorted(found)


def _defaults_chain(spec_file: Path, roots: Sequence[Path]) -> list[Path]:
    """``_defaults.yaml`` files from the outermost folder down to the spec's own folder.

    The chain climbs to the working directory when the spec lies below it, so a spec builds
    the same whether ``specs/``, ``specs/vision`` or the file itself is passed. Outside the
    working directory it climbs only to the folder that was passed.
    """
    folder = spec_file.resolve().parent
    cwd = Path.cwd().resolve()
    if folder.is_relative_to(cwd):
        stop = cwd
    else:
        stop = next((r.resolve() for r in roots if r.is_dir()
                     and folder.is_relative_to(r.resolve())), folder)
    chain = []
    while True:
        candidate = folder / DEFAULTS_FILE
        if candidate.is_file():
            chain.append(candidate)
        if folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return list(reversed(chain))


def load_specs(paths: Iterable[Path | str], *, keep_duplicates: bool = False
               ) -> tuple[list[LoadedSpec], list[SpecError]]:
    """Load every spec under ``paths``. Returns the good specs and every problem found.

    Specs with problems are left out; the others are still returned, so one bad file never
    stops the rest. A spec whose name is taken is left out too, unless ``keep_duplicates``:
    then it is returned with ``duplicate=True``, so that its other problems can be reported.
    """
    roots = [Path(p) for p in paths]
    errors: list[SpecError] = []
    for r in roots:
        if not r.exists():
            errors.append(SpecError("no such file or folder", path=r,
                                    hint="pass a spec file or a folder of *.yaml specs"))
    files = find_spec_files(r for r in roots if r.exists())
    if not files and not errors:
        errors.append(SpecError("no spec files found", path=roots[0] if roots else Path("."),
                                hint="add a *.yaml spec (files starting with '_' are skipped)"))
    defaults_cache: dict[Path, _Doc | None] = {}
    loaded: list[LoadedSpec] = []
    names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]] = []
    for f in files:
        loaded.extend(_load_one(f, roots, defaults_cache, errors, names))
    dups, dup_errors = _duplicate_names(names)
    errors.extend(dup_errors)
    if keep_duplicates:
        loaded = [replace(s, duplicate=True) if s.spec.name in dups else s for s in loaded]
    else:
        loaded = [s for s in loaded if s.spec.name not in dups]
    return loaded, sort_errors(errors)


def sort_errors(errors: Iterable[SpecError]) -> list[SpecError]:
    """File order, then line order: the order a user fixes them in. Each line once: specs that
    share a defaults file, or variants that share a line, would repeat the same mistake."""
    unique = {str(e): e for e in errors}
    return sorted(unique.values(), key=lambda e: (str(e.path), e.line or 0, e.col or 0, e.key))


def _load_one(path: Path, roots: Sequence[Path], cache: dict[Path, _Doc | None],
              errors: list[SpecError],
              names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]]) -> list[LoadedSpec]:
    file_errors: list[SpecError] = []
    doc: _Doc | None = None
    for d in _defaults_chain(path, roots):
        if d not in cache:
            derr: list[SpecError] = []
            cache[d] = _read_yaml(d, derr)
            if cache[d] is not None and "name" in cache[d].data:  # type: ignore[union-attr]
                derr.append(cache[d].locator.error(  # type: ignore[union-attr]
                    ("name",), "a defaults file cannot set the name",
                    "set `name` in each spec file", at_key=True))
                cache[d] = None
            errors.extend(derr)  # reported once, however many specs share the file
        if cache[d] is None:
            return []
        doc = cache[d] if doc is None else _merge(doc, cache[d])  # type: ignore[arg-type]
    own = _read_yaml(path, file_errors)
    if own is None:
        errors.extend(file_errors)
        return []
    doc = own if doc is None else _merge(doc, own)
    out: list[LoadedSpec] = []
    for vdoc in _expand_variants(doc, file_errors):
        data = dict(vdoc.data)
        variant = data.pop("__variant__", ())
        if isinstance(data.get("name"), str):
            names.append((data["name"], vdoc.locator, variant))
        try:
            parsed = _Spec.model_validate(data)
        except ValidationError as exc:
            file_errors.extend(_spec_errors(exc, vdoc))
            continue
        out.append(LoadedSpec(_freeze(parsed, path, variant), vdoc.locator))
    errors.extend(file_errors)
    return out if not file_errors else []


def _duplicate_names(names: list[tuple[str, Locator, tuple[tuple[str, Any], ...]]]
                     ) -> tuple[set[str], list[SpecError]]:
    first: dict[str, tuple[Locator, tuple[tuple[str, Any], ...]]] = {}
    errors: list[SpecError] = []
    dups: set[str] = set()
    for name, locator, variant in names:
        if name in first:
            other_locator, other_variant = first[name]
            other = other_locator.find(("name",))
            errors.append(locator.error(
                ("name",), f"name '{name}'{_variant_words(variant)} is already used by "
                f"{display_path(other.path)}:{other.line}{_variant_words(other_variant)}",
                "give every engine a unique name (it is the page slug; a variant's name is "
                "the name plus each varied value)" if variant or other_variant else
                "give every engine a unique name (it is the page slug)"))
            dups.add(name)
        else:
            first[name] = (locator, variant)
    return dups, errors


def _variant_words(variant: tuple[tuple[str, Any], ...]) -> str:
    """`` (variant precision=fp16)``: which expansion of a spec made a name."""
    if not variant:
        return ""
    return " (variant " + ", ".join(f"{k}={v}" for k, v in variant) + ")"


def load_specs_or_raise(paths: Iterable[Path | str]) -> list[LoadedSpec]:
    """Like :func:`load_specs`, but raises :class:`SpecErrors` if anything is wrong."""
    loaded, errors = load_specs(paths)
    if errors:
        raise SpecErrors(errors)
    return loaded

"""YAML engine specs → validated, frozen ``EngineSpec`` objects.

This is the boundary: pydantic validates here and nowhere else. Everything inward receives
frozen dataclasses. Every problem is collected (not just the first), and each is addressed as
``file:line:col: key.path: message. Hint: fix`` so a user with three typos sees three lines.

What a spec value does to the builder lives in ``builder_config.py``; how it reads on a page
lives in ``parameters.py``.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import itertools
import json
import math
import os
import re
import reprlib
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema

from trtdoc.errors import SpecError, SpecErrors, display_path
from trtdoc.header import RTX_COMPUTE_CAPABILITIES

DEFAULTS_FILE = "_defaults.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")

PRECISIONS = ("fp32", "fp16", "bf16", "int8", "fp8")
QUANTIZED = ("int8", "fp8")
BACKENDS = ("auto", "tensorrt", "tensorrt-rtx")
# TensorRT-RTX compute capabilities, in the order of their header bits (one list: header.py).
TARGETS = RTX_COMPUTE_CAPABILITIES
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


# --------------------------------------------------------------------------------------------
# Limits. Every spec file is untrusted (a pull request can add one, or a symlink to any file on
# the CI host), so reading and checking one takes bounded time and memory whatever it holds.
# The README's "Limits" section lists these; keep the two in step.
# --------------------------------------------------------------------------------------------
# A spec is a few hundred bytes; refusing larger files before parsing bounds the parse (pure
# PyYAML takes about 6 s per MiB) and everything after it.
MAX_SPEC_BYTES = 1 << 20
# Nodes reached through aliases, summed over the walk ("billion laughs": nine levels of nine
# aliases are 9**9 nodes from 330 bytes). Counting, rather than refusing aliases to
# collections, keeps `<<: *defaults` and shared profiles working; a file without aliases is
# already bounded by MAX_SPEC_BYTES.
MAX_ALIAS_NODES = 100_000
# The deepest real key path is five levels (profiles[0].input.min[0]).
MAX_YAML_DEPTH = 32
# Lines shown per file; the rest are counted in one "... and K more problems" line.
MAX_PROBLEMS_PER_FILE = 20
# Engines one spec file may expand to through `variants:`.
MAX_VARIANTS = 64
MAX_PROFILES = 64
# nvinfer1::Dims holds at most 8 dimensions; dims are int64 in TensorRT but no real tensor
# has a dimension above int32.
MAX_RANK = 8
MAX_DIM = 2**31 - 1
# Memory pool sizes: 1 PiB is far above any GPU and well inside int64 bytes.
MAX_POOL_BYTES = 2**50
# Counts that drive how much the build holds in memory.
MAX_CALIBRATION_BATCHES = 10_000
MAX_ACCURACY_SAMPLES = 100_000
# An excerpt of an unknown key or a bad value in an error line (repr-style, so control
# characters are escaped): enough to recognise a typo, too little to leak a file into a CI log.
EXCERPT_CHARS = 40
_PATH_CHARS = 4096

NOT_A_SPEC = ("not a trtdoc spec (the top level must be a mapping with name and model keys); "
              "nothing from it is shown")

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = EXCERPT_CHARS
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*")


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as at most ``limit`` characters, repr-style (control characters escaped).

    Text from a spec file (an unknown key, a bad value) goes into error lines only this way.
    """
    if isinstance(value, str):
        text = repr(value[: limit + 1])
        if len(value) <= limit and len(text) <= limit:
            return text
        n = min(len(value), limit)
        while n > 0 and len(repr(value[:n])) + 3 > limit:
            n -= 1
        return repr(value[:n]) + "..."
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_path(path: Path | str) -> str:
    """``display_path`` that never fails: a symlink loop cannot be resolved, and pathlib's
    ``resolve`` raises on one (Python 3.11), so this resolves with ``os.path.realpath``."""
    p = str(path)
    try:
        real = os.path.realpath(p)
        rel = os.path.relpath(real, os.path.realpath(os.getcwd()))
    except (OSError, ValueError):
        return excerpt(p, 200) if not p.isprintable() else p
    shown = rel if not rel.startswith(os.pardir) else p
    return shown if shown.isprintable() else excerpt(shown, 200)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an engine, or None."""
    if not _NAME_RE.fullmatch(name):
        return (f"{excerpt(name)} is not a valid name; use "
                "letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
                "at most 128 characters (it becomes the page slug and file name)")
    if name.lower() in RESERVED_NAMES:
        return f"{name!r} is reserved (engines/{name}.md is the engine index); choose another"
    return None


# Written without flags or \d so that the same pattern is valid in the JSON Schema (ECMA-262),
# whose `pattern` has no IGNORECASE and whose \d is ASCII only.
SIZE_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMmGgTt][Ii]?[Bb]|[Bb])?\s*$"
_SIZE_RE = re.compile(SIZE_PATTERN)
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


# Ray's accelerator types of NVIDIA GPUs (the constants of ray.util.accelerators, Ray 2.60):
# what a GPU node reports, so what ``build_on: {gpu: ...}`` may name. tests/test_ray.py checks
# this list against the installed Ray.
RAY_NVIDIA_GPUS = ("A100", "A100-40G", "A100-80G", "A10G", "B200", "B300", "GB200", "GB300",
                   "H100", "H20", "H200", "K80", "L4", "L40S", "P100", "P4", "RTX-PRO-6000",
                   "T4", "V100")
# Ray resources Ray itself accounts for: not placement labels.
RAY_OWN_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory")
_RESOURCE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,99}")


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
    """``('profiles', 0, 'input', 'min')`` → ``profiles[0].input.min``.

    A key that is not plain (spaces, control characters, more than 40 characters) shows as
    an :func:`excerpt`, since keys come from the file.
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = str(part)
        if len(text) > EXCERPT_CHARS or not _PLAIN_KEY_RE.fullmatch(text):
            text = excerpt(part)
        out += f".{text}" if out else text
    return out


class UnresolvableFileError(SpecError):
    """A problem with a path that cannot be resolved (a symlink loop): shown as given."""

    def __str__(self) -> str:
        where = shown_path(self.path)
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return text + (f". Hint: {self.hint}" if self.hint else "")


class MoreProblems(SpecError):
    """Stands for ``count`` problems of one file that are not shown (see
    ``MAX_PROBLEMS_PER_FILE``)."""

    def __init__(self, path: Path | str, count: int) -> None:
        self.count = count
        super().__init__(f"{count} more problems", path=path)

    def __str__(self) -> str:
        return f"… and {self.count} more problems in {shown_path(self.path)}"


@dataclass
class _Doc:
    data: Any
    locator: Locator


def _size_words(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def path_problem(path: Path, *, folder_ok: bool = False) -> tuple[str, str] | None:
    """``(what is wrong, how to fix)`` if ``path`` cannot be read as a plain file (or, with
    ``folder_ok``, a folder), else None.

    Never blocks: a FIFO or a device is refused from its ``stat``, before anything opens it.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("is a symlink loop", "point the symlink at a real file")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(path):
                return ("is a symlink to nothing", "point the symlink at a real file")
            return ("does not exist", "fix the path; it is relative to the spec file")
        return (f"cannot be read ({exc.strerror})", "fix the path or the file's permissions")
    except ValueError:
        return ("is not a usable path", "fix the path")
    if stat.S_ISDIR(st.st_mode):
        if folder_ok:
            return None if os.access(path, os.R_OK | os.X_OK) else (
                "cannot be read (permission denied)", "make the folder readable")
        return ("is a folder, not a file", "point it at a file")
    if not stat.S_ISREG(st.st_mode):
        return ("is not a regular file (a FIFO, a device or a socket)", "point it at a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return (f"cannot be read ({exc.strerror})", "make the file readable")
    os.close(fd)
    return None


def _file_error(path: Path, message: str, hint: str = "", line: int | None = None,
                col: int | None = None) -> SpecError:
    cls = UnresolvableFileError if _loops(path) else SpecError
    return cls(message, path=path, line=line, col=col, hint=hint)


def _loops(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    except ValueError:
        return True
    return False


# How a file-level problem's fix reads, per kind of file (specs, and deploy.yaml).
_FILE_HINTS = {
    "spec": {"missing": "pass a spec file or a folder of *.yaml specs",
             "size": "a spec is a few hundred bytes: keep data in files it names "
                     "(calibration.data, accuracy.data)",
             "encoding": "save the spec as UTF-8",
             "depth": "a spec is a few levels deep; flatten it"},
    "deployment file": {"missing": "pass the deployment file, as `--deploy deploy.yaml`",
                        "size": "a deployment file is a few kilobytes: use globs and tags "
                                "in `engines:` rather than listing every engine",
                        "encoding": "save the deployment file as UTF-8",
                        "depth": "a deployment file is a few levels deep; flatten it"},
    "project file": {"missing": "pass the project file, as `--project trtdoc.yml`",
                     "size": "a project file is a few lines: it names folders",
                     "encoding": "save the project file as UTF-8",
                     "depth": "a project file is one level deep; flatten it"},
}


def _read_text(path: Path, errors: list[SpecError], kind: str = "spec") -> str | None:
    """The file's text, or None with one line in ``errors``; at most MAX_SPEC_BYTES are read."""
    problem = path_problem(path)
    if problem is not None:
        message, hint = problem
        if message == "does not exist":
            hint = _FILE_HINTS[kind]["missing"]
        errors.append(_file_error(path, message, hint))
        return None
    limit = _size_words(MAX_SPEC_BYTES)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # swapped since path_problem looked
                errors.append(_file_error(path, "is not a regular file", "point it at a file"))
                return None
            if st.st_size > MAX_SPEC_BYTES:
                errors.append(_file_error(
                    path, f"the file is {_size_words(st.st_size)}, more than the {limit} a "
                    f"{kind} may be; nothing was parsed", _FILE_HINTS[kind]["size"]))
                return None
            raw = f.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        errors.append(_file_error(path, f"cannot read the file ({exc.strerror})",
                                  "fix the file's permissions"))
        return None
    if len(raw) > MAX_SPEC_BYTES:  # it grew while being read
        errors.append(_file_error(path, f"the file is more than the {limit} a {kind} may be; "
                                  "nothing was parsed", "keep data in the files it names"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        errors.append(_file_error(
            path, "the file is not UTF-8 text; nothing from it is shown",
            _FILE_HINTS[kind]["encoding"], line=line, col=col))
        return None


class _Refused(Exception):
    """The YAML is too big or too deep to walk; ``error`` says where and why."""

    def __init__(self, error: SpecError) -> None:
        self.error = error


def _compose(text: str, path: Path, kind: str = "spec") -> yaml.Node | None:
    """The document's node graph. libyaml when present (2-3x faster, nesting capped at 1000
    levels); PyYAML's own parser otherwise, and for the wording of every syntax error, so
    messages do not depend on how PyYAML was installed."""
    fast = getattr(yaml, "CSafeLoader", None)
    mark = None
    # PyYAML's reader refuses unprintable characters and libyaml does not: let it say so.
    if fast is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        loader = fast(text)
        try:
            return loader.get_single_node()  # type: ignore[no-any-return]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark  # parsed again below for PyYAML's message
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    slow = yaml.SafeLoader(text)
    try:
        return slow.get_single_node()  # type: ignore[no-any-return]
    except RecursionError:  # PyYAML composes recursively; libyaml stops at 1000 levels
        raise _Refused(SpecError(
            f"the YAML nests deeper than {MAX_YAML_DEPTH} levels", path=path,
            line=mark.line + 1 if mark else None, col=mark.column + 1 if mark else None,
            hint=_FILE_HINTS[kind]["depth"])) from None
    finally:
        slow.dispose()


def _read_yaml(path: Path, errors: list[SpecError], *,
               looks_like: Callable[[dict[Any, Any]], bool] | None = None,
               not_this: str = NOT_A_SPEC, kind: str = "spec") -> _Doc | None:
    """The file's data and the position of every value, or None with the problems in
    ``errors``. ``looks_like`` tells a file of this kind (a spec by default) from any other
    YAML, which is named with ``not_this`` and never listed."""
    looks_like = looks_like or _spec_like
    text = _read_text(path, errors, kind)
    if text is None:
        return None
    try:
        node = _compose(text, path, kind)  # raises ReaderError for unprintable characters
        walk_errors: list[SpecError] = []
        locator = Locator(path)
        if node is not None:
            _Walker(path, locator, walk_errors, kind).walk(node, ())
            # The node graph is small and shared once walked; the constructor keeps aliases
            # shared, so the data is as small as the graph.
            constructor = yaml.SafeLoader("")
            try:
                data = constructor.construct_document(node)
            except (ValueError, OverflowError):  # an int of more than 4300 digits
                errors.append(SpecError(
                    "the file holds a value too long to read (a number of thousands of "
                    "digits?); nothing from it is shown", path=path,
                    hint="write real values"))
                return None
            finally:
                constructor.dispose()
        else:
            data = None
    except _Refused as exc:
        errors.append(exc.error)
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        errors.append(SpecError(
            f"the file holds an unprintable character (#x{exc.character:04x}); nothing from "
            "it is shown", path=path, line=line, col=col,
            hint="remove it, or write it as an escape in a double-quoted string"))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        if len(problem) > 120 or not problem.isprintable():
            problem = excerpt(problem, 120)
        errors.append(SpecError(f"malformed YAML: {problem}", path=path, line=line, col=col,
                                hint="fix the YAML syntax (indentation, colons, quotes)"))
        return None
    except yaml.YAMLError:
        errors.append(SpecError("malformed YAML", path=path,
                                hint="fix the YAML syntax (indentation, colons, quotes)"))
        return None
    if data is None:
        data = {}
    # A file that is not a spec (a symlink to /etc/passwd, a key: value file) is named, never
    # listed: its "unknown keys" would be its lines, printed into a CI log.
    if not isinstance(data, dict) or (data and not looks_like(data)):
        errors.append(SpecError(not_this, path=path))
        return None
    errors.extend(walk_errors)
    return _Doc(data, locator)


read_yaml_document = _read_yaml  # for the other checked-in YAML files (deploy.yaml, trtdoc.yml)


def _spec_like(data: dict[Any, Any]) -> bool:
    """Whether a top-level key is, or is a typo of, a spec key. Only the first 200 keys are
    compared for typos: the file may hold 200 000 of them."""
    if any(k in _KEYS_AT[""] for k in data if isinstance(k, str)):
        return True
    return any(isinstance(k, str) and len(k) <= EXCERPT_CHARS
               and difflib.get_close_matches(k, _KEYS_AT[""], n=1, cutoff=0.75)
               for k in itertools.islice(data, 200))


class _Walker:
    """Records where each value sits, and refuses alias bombs, cycles and deep nesting before
    anything expands the graph."""

    def __init__(self, file: Path, loc: Locator, errors: list[SpecError],
                 kind: str = "spec") -> None:
        self.file, self.loc, self.errors, self.kind = file, loc, errors, kind
        self.seen: set[int] = set()
        self.visits = 0
        self.on_path: set[int] = set()
        self.stack: list[yaml.Node] = []  # the collections being walked, outermost first
        self.shown = 0
        self.hidden = 0  # duplicate keys past MAX_PROBLEMS_PER_FILE

    def refuse(self, node: yaml.Node, message: str, hint: str) -> _Refused:
        # The innermost collection: for an alias bomb, the anchored list every alias copies.
        node = self.stack[-1] if self.stack else node
        return _Refused(SpecError(message, path=self.file, line=node.start_mark.line + 1,
                                  col=node.start_mark.column + 1, hint=hint))

    def walk(self, node: yaml.Node, path: KeyPath) -> None:
        self._walk(node, path)
        if self.hidden:
            self.errors.append(MoreProblems(self.file, self.hidden))

    def _walk(self, node: yaml.Node, path: KeyPath) -> None:
        self.visits += 1
        self.seen.add(id(node))
        if self.visits - len(self.seen) > MAX_ALIAS_NODES:
            raise self.refuse(node, f"YAML aliases expand to more than {MAX_ALIAS_NODES} "
                              "nodes", "write the values out or use fewer aliases")
        if len(path) > MAX_YAML_DEPTH:
            raise self.refuse(node, f"the YAML nests deeper than {MAX_YAML_DEPTH} levels",
                              _FILE_HINTS[self.kind]["depth"])
        if id(node) in self.on_path:
            raise self.refuse(node, "a YAML alias refers to a collection that contains it",
                              "write the values out")
        file, loc = self.file, self.loc
        loc.values[path] = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.on_path.add(id(node))
            self.stack.append(node)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                # A collection as a key is refused by the constructor; never str() it here.
                key = (str(key_node.value) if isinstance(key_node, yaml.ScalarNode)
                       else "<collection>")
                if key in seen:
                    if self.shown < MAX_PROBLEMS_PER_FILE:
                        self.shown += 1
                        self.errors.append(SpecError(
                            "this key appears twice in one mapping", path=file,
                            line=key_node.start_mark.line + 1,
                            col=key_node.start_mark.column + 1,
                            key=format_key((*path, key)), hint="keep one of them"))
                    else:
                        self.hidden += 1
                seen.add(key)
                loc.keys[path + (key,)] = Location(file, key_node.start_mark.line + 1,
                                                  key_node.start_mark.column + 1)
                self._walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.on_path.discard(id(node))
            self.stack.pop()


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
class JsonSchema:
    """JSON Schema keywords for what a validator here checks in code (a size's units, a
    limit, a name's characters), so that the schema generated from these models accepts what
    the loader accepts. ``wrap`` rewrites the generated schema (for a value that may also be
    written another way); ``extra`` adds keywords to it."""

    def __init__(self, wrap: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        self.wrap, self.extra = wrap, extra

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema.update(self.extra)
        return self.wrap(schema) if self.wrap is not None else schema


def any_case(word: str) -> str:
    """A regular expression matching ``word`` in any case, without flags (JSON Schema has
    none)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# YAML 1.1 reads `1e-2` (no dot) as a string; _as_float accepts it.
_NUMBER_PATTERN = r"^\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$"
NAME_SCHEMA: dict[str, Any] = {
    "type": "string", "pattern": f"^{_NAME_RE.pattern}$",
    "not": {"pattern": "^(?:" + "|".join(any_case(n) for n in sorted(RESERVED_NAMES)) + ")$"}}


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
            if math.isfinite(number * _UNITS[unit]):
                return int(number * _UNITS[unit])
    raise ValueError(f"{excerpt(value)} is not a size; write bytes or a number with a unit "
                     "(B, KiB, MiB, GiB, KB, MB, GB)")


def _pool_bound(value: int) -> int:
    if value > MAX_POOL_BYTES:
        raise ValueError(f"{value} bytes is more than 1 PiB ({MAX_POOL_BYTES} bytes), the "
                         "largest memory pool trtdoc passes to TensorRT; give a real size "
                         "such as 4GiB, or leave the key out for TensorRT's default")
    return value


def _dims(value: list[int]) -> list[int]:
    if len(value) > MAX_RANK:
        raise ValueError(f"{len(value)} dimensions is more than the {MAX_RANK} a TensorRT "
                         f"tensor has; give one value per model dimension")
    for d, size in enumerate(value):
        if not -MAX_DIM - 1 <= size <= MAX_DIM:
            raise ValueError(f"dimension {d} is {_number(size)}, outside the int32 range "
                             f"(at most {MAX_DIM}); give a real size")
    return value


def _profiles(value: list[Any]) -> list[Any]:
    if len(value) > MAX_PROFILES:
        raise ValueError(f"{len(value)} profiles is more than the {MAX_PROFILES} trtdoc "
                         "builds; keep the shapes you deploy")
    return value


def _at_most(limit: int, what: str, hint: str) -> Any:
    """An int of at most ``limit``, with a message of its own (and the schema's maximum)."""
    def check(value: int) -> int:
        if value > limit:
            raise ValueError(f"{_number(value)} is more than the {limit} {what}; {hint}")
        return value
    return Annotated[int, AfterValidator(check), JsonSchema(maximum=limit)]


def _path(value: str) -> str:
    if "\0" in value or len(value) > _PATH_CHARS or not value:
        raise ValueError(f"{excerpt(value)} is not a usable path; write a path relative to the "
                         "spec file")
    return value


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
    raise ValueError(f"unknown builder flag {excerpt(value)}; {hint}")


Size = Annotated[int, BeforeValidator(parse_size), AfterValidator(_pool_bound), JsonSchema(
    lambda _: {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_POOL_BYTES},
                         {"type": "string", "pattern": SIZE_PATTERN}],
               "description": "bytes, or a number with a unit: 512MiB, 1GiB, 1.5GB"})]
Dims = Annotated[list[int], AfterValidator(_dims), JsonSchema(
    maxItems=MAX_RANK, items={"type": "integer", "minimum": -MAX_DIM - 1, "maximum": MAX_DIM})]
PathText = Annotated[str, AfterValidator(_path), JsonSchema(
    minLength=1, maxLength=_PATH_CHARS, pattern="^[^\\u0000]*$")]
def _float(**bounds: float) -> Any:
    """A number (or a string YAML did not read as one) within ``bounds`` (ge, le)."""
    # pydantic cannot turn a bound behind a BeforeValidator into JSON Schema; this does.
    number = {"type": "number", **{{"ge": "minimum", "le": "maximum"}[k]: v
                                   for k, v in bounds.items()}}
    return Annotated[float, BeforeValidator(_as_float), Field(**bounds),  # type: ignore[call-overload]
                     JsonSchema(lambda _: {"anyOf": [number, {"type": "string",
                                                              "pattern": _NUMBER_PATTERN}]})]


if TYPE_CHECKING:
    Float = float
else:
    Float = _float()
Flag = Annotated[str, AfterValidator(_known_flag), JsonSchema(
    lambda text: {"anyOf": [{"enum": list(KNOWN_FLAGS)}, {**text, "pattern": "^(?:" + "|".join(
        any_case(f) for f in KNOWN_FLAGS) + ")$"}]})]


class _Model(BaseModel):
    # defer_build: the models are built on first use, not at import; the project file reader
    # uses this module's helpers only, and a no-change `trtdoc render` then starts 0.5 s sooner.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class _ShapeRange(_Model):
    min: Dims
    opt: Dims
    max: Dims
    # min <= opt <= max and equal ranks are checked in check.py, so that these problems are
    # reported together with every other problem in the same file.


class _Calibration(_Model):
    data: PathText
    batches: _at_most(  # type: ignore[valid-type]
        MAX_CALIBRATION_BATCHES, "calibration batches trtdoc reads",
        "calibration needs a few hundred batches at most") = Field(8, ge=1)


class _Memory(_Model):
    workspace: Size | None = None
    tactic_shared_memory: Size | None = None


class _Tolerance(_Model):
    max_abs: _float(ge=0) | None = None  # type: ignore[valid-type]
    mean_abs: _float(ge=0) | None = None  # type: ignore[valid-type]
    min_cosine: _float(ge=-1, le=1) | None = None  # type: ignore[valid-type]
    min_top1: _float(ge=0, le=1) | None = None  # type: ignore[valid-type]


class _OutputTolerance(_Tolerance):
    ignore: bool = False  # what `name: ignore` becomes


def _output_limits(value: Any) -> Any:
    if value == "ignore":
        return {"ignore": True}
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
    samples: _at_most(  # type: ignore[valid-type]
        MAX_ACCURACY_SAMPLES, "samples trtdoc compares",
        "a few hundred to a few thousand samples measure accuracy well") = Field(4, ge=1)
    outputs: dict[str, Annotated[_OutputTolerance, BeforeValidator(_output_limits), JsonSchema(
        lambda limits: {"anyOf": [{"const": "ignore"}, limits]})]] = {}
    metric: Annotated[str, AfterValidator(_metric_target),
                      JsonSchema(pattern=_METRIC_RE.pattern)] | None = None
    metric_tolerance: Annotated[dict[Annotated[str, AfterValidator(_metric_key),
                                               JsonSchema(pattern="^(?:min|max)_.")], Float],
                                JsonSchema(additionalProperties=False)] = {}


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


class _Spec(_Model):
    name: Annotated[str, JsonSchema(lambda _: dict(NAME_SCHEMA))]
    description: str = ""
    owner: str | None = None
    tags: list[str] = []
    model: PathText
    backend: Literal["auto", "tensorrt", "tensorrt-rtx"] = "auto"
    precision: Literal["fp32", "fp16", "bf16", "int8", "fp8"] = "fp32"
    precision_method: Literal["model", "builder_flags"] = "model"
    calibration: _Calibration | None = None
    profiles: Annotated[list[dict[str, _ShapeRange]], AfterValidator(_profiles),
                        JsonSchema(maxItems=MAX_PROFILES)] = []
    memory: _Memory = _Memory()
    optimization_level: int | None = Field(None, ge=0, le=5)
    targets: list[Literal["sm75", "sm80", "sm86", "sm89", "sm120", "sm121"]] = []
    hardware_compatibility: Literal["none", "ampere+", "same-cc"] = "none"
    version_compatible: bool = False
    flags: list[Flag] = []
    accuracy: _Accuracy | None = None
    triton: _Triton | None = None
    build_on: _BuildOn | None = None

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


class SchemaGenerator(GenerateJsonSchema):
    """JSON Schema of the models here: no titles made from key names ("Optimization Level"
    says nothing the key does not), and ``$defs`` named without the leading underscore."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def normalize_name(self, name: str) -> str:
        return super().normalize_name(name).lstrip("_")

    def generate(self, schema: Any, mode: Any = "validation") -> Any:
        out = super().generate(schema, mode)
        for definition in out.get("$defs", {}).values():
            definition.pop("title", None)
        out.pop("title", None)
        return out


SCHEMA_ID = "https://trtdoc.dev/schema/{kind}.schema.json"


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of one spec file (or a ``_defaults.yaml``), generated from ``_Spec``.

    Nothing is required: a spec may take ``model`` from a ``_defaults.yaml``, and a defaults
    file holds neither ``name`` nor ``model`` (the loader says so once they are merged).
    ``variants`` maps a key to a list of values, each valid for that key.
    """
    body = _Spec.model_json_schema(schema_generator=SchemaGenerator)
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
                       "relative to the spec file. Generated from trtdoc/spec.py by "
                       "`trtdoc schema spec`.",
    }
    return {**head, **body}


_KEYS_AT: dict[str, tuple[str, ...]] = {
    "": (*_fields(_Spec), "variants"),
    "calibration": _fields(_Calibration),
    "memory": _fields(_Memory),
    "accuracy": _fields(_Accuracy),
    "accuracy.tolerance": _fields(_Tolerance),
    "accuracy.outputs.*": _fields(_Tolerance),
    "triton": _fields(_Triton),
    "profile": _fields(_ShapeRange),
    "build_on": _fields(_BuildOn),
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
    text = excerpt(value) if isinstance(value, (int, float, str, bool)) else ""
    return f"{kind} {text}".strip()


def _number(value: int) -> str:
    text = str(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."


def _spec_errors(exc: ValidationError, doc: _Doc,
                 keys_at: Mapping[str, tuple[str, ...]] | None = None) -> list[SpecError]:
    """One line per problem, for the first MAX_PROBLEMS_PER_FILE in file order; the rest are
    only counted, since a hint (``difflib``) costs far more than finding the problem.
    ``keys_at`` gives the keys allowed at each level, for "did you mean" (a spec's keys by
    default)."""
    found = []
    for err in exc.errors(include_url=False, include_context=True, include_input=True):
        path = _key_path(err["loc"], doc.data)
        where = doc.locator.find(path, at_key=err["type"] == "extra_forbidden")
        found.append(((str(where.path), where.line or 0, where.col or 0), path, err))
    found.sort(key=lambda f: f[0])
    out = [_spec_error(path, err, doc, keys_at or _KEYS_AT)
           for _, path, err in found[:MAX_PROBLEMS_PER_FILE]]
    if len(found) > MAX_PROBLEMS_PER_FILE:
        out.append(MoreProblems(doc.locator.default, len(found) - MAX_PROBLEMS_PER_FILE))
    return out


located_errors = _spec_errors  # pydantic's errors as located lines, for trtdoc.yml too


def _key_path(loc: Sequence[str | int], data: Any) -> KeyPath:
    """pydantic's error location without its own steps (``function-after[...]``), keeping a
    spec key that merely contains ``[``."""
    out: list[str | int] = []
    here = data
    for part in loc:
        if ((isinstance(here, dict) and part in here)
                or (isinstance(here, list) and isinstance(part, int)
                    and 0 <= part < len(here))):
            here = here[part]
        elif isinstance(part, str) and "[" in part:
            continue
        else:
            here = None
        out.append(part)
    return tuple(out)


def _spec_error(path: KeyPath, err: Any, doc: _Doc,
                keys_at: Mapping[str, tuple[str, ...]]) -> SpecError:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = path[-1]
        parent = tuple(path[:-1])
        level = ("profile" if parent and parent[0] == "profiles" and len(parent) == 3
                 else "accuracy.outputs.*" if parent[:2] == ("accuracy", "outputs")
                 and len(parent) == 3
                 else format_key(tuple(p for p in parent if not isinstance(p, int))))
        allowed = keys_at.get(level, ())
        close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], allowed, n=1, cutoff=0.6)
        hint = (f"did you mean '{close[0]}'?" if close
                else f"valid keys here: {', '.join(allowed)}")
        return doc.locator.error(path, f"unknown key {excerpt(key)}", hint, at_key=True)
    if kind == "missing":
        example = _example_for(path)
        hint = f"add `{example}`" if example else f"add the key '{path[-1]}'"
        return doc.locator.error(path, "required key is missing", hint)
    if kind == "literal_error":
        expected = err["ctx"]["expected"]
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        given = err["input"]
        close = difflib.get_close_matches(str(given)[:EXCERPT_CHARS], options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(options)}"
        return doc.locator.error(path, f"{excerpt(given)} is not one of {', '.join(options)}",
                                 hint)
    if kind in _TYPE_WORDS:
        return doc.locator.error(
            path, f"expected {_TYPE_WORDS[kind]}, got {_describe(err['input'])}",
            _TYPE_HINTS.get(kind, "fix the value's type (quotes make a string)"))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        given = err["input"]
        shown = _number(given) if isinstance(given, int) else excerpt(given)
        return doc.locator.error(path, f"{shown} is out of range: {err['msg'].lower()}",
                                 "choose a value in the allowed range")
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    message, _, hint = msg.partition("; ")
    return doc.locator.error(path, message, hint)


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
    for key, values in itertools.islice(variants.items(), MAX_PROBLEMS_PER_FILE):
        if key not in _KEYS_AT[""] or key in ("name", "variants"):
            close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], _KEYS_AT[""], n=1,
                                              cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "name a top-level spec key"
            errors.append(doc.locator.error(("variants", key),
                                            f"cannot vary unknown key {excerpt(key)}", hint,
                                            at_key=True))
        elif not isinstance(values, list) or not values:
            errors.append(doc.locator.error(("variants", key), "expected a non-empty list",
                                            f"write `{key}: [a, b]`"))
        elif len(values) > MAX_VARIANTS:
            errors.append(doc.locator.error(
                ("variants", key), f"{len(values)} values is more than the {MAX_VARIANTS} "
                "engines one spec may make", "split the spec, or list fewer values"))
        else:
            repeated = [i for i, v in enumerate(values) if v in values[:i]]
            for i in repeated:
                errors.append(doc.locator.error(
                    ("variants", key, i), f"{excerpt(values[i])} is listed twice",
                    "list each value once (each one becomes an engine)"))
            if not repeated:
                keys.append(key)
    if len(keys) != len(variants):
        return []
    count = math.prod(len(variants[k]) for k in keys)
    if count > MAX_VARIANTS:
        errors.append(doc.locator.error(
            ("variants",), f"the variants make {count} engines, more than the {MAX_VARIANTS} "
            "one spec may make", "split the spec, or vary fewer keys"))
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
        triton_model=spec.triton.model if spec.triton is not None else None,
        build_on=None if spec.build_on is None else BuildOn(
            spec.build_on.gpu, spec.build_on.compute_capability, spec.build_on.resource),
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
    """Spec files named by ``paths`` (files, or folders searched recursively), sorted.

    The walk does not follow symlinked folders, so a link to ``..`` cannot loop it. A
    ``*.yaml`` entry that is not a plain file (a symlink loop, a FIFO) is kept, so that
    reading it reports it.
    """
    found: set[Path] = set()
    for p in paths:
        if p.is_dir():
            for top, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if name.endswith(SPEC_SUFFIXES) and not name.startswith((".", "_")):
                        found.add(Path(top) / name)
        else:
            found.add(p)
    return sorted(found)


def _defaults_chain(spec_file: Path, roots: Sequence[Path]) -> list[Path]:
    """``_defaults.yaml`` files from the outermost folder down to the spec's own folder.

    The chain climbs to the working directory when the spec lies below it, so a spec builds
    the same whether ``specs/``, ``specs/vision`` or the file itself is passed. Outside the
    working directory it climbs only to the folder that was passed.
    """
    folder = Path(os.path.realpath(spec_file)).parent  # never raises on a symlink loop
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
        if _loops(r):
            errors.append(_file_error(r, "is a symlink loop", "point the symlink at a real file"))
        elif not r.exists():
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
    share a defaults file, or variants that share a line, would repeat the same mistake.

    At most MAX_PROBLEMS_PER_FILE lines per file, then one ``… and K more problems`` line
    (which earlier rounds' :class:`MoreProblems` lines add to), so sorting again is safe.
    """
    hidden: dict[str, int] = {}
    unique: dict[str, SpecError] = {}
    for e in errors:
        if isinstance(e, MoreProblems):
            hidden[str(e.path)] = hidden.get(str(e.path), 0) + e.count
        else:
            unique.setdefault(str(e), e)
    ordered = sorted(unique.values(),
                     key=lambda e: (str(e.path), e.line or 0, e.col or 0, e.key))
    out: list[SpecError] = []
    shown: dict[str, int] = {}
    for e in ordered:
        file = str(e.path)
        if shown.get(file, 0) < MAX_PROBLEMS_PER_FILE:
            shown[file] = shown.get(file, 0) + 1
            out.append(e)
        else:
            hidden[file] = hidden.get(file, 0) + 1
    for file, count in hidden.items():
        last = max((i for i, e in enumerate(out) if str(e.path) == file), default=None)
        more = MoreProblems(file, count)
        if last is None:
            out.append(more)
        else:
            out.insert(last + 1, more)
    return out


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
    # Keyed by the lower-case name: engines/Tiny.md and engines/tiny.md are one file on
    # macOS and Windows file systems, and so are the records.
    first: dict[str, tuple[str, Locator, tuple[tuple[str, Any], ...]]] = {}
    errors: list[SpecError] = []
    dups: set[str] = set()
    for name, locator, variant in names:
        folded = name.casefold()
        if folded in first and first[folded][0] != name:
            other_name, other_locator, other_variant = first[folded]
            other = other_locator.find(("name",))
            errors.append(locator.error(
                ("name",), f"name '{name}'{_variant_words(variant)} differs only in case from "
                f"'{other_name}' in {shown_path(other.path)}:{other.line}"
                f"{_variant_words(other_variant)}; their pages and records would be one file "
                "on case-insensitive file systems (macOS, Windows)",
                "rename one of them (names are page slugs and file names)"))
            dups.update((name, other_name))
        elif folded in first:
            _, other_locator, other_variant = first[folded]
            other = other_locator.find(("name",))
            errors.append(locator.error(
                ("name",), f"name '{name}'{_variant_words(variant)} is already used by "
                f"{display_path(other.path)}:{other.line}{_variant_words(other_variant)}",
                "give every engine a unique name (it is the page slug; a variant's name is "
                "the name plus each varied value)" if variant or other_variant else
                "give every engine a unique name (it is the page slug)"))
            dups.add(name)
        else:
            first[folded] = (name, locator, variant)
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

"""``deploy.yaml``: where the engines run, checked in beside the specs.

```yaml
targets:
  - name: edge-l4                  # unique
    gpu: L4                        # a GPU model, or a compute capability ("8.9", "sm89")
    driver: "550.90.07"            # as nvidia-smi prints it
    runtime: tensorrt-rtx 1.7.1    # flavour and version: tensorrt, tensorrt-rtx, tensorrt-lean
    cuda: 13                       # optional: the CUDA major of the runtime build installed
    engines: [mobilenet-*, "tag:vision"]   # names, globs or tags of the engines deployed
    memory: 8GiB                   # optional: the device memory an engine may use there
    jetpack: "7.2.2"               # optional: the JetPack version on a Jetson module
    instances: 2                   # optional: copies of each engine that must fit in it
```

It is read like a spec (``spec.read_yaml_document``): every problem is one line with
file:line:col and a fix, an unknown GPU suggests the nearest known one, and a file that is not
a deployment file is named without its contents. The types that validate it (``_Deployment``,
``_Target``: each key's parse function, with what it accepts as written) also give its JSON
Schema (``trtdoc schema deploy``).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
)

from trtdoc.compat.data import MIN_DRIVER_FOR_CUDA, version_parts
from trtdoc.compat.gpus import COMPUTE_CAPABILITIES, GPU_MODELS, Gpu, UnknownGpu, find_gpu
from trtdoc.errors import SpecError, SpecErrors, TrtdocError
from trtdoc.spec.fields import SIZE_PATTERN, parse_size
from trtdoc.spec.json_schema import SCHEMA_ID, JsonSchema, SchemaGenerator, any_case
from trtdoc.spec.limits import EXCERPT_CHARS, MAX_PROBLEMS_PER_FILE
from trtdoc.spec.locations import KeyPath, Location, Locator, MoreProblems
from trtdoc.spec.names import NAME_SCHEMA, name_problem
from trtdoc.spec.text import excerpt
from trtdoc.spec.yaml_source import read_yaml_document
from trtdoc.values import FLAVOURS, RuntimeFlavour

MAX_TARGETS = 1_000
MAX_PATTERNS = 1_000
NOT_A_DEPLOYMENT = ("not a trtdoc deployment file (the top level must be a mapping with a "
                    "`targets:` list); see README, \"Where engines run\"")
# [0-9], not \d: Python's \d (and pydantic's) takes any script's digits, full-width "５" too,
# while the shipped JSON Schema's (ECMA-262) takes ASCII only; the two must agree.
_VERSION_RE = re.compile(r"^[0-9]{1,4}(?:\.[0-9]{1,6}){1,3}$")
_DRIVER_RE = re.compile(r"^([0-9]{3,4})(?:\.[0-9]{1,4}){0,2}$")
_RUNTIME_EXAMPLE = "runtime: tensorrt-rtx 1.7.1"


class _Bad(ValueError):
    """One value's problem: the message, the fix, and where inside the value (an index of a
    list) it lies."""

    def __init__(self, message: str, hint: str = "", at: tuple[int, ...] = ()) -> None:
        self.message, self.hint, self.at = message, hint, at
        super().__init__(message)


@dataclass(frozen=True)
class Runtime:
    """The runtime installed at a target: its flavour and version."""

    flavour: RuntimeFlavour
    version: str  # as written: "10.13.3"

    @property
    def release(self) -> tuple[int, ...]:
        """The version's leading numbers: (10, 13, 3); () for "unknown"."""
        return version_parts(self.version)

    def __str__(self) -> str:
        return f"{self.flavour} {self.version}"


@dataclass(frozen=True)
class Target:
    """One place engines are deployed."""

    name: str
    gpu: Gpu
    runtime: Runtime
    driver: str | None = None  # "550.90.07"
    cuda: str | None = None  # "13"
    engines: tuple[str, ...] = ("*",)
    description: str = ""
    memory: int | None = None  # bytes an engine may use there (None: the GPU's memory)
    jetpack: str | None = None  # "7.2.2" on a Jetson module
    instances: int | None = None  # copies of an engine that must fit (None: one, and say how
    #                               many fit)
    gpu_text: str = ""  # as written
    where: Location | None = None
    pattern_where: tuple[Location, ...] = ()

    @property
    def driver_branch(self) -> int:
        match = _DRIVER_RE.match(self.driver or "")
        return int(match.group(1)) if match else 0

    def deploys(self, engine: str, tags: Iterable[str] = ()) -> bool:
        """Whether one of this target's ``engines`` patterns names ``engine``."""
        return any(matches(p, engine, tags) for p in self.engines)


def matches(pattern: str, engine: str, tags: Iterable[str] = ()) -> bool:
    """``tag:vision`` matches an engine tagged vision; anything else is a name or a glob."""
    if pattern.startswith("tag:"):
        return pattern[4:] in set(tags)
    return fnmatch.fnmatchcase(engine, pattern)


@dataclass(frozen=True)
class Deployment:
    """Every target of one deployment file."""

    path: Path
    targets: tuple[Target, ...]

    def unmatched(self, engines: Mapping[str, Iterable[str]]) -> list[SpecError]:
        """A located problem for each pattern that names no engine (``engines``: name →
        tags): a typo there would silently leave an engine unchecked."""
        out = []
        known = sorted(engines)
        for t in self.targets:
            for i, pattern in enumerate(t.engines):
                if any(matches(pattern, n, tags) for n, tags in engines.items()):
                    continue
                loc = t.pattern_where[i] if i < len(t.pattern_where) else t.where
                if pattern.startswith("tag:"):
                    tags = sorted({f"tag:{tag}" for ts in engines.values() for tag in ts})
                    close = difflib.get_close_matches(pattern, tags, n=1, cutoff=0.6)
                    hint = (f"did you mean '{close[0]}'?" if close else
                            f"tags in the records: {', '.join(tags[:20]) or 'none'}")
                else:
                    close = difflib.get_close_matches(pattern, known, n=1, cutoff=0.6)
                    hint = (f"did you mean '{close[0]}'?" if close else
                            f"engines in the records: {', '.join(known[:20]) or 'none'}")
                out.append(SpecError(f"{excerpt(pattern)} names no engine in the records",
                                     path=loc.path if loc else self.path,
                                     line=loc.line if loc else None,
                                     col=loc.col if loc else None,
                                     key=f"targets[{self.targets.index(t)}].engines[{i}]",
                                     hint=hint))
        return out


# --------------------------------------------------------------------------------------------
# One value each: also used by `trtdoc inspect --target/--runtime/--driver`
# --------------------------------------------------------------------------------------------
def parse_gpu(value: Any) -> Gpu:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f"expected a GPU model or a compute capability, got {excerpt(value)}",
                   'write `gpu: L4`, `gpu: "8.9"` or `gpu: sm89`')
    text = str(value).strip()
    if isinstance(value, int) or text.isdigit():
        raise _Bad(f"{excerpt(value)} is not a GPU: a compute capability is written "
                   "with a dot or as sm<NN>", f'write `gpu: "{text[:-1]}.{text[-1:]}"` or '
                   f"`gpu: sm{text}`" if 2 <= len(text) <= 3 else 'write `gpu: "8.9"`')
    try:
        return find_gpu(text)
    except UnknownGpu as exc:
        if exc.bad_compute_capability:
            raise _Bad(f"{excerpt(text)} is not the compute capability of any GPU trtdoc "
                       "knows", f"use one of {', '.join(COMPUTE_CAPABILITIES)}") from None
        hint = (f"did you mean '{exc.suggestion}'?" if exc.suggestion
                else 'write a GPU model (L4, A100, RTX 4090) or a compute capability ("8.9")')
        raise _Bad(f"{excerpt(text)} is not a GPU trtdoc knows", hint) from None


def parse_runtime(value: Any) -> Runtime:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"expected a flavour and a version, got {excerpt(value)}",
                   f"write `{_RUNTIME_EXAMPLE}`")
    words = value.split()
    if len(words) != 2:
        raise _Bad(f"{excerpt(value)} is not a flavour and a version",
                   f"write `{_RUNTIME_EXAMPLE}` (flavours: {', '.join(FLAVOURS)})")
    flavour = re.sub(r"[_\s]+", "-", words[0].lower())
    if flavour not in FLAVOURS:
        close = difflib.get_close_matches(flavour[:EXCERPT_CHARS], FLAVOURS, n=1, cutoff=0.5)
        raise _Bad(f"{excerpt(words[0])} is not one of {', '.join(FLAVOURS)}",
                   f"did you mean '{close[0]}'?" if close else f"write `{_RUNTIME_EXAMPLE}`")
    version = words[1].removeprefix("v")
    if not _VERSION_RE.match(version):
        raise _Bad(f"{excerpt(words[1])} is not a version",
                   "write major.minor.patch, as in `tensorrt 10.13.3`")
    return Runtime(flavour, version)


def parse_driver(value: Any) -> str:
    if isinstance(value, float):
        raise _Bad(f"{excerpt(value)} was read as a number, which drops trailing zeros",
                   'quote it, as in `driver: "550.90.07"`')
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f"expected a driver version, got {excerpt(value)}",
                   'write it as nvidia-smi prints it: `driver: "550.90.07"`')
    text = str(value).strip()
    if not _DRIVER_RE.match(text):
        raise _Bad(f"{excerpt(value)} is not a driver version",
                   'write it as nvidia-smi prints it: `driver: "550.90.07"`')
    return text


def parse_cuda(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f"expected a CUDA version, got {excerpt(value)}", "write `cuda: 13`")
    text = str(value).strip()
    major = text.split(".")[0]
    # [0-9], not \d: Python's \d takes any script's digits ("１３"), the schema's only ASCII.
    if (not re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}", text)
            or major not in MIN_DRIVER_FOR_CUDA):
        raise _Bad(f"{excerpt(value)} is not a CUDA version trtdoc knows",
                   f"write the major version: {', '.join(MIN_DRIVER_FOR_CUDA)}")
    return major


def target_from_options(gpu: str, runtime: str, driver: str | None = None,
                        cuda: str | None = None, name: str = "target") -> Target:
    """A target from command-line words; a bad one is a :class:`TrtdocError` naming the
    option."""
    values: dict[str, Any] = {}
    for option, parse, value in (("--target", parse_gpu, gpu), ("--runtime", parse_runtime,
                                 runtime), ("--driver", parse_driver, driver),
                                 ("--cuda", parse_cuda, cuda)):
        if value is None:
            continue
        try:
            values[option] = parse(value)
        except _Bad as exc:
            raise TrtdocError(f"{option}: {exc.message}"
                              + (f". Hint: {exc.hint}" if exc.hint else "")) from None
    return Target(name, values["--target"], values["--runtime"], values.get("--driver"),
                  values.get("--cuda"), gpu_text=gpu)


# --------------------------------------------------------------------------------------------
# The file: the types that validate it, which also give its JSON Schema
# --------------------------------------------------------------------------------------------
def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {excerpt(value)}", "write `name: edge-l4`")
    problem = name_problem(value)
    if problem is not None:
        raise _Bad(problem)
    return value


def _optional(parse: Callable[[Any], str]) -> Callable[[Any], str | None]:
    """``driver: null`` and ``cuda: null`` say nothing, as leaving the key out does."""
    return lambda value: None if value is None else parse(value)


def _patterns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _Bad(f"expected a list of engine names, globs or tags, got {excerpt(value)}",
                   'write `engines: [mobilenet-*, "tag:vision"]`')
    if len(value) > MAX_PATTERNS:
        raise _Bad(f"{len(value):,} patterns, more than the {MAX_PATTERNS:,} a target may "
                   "have", "use globs or tags")
    for j, p in enumerate(value):
        if not isinstance(p, str) or not p.strip() or len(p) > 256:
            raise _Bad(f"expected an engine name, glob or tag:<tag>, got {excerpt(p)}",
                       'quote it, as in `"tag:vision"`', at=(j,))
        if p.startswith("tag:") and not p[4:]:
            raise _Bad("`tag:` names no tag", 'write `"tag:vision"`', at=(j,))
    return tuple(value)


def _memory(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise _Bad(f"{excerpt(value)} is not a size", "write `memory: 8GiB` or a byte count")
    try:
        size = parse_size(value)
    except ValueError:
        raise _Bad(f"{excerpt(value)} is not a size",
                   "write `memory: 8GiB`, `memory: 512MiB` or a byte count") from None
    if size <= 0:
        raise _Bad("memory: 0 leaves no room for any engine", "write `memory: 8GiB`")
    return size


def _jetpack(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, (str, int, float)) \
        and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,2}(?:\.[0-9]{1,3}){0,2}", text):
        raise _Bad(f"{excerpt(value)} is not a JetPack version", 'write `jetpack: "7.2.2"`')
    return text


def _instances(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise _Bad(f"expected a whole number of instances from 1 to 100,000, got "
                   f"{excerpt(value)}", "write `instances: 2`")
    return value


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {excerpt(value)}", "quote it")
    return value


def _targets(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise _Bad(f"expected a list of targets, got {excerpt(value)}",
                   "write one `- name: ...` item per place engines run")
    if len(value) > MAX_TARGETS:
        raise _Bad(f"{len(value):,} targets, more than the {MAX_TARGETS:,} a deployment file "
                   "may have", "split the file")
    return value


def _not_integer(schema: dict[str, Any]) -> dict[str, Any]:
    # A GPU written as a bare number is a compute capability (8.9), never an integer (89).
    for option in schema["anyOf"]:
        if option.get("type") == "number":
            option["not"] = {"type": "integer"}
    return schema


# What each key may hold as written (its JSON Schema); the parse functions above check the
# same and give the value its type. A GPU name is matched loosely (case, "NVIDIA",
# nvidia-smi's memory suffix), so the schema offers the known models and accepts any name;
# the reader says whether it knows it.
# (Literal of the model names, built at run time: mypy wants literal values written out.)
_GpuText = Literal[GPU_MODELS] | Annotated[str, Field(min_length=1)] | float  # type: ignore[valid-type]
_DriverText = (Annotated[str, Field(pattern=_DRIVER_RE.pattern)]
               | Annotated[int, Field(ge=100, le=9999)] | None)
# parse_runtime turns `_` runs into `-` within the flavour word.
_FLAVOUR_RE = "|".join(any_case(f).replace("\\-", "(?:-|_+)") for f in FLAVOURS)
_VERSION_TEXT = _VERSION_RE.pattern.removeprefix("^").removesuffix("$")
_RuntimeText = Annotated[str, Field(pattern=f"^\\s*(?:{_FLAVOUR_RE})\\s+v?{_VERSION_TEXT}\\s*$")]
_CUDA_MAJORS = tuple(map(int, MIN_DRIVER_FOR_CUDA))
_CudaText = (Annotated[str, Field(pattern=f"^\\s*(?:{'|'.join(MIN_DRIVER_FOR_CUDA)})"
                                          "(?:\\.[0-9]{1,3}){0,2}\\s*$")]
             | Annotated[float, Field(ge=min(_CUDA_MAJORS), lt=max(_CUDA_MAJORS) + 1)]
             | None)
_PatternText = Annotated[str, Field(
    min_length=1, max_length=256, pattern="^(?!tag:$)[\\s\\S]*\\S[\\s\\S]*$",
    description='an engine name, a glob (mobilenet-*) or "tag:<tag>"')]
_PatternsText = _PatternText | Annotated[list[_PatternText],
                                         Field(min_length=1, max_length=MAX_PATTERNS)]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


# No docstrings on these models: pydantic would make them the schema's descriptions.
class _Target(_File):
    name: Annotated[str, PlainValidator(_name, json_schema_input_type=str),
                    JsonSchema(lambda _: {**NAME_SCHEMA, "description": "unique"})]
    gpu: Annotated[Gpu, PlainValidator(parse_gpu, json_schema_input_type=_GpuText),
                   JsonSchema(_not_integer, description='a GPU model (L4, "RTX 4090") or a '
                              'compute capability ("8.9", sm89)')]
    driver: Annotated[str | None, PlainValidator(_optional(parse_driver),
                                                 json_schema_input_type=_DriverText),
                      JsonSchema(description='as nvidia-smi prints it, quoted: '
                                 '"580.65.06"')] = None
    runtime: Annotated[Runtime, PlainValidator(parse_runtime,
                                               json_schema_input_type=_RuntimeText),
                       JsonSchema(description="flavour and version: "
                                  + ", ".join(f"{f} X.Y.Z" for f in FLAVOURS))]
    cuda: Annotated[str | None, PlainValidator(_optional(parse_cuda),
                                               json_schema_input_type=_CudaText),
                    JsonSchema(description="the CUDA major of the runtime build installed "
                               "there")] = None
    engines: Annotated[tuple[str, ...], PlainValidator(
        _patterns, json_schema_input_type=_PatternsText), JsonSchema(
        description="names, globs or tags of the engines deployed there")]
    description: Annotated[str, PlainValidator(_description, json_schema_input_type=str)] = ""
    memory: Annotated[int | None, PlainValidator(_memory, json_schema_input_type=(
        Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=SIZE_PATTERN)] | None)),
        JsonSchema(description="the device memory an engine may use there (default: the "
                   "GPU's, where trtdoc knows it): bytes, or 8GiB, 512MiB")] = None
    jetpack: Annotated[str | None, PlainValidator(_jetpack, json_schema_input_type=(
        Annotated[str, Field(pattern=r"^\s*[0-9]{1,2}(?:\.[0-9]{1,3}){0,2}\s*$")] | float | None)),
        JsonSchema(description='the JetPack version on a Jetson module, quoted: "7.2.2"')
    ] = None
    instances: Annotated[int | None, PlainValidator(_instances, json_schema_input_type=(
        Annotated[int, Field(ge=1, le=100_000)] | None)), JsonSchema(
        description="copies of each engine that must fit in that memory (default: say how "
                    "many fit)")] = None


class _Deployment(_File):
    targets: Annotated[list[_Target], BeforeValidator(_targets),
                       JsonSchema(minItems=1, maxItems=MAX_TARGETS)]


TOP_KEYS = tuple(_Deployment.model_fields)
TARGET_KEYS = tuple(_Target.model_fields)
_EXAMPLES = {"name": "name: edge-l4", "gpu": "gpu: L4", "runtime": _RUNTIME_EXAMPLE,
             "engines": 'engines: ["*"]'}


def _looks_like(data: dict[Any, Any]) -> bool:
    return "targets" in data or any(
        isinstance(k, str) and difflib.get_close_matches(k[:EXCERPT_CHARS], TOP_KEYS, n=1,
                                                         cutoff=0.75)
        for k in list(data)[:200])


class _Reader:
    """The problems of one file, each a located line with a fix, in the order of the file's
    targets and, within one, of its keys."""

    def __init__(self, path: Path, locator: Locator) -> None:
        self.path, self.loc = path, locator
        self.errors: list[SpecError] = []
        self.hidden = 0

    def problem(self, path: KeyPath, message: str, hint: str = "", *, at_key: bool = False
                ) -> None:
        if len(self.errors) >= MAX_PROBLEMS_PER_FILE:
            self.hidden += 1
            return
        self.errors.append(self.loc.error(path, message, hint, at_key=at_key))

    def report(self, found: list[_Found]) -> None:
        """Report ``found`` in the order of the file's targets and, within one, of its keys
        (unknown keys, then missing ones, then values), as far as MAX_PROBLEMS_PER_FILE."""
        for _, args, at_key in sorted(found, key=lambda f: f[0]):
            self.problem(*args, at_key=at_key)


# (order, Reader.problem's arguments, at_key) of one problem
_Found = tuple[tuple[int, ...], tuple[Any, ...], bool]
_KEY_ORDER = ("name", "gpu", "runtime", "driver", "cuda", "engines", "description", "memory",
              "jetpack", "instances")


def _validation_problem(err: Any) -> _Found:
    """One of pydantic's errors as a problem: what the parse functions raised (``_Bad``), an
    unknown or missing key, a target that is not a mapping."""
    loc = tuple(err["loc"])
    in_target = loc[:1] == ("targets",) and len(loc) > 2
    keys = TARGET_KEYS if in_target else TOP_KEYS
    where: KeyPath = loc[:2] if in_target else ()
    order = loc[1] if in_target else -1
    kind = err["type"]
    key: Any = loc[len(where)] if len(loc) > len(where) else None
    if kind in ("extra_forbidden", "invalid_key"):  # invalid: not a string (`1: x`)
        close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], keys, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"valid keys here: {', '.join(keys)}"
        return (order, 0), ((*where, str(key)), f"unknown key {excerpt(key)}", hint), True
    if kind == "model_type":  # a target that is not a mapping
        return (loc[1], 0), (loc, f"expected a mapping, got {excerpt(err['input'])}",
                             "write each target as `- name: ...` with gpu, driver, runtime, "
                             "engines"), False
    rank = _KEY_ORDER.index(key) if in_target else 0
    if kind == "missing" and in_target:
        return (order, 1, rank), (where, f"required key '{key}' is missing",
                                  f"add `{_EXAMPLES[key]}`"), False
    if kind == "missing":
        return (order, 1), ((), "required key 'targets' is missing",
                            "add `targets:` with one `- name: ...` per place engines run"), False
    bad = (err.get("ctx") or {}).get("error")
    if not isinstance(bad, _Bad):  # the types raise nothing else: a bug, named as one
        raise AssertionError(f"deploy.yaml: unexpected {kind} at {loc}")
    return (order, 2, rank), ((*loc, *bad.at), bad.message, bad.hint), False


def _same_names(items: list[Any], locator: Locator) -> list[_Found]:
    """A problem for each target named like one before it (names become file names)."""
    found: list[_Found] = []
    names: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name_problem(name) is not None:
            continue
        if name.lower() in names:
            first = locator.find(("targets", names[name.lower()], "name"))
            found.append(((i, 2, 0, 1), (("targets", i, "name"), f"{excerpt(name)} is also the "
                          f"name of the target at line {first.line}",
                          "give each target its own name"), False))
        else:
            names[name.lower()] = i
    return found


def _target(i: int, item: Mapping[str, Any], valid: _Target, locator: Locator) -> Target:
    here: KeyPath = ("targets", i)
    return Target(name=valid.name, gpu=valid.gpu, runtime=valid.runtime, driver=valid.driver,
                  cuda=valid.cuda, engines=valid.engines, description=valid.description,
                  memory=valid.memory, instances=valid.instances, jetpack=valid.jetpack,
                  gpu_text=str(item["gpu"]), where=locator.find(here),
                  pattern_where=tuple(locator.find((*here, "engines", j))
                                      for j in range(len(valid.engines))))


def load_deployment(path: Path | str) -> Deployment:
    """The targets of a deployment file; :class:`SpecErrors` with every problem, each located."""
    path = Path(path)
    errors: list[SpecError] = []
    doc = read_yaml_document(path, errors, looks_like=_looks_like, not_this=NOT_A_DEPLOYMENT,
                             kind="deployment file")
    if doc is None:
        raise SpecErrors(errors)
    reader = _Reader(path, doc.locator)
    reader.errors.extend(errors)  # duplicate keys found while reading
    data = doc.data
    valid: _Deployment | None = None
    problems: list[_Found] = []
    try:
        valid = _Deployment.model_validate(data)
    except ValidationError as exc:
        problems += map(_validation_problem, exc.errors(include_url=False))
    items = data.get("targets")
    if isinstance(items, list) and 0 < len(items) <= MAX_TARGETS:
        problems += _same_names(items, doc.locator)
    reader.report(problems)
    if reader.errors or reader.hidden or valid is None:
        found = sorted(reader.errors, key=lambda e: (e.line or 0, e.col or 0))
        if reader.hidden:
            found.append(MoreProblems(path, reader.hidden))
        raise SpecErrors(found)
    return Deployment(path, tuple(_target(i, item, t, doc.locator) for i, (item, t)
                                  in enumerate(zip(items, valid.targets, strict=True))))


def deployment_schema() -> dict[str, Any]:
    """The JSON Schema of a deployment file (``trtdoc schema deploy``), generated from the
    types that read it."""
    body = _Deployment.model_json_schema(schema_generator=SchemaGenerator)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(kind="deploy"),
        "title": "trtdoc deployment file (deploy.yaml)",
        "description": "Where the engines run: `trtdoc compat` checks every deployed (engine, "
                       "target) pair. Generated from trtdoc/compat/deploy.py by `trtdoc schema "
                       "deploy`.",
    }
    return {**head, **body}

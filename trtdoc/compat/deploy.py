"""``deploy.yaml``: where the engines run, checked in beside the specs.

```yaml
targets:
  - name: edge-l4                  # unique
    gpu: L4                        # a GPU model, or a compute capability ("8.9", "sm89")
    driver: "550.90.07"            # as nvidia-smi prints it
    runtime: tensorrt-rtx 1.7.1    # flavour and version: tensorrt, tensorrt-rtx, tensorrt-lean
    cuda: 13                       # optional: the CUDA major of the runtime build installed
    engines: [mobilenet-*, "tag:vision"]   # names, globs or tags of the engines deployed
```

It is read like a spec (``spec.read_yaml_document``): every problem is one line with
file:line:col and a fix, an unknown GPU suggests the nearest known one, and a file that is not
a deployment file is named without its contents.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trtdoc.compat.data import MIN_DRIVER_FOR_CUDA, version_parts
from trtdoc.compat.gpus import COMPUTE_CAPABILITIES, GPU_MODELS, Gpu, UnknownGpu, find_gpu
from trtdoc.errors import SpecError, SpecErrors, TrtdocError
from trtdoc.spec.json_schema import SCHEMA_ID, any_case
from trtdoc.spec.limits import EXCERPT_CHARS, MAX_PROBLEMS_PER_FILE
from trtdoc.spec.locations import KeyPath, Location, Locator, MoreProblems
from trtdoc.spec.names import NAME_SCHEMA, name_problem
from trtdoc.spec.text import excerpt
from trtdoc.spec.yaml_source import read_yaml_document
from trtdoc.values import FLAVOURS, RuntimeFlavour

TOP_KEYS = ("targets",)
TARGET_KEYS = ("name", "gpu", "driver", "runtime", "cuda", "engines", "description")
MAX_TARGETS = 1_000
MAX_PATTERNS = 1_000
NOT_A_DEPLOYMENT = ("not a trtdoc deployment file (the top level must be a mapping with a "
                    "`targets:` list); see README, \"Where engines run\"")
_VERSION_RE = re.compile(r"^\d{1,4}(?:\.\d{1,6}){1,3}$")
_DRIVER_RE = re.compile(r"^(\d{3,4})(?:\.\d{1,4}){0,2}$")
_RUNTIME_EXAMPLE = "runtime: tensorrt-rtx 1.7.1"


class _Bad(ValueError):
    def __init__(self, message: str, hint: str = "") -> None:
        self.message, self.hint = message, hint
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
    if not re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){0,2}", text) or major not in MIN_DRIVER_FOR_CUDA:
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
# The file
# --------------------------------------------------------------------------------------------
def _looks_like(data: dict[Any, Any]) -> bool:
    return "targets" in data or any(
        isinstance(k, str) and difflib.get_close_matches(k[:EXCERPT_CHARS], TOP_KEYS, n=1,
                                                         cutoff=0.75)
        for k in list(data)[:200])


class _Reader:
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

    def unknown_keys(self, data: Mapping[Any, Any], allowed: tuple[str, ...], path: KeyPath
                     ) -> None:
        for key in data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], allowed, n=1,
                                              cutoff=0.6)
            self.problem((*path, str(key)), f"unknown key {excerpt(key)}",
                         f"did you mean '{close[0]}'?" if close
                         else f"valid keys here: {', '.join(allowed)}", at_key=True)

    def target(self, i: int, item: Any, names: dict[str, int]) -> Target | None:
        here: KeyPath = ("targets", i)
        if not isinstance(item, dict):
            self.problem(here, f"expected a mapping, got {excerpt(item)}",
                         "write each target as `- name: ...` with gpu, driver, runtime, engines")
            return None
        self.unknown_keys(item, TARGET_KEYS, here)
        before = len(self.errors) + self.hidden
        values: dict[str, Any] = {}
        for key in ("name", "gpu", "runtime", "engines"):
            if key not in item:
                example = {"name": "name: edge-l4", "gpu": "gpu: L4",
                           "runtime": _RUNTIME_EXAMPLE, "engines": 'engines: ["*"]'}[key]
                self.problem(here, f"required key '{key}' is missing", f"add `{example}`")
        name = item.get("name")
        if "name" in item:
            if not isinstance(name, str):
                self.problem((*here, "name"), f"expected a string, got {excerpt(name)}",
                             "write `name: edge-l4`")
            elif (problem := name_problem(name)) is not None:
                self.problem((*here, "name"), problem)
            elif name.lower() in names:
                first = self.loc.find(("targets", names[name.lower()], "name"))
                self.problem((*here, "name"), f"{excerpt(name)} is also the name of the target "
                             f"at line {first.line}", "give each target its own name")
            else:
                names[name.lower()] = i
        for key, parse in (("gpu", parse_gpu), ("runtime", parse_runtime),
                           ("driver", parse_driver), ("cuda", parse_cuda)):
            if key in item and (item[key] is not None or key in ("gpu", "runtime")):
                try:
                    values[key] = parse(item[key])
                except _Bad as exc:
                    self.problem((*here, key), exc.message, exc.hint)
        patterns = self.patterns(here, item.get("engines")) if "engines" in item else ()
        description = item.get("description", "")
        if not isinstance(description, str):
            self.problem((*here, "description"), f"expected a string, got "
                         f"{excerpt(description)}", "quote it")
        if len(self.errors) + self.hidden > before or patterns is None or not isinstance(name, str):
            return None  # (a name that is not a string is one of the errors counted)
        return Target(name=name, gpu=values["gpu"], runtime=values["runtime"],
                      driver=values.get("driver"), cuda=values.get("cuda"),
                      engines=patterns, description=description,
                      gpu_text=str(item["gpu"]), where=self.loc.find(here),
                      pattern_where=tuple(self.loc.find((*here, "engines", j))
                                          for j in range(len(patterns))))

    def patterns(self, here: KeyPath, value: Any) -> tuple[str, ...] | None:
        path = (*here, "engines")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.problem(path, f"expected a list of engine names, globs or tags, got "
                         f"{excerpt(value)}", 'write `engines: [mobilenet-*, "tag:vision"]`')
            return None
        if len(value) > MAX_PATTERNS:
            self.problem(path, f"{len(value):,} patterns, more than the {MAX_PATTERNS:,} a "
                         "target may have", "use globs or tags")
            return None
        out = []
        for j, p in enumerate(value):
            if not isinstance(p, str) or not p.strip() or len(p) > 256:
                self.problem((*path, j), f"expected an engine name, glob or tag:<tag>, got "
                             f"{excerpt(p)}", 'quote it, as in `"tag:vision"`')
                return None
            if p.startswith("tag:") and not p[4:]:
                self.problem((*path, j), "`tag:` names no tag", 'write `"tag:vision"`')
                return None
            out.append(p)
        return tuple(out)


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
    reader.unknown_keys(data, TOP_KEYS, ())
    targets: list[Target] = []
    items = data.get("targets")
    if "targets" not in data:
        reader.problem((), "required key 'targets' is missing",
                       "add `targets:` with one `- name: ...` per place engines run")
    elif not isinstance(items, list) or not items:
        reader.problem(("targets",), f"expected a list of targets, got {excerpt(items)}",
                       "write one `- name: ...` item per place engines run")
    elif len(items) > MAX_TARGETS:
        reader.problem(("targets",), f"{len(items):,} targets, more than the {MAX_TARGETS:,} "
                       "a deployment file may have", "split the file")
    else:
        names: dict[str, int] = {}
        for i, item in enumerate(items):
            target = reader.target(i, item, names)
            if target is not None:
                targets.append(target)
    if reader.errors or reader.hidden:
        found = sorted(reader.errors, key=lambda e: (e.line or 0, e.col or 0))
        if reader.hidden:
            found.append(MoreProblems(path, reader.hidden))
        raise SpecErrors(found)
    return Deployment(path, tuple(targets))


# --------------------------------------------------------------------------------------------
# Its JSON Schema, from the same constants and patterns the reader above checks with
# --------------------------------------------------------------------------------------------
def deployment_schema() -> dict[str, Any]:
    """The JSON Schema of a deployment file (``trtdoc schema deploy``).

    The reader is code, not a pydantic model (each value has its own message and hint), so
    this is built from what it reads with: the keys, the required keys, the limits and the
    version patterns. A GPU name is matched loosely (case, "NVIDIA", nvidia-smi's memory
    suffix), so the schema offers the known models and accepts any name; the loader says
    whether it knows it.
    """
    # parse_runtime turns `_` runs into `-` within the flavour word.
    flavours = "|".join(any_case(f).replace("\\-", "(?:-|_+)") for f in FLAVOURS)
    version = _VERSION_RE.pattern.removeprefix("^").removesuffix("$")
    cuda = "|".join(MIN_DRIVER_FOR_CUDA)
    pattern = {"type": "string", "minLength": 1, "maxLength": 256,
               "pattern": "^(?!tag:$)[\\s\\S]*\\S[\\s\\S]*$",
               "description": 'an engine name, a glob (mobilenet-*) or "tag:<tag>"'}
    target = {
        "type": "object", "additionalProperties": False,
        "required": ["name", "gpu", "runtime", "engines"],
        "properties": {
            "name": {**NAME_SCHEMA, "description": "unique"},
            "gpu": {"description": 'a GPU model (L4, "RTX 4090") or a compute capability '
                                   '("8.9", sm89)',
                    "anyOf": [{"enum": list(GPU_MODELS)},
                              {"type": "string", "minLength": 1},
                              {"type": "number", "not": {"type": "integer"}}]},
            "driver": {"description": 'as nvidia-smi prints it, quoted: "580.65.06"',
                       "anyOf": [{"type": "string", "pattern": _DRIVER_RE.pattern},
                                 {"type": "integer", "minimum": 100, "maximum": 9999},
                                 {"type": "null"}]},
            "runtime": {"type": "string", "description": "flavour and version: "
                        + ", ".join(f"{f} X.Y.Z" for f in FLAVOURS),
                        "pattern": f"^\\s*(?:{flavours})\\s+v?{version}\\s*$"},
            "cuda": {"description": "the CUDA major of the runtime build installed there",
                     "anyOf": [{"type": "string",
                                "pattern": f"^\\s*(?:{cuda})(?:\\.[0-9]{{1,3}}){{0,2}}\\s*$"},
                               {"type": "number", "minimum": min(map(int, MIN_DRIVER_FOR_CUDA)),
                                "exclusiveMaximum": max(map(int, MIN_DRIVER_FOR_CUDA)) + 1},
                               {"type": "null"}]},
            "engines": {"description": "names, globs or tags of the engines deployed there",
                        "anyOf": [pattern, {"type": "array", "items": pattern, "minItems": 1,
                                            "maxItems": MAX_PATTERNS}]},
            "description": {"type": "string"},
        },
    }
    assert tuple(target["properties"]) == TARGET_KEYS  # type: ignore[arg-type]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(kind="deploy"),
        "title": "trtdoc deployment file (deploy.yaml)",
        "description": "Where the engines run: `trtdoc compat` checks every deployed (engine, "
                       "target) pair. Generated from trtdoc/compat/deploy.py by `trtdoc schema "
                       "deploy`.",
        "type": "object", "additionalProperties": False, "required": list(TOP_KEYS),
        "properties": {"targets": {"type": "array", "minItems": 1, "maxItems": MAX_TARGETS,
                                   "items": {"$ref": "#/$defs/target"}}},
        "$defs": {"target": target},
    }

"""``trtdoc.yml``: the project file, as ``mkdocs.yml`` is mkdocs'.

```yaml
specs: [specs/]        # spec files or folders (default: specs/)
records: records/      # one JSON record per engine (default: records/)
site: site/            # the mkdocs docs_dir (default: site/)
build: build/          # engines, logs, caches; not checked in (default: build/)
templates: templates/  # optional: your own templates
deploy: deploy.yaml    # optional: where the engines run
mkdocs: mkdocs.yml     # optional: the site's mkdocs.yml (default: the one beside this file)
```

Paths are relative to the file. It is found by walking up from the working directory, as git
finds ``.git``, stopping at the repository's top folder (a project file above the repository
belongs to something else), or named with ``--project``. It is read like a spec
(``spec.read_yaml_document``): each problem is one line with file:line:col and a fix, and a
path it names that does not exist is one of them.

This is apart from ``project.py``, which finds where a project *starts* (for the relative
paths in records) from any spec, with or without this file; this module reads what the file
says. Both treat ``trtdoc.yml`` as marking the project's top folder.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from trtdoc.errors import SpecError, SpecErrors
from trtdoc.project import PROJECT_FILE, find_project  # noqa: F401  (re-exported)
from trtdoc.spec.error_lines import located_errors
from trtdoc.spec.fields import PathText
from trtdoc.spec.files import path_problem
from trtdoc.spec.json_schema import SCHEMA_ID, JsonSchema, SchemaGenerator
from trtdoc.spec.limits import EXCERPT_CHARS
from trtdoc.spec.text import excerpt
from trtdoc.spec.yaml_source import read_yaml_document

NOT_A_PROJECT = ("not a trtdoc project file (the top level must be a mapping of specs, "
                 "records, site, build, templates and deploy); nothing from it is shown")


@dataclass(frozen=True)
class Project:
    """What a project file says, its paths made absolute (from the file's folder)."""

    path: Path
    specs: tuple[Path, ...]
    records: Path
    site: Path
    build: Path
    templates: Path | None = None
    deploy: Path | None = None
    mkdocs: Path | None = None

    @property
    def root(self) -> Path:
        """The folder the project file is in; its paths are relative to it."""
        return self.path.parent

    def inputs(self) -> tuple[tuple[str, Path], ...]:
        """What the project reads, which no command may write into, each with its key as
        trtdoc.yml says it (``trtdoc.yml's specs``): the specs, templates, deployment file."""
        named = [("specs", p) for p in self.specs] + [
            (k, p) for k in ("templates", "deploy", "mkdocs")
            if (p := getattr(self, k)) is not None]
        return (("the project file", self.path),
                *((f"{self.path.name}'s {k}", p) for k, p in named))


def _one_or_more(value: Any) -> Any:
    # `specs: specs/` reads as well as `specs: [specs/]`.
    return [value] if isinstance(value, str) else value


class _Project(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    specs: Annotated[list[PathText], BeforeValidator(_one_or_more), Field(min_length=1),
                     JsonSchema(lambda listed: {"anyOf": [listed["items"], listed]})] = Field(
        ["specs/"], description="Spec files or folders of specs.")
    records: PathText = Field("records/", description="One JSON build record per engine "
                              "(check it in).")
    site: PathText = Field("site/", description="The mkdocs docs_dir that receives the pages "
                           "(check it in).")
    build: PathText = Field("build/", description="Engines, build logs and caches (not "
                            "checked in).")
    templates: PathText | None = Field(None, description="Your own templates; a file here "
                                       "overrides the shipped one.")
    deploy: PathText | None = Field(None, description="The deployment file (deploy.yaml): "
                                    "where the engines run.")
    mkdocs: PathText | None = Field(None, description="The site's mkdocs.yml (default: the "
                                    "one beside this file, if any); `check`, `build` and "
                                    "`render` say what it lacks to show the pages.")


_KEYS = tuple(_Project.model_fields)


def _looks_like(data: dict[Any, Any]) -> bool:
    return any(isinstance(k, str) and (k in _KEYS or difflib.get_close_matches(
        k[:EXCERPT_CHARS], _KEYS, n=1, cutoff=0.75)) for k in list(data)[:200])


def load_project(path: Path | str) -> Project:
    """The project file at ``path``; :class:`SpecErrors` with every problem, each located."""
    path = Path(path)
    errors: list[SpecError] = []
    doc = read_yaml_document(path, errors, looks_like=_looks_like, not_this=NOT_A_PROJECT,
                             kind="project file")
    if doc is None:
        raise SpecErrors(errors)
    parsed = None
    try:
        parsed = _Project.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(located_errors(exc, doc, {"": _KEYS}))
    root = Path(os.path.abspath(path)).parent
    outside = _outside_the_repository(doc, root, path.name)
    outside += [] if outside or parsed is None else _links_out(doc, root, parsed, path.name)
    errors.extend(outside)
    if not outside:
        errors.extend(_missing_inputs(doc, root, path.name))
        if parsed is not None:
            errors.extend(_outputs_holding_inputs(doc, root, parsed))
    if errors or parsed is None:
        raise SpecErrors(sorted(errors, key=lambda e: (e.line or 0, e.col or 0)))

    def resolve(p: str) -> Path:
        return Path(os.path.normpath(root / p))

    return Project(path=Path(os.path.abspath(path)),
                   specs=tuple(resolve(p) for p in parsed.specs),
                   records=resolve(parsed.records), site=resolve(parsed.site),
                   build=resolve(parsed.build),
                   templates=None if parsed.templates is None else resolve(parsed.templates),
                   deploy=None if parsed.deploy is None else resolve(parsed.deploy),
                   mkdocs=None if parsed.mkdocs is None else resolve(parsed.mkdocs))


# How to use a path outside the repository anyway: on the command line, where it is seen.
_ON_THE_COMMAND_LINE = {
    "specs": "name it on the command line instead (`trtdoc build PATH`)",
    "records": "pass --records DIR on the command line instead",
    "site": "pass --site DIR on the command line instead",
    "build": "pass --out DIR on the command line instead",
    "templates": "pass --templates DIR on the command line instead",
    "deploy": "pass --deploy FILE on the command line instead",
    "mkdocs": "keep the site's mkdocs.yml in the repository",
}


def _named_paths(doc: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Each path the file names, with its key (``("specs", 1)``), if it is a usable string."""
    # A key left out means its default folder (records/...), which a link may lead out too.
    data = {k: f.default for k, f in _Project.model_fields.items()} | (
        doc.data if isinstance(doc.data, dict) else {})
    specs = _one_or_more(data.get("specs"))
    named: list[tuple[tuple[str | int, ...], Any]] = [
        (("specs", i), p) for i, p in enumerate(specs)] if isinstance(specs, list) else []
    named += [((key,), data.get(key)) for key in _KEYS if key != "specs"]
    return [(k, v) for k, v in named if isinstance(v, str) and v and "\0" not in v]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _outside_the_repository(doc: Any, root: Path, name: str) -> list[SpecError]:
    """A line for each path the file names that leads outside its folder (the repository),
    symbolic links followed: a pull request must not make `trtdoc build` write /etc/ or read
    templates from anywhere. Someone who means it says so on the command line."""
    top = os.path.realpath(root)
    out = []
    for key, value in _named_paths(doc):
        try:
            real = os.path.realpath(root / value)
        except (OSError, ValueError):
            continue  # the missing-path check names it
        if not _inside(real, top):
            shown = real if len(real) <= 200 else real[:199] + "…"
            out.append(doc.locator.error(
                key, f"{excerpt(value)} leads outside the repository (the folder of {name}), "
                f"to {shown}", f"name a path inside it, or {_ON_THE_COMMAND_LINE[str(key[0])]}"))
    return out


_OUTPUTS = ("records", "site", "build")
_MOST_FOLDERS = 10_000  # walked below records/ and site/ (checked in); a site has dozens


def _links_out(doc: Any, root: Path, parsed: _Project, name: str) -> list[SpecError]:
    """A line for an output folder with a folder link below it that leads outside the
    repository (``site/engines`` committed as a link to ``/etc``): trtdoc would write its files
    there. Below records/ and site/, which a pull request can change, every folder is looked
    at; below build/, the folders trtdoc writes in."""
    top = os.path.realpath(root)
    out = []
    for key in _OUTPUTS:
        value = getattr(parsed, key)
        folder = root / value
        if key == "build":
            below = [folder / n for n in ("engines", "engines/by-sha256", "logs", "cache")]
        else:
            below = []
            for count, (dirpath, dirnames, _) in enumerate(os.walk(folder)):
                below += [Path(dirpath) / d for d in dirnames]
                if count >= _MOST_FOLDERS:
                    break
        for link in below:
            if link.is_symlink() and not _inside(os.path.realpath(link), top):
                rel = os.path.relpath(link, root)
                out.append(doc.locator.error(
                    (key,), f"{excerpt(rel)} below {excerpt(value)} is a link that leads "
                    f"outside the repository (the folder of {name}), and trtdoc writes there",
                    f"make it a folder, or {_ON_THE_COMMAND_LINE[key]}"))
                break
    return out



def _outputs_holding_inputs(doc: Any, root: Path, parsed: _Project) -> list[SpecError]:
    """A line for each output folder (records, site, build) that is, or holds, an input: a spec
    folder, the templates, the deployment file, mkdocs.yml; the records (for the site and the
    build folder), the site (for the build folder). A command writes and removes files there;
    its inputs are not its to change."""
    inputs: list[tuple[str, str]] = [(f"specs: {s}", s) for s in parsed.specs]
    inputs += [(f"{k}: {v}", v) for k in ("templates", "deploy", "mkdocs")
               if (v := getattr(parsed, k)) is not None]
    out = []
    for key in _OUTPUTS:
        value = getattr(parsed, key)
        folder = os.path.realpath(root / value)
        # The records are the site's input; the build folder holds neither them nor the site.
        held = [*inputs, *[(f"{k}: {getattr(parsed, k)}", getattr(parsed, k))
                           for k in {"site": ("records",), "build": ("records", "site")}.get(
                               key, ())]]
        for shown, path in held:
            if _inside(os.path.realpath(root / path), folder):
                out.append(doc.locator.error(
                    (key,), f"{excerpt(value)} holds {excerpt(shown)}, an input; trtdoc writes "
                    f"and removes files in {key}", f"give {key} a folder of its own"))
                break
    return out


def _missing_inputs(doc: Any, root: Path, name: str) -> list[SpecError]:
    """A line for each input the file names that is not there: a spec path, the templates
    folder, the deployment file (outputs may not exist yet)."""
    data = doc.data
    specs = _one_or_more(data.get("specs"))
    named: list[tuple[tuple[str | int, ...], Any, bool | None]] = [
        (("specs", i), p, None) for i, p in enumerate(specs)] if isinstance(specs, list) else []
    named += [(("templates",), data.get("templates"), True),
              (("deploy",), data.get("deploy"), False),
              (("mkdocs",), data.get("mkdocs"), False)]
    out = []
    for key, value, folder in named:
        if not isinstance(value, str) or not value or "\0" in value:
            continue  # the type's own problem, if any, is reported by the model
        problem = path_problem(root / value, folder_ok=folder is not False)
        if problem is None and folder and not (root / value).is_dir():
            problem = ("is a file, not a folder", "point it at a folder of templates")
        if problem is not None:
            message, hint = problem
            fix = f"fix the path; it is relative to {name}"
            out.append(doc.locator.error(key, f"{excerpt(value)} {message}",
                                         fix if message == "does not exist" else hint))
    return out


def project_schema() -> dict[str, Any]:
    """The JSON Schema of ``trtdoc.yml``, generated from the model that reads it."""
    body = _Project.model_json_schema(schema_generator=SchemaGenerator)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(kind="project"),
        "title": "trtdoc project file (trtdoc.yml)",
        "description": "The folders and files of a trtdoc project, so that `trtdoc build`, "
                       "`check`, `render` and `compat` need no arguments; paths are relative "
                       "to this file, and flags override them. Generated from "
                       "trtdoc/project_file.py by `trtdoc schema project`.",
    }
    return {**head, **body}

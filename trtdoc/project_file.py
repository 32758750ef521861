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
    errors.extend(_missing_inputs(doc, root, path.name))
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

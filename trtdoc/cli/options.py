"""Options several commands share (--records/--site/--templates/--deploy, --triton), and
their defaults from the project file (trtdoc.yml)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from trtdoc.errors import display_path

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------------------------
# Defaults from the project file (trtdoc.yml). A command takes them with one line,
# `@from_project(param="project key", ...)` under `@handle_errors`: each listed parameter the
# user did not give comes from trtdoc.yml, else from the built-in default below. A command that
# renders also takes `@site_options` right under it: its records, site, templates and
# deployment file are decided there, for every such command alike.
# --------------------------------------------------------------------------------------------
_BUILT_IN: dict[str, Any] = {"specs": (), "records": Path("records"), "site": Path("site"),
                             "build": Path("build"), "templates": None, "deploy": None}
_FILLED = "trtdoc.project"  # the parameters that came from trtdoc.yml
_PROJECT = "trtdoc.project.file"  # the project file as read (None without one)
_MISSING = {
    "specs": "Missing argument 'PATHS...': name spec files or folders, or name them {where} "
             "(`specs: [specs/]`).",
    "deploy": "Missing option '--deploy': name the deployment file, or name it {where} "
              "(`deploy: deploy.yaml`).",
}


def from_project(*, required: tuple[str, ...] = (), **params: str) -> Callable[[F], F]:
    """Fill each of ``params`` (a parameter name → a ``trtdoc.yml`` key) that the command line
    left out from the project file, else from ``_BUILT_IN``; a ``required`` one that neither
    gives is a usage error. Adds ``--project FILE`` to the command."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, project_file: Path | None, **kwargs: Any) -> Any:
            from trtdoc.project import find_project

            ctx = click.get_current_context()
            found = project_file if project_file is not None else find_project()
            project = None
            if found is not None:
                from trtdoc.project_file import load_project

                project = load_project(found)
            ctx.meta[_PROJECT], ctx.meta[_FILLED] = project, set()
            for param, key in params.items():
                kwargs[param] = _decide(param, key, kwargs.get(param),
                                        required=param in required)
            return func(*args, **kwargs)

        # click.option returns its own decorator type; the wrapper keeps func's signature
        # (functools.wraps) apart from --project, which click passes as project_file.
        return click.option(  # type: ignore[return-value]
            "--project", "project_file", type=click.Path(path_type=Path), default=None,
            metavar="FILE", help="The project file whose paths are the defaults [default: the "
            "nearest trtdoc.yml here or above, within the repository].")(wrapper)

    return decorate


def _decide(param: str, key: str, given: Any, *, required: bool = False) -> Any:
    """The flag the user gave; else the project file's ``key``, relative to the working
    directory; else the built-in default. ``from_project`` has read the project file."""
    if given not in (None, ()):
        return given  # a flag overrides the project file
    ctx = click.get_current_context()
    project = ctx.meta[_PROJECT]
    value = getattr(project, key) if project is not None else _BUILT_IN[key]
    if project is not None and value is not None:
        value = tuple(map(_near, value)) if isinstance(value, tuple) else _near(value)
        ctx.meta[_FILLED].add(param)
    if required and value in (None, ()):
        raise click.UsageError(_MISSING[key].format(
            where="in " + display_path(project.path) if project is not None
            else "in a trtdoc.yml"), ctx=ctx)
    return value


def _near(path: Path) -> Path:
    """A project path as the user would write it here: relative to the working directory."""
    import os

    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        return path


def project_inputs() -> tuple[tuple[str, Path], ...]:
    """What the running command's trtdoc.yml reads (``Project.inputs``); none without one."""
    ctx = click.get_current_context(silent=True)
    project = ctx.meta.get(_PROJECT) if ctx is not None else None
    return project.inputs() if project is not None else ()


def from_the_project(param: str) -> bool:
    """Whether ``param`` of the running command came from trtdoc.yml."""
    return param in click.get_current_context().meta.get(_FILLED, ())


@dataclass(frozen=True)
class PagePaths:
    """What a command that renders reads and writes: the records, the site folder (the mkdocs
    docs_dir), the user's templates and the deployment file, with that file as read."""

    records: Path = Path("records")
    site: Path = Path("site")
    templates: Path | None = None
    deploy: Path | None = None
    deployment: Any = None  # the Deployment read from ``deploy``


def page_paths(*, records: Path | None = None, site: Path | None = None,
               templates: Path | None = None, deploy: Path | None = None) -> PagePaths:
    """The one place that decides where every command that renders (build, render, import)
    reads and writes: each path the flag given (None: not given), else trtdoc.yml's key, else
    the built-in default. The deployment file is read here, before any work: a bad one is every
    problem, one line each. Call it under ``from_project``, which reads trtdoc.yml."""
    from trtdoc.cli.deployment import deployment_from_option

    deploy = _decide("deploy", "deploy", deploy)
    return PagePaths(records=_decide("records", "records", records),
                     site=_decide("site", "site", site),
                     templates=_decide("templates", "templates", templates),
                     deploy=deploy, deployment=deployment_from_option(deploy))


_SITE_OPTIONS = (
    click.option("--records", type=click.Path(path_type=Path), default=None,
                 help="Build records, one JSON file per engine (check these in) "
                 "[default: trtdoc.yml's records, else records]."),
    click.option("--site", type=click.Path(path_type=Path), default=None,
                 help="mkdocs docs_dir that receives the generated pages [default: "
                 "trtdoc.yml's site, else site]."),
    click.option("--templates", type=click.Path(path_type=Path, file_okay=False),
                 default=None, help="Your own templates; any file here overrides the shipped "
                 "one [default: trtdoc.yml's templates]."),
    click.option("--deploy", type=click.Path(path_type=Path), default=None,
                 help="A deployment file (deploy.yaml): the compatibility page becomes engines "
                 "× its targets, and each engine page lists its targets with their verdicts "
                 "[default: trtdoc.yml's deploy]."),
)


def project_folder() -> Path:
    """The folder of the running command's trtdoc.yml; without one, the working directory
    (where ``npm install`` put ``node_modules``, for the site's Mermaid)."""
    ctx = click.get_current_context(silent=True)
    project = ctx.meta.get(_PROJECT) if ctx is not None else None
    return Path(project.path).parent if project is not None else Path(".")


def site_options(func: F) -> F:
    """--records, --site, --templates and --deploy, for a command that renders: the command
    receives them as one ``pages`` (:class:`PagePaths`), decided by :func:`page_paths`. Goes
    right under ``@from_project``."""

    @functools.wraps(func)
    def wrapper(*args: Any, records: Path | None, site: Path | None, templates: Path | None,
                deploy: Path | None, **kwargs: Any) -> Any:
        pages = page_paths(records=records, site=site, templates=templates, deploy=deploy)
        return func(*args, pages=pages, **kwargs)

    for option in reversed(_SITE_OPTIONS):
        wrapper = option(wrapper)
    # The wrapper takes the four options where func takes ``pages``; mypy cannot see that.
    return wrapper  # type: ignore[return-value]


# issue 15: `build --triton OUT/`; the command itself is `trtdoc triton` (triton.py).
def triton_option(func: F) -> F:
    """--triton OUT: write a Triton model repository after the build."""
    return click.option(
        "--triton", "triton_repo", type=click.Path(path_type=Path, file_okay=False),
        default=None, metavar="OUT",
        help="After the build, write a Triton model repository there (as `trtdoc triton`).",
    )(func)

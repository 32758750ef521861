"""Options several commands share (--records/--site/--templates, --deploy, --triton), and
their defaults from the project file (trtdoc.yml)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from trtdoc.errors import display_path

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------------------------
# Defaults from the project file (trtdoc.yml). A command takes them with one line,
# `@from_project(param="project key", ...)` under `@handle_errors`: each listed parameter the
# user did not give comes from trtdoc.yml, else from the built-in default below.
# --------------------------------------------------------------------------------------------
_BUILT_IN: dict[str, Any] = {"specs": (), "records": Path("records"), "site": Path("site"),
                             "build": Path("build"), "templates": None, "deploy": None}
_PROJECT_META = "trtdoc.project"
_PROJECT_FILE_META = "trtdoc.project_file"
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
            filled = set()
            for param, key in params.items():
                if kwargs.get(param) not in (None, ()):
                    continue  # a flag overrides the project file
                value = getattr(project, key) if project is not None else _BUILT_IN[key]
                if project is not None and value is not None:
                    value = (tuple(map(_near, value)) if isinstance(value, tuple)
                             else _near(value))
                    filled.add(param)
                if param in required and value in (None, ()):
                    raise click.UsageError(_MISSING[key].format(
                        where="in " + display_path(project.path) if project is not None
                        else "in a trtdoc.yml"), ctx=ctx)
                kwargs[param] = value
            ctx.meta[_PROJECT_META] = filled
            ctx.meta[_PROJECT_FILE_META] = found
            return func(*args, **kwargs)

        # click.option returns its own decorator type; the wrapper keeps func's signature
        # (functools.wraps) apart from --project, which click passes as project_file.
        return click.option(  # type: ignore[return-value]
            "--project", "project_file", type=click.Path(path_type=Path), default=None,
            metavar="FILE", help="The project file whose paths are the defaults [default: the "
            "nearest trtdoc.yml here or above, within the repository].")(wrapper)

    return decorate


def _near(path: Path) -> Path:
    """A project path as the user would write it here: relative to the working directory."""
    import os

    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        return path


def from_the_project(param: str) -> bool:
    """Whether ``param`` of the running command came from trtdoc.yml."""
    return param in click.get_current_context().meta.get(_PROJECT_META, ())


def project_folder() -> Path:
    """The folder of the running command's trtdoc.yml; without one, the working directory
    (where ``npm install`` put ``node_modules``, for the site's Mermaid)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(_PROJECT_FILE_META) if ctx is not None else None
    return Path(found).parent if found is not None else Path(".")


def site_options(func: F) -> F:
    """--records, --site and --templates: where records live and where pages go."""
    options = (
        click.option("--records", type=click.Path(path_type=Path), default=None,
                     help="Build records, one JSON file per engine (check these in) "
                     "[default: trtdoc.yml's records, else records]."),
        click.option("--site", type=click.Path(path_type=Path), default=None,
                     help="mkdocs docs_dir that receives the generated pages [default: "
                     "trtdoc.yml's site, else site]."),
        click.option("--templates", type=click.Path(path_type=Path, file_okay=False),
                     default=None, help="Your own templates; any file here overrides the shipped "
                     "one [default: trtdoc.yml's templates]."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def deploy_option(func: F) -> F:
    """--deploy FILE: the deployment file whose targets the pages show."""
    return click.option(
        "--deploy", "deploy_file", type=click.Path(path_type=Path), default=None,
        help="A deployment file (deploy.yaml): the compatibility page becomes engines × "
        "its targets, and each engine page lists its targets with their verdicts [default: "
        "trtdoc.yml's deploy].")(func)


# issue 15: `build --triton OUT/`; the command itself is `trtdoc triton` (triton.py).
def triton_option(func: F) -> F:
    """--triton OUT: write a Triton model repository after the build."""
    return click.option(
        "--triton", "triton_repo", type=click.Path(path_type=Path, file_okay=False),
        default=None, metavar="OUT",
        help="After the build, write a Triton model repository there (as `trtdoc triton`).",
    )(func)

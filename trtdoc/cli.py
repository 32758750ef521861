"""The ``trtdoc`` command line. The only module that prints or exits.

A :class:`TrtdocError` becomes one line on stderr per problem and exit code 1. Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from trtdoc import __version__
from trtdoc.errors import SpecErrors, TrtdocError

F = TypeVar("F", bound=Callable[..., Any])


class Ui:
    """Where the CLI writes: results to stdout, progress and problems to stderr."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)

    def info(self, text: str) -> None:
        if self.verbosity >= 0:
            self.err.print(text, markup=False)

    def debug(self, text: str) -> None:
        if self.verbosity >= 1:
            self.err.print(text, markup=False, style="dim")

    def problem(self, text: str) -> None:
        self.err.print(text, markup=False, style="red")


def _handle_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ui: Ui = click.get_current_context().find_object(Ui) or Ui(0)
        try:
            return func(*args, **kwargs)
        except SpecErrors as exc:
            for e in exc.errors:
                ui.problem(str(e))
            ui.problem(f"{len(exc.errors)} problem(s) found")
            sys.exit(1)
        except TrtdocError as exc:
            ui.problem(f"error: {exc}")
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="trtdoc",
                      message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="Say more (repeat for the TensorRT log).")
@click.option("-q", "--quiet", count=True, help="Say only what went wrong.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Build TensorRT engines from checked-in specs and publish what is inside them."""
    ctx.obj = Ui(verbose - quiet)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
@_handle_errors
def check(ui: Ui, paths: tuple[Path, ...]) -> None:
    """Validate specs without building: every problem, one line each."""
    from trtdoc.check import check_specs

    good, errors = check_specs(paths)
    if errors:
        raise SpecErrors(errors)
    ui.info(f"{len(good)} spec(s) OK: {', '.join(s.spec.name for s in good)}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="trtdoc")


if __name__ == "__main__":
    main()

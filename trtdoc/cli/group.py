"""The ``trtdoc`` command group: its global options (``-V``, ``-v``, ``-q``, also accepted
after the subcommand), every command, and the console-script entry point :func:`main`."""

from __future__ import annotations

import click

from trtdoc import __version__
from trtdoc.cli.build import build, check, convert
from trtdoc.cli.compat import compat, inspect
from trtdoc.cli.init import init
from trtdoc.cli.output import Ui
from trtdoc.cli.render import import_, render
from trtdoc.cli.review import diff, lint
from trtdoc.cli.schema import schema
from trtdoc.cli.triton import triton


def _more(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    ui = ctx.find_object(Ui)
    if ui is not None and value:
        ui.verbosity += value


def _less(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    _more(ctx, _param, -value)


class _Group(click.Group):
    """A group whose ``-v``/``-q`` are also accepted after the subcommand
    (``trtdoc build specs/ -v``), where users type them; both places add up."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params += [
            click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_more,
                         help="Say more (-vv: also the TensorRT log)."),
            click.Option(["-q", "--quiet"], count=True, expose_value=False, callback=_less,
                         help="Say only what went wrong."),
        ]
        super().add_command(cmd, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="trtdoc",
                      message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="Say more (-vv: also the TensorRT log).")
@click.option("-q", "--quiet", count=True, help="Say only what went wrong.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Build TensorRT engines from checked-in specs and publish what is inside them."""
    ctx.obj = Ui(verbose - quiet)


# `trtdoc --help` lists them sorted by name, whatever the order here.
for _command in (check, build, convert, inspect, compat, import_, render, diff, schema, lint,
                 triton, init):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="trtdoc")

"""The ``trtdoc`` command group: its global options (``-V``, ``-v``, ``-q``, also accepted
after the subcommand), every command, and the console-script entry point :func:`main`."""

from __future__ import annotations

import click

from trtdoc import __version__
from trtdoc.cli.build import build, check, convert
from trtdoc.cli.compat import compat, inspect
from trtdoc.cli.completion import completion
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


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``-V``: trtdoc's version, and the versions of what it drives, as installed (package
    metadata, nothing imported): what a bug report needs."""
    if not value or ctx.resilient_parsing:
        return
    import platform

    from trtdoc.backends import BACKENDS, installed_version
    from trtdoc.versions import dist_version

    lines = [f"trtdoc {__version__}"]
    for backend in sorted(BACKENDS.values(), key=lambda b: b.name, reverse=True):
        lines.append(f"{backend.name} {installed_version(backend) or 'not installed'}")
    lines.append(f"onnxruntime {dist_version('onnxruntime') or 'not installed'}")
    lines.append(f"Python {platform.python_version()}")
    click.echo("\n".join(lines))
    ctx.exit(0)


@click.group(cls=_Group, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_version, help="Show the version of trtdoc, TensorRT-RTX/TensorRT, "
              "onnxruntime and Python, and exit.")
@click.option("-v", "--verbose", count=True, help="Say more (-vv: also the TensorRT log).")
@click.option("-q", "--quiet", count=True, help="Say only what went wrong.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Build TensorRT engines from checked-in specs and publish what is inside them."""
    ctx.obj = Ui(verbose - quiet)
    if ctx.invoked_subcommand is None:  # `trtdoc` alone: the help, and no error
        click.echo(ctx.get_help())


# `trtdoc --help` lists them sorted by name, whatever the order here.
for _command in (check, build, convert, inspect, compat, import_, render, diff, schema, lint,
                 triton, completion, init):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="trtdoc")

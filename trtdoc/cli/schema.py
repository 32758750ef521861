"""``trtdoc schema``: the JSON Schema of a spec, deploy.yaml, trtdoc.yml or a record; with
``--write``, all of them into a project's ``schema/`` folder."""

from __future__ import annotations

import os
from pathlib import Path

import click

from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.output import Ui


@click.command()
@click.argument("kind", required=False, type=click.Choice(["spec", "deploy", "project", "record"]))
@click.option("--write", "write_dir", is_flag=False, flag_value="", default=None,
              metavar="[DIR]", help="Write every schema into DIR [default: schema/ beside "
              "trtdoc.yml], each only if it changed, and list them.")
@click.pass_obj
@handle_errors
def schema(ui: Ui, kind: str | None, write_dir: str | None) -> None:
    """Print the JSON Schema of a spec, deploy.yaml, trtdoc.yml or a build record.

    Generated from the code that validates those files; the same schemas ship in
    trtdoc/schema/. `trtdoc init` writes them into the project's schema/ folder, where the
    first line of each file it writes points (`# yaml-language-server:
    $schema=schema/project.schema.json`); `trtdoc schema --write` refreshes them after an
    upgrade.
    """
    if write_dir is None:
        if kind is None:
            raise click.UsageError("name a schema (spec, deploy, project or record), or "
                                   "write them all with --write [DIR]")
        from trtdoc.schemas import schema_text

        click.echo(schema_text(kind), nl=False)
        return
    if kind is not None:
        raise click.UsageError(f"--write writes every schema; leave out {kind!r}")
    from trtdoc.errors import TrtdocError, os_error_message
    from trtdoc.init import SCHEMA_DIR
    from trtdoc.project import find_project
    from trtdoc.schemas import write_schemas

    if write_dir:
        folder = Path(write_dir)
    else:
        found = find_project()
        folder = Path(os.path.relpath(found.parent if found is not None else ".")) / SCHEMA_DIR
    try:
        written, unchanged = write_schemas(folder)
    except OSError as exc:
        raise TrtdocError(f"{os_error_message(exc, folder)}; no schema was refreshed") from None
    for path in written:
        click.echo(f"wrote     {path}")
    for path in unchanged:
        click.echo(f"unchanged {path}")

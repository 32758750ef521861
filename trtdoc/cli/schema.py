"""``trtdoc schema``: the JSON Schema of a spec, deploy.yaml, trtdoc.yml or a record."""

from __future__ import annotations

import click

from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.output import Ui


@click.command()
@click.argument("kind", type=click.Choice(["spec", "deploy", "project", "record"]))
@click.pass_obj
@handle_errors
def schema(ui: Ui, kind: str) -> None:
    """Print the JSON Schema of a spec, deploy.yaml, trtdoc.yml or a build record.

    Generated from the code that validates those files; the same schemas ship in
    trtdoc/schema/. Point an editor at one with a first line such as
    `# yaml-language-server: $schema=<path>/spec.schema.json`.
    """
    from trtdoc.schemas import schema_text

    click.echo(schema_text(kind), nl=False)

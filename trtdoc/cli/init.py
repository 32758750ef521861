"""``trtdoc init [DIR]``: a working project in a new or existing folder."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.output import Ui


@click.command()
@click.argument("folder", required=False, default=".", metavar="[DIR]",
                type=click.Path(path_type=Path))
@click.pass_obj
@handle_errors
def init(ui: Ui, folder: Path) -> None:
    """Start a project in DIR (default: here); never overwrites a file.

    DIR may be new or an existing repository.

    Writes trtdoc.yml, a commented example spec, mkdocs.yml with the site's home and tags
    pages, package.json (Mermaid), .gitignore entries, .pre-commit-config.yaml, a GitHub
    Actions workflow that checks the project and publishes the site, and the JSON Schemas
    that the files' $schema lines name. Prints what it wrote and what it left.
    """
    from trtdoc.init import init_project

    result = init_project(folder)
    shown = "" if folder == Path(".") else f"{folder.as_posix().rstrip('/')}/"
    for path in result.written:
        click.echo(f"wrote     {shown}{path}")
    for path, lines in result.appended:
        click.echo(f"appended  {shown}{path}: {', '.join(lines)}")
    for path in result.left:
        # A folder where a file belongs is not "it exists": the project will not work.
        why = ("a folder is there, not a file: move it and run `trtdoc init` again"
               if (folder / path).is_dir() else "it exists; not changed")
        click.echo(f"left      {shown}{path} ({why})")
    if "mkdocs.yml" in result.left:
        _say_what_mkdocs_yml_lacks(folder)
    # Quoted for the shell: the line is meant to be pasted, and a folder may have spaces.
    cd = f"cd {shlex.quote(shown.rstrip('/'))} && " if shown else ""
    click.echo("next: " + cd + "edit specs/example.yaml (or add a spec), then `npm install` "
               "(Mermaid, optional), `trtdoc build` and `mkdocs serve`")


def _say_what_mkdocs_yml_lacks(folder: Path) -> None:
    """A team's own mkdocs.yml is left as it is; say now, not at the first `trtdoc check`,
    what it lacks for the pages (the scaffold's trtdoc.yml writes them to site/)."""
    from trtdoc.render.mkdocs_config import mkdocs_problems

    problems = mkdocs_problems(folder / "mkdocs.yml", site=folder / "site", needs_tags=True)
    if problems:
        click.echo(f"to do     your mkdocs.yml cannot show the pages yet ({len(problems)} "
                   "line(s) below; `trtdoc check` checks them again):")
    for problem in problems:
        click.echo(f"          {problem}")

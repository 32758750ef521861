"""``trtdoc diff`` (what changed between records) and ``trtdoc lint`` (what each build tells
you): the review commands (issue 14)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.options import from_project
from trtdoc.cli.output import Ui, one_line
from trtdoc.errors import TrtdocError, display_path


# --------------------------------------------------------------------------------------------
# trtdoc diff (issue 14)
# --------------------------------------------------------------------------------------------
@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--base", metavar="REF", default=None,
              help="Compare the records in the working tree with those at this git ref "
              "(read with git show; nothing is checked out).")
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="The records folder (with --base) [default: trtdoc.yml's, else records/].")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True,
              help="markdown: a summary short enough for a pull-request comment, the full "
              "tables collapsed; json: everything, for tools.")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Your own templates (diff.md.j2, _changes_table.md.j2) for --format "
              "markdown.")
@click.pass_obj
@handle_errors
@from_project(records="records", templates="templates")
def diff(ui: Ui, files: tuple[Path, ...], base: str | None, records: Path, fmt: str,
         templates: Path | None) -> None:
    """What changed: `diff --base REF` (records folder vs a git ref) or `diff OLD.json NEW.json`.

    Exit code 0 whether or not anything changed; 1 on a bad record, ref or argument.
    """
    from trtdoc.diff.compare import diff_against_ref, diff_files

    if base is not None and files:
        raise TrtdocError("give either --base REF or two record files, not both")
    if base is None and len(files) != 2:
        raise TrtdocError("give two record files (trtdoc diff OLD.json NEW.json) or a git ref "
                          "(trtdoc diff --base origin/main)")
    result = diff_against_ref(records, base) if base is not None else diff_files(*files)
    if fmt == "json":
        import json

        from trtdoc.typed import encode

        text = json.dumps(encode(result), indent=1, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        from trtdoc.render.site_pages import diff_markdown

        text = diff_markdown(result, templates_dir=templates)
    else:
        from trtdoc.diff.formats import diff_text

        text = diff_text(result)
    sys.stdout.write(text)


# --------------------------------------------------------------------------------------------
# trtdoc lint (issue 14): the findings of records, one line each
# --------------------------------------------------------------------------------------------
@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(["warning", "error"]), default="error",
              show_default=True, help="Exit 1 on a finding of this severity or worse.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per finding, or JSON for tools.")
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="The records folder read without PATHS [default: trtdoc.yml's, else "
              "records/].")
@click.pass_obj
@handle_errors
@from_project(records="records")
def lint(ui: Ui, paths: tuple[Path, ...], fail_on: str, fmt: str, records: Path) -> None:
    """What each engine's build tells you: the findings of record files or folders
    (default: records/), one line each, then the accuracy figures against fp32 per output and
    slice. Exit 1 at --fail-on or worse, or on a bad record."""
    import json

    from trtdoc.errors import RecordError
    from trtdoc.findings.current import current_findings, fp32_candidates, fp32_variant
    from trtdoc.findings.types import severity_at_least
    from trtdoc.precision.accuracy import accuracy_lines
    from trtdoc.record.files import read_record
    from trtdoc.typed import encode

    files, problems = _lint_files(paths or (records,))
    out: list[dict[str, Any]] = []
    counts = {"error": 0, "warning": 0, "info": 0}
    failed = bool(problems)
    for line in problems:
        ui.problem(line)
    for path in files:
        try:
            record = read_record(path)
        except RecordError as exc:
            ui.problem(f"error: {exc}")
            failed = True
            continue
        fp32 = fp32_variant(record, fp32_candidates(path.parent, record))
        found, notes = current_findings(record, fp32)
        for note in notes:
            ui.info(one_line(f"{record.name}: note: {note}"))
        lines = []
        for f in found:
            counts[f.severity] += 1
            failed = failed or severity_at_least(f.severity, fail_on)
            if fmt == "text":
                lines.append(one_line(f.line(record.name)))
        # Accuracy against fp32 per output and slice (output0[scores]), as the page shows it.
        accuracy = accuracy_lines(record.accuracy) if record.accuracy else []
        if fmt == "text":
            lines += [one_line(f"{record.name}: accuracy {line}") for line in accuracy]
        if lines:
            # One print per record: rich's cost is per call (5,000 findings took 11.8 s
            # printed one by one), and a record may hold any number of them.
            ui.out.print("\n".join(lines), markup=False, soft_wrap=True)
        out.append({"engine": record.name, "record": display_path(path), "notes": list(notes),
                    "findings": [encode(f) for f in found], "accuracy": accuracy})
    if fmt == "json":
        ui.out.print(json.dumps(out, indent=1, ensure_ascii=False), markup=False,
                     soft_wrap=True)
    # With --format json, stdout is the JSON alone: its count goes with the logs.
    (ui.info if fmt == "json" else ui.result)(
        f"{sum(counts.values())} finding(s) in {len(out)} record(s): "
        f"{counts['error']} error, {counts['warning']} warning, {counts['info']} info "
        f"(--fail-on {fail_on})")
    if failed:
        sys.exit(1)


def _lint_files(paths: tuple[Path, ...]) -> tuple[list[Path], list[str]]:
    """The record files named by ``paths`` (files, or the *.json in folders), and one line
    per path that names none."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if not p.name.startswith("."))
            if not found:
                problems.append(f"error: {display_path(path)}: no records (*.json) in this "
                                "folder; build first (`trtdoc build specs/`) or name another")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"error: {display_path(path)}: no such file or folder; name a "
                            "record file or a records folder")
    return files, problems

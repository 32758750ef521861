"""``trtdoc render`` (every page from the records) and ``trtdoc import`` (a record and its
page from trtexec exports)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trtdoc.cli.deployment import report_unmatched
from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.options import PagePaths, from_project, site_options
from trtdoc.cli.output import Ui
from trtdoc.cli.pages import render_pages
from trtdoc.cli.site_config import site_config_problems
from trtdoc.errors import SpecErrors, TrtdocError, display_path


@click.command("import")
# Paths are checked by the importer, not by click, so a directory, FIFO or device gets one line
# naming the file (and a FIFO is never opened blocking).
@click.argument("layer_info", type=click.Path(path_type=Path))
@click.option("--profile", type=click.Path(path_type=Path),
              help="trtexec --exportProfile JSON (per-layer times).")
@click.option("--times", type=click.Path(path_type=Path),
              help="trtexec --exportTimes JSON (per-inference latency: median, p90, p99, "
              "histogram).")
@click.option("--gpu", metavar="NAME",
              help='The GPU trtexec ran the engine on: a model ("A100") or a compute '
              'capability ("8.0"), as `trtdoc compat` names them.')
@click.option("--name", required=True, help="Engine name (the page slug).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The ONNX model the engine came from, for model facts.")
@click.option("--engine", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The engine file, for header facts and hashes.")
@click.option("--force", is_flag=True,
              help="Replace an existing record of that name (kept in records/.history/).")
@click.pass_obj
@handle_errors
@from_project()
@site_options
def import_(ui: Ui, layer_info: Path, profile: Path | None, times: Path | None,
            gpu: str | None, name: str, model: Path | None, engine: Path | None, force: bool,
            pages: PagePaths) -> None:
    """Make a record (and page) from trtexec --exportLayerInfo / --exportProfile /
    --exportTimes files.

    Files over 2 GiB, with over 2,000,000 layers or over 10,000,000 inferences are refused.
    """
    from trtdoc.diff.history import history_path
    from trtdoc.importer import gpu_named, record_from_trtexec, replace_check
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import write_atomic, write_record
    from trtdoc.spec.names import name_problem

    problem = name_problem(name)
    if problem is not None:
        raise TrtdocError(f"--name: {problem}")
    if gpu is not None:
        gpu_named(gpu)  # an unknown name is refused before any file is read
    from trtdoc.errors import os_error_message
    from trtdoc.lock import project_lock

    records, site = pages.records, pages.site
    outputs = OutputPaths(records=records)
    twins = sorted(p.stem for p in records.glob("*.json")
                   if p.stem != name and p.stem.lower() == name.lower()) if records.is_dir() else []
    if twins:
        raise TrtdocError(f"--name: {name!r} differs only in case from the record "
                          f"{display_path(records / (twins[0] + '.json'))}; on case-insensitive "
                          "file systems (macOS, Windows) they would be one file: choose another "
                          "name")
    replace_check(outputs.record(name), force=force)  # refuse before any work is done
    record = record_from_trtexec(name, layer_info, profile, model=model, engine=engine,
                                 gpu=gpu, times=times)
    with project_lock((records, site), "import"):
        old = replace_check(outputs.record(name), force=force)
        try:
            if old is not None:
                # The history copy first: the record is the commit point (see build.py).
                write_atomic(history_path(records, name), old)
            write_record(outputs.record(name), record)  # streamed: no 1 GB string
        except OSError as exc:
            raise TrtdocError(f"{os_error_message(exc, records)}; nothing was imported"
                              ) from None
        timed = sum(layer.time_ms is not None for layer in record.inspection.layers)
        latency = record.profiled.latency if record.profiled else None
        ui.result(f"{name}: {len(record.inspection.layers)} layers, {timed} with times"
                  + (f", {latency.count:,} inferences" if latency else "")
                  + f" → {outputs.record(name)}")
        if render_pages(ui, pages, dry_run=False, strict=False, fresh={name: record}) is None:
            sys.exit(1)
    if report_unmatched(ui, pages.deployment, records):
        sys.exit(1)


@click.command()
@click.pass_obj
@handle_errors
@from_project()
@site_options
def render(ui: Ui, pages: PagePaths) -> None:
    """Re-render every page from the records, without building (no GPU, no TensorRT)."""
    from trtdoc.lock import project_lock

    records, site = pages.records, pages.site
    if not records.is_dir():
        raise TrtdocError(f"{display_path(records)}: no such records folder; build first "
                          "(`trtdoc build specs/`) or pass --records to the folder you build "
                          "into (rendering an empty one would remove every engine page)")
    with project_lock((records, site), "render"):
        written = render_pages(ui, pages, dry_run=False, strict=False)
    if written is None or report_unmatched(ui, pages.deployment, records):
        sys.exit(1)
    ui.result(f"{len(written)} page(s) written")
    problems = site_config_problems(site)  # the pages are written: it is mkdocs.yml to fix
    if problems:
        raise SpecErrors(problems)

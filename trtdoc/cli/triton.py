"""``trtdoc triton`` (issue 15): a Triton model repository from the records and stored
engines; also written by ``trtdoc build --triton``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trtdoc.cli.exit_codes import handle_errors
from trtdoc.cli.options import from_project, project_inputs
from trtdoc.cli.output import Ui
from trtdoc.errors import TrtdocError, display_path


def check_triton_repository(repository: Path, *, records: Path, site: Path,
                            out: Path) -> None:
    """A model repository holds engines: never inside the checked-in records or pages, never
    the build folder itself (whose engine store it links to), and never a folder that holds
    what the project reads (its specs, templates, trtdoc.yml)."""
    import os

    for name, folder in (("--records", records), ("--site", site)):
        if _inside(repository, folder) or _inside(folder, repository):
            raise TrtdocError(f"the Triton repository {display_path(repository)} and {name} "
                              f"{display_path(folder)} overlap; plans are not checked in: "
                              "write the repository outside records/ and site/")
    for name, path in project_inputs():
        if _inside(path, repository) or _inside(repository, path):
            raise TrtdocError(f"the Triton repository {display_path(repository)} and {name} "
                              f"({display_path(path)}) overlap, and the project reads that; "
                              "write the repository to a folder of its own, such as triton/")
    if os.path.realpath(repository) == os.path.realpath(out) or _inside(out, repository):
        raise TrtdocError(f"the Triton repository {display_path(repository)} would hold the "
                          f"build folder {display_path(out)}; write it to a folder of its own, "
                          "such as triton/ or build/triton/")


def _inside(a: Path, b: Path) -> bool:
    """Whether ``a`` is ``b`` or inside it, symlinks followed."""
    import os

    ra, rb = os.path.realpath(a), os.path.realpath(b)
    return ra == rb or ra.startswith(rb.rstrip(os.sep) + os.sep)


def check_model_folders(repository: Path, records: Any, records_dir: Path) -> None:
    """A model repository never is, nor is inside or above, a folder holding the ONNX model
    of a record (``trtdoc triton models/``): it would fill the models folder with engines. (A
    model at the top of the project does not keep the repository out of the project.)"""
    from trtdoc.project import project_root

    tops = dict.fromkeys((project_root(records_dir / "_", records_dir), Path.cwd()))
    for record in records:
        for base in tops:
            folder = (base / record.model_path).parent
            if not folder.is_dir():  # a record's path as it says; not there, nothing to keep
                continue
            below = _inside(repository, folder) and not any(_inside(t, folder) for t in tops)
            if below or _inside(folder, repository):
                raise TrtdocError(
                    f"the Triton repository {display_path(repository)} and "
                    f"{display_path(folder)} overlap, and that folder holds the model of "
                    f"{record.name} ({record.model_path}); write the repository to a folder of "
                    "its own, such as triton/")


def write_triton(ui: Ui, repository: Path, outputs: Any) -> int:
    """Write the repository from every readable record; print what was written and one line
    per problem. Returns the number of problems."""
    from trtdoc.errors import RecordError
    from trtdoc.lock import project_lock
    from trtdoc.record.files import read_record
    from trtdoc.triton import CONFIG_NAME, VERSION, write_repository

    if not outputs.records.is_dir():
        raise TrtdocError(f"{display_path(outputs.records)} is not a folder of records; build "
                          "the engines first (`trtdoc build specs/`), or pass --records")
    records, problems = [], []
    for path in sorted(outputs.records.glob("*.json")):
        try:
            records.append(read_record(path))
        except RecordError as exc:
            problems.append(f"{exc} (its Triton model was left as it was)")
    check_model_folders(repository, records, outputs.records)
    with project_lock((repository,), "triton", sweep=False):
        # A record that cannot be read may be of any model folder: none is removed then.
        result = write_repository(records, repository, outputs, remove_stale=not problems)
    for model in result.written:
        files = ", ".join(f"{VERSION}/{p.filename}" for p in model.plans)
        ui.out.print(f"{display_path(repository / model.name)}: {CONFIG_NAME}, {files}",
                     markup=False)
    for name in result.removed:
        ui.result(f"{display_path(repository / name)}: removed (no record is that model now)")
    for line in (*problems, *result.problems):
        ui.problem(line)
    if any(p.rtx for m in result.written for p in m.plans):
        ui.info("note: TensorRT-RTX plans need the TensorRT-RTX runtime; Triton's "
                "tensorrt_plan backend (full TensorRT) cannot load them")
    return len(problems) + len(result.problems)


@click.command()
@click.argument("repository", type=click.Path(path_type=Path, file_okay=False))
@click.option("--records", type=click.Path(path_type=Path), default=None,
              help="Build records, one JSON file per engine [default: trtdoc.yml's, else "
              "records/].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The build folder whose engine store (engines/by-sha256/) holds the plans "
              "[default: trtdoc.yml's, else build/].")
@click.option("--site", type=click.Path(path_type=Path), default=None,
              help="The pages folder, which the repository must stay out of [default: "
              "trtdoc.yml's, else site/].")
@click.pass_obj
@handle_errors
@from_project(records="records", out="build", site="site")
def triton(ui: Ui, repository: Path, records: Path, out: Path, site: Path) -> None:
    """Write a Triton model repository: REPOSITORY/<model>/config.pbtxt and 1/model.plan."""
    from trtdoc.paths import OutputPaths

    check_triton_repository(repository, records=records, site=site, out=out)
    problems = write_triton(ui, repository, OutputPaths(out=out, records=records))
    if problems:
        ui.problem(f"{problems} problem(s); the other models were written")
        sys.exit(1)

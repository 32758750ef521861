"""Where a project starts, so that paths in records and on pages are relative to it.

Records and pages are checked in and read on other machines: a path in them is relative to
the repository the specs are in (the nearest folder above a spec with ``.git`` or
``mkdocs.yml``), never an absolute path of the machine that built them.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_FILE = "trtdoc.yml"
_MARKERS = (".git", "mkdocs.yml", PROJECT_FILE)


def project_root(spec_path: Path, records: Path | None = None) -> Path:
    """The repository a spec belongs to; else the folder that holds the records folder (the
    project's checked-in state), when the spec is below it; else the working directory, if the
    spec is below it; else the spec's own folder."""
    folder = Path(os.path.realpath(spec_path)).parent
    for candidate in (folder, *folder.parents):
        if any((candidate / m).exists() for m in _MARKERS):
            return candidate
    if records is not None:
        state = Path(os.path.realpath(records)).parent
        if folder == state or state in folder.parents:
            return state
    cwd = Path(os.path.realpath(Path.cwd()))
    try:
        folder.relative_to(cwd)
        return cwd
    except ValueError:
        return folder


def project_path(path: Path | str, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (with ``..`` where it lies outside)."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    return Path(rel).as_posix()


def find_project(start: Path | None = None) -> Path | None:
    """The nearest ``trtdoc.yml`` in ``start`` (the working directory) or a folder above it,
    up to the top of the repository ``start`` is in; None if there is none.

    Here, not in ``project_file``, so that a command run without a project file imports
    neither pydantic nor the spec models (0.6 s) to learn that there is none."""
    folder = Path(os.path.abspath(start if start is not None else Path.cwd()))
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / PROJECT_FILE):
            return candidate / PROJECT_FILE
        if (candidate / ".git").exists():
            return None
    return None

"""The previous record of each engine, kept by the build as ``records/.history/<name>.json``
(the site's "What changed" page compares each record with it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from trtdoc.errors import RecordError
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord

HISTORY_DIR = ".history"


def history_path(records_dir: Path, name: str) -> Path:
    """Where the build keeps the previous record of ``name``."""
    return records_dir / HISTORY_DIR / f"{name}.json"


def read_previous(records_dir: Path) -> Mapping[str, EngineRecord]:
    """Every kept previous record under ``records_dir/.history``, by engine name.

    An unreadable file is skipped: a missing comparison is better than a failed render.
    """
    folder = records_dir / HISTORY_DIR
    out: dict[str, EngineRecord] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError:
            continue
        out[record.name] = record
    return out

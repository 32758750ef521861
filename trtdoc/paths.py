"""Where a build writes: the build folder and the records folder (imported by every command,
so it imports nothing heavy: `trtdoc render` with nothing to do must not load the builder)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GATES_DIR = ".gates"
FAILED_DIR = ".failed"
# Engine files by sha256. A record names its engine here; a new engine never replaces the file
# the current record names, so a record and its engine always agree, whatever is interrupted.
ENGINE_STORE = "by-sha256"


@dataclass(frozen=True)
class OutputPaths:
    """Where a build writes. Engines, logs and caches are build products; records are kept."""

    out: Path = Path("build")
    records: Path = Path("records")

    def engine(self, name: str) -> Path:
        """The engine under its name: a link to the file its record names, for scripts."""
        return self.out / "engines" / f"{name}.engine"

    def engine_file(self, sha256: str) -> Path:
        """An engine under its content's name: what a record names, written before it."""
        return self.out / "engines" / ENGINE_STORE / f"{sha256}.engine"

    def log(self, name: str) -> Path:
        return self.out / "logs" / f"{name}.build.log"

    def failed_log(self, name: str) -> Path:
        return self.out / "logs" / f"{name}.failed.log"

    def record(self, name: str) -> Path:
        return self.records / f"{name}.json"

    def gate(self, name: str) -> Path:
        """The figures of the latest failed accuracy gate, kept beside the last good record."""
        return self.records / GATES_DIR / f"{name}.json"

    def failed(self, name: str) -> Path:
        """The latest failure of a spec, kept until that spec builds again or is gone."""
        return self.records / FAILED_DIR / f"{name}.json"

    @property
    def cache(self) -> Path:
        return self.out / "cache"


def write_cache_file(file: Path, text: str) -> None:
    """Write ``text`` to the cache file ``file`` (a temporary file renamed into place, no
    fsync: a cache lost to a crash is only computed again); a failure to write is ignored."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)
    except OSError:
        pass

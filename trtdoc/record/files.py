"""Record files on disk: reading them safely (size-capped, never a FIFO, named after their
engine), writing them atomically, and the accuracy-gate files beside them."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from trtdoc.errors import RecordError
from trtdoc.inspect.json_stream import JsonStream
from trtdoc.record.codec import FIX, excerpt, record_from_json, record_from_stream
from trtdoc.record.stream import SCAN
from trtdoc.record.text import record_chunks
from trtdoc.record.types import EngineRecord, FailedBuild, FailedGate
from trtdoc.typed import decode_json

# The largest record read. A built engine's record is tens of kB to tens of MB; an import of
# trtexec's export of 10^6 layers (bench/import_scale.py) writes about 1 GB, which renders
# (slowly: ~7 GB of memory) with this limit. A file past it was not written by trtdoc, and
# reading it whole could exhaust memory.
MAX_RECORD_BYTES = 1280 * 1024 * 1024
# Records up to this size are read whole (pydantic holds about ten times the text while it
# decodes it); larger ones are read as a stream, one layer at a time.
WHOLE_RECORD_BYTES = 16 * 1024 * 1024
# The figures of a failed accuracy gate: a few kB per output.
MAX_GATE_BYTES = 16 * 1024 * 1024


def write_record(path: Path, record: EngineRecord) -> None:
    """``write_atomic(path, dumps(record))`` without the whole text in memory at once."""
    write_atomic(path, record_chunks(record))



def read_record(path: Path) -> EngineRecord:
    """Read one record file (at most :data:`MAX_RECORD_BYTES`); see :func:`record_from_json`.

    A record is named after its engine: a file whose ``name`` is another engine's (an edited
    record) is refused, so it can neither stand in for that engine nor replace its page.
    """
    record = read_record_file(path)
    if record.name != Path(path).stem:
        raise RecordError(f"name: {excerpt(record.name)} is not this file's engine "
                          f"{Path(path).stem!r} (was the record edited?); {FIX}", path=path)
    return record


def read_record_file(path: Path) -> EngineRecord:
    """The record in the file ``path``, whatever the file is called.

    Only a regular file is read (a FIFO, socket or device is refused before it is opened, and
    opened without blocking should it become one); a file of up to :data:`WHOLE_RECORD_BYTES`
    is read whole, a larger one as a stream (:func:`record_from_stream`), so memory stays
    near the decoded record's own.
    """
    import stat

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise RecordError(_not_regular(mode), path=path)
        # O_NONBLOCK: a FIFO put in its place since must not hang the run.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise RecordError(_not_regular(st.st_mode), path=path)
            if st.st_size > MAX_RECORD_BYTES:
                raise RecordError(_too_big(st.st_size), path=path)
            if st.st_size > WHOLE_RECORD_BYTES:
                return record_from_stream(JsonStream("record", None, f=f, limit=MAX_RECORD_BYTES,
                                                     scan=SCAN), path=path)
            # Read one byte past the limit: a file that grows is caught too.
            raw = f.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        raise RecordError("no such record file; give the path of a records/<name>.json",
                          path=path) from None
    except OSError as exc:
        raise RecordError(f"cannot read record ({exc.strerror or exc})", path=path) from None
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(_too_big(len(raw)), path=path)
    return record_from_json(raw, path=path)


def read_records(folder: Path) -> list[EngineRecord]:
    """Every record in ``folder``, sorted by name.

    The first bad file, in file-name order, raises its :class:`RecordError` naming that file.
    """
    if not folder.is_dir():
        return []
    return sorted((read_record(p) for p in sorted(folder.glob("*.json"))),
                  key=lambda r: r.name)


def _not_regular(mode: int) -> str:
    import stat

    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a file")
    return (f"{kind}, not a regular file, so not a record; give the path of a record file "
            "(records/<name>.json), or remove it from the records folder")


def _too_big(size: int) -> str:
    mib = 1024 * 1024
    return (f"{size / mib:.1f} MiB is larger than any record trtdoc writes (the limit is "
            f"{MAX_RECORD_BYTES // mib} MiB), so it is not read; {FIX}")



def read_gates(folder: Path) -> dict[str, FailedGate]:
    """The latest failed accuracy gate of each engine (``records/.gates/<name>.json``).

    A gate file that cannot be read or does not decode (or names another engine) is left out:
    the page then shows the last good build alone.
    """
    gates: dict[str, FailedGate] = {}
    gate_dir = folder / ".gates"
    if not gate_dir.is_dir():
        return gates
    for path in sorted(gate_dir.glob("*.json")):
        try:
            if not path.is_file() or path.stat().st_size > MAX_GATE_BYTES:
                continue  # not one trtdoc wrote: a FIFO would hang, a huge one would fill RAM
            gate = decode_json(FailedGate, path.read_bytes())
        except (OSError, ValueError, RecursionError):
            continue
        if gate.name == path.stem:
            gates[gate.name] = gate
    return gates


def read_failures(folder: Path) -> dict[str, FailedBuild]:
    """The latest failure of each spec that has not built since (``records/.failed/``).

    Untrusted: a file that cannot be read, does not decode or names another engine is left
    out, as a bad gate file is.
    """
    failures: dict[str, FailedBuild] = {}
    failed_dir = folder / ".failed"
    if not failed_dir.is_dir():
        return failures
    for path in sorted(failed_dir.glob("*.json")):
        try:
            if not path.is_file() or path.stat().st_size > MAX_GATE_BYTES:
                continue
            failure = decode_json(FailedBuild, path.read_bytes())
        except (OSError, ValueError, RecursionError):
            continue
        if failure.name == path.stem:
            failures[failure.name] = failure
    return failures


def write_atomic(path: Path, data: bytes | str | Iterable[bytes | str]) -> None:
    """Write via a temporary file in the same folder and rename, so a kill leaves no half file.

    ``data`` may come in pieces (an iterable of them), so no piece need hold all of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = [data] if isinstance(data, (bytes, bytearray, memoryview, str)) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are shared build products
        with os.fdopen(fd, "wb") as f:
            for piece in pieces:
                f.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def python_version() -> str:
    return sys.version.split()[0]


def holds_bytes(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` already holds exactly ``data`` (False if unreadable)."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def write_changed(files: Iterable[tuple[Path, bytes]]) -> tuple[list[Path], list[Path]]:
    """Write each file whose bytes differ (atomically); the paths written and unchanged."""
    written, unchanged = [], []
    for path, data in files:
        if holds_bytes(path, data):
            unchanged.append(path)
        else:
            write_atomic(path, data)
            written.append(path)
    return written, unchanged

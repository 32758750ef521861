"""The content-addressed engine store: ``engines/<sha256>`` files, the named links
``engines/<name>.engine`` that point at them, and deleting the stored engines no record names."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from trtdoc.build.deferred import Background
from trtdoc.errors import RecordError, TrtdocError, os_error_message
from trtdoc.model import file_sha256
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord

# A stored engine's name, and what a record's engine sha256 must look like.
SHA256 = re.compile(r"[0-9a-f]{64}")

# Where a made engine goes: ``store(plan, previous_sha) -> (file, sha256)``. A local build
# writes it to the engine store; a Ray task only hashes it and hands the bytes to the driver.
Store = Callable[[memoryview, "str | None"], tuple[Path, str]]


def store_engine(paths: OutputPaths, plan: memoryview, previous_sha: str | None = None
                 ) -> tuple[Path, str]:
    """Write ``plan`` to the engine store under its sha256; return the file and the sha256.

    Hashing (CPU) and writing (disk) a plan of hundreds of MB each take a while; hashlib
    releases the GIL, so they overlap: the bytes go to a temporary file that is renamed once
    its hash is known. A rebuild that reproduces the previous engine (``previous_sha``, stored
    intact, of the same size) is not written again: the write and its fsync were 0.2 s of a
    1.3 s resnet18 build.
    """
    import tempfile

    if previous_sha and SHA256.fullmatch(previous_sha):
        stored = paths.engine_file(previous_sha)
        try:
            same_size = stored.is_file() and stored.stat().st_size == len(plan)
        except OSError:
            same_size = False
        if same_size:
            # The plan's hash (needed anyway) and the stored file's, side by side: hashlib
            # releases the GIL, so on two cores this costs one hash, not two (measured: a byte
            # compare of 320 MB is slower than its sha256 here).
            hashing = Background(lambda: hashlib.sha256(plan).hexdigest())
            stored_sha = file_sha256(stored)
            if stored_sha == previous_sha and hashing.result() == previous_sha:
                return stored, previous_sha

    store = paths.engine_file("0" * 64).parent
    try:
        store.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".engine.", suffix=".tmp", dir=store)
    except OSError as exc:
        raise TrtdocError(os_error_message(exc, store)) from None
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(hashlib.sha256(plan).hexdigest()))
    hasher.start()
    try:
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; engines are shared
            with os.fdopen(fd, "wb") as f:
                f.write(plan)
                f.flush()
                os.fsync(f.fileno())
        finally:
            hasher.join()
        target = paths.engine_file(digest[0])
        if target.is_file() and file_sha256(target) == digest[0]:
            Path(tmp).unlink()  # stored already (an identical engine): keep its links
        else:
            os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TrtdocError(os_error_message(exc, store)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, digest[0]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def link_engine(paths: OutputPaths, name: str, sha256: str) -> None:
    """Point ``engines/<name>.engine`` at the stored engine (a hard link, else a copy)."""
    import shutil
    import tempfile

    source = paths.engine_file(sha256)
    target = paths.engine(name)
    try:
        if target.is_file() and os.path.samefile(source, target):
            return
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(source, tmp)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                raise
            shutil.copyfile(source, tmp)  # a file system without hard links
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def engine_intact(paths: OutputPaths, record: EngineRecord) -> bool:
    """Whether the engine ``record`` names is on disk with the recorded sha256 (then its named
    link is made to point at it). A replaced or damaged engine file means a rebuild."""
    sha = record.engine_sha256 or ""
    if not SHA256.fullmatch(sha):
        return False
    stored = paths.engine_file(sha)
    if not stored.is_file():
        return False
    if file_sha256(stored) != sha:
        stored.unlink()  # damaged: the rebuild writes it again
        return False
    link_engine(paths, record.name, sha)
    return True


def collect_engines(paths: OutputPaths, released: set[str]) -> None:
    """Delete the stored engines in ``released`` that no record names.

    Only engines this run wrote or replaced are candidates: another records folder sharing
    this build folder may name any other. If a record cannot be read, nothing is deleted: it
    may name one of them.
    """
    released = {sha for sha in released if SHA256.fullmatch(sha)}
    if not released:
        return
    named: set[str] = set()
    for path in paths.records.glob("*.json") if paths.records.is_dir() else ():
        try:
            named.add(read_record(path).engine_sha256 or "")
        except RecordError:
            return
    for sha in released - named:
        with contextlib.suppress(OSError):
            paths.engine_file(sha).unlink()

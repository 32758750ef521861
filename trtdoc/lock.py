"""One lock per project, around everything a command writes.

``trtdoc build``, ``render`` and ``import`` each write some of: the build folder (engines,
logs, caches), ``records/`` and the site's pages. Each of those folders gets a lock file, and a
command takes the locks of every folder it writes, in one fixed order (so two commands never
wait on each other crosswise), before it writes anything. The locks are ``filelock`` locks:
``fcntl`` on POSIX and ``msvcrt`` on Windows, both released by the operating system when the
holder dies, so a SIGKILLed build never leaves a project locked.

While the locks are held, leftovers of writes that a kill interrupted (``.<name>.<random>.tmp``
from :func:`trtdoc.record.files.write_atomic`) are swept from those folders: nobody else can be
writing them.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from trtdoc.errors import TrtdocError, display_path, os_error_message

LOCK_NAME = ".trtdoc.lock"
_OWNER_NAME = ".trtdoc.lock.owner"

# What write_atomic's mkstemp leaves behind: "." + file name + "." + 8 random characters + ".tmp".
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")

# Folders this process holds, with how often: a command that locks build/, records/ and site/
# can call library functions that lock build/ and records/ again.
_HELD: dict[str, int] = {}


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


@contextmanager
def project_lock(folders: Sequence[Path], command: str, *, sweep: bool = True
                 ) -> Iterator[None]:
    """Hold the lock of every folder in ``folders`` (created if missing) for the block.

    Another trtdoc command holding any of them is a :class:`TrtdocError` naming it; nothing is
    written then. Stale temporaries in the newly locked folders are removed (unless not
    ``sweep``: a Triton repository is shared, and its manifest says what is trtdoc's).
    """
    from filelock import FileLock, Timeout

    wanted = sorted({_key(f): f for f in folders}.items())
    with ExitStack() as stack:
        for key, folder in wanted:
            if key in _HELD:
                _HELD[key] += 1
                stack.callback(_release_count, key)
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
                # filelock reports a lock file it cannot create as held by someone (Timeout):
                # create it first, so /proc/self or a read-only folder gets its true reason.
                os.close(os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644))
                lock = FileLock(str(folder / LOCK_NAME), timeout=0, is_singleton=False)
                lock.acquire()
            except Timeout:
                raise TrtdocError(
                    f"{display_path(folder)} is in use by another trtdoc command "
                    f"({_owner(folder)}); wait for it to finish, then run this again") from None
            except OSError as exc:
                raise TrtdocError(os_error_message(exc, folder)) from None
            stack.callback(lock.release)
            _HELD[key] = 1
            stack.callback(_release_count, key)
            _write_owner(folder, command)
            stack.callback(_clear_owner, folder)
            if sweep:
                remove_stale_temporaries(folder)
        yield


def _release_count(key: str) -> None:
    _HELD[key] -= 1
    if _HELD[key] == 0:
        del _HELD[key]


def _write_owner(folder: Path, command: str) -> None:
    with contextlib.suppress(OSError):  # who holds it is a courtesy; the lock is what counts
        (folder / _OWNER_NAME).write_text(
            f"trtdoc {command}, pid {os.getpid()}, since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime())}\n", encoding="utf-8")


def _clear_owner(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / _OWNER_NAME).unlink(missing_ok=True)


def _owner(folder: Path) -> str:
    try:
        text = (folder / _OWNER_NAME).read_text(encoding="utf-8", errors="replace")[:200]
    except OSError:
        return "another process"
    return text.strip() or "another process"


def remove_stale_temporaries(folder: Path) -> int:
    """Delete leftovers of writes killed mid-way, below ``folder`` (only under the lock)."""
    if not folder.is_dir():
        return 0
    removed = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in ("node_modules",)]
        for name in filenames:
            if _TEMPORARY.match(name):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except OSError:
                    pass
    return removed

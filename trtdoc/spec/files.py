"""Reading a checked-in file safely: refuse what is not a plain, small, UTF-8 file before parsing.

Spec files, ``deploy.yaml`` and ``trtdoc.yml`` are untrusted: a symlink loop, a FIFO, a huge
or binary file is named in one error line and never read further.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from trtdoc.errors import SpecError
from trtdoc.spec.limits import MAX_SPEC_BYTES
from trtdoc.spec.locations import UnresolvableFileError


def _size_words(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def path_problem(path: Path, *, folder_ok: bool = False) -> tuple[str, str] | None:
    """``(what is wrong, how to fix)`` if ``path`` cannot be read as a plain file (or, with
    ``folder_ok``, a folder), else None.

    Never blocks: a FIFO or a device is refused from its ``stat``, before anything opens it.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("is a symlink loop", "point the symlink at a real file")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(path):
                return ("is a symlink to nothing", "point the symlink at a real file")
            return ("does not exist", "fix the path; it is relative to the spec file")
        return (f"cannot be read ({exc.strerror})", "fix the path or the file's permissions")
    except ValueError:
        return ("is not a usable path", "fix the path")
    if stat.S_ISDIR(st.st_mode):
        if folder_ok:
            return None if os.access(path, os.R_OK | os.X_OK) else (
                "cannot be read (permission denied)", "make the folder readable")
        return ("is a folder, not a file", "point it at a file")
    if not stat.S_ISREG(st.st_mode):
        return ("is not a regular file (a FIFO, a device or a socket)", "point it at a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return (f"cannot be read ({exc.strerror})", "make the file readable")
    os.close(fd)
    return None


def file_error(path: Path, message: str, hint: str = "", line: int | None = None,
               col: int | None = None) -> SpecError:
    """A problem with the file as a whole; a path that cannot be resolved is shown as given."""
    cls = UnresolvableFileError if is_symlink_loop(path) else SpecError
    return cls(message, path=path, line=line, col=col, hint=hint)


def is_symlink_loop(path: Path) -> bool:
    """Whether ``path`` is (or passes through) a symlink loop, or cannot be a path at all."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    except ValueError:
        return True
    return False


# How a file-level problem's fix reads, per kind of file (specs, deploy.yaml, trtdoc.yml).
FILE_HINTS = {
    "spec": {"missing": "pass a spec file or a folder of *.yaml specs",
             "size": "a spec is a few hundred bytes: keep data in files it names "
                     "(calibration.data, accuracy.data)",
             "encoding": "save the spec as UTF-8",
             "depth": "a spec is a few levels deep; flatten it"},
    "deployment file": {"missing": "pass the deployment file, as `--deploy deploy.yaml`",
                        "size": "a deployment file is a few kilobytes: use globs and tags "
                                "in `engines:` rather than listing every engine",
                        "encoding": "save the deployment file as UTF-8",
                        "depth": "a deployment file is a few levels deep; flatten it"},
    "project file": {"missing": "pass the project file, as `--project trtdoc.yml`",
                     "size": "a project file is a few lines: it names folders",
                     "encoding": "save the project file as UTF-8",
                     "depth": "a project file is one level deep; flatten it"},
    "mkdocs.yml": {"missing": "create it, or name it with `mkdocs:` in trtdoc.yml",
                   "size": "a mkdocs.yml is a few kilobytes",
                   "encoding": "save mkdocs.yml as UTF-8",
                   "depth": "a mkdocs.yml is a few levels deep; flatten it"},
}


def read_text(path: Path, errors: list[SpecError], kind: str = "spec") -> str | None:
    """The file's text, or None with one line in ``errors``; at most MAX_SPEC_BYTES are read."""
    problem = path_problem(path)
    if problem is not None:
        message, hint = problem
        if message == "does not exist":
            hint = FILE_HINTS[kind]["missing"]
        errors.append(file_error(path, message, hint))
        return None
    limit = _size_words(MAX_SPEC_BYTES)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # swapped since path_problem looked
                errors.append(file_error(path, "is not a regular file", "point it at a file"))
                return None
            if st.st_size > MAX_SPEC_BYTES:
                errors.append(file_error(
                    path, f"the file is {_size_words(st.st_size)}, more than the {limit} a "
                    f"{kind} may be; nothing was parsed", FILE_HINTS[kind]["size"]))
                return None
            raw = f.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        errors.append(file_error(path, f"cannot read the file ({exc.strerror})",
                                 "fix the file's permissions"))
        return None
    if len(raw) > MAX_SPEC_BYTES:  # it grew while being read
        errors.append(file_error(path, f"the file is more than the {limit} a {kind} may be; "
                                 "nothing was parsed", "keep data in the files it names"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        errors.append(file_error(
            path, "the file is not UTF-8 text; nothing from it is shown",
            FILE_HINTS[kind]["encoding"], line=line, col=col))
        return None


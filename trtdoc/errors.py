"""The one exception hierarchy of trtdoc.

The library raises these and never prints or exits; ``trtdoc.cli`` turns each into one line on
stderr and exit code 1. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def display_path(path: Path | str) -> str:
    """Show ``path`` relative to the working directory when it lies below it."""
    import os

    p = Path(path)
    try:
        # Not resolved: a symlinked spec is shown by the name the user gave it, not its target's.
        return str(Path(os.path.abspath(p)).relative_to(os.getcwd()))
    except (ValueError, OSError):  # elsewhere; no working directory
        return str(p)


class TrtdocError(Exception):
    """Root of every error trtdoc reports to a user."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive pickle's default ``cls(*args)``; errors
        # travel from Ray workers to the driver, so they are rebuilt from their attributes.
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(cls: type[TrtdocError], args: tuple[Any, ...],
             state: dict[str, Any]) -> TrtdocError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class SpecError(TrtdocError):
    """One problem in one spec file, addressed as ``file:line:col: key: message. Hint: fix``."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str,
        line: int | None = None,
        col: int | None = None,
        key: str = "",
        hint: str = "",
    ) -> None:
        self.message = message
        self.path = Path(path)
        self.line = line
        self.col = col
        self.key = key
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        if self.hint:
            text += f". Hint: {self.hint}"
        return text


class SpecErrors(TrtdocError):
    """Every problem found in a set of specs, reported together (one line each)."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class BackendUnavailableError(TrtdocError):
    """The requested TensorRT flavour cannot be imported, or lacks a requested feature."""

    def __init__(self, message: str, *, setting: str = "") -> None:
        self.setting = setting
        super().__init__(message)


class BuildError(TrtdocError):
    """A builder failure for one engine, with the setting most likely at fault."""

    def __init__(self, message: str, *, engine: str, spec_path: Path | str | None = None,
                 setting: str = "", line: int | None = None,
                 details: Sequence[str] = ()) -> None:
        self.message = message
        self.engine = engine
        self.spec_path = Path(spec_path) if spec_path is not None else None
        self.setting = setting
        self.line = line
        self.details = tuple(details)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = display_path(self.spec_path) if self.spec_path is not None else self.engine
        if self.spec_path is not None and self.line is not None:
            where += f":{self.line}"
        head = f"{where}: {self.setting}: " if self.setting else f"{where}: "
        return f"{head}{self.message}"


class GateError(BuildError):
    """The converted model failed its accuracy gate; ``report`` keeps the figures measured
    (the :class:`~trtdoc.precision.accuracy.AccuracyReport`, which is not imported here: the
    precision package imports this module)."""

    def __init__(self, message: str, *, engine: str, report: Any,
                 violations: Sequence[str], **kwargs: Any) -> None:
        self.report = report
        self.violations = tuple(violations)
        super().__init__(message, engine=engine, **kwargs)


class RecordError(TrtdocError):
    """A build record that cannot be read, or does not match the schema."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{display_path(self.path)}: {message}" if self.path else message)


class FutureRecordError(RecordError):
    """A record written by a newer trtdoc (its schema_version is above the one this trtdoc
    reads): upgrading trtdoc reads it, rebuilding it would throw the newer facts away."""


class InspectError(TrtdocError):
    """Engine information that cannot be parsed (build log, inspector JSON, trtexec exports)."""

    def __init__(self, message: str, *, source: Path | str | None = None) -> None:
        self.source = source
        super().__init__(f"{display_path(source)}: {message}" if source else message)


class RenderError(TrtdocError):
    """A template that failed to render."""

    def __init__(self, message: str, *, template: str) -> None:
        self.template = template
        super().__init__(f"{template}: {message}")


# What a file-system fault means to a user, and what to do about it.
_OS_FAULTS = {
    "ENOSPC": ("no space left on the device", "free some space there"),
    "EDQUOT": ("the disk quota is used up", "free some space there"),
    "EROFS": ("the file system is read-only", "make it writable, or point the command at "
              "another folder"),
    "EFBIG": ("the file is larger than this process may write (ulimit -f)",
              "raise the limit with `ulimit -f unlimited`"),
    "EACCES": ("permission denied", "make it writable for this user"),
    "EPERM": ("operation not permitted", "make it writable for this user"),
    "ELOOP": ("the path is a symbolic-link loop", "point it at a real folder"),
    "ENOTDIR": ("a part of the path is a file, not a folder", "remove or rename that file"),
    "EISDIR": ("a folder stands where a file should be written", "remove or rename that folder"),
    "EEXIST": ("a file stands where a folder should be", "move that file away"),
}


def os_error_message(exc: OSError, folder: Path | str, doing: str = "write") -> str:
    """One line for a file-system fault: the folder, what happened, and the fix."""
    import errno

    code = errno.errorcode.get(exc.errno or 0, "")
    what, fix = _OS_FAULTS.get(code, (exc.strerror or str(exc), "check the folder"))
    where = display_path(folder)
    if code in ("EISDIR", "EEXIST", "ENOTDIR", "ELOOP") and exc.filename:
        # The path itself is the problem: name it, not only the folder.
        return (f"cannot {doing} {display_path(exc.filename)!r}: {what} ({code}); {fix}")
    return f"cannot {doing} in {where}: {what} ({code or 'OSError'}); {fix}"

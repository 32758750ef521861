"""Where each value of a YAML file came from (file, line, col), and the errors that point there.

A :class:`Locator` maps key paths to positions, so every problem reads
``file:line:col: key.path: message. Hint: fix``; :func:`sort_errors` puts them in the order a
user fixes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from trtdoc.errors import SpecError
from trtdoc.spec.limits import EXCERPT_CHARS, MAX_PROBLEMS_PER_FILE
from trtdoc.spec.text import excerpt, shown_path

# A key path into a YAML document: mapping keys and list indices, outermost first.
KeyPath = tuple[str | int, ...]

_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]*")


@dataclass(frozen=True)
class Location:
    path: Path
    line: int | None = None
    col: int | None = None


class Locator:
    """Maps key paths to the YAML position (file, line, col) the value came from."""

    def __init__(self, default: Path, values: Mapping[KeyPath, Location] | None = None,
                 keys: Mapping[KeyPath, Location] | None = None) -> None:
        self.default = default
        self.values: dict[KeyPath, Location] = dict(values or {})
        self.keys: dict[KeyPath, Location] = dict(keys or {})

    def find(self, path: KeyPath, *, at_key: bool = False) -> Location:
        """The nearest recorded position for ``path`` (walking up to its parents)."""
        table = self.keys if at_key else self.values
        for n in range(len(path), -1, -1):
            if path[:n] in table:
                return table[path[:n]]
            if path[:n] in self.values:
                return self.values[path[:n]]
        return Location(self.default, 1, 1)

    def error(self, path: KeyPath, message: str, hint: str = "", *, at_key: bool = False
              ) -> SpecError:
        loc = self.find(path, at_key=at_key)
        return SpecError(message, path=loc.path, line=loc.line, col=loc.col,
                         key=format_key(path), hint=hint)


def format_key(path: KeyPath) -> str:
    """``('profiles', 0, 'input', 'min')`` → ``profiles[0].input.min``.

    A key that is not plain (spaces, control characters, more than 40 characters) shows as
    an :func:`excerpt`, since keys come from the file.
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = str(part)
        if len(text) > EXCERPT_CHARS or not _PLAIN_KEY_RE.fullmatch(text):
            text = excerpt(part)
        out += f".{text}" if out else text
    return out


class UnresolvableFileError(SpecError):
    """A problem with a path that cannot be resolved (a symlink loop): shown as given."""

    def __str__(self) -> str:
        where = shown_path(self.path)
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return text + (f". Hint: {self.hint}" if self.hint else "")


class MoreProblems(SpecError):
    """Stands for ``count`` problems of one file that are not shown (see
    ``MAX_PROBLEMS_PER_FILE``)."""

    def __init__(self, path: Path | str, count: int) -> None:
        self.count = count
        super().__init__(f"{count} more problems", path=path)

    def __str__(self) -> str:
        return f"… and {self.count} more problems in {shown_path(self.path)}"


def sort_errors(errors: Iterable[SpecError]) -> list[SpecError]:
    """File order, then line order: the order a user fixes them in. Each line once: specs that
    share a defaults file, or variants that share a line, would repeat the same mistake.

    At most MAX_PROBLEMS_PER_FILE lines per file, then one ``… and K more problems`` line
    (which earlier rounds' :class:`MoreProblems` lines add to), so sorting again is safe.
    """
    hidden: dict[str, int] = {}
    unique: dict[str, SpecError] = {}
    for e in errors:
        if isinstance(e, MoreProblems):
            hidden[str(e.path)] = hidden.get(str(e.path), 0) + e.count
        else:
            unique.setdefault(str(e), e)
    ordered = sorted(unique.values(),
                     key=lambda e: (str(e.path), e.line or 0, e.col or 0, e.key))
    out: list[SpecError] = []
    shown: dict[str, int] = {}
    for e in ordered:
        file = str(e.path)
        if shown.get(file, 0) < MAX_PROBLEMS_PER_FILE:
            shown[file] = shown.get(file, 0) + 1
            out.append(e)
        else:
            hidden[file] = hidden.get(file, 0) + 1
    for file, count in hidden.items():
        last = max((i for i, e in enumerate(out) if str(e.path) == file), default=None)
        more = MoreProblems(file, count)
        if last is None:
            out.append(more)
        else:
            out.insert(last + 1, more)
    return out

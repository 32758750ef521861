"""Text from a spec file, shown safely in an error line: short, repr-style, printable."""

from __future__ import annotations

import os
import reprlib
from pathlib import Path
from typing import Any

from trtdoc.spec.limits import EXCERPT_CHARS

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = EXCERPT_CHARS
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 4


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as at most ``limit`` characters, repr-style (control characters escaped).

    Text from a spec file (an unknown key, a bad value) goes into error lines only this way.
    """
    if isinstance(value, str):
        text = repr(value[: limit + 1])
        if len(value) <= limit and len(text) <= limit:
            return text
        n = min(len(value), limit)
        while n > 0 and len(repr(value[:n])) + 3 > limit:
            n -= 1
        return repr(value[:n]) + "..."
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_path(path: Path | str) -> str:
    """``display_path`` that never fails: a symlink loop cannot be resolved, and pathlib's
    ``resolve`` raises on one (Python 3.11), so this resolves with ``os.path.realpath``."""
    p = str(path)
    try:
        real = os.path.realpath(p)
        rel = os.path.relpath(real, os.path.realpath(os.getcwd()))
    except (OSError, ValueError):
        return excerpt(p, 200) if not p.isprintable() else p
    shown = rel if not rel.startswith(os.pardir) else p
    return shown if shown.isprintable() else excerpt(shown, 200)


def short_number(value: int) -> str:
    """An integer from a spec file, cut to ``EXCERPT_CHARS`` characters (it may have
    thousands of digits)."""
    text = str(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."

"""Engine names: what a spec's ``name`` (and a Triton model name) may be, and its JSON Schema.

Names become file names and page slugs.
"""

from __future__ import annotations

import re
from typing import Any

from trtdoc.spec.json_schema import any_case
from trtdoc.spec.text import excerpt

# Names become file names and page slugs: they start and end with a letter or digit (so
# "tiny", "tiny-" and "tiny." cannot share engines/tiny.md), fit a file name, and match whole
# (``$`` would accept a trailing newline).
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")
# engines/index.md is the engine index.
RESERVED_NAMES = frozenset({"index"})

NAME_SCHEMA: dict[str, Any] = {
    "type": "string", "pattern": f"^{_NAME_RE.pattern}$",
    "not": {"pattern": "^(?:" + "|".join(any_case(n) for n in sorted(RESERVED_NAMES)) + ")$"}}


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an engine, or None."""
    if not _NAME_RE.fullmatch(name):
        return (f"{excerpt(name)} is not a valid name; use "
                "letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
                "at most 128 characters (it becomes the page slug and file name)")
    if name.lower() in RESERVED_NAMES:
        return f"{name!r} is reserved (engines/{name}.md is the engine index); choose another"
    return None


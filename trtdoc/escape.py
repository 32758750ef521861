"""Escaping for the three places untrusted text lands on a page.

Layer, tensor and ONNX node names come from the model, and a model may come from anyone. A
name can hold ``|`` (which would split a table row), ``<script>`` (raw HTML passes through
Markdown), backticks, emphasis markers, link brackets, quotes and newlines. Each context has
its own rules, so each has its own filter, and templates pick one per use:

* :func:`md_cell`: text in a Markdown table cell or paragraph. Safe for both
  Python-Markdown (what mkdocs renders) and CommonMark/GFM (markdown-it-py, GitHub).
* :func:`code_cell`: inline code, in a table cell or in text.
* :func:`mermaid_label`: a label inside ``"..."`` in a Mermaid diagram. Node ids are generated
  (``n0``, ``n1``...) and never made from names.

Everything here is a pure function of its input, so pages stay byte-for-byte reproducible.
"""

from __future__ import annotations

import re
from typing import Any

# C0/C1 control characters other than tab and newline. Python-Markdown uses \x02/\x03 as its
# own placeholder markers, so a name holding them could smuggle in stashed HTML; they go.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")

# Numeric character references decode to the literal character in both Markdown dialects
# *after* block structure (table rows) and inline syntax (emphasis, links, code) are parsed,
# so the character shows but never acts. Order matters: "&" first.
_CELL_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "[": "&#91;",
    "]": "&#93;",
    "\\": "&#92;",
    "~": "&#126;",
    "{": "&#123;",
    "}": "&#125;",
    "#": "&#35;",
}
_LEADING_NUMBER = re.compile(r"^(\d+)([.)])(?=\s|$)")
_CELL_RE = re.compile("|".join(re.escape(k) for k in _CELL_ESCAPES))

# Mermaid decodes "#name;" and "#123;" entity codes inside labels; "#" itself must be escaped
# first so a name that contains "#quot;" shows as typed. "%" is escaped because "%%{...}%%"
# is a directive anywhere in a diagram's text.
_MERMAID_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "|": "#124;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "%": "#37;",
    "\\": "#92;",
}
_MERMAID_RE = re.compile("|".join(re.escape(k) for k in _MERMAID_ESCAPES))

ELLIPSIS = "\u2026"


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _NEWLINES.sub(" ", text).replace("\t", " ")
    return _CONTROL.sub("\ufffd", text)


def truncate(value: Any, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    text = _text(value)
    if limit <= 0 or len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)] + ELLIPSIS


def md_cell(value: Any) -> str:
    """Text that renders literally in a Markdown table cell, in any Markdown dialect.

    Newlines become spaces (a table row is one line), control characters become U+FFFD, and
    every character with Markdown or HTML meaning becomes a numeric character reference.
    ``None`` becomes the empty string.
    """
    out = _CELL_RE.sub(lambda m: _CELL_ESCAPES[m.group(0)], _text(value)).strip()
    # At the start of a line these open a list, a setext underline or a definition.
    if out[:1] in ("-", "+", "=", ":"):
        out = f"&#{ord(out[0])};{out[1:]}"
    return _LEADING_NUMBER.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", out, count=1)


def md_text(value: Any) -> str:
    """Text that renders literally in a paragraph or heading (the same rules as a cell)."""
    return md_cell(value)


def code_cell(value: Any) -> str:
    """``value`` as inline code, safe in a table cell and in running text.

    Plain values use a backtick code span whose fence is longer than any run of backticks
    inside, padded with a space when the value starts or ends with a backtick. A value with
    ``|`` becomes ``<code>`` with character references instead: GFM splits table cells on a
    pipe even inside a code span, and Python-Markdown shows a backslash-escaped pipe in code
    literally, so no code span renders a pipe correctly in both.
    """
    text = _text(value)
    if not text.strip():
        return ""
    if "|" in text:
        return f"<code>{md_cell(text)}</code>"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def mermaid_label(value: Any, limit: int = 0) -> str:
    """Text for a double-quoted Mermaid label: ``n3["<this>"]``.

    Cut to ``limit`` characters first (0: no limit) so that an entity code is never cut in
    half. Newlines become spaces; quotes, pipes, angle brackets, ``#``, ``&``, ``%`` and
    backticks become Mermaid entity codes.
    """
    text = truncate(value, limit) if limit else _text(value)
    return _MERMAID_RE.sub(lambda m: _MERMAID_ESCAPES[m.group(0)], text).strip()


def slug(value: Any) -> str:
    """A safe file or anchor name: letters, digits, ``.``, ``_`` and ``-`` only."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", _text(value)).strip("-.")
    return out or "unnamed"

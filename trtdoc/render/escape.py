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
* :func:`code_block`: a fenced code block whose fence nothing inside can close.
* :func:`front_matter_str`: a YAML front-matter string (mkdocs themes print page titles raw).
* :func:`autolink`: ``<https://...>`` for a URL of safe characters only.

Every filter returns :class:`markupsafe.Markup`: the template environment escapes any other
value for a Markdown cell or text (its ``finalize`` hook), so a value a template forgot to
filter is still escaped, and a filtered one is not escaped twice. The filters accept a value
of any type (a number, ``None``, a list, a huge int, NaN) and never raise: a hand-edited
record must not be able to break or inject into a page.

Everything here is a pure function of its input, so pages stay byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from markupsafe import Markup

# C0/C1 control characters other than tab and newline. Python-Markdown uses \x02/\x03 as its
# own placeholder markers, so a name holding them could smuggle in stashed HTML; they go.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
# Every character one_line changes: a name without any is returned as it is, which is most
# names, and saves a layer table of 200,000 rows ~1.5 million substitutions.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

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


def plain(value: Any) -> str:
    """``str(value)`` that never raises; ``None`` is the empty string.

    An int too long for ``str`` (Python refuses more than 4300 digits), or a container that
    holds one, is described instead. Other errors (Jinja's StrictUndefined) propagate.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return str.__str__(value)  # a Markup or other subclass as its plain text
    try:
        return str(value)
    except ValueError:
        if isinstance(value, int):
            return f"an integer of {value.bit_length()} bits"
        return f"a {type(value).__name__} holding an integer too long to print"


def one_line(value: Any) -> str:
    """:func:`plain` on one line: newlines and tabs become spaces, controls U+FFFD."""
    if type(value) is str and _NOT_ONE_LINE.search(value) is None:
        return value
    text = _NEWLINES.sub(" ", plain(value)).replace("\t", " ")
    return _CONTROL.sub("\ufffd", text)


_text = one_line


def is_one_line(text: str) -> bool:
    """Whether :func:`one_line` would return ``text`` (a str) unchanged."""
    return _NOT_ONE_LINE.search(text) is None


def is_number(value: Any) -> bool:
    """A real number a formatter may take: an int (not a bool) or a finite float."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value == value and value not in (
        float("inf"), float("-inf"))


def shown(fmt: Callable[[Any], str], value: Any, *, none: bool = True) -> str:
    """``fmt(value)`` for a number (and for ``None`` when ``none``), else the value as text.

    Formatters like ``f"{n:,}"`` raise on a string and turn NaN into nonsense; a wrong-typed
    value from a hand-edited record is shown as it is instead (still to be escaped by the
    caller), never a crash.
    """
    if is_number(value) or (none and value is None):
        try:
            return fmt(value)
        except (ArithmeticError, ValueError, TypeError):
            pass  # 10**400 bytes: too large for a float division
    return one_line(value)


def truncate(value: Any, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    text = _text(value)
    if limit <= 0 or len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)] + ELLIPSIS


def md_cell(value: Any) -> Markup:
    """Text that renders literally in a Markdown table cell, in any Markdown dialect.

    Newlines become spaces (a table row is one line), control characters become U+FFFD, and
    every character with Markdown or HTML meaning becomes a numeric character reference.
    ``None`` becomes the empty string.
    """
    out = _CELL_RE.sub(lambda m: _CELL_ESCAPES[m.group(0)], _text(value)).strip()
    # At the start of a line these open a list, a setext underline or a definition.
    if out[:1] in ("-", "+", "=", ":"):
        out = f"&#{ord(out[0])};{out[1:]}"
    return Markup(_LEADING_NUMBER.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", out,
                                      count=1))


def md_text(value: Any) -> Markup:
    """Text that renders literally in a paragraph or heading (the same rules as a cell)."""
    return md_cell(value)


def code_cell(value: Any) -> Markup:
    """``value`` as inline code, safe in a table cell and in running text.

    Plain values use a backtick code span whose fence is longer than any run of backticks
    inside, padded with a space when the value starts or ends with a backtick. A value with
    ``|`` becomes ``<code>`` with character references instead: GFM splits table cells on a
    pipe even inside a code span, and Python-Markdown shows a backslash-escaped pipe in code
    literally, so no code span renders a pipe correctly in both.
    """
    text = _text(value)
    if not text.strip():
        return Markup("")
    if "|" in text:
        return Markup(f"<code>{md_cell(text)}</code>")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ")) else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def mermaid_label(value: Any, limit: int = 0) -> Markup:
    """Text for a double-quoted Mermaid label: ``n3["<this>"]``.

    Cut to ``limit`` characters first (0: no limit) so that an entity code is never cut in
    half. Newlines become spaces; quotes, pipes, angle brackets, ``#``, ``&``, ``%`` and
    backticks become Mermaid entity codes.
    """
    text = truncate(value, limit) if limit else _text(value)
    return Markup(_MERMAID_RE.sub(lambda m: _MERMAID_ESCAPES[m.group(0)], text).strip())


def slug(value: Any) -> Markup:
    """A safe file or anchor name: letters, digits, ``.``, ``_`` and ``-`` only."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", _text(value)).strip("-.")
    return Markup(out or "unnamed")


_BLOCK_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_BLOCK_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")


def code_block(value: Any, lang: str = "") -> Markup:
    """``value`` as a fenced code block that nothing inside can close or break out of.

    The fence is a backtick run longer than any inside the text (superfences and CommonMark
    close a block only on a fence of the same character and at least the same length; a
    ``~~~`` line never closes a backtick fence). Line breaks are normalised to ``\n`` first, as
    Python-Markdown does before it looks for fences, and control characters (its placeholder
    markers among them) become U+FFFD. mkdocs escapes the content as code.
    """
    return fenced(_BLOCK_CONTROL.sub("\ufffd", _BLOCK_NEWLINES.sub("\n", plain(value))), lang)


def fenced(text: str, lang: str = "") -> Markup:
    """:func:`code_block` of ``text`` that is already one line per ``\n`` with no control
    characters (lines of :func:`one_line` text): only the fence is chosen."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0) if "`" in text else 0
    fence = "`" * max(3, longest + 1)
    tag = re.sub(r"[^A-Za-z0-9_+-]", "", plain(lang))
    return Markup(f"{fence}{tag}\n{text.rstrip(chr(10))}\n{fence}")


def front_matter_str(value: Any) -> Markup:
    """A double-quoted YAML string for front matter such as ``title:``.

    mkdocs-material prints ``page.meta.title`` into ``<title>`` and the navigation without
    escaping, so the title is HTML-escaped *inside* the YAML string; the browser shows the
    characters. It is one line, and JSON string syntax (``<>&'`` as ``\\u`` escapes) is valid
    YAML, so nothing can end the string or the front matter.
    """
    text = one_line(value).strip()
    escaped = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace('"', "&quot;"))
    out = json.dumps(escaped)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        out = out.replace(char, code)
    return Markup(out)


_SAFE_URL = re.compile(r"https://[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+")


def autolink(value: Any) -> Markup:
    """``<https://...>`` for an https URL of URL characters only; anything else as text."""
    text = plain(value)
    if _SAFE_URL.fullmatch(text):
        return Markup(f"<{text}>")
    return md_cell(value)

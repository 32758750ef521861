"""The Jinja filters of the page templates: where a record value becomes the text of a cell.

Untrusted names reach a page only through these: ``cell`` for table cells and text, ``code``
for inline code, ``mlabel`` for Mermaid labels, ``codeblock`` for fenced code (all from
``escape.py``), and ``attr`` (:func:`html_attr`) for a double-quoted HTML attribute, the hover
text of a deployment verdict. Every formatter is total: a string where a number belongs is
shown as text, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import jinja2
from markupsafe import Markup

from trtdoc.render import parameters
from trtdoc.render.bounds import check_items
from trtdoc.render.compatibility import verdict_class
from trtdoc.render.escape import (
    autolink,
    code_block,
    code_cell,
    front_matter_str,
    md_cell,
    mermaid_label,
    one_line,
    plain,
    shown,
    slug,
    truncate,
)
from trtdoc.render.tolerant import BAD_VALUE, as_tuple


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """``(key, value)`` rows from pairs or a mapping; a malformed entry is ``(entry, "")``."""
    entries = list(value.items()) if isinstance(value, Mapping) else as_tuple(value)
    return [tuple(e) if isinstance(e, (list, tuple)) and len(e) == 2 else (e, "")
            for e in entries]


def _join(value: Any, separator: str = "") -> str:
    """Jinja's ``join`` for any value: items as text (``str`` fails on a 5000-digit int),
    refused before it is made when it would be over the bounds of ``bounds.py``."""
    parts = [plain(v) for v in as_tuple(value)]
    sep = str(separator)
    check_items(sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0), "join")
    return sep.join(parts)


def _output_type(layer: Any) -> Any:
    try:
        return layer.output_type
    except BAD_VALUE:
        return ""


def finalize(value: Any) -> Any:
    """Every ``{{ }}`` output: Markup as it is, anything else escaped as Markdown text."""
    return value if isinstance(value, Markup) else md_cell(value)


def _total(fmt: Any, *, none: bool = True) -> Any:
    def format_value(value: Any) -> str:
        return shown(fmt, value, none=none)

    format_value.__doc__ = f"{fmt.__name__}, or the value as text when it is not a number."
    return format_value


def _length(value: Any) -> Any:
    """``len`` of a collection; anything else (a number where a list belongs) as it is."""
    # A Sequence, not just a list or tuple: a record's layers may be read lazily
    # (trtdoc.record.lazy_layers), and their count needs no reading.
    if isinstance(value, (Sequence, Mapping, AbstractSet)) and not isinstance(
            value, (str, bytes, bytearray)):
        return len(value)
    return value


def _shape(dims: Any) -> str:
    if dims is None or isinstance(dims, (list, tuple)):
        try:
            return parameters.format_shape(tuple(one_line(d) for d in dims or ()))
        except (TypeError, ValueError):
            pass
    return one_line(dims)


def html_attr(value: Any, *misused: Any) -> Markup:
    """Text for a double-quoted HTML attribute inside Markdown: ``<span title="<this>">``.

    ``md_cell`` already turns ``<>&|`[]*_\\`` and newlines into character references (the
    table and the inline parsers see none of them); quotes are what an attribute adds.
    This ``attr`` replaces Jinja's attribute lookup of that name: a template that writes
    ``r|attr("name")`` for it gets one line that says so (``misused``), not a TypeError.
    """
    if misused:
        name = _attr_name(misused[0])
        raise jinja2.exceptions.FilterArgumentError(
            "trtdoc's `attr` filter escapes a value for an HTML attribute and takes no "
            f"argument; to read an attribute write `value.{name}`, not "
            f"`value|attr(\"{name}\")` (Jinja's attribute lookup)")
    return Markup(str(md_cell(value)).replace('"', "&quot;").replace("'", "&#39;"))


def _attr_name(name: Any) -> str:
    """``name`` as a template would write it after a dot, where it is a plain identifier."""
    return name if isinstance(name, str) and name.isidentifier() else "name"


def _sentence(value: Any) -> str:
    """One line of text with its first letter in capitals: a reason that starts a sentence."""
    text = one_line(value)
    return text[:1].upper() + text[1:]


def _percent(value: Any) -> str:
    return shown(lambda v: f"{v:.1f}%", value, none=False) if value is not None else ""


def filters() -> dict[str, Any]:
    """The templates' filters by name (a new dict each call)."""
    return dict(
        cell=md_cell,
        code=code_cell,
        mlabel=mermaid_label,
        truncate_text=truncate,
        bytes=_total(parameters.format_bytes),
        bytes_exact=_total(parameters.format_bytes_exact),
        seconds=_total(parameters.format_seconds),
        ms=_total(parameters.format_ms),
        shape=_shape,
        count=_total(parameters.format_count),
        percent=_percent,
        length=_length,
        items=as_tuple,
        pairs=_pairs,
        join=_join,
        output_type=_output_type,
        codeblock=code_block,
        front_matter=front_matter_str,
        autolink=autolink,
        slug=slug,
        attr=html_attr,
        sentence=_sentence,
        verdict=verdict_class,
    )

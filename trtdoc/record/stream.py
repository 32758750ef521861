"""A record's text walked as a stream: the layers one at a time, the rest whole, and no key
written twice anywhere.

A record of 10^5 layers is a few hundred MB of JSON. Decoding it at once (pydantic's
``validate_json`` of the whole text) held the text, pydantic's parse of it and the record:
33 s and 5 GB for 2 x 10^5 layers, and a Rust panic under a 4 GiB address-space limit. Here
the text is read in chunks by :class:`~trtdoc.inspect.json_stream.JsonStream` (json's C
scanner); each layer's text goes to the caller as soon as it is read, and everything else is
given back as one small text, the record with an empty layer list. Memory is then the
decoded record plus a chunk of text and one layer.

The library is the standard one: the strict decoder is pydantic's ``validate_json`` of each
piece's text, and json's scanner is what can hand that text over (its end offset), which the
event parsers (ijson) cannot.

JSON lets a key appear twice in one object, and readers disagree on which value wins; a
reviewer would read one and trtdoc use the other. Every object is checked while it is
scanned, so a duplicate anywhere is one located line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from trtdoc.errors import InspectError
from trtdoc.inspect.json_stream import JsonStream
from trtdoc.spec.text import excerpt


class DuplicateKeyError(ValueError):
    """A key written twice in one JSON object; ``where`` is the record path it was met in."""

    def __init__(self, key: str, where: str = "") -> None:
        self.key, self.where = key, where
        super().__init__(key)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return out


# json's scanner takes NaN and Infinity; they stay in the piece's text, for the strict decoder
# to refuse with the field's name.
SCAN = json.JSONDecoder(object_pairs_hook=_pairs).raw_decode


def _object(s: JsonStream, where: str, on_member: Callable[[str, str], str | None]) -> str:
    """Walk the object that starts here; ``on_member(key, path)`` may read the value itself
    and return its text (else the value is read whole). The object's text is given back."""
    s.take("{", "Expecting value")
    parts: list[str] = []
    seen: set[str] = set()
    if s.peek() == "}":
        s.pos += 1
        return "{}"
    while True:
        if s.peek() != '"':
            raise s.error("Expecting property name enclosed in double quotes")
        key = s.value()
        s.take(":", "Expecting ':' delimiter")
        # Keys come from the file: one that is not a plain name is shown cut and escaped.
        shown = key if key.isidentifier() and len(key) <= 40 else f"[{excerpt(key)}]"
        path = (f"{where}.{shown}" if shown[0] != "[" else where + shown) if where else shown
        if key in seen:
            raise DuplicateKeyError(key, where)
        seen.add(key)
        text = on_member(key, path)
        if text is None:
            try:
                _, text = s.value_and_text()
            except DuplicateKeyError as exc:
                raise DuplicateKeyError(exc.key, exc.where or path) from None
            except InspectError as exc:
                if "single JSON value" not in str(exc):
                    raise
                raise InspectError(f"{path}: {exc}") from None
        parts.append(f"{json.dumps(key, ensure_ascii=False)}: {text}")
        c = s.peek()
        s.pos += 1
        if c == "}":
            return "{" + ", ".join(parts) + "}"
        if c != ",":
            s.pos -= 1
            raise s.error("Expecting ',' delimiter")


def walk_record(s: JsonStream, layer: Callable[[int, str], None], *, max_layers: int) -> str:
    """The record's text with ``inspection.layers`` as ``[]``; ``layer(i, text)`` is called
    with each layer's text in turn. A text that is not a JSON object is given back whole.

    Raises :class:`~trtdoc.errors.InspectError` (not JSON, nested too deeply, over a limit)
    and :class:`DuplicateKeyError`.
    """
    if s.peek() != "{":
        return s.value_and_text()[1]

    def layers(key: str, path: str) -> str | None:
        if path != "inspection.layers" or s.peek() != "[":
            return None
        for i, text in enumerate(_texts(s, path, max_layers)):
            layer(i, text)
        return "[]"

    def top(key: str, path: str) -> str | None:
        if key != "inspection" or s.peek() != "{":
            return None
        return _object(s, "inspection", layers)

    text = _object(s, "", top)
    s.end()
    return text


def _texts(s: JsonStream, where: str, limit: int) -> Iterator[str]:
    def too_many() -> str:
        return f"{where}: over {limit:,} layers, more than any record trtdoc writes"

    def text(n: int) -> str:
        try:
            return s.value_and_text()[1]
        except DuplicateKeyError as exc:
            raise DuplicateKeyError(exc.key, exc.where or f"{where}[{n}]") from None

    yield from s.items(limit, too_many, text)

"""The one encoder and decoder of trtdoc's frozen types: records, their parts, findings, compat
verdicts, comparisons.

Each type serialises itself: its fields (with their ``Annotated`` constraints, aliases and
``__pydantic_config__``) are at once the decoder, the encoder and the JSON Schema, through one
pydantic ``TypeAdapter`` per type, built on first use and kept. There is no ``to_dict`` or
``from_dict`` per class.

* :func:`encode` gives JSON-ready data with the keys in the type's field order (aliases as
  written, ``Field(exclude=True)`` fields left out);
* :func:`decode` reads that data back exactly as a record file is read: strict types (no
  string for an integer, no float for a count), unknown keys refused where the type says so;
  :func:`decode_json` does the same from the text of a file (the precision step's cache file,
  a failed accuracy gate's file), which hold one part of a record without the record around.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")

# A dict rather than functools.cache, whose typing wants Hashable arguments, which mypy does
# not grant a class object.
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(cls: type[T]) -> TypeAdapter[T]:
    """The one ``TypeAdapter`` of ``cls``: its decoder, encoder and JSON Schema."""
    found = _ADAPTERS.get(cls)
    if found is None:
        found = _ADAPTERS[cls] = TypeAdapter(cls)
    return found


def encode(value: Any) -> Any:
    """``value`` (an instance of a typed class) as JSON-ready data, as a record stores it."""
    return adapter(type(value)).dump_python(value, mode="json", by_alias=True)


def decode(cls: type[T], data: Any) -> T:
    """``data`` (JSON-ready, as :func:`encode` gives it) as a ``cls``, decoded strictly;
    pydantic's ``ValidationError`` when it is not one."""
    return adapter(cls).validate_json(json.dumps(data), strict=True)


def decode_json(cls: type[T], text: str | bytes) -> T:
    """The JSON text ``text`` as a ``cls``, decoded as strictly as a record file; pydantic's
    ``ValidationError`` (a ``ValueError``) when it is not one."""
    return adapter(cls).validate_json(text, strict=True)

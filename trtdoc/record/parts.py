"""One record part on its own, through the same pydantic ``TypeAdapter`` path as a whole record.

The precision step's cache file (a :class:`~trtdoc.precision.result.PrecisionResult`) and a
failed accuracy gate's file (a :class:`~trtdoc.record.types.FailedGate`) hold parts of a record
without the record around them: :func:`plain_data` encodes one as the record would, and
:func:`part_from_json` decodes one as strictly as a record file is decoded.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def part_adapter(cls: type[T]) -> TypeAdapter[T]:
    """The adapter of one record part's type (made once): its decoder, encoder and JSON
    Schema."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def plain_data(part: object) -> Any:
    """``part`` as JSON-ready data, exactly as a record stores it (the types' key order)."""
    return part_adapter(type(part)).dump_python(part, mode="json", by_alias=True)


def part_from_json(cls: type[T], text: str | bytes) -> T:
    """Decode ``text`` as a ``cls`` with a record's strictness (no string for a number, no
    unknown key); raises pydantic's ``ValidationError`` (a ``ValueError``)."""
    return part_adapter(cls).validate_json(text, strict=True)

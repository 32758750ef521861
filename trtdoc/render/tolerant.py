"""Reading record values defensively: what a page shows when a value has the wrong type.

Records are decoded strictly (``record/codec.py``), but pages are rendered from records built or
edited around the decoder as well: every view computation falls back to showing what it can.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import one_line

T = TypeVar("T")

# What code that expects well-typed record values raises on a hand-edited one: a string where
# an int belongs (int("<b>"), f"{x:,}"), a float too large for 10**400, a None, a list where a
# string belongs (unhashable, unsortable against str), a missing key.
BAD_VALUE = (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError)


def tolerant(fallback: Callable[..., Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a view computation; on a wrong-typed record value, ``fallback(*args)`` instead.

    Records are decoded strictly (``record/codec.py``), so the fallbacks are for records built or
    edited around the decoder: the page still renders, showing what it can escaped.
    """
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except BAD_VALUE:
                shown: T = fallback(*args, **kwargs)  # stands in for what fn returns
                return shown
        return run
    return wrap


def as_tuple(value: Any) -> tuple[Any, ...]:
    """A list or tuple as a tuple; ``None`` as empty; any other single value as one item."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def of_type(values: Any, cls: type) -> tuple[Any, ...]:
    """The items of ``values`` that are ``cls``: a layer that is not a layer has no row."""
    return tuple(v for v in as_tuple(values) if isinstance(v, cls))


def text_key(value: Any) -> str:
    """A sort key for any value: its text on one line."""
    return one_line(value)


def name_key(record: EngineRecord) -> str:
    """An engine's name as a dictionary key and sort key, whatever its type."""
    name = getattr(record, "name", None)
    return name if isinstance(name, str) else one_line(name)

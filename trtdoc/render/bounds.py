"""Bounds on what one template may compute: the size of a value it makes, and the time one page
takes to render.

Jinja's sandbox stops a template from running code, not from asking for ten gigabytes
(``{{ "x" * 100000 * 100000 }}``) or from looping for hours (two nested ``{% for %}`` over
``range(100000)``). So, for every template (shipped or the user's):

* an operator whose result would hold more than :data:`MAX_ITEMS` characters or items (``*``,
  ``+`` and ``~`` on strings and lists), or an integer of more than :data:`MAX_INT_BITS` bits
  (``*``, ``**``), is refused before it is computed (``~`` just after: its parts are bounded);
* a size given to a Jinja filter or string method (``center``, ``indent``, ``batch``,
  ``slice``, ``ljust``..., a ``%`` or ``format`` width) over :data:`MAX_ITEMS` is refused, and
  so is a ``replace`` whose result would be over it;
* rendering one page takes at most :data:`TIME_LIMIT_S` seconds of wall-clock time
  (:func:`time_limit`, a ``SIGALRM`` timer: rendering runs in the main thread);
* ``join`` (trtdoc's, in filters.py) is sized before it joins: in
  ``(["x" * 1000000] * 2000)|join`` each part is within the bounds, the whole would be 2 GB.
  No address-space limit is set: reserved address space is not memory (threads and
  allocators reserve far more than they use), and such a limit broke ordinary renders that
  read a record.

Each refusal is a :class:`Unbounded`, a sandbox :class:`~jinja2.sandbox.SecurityError`, so the
render error names the template file and line like any other refusal.
"""

from __future__ import annotations

import re
import signal
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jinja2.compiler
import jinja2.nodes
import jinja2.sandbox

MAX_ITEMS = 1_000_000  # characters of a string, items of a list
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
TIME_LIMIT_S = 30.0  # wall-clock seconds to render one page

# Python's %-conversions: the width and precision of each.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# str methods whose int arguments are sizes of the result.
_SIZED_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# Jinja's filters whose int arguments are sizes of the result.
_SIZED_FILTERS = frozenset({"batch", "center", "indent", "slice", "truncate"})


class Unbounded(jinja2.sandbox.SecurityError):
    """A template asked for a value larger, or a render longer, than the bounds allow."""


def _sized(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_items(count: int, what: str) -> None:
    if count > MAX_ITEMS:
        raise Unbounded(f"{what} would make {count:,} characters or items, over the bound of "
                        f"{MAX_ITEMS:,}")


def _check_sizes(args: Any, what: str) -> None:
    for arg in args:
        if _int(arg) and abs(arg) > MAX_ITEMS:
            raise Unbounded(f"{what} is given the size {arg:,}, over the bound of {MAX_ITEMS:,}")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left operator right`` if its result would be over the bounds."""
    if operator == "*":
        if _sized(left) and _int(right):
            check_items(len(left) * max(right, 0), "'*'")
        elif _sized(right) and _int(left):
            check_items(len(right) * max(left, 0), "'*'")
        elif _int(left) and _int(right):
            _check_bits(left.bit_length() + right.bit_length(), "'*'")
    elif operator == "**":
        if _int(left) and _int(right) and right > 0 and abs(left) > 1:
            _check_bits(left.bit_length() * right, "'**'")
    elif operator == "+":
        if _sized(left) and _sized(right):
            check_items(len(left) + len(right), "'+'")
    elif operator == "%" and isinstance(left, str):
        check_percent(left, right)


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise Unbounded(f"{what} would make an integer of about {bits:,} bits, over the bound "
                        f"of {MAX_INT_BITS:,}")


def check_percent(fmt: str, args: Any) -> None:
    """Refuse a ``%`` format whose widths or precisions are over :data:`MAX_ITEMS`."""
    for match in _PERCENT.finditer(fmt):
        for size in match.groups():
            if size == "*":
                _check_sizes(args if isinstance(args, tuple) else (args,), "a '%' format")
            elif size:
                check_items(int(size), "a '%' format width")


def check_format(fmt: str, args: Any, kwargs: Any) -> None:
    """Refuse a ``str.format`` whose widths are over :data:`MAX_ITEMS`."""
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format raises its own error
    for _, _, spec, _ in parts:
        if spec and "{" in spec:
            _check_sizes((*args, *kwargs.values()), "a format width")
        for digits in re.findall(r"\d+", spec or ""):
            check_items(int(digits), "a format width")


def check_method(obj: Any, args: Any, kwargs: Any) -> None:
    """Refuse a call of a string method that would make a string over the bounds."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in _SIZED_METHODS:
        _check_sizes((*args, *kwargs.values()), f"str.{name}")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[1])


def _check_replace(text: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(new, str):
        check_items(len(text) + (len(text) + 1) * len(new), "replace")


def bounded_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Jinja's filter ``fn`` (named ``name``) refusing sizes over the bounds: an int argument
    over :data:`MAX_ITEMS`, a ``format`` width, a ``replace`` or ``indent`` result."""
    pass_arg = getattr(fn, "jinja_pass_arg", None)
    skip = 2 if pass_arg is not None else 1  # the environment/context, then the value

    def bounded(*args: Any, **kwargs: Any) -> Any:
        value, rest = args[skip - 1] if len(args) >= skip else None, args[skip:]
        if name in _SIZED_FILTERS:
            _check_sizes((*rest, *kwargs.values()), f"the filter {name!r}")
        if name == "format" and isinstance(value, str):
            check_percent(value, tuple(rest) or tuple(kwargs.values()))
        elif name == "replace" and len(rest) >= 2:
            _check_replace(str(value), rest[1])
        elif name == "indent" and isinstance(value, str):
            width = rest[0] if rest else kwargs.get("width", 4)
            prefix = len(width) if isinstance(width, str) else width if _int(width) else 0
            check_items(len(value) + (value.count("\n") + 1) * max(prefix, 0), "indent")
        return fn(*args, **kwargs)

    if pass_arg is not None:
        bounded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    bounded.__name__ = getattr(fn, "__name__", name)
    return bounded


def bounded_join(text: Any) -> Any:
    """The result of a ``~`` (already made, from bounded parts), refused if over the bounds."""
    if _sized(text):
        check_items(len(text), "'~'")
    return text


class BoundedCodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator with every ``~`` result passed through :func:`bounded_join`."""

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: jinja2.compiler.Frame) -> None:
        self.write("environment.bounded_join(")
        super().visit_Concat(node, frame)
        self.write(")")


@contextmanager
def time_limit(what: str, seconds: float | None = None) -> Iterator[None]:
    """At most ``seconds`` (default :data:`TIME_LIMIT_S`) of wall-clock time for the block,
    then :class:`Unbounded` raised where the block is. A ``SIGALRM`` timer, so only in the
    main thread (elsewhere the block runs unbounded); the previous handler and timer are put
    back afterwards."""
    limit = TIME_LIMIT_S if seconds is None else seconds
    if threading.current_thread() is not threading.main_thread() or not hasattr(
            signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise Unbounded(f"rendering {what} took longer than {limit:g} s, the bound for one page")

    previous = signal.signal(signal.SIGALRM, expired)
    started = time.monotonic()
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:
            left = max(old_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@contextmanager
def page_limits(what: str) -> Iterator[None]:
    """The limits on rendering ``what``: :func:`time_limit`."""
    with time_limit(what):
        yield


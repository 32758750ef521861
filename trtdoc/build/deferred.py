"""Values a build needs later: known already, computed in a thread beside the build, or failed.

A plan's build key and model digest are one of these, so that hashing a large model can overlap
TensorRT reading it, and so that a failure is reported as that engine's, where it is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, NoReturn, TypeAlias, TypeVar

T = TypeVar("T")


class Done(Generic[T]):
    """A value already known, with :class:`Background`'s ``result()``."""

    def __init__(self, value: T) -> None:
        self._value = value

    def result(self) -> T:
        return self._value


class Background(Generic[T]):
    """``fn()`` in a thread; ``result()`` waits for it and returns its value or raises its
    exception, so work overlapped is reported exactly as if it had run in line."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._value: list[T] = []  # the value, once fn() returned it
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value.append(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised by result()
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value[0]


class Failing:
    """Keys whose computation failed: ``result()`` raises it again, where the keys are used
    (inside :func:`trtdoc.build.one_engine.build_one`, as that engine's failure)."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def result(self) -> NoReturn:
        raise self._error


# (build key, model digest) of one engine.
KeyPair: TypeAlias = "tuple[str, str]"
# The build key and model digest of a plan: known already, being computed beside the build,
# or failed.
Keys: TypeAlias = "Done[KeyPair] | Background[KeyPair] | Failing"

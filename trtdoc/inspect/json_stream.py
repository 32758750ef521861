"""A JSON text read in chunks, so that exports of huge engines are walked without holding them.

Exports of huge engines (10^6 layers, near 1 GB of JSON) are read as a stream: the file in
chunks, the top-level object walked by the caller, and each layer decoded alone by json's C
scanner and turned into a Layer at once. Decoding the whole file first held the text, a dict per
layer and tensor, and then the Layers: 8 GB for 10^6 layers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import trtdoc.inspect.limits as limits
from trtdoc.errors import InspectError

# Bytes read from the file at a time (and characters of read text kept before they are dropped).
_CHUNK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder().raw_decode


class JsonStream:
    """A JSON text read in chunks, for walking its top level by hand.

    ``value()`` decodes the next whole value with json's C scanner. Errors read as
    ``json.loads`` words them (with the line, column and character of the whole text), so a
    file gives the same one line whether it is read here or at once.
    """

    def __init__(self, what: str, path: Path | str | None, *, f: Any = None, text: str = "",
                 limit: int = 0, sha256: Any = None, file_what: str | None = None,
                 scan: Callable[[str, int], tuple[Any, int]] = _SCAN) -> None:
        import codecs

        # What the text is called in JSON errors, and what the file is in reading errors.
        self.what, self.file_what, self.path = what, file_what or what, path
        self._f, self._limit, self._sha256, self._scan = f, limit, sha256, scan
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._read = 0  # bytes read from the file
        self.buf, self.pos = text, 0
        self.eof = f is None
        self._base = self._lines = self._col0 = 0  # where buf starts in the whole text

    def _fill(self, size: int = _CHUNK) -> None:
        if self.pos > _CHUNK:  # drop what was read, keeping the count of lines for errors
            head = self.buf[:self.pos]
            newlines = head.count("\n")
            self._col0 = (self.pos - head.rfind("\n") - 1) if newlines else self._col0 + self.pos
            self._lines += newlines
            self._base += self.pos
            self.buf, self.pos = self.buf[self.pos:], 0
        raw = self._f.read(size)
        pending = len(self._decoder.getstate()[0])
        start = self._read - pending
        self._read += len(raw)
        if self._read > self._limit:
            raise InspectError(f"the {self.file_what} is over {self._limit:,} bytes; trtdoc "
                               f"reads at most {self._limit:,} ({format_size(self._limit)})",
                               source=self.path)
        if self._sha256 is not None:
            self._sha256.update(raw)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise InspectError(f"the {self.file_what} is not UTF-8 text (byte "
                               f"0x{exc.object[exc.start]:02x} at offset {start + exc.start})",
                               source=self.path) from None
        self.eof = not raw
        self.buf += text

    def error(self, message: str, pos: int | None = None) -> InspectError:
        """``message`` at ``pos`` in buf (default: here), as json.loads words it."""
        pos = self.pos if pos is None else pos
        line = self._lines + self.buf.count("\n", 0, pos) + 1
        last = self.buf.rfind("\n", 0, pos)
        col = pos - last if last >= 0 else self._col0 + pos + 1
        return InspectError(f"the {self.what} is not JSON ({message}: line {line} column {col} "
                            f"(char {self._base + pos}))", source=self.path)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), without taking it."""
        while True:
            # _WS matches the empty string too, so match() is never None here.
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self._fill()

    def take(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value, decoded."""
        return self.value_and_text()[0]

    def value_and_text(self) -> tuple[Any, str]:
        """The next JSON value, decoded, and its text as the file writes it."""
        self.peek()
        while True:
            try:
                value, end = self._scan(self.buf, self.pos)
                # A number (or literal) that ends where the buffer does may go on in the file.
                if end < len(self.buf) or self.eof:
                    start, self.pos = self.pos, end
                    return value, self.buf[start:end]
            except RecursionError:  # "[" * 100000: the scanner recurses per level
                raise InspectError(f"the {self.what} is nested too deeply to be read",
                                   source=self.path) from None
            except json.JSONDecodeError as exc:
                # Incomplete input fails at its end (or in a string that runs past it); any
                # other failure is the file's.
                incomplete = (exc.pos >= len(self.buf) - 6
                              or exc.msg.startswith("Unterminated string"))
                if self.eof or not incomplete:
                    raise self.error(exc.msg, exc.pos) from None
            if len(self.buf) - self.pos > limits.MAX_JSON_VALUE_CHARS:
                raise InspectError(
                    f"the {self.what} holds a single JSON value of over "
                    f"{limits.MAX_JSON_VALUE_CHARS:,} characters (at character "
                    f"{self._base + self.pos:,}); trtdoc reads no larger value",
                    source=self.path)
            # A value is scanned again from its start after each read: reading as much again
            # as it has so far keeps a long value's scans linear in its length, not quadratic.
            self._fill(max(_CHUNK, len(self.buf) - self.pos))

    def items(self, limit: int, too_many: Callable[[], str],
              read: Callable[[int], Any] | None = None) -> Iterator[Any]:
        """The elements of the array that starts here, one by one (each read by ``read(index)``,
        by default as a value); past ``limit`` elements this raises with the message
        ``too_many()``."""
        self.take("[", "Expecting value")
        if self.peek() == "]":
            self.pos += 1
            return
        n = 0
        while True:
            n += 1
            if n > limit:
                raise InspectError(too_many(), source=self.path)
            yield self.value() if read is None else read(n - 1)
            c = self.peek()
            self.pos += 1
            if c == "]":
                return
            if c != ",":
                self.pos -= 1
                raise self.error("Expecting ',' delimiter")

    def end(self) -> None:
        """Refuse anything but white space after the top-level value."""
        if self.peek():
            raise self.error("Extra data")


def format_size(limit: int) -> str:
    """A byte limit in words for errors: whole GiB, else MiB ("2 GiB", "64 MiB")."""
    return f"{limit // 2**30} GiB" if limit % 2**30 == 0 else f"{limit // 2**20} MiB"

"""The architecture matrix as pages show it: an engine's row (``compat.matrix``), the
numbered notes under the compatibility table, and the class that colours each verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from trtdoc.compat import matrix as compat
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import one_line
from trtdoc.render.tolerant import tolerant


def _unknown_compat(record: EngineRecord) -> compat.EngineCompat:
    why = "not known: the record holds a value of the wrong type"
    return compat.EngineCompat(
        record.name, f"{one_line(record.backend)} {one_line(record.backend_version)}", None,
        (), why, why, tuple(compat.Cell(a.key, compat.UNKNOWN, why) for a in compat.ARCHITECTURES))


compat_row = tolerant(_unknown_compat)(compat.engine_compat)
compat_row.__doc__ = """``compat.matrix.engine_compat`` of a record; for a record holding a value of
the wrong type, a row that says every cell is not known."""


# A verdict mark's colour class (trtdoc.css: .trtdoc-runs, .trtdoc-fails, .trtdoc-unknown).
# The mark stays beside the colour, for colour-blind readers and for print.
VERDICT_CLASSES = {compat.YES: "runs", compat.NO: "fails", compat.UNKNOWN: "unknown"}


def verdict_class(status: Any) -> Markup:
    """``runs``, ``fails`` or ``unknown`` for a matrix mark (anything else is unknown)."""
    return Markup(VERDICT_CLASSES.get(status, "unknown") if isinstance(status, str)
                  else "unknown")


@dataclass(frozen=True)
class MatrixNotes:
    """The architecture matrix's reasons, each written once under the table and numbered in
    the order the table first shows it, so that a cell is a glyph and a number: eleven
    columns of sentences did not fit a laptop's 720 px column (the Blackwell ones were cut)."""

    texts: tuple[str, ...]  # note k is texts[k - 1]

    @classmethod
    def of(cls, matrix: Sequence[compat.EngineCompat]) -> MatrixNotes:
        texts: dict[str, None] = {}
        for row in matrix:
            for cell in row.cells:
                texts.setdefault(one_line(cell.reason), None)
            texts.setdefault(one_line(row.other_versions), None)
        return cls(tuple(texts))

    def number(self, reason: Any) -> int:
        """The note that says ``reason``."""
        return self.texts.index(one_line(reason)) + 1

"""A record whose layers stay in its file until something reads them (issue 27).

The site-wide pages (``engines/index.md``, ``compatibility.md``, ``changes.md``) show every
record, yet the shipped templates read of its layers only how many there are. Decoding 200
records of 1,000 layers (263 MiB of JSON) for that took 3 s after any one record changed.
``trtdoc render`` keeps each record without its layers (:func:`without_layers`, a few kB) in
its render cache, keyed by the record file's sha256, and gives the site pages
:func:`with_lazy_layers` of it: ``len()`` answers from the count; anything else (a custom
template that lists the layers, a comparison with the previous record) reads the record file
then, strictly as always, and checks it still is the record the cache described.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

from trtdoc.errors import RecordError
from trtdoc.inspect.types import Layer
from trtdoc.record.types import EngineRecord


def without_layers(record: EngineRecord) -> EngineRecord:
    """``record`` with an empty layer list: what the cache keeps of it."""
    return replace(record, inspection=replace(record.inspection, layers=()))


class LazyLayers(Sequence[Layer]):
    """``count`` layers, read from ``path`` on first use beyond ``len()``; the record read
    must be ``shell`` with layers, else :class:`RecordError` (the file changed meanwhile)."""

    def __init__(self, count: int, path: Path, shell: EngineRecord) -> None:
        self._count, self._path, self._shell = count, path, shell
        self._layers: tuple[Layer, ...] | None = None

    def loaded(self) -> tuple[Layer, ...]:
        if self._layers is None:
            from trtdoc.record.files import read_record

            full = read_record(self._path)
            if (without_layers(full) != self._shell
                    or len(full.inspection.layers) != self._count):
                raise RecordError("changed while the site was rendered; run `trtdoc render` "
                                  "again", path=self._path)
            self._layers = full.inspection.layers
        return self._layers

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Layer: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Layer, ...]: ...

    def __getitem__(self, index: int | slice) -> Layer | tuple[Layer, ...]:
        return self.loaded()[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.loaded())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyLayers):
            other = other.loaded()
        return self.loaded() == other

    def __hash__(self) -> int:
        return hash(self.loaded())

    def __add__(self, other: Any) -> tuple[Layer, ...]:
        return self.loaded() + tuple(other)

    def __radd__(self, other: Any) -> tuple[Layer, ...]:
        return tuple(other) + self.loaded()

    def __repr__(self) -> str:
        return f"LazyLayers({self._count}, {str(self._path)!r})"


def with_lazy_layers(shell: EngineRecord, count: int, path: Path) -> EngineRecord:
    """The record of ``path`` as ``shell`` (it, without its layers) and the layers' count
    describe it, its ``count`` layers read only when asked for (:class:`LazyLayers`)."""
    layers: Any = LazyLayers(count, path, shell)
    return replace(shell, inspection=replace(shell.inspection, layers=layers))

"""Magika's model input, computed without magika: the example's data loader.

Magika 1.0.3 (``magika/magika.py``, ``Magika._extract_features_from_seekable``, "features
extraction v2") turns a file into the ``bytes`` input of ``standard_v3_3/model.onnx`` like this:

- read at most ``block_size`` bytes from the start and at most ``block_size`` from the end;
- ``lstrip()`` the first block and ``rstrip()`` the last one (ASCII whitespace, as Python's
  ``bytes.strip`` with no argument);
- ``beg``: the first ``beg_size`` bytes of the stripped first block, padded at the end with
  ``padding_token``; ``end``: the last ``end_size`` bytes of the stripped last block, padded at
  the start;
- the model input is ``beg + end`` (``mid_size`` is 0 for this model).

Magika runs the model only on files of at least ``min_file_size_for_dl`` bytes whose
``beg[min_file_size_for_dl - 1]`` is not padding; smaller ones are labelled "txt"/"unknown"
without it. The numbers below are ``standard_v3_3/config.min.json`` from the same wheel.

Only the standard library is needed; numpy only to stack many files into one array.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

BEG_SIZE = 1024
END_SIZE = 1024
BLOCK_SIZE = 4096
PADDING_TOKEN = 256
MIN_FILE_SIZE_FOR_DL = 8
FEATURES = BEG_SIZE + END_SIZE  # the model's input width, 2048


def features_from_bytes(content: bytes) -> list[int]:
    """The ``bytes`` model input for a file whose whole content is ``content``."""
    return _features(len(content), lambda offset, size: content[offset:offset + size])


def features_from_file(path: Path) -> list[int]:
    """The ``bytes`` model input for the file at ``path``; reads at most two blocks."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        return _features(size, lambda offset, n: _read_at(f, offset, n))


def runs_the_model(features: Sequence[int]) -> bool:
    """Whether magika would run its model on these features (else it labels by rule)."""
    return features[MIN_FILE_SIZE_FOR_DL - 1] != PADDING_TOKEN


def stack(rows: Sequence[Sequence[int]]) -> Any:
    """Rows of features as the model's int32 ``[N, 2048]`` input."""
    import numpy as np

    return np.asarray(rows, dtype=np.int32).reshape(len(rows), FEATURES)


def _read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(size)


def _features(size: int, read_at: Any) -> list[int]:
    n = min(BLOCK_SIZE, size)
    beg = read_at(0, n).lstrip()[:BEG_SIZE]
    end = read_at(size - n, n).rstrip()
    end = end[max(len(end) - END_SIZE, 0):]
    return (list(beg) + [PADDING_TOKEN] * (BEG_SIZE - len(beg))
            + [PADDING_TOKEN] * (END_SIZE - len(end)) + list(end))

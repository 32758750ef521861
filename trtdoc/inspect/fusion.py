"""Fusion provenance: the ONNX nodes a fused engine layer implements, from its ``Metadata``.

Both the build log and inspector JSON carry ``[ONNX Layer: a]<sep>[ONNX Layer: b]...`` per layer;
:func:`fused_from_metadata` reads it into node names.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_ONNX_OPEN = "[ONNX Layer: "
# The ONNX parser appends " | Local Function: <f>" inside the brackets for nodes in a function.
_LOCAL_FUNCTION = " | Local Function: "
# Entries are joined with \x1f in the RTX build log and with \x1e in inspector JSON from
# TensorRT 8.6 on; some builds print them back to back.
_META_SEPARATORS = "\x1e\x1f"


def fused_from_metadata(text: str, onnx_nodes: Collection[str] | None = None) -> tuple[str, ...]:
    """The ONNX node names in a layer's ``Metadata`` string, in order, without repeats.

    ``text`` is ``[ONNX Layer: a]<sep>[ONNX Layer: b]...`` where ``<sep>`` is \\x1e, \\x1f or
    nothing. A name may itself contain ``][ONNX Layer: ``. Without ``onnx_nodes`` such a name
    is split. With ``onnx_nodes`` the split is chosen so that every piece is a known node.
    """
    starts = [m.start() for m in re.finditer(re.escape(_ONNX_OPEN), text)]
    if not starts:
        return ()
    # Past the first, an entry can open only right after "]" and one optional separator,
    # because that is how TensorRT joins them. Elsewhere "[ONNX Layer: " is part of a name.
    opens = [starts[0]] + [
        p for p in starts[1:]
        if text[p - 1] == "]" or (text[p - 1] in _META_SEPARATORS and text[p - 2] == "]")
    ]
    ends = [*opens[1:], len(text)]

    def entry(i: int, j: int) -> str:
        raw = text[opens[i] + len(_ONNX_OPEN):ends[j]]
        if raw and raw[-1] in _META_SEPARATORS and j + 1 < len(opens):
            raw = raw[:-1]
        return raw[:-1] if raw.endswith("]") else raw  # metadata over 4000 chars is truncated

    def clean(raw: str) -> str:
        if onnx_nodes is not None and raw in onnx_nodes:
            return raw
        name, sep, _ = raw.rpartition(_LOCAL_FUNCTION)
        return name if sep else raw

    n = len(opens)
    pieces = [clean(entry(i, i)) for i in range(n)]
    if onnx_nodes is not None and not all(p in onnx_nodes for p in pieces):
        # Merge neighbouring pieces until each is a node the model really has. Prefer the
        # finest split (the nearest start) so two real nodes are never glued together.
        back: list[int | None] = [None] * (n + 1)
        back[0] = 0
        for j in range(1, n + 1):
            for i in range(j - 1, -1, -1):
                if back[i] is not None and clean(entry(i, j - 1)) in onnx_nodes:
                    back[j] = i
                    break
        if back[n] is not None:
            merged: list[str] = []
            j = n
            while j > 0:
                start = back[j]
                assert start is not None
                merged.append(clean(entry(start, j - 1)))
                j = start
            pieces = merged[::-1]
    return tuple(dict.fromkeys(pieces))

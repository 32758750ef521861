"""Masking the model's own names in a ``Layers:`` message before it is read, and restoring them.

Backtracking over where a name ends settles names that imitate a *field*, but not names that
imitate whole *records*: a node called "a, LayerType: kgen, ..., Metadata: \\nName: b, ..."
reads as two layers as well as TensorRT's one, and preferring either reading lets a name
either add layers or hide them. So where the model's names are known, each occurrence of one
in a place where TensorRT prints a name is replaced by a single private-use character before
the message is read, and restored after. The reader then never sees syntax that came from
the model: layers, I/O tensors and fused nodes come out as with plain names.

Where TensorRT prints a name, and what it prints right after it (measured on TensorRT-RTX
1.7 builds of mobilenet_v2 with hostile names): a layer name is a node name (or several
joined by "+") with a "_myl<g>_<i>" suffix, a tensor name has a ".1_49_myl0"-like suffix, a
fused node sits alone in its "[ONNX Layer: ...]" and an I/O tensor is printed as it is.
An occurrence counts only in such a place and only when that follows, so a name that
happens to spell TensorRT's own text elsewhere is left alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

from trtdoc.inspect.types import IOTensor

_NAME_SLOT = re.compile(r"\nName: |\{ Name: |\[ONNX Layer: |\n Name: |\+")
_LAYER_NAME_END = re.compile(r"[\w.\-]*(?:, LayerType: |\+)")
_FOLLOWS = {
    "\nName: ": _LAYER_NAME_END,
    "+": _LAYER_NAME_END,
    "{ Name: ": re.compile(r"[\w.\-]*, Dimensions: "),
    "[ONNX Layer: ": re.compile(r"\]| \| Local Function: "),
    "\n Name: ": re.compile(r", IOMode: "),
}
# Characters that can take part in the message's syntax. A name without them cannot be read
# as anything but a name, so it needs no mask.
_SYNTAX_CHARS = frozenset("\n\r,:[]{}()+|\x1e\x1f")
# Private-use planes 15 and 16: never printed by TensorRT; a character the message already
# holds (a model may use them too) is never used as a mask.
_MASK_CODEPOINTS = (range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))


def _printed(name: str) -> str:
    return name.replace('"', "_").replace("\\", "_")


class NameMasks:
    """The model's names in one message, each replaced by one private-use character."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        # TensorRT prints '"' and '\\' as '_' in layer and tensor names (not in Metadata).
        variants = {v for name in names for v in (name, _printed(name))
                    if v and not _SYNTAX_CHARS.isdisjoint(v)}
        self._by_length: dict[int, set[str]] = defaultdict(set)
        for v in variants:
            self._by_length[len(v)].add(v)
        self._lengths = sorted(self._by_length, reverse=True)
        used = set(text)
        self._free = (chr(c) for r in _MASK_CODEPOINTS for c in r if chr(c) not in used)
        self._token: dict[str, str] = {}
        self.table: dict[int, str] = {}  # for str.translate: mask -> the name as printed

    def _mask(self, name: str) -> str:
        token = self._token.get(name)
        if token is None:
            token = next(self._free, None)
            if token is None:  # 2 x 65534 distinct names in one message: leave the rest
                return name
            self._token[name] = token
            self.table[ord(token)] = name
        return token

    def apply(self, text: str) -> str:
        """``text`` with every name in a name's place masked (the longest name that fits)."""
        if not self._lengths:
            return text
        out: list[str] = []
        cursor = 0
        for m in _NAME_SLOT.finditer(text):
            start = m.end()
            if m.start() < cursor:
                continue  # the opener is inside a name already masked
            follows = _FOLLOWS[m.group()]
            for n in self._lengths:
                name = text[start:start + n]
                if name in self._by_length[n] and follows.match(text, start + n):
                    out.append(text[cursor:start])
                    out.append(self._mask(name))
                    cursor = start + n
                    break
        out.append(text[cursor:])
        return "".join(out)

    def restore(self, value: Any) -> Any:
        """``value`` (a string, or the reader's dicts and tuples of them) with names restored."""
        if not self.table:
            return value
        if isinstance(value, str):
            return value.translate(self.table)
        if isinstance(value, dict):
            return {k: self.restore(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.restore(v) for v in value)
        if isinstance(value, IOTensor):
            return replace(value, name=self.restore(value.name),
                           format=self.restore(value.format))
        return value

    def of(self, names: Collection[str]) -> set[str]:
        """``names`` as the masked message spells them."""
        masked = set(names)
        masked.update(self._mask(n) for n in names if n in self._token)
        return masked

"""Layer alignment: which layer of one build is which layer of the other, and what changed.

Layers are aligned by the ONNX nodes they implement (``Layer.fused``), not by name: Myelin
names its generated layers with running numbers (``__myl_Tran_myl1_12``, ``__mye9813_0``),
so one extra node renames every layer after it although none of them changed. Layers that
implement no node (reformats, shape calls, generated copies) are aligned by type and by the
aligned layer they follow; layers of different optimisation profiles are never paired. An
aligned pair is a change only when its type, precision, tactic or nodes differ; a new name
alone is counted as a rename, not a change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trtdoc.diff.changes import Change, LayerChange
from trtdoc.inspect.types import Layer

# A Myelin kernel's tactic is its fused op list and a hash of its generated code
# (``__myl_AddReshTran_0x4eb74cacd81e8fa84bd187033837affe_vec``). The hash changes when the
# same fusion is compiled for other shapes; the rest names which kernel was chosen.
_MYELIN_HASH = re.compile(r"_0x[0-9a-f]{16,}")


_DIGITS = re.compile(r"[0-9]+")


def _masked(name: str) -> str:
    """A layer name without its numbers: ``__myl_Tran_myl1_12`` → ``__myl_Tran_myl#_#``."""
    return _DIGITS.sub("#", name)


def kernel_family(tactic: str) -> str:
    """A tactic without the code hash of a Myelin generated kernel (other tactics as they are)."""
    return _MYELIN_HASH.sub("", tactic) if tactic.startswith("__myl") else tactic


Pair = tuple[int, int]


def align_layers(old: Sequence[Layer], new: Sequence[Layer]
                 ) -> tuple[list[Pair], list[int], list[int]]:
    """Pair the layers of two builds: ``(pairs of indices, old left over, new left over)``.

    1. Layers that implement the same set of ONNX nodes, in the same profile, pair up; where
       several do (Myelin splits one MatMul into a copy, a move and a gemm), by type first,
       then in order. When neither build has node names at all (a trtexec export without
       DETAILED metadata) the layer name stands in for the nodes.
    2. Left-over layers whose node sets overlap pair up, largest overlap first: a fusion that
       took in or gave up nodes (a model edit, another precision).
    3. Layers with no nodes pair by type and name with its numbers masked, beside the same
       aligned layer first, then anywhere, in order.
    """
    named = not any(layer.fused for layer in (*old, *new))

    def identity(layer: Layer) -> Any:
        if layer.fused:
            return (layer.profile, frozenset(layer.fused))
        return (layer.profile, layer.name) if named else None

    pair_of_old: dict[int, int] = {}
    pair_of_new: dict[int, int] = {}

    def join(i: int, j: int) -> None:
        pair_of_old[i] = j
        pair_of_new[j] = i

    groups_old: dict[Any, list[int]] = defaultdict(list)
    groups_new: dict[Any, list[int]] = defaultdict(list)
    for i, layer in enumerate(old):
        if identity(layer) is not None:
            groups_old[identity(layer)].append(i)
    for j, layer in enumerate(new):
        if identity(layer) is not None:
            groups_new[identity(layer)].append(j)
    for key, js in groups_new.items():
        _pair_in_order(groups_old.get(key, []), js, old, new, join)

    # 2. Overlapping node sets: for each left-over new layer in order, the left-over old
    # layer of its profile that shares the most nodes (the first of equals).
    left_old = [i for i, layer in enumerate(old) if i not in pair_of_old and layer.fused]
    for j, layer in enumerate(new):
        if j in pair_of_new or not layer.fused:
            continue
        nodes = set(layer.fused)
        best, shared = None, 0
        for i in left_old:
            if old[i].profile == layer.profile and i not in pair_of_old:
                n = len(nodes.intersection(old[i].fused))
                if n > shared:
                    best, shared = i, n
        if best is not None:
            join(best, j)

    # 3. Layers without nodes: by type and name with its numbers masked (Myelin's running
    # numbers change; the kernel's op list and a reformat's target do not), first beside the
    # same aligned layer, then anywhere, in order. A nodeless layer of another name is a
    # layer added or removed, not a changed one (a Tran kernel does not become a Cumsum).
    def anchored(layers: Sequence[Layer], pairs: Mapping[int, int], side: int,
                 anchors: bool) -> dict[Any, list[int]]:
        out: dict[Any, list[int]] = defaultdict(list)
        anchor: Any = None
        for k, layer in enumerate(layers):
            if k in pairs:
                anchor = (k, pairs[k]) if side == 0 else (pairs[k], k)
            elif identity(layer) is None:
                out[(layer.profile, layer.type, _masked(layer.name),
                     anchor if anchors else None)].append(k)
        return out

    for anchors in (True, False):
        a_old = anchored(old, pair_of_old, 0, anchors)
        a_new = anchored(new, pair_of_new, 1, anchors)
        for key, js in a_new.items():
            _pair_in_order(a_old.get(key, []), js, old, new, join)

    pairs = sorted(pair_of_new.items(), key=lambda p: p[0])
    return ([(i, j) for j, i in pairs],
            [i for i in range(len(old)) if i not in pair_of_old],
            [j for j in range(len(new)) if j not in pair_of_new])


def _pair_in_order(olds: Sequence[int], news: Sequence[int], old: Sequence[Layer],
                   new: Sequence[Layer], join: Callable[[int, int], None]) -> None:
    """Pair two lists of candidates: the same type first (in order), then what is left."""
    free = list(olds)
    rest = []
    for j in news:
        i = next((i for i in free if old[i].type == new[j].type), None)
        if i is None:
            rest.append(j)
        else:
            free.remove(i)
            join(i, j)
    # zip stops at the shorter: the others are added or removed
    for i, j in zip(free, rest, strict=False):
        join(i, j)


_NODES_SHOWN = 4  # node names a "nodes" change lists before "and N more"


def _nodes_change(old: Layer, new: Layer) -> Change | None:
    if set(old.fused) == set(new.fused) or not (old.fused and new.fused):
        return None
    gone = sorted(set(old.fused) - set(new.fused))
    came = sorted(set(new.fused) - set(old.fused))
    names = [*(f"+{n}" for n in came), *(f"-{n}" for n in gone)]
    more = f" and {len(names) - _NODES_SHOWN} more" if len(names) > _NODES_SHOWN else ""
    delta = ", ".join(names[:_NODES_SHOWN]) + more
    return Change("nodes", f"{len(old.fused)} nodes", f"{len(new.fused)} nodes", delta)


def layer_changes(old: Sequence[Layer], new: Sequence[Layer]
                  ) -> tuple[tuple[LayerChange, ...], int]:
    """The layers that changed, were added or were removed, and how many were only renamed."""
    pairs, removed, added = align_layers(old, new)
    out: list[LayerChange] = []
    renamed = 0
    for i, j in pairs:
        a, b = old[i], new[j]
        diffs = []
        if a.type != b.type:
            diffs.append(Change("type", a.type, b.type))
        if a.precision != b.precision:
            diffs.append(Change("precision", a.precision or "none", b.precision or "none"))
        if kernel_family(a.tactic) != kernel_family(b.tactic):
            diffs.append(Change("tactic", a.tactic or "none", b.tactic or "none"))
        elif a.tactic != b.tactic:
            diffs.append(Change("kernel", a.tactic, b.tactic))
        nodes = _nodes_change(a, b)
        if nodes is not None:
            diffs.append(nodes)
        if diffs:
            out.append(LayerChange("changed", b.name, b.type, b.fused, b.profile, tuple(diffs),
                                   a.name if a.name != b.name else ""))
        elif a.name != b.name:
            renamed += 1
    out.extend(LayerChange("added", new[j].name, new[j].type, new[j].fused, new[j].profile)
               for j in added)
    out.extend(LayerChange("removed", old[i].name, old[i].type, old[i].fused, old[i].profile)
               for i in removed)
    return tuple(out), renamed

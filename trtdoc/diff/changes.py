"""The comparison's types: one :class:`Change`, a :class:`LayerChange`, an engine's
:class:`Changes`, a :class:`Diff` of many engines, and the few phrases that headline them.
A :class:`Diff` serialises itself (``trtdoc.typed.encode``: ``trtdoc diff --format json``).

Build time and the engine's sha256 are shown but are not changes: the time varies from run to
run and the bytes may too, while everything the record describes stays the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, model_serializer

Status = Literal["changed", "unchanged", "new", "removed"]


@dataclass(frozen=True)
class Change:
    """One quantity that differs: what, before, after (as page text), and by how much.

    ``counts`` is False for a difference that is not a change of the build: the build time
    (it varies from run to run) and the engine's sha256 (a rebuild may write other bytes for
    the same layers).
    """

    what: str
    old: str
    new: str
    delta: str = ""
    counts: bool = True


@dataclass(frozen=True)
class LayerChange:
    """One engine layer that changed, appeared or went, with what differs.

    ``name`` is the layer's name in the new build (the old one for a removed layer), and
    ``nodes`` the ONNX nodes it implements there. ``changes`` has one :class:`Change` per
    attribute that differs: ``type``, ``precision``, ``tactic``, ``kernel`` (a Myelin kernel
    generated again for the same fusion, with a new code hash) and ``nodes``.
    """

    status: Literal["changed", "added", "removed"]
    name: str
    type: str
    nodes: tuple[str, ...]
    profile: int
    changes: tuple[Change, ...] = ()
    old_name: str = ""

    @property
    def first_node(self) -> str:
        return self.nodes[0] if self.nodes else ""

    @property
    def more_nodes(self) -> int:
        """How many nodes besides :attr:`first_node`."""
        return max(len(self.nodes) - 1, 0)


@dataclass(frozen=True)
class Changes:
    """Everything that differs between ``old`` and ``new`` records of one engine.

    ``status`` is ``new`` (no old record) or ``removed`` (no new one) for an engine on one
    side only; every tuple is empty then.
    """

    engine: str
    old_key: str
    new_key: str
    summary: tuple[Change, ...]  # size, memory, layer count, backend, model; build time, sha256
    settings: tuple[Change, ...]
    precision_mix: tuple[Change, ...]
    layer_types: tuple[Change, ...]
    profiles: tuple[Change, ...] = ()  # min/opt/max per input and profile, I/O types and shapes
    accuracy: tuple[Change, ...] = ()
    findings_added: tuple[str, ...] = ()
    findings_removed: tuple[str, ...] = ()
    layers: tuple[LayerChange, ...] = ()
    renamed: int = 0  # aligned layers with a new name and nothing else new
    # Where both records have times (diff/times.py): the totals, then the layers whose time
    # moved most (``what`` is the layer's name).
    times: tuple[Change, ...] = ()
    layer_times: tuple[Change, ...] = ()
    status_override: Annotated[Status | None, Field(exclude=True)] = field(default=None,
                                                                          repr=False)

    @property
    def empty(self) -> bool:
        """Nothing changed (build time and the engine's sha256 aside: see :class:`Change`)."""
        return not (any(c.counts for c in self.summary) or self.settings or self.profiles
                    or self.precision_mix or self.layer_types or self.accuracy
                    or self.findings_added or self.findings_removed or self.layers
                    or self.times or self.layer_times)

    @property
    def status(self) -> Status:
        if self.status_override is not None:
            return self.status_override
        return "unchanged" if self.empty else "changed"

    @property
    def notes(self) -> tuple[Change, ...]:
        """The differences that are not changes (build time, engine sha256)."""
        return tuple(c for c in self.summary if not c.counts)

    @property
    def headline(self) -> tuple[str, ...]:
        """What changed in a few phrases (see :func:`headline`)."""
        return headline(self)

    @property
    def layer_summary(self) -> str:
        """``"54 precision, 1 tactic, 2 removed"``: :meth:`layer_counts` as words."""
        return ", ".join(f"{n} {_LAYER_WORDS[k]}" for k, n in self.layer_counts())

    def layer_counts(self) -> tuple[tuple[str, int], ...]:
        """``(kind, layers)``: how many layers changed each attribute, and were added/removed,
        in a fixed order, kinds with no layer left out."""
        counts: Counter[str] = Counter()
        for layer in self.layers:
            if layer.status != "changed":
                counts[layer.status] += 1
            for c in layer.changes:
                counts[c.what] += 1
        return tuple((k, counts[k]) for k in _LAYER_KINDS if counts[k])

    @model_serializer(mode="wrap")
    def _serialise(self, fields: Any) -> dict[str, Any]:
        # `trtdoc diff --format json`: every field, and after the engine's name what the
        # terminal and Markdown show first (its status, headline and layer counts).
        data = fields(self)
        return {"engine": data.pop("engine"), "status": self.status,
                "headline": list(self.headline), "layer_counts": dict(self.layer_counts()),
                **data}


_LAYER_KINDS = ("precision", "type", "tactic", "kernel", "nodes", "added", "removed")


@dataclass(frozen=True)
class Diff:
    """Every engine of two sets of records, sorted by name (``old`` and ``new`` say where
    each set came from: a ref, a folder or a file)."""

    old: str
    new: str
    engines: tuple[Changes, ...]

    @property
    def changed(self) -> tuple[Changes, ...]:
        return tuple(c for c in self.engines if c.status != "unchanged")

    @property
    def unchanged(self) -> tuple[str, ...]:
        return tuple(c.engine for c in self.engines if c.status == "unchanged")


# --------------------------------------------------------------------------------------------
# What changed in a few phrases
# --------------------------------------------------------------------------------------------
HEADLINE_ITEMS = 8  # phrases per engine before "and N more": a pull-request comment stays short
_LAYER_WORDS = {"precision": "precision", "type": "type", "tactic": "tactic",
                "kernel": "kernels regenerated", "nodes": "fused nodes", "added": "added",
                "removed": "removed"}


def change_phrase(c: Change) -> str:
    """One change as a phrase: ``what old → new (delta)``."""
    delta = f" ({c.delta})" if c.delta else ""
    return f"{c.what} {c.old} → {c.new}{delta}"


def headline(c: Changes) -> tuple[str, ...]:
    """What changed in a few phrases, the most telling first, at most ``HEADLINE_ITEMS``.

    Settings and profiles first (usually the cause), then the model, the backend, the size,
    memory, layers, accuracy and findings (usually the effect).
    """
    if c.status == "new":
        return ("new engine (no record at the base)",)
    if c.status == "removed":
        return ("removed (no record any more)",)
    items = [change_phrase(s) for s in c.settings]
    items += [change_phrase(p) for p in c.profiles]
    summary = {s.what: s for s in c.summary if s.counts}
    if "model sha256" in summary:
        ops = [f"{s.what.removeprefix('model ').removesuffix(' nodes')} {s.delta}"
               for s in c.summary if s.what.startswith("model ") and s.what.endswith(" nodes")
               and s.what != "model nodes"]
        nodes = summary.get("model nodes")
        detail = ", ".join(([f"nodes {nodes.old} → {nodes.new}"] if nodes else []) + ops)
        items.append(f"model changed ({detail})" if detail else "model changed")
    if "backend" in summary:
        items.append(change_phrase(summary["backend"]))
    if "engine size" in summary:
        items.append(change_phrase(summary["engine size"]))
    items += [change_phrase(t) for t in c.times[:1]]  # the total; the rest in the table
    memory = [f"{s.what.removesuffix(' memory')} {s.delta or f'{s.old} → {s.new}'}"
              for s in c.summary if s.counts and s.what.endswith(" memory")]
    if memory:
        items.append("memory: " + ", ".join(memory))
    counts = c.layer_counts()
    if counts:
        items.append(f"layers: {c.layer_summary}")
    elif c.layer_types or c.precision_mix or "engine layers" in summary:
        parts = [f"{t.what} {t.delta}" for t in c.layer_types] or [
            f"{p.what} {p.delta}" for p in c.precision_mix]
        items.append("layers: " + ", ".join(parts))
    if c.accuracy:
        items.append("accuracy: " + ", ".join(
            f"{a.what.removeprefix('accuracy ')} {a.old} → {a.new}" for a in c.accuracy[:3])
            + (f" and {len(c.accuracy) - 3} more" if len(c.accuracy) > 3 else ""))
    if c.findings_added or c.findings_removed:
        items.append(f"findings: {len(c.findings_added)} new, {len(c.findings_removed)} gone")
    if len(items) > HEADLINE_ITEMS:
        items = [*items[:HEADLINE_ITEMS - 1], f"and {len(items) - HEADLINE_ITEMS + 1} more"]
    return tuple(items)

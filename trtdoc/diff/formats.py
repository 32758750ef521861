"""A comparison as text for a terminal (JSON: the types' own encoder, ``trtdoc.typed``;
Markdown: ``render.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from trtdoc.diff.changes import Change, Diff, LayerChange, change_phrase


def _nodes_text(nodes: Sequence[str]) -> str:
    if not nodes:
        return "no ONNX node"
    more = f" + {len(nodes) - 1} more" if len(nodes) > 1 else ""
    return f"{nodes[0]}{more}"


def layer_line(layer: LayerChange) -> str:
    """One layer change as text: ``~ name [nodes] (profile 1): precision Float → Half``."""
    from trtdoc.render.escape import one_line

    mark = {"changed": "~", "added": "+", "removed": "-"}[layer.status]
    profile = f" (profile {layer.profile})" if layer.profile else ""
    nodes = f" [{_nodes_text(layer.nodes)}]" if layer.nodes else ""
    head = f"{mark} {layer.name}{nodes}{profile}"
    if layer.status != "changed":
        return one_line(f"{head}: {layer.type} layer {layer.status}")
    return one_line(f"{head}: " + "; ".join(change_phrase(d) for d in layer.changes))


def diff_text(diff: Diff) -> str:
    """The whole comparison as plain text for a terminal (every value on one line)."""
    from trtdoc.render.escape import one_line

    out = [one_line(f"{diff.old} → {diff.new}: {len(diff.changed)} of {len(diff.engines)} "
                    "engine(s) changed")]
    for c in diff.changed:
        out.append("")
        out.append(one_line(f"{c.engine}: {c.status}"))
        if c.status != "changed":
            continue
        rows = [*c.settings, *c.profiles, *(s for s in c.summary if s.counts),
                *(Change(f"{p.what} layers", p.old, p.new, p.delta) for p in c.precision_mix),
                *(Change(f"{t.what} layers", t.old, t.new, t.delta) for t in c.layer_types),
                *c.accuracy, *c.times]
        out += [one_line(f"  {change_phrase(r)}") for r in rows]
        if c.layer_times:
            out.append(f"  layers whose time moved most ({len(c.layer_times)}):")
            out += [one_line(f"    {change_phrase(t)}") for t in c.layer_times]
        out += [one_line(f"  finding new: {f}") for f in c.findings_added]
        out += [one_line(f"  finding gone: {f}") for f in c.findings_removed]
        if c.layers:
            out.append(f"  layers ({c.layer_summary}):")
            out += [f"    {layer_line(layer)}" for layer in c.layers]
        notes = [change_phrase(n) for n in c.notes]
        if c.renamed:
            notes.append(f"{c.renamed} layer(s) renamed with the same ONNX nodes")
        if notes:
            out.append(one_line("  not changes: " + "; ".join(notes)))
    if diff.unchanged:
        out += ["", one_line("unchanged: " + ", ".join(diff.unchanged))]
    return "\n".join(out) + "\n"

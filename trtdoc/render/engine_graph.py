"""The whole-engine graph: one node per engine layer, edges along the tensors between layers.

:func:`links_from_inspection` joins each layer input to the layer (or engine input) that
writes that tensor, and each engine output to the layer that writes it: one pass over the
layers, so 200 records of 1,000 layers cost no more than their layer tables. The graph is
built only when its pages are written (:func:`graph_pages`), never for the engine page.

Nodes are coloured by precision (one ``classDef`` per member of ``values.PRECISIONS``, plus
other types and none), and their labels say the precision in words too, for colour-blind
readers and print. Reformats are hexagons and casts parallelograms; the engine's inputs and
outputs are stadiums.

Size bound: an engine of at most :data:`GRAPH_LAYERS` layers is one diagram on its graph page,
``engines/<slug>~graph.md``. A larger one is grouped by ONNX scope (``/encoder/layer.0/...``,
read from the first fused ONNX node, else the layer name; Myelin's ``{ForeignNode[a...b]}``
by its first node), at the shallowest scope level whose groups have at most ``GRAPH_LAYERS``
layers each (layers without a scope join the group before them); more than :data:`MAX_GROUPS`
such groups are merged into runs of neighbours, and an engine whose names carry no scope is cut
into runs of consecutive layers. Groups still over ``GRAPH_LAYERS`` are split into parts. The
graph page then shows the groups, each one node with its layer count, and each group is drawn
whole on a page of its own, ``engines/<slug>~graph-<k>.md``. Every
diagram stays under Mermaid's limits (50,000 characters, 500 edges): edges past
:data:`EDGE_LIMIT` are left out and counted on the page, and labels shorten when the text
would pass :data:`TEXT_LIMIT`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from trtdoc.inspect.types import PRECISION_OF_DTYPE, Inspection, Layer
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import mermaid_label, one_line, slug, truncate
from trtdoc.values import PRECISIONS

GRAPH_LAYERS = 120  # layers one diagram draws; ~120 nodes top to bottom is ~9,000 px tall
# Groups the grouped overview aims for: each is a page, and 200 engines of 1,000 layers
# should not add 8,000 pages to a site's build.
MAX_GROUPS = 16
EDGE_LIMIT = 450  # Mermaid refuses a diagram of more than 500 edges (its maxEdges)
TEXT_LIMIT = 45_000  # ... and of more than 50,000 characters (its maxTextSize)
SCOPE_DEPTH = 8  # scope levels tried; deeper ones name single layers, not blocks
NAME_LINE = 28  # a label line: a node stays narrow enough for a top-to-bottom column
ENGINES_DIR = "engines"

# Fill colours from Okabe and Ito's palette for colour-blind readers, light enough for black
# text, so a node reads the same in the light and the dark scheme. One per precision a spec
# may name (values.PRECISIONS); "other" holds the remaining types (int4, fp4, Int32...).
PRECISION_FILLS = dict(zip(PRECISIONS, ("#56B4E9", "#E69F00", "#F0E442", "#009E73",
                                        "#CC79A7"), strict=True))
PRECISION_COLOUR_WORDS = dict(zip(PRECISIONS, ("blue", "orange", "yellow", "green", "pink"),
                                  strict=True))
OTHER, NONE = "other", "none"
AWAY = "away"  # on a group's page, another group its tensors come from or go to
# Drawn at full size, not shrunk to the column: a graph wider than the page scrolls sideways
# in its box (trtdoc.css, .trtdoc-graph), so its labels stay at the theme's 16 px. Shrunk,
# bert-tiny's 2,253 px wide graph had 5 px labels at 1,280 px. Closer spacing keeps it
# narrower.
INIT = ('%%{init: {"flowchart": {"useMaxWidth": false, "nodeSpacing": 24, '
        '"rankSpacing": 32}}}%%')
_FOREIGN = re.compile(r"\{ForeignNode\[(.*?)(?:\.\.\.|\]\})")


@dataclass(frozen=True)
class TensorLinks:
    """An engine's layers and the tensors between them, by position.

    Nodes are numbered: the layers ``0..n-1`` in engine order, then the engine inputs, then
    the engine outputs (see :meth:`input_node`, :meth:`output_node`).
    """

    layers: tuple[Layer, ...]
    inputs: tuple[str, ...]  # engine input tensor names, in the engine's order
    outputs: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]  # (writer, reader), one per pair, in reader order

    def input_node(self, k: int) -> int:
        return len(self.layers) + k

    def output_node(self, k: int) -> int:
        return len(self.layers) + len(self.inputs) + k


def links_from_inspection(inspection: Inspection) -> TensorLinks:
    """The tensor links of ``inspection``: an edge from the layer (or engine input) that
    writes a tensor to each layer (or engine output) that reads it. Tensors nobody in the
    engine writes (weights, a shape the runtime gives) draw no edge."""
    layers = tuple(inspection.layers)
    inputs = tuple(t.name for t in inspection.io if t.mode == "Input")
    outputs = tuple(t.name for t in inspection.io if t.mode == "Output")
    n = len(layers)
    writer: dict[str, int] = {}
    for k, name in enumerate(inputs):
        writer.setdefault(name, n + k)
    for i, layer in enumerate(layers):
        for t in layer.outputs:
            writer.setdefault(t.name, i)
    edges: dict[tuple[int, int], None] = {}
    for i, layer in enumerate(layers):
        for t in layer.inputs:
            w = writer.get(t.name)
            if w is not None and w != i:
                edges[(w, i)] = None
    for k, name in enumerate(outputs):
        w = writer.get(name)
        if w is not None and w < n:
            edges[(w, n + len(inputs) + k)] = None
    return TensorLinks(layers, inputs, outputs, tuple(edges))


# --------------------------------------------------------------------------------------------
# What a node shows
# --------------------------------------------------------------------------------------------
def precision_class(dtype: str) -> str:
    """The colour class of a layer precision (a TensorRT DataType name): a member of
    ``values.PRECISIONS``, ``"other"`` or ``"none"``."""
    word = PRECISION_OF_DTYPE.get(dtype, "")
    if word in PRECISION_FILLS:
        return word
    return OTHER if dtype else NONE


def precision_word(dtype: str) -> str:
    """The precision as a page says it: ``fp16``, ``int32``, or ``no precision``."""
    return PRECISION_OF_DTYPE.get(dtype) or one_line(dtype).lower() or "no precision"


def layer_kind(layer: Layer) -> str:
    """``"cast"``, ``"reformat"`` or ``"layer"``: a reformat that changes the type is a cast."""
    kind = layer.type.lower()
    if kind == "cast":
        return "cast"
    if kind == "reformat" or layer.name.startswith(("Reformatting CopyNode", "Reformat")):
        before = next((t.dtype for t in layer.inputs if t.dtype), "")
        after = layer.output_type
        return "cast" if before and after and before != after else "reformat"
    return "layer"


_SHAPES = {"layer": ('["', '"]'), "reformat": ('{{"', '"}}'), "cast": ('[/"', '"/]'),
           "io": ('(["', '"])'), "group": ('[["', '"]]')}


_WORD = re.compile(r"\s*\S+\s*")
_BREAK = re.compile(r"[^/_.+\-]+[/_.+\-]*|[/_.+\-]+")  # a piece of a word and its separators


def _lines(text: Any, width: int, count: int) -> list[str]:
    """``text`` on up to ``count`` lines of at most ``width`` characters, broken after a
    space, ``/``, ``_``, ``.``, ``+`` or ``-`` where one is near (a word longer than a line is
    cut), the last line ending in an ellipsis when text is left (the layer table has every
    name whole)."""
    text = one_line(text)
    out: list[str] = []
    line = ""
    at = 0
    words = [piece for word in _WORD.findall(text)
             for piece in ((word,) if len(word) <= width else _BREAK.findall(word))]
    for word in words:
        if len(out) == count:
            break
        while word:
            if len(line) + len(word) <= width:
                line += word
                at += len(word)
                word = ""
            elif line and len(word) <= width:
                out.append(line)
                line = ""
                if len(out) == count:
                    break
            else:  # a word longer than a line: cut it
                room = width - len(line)
                line += word[:room]
                at += room
                word = word[room:]
                out.append(line)
                line = ""
                if len(out) == count:
                    break
    if line and len(out) < count:
        out.append(line)
    if at < len(text) and out:
        out[-1] = truncate(out[-1] + text[at:], width)
    return [line.strip() for line in out if line.strip()] or [""]


def _label(lines: Sequence[str], limit: int) -> str:
    return "<br>".join(mermaid_label(line, limit) for line in lines if line)


def _layer_lines(index: int, layer: Layer, name_lines: int) -> list[str]:
    kind = layer_kind(layer)
    what = truncate(layer.type, NAME_LINE) or "layer"
    if kind != "layer":
        before = next((t.dtype for t in layer.inputs if t.dtype), "")
        after = layer.output_type
        if before and after and before != after:
            what += f" {precision_word(before)} to {precision_word(after)}"
        else:
            what += f" · {precision_word(layer.precision)}"
    else:
        what += f" · {precision_word(layer.precision)}"
    return [*_lines(f"#{index} {one_line(layer.name)}", NAME_LINE, name_lines), what]


# --------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Layers drawn as one node of the grouped graph, and on a page of their own."""

    number: int  # from 1: its page is <slug>~graph-<number>.md
    label: str  # the scope ("/m/encoder/layer.0"), or "layers #a–#b", with "(part i of n)"
    members: tuple[int, ...]  # layer positions, engine order

    @property
    def count(self) -> int:
        return len(self.members)


def scope_of(layer: Layer) -> tuple[str, ...]:
    """The ONNX scope of a layer: the path of its first fused ONNX node (else of its name)
    without the node's own name; ``()`` for a name without ``/``."""
    source = layer.fused[0] if layer.fused else layer.name
    foreign = _FOREIGN.search(source)
    if foreign:
        source = foreign.group(1)
    source = source.split("+", 1)[0].strip()
    if "/" not in source:
        return ()
    parts = [p for p in source.split("/") if p]
    return tuple(parts[:-1][:SCOPE_DEPTH + 4])


def groups_of(layers: Sequence[Layer], *, limit: int | None = None,
              max_groups: int | None = None) -> tuple[Group, ...]:
    """The groups of ``layers`` (see the module docstring); ``limit`` and ``max_groups``
    default to :data:`GRAPH_LAYERS` and :data:`MAX_GROUPS` (read at call time)."""
    limit = max(1, GRAPH_LAYERS if limit is None else limit)
    max_groups = max(2, MAX_GROUPS if max_groups is None else max_groups)
    scopes = [scope_of(layer) for layer in layers]
    scoped = [s for s in scopes if s]
    raw: list[tuple[str, list[int]]] = []
    if scoped:
        common = 0
        first = scoped[0]
        while common < len(first) and all(len(s) > common and s[common] == first[common]
                                          for s in scoped):
            common += 1
        deepest = max(len(s) for s in scoped)
        # The shallowest level whose groups are each small enough to draw: the fewest, most
        # whole blocks (encoder/layer.0, not its attention/self/value). Too many of them run
        # together with their neighbours below; no level fits: the deepest, cut into parts.
        best = _by_scope(scopes, common)
        for depth in range(common + 1, min(deepest, common + SCOPE_DEPTH) + 1):
            best = _by_scope(scopes, depth)
            if max(len(m) for m in best.values()) <= limit:
                break
        named = [("/" + "/".join(key) if key else "(top level)", members)
                 for key, members in best.items()]
        # Too many blocks even at the top level (an LLM's 100 layers.K): runs of neighbours.
        per = -(-len(named) // max_groups)
        for a in range(0, len(named), per):
            run = named[a:a + per]
            label = run[0][0] if len(run) == 1 else f"{run[0][0]} to {run[-1][0]}"
            raw.append((label, sorted(i for _, members in run for i in members)))
        if len(raw) < 2:
            raw = []
    if not raw:  # no scopes to group by: runs of consecutive layers
        size = max(-(-len(layers) // max_groups), min(limit, 20))
        raw = [(f"layers #{a:,}–#{min(a + size, len(layers)) - 1:,}",
                list(range(a, min(a + size, len(layers)))))
               for a in range(0, len(layers), size)]
    groups: list[Group] = []
    for label, members in raw:
        parts = [members[i:i + limit] for i in range(0, len(members), limit)]
        for k, part in enumerate(parts, start=1):
            shown = label if len(parts) == 1 else f"{label} (part {k} of {len(parts)})"
            groups.append(Group(len(groups) + 1, shown, tuple(part)))
    return tuple(groups)


def _by_scope(scopes: Sequence[tuple[str, ...]], depth: int) -> dict[tuple[str, ...],
                                                                        list[int]]:
    """Layer positions by their scope cut to ``depth`` levels, in order of first layer; a
    layer without a scope joins the group of the layer before it (the first group if none)."""
    found: dict[tuple[str, ...], list[int]] = {}
    waiting: list[int] = []
    last: tuple[str, ...] | None = None
    for i, scope in enumerate(scopes):
        if not scope:
            if last is None:
                waiting.append(i)
            else:
                found[last].append(i)
            continue
        last = scope[:depth]
        found.setdefault(last, []).extend(waiting)
        waiting = []
        found[last].append(i)
    if waiting:
        found.setdefault((), []).extend(waiting)
    for members in found.values():
        members.sort()
    return found


# --------------------------------------------------------------------------------------------
# Diagrams
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Diagram:
    """A Mermaid flowchart and what it leaves out."""

    text: Markup
    nodes: int
    edges: int
    edges_left_out: int  # past EDGE_LIMIT
    short_labels: bool  # labels were shortened to stay under TEXT_LIMIT


def _class_lines(used: dict[str, list[str]]) -> list[str]:
    lines = []
    for name, ids in sorted(used.items()):
        if not ids:
            continue
        if name in PRECISION_FILLS:
            style = f"fill:{PRECISION_FILLS[name]},stroke:#333,color:#000"
        elif name == OTHER:
            style = "fill:#BBBBBB,stroke:#333,color:#000"
        elif name == NONE:
            style = "fill:#F5F5F5,stroke:#757575,stroke-dasharray:4 3,color:#000"
        elif name == AWAY:
            style = "fill:#FFFFFF,stroke:#757575,stroke-dasharray:8 4,color:#000"
        else:  # io
            style = "fill:#FFFFFF,stroke:#000,stroke-width:2px,color:#000"
        lines.append(f"    classDef {name} {style}")
        lines.append(f"    class {','.join(ids)} {name}")
    return lines


def _flowchart(nodes: Sequence[tuple[str, str, list[str]]],
               edges: Sequence[tuple[int, int]]) -> Diagram:
    """``nodes`` as (shape, class, label lines), ``edges`` by node position; labels shorten
    (fewer lines, then none but the first) until the text fits :data:`TEXT_LIMIT`."""
    drawn = list(edges[:EDGE_LIMIT])
    for level, limit in ((0, 0), (1, NAME_LINE), (2, 12)):
        used: dict[str, list[str]] = {}
        lines = [INIT, "flowchart TB"]
        for i, (shape, cls, label) in enumerate(nodes):
            opened, closed = _SHAPES[shape]
            shown = label if level == 0 else label[-1:] if level == 1 else label[:1]
            lines.append(f"    n{i}{opened}{_label(shown, limit)}{closed}")
            used.setdefault(cls, []).append(f"n{i}")
        lines += [f"    n{a} --> n{b}" for a, b in drawn]
        lines += _class_lines(used)
        text = "\n".join(lines)
        if len(text) <= TEXT_LIMIT:
            break
    return Diagram(Markup(text), len(nodes), len(drawn), len(edges) - len(drawn), level > 0)


def _layer_node(links: TensorLinks, i: int, name_lines: int = 2) -> tuple[str, str, list[str]]:
    layer = links.layers[i]
    kind = layer_kind(layer)
    return (kind if kind != "layer" else "layer", precision_class(layer.precision),
            _layer_lines(i, layer, name_lines))


def _io_node(links: TensorLinks, node: int) -> tuple[str, str, list[str]]:
    n = len(links.layers)
    if node < n + len(links.inputs):
        return "io", "io", ["input", *_lines(links.inputs[node - n], NAME_LINE, 2)]
    return "io", "io", ["output", *_lines(links.outputs[node - n - len(links.inputs)],
                                          NAME_LINE, 2)]


def whole_graph(links: TensorLinks) -> Diagram:
    """Every layer and engine input/output, every tensor link."""
    count = len(links.layers) + len(links.inputs) + len(links.outputs)
    nodes = [(_layer_node(links, i) if i < len(links.layers) else _io_node(links, i))
             for i in range(count)]
    return _flowchart(nodes, links.edges)


def _dominant(links: TensorLinks, members: Sequence[int]) -> list[tuple[str, int]]:
    counts = Counter(precision_word(links.layers[i].precision) for i in members)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _dominant_class(links: TensorLinks, members: Sequence[int]) -> str:
    counts = Counter(precision_class(links.layers[i].precision) for i in members)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def overview_graph(links: TensorLinks, groups: Sequence[Group]) -> Diagram:
    """One node per group (its scope, layer count and main precision), the engine inputs and
    outputs, and an edge wherever a tensor crosses from one group to another."""
    n = len(links.layers)
    group_of = [k - 1 for k in group_numbers(links, groups)]
    g_count = len(groups)

    def node_of(v: int) -> int:
        return group_of[v] if v < n else g_count + (v - n)

    nodes: list[tuple[str, str, list[str]]] = []
    for g in groups:
        mix = _dominant(links, g.members)
        top = ", ".join(f"{word} {k}" for word, k in mix[:2]) + (", ..." if len(mix) > 2 else "")
        nodes.append(("group", _dominant_class(links, g.members),
                      [f"group {g.number}", *_lines(g.label, NAME_LINE, 2),
                       f"{g.count:,} layers: {top}"]))
    nodes += [_io_node(links, v) for v in range(n, n + len(links.inputs) + len(links.outputs))]
    edges: dict[tuple[int, int], None] = {}
    for a, b in links.edges:
        x, y = node_of(a), node_of(b)
        if x != y:
            edges[(x, y)] = None
    return _flowchart(nodes, tuple(edges))


def group_numbers(links: TensorLinks, groups: Sequence[Group]) -> list[int]:
    """The number of each layer's group, by layer position."""
    group_of = [0] * len(links.layers)
    for g in groups:
        for i in g.members:
            group_of[i] = g.number
    return group_of


def edges_by_group(links: TensorLinks, group_of: Sequence[int],
                   count: int) -> list[list[tuple[int, int]]]:
    """The links that touch each group (index: group number - 1), in one pass: drawing every
    group from every link cost a 1,000-layer engine's 16 groups 16 passes."""
    n = len(links.layers)
    out: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for a, b in links.edges:
        ga = group_of[a] if a < n else 0
        gb = group_of[b] if b < n else 0
        if ga:
            out[ga - 1].append((a, b))
        if gb and gb != ga:
            out[gb - 1].append((a, b))
    return out


def group_graph(links: TensorLinks, groups: Sequence[Group], group: Group, *,
                group_of: Sequence[int] | None = None,
                edges: Sequence[tuple[int, int]] | None = None) -> Diagram:
    """The layers of ``group``, every link among them, and one node per group (or engine
    input/output) a tensor comes from or goes to. ``group_of`` (:func:`group_numbers`) and
    ``edges`` (its part of :func:`edges_by_group`) are computed when not given."""
    n = len(links.layers)
    if group_of is None:
        group_of = group_numbers(links, groups)
    inside = {i: k for k, i in enumerate(group.members)}
    nodes = [_layer_node(links, i) for i in group.members]
    outside: dict[int, int] = {}  # a key for the other side (-group, or io node) -> node

    def other(v: int, coming: bool) -> int:
        key = -group_of[v] if v < n else v
        if key not in outside:
            outside[key] = len(nodes)
            if v < n:
                g = groups[group_of[v] - 1]
                nodes.append(("group", AWAY, [("from" if coming else "to") + f" group {g.number}",
                                              *_lines(g.label, NAME_LINE, 2)]))
            else:
                nodes.append(_io_node(links, v))
        return outside[key]

    drawn: dict[tuple[int, int], None] = {}
    for a, b in links.edges if edges is None else edges:
        ia, ib = inside.get(a), inside.get(b)
        if ia is not None and ib is not None:
            drawn[(ia, ib)] = None
        elif ib is not None:
            drawn[(other(a, True), ib)] = None
        elif ia is not None:
            drawn[(ia, other(b, False))] = None
    return _flowchart(nodes, tuple(drawn))


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------
def graph_page_name(engine: str, number: int = 0) -> Markup:
    """The graph page of the engine whose slug is ``engine`` (``number`` 0), or of its group
    ``number``: a slug and fixed text, a link as it is."""
    return Markup(f"{engine}~graph.md" if number == 0 else f"{engine}~graph-{number}.md")


def legend(diagrams: Sequence[Diagram]) -> str:
    """The colours used in ``diagrams``, in words."""
    text = "\n".join(d.text for d in diagrams)
    words = [f"{p} {PRECISION_COLOUR_WORDS[p]}" for p in PRECISIONS
             if f"classDef {p} " in text]
    if f"classDef {OTHER} " in text:
        words.append("other types grey")
    if f"classDef {NONE} " in text:
        words.append("no precision light grey, dashed")
    if f"classDef {AWAY} " in text:
        words.append("other groups white, long dashes")
    return ", ".join(words)


def graph_pages(record: EngineRecord) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path under the site, template context)`` of the engine's graph page and, for an
    engine of more than :data:`GRAPH_LAYERS` layers, of each group's page (``graph.md.j2``).
    An engine without layers has none."""
    layers = record.inspection.layers
    if not layers:
        return
    engine = str(slug(record.name))
    links = links_from_inspection(record.inspection)
    base = {"r": record, "links": links, "engine_page": Markup(f"{engine}.md"),
            "graph_page": graph_page_name(engine), "limit": GRAPH_LAYERS,
            "before": None, "after": None}
    if len(layers) <= GRAPH_LAYERS:
        diagram = whole_graph(links)
        yield (f"{ENGINES_DIR}/{graph_page_name(engine)}",
               {**base, "diagram": diagram, "groups": (), "group": None,
                "legend": legend([diagram]), "title": f"{one_line(record.name)} graph"})
        return
    groups = groups_of(layers)
    overview = overview_graph(links, groups)
    rows: list[dict[str, Any]] = [
        {"group": g, "page": graph_page_name(engine, g.number),
         "mix": ", ".join(f"{w} {k}" for w, k in _dominant(links, g.members))}
        for g in groups]
    yield (f"{ENGINES_DIR}/{graph_page_name(engine)}",
           {**base, "diagram": overview, "groups": rows, "group": None,
            "legend": legend([overview]), "title": f"{one_line(record.name)} graph"})
    group_of = group_numbers(links, groups)
    touching = edges_by_group(links, group_of, len(groups))
    for k, (g, row) in enumerate(zip(groups, rows, strict=True)):
        diagram = group_graph(links, groups, g, group_of=group_of, edges=touching[k])
        yield (f"{ENGINES_DIR}/{row['page']}",
               {**base, "diagram": diagram, "groups": rows, "group": row,
                "before": rows[k - 1] if k else None,
                "after": rows[k + 1] if k + 1 < len(rows) else None,
                "legend": legend([diagram]),
                "title": f"{one_line(record.name)} graph, group {g.number}"})

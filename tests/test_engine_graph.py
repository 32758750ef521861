"""The whole-engine graph (trtdoc/render/engine_graph.py): a node per layer, edges along tensors.

Real engines: TREx's A100 fp16 export in ../shared/fixtures/trex (imported with ``trtdoc
import``) and a live TensorRT-RTX build of mobilenet_v2 (conftest.py's session build). Large
engines are synthesised (1,000 layers, scoped and unscoped); hostile names come from
sitetools.PAYLOAD.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TREX
from sitetools import PAYLOAD, fixed_records

from trtdoc.cli.group import cli
from trtdoc.inspect.types import IOTensor, Layer, TensorDesc
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord
from trtdoc.render import engine_graph
from trtdoc.render.engine_graph import (
    EDGE_LIMIT,
    GRAPH_LAYERS,
    TEXT_LIMIT,
    graph_pages,
    groups_of,
    links_from_inspection,
    whole_graph,
)
from trtdoc.render.write import plan_site
from trtdoc.values import PRECISIONS

NODE = re.compile(r'^    n(\d+)(?:\["|\{\{"|\[/"|\(\["|\[\[")([^"]*)'
                  r'(?:"\]|"\}\}|"/\]|"\]\)|"\]\])$')
EDGE = re.compile(r"^    n(\d+) --> n(\d+)$")
CLASS = re.compile(r"^    (?:classDef [a-z0-9]+ [a-zA-Z0-9:#,. -]+|class [n0-9,]+ [a-z0-9]+)$")


def parse(text: str) -> tuple[dict[int, str], list[tuple[int, int]]]:
    """The nodes (id → label) and edges of a flowchart; every line must be one of ours."""
    lines = text.split("\n")
    assert lines[0].startswith("%%{init: ") and lines[1] == "flowchart TB", lines[:2]
    nodes: dict[int, str] = {}
    edges = []
    for line in lines[2:]:
        if m := NODE.match(line):
            nodes[int(m.group(1))] = m.group(2)
        elif m := EDGE.match(line):
            edges.append((int(m.group(1)), int(m.group(2))))
        else:
            assert CLASS.match(line), f"a line that is not a node, an edge or a class: {line!r}"
    return nodes, edges


def tensor_links(layers: Sequence[Layer], io: Sequence[IOTensor]) -> set[tuple[str, str]]:
    """The links by brute force, by name: (writer, reader) for every tensor a layer (or an
    engine input) writes and another layer (or an engine output) reads."""
    links = set()
    for t in io:
        if t.mode == "Input":
            links |= {(f"in:{t.name}", f"L{j}") for j, b in enumerate(layers)
                      if t.name in {x.name for x in b.inputs}}
        else:
            writers = [i for i, a in enumerate(layers) if t.name in {x.name for x in a.outputs}]
            links |= {(f"L{writers[0]}", f"out:{t.name}")} if writers else set()
    for i, a in enumerate(layers):
        for j, b in enumerate(layers):
            if i != j and {x.name for x in a.outputs} & {x.name for x in b.inputs}:
                links.add((f"L{i}", f"L{j}"))
    return links


def drawn_links(record: EngineRecord, text: str) -> set[tuple[str, str]]:
    """The edges of the whole graph, by the same names as :func:`tensor_links`."""
    nodes, edges = parse(text)
    n = len(record.inspection.layers)
    names = [f"L{i}" for i in range(n)]
    names += [f"in:{t.name}" for t in record.inspection.io if t.mode == "Input"]
    names += [f"out:{t.name}" for t in record.inspection.io if t.mode == "Output"]
    assert sorted(nodes) == list(range(len(names)))
    return {(names[a], names[b]) for a, b in edges}


# --------------------------------------------------------------------------------------------
# Real engines
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trex_fp16(tmp_path_factory: pytest.TempPathFactory) -> EngineRecord:
    """TREx's A100 fp16 export of ResNet-18, imported as a user would."""
    here = tmp_path_factory.mktemp("trex")
    folder = TREX / "fp16"
    with contextlib.chdir(here):  # away from this repository's trtdoc.yml
        result = CliRunner().invoke(cli, [
            "import", str(folder / "resnet.onnx.engine.graph.json"),
            "--profile", str(folder / "resnet.onnx.engine.profile.json"), "--name", "trex-fp16"],
            prog_name="trtdoc")
    assert result.exit_code == 0, result.output
    return read_record(here / "records" / "trex-fp16.json")


def test_the_trex_a100_graph_has_a_node_per_layer_and_an_edge_per_tensor_link(trex_fp16):
    record = trex_fp16
    layers = record.inspection.layers
    assert len(layers) == 36
    (path, context), = graph_pages(record)
    assert path == "engines/trex-fp16~graph.md" and not context["groups"]
    text = str(context["diagram"].text)
    nodes, _ = parse(text)
    for i, layer in enumerate(layers):  # each layer's node shows its number and its type
        assert re.match(f"#35;{i}( |<br>)", nodes[i]) and layer.type in nodes[i], nodes[i]
    assert drawn_links(record, text) == tensor_links(layers, record.inspection.io)
    # 35 between the 36 layers in engine order, the input's, the output's and 8 residuals
    assert len(tensor_links(layers, record.inspection.io)) == 45
    # of its 12 reformats, the two that change the type are casts (slanted), the other ten
    # hexagons, everything else a box coloured fp16
    assert text.count('[/"') == 2 and text.count('{{"') == 10
    assert "Reformat fp32 to fp16" in nodes[0] and "Reformat fp16 to fp32" in nodes[35]
    assert "classDef fp16 fill:#E69F00" in text and "classDef fp32 fill:#56B4E9" in text


def test_the_trex_graph_page_is_linked_from_the_engine_page(trex_fp16, tmp_path):
    pages = plan_site([trex_fp16], tmp_path)
    engine = pages[tmp_path / "engines" / "trex-fp16.md"].decode()
    graph = pages[tmp_path / "engines" / "trex-fp16~graph.md"].decode()
    assert "See [the engine as a graph](trex-fp16~graph.md)" in engine
    assert "The 36 engine layers of [trex-fp16](trex-fp16.md#engine-layers)" in graph
    assert ": fp32 blue, fp16 orange;" in graph


@pytest.fixture(scope="module")
def rtx_record(mobilenet_build: tuple[Path, Path]) -> EngineRecord:
    """The session's real TensorRT-RTX build of mobilenet_v2 (conftest.py)."""
    return read_record(mobilenet_build[0])


def test_a_real_rtx_build_gets_a_graph_whose_edges_follow_its_tensors(rtx_record):
    record = rtx_record
    layers, io = record.inspection.layers, record.inspection.io
    assert 10 < len(layers) <= GRAPH_LAYERS
    (_, context), = graph_pages(record)
    text = str(context["diagram"].text)
    links = tensor_links(layers, io)
    assert drawn_links(record, text) == links
    # and the tensors lead from the engine's input to its output
    reached, todo = set(), [f"in:{t.name}" for t in io if t.mode == "Input"]
    while todo:
        node = todo.pop()
        if node not in reached:
            reached.add(node)
            todo += [b for a, b in links if a == node]
    assert {f"out:{t.name}" for t in io if t.mode == "Output"} <= reached, sorted(reached)


# --------------------------------------------------------------------------------------------
# Large engines: grouped, under Mermaid's limits
# --------------------------------------------------------------------------------------------
def _tensor(name: str) -> TensorDesc:
    return TensorDesc(name, (1, 64), "Half", "Row major linear FP16 format")


def synthetic(count: int, *, scoped: bool = True, name: str = "big") -> EngineRecord:
    """bert-tiny's record holding ``count`` layers: blocks of 10 (``/model/layers.K/...``),
    each a chain with a residual link from its first layer to its last, and every 7th layer
    a Reformat."""
    bert = next(r for r in fixed_records() if r.name == "bert-tiny")
    layers = []
    for i in range(count):
        node = f"/model/layers.{i // 10}/mlp/op_{i}" if scoped else f"Op_{i}"
        inputs = [_tensor(f"t{i - 1}" if i else "x")]
        if i % 10 == 9:
            inputs.append(_tensor(f"t{i - 9}"))
        layers.append(Layer(name=node if i % 7 else f"Reformatting CopyNode {i}",
                            type="Reformat" if i % 7 == 0 else "gemm",
                            inputs=tuple(inputs), outputs=(_tensor(f"t{i}"),), tactic="",
                            fused=(node,), precision="Half"))
    io = (IOTensor("x", "Input", "Half", (1, 64)), IOTensor(f"t{count - 1}", "Output", "Half",
                                                           (1, 64)))
    return dataclasses.replace(bert, name=name, inspection=dataclasses.replace(
        bert.inspection, layers=tuple(layers), io=io))


@pytest.mark.parametrize("scoped", [True, False], ids=["scoped", "unscoped"])
def test_a_1000_layer_engine_is_grouped_and_every_diagram_fits_mermaid(scoped):
    record = synthetic(1000, scoped=scoped)
    pages = list(graph_pages(record))
    (first, overview), *groups = pages
    assert first == "engines/big~graph.md"
    rows = overview["groups"]
    assert 2 <= len(rows) <= engine_graph.MAX_GROUPS and len(groups) == len(rows)
    members = [i for row in rows for i in row["group"].members]
    assert sorted(members) == list(range(1000))  # every layer in exactly one group
    if scoped:  # 100 blocks are too many groups (16): runs of seven neighbouring blocks
        assert [row["group"].label for row in rows][:2] == [
            "/model/layers.0 to /model/layers.6", "/model/layers.7 to /model/layers.13"]
        assert [row["group"].count for row in rows] == [70] * 14 + [20]
    else:  # no scopes: runs of 63 consecutive layers
        assert [row["group"].label for row in rows][:2] == ["layers #0–#62", "layers #63–#125"]
    # the overview: one node per group and per engine input/output
    nodes, edges = parse(str(overview["diagram"].text))
    assert len(nodes) == len(rows) + 2
    for k, (path, context) in enumerate(groups, start=1):
        group = context["group"]["group"]
        assert path == f"engines/big~graph-{k}.md" and group.number == k
        assert group.count <= GRAPH_LAYERS
        text = str(context["diagram"].text)
        assert len(text) <= TEXT_LIMIT and context["diagram"].edges <= EDGE_LIMIT
        nodes, edges = parse(text)
        for j, i in enumerate(group.members):  # the group's layers come first, in order
            assert re.match(f"#35;{i}( |<br>)", nodes[j]), (k, j, nodes[j])
        # inside the group, an edge for each link between its layers
        inside = {(a, b) for a, b in edges if a < group.count and b < group.count}
        expected = {(x, y) for x, i in enumerate(group.members)
                    for y, j in enumerate(group.members)
                    if j == i + 1 or (j % 10 == 9 and i == j - 9)}
        assert inside == expected


def test_groups_are_cut_into_parts_of_at_most_the_bound():
    layers = synthetic(300).inspection.layers
    one_scope = [dataclasses.replace(layer, fused=("/model/block/op",)) for layer in layers]
    groups = groups_of([*one_scope, *layers[:10]], limit=100)
    assert [g.count for g in groups][:3] == [100, 100, 100]
    assert groups[0].label == "/model/block (part 1 of 3)"


def test_edges_past_mermaids_limit_are_left_out_and_counted(tmp_path: Path):
    """100 layers, each reading every earlier layer's output: 4,950 links, drawn whole."""
    record = synthetic(100)
    layers = tuple(Layer(f"d{i}", "gemm", tuple(_tensor(f"t{j}") for j in range(i)) or (
        _tensor("x"),), (_tensor(f"t{i}"),), "", (), "Half") for i in range(100))
    record = dataclasses.replace(record, inspection=dataclasses.replace(
        record.inspection, layers=layers))
    links = links_from_inspection(record.inspection)
    assert len(links.edges) == 4950 + 1 + 1
    diagram = whole_graph(links)
    assert diagram.edges == EDGE_LIMIT and diagram.edges_left_out == 4952 - EDGE_LIMIT
    page = plan_site([record], tmp_path)[tmp_path / "engines" / "big~graph.md"].decode()
    assert "4,502 more tensor links are not drawn: Mermaid draws at most 500 edges" in page


# --------------------------------------------------------------------------------------------
# Hostile names
# --------------------------------------------------------------------------------------------
HOSTILE = [PAYLOAD, 'a"]\n    n0 --> n1\n    click n0 call alert(1)', "%%{init: {}}%%",
           "x --> y; classDef fp16 fill:red", "]]}}/]\")", "#quot;", "&lt;b&gt;", "\u2028\x00",
           "ok" * 5000]


def test_hostile_layer_and_tensor_names_stay_inside_their_labels():
    record = synthetic(len(HOSTILE))
    layers = tuple(dataclasses.replace(layer, name=name, type=name, fused=(name,),
                                       outputs=(*layer.outputs, _tensor(name)))
                   for layer, name in zip(record.inspection.layers, HOSTILE, strict=True))
    io = (*record.inspection.io, IOTensor(PAYLOAD, "Output", "Half", (1,)))
    record = dataclasses.replace(record, inspection=dataclasses.replace(
        record.inspection, layers=layers, io=io))
    text = str(whole_graph(links_from_inspection(record.inspection)).text)
    nodes, edges = parse(text)  # every line is a node, an edge or a class of ours
    assert len(nodes) == len(HOSTILE) + 3
    assert text.count("%%") == 2  # the init directive's: a "%" in a name is escaped
    assert all(len(label) < 400 for label in nodes.values())


def test_hostile_names_cannot_pass_the_text_limit():
    record = synthetic(GRAPH_LAYERS)
    layers = tuple(dataclasses.replace(layer, name='"' * 200, type="<" * 200)
                   for layer in record.inspection.layers)
    diagram = whole_graph(links_from_inspection(dataclasses.replace(
        record.inspection, layers=layers)))
    assert len(diagram.text) <= TEXT_LIMIT and diagram.short_labels
    parse(str(diagram.text))


# --------------------------------------------------------------------------------------------
# Colours: one class per precision a spec may name
# --------------------------------------------------------------------------------------------
def test_every_precision_has_its_own_colour():
    assert list(engine_graph.PRECISION_FILLS) == list(PRECISIONS)
    assert len(set(engine_graph.PRECISION_FILLS.values())) == len(PRECISIONS)
    for dtype, word in (("Float", "fp32"), ("Half", "fp16"), ("BFloat16", "bf16"),
                        ("Int8", "int8"), ("FP8", "fp8"), ("Int32", "other"), ("", "none")):
        assert engine_graph.precision_class(dtype) == word


def test_no_graph_page_for_an_engine_without_layers(tmp_path: Path):
    record = synthetic(3)
    empty = dataclasses.replace(record, inspection=dataclasses.replace(
        record.inspection, layers=()))
    assert list(graph_pages(empty)) == []
    pages = plan_site([empty], tmp_path)
    assert "~graph" not in " ".join(p.name for p in pages)
    assert "the engine as a graph" not in pages[tmp_path / "engines" / "big.md"].decode()

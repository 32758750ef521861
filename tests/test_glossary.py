"""The glossary (trtdoc.render.glossary): every layer type the pages show has a cited line,
and engine pages link their layer types to it."""

from __future__ import annotations

import re

from conftest import REPO, TREX

from trtdoc.inspect.trtexec import inspection_from_trtexec
from trtdoc.record.files import read_record
from trtdoc.render.glossary import TERMS, term_anchor


def test_every_layer_type_of_the_shipped_and_imported_engines_has_a_line() -> None:
    types = {layer.type for p in (REPO / "records").glob("*.json")
             for layer in read_record(p).inspection.layers}
    for precision in ("fp16", "fp32"):
        folder = TREX / precision
        types |= {layer.type for layer in inspection_from_trtexec(
            folder / "resnet.onnx.engine.graph.json").layers}
    assert {"kgen", "correlation", "shape_call", "CaskConvolution", "Reformat", "NoOp"} <= types
    assert [t for t in sorted(types) if term_anchor(t) is None] == []


def test_every_line_cites_its_source_and_anchors_are_unique() -> None:
    assert {"ForeignNode", "kgen", "shape_call", "Reformat", "tactic", "REFORMAT"} <= {
        t.term for t in TERMS}
    assert all(t.source.startswith(("https://", "measured: ")) for t in TERMS)
    anchors = [t.anchor for t in TERMS]
    assert len(set(anchors)) == len(anchors)


def test_engine_pages_link_their_layer_types_to_the_glossary() -> None:
    glossary = (REPO / "site" / "glossary.md").read_text()
    page = (REPO / "site" / "engines" / "mobilenet-v2-fp16.md").read_text()
    links = re.findall(r"\[`([^`]+)`\]\(\.\./glossary\.md#([a-z0-9-]+)\)", page)
    assert ("correlation", "layer-type-correlation") in links
    assert ("kgen", "layer-type-kgen") in links
    for _, anchor in links:
        assert f'<a id="{anchor}"></a>' in glossary

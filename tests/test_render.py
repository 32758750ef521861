"""Pages rendered from fixed records: goldens, determinism, well-formed tables, mkdocs."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
from sitetools import (
    GOLDEN,
    RECORDS,
    commonmark_tables,
    fixed_previous,
    fixed_records,
    html_facts,
    markdown_table_lines,
    mkdocs_build,
    render_fixture_site,
)

from trtdoc.errors import RenderError
from trtdoc.render.mermaid import build_flow
from trtdoc.render.write import is_generated, plan_site, render_site, stale_pages

REGEN = "TRTDOC_REGEN_GOLDEN=1 pytest tests/test_render.py"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    site = tmp_path_factory.mktemp("plan") / "site"
    pages = plan_site(fixed_records(), site, previous=fixed_previous())
    return {p.relative_to(site).as_posix(): data for p, data in pages.items()}


def test_pages_match_goldens(planned: dict[str, bytes]) -> None:
    if os.environ.get("TRTDOC_REGEN_GOLDEN"):
        for old in GOLDEN.rglob("*.md"):
            old.unlink()
        for rel, data in planned.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
    expected = {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*.md")}
    assert sorted(planned) == sorted(expected), f"page set differs; regenerate with: {REGEN}"
    for rel, data in planned.items():
        if data != expected[rel]:
            diff = "".join(difflib.unified_diff(
                expected[rel].decode().splitlines(True), data.decode().splitlines(True),
                f"golden/{rel}", f"rendered/{rel}", n=2))
            pytest.fail(f"{rel} differs from its golden file; if the change is intended, "
                        f"regenerate with: {REGEN}\n{diff[:6000]}")


def test_expected_pages(planned: dict[str, bytes]) -> None:
    required = {"changes.md", "compatibility.md", "glossary.md", "engines/bert-tiny.md",
                "engines/hostile-names.md", "engines/index.md", "engines/resnet18-trtexec.md",
                "engines/resnet18-trtexec-fp32.md"}
    assert required <= set(planned)
    graphs = {f"{p.removesuffix('.md')}~graph.md" for p in required | {
        "engines/mobilenet-v2-fp16.md"} if p.startswith("engines/") and "index" not in p}
    assert set(planned) - required <= {"engines/mobilenet-v2-fp16.md"} | graphs


def test_rendering_twice_gives_identical_bytes(tmp_path: Path) -> None:
    a = plan_site(fixed_records(), tmp_path, previous=fixed_previous())
    b = plan_site(list(reversed(fixed_records())), tmp_path, previous=fixed_previous())
    assert a == b
    for data in a.values():
        text = data.decode("utf-8")
        assert "\r" not in text and text.endswith("\n") and not text.endswith("\n\n")
        assert not re.search(r"[ \t]+\n", text), "trailing whitespace"


def test_every_table_is_well_formed_for_commonmark(planned: dict[str, bytes]) -> None:
    for rel, data in planned.items():
        text = data.decode()
        tables = commonmark_tables(text)
        rows_seen = sum(1 + 1 + len(rows) for _, rows in tables)  # header, delimiter, body
        assert rows_seen == markdown_table_lines(text), f"{rel}: a table line is not a row"
        for header, rows in tables:
            assert header > 0
            assert all(n == header for n in rows), f"{rel}: row cell counts {rows} != {header}"


def test_hostile_names_never_reach_markdown_raw(planned: dict[str, bytes]) -> None:
    page = planned["engines/hostile-names.md"].decode()
    outside_code = re.sub(r"(?s)(`{3,}).*?\1", "", page)  # fenced code is escaped by mkdocs
    assert "<script" not in outside_code
    assert "<img" not in outside_code and "<b>" not in outside_code
    mermaid = re.findall(r"(?s)```mermaid\n(.*?)```", page)
    node = re.compile(r'^    n\d+(\["[^"]*"\]|\("[^"]*"\)|\(\["[^"]*"\]\))$')
    edge = re.compile(r"^    n\d+ -(->|\.->) n\d+$")
    # charts (charts.py): fixed front matter, then quoted categories and plain numbers
    chart = re.compile(r'^(---|config:|  themeCSS: "[^"]*"|  xyChart:|    (width|height|'
                       r'plotReservedSpacePercent): \d+|    yAxis: \{[a-zA-Z:, ]*\}|'
                       r'xychart-beta horizontal|    title "[^"]*"|'
                       r'    x-axis \[("[^"]*"(, )?)+\]|    y-axis "[^"]*" 0 --> [0-9.]+|'
                       r'    bar \[[0-9.]+(, [0-9.]+)*\]|    "[^"]*" : [0-9.]+)$')
    for block in mermaid:
        for line in block.splitlines()[1:]:
            assert node.match(line) or edge.match(line) or chart.match(line) or line.startswith(
                ("    classDef ", "    class ", "    title ")), line
    diagrams = "".join(mermaid)
    assert "#lt;script#gt;" in diagrams and "#124;" in diagrams and "#37;#37;{init" in diagrams


def test_build_flow_marks_the_branches_not_taken() -> None:
    bert = next(r for r in fixed_records() if r.name == "bert-tiny")
    flow = build_flow(bert)
    assert 'n1["fp32:<br>no conversion"]' in flow  # short lines keep the flow narrow
    assert "class n2,n3,n4,n5,n6 skipped" in flow
    assert '(["sm80"])' in flow and '(["sm89"])' in flow


def test_render_writes_only_changed_files_and_removes_stale_pages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = render_site(fixed_records(), site, previous=fixed_previous())
    assert first.written and not first.unchanged
    mtimes = {p: p.stat().st_mtime_ns for p in first.written}
    second = render_site(fixed_records(), site, previous=fixed_previous())
    assert not second.written and len(second.unchanged) == len(first.written)
    assert all(p.stat().st_mtime_ns == mtimes[p] for p in second.unchanged)

    hand_written = site / "engines" / "notes.md"
    hand_written.write_text("# My notes\n")
    fewer = [r for r in fixed_records() if r.name != "bert-tiny"]
    planned = plan_site(fewer, site, previous=fixed_previous())
    assert site / "engines" / "bert-tiny.md" in stale_pages(site, planned)
    third = render_site(fewer, site, previous=fixed_previous())
    assert third.removed == (site / "engines" / "bert-tiny.md",
                             site / "engines" / "bert-tiny~graph.md")
    assert hand_written.is_file(), "a page without the generated mark is never removed"
    assert is_generated(site / "engines" / "index.md")


def test_user_templates_override_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "index.md.j2").write_text(
        "<!-- generated by trtdoc -->\n# Our engines\n{% for r in records %}\n- {{ r.name|cell }}\n"
        "{% endfor %}\n")
    pages = plan_site(fixed_records(), tmp_path / "site", templates_dir=tmp_path / "tpl")
    index = pages[tmp_path / "site" / "engines" / "index.md"].decode()
    assert index.startswith("<!-- generated by trtdoc -->\n# Our engines\n- bert-tiny\n")
    engine = pages[tmp_path / "site" / "engines" / "bert-tiny.md"].decode()
    assert "## Parameters" in engine  # not overridden: the shipped template


def test_template_errors_name_the_template(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "index.md.j2").write_text("{{ no_such_value }}\n")
    with pytest.raises(RenderError) as exc:
        plan_site(fixed_records(), tmp_path / "site", templates_dir=tmp_path / "tpl")
    # The file and the line (the folder is outside the working directory, so shown whole).
    assert str(exc.value) == (f"{tmp_path / 'tpl' / 'index.md.j2'}:1: UndefinedError: "
                              "'no_such_value' is undefined")
    with pytest.raises(RenderError) as exc:
        plan_site([], tmp_path / "site", templates_dir=tmp_path / "missing")
    assert str(exc.value) == (f"{tmp_path / 'missing'}: the folder does not exist; pass an "
                              "existing folder to --templates or leave it out")


def test_no_records_still_gives_a_linkable_site(tmp_path: Path) -> None:
    pages = plan_site([], tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in pages) == [
        "changes.md", "compatibility.md", "engines/index.md", "glossary.md"]
    assert b"No engines yet" in pages[tmp_path / "engines" / "index.md"]


# --------------------------------------------------------------------------------------------
# The built HTML (mkdocs build --strict)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mkdocs")
    site = render_fixture_site(root)
    result = mkdocs_build(site, root / "public")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return root / "public"


def test_mkdocs_strict_build_has_every_page_in_the_navigation(built: Path) -> None:
    index = (built / "index.html").read_text()
    for href in ("engines/", "engines/bert-tiny/", "engines/hostile-names/",
                 "engines/resnet18-trtexec/", "compatibility/", "changes/"):
        assert f'href="{href}"' in index, f"{href} is not in the navigation"


def test_built_tables_have_consistent_rows(built: Path) -> None:
    for page in sorted(built.rglob("*.html")):
        for rows in html_facts(page).tables:
            assert rows and all(n == rows[0] for n in rows), f"{page}: {rows}"


def test_no_script_or_handler_from_names_in_built_html(built: Path) -> None:
    page = built / "engines" / "hostile-names" / "index.html"
    facts = html_facts(page)
    assert not facts.handlers, facts.handlers
    assert "img" not in facts.tags and "b" not in facts.tags
    for src, text in facts.scripts:
        assert "alert" not in text and "pwn" not in text, (src, text[:200])
    text = "".join(facts.text)
    assert 'conv|0 <script>alert("pwn")</script>' in text  # shown, as text
    assert "out|put <img src=x onerror=alert(1)>" in text
    for other in built.rglob("*.html"):
        assert not html_facts(other).handlers, other


def test_site_loads_nothing_from_the_network(built: Path) -> None:
    for page in built.rglob("*.html"):
        html = page.read_text()
        loaded = re.findall(r'<(?:script|img|iframe)[^>]+src="(https?:[^"]*)"', html)
        loaded += re.findall(r'<link[^>]+href="(https?:[^"]*)"', html)
        assert not loaded, f"{page} loads {loaded}"
        assert re.findall(r'<script src="[^"]*mermaid.min.js"', html), page


def test_an_engine_with_760_layers_stays_usable(tmp_path: Path) -> None:
    import dataclasses

    from trtdoc.render.mermaid import FUSED_NODES_SHOWN, FUSION_GROUPS_SHOWN, FUSION_LINE

    bert = next(r for r in fixed_records() if r.name == "bert-tiny")
    layers = [dataclasses.replace(layer, name=f"{layer.name}_copy{i}",
                                  fused=tuple(f"{n}/{'very_long_scope/' * 6}{i}"
                                              for n in layer.fused))
              for i in range(22) for layer in bert.inspection.layers][:760]
    big = dataclasses.replace(bert, name="big", inspection=dataclasses.replace(
        bert.inspection, layers=tuple(layers)))
    page = plan_site([big], tmp_path)[tmp_path / "engines" / "big.md"].decode()
    assert '??? note "All 760 layers"' in page
    # Header, rule, 760 layers: all inside the collapsible (a text table, see layer_table.py).
    table_rows = page.split('??? note "All 760 layers"\n\n    ```text\n', 1)[1].split(
        "\n    ```\n", 1)[0].split("\n")
    assert len(table_rows) == 762 and all(row.startswith("    ") for row in table_rows)
    # the build flow runs top to bottom, the fusion diagram left to right
    (fusion,) = re.findall(r"(?s)```mermaid\n(flowchart LR\n.*?)```", page)
    nodes = re.findall(r'^    n\d+[\[(]', fusion, re.M)
    assert len(nodes) <= FUSION_GROUPS_SHOWN * (FUSED_NODES_SHOWN + 2)
    # Every label line fits a 720 px column: at most FUSION_LINE characters, two lines and
    # the layer type; a cut name ends in an ellipsis (the table has it whole).
    labels = re.findall(r'"([^"]*)"', fusion)
    lines = [line for label in labels for line in label.split("<br>")]
    assert max(len(line) for line in lines) <= FUSION_LINE + len("()")
    assert max(label.count("<br>") for label in labels) == 2
    assert any(line.endswith("\u2026") for line in lines)


def test_a_lower_precision_page_compares_itself_with_its_fp32_variant(tmp_path: Path) -> None:
    import dataclasses

    from trtdoc.record.files import read_record

    fp16 = read_record(RECORDS / "mobilenet-v2-fp16.json")
    fp32 = dataclasses.replace(
        fp16, name="mobilenet-v2-fp32", engine_bytes=fp16.engine_bytes * 2,
        spec=dataclasses.replace(fp16.spec, name="mobilenet-v2-fp32", precision="fp32"))
    render_site([fp16, fp32], tmp_path)
    page = (tmp_path / "engines" / "mobilenet-v2-fp16.md").read_text()
    assert "### Against the fp32 variant" in page
    assert "[mobilenet-v2-fp32](mobilenet-v2-fp32.md)" in page
    comparison = page.split("### Against the fp32 variant", 1)[1]
    size_row = next(line for line in comparison.splitlines() if line.startswith("| Engine size |"))
    assert size_row.endswith("| 0.50× |")
    fp32_page = (tmp_path / "engines" / "mobilenet-v2-fp32.md").read_text()
    assert "Against the fp32 variant" not in fp32_page


def test_each_accuracy_output_says_what_gates_it() -> None:
    import dataclasses

    from trtdoc.render.engine_page import engine_context
    from trtdoc.spec.types import Tolerance

    base = next(r for r in fixed_records() if r.name == "mobilenet-v2-fp16")
    assert base.spec.accuracy is not None
    accuracy = dataclasses.replace(base.spec.accuracy, tolerance=Tolerance(min_cosine=0.99),
                                   outputs={"output": Tolerance(max_abs=0.2)})
    spec = dataclasses.replace(base.spec, accuracy=accuracy)
    (row,) = engine_context(dataclasses.replace(base, spec=spec))["accuracy_outputs"]
    assert row["gate"] == "max abs ≤ 0.2, cosine ≥ 0.99"
    spec = dataclasses.replace(spec, accuracy=dataclasses.replace(
        accuracy, outputs={"output": "ignore"}))
    (row,) = engine_context(dataclasses.replace(base, spec=spec))["accuracy_outputs"]
    assert row["gate"] == "ignored: measured, not gated"


def test_the_strict_build_helper_fails_on_a_warning(tmp_path: Path) -> None:
    """The mkdocs checks of these tests can fail: a broken link is an error, not a pass."""
    from sitetools import mkdocs_build

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.md").write_text("# Home\n\n[broken](nowhere.md)\n")
    result = mkdocs_build(site, tmp_path / "out")
    assert result.returncode != 0, result.stderr
    assert "nowhere.md" in result.stderr


def test_engine_pages_carry_their_metadata_and_tags_in_front_matter(tmp_path: Path) -> None:
    import dataclasses

    import yaml

    from trtdoc.record.files import read_record

    record = read_record(RECORDS / "mobilenet-v2-fp16.json")
    hostile = dataclasses.replace(record, name="tagged", spec=dataclasses.replace(
        record.spec, tags=('x"]\n---\n<script>alert(1)</script>', "vision", "VISION", "", " "),
        owner="a: b # c"))
    pages = plan_site([record, hostile], tmp_path)

    def front(name: str) -> dict[str, object]:
        text = pages[tmp_path / "engines" / f"{name}.md"].decode()
        head, _, _ = text.removeprefix("---\n").partition("\n---\n")
        meta: dict[str, object] = yaml.safe_load(head)
        return meta

    assert front("mobilenet-v2-fp16") == {
        "title": "mobilenet-v2-fp16", "engine": "mobilenet-v2-fp16", "backend": "tensorrt-rtx",
        "backend_version": record.backend_version, "precision": "fp16",
        "owner": "vision-platform", "targets": ["sm86", "sm89", "sm120"],
        "tags": ["classification", "vision"]}
    meta = front("tagged")
    # one line each, HTML-escaped inside the YAML string (the theme prints tags as HTML),
    # duplicates and empty tags dropped, nothing ends the front matter early
    assert meta["tags"] == ["vision", 'x&quot;] --- &lt;script&gt;alert(1)&lt;/script&gt;']
    assert meta["owner"] == "a: b # c"
    # the summary table shows the same list
    page = pages[tmp_path / "engines" / "tagged.md"].decode()
    assert "| Tags | vision, x\"&#93; --- &lt;script&gt;alert(1)&lt;/script&gt; |" in page

"""The site with a deployment file: verdict marks on the compatibility page and engine pages."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from pathlib import Path

from sitetools import (
    PAYLOAD,
    REPO,
    active_html,
    commonmark_tables,
    fixed_records,
    hostile_cases,
    html_facts,
    markdown_active_html,
    mkdocs_build,
    replaced_where_decodable,
    substituted,
)

from trtdoc.compat.deploy import Deployment, load_deployment
from trtdoc.compat.verdicts import Plan, Verdict, evaluate_all
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord
from trtdoc.render.escape import md_cell
from trtdoc.render.write import plan_site, render_site

# Every cell the deployment table can hold: a mark with its colour class, hover text and note
# number, or a dash where the target does not deploy the engine.
MARK = re.compile(r'^<span class="trtdoc-(?P<colour>runs|fails|unknown)" '
                  r'title="(?P<title>[^"<>]*)">(?P<glyph>[✓✗?])</span> '
                  r"\[(?P<note>\d+)\]\(#deploy-(?P=note)\)$")
HAND_CHECKED = """\
targets:
  - name: hopper
    gpu: H100
    driver: "580.65.06"
    runtime: tensorrt-rtx 1.7.1
    engines: ["*"]
  - name: ampere
    gpu: A100
    driver: "580.65.06"
    runtime: tensorrt-rtx 1.7.1
    engines: [magika-fp32]
"""


def shipped_records() -> list[EngineRecord]:
    return [read_record(p) for p in sorted((REPO / "records").glob("*.json"))]


def write_deployment(folder: Path, text: str) -> Deployment:
    path = folder / "deploy.yaml"
    path.write_text(text)
    return load_deployment(path)


def pages_of(records: list[EngineRecord], site: Path,
             deployment: Deployment | None = None) -> dict[str, str]:
    planned = plan_site(records, site, deployment=deployment)
    return {p.relative_to(site).as_posix(): data.decode() for p, data in planned.items()}


def section(page: str, heading: str) -> str:
    """From ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = page.index(f"\n{heading}\n") + 1
    ends = [m.start() + 1 for m in re.finditer(rf"\n(#{{1,{len(level)}}}) ", page)
            if m.start() + 1 > start]
    return page[start:ends[0] if ends else len(page)]


def deployment_table(page: str) -> tuple[list[str], dict[str, list[str]]]:
    """The targets (columns) and, per engine, its cells, as the page writes them."""
    lines = [ln for ln in section(page, "## Deployment targets").split("\n")
             if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[0] == "Engine"
    rows = {}
    for line in lines[1:]:
        if line.startswith("| Target |"):
            break  # the targets table
        engine, *cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.fullmatch(r"\[(.+?)\]\(engines/[^)]+\.md\)", engine)
        assert name, engine
        rows[html.unescape(name.group(1))] = cells
    return header[1:], rows


def notes(page: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(
        r'(?m)^(\d+)\. <a id="deploy-\1"></a>(.*)$', page)}


def expected_verdicts(records: list[EngineRecord], deployment: Deployment
                      ) -> dict[tuple[str, str], Verdict]:
    return {(v.engine, v.target): v
            for v in evaluate_all([Plan.from_record(r) for r in records], deployment.targets)}


def test_every_deployed_pair_has_its_mark_and_note(tmp_path: Path) -> None:
    records = shipped_records()
    deployment = load_deployment(REPO / "deploy.yaml")
    page = pages_of(records, tmp_path, deployment)["compatibility.md"]
    expected = expected_verdicts(records, deployment)
    targets, rows = deployment_table(page)
    assert targets == [t.name for t in deployment.targets]
    assert sorted(rows) == sorted(r.name for r in records)
    by_note = notes(page)
    seen = set()
    for engine, cells in rows.items():
        assert len(cells) == len(targets), (engine, cells)
        for target, cell in zip(targets, cells, strict=True):
            verdict = expected.get((engine, target))
            if verdict is None:
                assert cell == "—", (engine, target, cell)
                continue
            mark = MARK.fullmatch(cell)
            assert mark, (engine, target, cell)
            assert mark["glyph"] == verdict.glyph, (engine, target)
            assert mark["colour"] == verdict.verdict, (engine, target)  # coloured by verdict
            assert html.unescape(mark["title"]).startswith(
                f"{verdict.verdict}: {verdict.reason}."), mark["title"]
            note = by_note[int(mark["note"])]
            assert note.startswith(f"[{engine}](engines/{engine}.md) on **{target}**: "
                                   f"{verdict.glyph} {verdict.verdict}. "), note
            assert md_cell(verdict.reason[1:]) in note
            seen.add((engine, target))
    assert seen == set(expected)
    assert sorted(by_note) == list(range(1, len(expected) + 1))


def test_counts_are_the_marks(tmp_path: Path) -> None:
    deployment = write_deployment(tmp_path, HAND_CHECKED)
    page = pages_of(shipped_records(), tmp_path / "site", deployment)["compatibility.md"]
    _, rows = deployment_table(page)
    glyphs = [MARK.fullmatch(c)["glyph"] for cells in rows.values()  # type: ignore[index]
              for c in cells if c != "—"]
    line = re.search(r"(?m)^(\d+) deployed pairs: (\d+) runs, (\d+) fails, (\d+) unknown\.$",
                     page)
    assert line, page[:2000]
    assert [int(n) for n in line.groups()] == [
        len(glyphs), glyphs.count("✓"), glyphs.count("✗"), glyphs.count("?")]


def test_hopper_fails_everywhere_and_ampere_needs_sm80(tmp_path: Path) -> None:
    """By hand, from NVIDIA's pages: TensorRT-RTX 1.7.1 has no Hopper support, and magika-fp32
    is compiled for sm86, sm89 and sm120 only."""
    deployment = write_deployment(tmp_path, HAND_CHECKED)
    records = shipped_records()
    page = pages_of(records, tmp_path / "site", deployment)["compatibility.md"]
    targets, rows = deployment_table(page)
    assert targets == ["hopper", "ampere"]
    assert len(rows) == len(records) == 6
    for engine, (hopper, ampere) in rows.items():
        assert MARK.fullmatch(hopper)["glyph"] == "✗", engine  # type: ignore[index]
        if engine != "magika-fp32":
            assert ampere == "—", engine
    mark = MARK.fullmatch(rows["magika-fp32"][1])
    assert mark and mark["glyph"] == "✗"
    assert html.unescape(mark["title"]) == ("fails: the plan is compiled for sm86, sm89, sm120, "
                                            "not sm80. Fix: add sm80 to targets.")
    note = notes(page)[int(mark["note"])]
    assert note.startswith("[magika-fp32](engines/magika-fp32.md) on **ampere**: ✗ fails. The "
                           "plan is compiled for sm86, sm89, sm120, not sm80. Fix: add sm80 to "
                           "targets. Rule: `rtx-targets` (A TensorRT-RTX plan runs only on the "
                           "compute capabilities compiled into it, which its header lists.). "
                           "Sources: <https://"), note
    assert "7 deployed pairs: 0 runs, 7 fails, 0 unknown." in page


def test_the_targets_table_says_where_each_target_is(tmp_path: Path) -> None:
    deployment = load_deployment(REPO / "deploy.yaml")
    page = pages_of(shipped_records(), tmp_path, deployment)["compatibility.md"]
    table = section(page, "### Targets")
    assert ("| Target | GPU | Compute capability | Driver | Runtime | CUDA | Engines | "
            "Description |") in table
    assert ("| edge-l4 | L4 | 8.9 (sm89) | 580.65.06 | tensorrt-rtx 1.7.1 | not given | "
            "`tag:vision` | Edge inference boxes for the camera line |") in table
    assert ("| a100-batch | A100 | 8.0 (sm80) | 580.65.06 | tensorrt-rtx 1.7.1 | 13 | "
            "`bert-tiny` | Batch tagging on the A100 pool |") in table
    assert table.count("\n| ") == 1 + len(deployment.targets)  # the header, then one each
    # The architecture matrix stays, under the deployment section.
    assert page.index("## Deployment targets") < page.index("## Every architecture") < page.index(
        '| Engine | Runtime | <span title="Turing, compute capability 7.5">sm75</span> |')


def test_engine_pages_list_their_targets(tmp_path: Path) -> None:
    deployment = write_deployment(tmp_path, HAND_CHECKED)
    pages = pages_of(shipped_records(), tmp_path / "site", deployment)
    magika = section(pages["engines/magika-fp32.md"], "### Deployment targets")
    items = [ln for ln in magika.split("\n") if ln.startswith("- ")]
    assert len(items) == 2
    assert items[0].startswith("- **hopper** (H100 (9.0), sm90; tensorrt-rtx 1.7.1; driver "
                               "580.65.06): ✗ fails. TensorRT-RTX 1.7.1 does not support "
                               "compute capability 9.0 (Hopper)"), items[0]
    assert items[1].startswith("- **ampere** (A100 (8.0), sm80; tensorrt-rtx 1.7.1; driver "
                               "580.65.06): ✗ fails. The plan is compiled for sm86, sm89, "
                               "sm120, not sm80. Fix: add sm80 to targets. Rule: "
                               "`rtx-targets`"), items[1]
    assert "Sources: <https://docs.nvidia.com/" in items[1]
    bert = section(pages["engines/bert-tiny.md"], "### Deployment targets")
    assert [ln for ln in bert.split("\n") if ln.startswith("- ")] == [
        ln for ln in bert.split("\n") if ln.startswith("- **hopper**")]

    only_ampere = dataclasses.replace(deployment, targets=deployment.targets[1:])
    bert = section(pages_of(shipped_records(), tmp_path / "site", only_ampere)[
        "engines/bert-tiny.md"], "### Deployment targets")
    assert bert.strip().split("\n")[-1] == (
        "None of the 1 targets in `deploy.yaml` deploys this engine.")


def _without_deployment_sections(pages: dict[str, str]) -> dict[str, str]:
    out = {}
    for rel, page in pages.items():
        if rel == "compatibility.md":
            start = page.index("## Deployment targets\n")
            end = page.index("## Every architecture\n\n") + len("## Every architecture\n\n")
            page = page[:start] + page[end:]
        elif "\n### Deployment targets\n" in page:
            block = section(page, "### Deployment targets")
            page = page.replace("\n" + block, "\n", 1)
        out[rel] = page
    return out


def test_without_a_deployment_the_pages_are_as_before(tmp_path: Path) -> None:
    records = shipped_records()
    plain = pages_of(records, tmp_path)
    assert plain == pages_of(records, tmp_path, None)
    assert not any("Deployment targets" in page or "deploy-" in page for page in plain.values())
    deployed = pages_of(records, tmp_path, load_deployment(REPO / "deploy.yaml"))
    assert sorted(deployed) == sorted(plain)
    # The deployment only adds its sections: everything else is byte for byte the same.
    assert _without_deployment_sections(deployed) == plain
    assert all("### Deployment targets" in deployed[f"engines/{r.name}.md"] for r in records)


HOSTILE_YAML = """\
targets:
  - name: edge
    description: "<script>alert(1)</script> | `tick` [x](javascript:alert(1))
      <img src=x onerror=alert(2)>"
    gpu: L4
    runtime: tensorrt-rtx 1.7.1
    engines: ["*"]
"""


def hostile_deployment(folder: Path) -> Deployment:
    """A description from the file (free text) and, built around the loader, a target whose
    name and engine pattern are the payload too."""
    loaded = write_deployment(folder, HOSTILE_YAML)
    forged = dataclasses.replace(loaded.targets[0], name=PAYLOAD, description=PAYLOAD,
                                 engines=("*", PAYLOAD))
    return dataclasses.replace(loaded, targets=(*loaded.targets, forged))


def test_values_from_the_deployment_file_render_as_text(tmp_path: Path) -> None:
    deployment = hostile_deployment(tmp_path)
    pages = pages_of(fixed_records(), tmp_path / "site", deployment)
    for rel in ("compatibility.md", "engines/bert-tiny.md", "engines/hostile-names.md"):
        page = pages[rel]
        # The layer table is a fenced text block (layer_table.py), and the Triton config a
        # fenced block without a language: names show there as typed, and the code block
        # escapes them; every other value must be escaped text.
        prose = re.sub(r"(?ms)^( *)(`{3,})([A-Za-z0-9_+-]*)\n.*?^\1\2$",
                       lambda m: "" if m.group(3) in ("text", "") else m.group(0), page)
        assert "<script" not in prose and "<img" not in prose and "](javascript" not in prose, rel
        assert not markdown_active_html(page), rel
        for header, rows in commonmark_tables(page):
            assert all(n == header for n in rows), (rel, header, rows)
    assert ("&lt;script&gt;alert(1)&lt;/script&gt; &#124; &#96;tick&#96; "
            "&#91;x&#93;(javascript:alert(1)) &lt;img src=x onerror=alert(2)&gt;"
            in pages["compatibility.md"])


def test_hostile_records_with_a_deployment_still_render(tmp_path: Path) -> None:
    deployment = hostile_deployment(tmp_path)
    for label, record, _, _ in hostile_cases():
        # Everywhere a record file can hold text (elsewhere the decoder refuses it).
        broken = replaced_where_decodable(record, lambda path: PAYLOAD)
        pages = pages_of([broken], tmp_path / "site", deployment)  # type: ignore[list-item]
        page = pages["compatibility.md"]
        _, rows = deployment_table(page)
        assert len(rows) == 1, label
        # A mark for each target (what the verdict rules make of the payload), never a crash.
        assert all(MARK.fullmatch(c) for c in next(iter(rows.values()))), (label, rows)
        for rel, text in pages.items():
            assert not markdown_active_html(text), (label, rel)
    # Settings that are not a list: no plan can be made, so every target that names the engine
    # says "unknown", and why.
    record = hostile_cases()[0][1]
    unplannable = substituted(record, (("attr", "settings"),), 10**400)
    page = pages_of([unplannable], tmp_path / "site", deployment)[  # type: ignore[list-item]
        "compatibility.md"]
    _, rows = deployment_table(page)
    marks = [MARK.fullmatch(c) for c in rows["bert-tiny"]]
    assert [m["glyph"] for m in marks if m] == ["?", "?"]
    assert html.unescape(marks[0]["title"]) == (  # type: ignore[index]
        "unknown: not known: the record holds a value of the wrong type. Fix: rebuild it with "
        "`trtdoc build --force`.")


# --------------------------------------------------------------------------------------------
# The built HTML (mkdocs build --strict)
# --------------------------------------------------------------------------------------------
def _built(root: Path, records: list[EngineRecord], deployment: Deployment) -> Path:
    site = root / "site"
    shutil.copytree(REPO / "site", site, ignore=shutil.ignore_patterns("engines", "changes.md",
                                                                      "compatibility.md"))
    render_site(records, site, deployment=deployment)
    result = mkdocs_build(site, root / "public")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return root / "public"


def test_mkdocs_strict_build_with_the_shipped_deployment(tmp_path: Path) -> None:
    built = _built(tmp_path, shipped_records(), load_deployment(REPO / "deploy.yaml"))
    page = (built / "compatibility" / "index.html").read_text()
    assert page.count('<span class="trtdoc-runs" title="runs: ') == 13
    for n in range(1, 14):
        assert f'href="#deploy-{n}"' in page and f'id="deploy-{n}"' in page, n
    for rows in html_facts(built / "compatibility" / "index.html").tables:
        assert rows and all(n == rows[0] for n in rows), rows
    engine = (built / "engines" / "bert-tiny" / "index.html").read_text()
    assert "<strong>a100-batch</strong>" in engine and "✓ runs." in engine


def test_mkdocs_strict_build_shows_hostile_values_as_text(tmp_path: Path) -> None:
    built = _built(tmp_path, fixed_records(), hostile_deployment(tmp_path))
    for page in (built / "compatibility" / "index.html",
                 built / "engines" / "hostile-names" / "index.html"):
        text = page.read_text()
        assert not active_html(text), page
        facts = html_facts(page)
        for rows in facts.tables:
            assert rows and all(n == rows[0] for n in rows), (page, rows)
    shown = "".join(html_facts(built / "compatibility" / "index.html").text)
    assert ("<script>alert(1)</script> | `tick` [x](javascript:alert(1)) "
            "<img src=x onerror=alert(2)>") in shown
    assert "[x](javascript:alert(1))" in shown

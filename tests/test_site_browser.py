"""The built site in headless Chromium: every Mermaid diagram renders, nothing leaves the host.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` Python
package, whose driver ships in the wheel; ``playwright install`` is never run. The site is
served from a loopback http.server, and every request to any other host is aborted and
counted: the pages must work with no network at view time.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sitetools import (
    MERMAID_HINT,
    MERMAID_JS,
    ZENSICAL,
    fixed_records,
    hostile_site,
    mkdocs_build,
    render_fixture_site,
    zensical_build,
)

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TRTDOC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run"]
SCREENSHOTS = os.environ.get("TRTDOC_SCREENSHOTS")  # a folder: keep screenshots to look at

# mkdocs-material renders each diagram into a *closed* shadow root; opening them lets the test
# read the SVG. This runs before any page script.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, Object.assign({}, init, {mode: "open"}));
};
"""

DIAGRAM_STATE = """
() => {
  const hosts = [...document.querySelectorAll("div.mermaid")];
  return {
    pending: document.querySelectorAll("pre.mermaid").length,
    rendered: hosts.filter(h => h.shadowRoot && h.shadowRoot.querySelector("svg")).length,
    errors: hosts.filter(h => h.shadowRoot &&
        /Syntax error|Parse error/i.test(h.shadowRoot.textContent)).length
      + (/Syntax error in text/i.test(document.body.innerText) ? 1 : 0),
  };
}
"""


# The smallest label font of each rendered diagram, in CSS pixels as drawn: the SVG is scaled
# to the content column, so a wide diagram's 16 px labels can end up 5 px (seen at 1,280 px).
DIAGRAM_FONTS = """
() => [...document.querySelectorAll("div.mermaid")].map(host => {
  const svg = host.shadowRoot && host.shadowRoot.querySelector("svg");
  if (!svg) return null;
  const box = svg.viewBox.baseVal;
  const scale = box && box.width ? svg.getBoundingClientRect().width / box.width : 1;
  const sizes = [...svg.querySelectorAll(".nodeLabel, .edgeLabel, text")]
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale).filter(x => x > 0);
  return sizes.length ? Math.min(...sizes) : null;
}).filter(x => x !== null)
"""

# Header cells whose right edge is past the visible part of their table's scroll box: a
# column the reader cannot see without knowing to scroll. A table holding a name of 30
# characters or more (a kernel or layer name, a URL) may scroll: such a name wraps only at 30
# characters, and two such columns can be wider than the column together.
CLIPPED_COLUMNS = """
() => [...document.querySelectorAll("article table")].flatMap(table => {
  if (/[^\\s\\u200b]{30}/.test(table.textContent)) return [];
  const box = (table.closest(".md-typeset__scrollwrap") || table.parentElement)
    .getBoundingClientRect();
  return [...table.querySelectorAll("thead th")]
    .filter(th => th.getBoundingClientRect().right > box.right + 1)
    .map(th => th.textContent.trim());
})
"""
MIN_LABEL_PX = 12.0  # below this a diagram label is hard to read on a laptop

# Words broken inside, within the elements ``selector`` finds. Each word (a run of text
# without spaces, in one text node) shorter than 30 characters is measured with a Range: if
# its rects lie on two lines, each character is measured to find where the line breaks, and
# a break is fine only right after a character that is not a letter or digit: after - _ . or
# /, and after the other punctuation where browsers break any text (`)|<`, `?|y`, in names
# from hostile models). Long hashes and kernel names may wrap anywhere. Collapsed <details>
# are opened first: a reader opens them.
BROKEN_WORDS = """
(selector) => {
  const SHORT = 30;
  const out = [];
  const lower = (a, b) => b.top >= a.bottom - Math.min(a.height, b.height) / 2;
  const charRect = (node, i) => {
    const r = document.createRange();
    r.setStart(node, i);
    r.setEnd(node, i + 1);
    return r.getBoundingClientRect();
  };
  for (const root of document.querySelectorAll(selector)) {
    root.querySelectorAll("details").forEach(d => { d.open = true; });
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest("script, style, .mermaid")) continue;
      const words = /[^\\s\\u200b]+/g;
      for (let m = words.exec(node.data); m; m = words.exec(node.data)) {
        const word = m[0];
        if (word.length < 2 || word.length >= SHORT) continue;
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + word.length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
        if (rects.length < 2 || !rects.some(r => lower(rects[0], r))) continue;
        let prev = charRect(node, m.index);
        for (let i = 1; i < word.length; i++) {
          const here = charRect(node, m.index + i);
          if (here.height > 0 && prev.height > 0 && lower(prev, here)
              && /[\\p{L}\\p{N}]/u.test(word[i - 1])) {
            const where = parent.closest("td, th, li, p, h1, h2, h3, h4, h5, h6, a, code");
            out.push(`${word.slice(0, i)}|${word.slice(i)} (in ${
              (where || parent).tagName.toLowerCase()})`);
          }
          if (here.height > 0) prev = here;
        }
      }
    }
  }
  return out;
}
"""

# Table cells a reader cannot reach, within the elements ``selector`` finds: a table (or its
# scroll wrapper) wider than its box that does not scroll, and each cell walked up to the
# page: a box that clips (overflow hidden or clip) must hold it, a box that scrolls holds it
# (the reader scrolls), and what is left must lie within the window.
CUT_OFF_CELLS = """
(selector) => {
  const out = [];
  const scrolls = v => v === "auto" || v === "scroll";
  const clips = v => v === "hidden" || v === "clip";
  const viewport = document.documentElement.clientWidth;
  const label = el => el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40);
  for (const table of document.querySelectorAll(selector + " table")) {
    const name = label(table.querySelector("th, td") || table);
    const box = table.closest(".md-typeset__scrollwrap") || table.parentElement;
    for (const el of [table, box]) {
      if (el.scrollWidth > el.clientWidth + 1 && !scrolls(getComputedStyle(el).overflowX)) {
        out.push(`table "${name}": ${el.scrollWidth} px wide in a ${el.clientWidth} px ` +
                 `${el.tagName.toLowerCase()} that does not scroll`);
      }
    }
    for (const cell of table.querySelectorAll("th, td")) {
      const style = getComputedStyle(cell);
      if (clips(style.overflowX) && cell.scrollWidth > cell.clientWidth + 1) {
        out.push(`cell "${label(cell)}" of table "${name}": its text is clipped`);
        continue;
      }
      let rect = cell.getBoundingClientRect();
      if (rect.width === 0) continue;
      for (let el = cell.parentElement; el && el !== document.documentElement;
           el = el.parentElement) {
        const ox = getComputedStyle(el).overflowX;
        const r = el.getBoundingClientRect();
        if (scrolls(ox)) {
          rect = r;
        } else if (clips(ox) && (rect.right > r.right + 1 || rect.left < r.left - 1)) {
          out.push(`cell "${label(cell)}" of table "${name}": cut off by a ` +
                   `${el.tagName.toLowerCase()}.${el.className} with overflow ${ox}`);
          break;
        }
      }
      if (rect.right > viewport + 1 || rect.left < -1) {
        out.push(`cell "${label(cell)}" of table "${name}": past the edge of the window`);
      }
    }
  }
  return [...new Set(out)];
}
"""
CONTENT = "article"  # the page's own text: not the navigation, header or footer
WIDTHS = (1280, 390)  # a laptop, a phone
SCHEMES = {"light": "default", "dark": "slate"}  # mkdocs-material's data-md-color-scheme


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return (f"headless Chromium not found at {CHROMIUM}; install it with "
                "`apt-get install chromium` (CI installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing; pip install -e '.[test]'"
    return None


BUILDERS = {"mkdocs": mkdocs_build, "zensical": zensical_build}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """The fixture site built by mkdocs-material, then by Zensical (its successor), served."""
    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    assert MERMAID_JS.is_file(), MERMAID_HINT
    if request.param == "zensical":
        assert ZENSICAL.is_file(), "zensical is missing; pip install -e '.[test]'"
    root = tmp_path_factory.mktemp(f"browser-{request.param}")
    # Layer tables paged at 20 rows, so the site has layer pages (bert-tiny's 36 layers make
    # one), a page kind the reading checks cover like every other; and graphs grouped above 40
    # layers, so mobilenet-v2-fp16's 57 make a grouped graph and group pages, beside the
    # whole graphs of bert-tiny and of TREx's A100 export (resnet18-trtexec).
    site = render_fixture_site(root, layer_rows=20, graph_layers=40)
    result = BUILDERS[request.param](site, root / "public")
    assert result.returncode == 0, result.stdout + result.stderr
    with _serve(root / "public") as base:
        yield request.param, base, root / "public"


@pytest.fixture(scope="module")
def served_hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The site of records with a script payload in every field (see test_render_hostile)."""
    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    assert MERMAID_JS.is_file(), MERMAID_HINT
    root = tmp_path_factory.mktemp("hostile-browser")
    result = mkdocs_build(hostile_site(root), root / "public")
    assert result.returncode == 0, result.stderr
    with _serve(root / "public") as base:
        yield base, root / "public"


@contextlib.contextmanager
def _serve(public: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(public))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _pages(public: Path) -> list[str]:
    return sorted(p.relative_to(public).parent.as_posix() + "/"
                  for p in public.rglob("index.html") if "assets" not in p.parts)


def _screenshot_pages(pages: list[str]) -> list[str]:
    """One page of each kind: every page but the engine pages, plus one engine page with
    every section and the first layer page."""
    layers = [p for p in pages if "~layers-" in p][:1]
    graphs = [p for p in pages if "~graph" in p]
    return [p for p in pages if not p.startswith("engines/") or p == "engines/"] + [
        "engines/bert-tiny/", "engines/resnet18-trtexec-fp32/", *layers, *[
            p for p in graphs if p.endswith(
                ("bert-tiny~graph/", "mobilenet-v2-fp16~graph/", "mobilenet-v2-fp16~graph-1/"))]]


def _visit_all(browser: object, base: str, public: Path, scheme: str, width: int,
               external: list[str], builder: str) -> tuple[list[str], int, int]:
    """Open every page in one colour scheme at one width; return failures, pages and
    diagrams seen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(color_scheme=scheme,  # type: ignore[attr-defined]
                                  viewport={"width": width, "height": 900})
    context.add_init_script(OPEN_SHADOW_ROOTS)

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            r.continue_()  # type: ignore[attr-defined]
        else:
            external.append(url)
            r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    failures: list[str] = []
    pages = diagrams = 0
    at = f"{builder} {scheme} {width} px"
    every = _pages(public)
    for rel in every:
        expected = (public / rel / "index.html").read_text().count('class="mermaid"')
        page.goto(f"{base}/{rel}".replace("/./", "/"), wait_until="load")
        if expected:
            # A timeout is reported below with the diagram counts, not raised here.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(f"() => ({DIAGRAM_STATE})().rendered >= {expected}",
                                       timeout=15000)
        state = page.evaluate(DIAGRAM_STATE)
        if state["rendered"] != expected or state["pending"] or state["errors"]:
            failures.append(f"{at} {rel}: {state}, expected {expected}")
        shown = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        if shown != SCHEMES[scheme]:
            failures.append(f"{at} {rel}: data-md-color-scheme is {shown!r}, not "
                            f"{SCHEMES[scheme]!r}")
        if width >= 1280:
            small = [round(px, 1) for px in page.evaluate(DIAGRAM_FONTS) if px < MIN_LABEL_PX]
            if small:
                failures.append(f"{at} {rel}: diagram labels drawn at {small} px (at least "
                                f"{MIN_LABEL_PX} px)")
            clipped = page.evaluate(CLIPPED_COLUMNS)
            if clipped:
                failures.append(f"{at} {rel}: table columns out of view: {clipped}")
        failures += [f"{at} {rel}: word broken inside: {w}"
                     for w in page.evaluate(BROKEN_WORDS, CONTENT)]
        failures += [f"{at} {rel}: {c}" for c in page.evaluate(CUT_OFF_CELLS, CONTENT)]
        pages += 1
        diagrams += state["rendered"]
        if rel in _screenshot_pages(every):
            # Kept for a person to look at: the test's own folder, or TRTDOC_SCREENSHOTS.
            folder = Path(SCREENSHOTS or public.parent / "screenshots")
            folder.mkdir(parents=True, exist_ok=True)
            name = rel.strip("./").replace("/", "_").replace("~", "-") or "home"
            page.screenshot(path=f"{folder}/{builder}-{name}-{scheme}-{width}.png",
                            full_page=True)
    context.close()
    return failures + [f"{at}: page error {e}" for e in errors], pages, diagrams


def test_every_page_renders_offline_and_reads_at_every_width(
        served: tuple[str, str, Path]) -> None:
    """Every page in both colour schemes at 1,280 and 390 px: its diagrams render with no
    network, no short word is broken inside and no table cell is out of reach."""
    from playwright.sync_api import sync_playwright

    builder, base, public = served
    external: list[str] = []
    failures: list[str] = []
    seen = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for scheme in SCHEMES:
                for width in WIDTHS:
                    failed, pages, diagrams = _visit_all(browser, base, public, scheme, width,
                                                         external, builder)
                    failures += failed
                    seen.append((f"{scheme} {width} px", pages, diagrams))
        finally:
            browser.close()
    print(f"browser ({builder}): "
          + "; ".join(f"{s}: {p} pages, {d} diagrams rendered" for s, p, d in seen)
          + f"; {len(external)} external requests")
    assert not external, f"requests left the host: {sorted(set(external))}"
    assert not failures, "\n".join(failures)
    assert all(p >= 7 and d >= 8 for _, p, d in seen), seen


def test_no_payload_in_any_field_ever_runs_in_the_browser(
        served_hostile: tuple[str, Path]) -> None:
    """Every page of the all-hostile site, opened and its diagrams rendered: no payload's
    handler or script runs (it would set window.__pwned or open an alert)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    base, public = served_hostile
    ran: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_init_script(OPEN_SHADOW_ROOTS)
            context.route("**/*", lambda r: r.continue_() if urlsplit(
                r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(
                ("data:", "blob:")) else r.abort())
            page = context.new_page()
            page.on("dialog", lambda d: (ran.append(f"dialog {d.message}"), d.dismiss()))
            pages = 0
            engines = [r for r in _pages(public) if r.startswith("engines/") and r != "engines/"
                       and "~graph" not in r]
            for rel in _pages(public):
                expected = (public / rel / "index.html").read_text().count('class="mermaid"')
                page.goto(f"{base}/{rel}".replace("/./", "/"), wait_until="load")
                if expected:
                    with contextlib.suppress(PlaywrightTimeout):
                        page.wait_for_function(
                            f"() => ({DIAGRAM_STATE})().rendered >= {expected}", timeout=15000)
                page.wait_for_timeout(50)  # let an onerror of a broken <img> fire
                if page.evaluate("() => window.__pwned !== undefined"):
                    ran.append(f"{rel}: window.__pwned = {page.evaluate('window.__pwned')}")
                pages += 1
            context.close()
        finally:
            browser.close()
    assert len(engines) == 8 and pages > 8, (engines, pages)  # two per hostile case
    assert not ran, ran


# The checks themselves, on pages made to fail them (and on pages that must pass them).
WORD_CASES = [
    # a narrow column with word-break: break-all splits short words anywhere
    pytest.param('<article style="width:3em;word-break:break-all">Workspace Calibration '
                 '580.65.06</article>', True, id="break-all"),
    # breaks after - _ . / are where a reader expects them
    pytest.param('<article style="width:4em">mobilenet-v2-fp16 a_b_c_d_e_f 580.65.06.11 '
                 'x/y/z/w/v</article>', False, id="after-punctuation"),
    # a hash of 30 characters or more may wrap anywhere
    pytest.param('<article style="width:5em;overflow-wrap:anywhere">'
                 '3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f</article>', False, id="long-hash"),
    # a word that fits is not broken, however narrow the rest
    pytest.param('<article style="width:12em">Workspace Calibration</article>', False,
                 id="fits"),
]
WIDE_ROW = "<tr>" + "<td>Workspace</td>" * 12 + "</tr>"
CELL_CASES = [
    pytest.param(f'<article style="width:200px;overflow:hidden"><table>{WIDE_ROW}</table>'
                 '</article>', True, id="clipped-by-page"),
    pytest.param(f'<article style="width:200px"><div style="overflow-x:hidden"><table>'
                 f'{WIDE_ROW}</table></div></article>', True, id="clipped-by-wrapper"),
    pytest.param(f'<article style="width:200px"><table style="display:block;overflow:hidden">'
                 f'{WIDE_ROW}</table></article>', True, id="table-clips"),
    pytest.param(f'<article style="width:2000px"><table>{WIDE_ROW}</table></article>', True,
                 id="past-the-window"),
    pytest.param(f'<article style="width:200px"><div style="overflow-x:auto"><table>'
                 f'{WIDE_ROW}</table></div></article>', False, id="scrolls"),
    pytest.param('<article style="width:200px"><table><tr><td style="overflow:hidden;'
                 'max-width:2em;white-space:nowrap">Calibration</td></tr></table></article>',
                 True, id="cell-clips"),
]


@pytest.mark.parametrize(("html", "fails"), WORD_CASES)
def test_the_word_check_finds_words_broken_inside(html: str, fails: bool) -> None:
    found = _evaluate_on(html, BROKEN_WORDS)
    assert bool(found) == fails, found


@pytest.mark.parametrize(("html", "fails"), CELL_CASES)
def test_the_cell_check_finds_cells_out_of_reach(html: str, fails: bool) -> None:
    found = _evaluate_on(html, CUT_OFF_CELLS)
    assert bool(found) == fails, found


def _evaluate_on(html: str, check: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 900})
            page.set_content(f"<!doctype html><body style='margin:0;font:16px sans-serif'>"
                             f"{html}</body>")
            found: list[str] = page.evaluate(check, CONTENT)
        finally:
            browser.close()
    return found


def test_the_checks_fail_a_built_page_that_breaks_words_and_hides_cells(
        served: tuple[str, str, Path]) -> None:
    """The engine page with every section, at 390 px, restyled as the broken stylesheet was
    (words broken anywhere, tables clipped): both checks report it."""
    from playwright.sync_api import sync_playwright

    builder, base, _ = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 900})
            page.route("**/*", lambda r: r.continue_() if urlsplit(
                r.request.url).hostname == "127.0.0.1" else r.abort())
            page.goto(f"{base}/engines/bert-tiny/", wait_until="load")
            assert not page.evaluate(BROKEN_WORDS, CONTENT)
            assert not page.evaluate(CUT_OFF_CELLS, CONTENT)
            page.add_style_tag(content=".md-typeset * { word-break: break-all !important; }")
            broken = page.evaluate(BROKEN_WORDS, CONTENT)
            page.add_style_tag(content=".md-typeset__scrollwrap, .md-typeset table "
                               "{ overflow: hidden !important; }")
            cut = page.evaluate(CUT_OFF_CELLS, CONTENT)
        finally:
            browser.close()
    assert len(broken) > 10 and len(cut) > 3, (builder, broken, cut)


def test_the_checked_site_has_every_page_kind(served: tuple[str, str, Path]) -> None:
    _, _, public = served
    pages = _pages(public)
    assert "engines/bert-tiny~layers-2/" in pages, pages
    shots = _screenshot_pages(pages)
    assert {"./", "engines/", "compatibility/", "changes/", "tags/", "engines/bert-tiny/",
            "engines/bert-tiny~layers-2/", "engines/resnet18-trtexec-fp32/",
            "engines/bert-tiny~graph/", "engines/mobilenet-v2-fp16~graph/",
            "engines/mobilenet-v2-fp16~graph-1/"} <= set(shots), shots


def test_the_latency_histogram_becomes_svg_bars(served: tuple[str, str, Path]) -> None:
    """The imported fp32 engine's latency chart (Mermaid xychart-beta) is drawn offline: one
    SVG bar per histogram bin of its record, in both builds."""
    from playwright.sync_api import sync_playwright
    from sitetools import fixed_records

    builder, base, _ = served
    latency = next(r for r in fixed_records()
                   if r.name == "resnet18-trtexec-fp32").profiled.latency  # type: ignore
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(OPEN_SHADOW_ROOTS)
            context.route("**/*", lambda r: r.continue_()
                          if urlsplit(r.request.url).hostname == "127.0.0.1" else r.abort())
            page = context.new_page()
            page.goto(f"{base}/engines/resnet18-trtexec-fp32/", wait_until="load")
            # the latency chart by its title ("1,600 inferences, bins of ..."): the page has
            # the time charts (charts.py) too
            bars = """() => [...document.querySelectorAll("div.mermaid")].map(h => {
                const svg = h.shadowRoot && h.shadowRoot.querySelector("svg");
                if (!svg) return -1;
                const title = (svg.querySelector(".chart-title text") || {}).textContent || "";
                return / inferences, bins of /.test(title)
                    ? svg.querySelectorAll("g.bar-plot-0 rect").length : 0; })"""
            page.wait_for_function(f"() => ({bars})().some(n => n > 0)", timeout=15000)
            drawn = [n for n in page.evaluate(bars) if n > 0]
        finally:
            browser.close()
    assert drawn == [len(latency.histogram)], (builder, drawn)


# The nodes each graph page draws, as SVG: layers and engine inputs/outputs on a whole graph,
# groups and inputs/outputs on a grouped one.
GRAPH_NODES = """
() => [...document.querySelectorAll(".trtdoc-graph div.mermaid")].map(host => {
  const svg = host.shadowRoot && host.shadowRoot.querySelector("svg");
  return svg ? svg.querySelectorAll("g.node").length : -1;
})
"""


def test_every_graph_draws_every_node_as_svg(served: tuple[str, str, Path]) -> None:
    """The graph pages of the fixture site, drawn by the bundled Mermaid with no network: the
    TREx A100 export's 36 layers and its input and output, bert-tiny's 36 layers and 3 I/O
    tensors, and mobilenet-v2-fp16's groups, each group's page with its layers."""
    from playwright.sync_api import sync_playwright

    from trtdoc.render.engine_graph import groups_of

    builder, base, public = served
    records = {r.name: r for r in fixed_records()}
    mobilenet = groups_of(records["mobilenet-v2-fp16"].inspection.layers, limit=40)
    expected = {"engines/resnet18-trtexec~graph/": 36 + 2, "engines/bert-tiny~graph/": 36 + 3,
                "engines/mobilenet-v2-fp16~graph/": len(mobilenet) + 2}
    for group in mobilenet:
        page = f"engines/mobilenet-v2-fp16~graph-{group.number}/"
        assert (public / page / "index.html").is_file(), page
    first = "engines/mobilenet-v2-fp16~graph-1/"
    drawn = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(OPEN_SHADOW_ROOTS)
            page.route("**/*", lambda r: r.continue_() if urlsplit(
                r.request.url).hostname == "127.0.0.1" else r.abort())
            for rel in [*expected, first]:
                page.goto(f"{base}/{rel}", wait_until="load")
                page.wait_for_function(f"() => ({DIAGRAM_STATE})().rendered >= 1",
                                       timeout=15000)
                assert not page.evaluate(DIAGRAM_STATE)["errors"], (builder, rel)
                drawn[rel] = page.evaluate(GRAPH_NODES)
        finally:
            browser.close()
    for rel, count in expected.items():
        assert drawn[rel] == [count], (builder, rel, drawn[rel])
    # a group's page: its layers, and at least one node for where its tensors go
    assert len(drawn[first]) == 1 and drawn[first][0] > mobilenet[0].count, drawn


# Each verdict mark of the architecture matrix: its text and its cell's background, as drawn.
VERDICT_CELLS = """
() => [...document.querySelectorAll(".trtdoc-matrix td > span[class^='trtdoc-']")].map(s => [
  s.className, s.textContent.trim(), getComputedStyle(s.parentElement).backgroundColor,
  getComputedStyle(s).color])
"""


def test_the_matrix_is_coloured_by_verdict_in_both_schemes(
        served: tuple[str, str, Path]) -> None:
    """Runs, fails and not known each tint their cell a colour of their own, in the light and
    the dark scheme, and each cell keeps its mark (✓ ✗ ?) for colour-blind readers and print."""
    from playwright.sync_api import sync_playwright

    builder, base, _ = served
    seen: dict[str, dict[str, set[tuple[str, str, str]]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for scheme in SCHEMES:
                page = browser.new_page(color_scheme=scheme)  # type: ignore[arg-type]
                page.route("**/*", lambda r: r.continue_() if urlsplit(
                    r.request.url).hostname == "127.0.0.1" else r.abort())
                page.goto(f"{base}/compatibility/", wait_until="load")
                for cls, mark, background, colour in page.evaluate(VERDICT_CELLS):
                    seen.setdefault(scheme, {}).setdefault(cls, set()).add(
                        (mark, background, colour))
                page.close()
        finally:
            browser.close()
    marks = {"trtdoc-runs": "✓", "trtdoc-fails": "✗", "trtdoc-unknown": "?"}
    for scheme, cells in seen.items():
        assert set(cells) == set(marks), (builder, scheme, cells)
        for cls, drawn in cells.items():
            assert {m for m, _, _ in drawn} == {marks[cls]}, (builder, scheme, cls, drawn)
            assert len({b for _, b, _ in drawn}) == 1, (builder, scheme, cls, drawn)
        backgrounds = {next(iter(d))[1] for d in cells.values()}
        assert len(backgrounds) == 3 and "rgba(0, 0, 0, 0)" not in backgrounds, backgrounds
    light, dark = ({cls: next(iter(d))[1:] for cls, d in seen[s].items()} for s in SCHEMES)
    assert all(light[cls] != dark[cls] for cls in marks), (light, dark)


# Each graph node's label colour and fill, and their WCAG contrast ratio.
GRAPH_CONTRAST = """
() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).map(v => v / 255).map(
      v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const root = document.querySelector(".trtdoc-graph div.mermaid").shadowRoot;
  return [...root.querySelectorAll("g.node")].map(node => {
    const text = node.querySelector(".nodeLabel p") || node.querySelector(".nodeLabel");
    const shape = node.querySelector("rect, polygon, path");
    const fg = getComputedStyle(text).color, bg = getComputedStyle(shape).fill;
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return [node.getAttribute("class"), fg, bg, (a + 0.05) / (b + 0.05)];
  });
}
"""


def test_graph_labels_read_on_their_fills_in_both_schemes(
        served: tuple[str, str, Path]) -> None:
    """Node fills are light in both schemes; the theme's light-grey dark-scheme labels were
    unreadable on them (contrast 1.3 on white), so every label must reach WCAG's 4.5."""
    from playwright.sync_api import sync_playwright

    builder, base, _ = served
    low = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for scheme in SCHEMES:
                page = browser.new_page(color_scheme=scheme)  # type: ignore[arg-type]
                page.add_init_script(OPEN_SHADOW_ROOTS)
                page.route("**/*", lambda r: r.continue_() if urlsplit(
                    r.request.url).hostname == "127.0.0.1" else r.abort())
                for rel in ("engines/resnet18-trtexec~graph/", "engines/bert-tiny~graph/",
                            "engines/mobilenet-v2-fp16~graph/"):
                    page.goto(f"{base}/{rel}", wait_until="load")
                    page.wait_for_function(f"() => ({DIAGRAM_STATE})().rendered >= 1",
                                           timeout=15000)
                    nodes = page.evaluate(GRAPH_CONTRAST)
                    assert len(nodes) > 5, (builder, scheme, rel, nodes)
                    low += [(scheme, rel, *n) for n in nodes if n[3] < 4.5]
                page.close()
        finally:
            browser.close()
    assert not low, (builder, low[:5])


# --------------------------------------------------------------------------------------------
# The charts (trtdoc/render/charts.py) as drawn: each an SVG of its kind, its labels whole
# --------------------------------------------------------------------------------------------
CHARTS = """
() => [...document.querySelectorAll("div.mermaid")].map(host => {
  const svg = host.shadowRoot && host.shadowRoot.querySelector("svg");
  if (!svg) return null;
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].map(t => t.getBoundingClientRect());
  return {kind: svg.getAttribute("aria-roledescription"),
          outside: texts.filter(r => r.left < box.left - 1 || r.right > box.right + 1).length,
          title: (svg.querySelector(".chart-title text") || {}).textContent || "",
          labels: [...svg.querySelectorAll(".left-axis .label text")].map(t => t.textContent),
          error: /Syntax error|Parse error/i.test(svg.textContent)};
})
"""


def _charts_of(base: str, pages: list[str],
               width: int = 1280) -> dict[str, list[dict[str, object]]]:
    """The diagrams of each page as drawn at ``width`` px, with no network."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.add_init_script(OPEN_SHADOW_ROOTS)
            context.route("**/*", lambda r: r.continue_() if urlsplit(
                r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(
                ("data:", "blob:")) else r.abort())
            page = context.new_page()
            for rel in pages:
                page.goto(f"{base}/{rel}", wait_until="load")
                page.wait_for_function("() => !document.querySelector('pre.mermaid')",
                                       timeout=15000)
                out[rel] = page.evaluate(CHARTS)
        finally:
            browser.close()
    return out


def test_the_time_charts_are_drawn_slowest_layer_first(served: tuple[str, str, Path]) -> None:
    """TREx's A100 fp16 export (resnet18-trtexec): the per-layer and per-type time charts are
    xychart SVGs, the first bar the profile's slowest layer; the precision mix is a pie."""
    builder, base, _ = served
    drawn = _charts_of(base, ["engines/resnet18-trtexec/"])["engines/resnet18-trtexec/"]
    assert all(d is not None and not d["error"] for d in drawn), (builder, drawn)
    charts = {d["title"]: d["labels"] for d in drawn if d["kind"] == "xychart"}
    per_layer = charts["Time per layer, slowest first (ms per inference)"]
    assert per_layer[0] == "#1 Conv_0 + Relu_1: 0.1116 ms" and len(per_layer) == 21, per_layer
    assert per_layer[-1] == "16 other layers: 0.0553 ms"
    assert charts["Time per layer type (ms per inference)"][0] == \
        "CaskConvolution (21 layers): 0.8571 ms"
    assert [d["kind"] for d in drawn].count("pie") == 1, drawn
    # On a phone the charts are scaled to the column, every label inside its chart (measured
    # at the phone's scale, the labels ran past the left edge: trtdoc.css)
    phone = _charts_of(base, ["engines/resnet18-trtexec/"], 390)["engines/resnet18-trtexec/"]
    assert [d["outside"] for d in phone if d["kind"] == "xychart"] == [0, 0], (builder, phone)


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def served_demo(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The repository's own site/ (the pages `make demo` renders from records/: magika and
    mobilenet in several precisions), built by mkdocs-material and by Zensical, served."""
    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    assert MERMAID_JS.is_file(), MERMAID_HINT
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    shutil.copytree(Path(__file__).resolve().parents[1] / "site", root / "site")
    result = BUILDERS[request.param](root / "site", root / "public")
    assert result.returncode == 0, result.stdout + result.stderr
    with _serve(root / "public") as base:
        yield request.param, base


def test_the_variant_and_memory_charts_are_drawn(served_demo: tuple[str, str]) -> None:
    """The engine index has a chart of engine file and weights per spec with variants; an
    engine page has its memory chart and, beside its fp32 variant, the two engines' sizes."""
    builder, base = served_demo
    drawn = _charts_of(base, ["engines/", "engines/magika-fp16/"])
    assert all(d is not None and not d["error"] for ds in drawn.values() for d in ds), drawn
    index = [d for d in drawn["engines/"] if d["kind"] == "xychart"]
    assert [d["labels"][0].split(":")[0] for d in index] == [
        "magika-fp32 engine", "mobilenet-v2-fp32 engine"], (builder, index)
    assert len(index[0]["labels"]) == 6  # three variants, each engine file and weights
    page = {d["title"]: d["labels"] for d in drawn["engines/magika-fp16/"]
            if d["kind"] == "xychart"}
    assert page["Memory"][0].startswith("Weights: "), page
    assert [label.split(":")[0] for label in page["Engine file and weights per variant"]] == [
        "magika-fp32 engine", "magika-fp32 weights", "magika-fp16 engine",
        "magika-fp16 weights"], page

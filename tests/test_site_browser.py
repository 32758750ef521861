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
# column the reader cannot see without knowing to scroll.
CLIPPED_COLUMNS = """
() => [...document.querySelectorAll("article table")].flatMap(table => {
  const box = (table.closest(".md-typeset__scrollwrap") || table.parentElement)
    .getBoundingClientRect();
  return [...table.querySelectorAll("thead th")]
    .filter(th => th.getBoundingClientRect().right > box.right + 1)
    .map(th => th.textContent.trim());
})
"""
MIN_LABEL_PX = 12.0  # below this a diagram label is hard to read on a laptop


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
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The fixture site built by mkdocs-material, then by Zensical (its successor), served."""
    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    assert MERMAID_JS.is_file(), MERMAID_HINT
    if request.param == "zensical":
        assert ZENSICAL.is_file(), "zensical is missing; pip install -e '.[test]'"
    root = tmp_path_factory.mktemp(f"browser-{request.param}")
    site = render_fixture_site(root)
    result = BUILDERS[request.param](site, root / "public")
    assert result.returncode == 0, result.stdout + result.stderr
    with _serve(root / "public") as base:
        yield base, root / "public"


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


def _visit_all(browser: object, base: str, public: Path, scheme: str,
               external: list[str]) -> tuple[list[str], int, int]:
    """Open every page in one colour scheme; return failures, pages and diagrams seen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(color_scheme=scheme,  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
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
    for rel in _pages(public):
        expected = (public / rel / "index.html").read_text().count('class="mermaid"')
        page.goto(f"{base}/{rel}".replace("/./", "/"), wait_until="load")
        if expected:
            # A timeout is reported below with the diagram counts, not raised here.
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(f"() => ({DIAGRAM_STATE})().rendered >= {expected}",
                                       timeout=15000)
        state = page.evaluate(DIAGRAM_STATE)
        if state["rendered"] != expected or state["pending"] or state["errors"]:
            failures.append(f"{scheme} {rel}: {state}, expected {expected}")
        small = [round(px, 1) for px in page.evaluate(DIAGRAM_FONTS) if px < MIN_LABEL_PX]
        if small:
            failures.append(f"{scheme} {rel}: diagram labels drawn at {small} px at 1,280 px "
                            f"wide (at least {MIN_LABEL_PX} px)")
        clipped = page.evaluate(CLIPPED_COLUMNS)
        if clipped:
            failures.append(f"{scheme} {rel}: table columns cut off at 1,280 px: {clipped}")
        pages += 1
        diagrams += state["rendered"]
        if rel in ("engines/bert-tiny/", "compatibility/"):
            # Kept for a person to look at: the test's own folder, or TRTDOC_SCREENSHOTS.
            folder = Path(SCREENSHOTS or public.parent / "screenshots")
            folder.mkdir(parents=True, exist_ok=True)
            name = rel.strip("/").replace("/", "_")
            page.screenshot(path=f"{folder}/{name}-{scheme}-1280.png", full_page=True)
    context.close()
    return failures + [f"{scheme}: page error {e}" for e in errors], pages, diagrams


def test_every_page_renders_its_diagrams_offline(served: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    base, public = served
    external: list[str] = []
    failures: list[str] = []
    seen = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for scheme in ("light", "dark"):
                failed, pages, diagrams = _visit_all(browser, base, public, scheme, external)
                failures += failed
                seen.append((scheme, pages, diagrams))
        finally:
            browser.close()
    print("browser: " + "; ".join(f"{s}: {p} pages, {d} diagrams rendered" for s, p, d in seen)
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
            engines = [r for r in _pages(public) if r.startswith("engines/") and r != "engines/"]
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
    assert len(engines) == 6 and pages > 6, (engines, pages)  # two per hostile case
    assert not ran, ran

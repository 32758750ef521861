"""Helpers shared by the render and browser tests: fixed records, a rendered site, mkdocs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from trtdoc.diff import read_previous
from trtdoc.record import EngineRecord, read_records
from trtdoc.render import render_site

REPO = Path(__file__).resolve().parents[1]
RECORDS = REPO / "tests" / "data" / "records"
GOLDEN = REPO / "tests" / "golden"
MERMAID_JS = REPO / "site" / "assets" / "javascripts" / "vendor" / "mermaid.min.js"
MERMAID_HINT = ("site/assets/javascripts/vendor/mermaid.min.js is missing; run `make setup` "
                "(npm install, then copy node_modules/mermaid/dist/mermaid.min.js there)")


def fixed_records() -> list[EngineRecord]:
    """The checked-in records (regenerate with tests/data/records/make_records.py)."""
    return read_records(RECORDS)


def fixed_previous() -> dict[str, EngineRecord]:
    return dict(read_previous(RECORDS))


def render_fixture_site(root: Path) -> Path:
    """Hand-written pages of the repository plus pages rendered from the fixed records."""
    site = root / "site"
    shutil.copytree(REPO / "site", site, ignore=shutil.ignore_patterns("engines", "changes.md",
                                                                      "compatibility.md"))
    render_site(fixed_records(), site, previous=fixed_previous())
    return site


def mkdocs_build(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of the repository's mkdocs.yml with ``docs_dir`` = ``site``."""
    config = (REPO / "mkdocs.yml").read_text()
    config = re.sub(r"(?m)^docs_dir: .*$", f"docs_dir: {site}", config)
    config = re.sub(r"(?m)^site_dir: .*$", f"site_dir: {out}", config)
    config_path = site.parent / "mkdocs.yml"
    config_path.write_text(config)
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(config_path)], capture_output=True, text=True,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})


# --------------------------------------------------------------------------------------------
# Markdown and HTML table checks
# --------------------------------------------------------------------------------------------
def dedent_admonitions(text: str) -> str:
    """Admonition bodies (``!!! x`` / ``??? x`` then 4-space lines) as plain Markdown.

    CommonMark has no admonitions and would read their indented bodies as code blocks; this
    lets markdown-it check the tables inside them too.
    """
    out, inside = [], False
    for line in text.split("\n"):
        if re.match(r"^(!!!|\?\?\?)\+? ", line):
            inside = True
            out.append("")
            continue
        if inside and (line.startswith("    ") or not line.strip()):
            out.append(line[4:])
            continue
        inside = False
        out.append(line)
    return "\n".join(out)


def commonmark_tables(text: str) -> list[tuple[int, list[int]]]:
    """Each table as ``(header cells, [cells per body row])``, as markdown-it reads it."""
    tokens = MarkdownIt("commonmark").enable("table").parse(dedent_admonitions(text))
    tables: list[tuple[int, list[int]]] = []
    header, rows, cells, in_head = 0, [], 0, False
    for tok in tokens:
        if tok.type == "table_open":
            header, rows = 0, []
        elif tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            cells = 0
        elif tok.type in ("th_open", "td_open"):
            cells += 1
        elif tok.type == "tr_close":
            if in_head:
                header = cells
            else:
                rows.append(cells)
        elif tok.type == "table_close":
            tables.append((header, rows))
    return tables


def markdown_table_lines(text: str) -> int:
    """How many lines look like table rows (start with ``|``), admonitions included."""
    return sum(1 for line in dedent_admonitions(text).split("\n") if line.startswith("|"))


class HtmlFacts(HTMLParser):
    """Tables, scripts, event-handler attributes and text of one built HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[int]] = []  # cells per row
        self._rows: list[list[int]] = []
        self.scripts: list[tuple[str, str]] = []  # (src, inline text)
        self._in_script: str | None = None
        self.handlers: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, f"{name}={value}"))
        if tag == "table":
            self._rows.append([])
            self.tables.append(self._rows[-1])
        elif tag == "tr" and self._rows:
            self._rows[-1].append(0)
        elif tag in ("td", "th") and self._rows and self._rows[-1]:
            self._rows[-1][-1] += 1
        elif tag == "script":
            self._in_script = dict(attrs).get("src") or ""
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._rows:
            self._rows.pop()
        elif tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            src, text = self.scripts[-1]
            self.scripts[-1] = (src, text + data)
        else:
            self.text.append(data)


def html_facts(path: Path) -> HtmlFacts:
    parser = HtmlFacts()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser

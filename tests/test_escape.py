"""The escaping filters, checked against both Markdown dialects the pages meet."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import markdown
import pytest
from markdown_it import MarkdownIt

from trtdoc.escape import code_cell, md_cell, mermaid_label, slug, truncate

NASTY = [
    "plain",
    "a|b||c",
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "x\ny\r\nz",
    "`tick` ``double`` ```triple```",
    "`starts",
    "ends`",
    "*star* **bold** _under_ __dunder__",
    "[link](http://example.invalid) ![img](x)",
    "&amp; &lt; &#124; &#x41;",
    "back\\slash \\| \\*",
    "~~strike~~ ^^caret^^ ==mark==",
    "{: .class } {#id}",
    "# heading",
    "- list item",
    "1. numbered",
    "1) numbered",
    "> quote",
    "    indented",
    "\x02klzzwxh:0000\x03 stash markers",
    "#quot; %%{init: {}}%%",
    " | ",
    "a | <b>bold</b> | `c|d`",
]


def _fuzz(n: int) -> list[str]:
    rng = random.Random(0)
    alphabet = "ab |<>&`*_[]()!#\\\"'~{}:\n\t-=+.1"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(n)]


CASES = NASTY + _fuzz(300)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _render_both(source: str) -> list[str]:
    md_it = MarkdownIt("commonmark").enable("table").render(source)
    py_md = markdown.markdown(source, extensions=["tables"])
    return [md_it, py_md]


def _expected(value: str) -> str:
    text = re.sub(r"\r\n|\r|\n", " ", value)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "\ufffd", text).replace("\t", " ")
    return text.strip()


@pytest.mark.parametrize("value", CASES)
def test_cells_render_literally_in_both_dialects(value: str) -> None:
    source = f"| a | b |\n|---|---|\n| {md_cell(value)} | {code_cell(value)} |\n"
    for rendered in _render_both(source):
        parser = _Cells()
        parser.feed(rendered)
        assert len(parser.rows) == 2, rendered
        assert len(parser.rows[1]) == 2, rendered
        text, code = parser.rows[1]
        assert text.strip() == _expected(value), rendered
        if _expected(value).strip():
            assert code == _expected(value) or code.strip() == _expected(value).strip(), rendered
        allowed = {"table", "thead", "tbody", "tr", "th", "td", "code", "p"}
        assert set(parser.tags) <= allowed, (rendered, set(parser.tags) - allowed)


@pytest.mark.parametrize("value", NASTY)
def test_text_in_a_paragraph_stays_one_literal_paragraph(value: str) -> None:
    for rendered in _render_both(md_cell(value) + "\n"):
        expected = _expected(value)
        if not expected:
            continue
        assert re.fullmatch(r"<p>(.*)</p>\s*", rendered, re.S), rendered
        assert html.unescape(re.sub(r"</?p>", "", rendered)).strip() == expected


def test_code_cell_fence_is_longer_than_any_backtick_run() -> None:
    assert code_cell("a``b") == "```a``b```"
    assert code_cell("`x") == "`` `x ``"
    assert code_cell("plain") == "`plain`"
    assert code_cell("a|b") == "<code>a&#124;b</code>"
    assert code_cell("") == ""


def test_mermaid_label_escapes_every_delimiter() -> None:
    label = mermaid_label('a"b|c<d>e#f&g`h%i\nj')
    assert label == "a#quot;b#124;c#lt;d#gt;e#35;f#amp;g#96;h#37;i j"
    assert '"' not in mermaid_label('"' * 10) and "|" not in mermaid_label("||")


def test_mermaid_label_is_cut_before_escaping() -> None:
    assert mermaid_label("<" * 100, 10) == "#lt;" * 9 + "…"
    assert truncate("abcdef", 4) == "abc…" and truncate("abc", 4) == "abc"


def test_slug() -> None:
    assert slug("mobilenet-v2_fp16.x") == "mobilenet-v2_fp16.x"
    assert slug("../a b/<c>") == "a-b-c"
    assert slug("") == "unnamed"

"""The escaping filters, checked against both Markdown dialects the pages meet."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import markdown
import pytest
from markdown_it import MarkdownIt

from trtdoc.render.escape import code_cell, md_cell, mermaid_label, slug, truncate

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


def test_filters_return_markup_so_the_default_escaping_leaves_them_alone() -> None:
    from markupsafe import Markup

    from trtdoc.render.escape import autolink, code_block, front_matter_str

    for out in (md_cell("<b>"), code_cell("x"), mermaid_label("x"), slug("x"),
                code_block("x"), front_matter_str("x"), autolink("https://example.invalid/")):
        assert isinstance(out, Markup), out


def test_code_block_cannot_be_closed_from_inside() -> None:
    from trtdoc.render.escape import code_block

    block = code_block("a\n```\n<script>x</script>\r````\r\n~~~\n\x02y\x03", "py<thon>")
    fence, *body, last = block.split("\n")
    assert fence == "`````python" and last == "`````"
    assert body == ["a", "```", "<script>x</script>", "````", "~~~", "\ufffdy\ufffd"]
    source = block + "\n\nafter <b>x</b>\n"
    for rendered in (MarkdownIt("commonmark").render(source),
                     markdown.markdown(source, extensions=["pymdownx.superfences"])):
        assert "<script>" not in rendered and rendered.count("<code") == 1, rendered
        assert rendered.index("after") > rendered.index("</code>"), rendered  # block closed


def test_front_matter_title_is_one_html_escaped_yaml_string() -> None:
    import yaml

    from trtdoc.render.escape import front_matter_str

    assert front_matter_str("mobilenet-v2") == '"mobilenet-v2"'
    title = front_matter_str('a"\n---\n<img src=x onerror=alert(1)> \'&')
    assert "\n" not in title and "<" not in title
    assert yaml.safe_load(f"title: {title}")["title"] == (
        "a&quot; --- &lt;img src=x onerror=alert(1)&gt; '&amp;")


def test_autolink_takes_only_plain_https_urls() -> None:
    from trtdoc.render.escape import autolink

    assert autolink("https://docs.nvidia.com/a_b#c") == "<https://docs.nvidia.com/a_b#c>"
    assert autolink("javascript:alert(1)") == "javascript:alert(1)"
    assert autolink("https://x/><script>") == "https://x/&gt;&lt;script&gt;"


def test_values_of_any_type_are_shown_never_raised() -> None:
    from trtdoc.render.escape import plain, shown

    assert plain(None) == "" and plain(10**400) == str(10**400)
    assert plain(10**5000) == "an integer of 16610 bits"
    assert plain([10**5000]) == "a list holding an integer too long to print"
    assert shown(lambda n: f"{n:,}", 1234) == "1,234"
    assert shown(lambda n: f"{n:,}", "<b>\n") == "<b> "  # as text; the caller escapes it
    assert shown(lambda n: f"{n / 3:.1f}", 10**400) == str(10**400)  # float overflow
    assert shown(lambda n: f"{n:.2f}", float("nan")) == "nan"
    assert md_cell(float("inf")) == "inf"
    assert md_cell({"a": "<b>"}) == "&#123;'a': '&lt;b&gt;'&#125;"

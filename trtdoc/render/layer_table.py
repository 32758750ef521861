"""The engine layer table: fixed-width text in a fenced code block, paged for huge engines.

Why text and not a Markdown or HTML table (issue 13, measured with ``bench/site_scale.py``
on 200 engines × 1,000 layers, 2 cores): Python-Markdown, which both mkdocs and Zensical
render with, spends its time per table cell (the table extension splits every row, then
every cell runs the inline patterns), and mkdocs-material's search plugin re-parses every
HTML tag of the page. A pipe table took the site to 106 s in mkdocs and 94 s in Zensical; a
raw ``<table>`` with every value HTML-escaped still costs a tag pair per cell through two
HTML parsers (63 s and 66 s); the same rows as text in one code block are one token for
both parsers (13 s and 23 s). The text stays searchable (search indexes code blocks), is
copied whole by the code block's copy button, and is safe by construction: values are one
line each (:func:`~trtdoc.render.escape.one_line`), and :func:`~trtdoc.render.escape.fenced` picks a
fence no name can close; the HTML is escaped by the code highlighter.

Paging: an engine of more than :data:`PAGE_ROWS` layers shows its first ``PAGE_ROWS`` on its
page, and the rest go, ``PAGE_ROWS`` at a time, to ``engines/<slug>~layers-<k>.md`` (``k``
from 2). ``~`` is a character :func:`~trtdoc.render.escape.slug` never emits, so no engine's
page can be another engine's layer page, and the pages sit beside the engine pages, where the site's
stale-page sweep (``render.write.orphan_pages``) finds them once an engine shrinks or goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from trtdoc.render.escape import fenced, is_one_line, one_line, shown
from trtdoc.render.parameters import format_ms

# 2,000 rows are ~0.4 MB of page and ~40 ms of mkdocs build: a page a browser shows and searches
# at once. Real engines (ResNet, BERT, most LLM engines) stay on one page; 10^6 layers become
# 500 pages of ~0.4 MB instead of one of 72 MB.
PAGE_ROWS = 2000
# Columns are padded to their widest value up to this many characters; a longer name pushes
# the rest of its own row right rather than widening every row.
COLUMN_LIMIT = 60
ENGINES_DIR = "engines"

@dataclass(frozen=True)
class LayerPage:
    """One page of layer rows: ``layers[first:stop]``; page 1 is the engine page itself."""

    number: int
    first: int
    stop: int
    link: Markup  # from any page in engines/: its file name (a slug and fixed text)

    @property
    def label(self) -> Markup:
        """The rows it holds, by their ``#``: ``#2,000–#3,999`` (digits only: no escaping)."""
        return Markup(f"#{self.first:,}–#{self.stop - 1:,}")


@dataclass(frozen=True)
class LayerPaging:
    """An engine's layers split into pages; what the engine and layer templates show."""

    engine: str  # the engine's page name (its slug)
    layers: tuple[Any, ...]
    timed: bool
    pages: tuple[LayerPage, ...]
    medians: bool = False  # a Median column beside the average (profiles that have it)

    @property
    def paged(self) -> bool:
        """Whether some rows are on pages of their own."""
        return len(self.pages) > 1

    @property
    def first(self) -> LayerPage:
        return self.pages[0]

    @property
    def more(self) -> tuple[LayerPage, ...]:
        """The layer pages after the engine page."""
        return self.pages[1:]

    def table(self, page: LayerPage, indent: int = 0) -> Markup:
        """The rows of ``page`` as a fenced text block, each line indented by ``indent``."""
        # Every cell is one_line text, so the table needs a fence and nothing else.
        block = fenced(layer_text(self.layers[page.first:page.stop], page.first, self.timed,
                                  self.medians), "text")
        pad = " " * indent
        # str.split: Markup's own split gives Markup lines, and Markup + str escapes the str
        return Markup("\n".join(pad + line if line else line
                                 for line in str.split(block, "\n")))


def page_name(engine: str, number: int) -> str:
    """The file name of layer page ``number`` (from 2) of the engine whose slug is ``engine``."""
    return f"{engine}~layers-{number}.md"


def paging_from_layers(engine: str, layers: Sequence[Any], *, timed: bool,
                       rows: int | None = None, medians: bool = False) -> LayerPaging:
    """The pages of ``layers`` (engine order) for the engine whose slug is ``engine``,
    ``rows`` (None: :data:`PAGE_ROWS`, read at call time) to a page; ``medians`` adds the
    median time beside the average."""
    layers = tuple(layers)
    rows = max(1, PAGE_ROWS if rows is None else rows)
    pages = []
    for number, first in enumerate(range(0, max(len(layers), 1), rows), start=1):
        link = Markup(f"{engine}.md" if number == 1 else page_name(engine, number))
        pages.append(LayerPage(number, first, min(first + rows, len(layers)), link))
    return LayerPaging(engine, layers, timed, tuple(pages), medians)


def _percent(value: Any) -> str:
    return "" if value is None else shown(lambda v: f"{v:.1f}%", value, none=False)


def layer_row(index: int, layer: Any, timed: bool, medians: bool = False) -> tuple[str, ...]:
    """One layer's cells, as text: ``#``, type, precision, output type, [average, [median,]
    share], name, tactic, fused ONNX nodes. The short columns come first, so they line up on
    every row however long the names are (and stay in view when a code block scrolls
    sideways)."""
    texts = (layer.type, layer.precision, layer.output_type, layer.name, layer.tactic)
    fused = layer.fused
    if is_one_line("".join((*texts, *fused))):
        # The usual row: every name already on one line, checked in one search, not eight.
        kind, precision, output, name, tactic = texts
        nodes = ", ".join(fused)
    else:
        kind, precision, output, name, tactic = (one_line(t) for t in texts)
        nodes = ", ".join(one_line(n) for n in fused)
    cells = [str(index), kind, precision, output]
    if timed:
        cells += [shown(format_ms, layer.time_ms),
                  *((shown(format_ms, layer.median_ms),) if medians else ()),
                  _percent(layer.time_pct)]
    return (*cells, name, tactic, nodes)


def header(timed: bool, medians: bool = False) -> tuple[str, ...]:
    """The column titles: "Time" is the average per inference."""
    times = ("Time", *(("Median",) if medians else ()), "Share") if timed else ()
    return ("#", "Type", "Precision", "Output type", *times, "Layer", "Tactic",
            "Fused ONNX nodes")


def layer_text(layers: Sequence[Any], start: int, timed: bool, medians: bool = False) -> str:
    """``layers`` (numbered from ``start``) as an aligned text table with a header rule."""
    medians = medians and timed
    titles = header(timed, medians)
    rows = [layer_row(start + i, layer, timed, medians) for i, layer in enumerate(layers)]
    widths = [min(COLUMN_LIMIT, max(len(r[c]) for r in (titles, *rows)))
              for c in range(len(titles))]
    # numbers line up on the right
    right = {0, *(range(4, 7 if medians else 6) if timed else ())}

    def line(cells: Sequence[str]) -> str:
        out = [cell.rjust(w) if c in right else cell.ljust(w)
               for c, (cell, w) in enumerate(zip(cells[:-1], widths, strict=False))]
        return "  ".join([*out, cells[-1]]).rstrip()

    rule = "  ".join("-" * w for w in widths[:-1]) + "  " + "-" * max(widths[-1], 1)
    return "\n".join([line(titles), rule, *(line(r) for r in rows)])


def extra_pages(context: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path under the site, template context)`` of each layer page after the engine page,
    for ``layers.md.j2``; ``context`` is the engine page's
    (``render.engine_page.engine_context``)."""
    paging: LayerPaging = context["layer_paging"]
    for page in paging.more:
        before = paging.pages[page.number - 2]
        after = paging.pages[page.number] if page.number < len(paging.pages) else None
        yield (f"{ENGINES_DIR}/{page.link}",
               {"r": context["r"], "paging": paging, "page": page, "before": before,
                "after": after, "title": f"{one_line(context['r'].name)} layers {page.label}"})

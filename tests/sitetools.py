"""Helpers shared by the render and browser tests: fixed records, a rendered site, mkdocs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from trtdoc.diff.history import read_previous
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.record.files import read_records
from trtdoc.record.types import EngineRecord, FailedGate
from trtdoc.render.write import render_site
from trtdoc.spec.section import SpecSection

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


def render_fixture_site(root: Path, *, layer_rows: int | None = None,
                        graph_layers: int | None = None) -> Path:
    """Hand-written pages of the repository plus pages rendered from the fixed records; with
    ``layer_rows``, layer tables are paged at that many rows (so a small engine has layer
    pages, as an engine of more than ``layer_table.PAGE_ROWS`` layers does); with
    ``graph_layers``, engines of more layers get a grouped graph (``engine_graph``)."""
    from trtdoc.render import engine_graph, layer_table

    site = root / "site"
    shutil.copytree(REPO / "site", site, ignore=shutil.ignore_patterns("engines", "changes.md",
                                                                      "compatibility.md"))
    shipped = layer_table.PAGE_ROWS, engine_graph.GRAPH_LAYERS
    layer_table.PAGE_ROWS = layer_rows or shipped[0]
    engine_graph.GRAPH_LAYERS = graph_layers or shipped[1]
    try:
        render_site(fixed_records(), site, previous=fixed_previous())
    finally:
        layer_table.PAGE_ROWS, engine_graph.GRAPH_LAYERS = shipped
    return site


def _site_config(site: Path, out: Path) -> Path:
    """The repository's mkdocs.yml beside ``site``, naming it and ``out`` relative to itself:
    Zensical panics on an absolute ``docs_dir``, and users write relative ones."""
    config = (REPO / "mkdocs.yml").read_text()
    config = re.sub(r"(?m)^docs_dir: .*$", f"docs_dir: {site.name}", config)
    config = re.sub(r"(?m)^site_dir: .*$",
                    f"site_dir: {os.path.relpath(out, site.parent)}", config)
    config_path = site.parent / "mkdocs.yml"
    config_path.write_text(config)
    return config_path


def mkdocs_build(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of the repository's mkdocs.yml with ``docs_dir`` = ``site``."""
    config_path = _site_config(site, out)
    # Not -q: mkdocs 1.6 drops the warnings before --strict counts them, and exits 0.
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(config_path)], capture_output=True, text=True,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})


ZENSICAL = Path(sys.executable).parent / "zensical"


def zensical_build(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``zensical build --clean`` of the same configuration (it reads mkdocs.yml)."""
    config_path = _site_config(site, out)
    return subprocess.run([str(ZENSICAL), "build", "--clean", "--strict", "-f",
                           str(config_path)],
                          capture_output=True, text=True, cwd=site.parent,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(site.parent)})


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


# --------------------------------------------------------------------------------------------
# Hostile values: every field of a record, walked generically
# --------------------------------------------------------------------------------------------
# One string that tries every way out of its context: raw HTML (an event handler, a script),
# a table pipe, a link bracket, a line that closes a ``` or ~~~ fence, a YAML/front-matter
# break and a Mermaid directive. Each piece sets window.__pwned if it ever runs.
PAYLOAD = ('<img src=x onerror="window.__pwned=1;alert(1)">|]'
           '<script>window.__pwned=2</script>\n```\n<script>window.__pwned=3</script>\n~~~\n'
           '---\n<svg onload="window.__pwned=4"> %%{init: {}}%% [x](javascript:alert(1))')
# Values of the wrong type for any field: what a hand-edited record may hold.
WRONG_TYPES: tuple[object, ...] = (None, PAYLOAD, 10**400, 10**5000, float("nan"),
                                   float("inf"), [PAYLOAD, 1], {"k": PAYLOAD}, True, -1)

Path_ = tuple[tuple[str, object], ...]  # ("attr", name) | ("item", key) | ("index", i)

def field_paths(obj: object, *, per_sequence: int = 2,
                path: Path_ = ()) -> list[tuple[Path_, bool]]:
    """``(path, is_leaf)`` of every value in ``obj``: dataclass fields (recursively), mapping
    values and sequence items (the first ``per_sequence`` of each: the rest have the same
    shape). Containers are listed too, so a whole list can be replaced by a wrong type."""
    import dataclasses
    from collections.abc import Mapping

    out: list[tuple[Path_, bool]] = []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        children: list[tuple[tuple[str, object], object]] = [
            (("attr", f.name), getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    elif isinstance(obj, Mapping):
        children = [(("item", k), v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple)):
        children = [(("index", i), v) for i, v in enumerate(obj[:per_sequence])]
    else:
        return out
    for step, value in children:
        here = (*path, step)
        nested = field_paths(value, per_sequence=per_sequence, path=here)
        out.append((here, not nested and not _is_container(value)))
        out += nested
    return out


def _is_container(value: object) -> bool:
    import dataclasses
    from collections.abc import Mapping

    return isinstance(value, (Mapping, list, tuple)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type))


def substituted(obj: object, path: Path_, value: object) -> object:
    """``obj`` with the value at ``path`` replaced, bypassing every constructor check (a
    frozen dataclass is copied and its field set directly), as a hand-edited record would."""
    import copy
    import dataclasses
    from collections.abc import Mapping
    from types import MappingProxyType

    if not path:
        return value
    (kind, key), rest = path[0], path[1:]
    if kind == "attr":
        assert dataclasses.is_dataclass(obj)
        new = copy.copy(obj)
        object.__setattr__(new, str(key), substituted(getattr(obj, str(key)), rest, value))
        return new
    if kind == "item":
        assert isinstance(obj, Mapping)
        d = dict(obj)
        d[key] = substituted(d[key], rest, value)
        return MappingProxyType(d) if isinstance(obj, MappingProxyType) else d
    assert isinstance(obj, (list, tuple)) and isinstance(key, int)
    items = list(obj)
    items[key] = substituted(items[key], rest, value)
    return type(obj)(items) if isinstance(obj, tuple) else items


def renamed_key(obj: object, path: Path_, new_key: object) -> object:
    """``obj`` with the mapping key at the end of ``path`` renamed (mapping keys reach pages
    too: precision and accuracy facts are listed by key)."""
    from collections.abc import Mapping
    from types import MappingProxyType

    *parent, (kind, key) = path
    assert kind == "item"
    container = _get(obj, tuple(parent))
    assert isinstance(container, Mapping)
    d = {(new_key if k == key else k): v for k, v in container.items()}
    return substituted(obj, tuple(parent),
                       MappingProxyType(d) if isinstance(container, MappingProxyType) else d)


def _get(obj: object, path: Path_) -> object:
    for kind, key in path:
        obj = getattr(obj, str(key)) if kind == "attr" else obj[key]  # type: ignore[index]
    return obj


def decoded(record: object) -> EngineRecord | None:
    """``record`` as a record file would give it back, or None where the strict decoder
    refuses it (a value of the wrong type). Pages show decoded records, or records trtdoc has
    just built (typed by construction), so a value the decoder refuses reaches no page and
    the renderer does not guard against it (issue 22)."""
    import json
    import warnings

    from trtdoc.record.codec import record_from_json
    from trtdoc.typed import encode

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns of each value of the wrong type
            return record_from_json(json.dumps(encode(record)))
    except Exception:  # noqa: BLE001 - any refusal: the encoder's, json's or the decoder's
        return None


def decoded_gate(gate: object) -> FailedGate | None:
    """A failed gate as its file would give it back (None: no gate), like :func:`decoded`."""
    import json
    import warnings

    from trtdoc.typed import decode_json, encode

    if gate is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return decode_json(FailedGate, json.dumps(encode(gate)))
    except Exception:  # noqa: BLE001 - any refusal, as for a record
        return None


def decodable(root: object, path: Path_, value: object) -> bool:
    """Whether the record (or gate) ``path`` leads into still decodes with ``value`` at
    ``path``. ``root`` is a record, or a mapping of ``record`` and ``previous`` (records) and
    ``gate`` (a failed gate, or None)."""
    changed = substituted(root, path, value)
    if isinstance(root, EngineRecord):
        return decoded(changed) is not None
    first = path[0][1]
    if first == "gate":
        return decoded_gate(changed[first]) is not None  # type: ignore[index]
    return first not in ("record", "previous") or decoded(
        changed[first]) is not None  # type: ignore[index]


def replaced_where_decodable(root: object, value_for: object) -> object:
    """:func:`everything_replaced`, at the fields a record file can hold the new value in:
    one check per field (the items of a list share their fields' types; a pair's two do
    not)."""
    takes: dict[Path_, bool] = {}

    def value(path: Path_) -> object:
        old, new = _get(root, path), value_for(path)  # type: ignore[operator]
        if new is old or new == old:
            return new
        field = (*((k, 0 if k == "index" else v) for k, v in path[:-1]), path[-1])
        if field not in takes:
            takes[field] = decodable(root, path, new)
        return new if takes[field] else old

    out = everything_replaced(root, value)
    # As a record file gives it back: a value that decodes into another type (text into a
    # path) reaches pages as that type.
    return (decoded(out) or out) if isinstance(out, EngineRecord) else out


def everything_replaced(obj: object, value_for: object) -> object:
    """``obj`` with every leaf replaced by ``value_for(path)``: the all-at-once case."""
    out = obj
    for path, leaf in field_paths(obj, per_sequence=10**9):
        if leaf:
            out = substituted(out, path, value_for(path))  # type: ignore[operator]
    return out


def hostile_cases() -> list[tuple[str, EngineRecord, EngineRecord, FailedGate | None]]:
    """``(label, record, previous, gate)`` bases to substitute into: a TensorRT-RTX fp32
    engine, an fp16 one with precision and accuracy facts, and an imported trtexec profile
    (no gate: only a build runs one)."""
    records = {r.name: r for r in fixed_records()}
    out: list[tuple[str, EngineRecord, EngineRecord, FailedGate | None]] = []
    for name in ("bert-tiny", "mobilenet-v2-fp16", "resnet18-trtexec", "resnet18-trtexec-fp32"):
        r = records[name]
        if not isinstance(r.spec, SpecSection):
            out.append((name, r, r, None))
            continue
        gate = FailedGate(name=name, violations=("cosine 0.9 < 0.99",), spec=r.spec,
                          accuracy=r.accuracy or AccuracyReport(
                              reference="m.onnx", candidate="c.onnx", outputs=(), samples=4,
                              smoke=True, seed=0, runtime="onnxruntime CPU"))
        out.append((name, r, r, gate))
    return out


def render_hostile(record: object, previous: object, gate: object, site: Path,
                   *, write: bool = False) -> dict[Path, bytes]:
    """Pages of one (possibly ill-typed) record, its previous record and its failed gate."""
    from collections.abc import Hashable

    from trtdoc.render.write import plan_site

    name = getattr(record, "name", None)
    keyed = isinstance(name, Hashable)
    prev = {name: previous} if keyed else {}
    gates = {name: gate} if keyed and isinstance(gate, FailedGate) else {}
    if write:
        render_site([record], site, previous=prev, gates=gates)  # type: ignore[list-item]
        return {}
    return plan_site([record], site, previous=prev, gates=gates)  # type: ignore[list-item]


class ActiveHtml(HTMLParser):
    """Elements and attributes that could run script: what no payload may create."""

    # The theme has its own scripts and inline SVG icons; these are never the theme's.
    ACTIVE_TAGS = frozenset({"iframe", "object", "embed", "frame", "base"})

    def __init__(self, allowed_scripts: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_scripts = allowed_scripts
        self.found: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self._script = []
        elif tag in self.ACTIVE_TAGS or (tag == "img" and dict(attrs).get("src") == "x"):
            self.found.append(f"<{tag} {attrs!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            text = "".join(self._script)
            if "__pwned" in text or "alert" in text:
                self.found.append(f"<script>{text[:80]}")
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def active_html(html: str) -> list[str]:
    parser = ActiveHtml()
    parser.feed(html)
    parser.close()
    return parser.found


def markdown_active_html(page: str) -> list[str]:
    """What CommonMark (markdown-it, raw HTML allowed) makes of a page, checked for script."""
    return active_html(MarkdownIt("commonmark").enable("table").render(dedent_admonitions(page)))


# Fields whose value picks a branch of the page (an RTX engine, an fp16 conversion, a pool
# call): the second all-at-once record keeps them, so the branches run with hostile values.
BRANCH_FIELDS = {"name", "call", "key", "precision", "precision_method", "imported_from",
                 "mode"}


def hostile_site(root_dir: Path) -> Path:
    """The repository's hand-written pages plus pages of records whose every field is hostile:
    every leaf of each case (record, previous record, failed gate) replaced by the payload,
    and again keeping the fields that choose a page's branches."""
    site = root_dir / "site"
    shutil.copytree(REPO / "site", site, ignore=shutil.ignore_patterns(
        "engines", "changes.md", "compatibility.md"))
    records, previous, gates = [], {}, {}
    for i, (_, record, prev, gate) in enumerate(hostile_cases()):
        clean = {"record": record, "previous": prev, "gate": gate}
        for keep in (False, True):
            tag = f" {i}{'b' if keep else 'a'}"

            def value_for(path: Path_, _tag: str = tag, _keep: bool = keep,
                          _clean: object = clean) -> object:
                if _keep and path[-1][1] in BRANCH_FIELDS and path[-1][1] != "name":
                    return _get(_clean, path)
                return PAYLOAD + _tag

            # Text only where a record file can hold it; names, which it cannot hold, unique.
            root = replaced_where_decodable(clean, value_for)
            for side in ("record", "previous"):
                if _get(root, (("item", side), ("attr", "name"))) == record.name:
                    root = substituted(root, (("item", side), ("attr", "name")),
                                       f"{record.name}-{tag.strip()}")
            hostile = decoded(root["record"])  # type: ignore[index]
            assert hostile is not None, "the hostile record does not decode"
            records.append(hostile)
            previous[hostile.name] = decoded(root["previous"])  # type: ignore[index]
            gate = decoded_gate(root["gate"])  # type: ignore[index]
            if gate is not None:
                gates[hostile.name] = gate
    render_site(records, site, previous=previous, gates=gates)
    return site

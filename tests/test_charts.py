"""The charts of the pages (trtdoc/render/charts.py): the numbers each chart draws are the
record's, read back from the Mermaid source the page holds.

Real data: the fixed records (real TensorRT-RTX builds and TREx's real A100 exports, see
tests/data/records/make_records.py), the checked-in records of the demo site (records/), and
TREx's fp16 export imported with ``trtdoc import`` (../shared/fixtures/trex).
"""

from __future__ import annotations

import dataclasses
import re
import shutil

import pytest
from click.testing import CliRunner
from conftest import REPO, TREX
from sitetools import MERMAID_JS, fixed_records

from trtdoc.cli.group import cli
from trtdoc.inspect.types import Layer
from trtdoc.record.files import read_records
from trtdoc.record.types import EngineRecord
from trtdoc.render import charts
from trtdoc.render.escape import ELLIPSIS

ENTITIES = {"#quot;": '"', "#124;": "|", "#lt;": "<", "#gt;": ">", "#amp;": "&", "#96;": "`",
            "#37;": "%", "#92;": "\\", "#35;": "#"}


# --------------------------------------------------------------------------------------------
# Reading the Mermaid back, as Mermaid reads it
# --------------------------------------------------------------------------------------------
def unescape(label: str) -> str:
    return re.sub(r"#\w+;", lambda m: ENTITIES[m.group(0)], label)


def xychart_labels(text: str) -> list[str]:
    """The category labels of an ``xychart-beta`` chart, as the reader sees them."""
    line = next(line for line in text.splitlines() if line.startswith("    x-axis ["))
    return [unescape(label) for label in re.findall(r'"([^"]*)"', line)]


def read_xychart(text: str) -> list[tuple[str, float]]:
    """(category, value) of each bar of an ``xychart-beta`` chart."""
    lines = {line.strip().split(" ", 1)[0]: line.strip() for line in text.splitlines()}
    assert "xychart-beta" in lines, text
    labels = re.findall(r'"([^"]*)"', lines["x-axis"])
    values = [float(v) for v in re.fullmatch(r"bar \[(.*)\]", lines["bar"]).group(1).split(", ")]
    assert len(labels) == len(values), text
    bars = []
    for label, value in zip(labels, values, strict=True):
        # Each label ends with its bar's value as the reader sees it: "name: 0.1116 ms".
        name, _, shown = unescape(label).rpartition(": ")
        figure, unit = shown.split(" ")
        assert float(figure) == round(value, 4 if unit == "ms" else 2), (label, value)
        bars.append((name, value))
    return bars


def read_pie(text: str) -> list[tuple[str, float]]:
    assert text.startswith("pie showData\n"), text
    return [(unescape(label), float(value))
            for label, value in re.findall(r'^    "([^"]*)" : ([0-9.]+)$', text, re.M)]


def mermaid_blocks(page: str) -> list[str]:
    return re.findall(r"(?s)```mermaid\n(.*?)\n```", page)


def records_with_charts() -> list[EngineRecord]:
    return [*fixed_records(), *read_records(REPO / "records")]


def by_name(name: str) -> EngineRecord:
    return next(r for r in records_with_charts() if r.name == name)


# --------------------------------------------------------------------------------------------
# Each chart's numbers are the record's
# --------------------------------------------------------------------------------------------
def test_per_layer_chart_is_every_timed_layer_slowest_first_and_the_rest_summed():
    record = by_name("resnet18-trtexec")
    bars = read_xychart(charts.layer_time_chart(record))
    layers = record.inspection.layers
    timed = sorted(((la.time_ms, i) for i, la in enumerate(layers)), key=lambda t: (-t[0], t[1]))
    assert len(bars) == charts.BARS_SHOWN + 1
    for (label, value), (ms, i) in zip(bars, timed[:charts.BARS_SHOWN], strict=False):
        number, _, name = label.partition(" ")
        assert number == f"#{i}"
        assert name == layers[i].name or (name.endswith(ELLIPSIS)
                                          and layers[i].name.startswith(name[:-1]))
        assert value == round(ms, charts.MS_DIGITS)
    rest = timed[charts.BARS_SHOWN:]
    assert bars[-1] == (f"{len(rest)} other layers", round(sum(ms for ms, _ in rest), 6))
    # Every layer's time is in the chart: the bars add up to the engine's total.
    assert sum(v for _, v in bars) == pytest.approx(record.inspection.total_time_ms, abs=1e-5)


def test_time_per_type_chart_sums_the_times_of_each_layer_type():
    record = by_name("resnet18-trtexec")
    bars = read_xychart(charts.type_time_chart(record))
    expected: dict[str, list[float]] = {}
    for layer in record.inspection.layers:
        expected.setdefault(layer.type, []).append(layer.time_ms)
    assert {label: value for label, value in bars} == {
        f"{kind} ({len(ms)} layer{'s' * (len(ms) != 1)})": round(sum(ms), 6)
        for kind, ms in expected.items()}
    assert [v for _, v in bars] == sorted((v for _, v in bars), reverse=True)


def test_the_precision_pie_weighs_time_where_there_are_times():
    record = by_name("resnet18-trtexec")
    slices = dict(read_pie(charts.precision_pie(record)))
    expected: dict[str, float] = {}
    for layer in record.inspection.layers:
        key = layer.precision or charts.NO_PRECISION
        expected[key] = expected.get(key, 0.0) + layer.time_ms
    assert slices == {k: round(v, 6) for k, v in expected.items() if round(v, 6) > 0}
    assert charts.precision_mix(record).weight == "time"


@pytest.mark.parametrize("name", ["bert-tiny", "mobilenet-v2-fp16", "magika-int8"])
def test_the_precision_pie_weighs_weight_bytes_without_times(name):
    record = by_name(name)
    mix = charts.precision_mix(record)
    assert mix is not None and mix.weight == "weights"
    held: dict[str, float] = {}
    for layer in record.inspection.layers:
        for t in layer.constants:
            elements = 1
            for d in t.dims:
                elements *= max(d, 1)
            if elements > 1:
                key = layer.precision or charts.NO_PRECISION
                held[key] = held.get(key, 0.0) + elements * charts.DTYPE_BYTES[t.dtype]
    unit, size = charts.byte_unit(sum(held.values()))
    assert mix.unit == unit
    expected = {k: round(v / size, 2) for k, v in held.items() if round(v / size, 2) > 0}
    assert {k: round(v, 2) for k, v in mix.slices} == expected
    pie = charts.precision_pie(record)
    if len(expected) > 1:
        assert dict(read_pie(pie)) == expected
    else:  # one precision: the sentence says it, no full circle
        assert pie is None


def test_layers_without_a_precision_are_counted_not_dropped():
    """bert-tiny's shape layers have no precision: the page counts them as such."""
    record = by_name("bert-tiny")
    mix = charts.precision_mix(record)
    missing = sum(1 for layer in record.inspection.layers if not layer.precision)
    assert missing > 0
    assert dict(mix.layers)[charts.NO_PRECISION] == missing
    assert sum(n for _, n in mix.layers) == len(record.inspection.layers)
    # With neither times nor weights, the pie counts layers, "no precision" among them.
    bare = dataclasses.replace(record, inspection=dataclasses.replace(
        record.inspection, layers=tuple(dataclasses.replace(la, constants=())
                                        for la in record.inspection.layers)))
    assert dict(read_pie(charts.precision_pie(bare)))[charts.NO_PRECISION] == missing


def test_the_int8_page_shows_its_weights_by_precision_and_one_precision_no_pie(tmp_path):
    from trtdoc.render.write import plan_site

    planned = plan_site(read_records(REPO / "records"), tmp_path)
    pages = {p.relative_to(tmp_path).as_posix(): data.decode() for p, data in planned.items()}
    int8 = pages["engines/magika-int8.md"]
    pie = next(b for b in mermaid_blocks(int8) if b.startswith("pie showData"))
    assert read_pie(pie) == [("Int8", 767.12), ("Float", 14.17), ("Int32", 1.0)]
    assert "Weights by precision, in KiB:" in int8
    assert "By layers: Float 7, Int8 5, Int32 1, no precision 1" in int8
    fp16 = pages["engines/magika-fp16.md"]
    assert not any(b.startswith("pie") for b in mermaid_blocks(fp16))
    assert "All the weights are Half: 1.5 MiB." in fp16


@pytest.mark.parametrize("name", ["bert-tiny", "mobilenet-v2-fp16", "magika-fp32"])
def test_the_memory_chart_is_the_records_memory(name):
    record = by_name(name)
    memory = record.inspection.memory
    known = {title: getattr(memory, key) for key, title in (
        ("weights", "Weights"), ("activation", "Activations"), ("scratch", "Scratch"),
        ("host_persistent", "Host persistent"), ("device_persistent", "Device persistent"))
        if getattr(memory, key) is not None}
    assert known
    unit, size = charts.byte_unit(max(known.values()))
    text = charts.memory_chart(record)
    assert 'title "Memory"' in text and f'y-axis "{unit}"' in text
    assert dict(read_xychart(text)) == {k: round(v / size, 2) for k, v in known.items()}


def test_the_variant_chart_of_each_spec_is_its_engines_sizes_and_weights():
    groups = charts.variant_groups(read_records(REPO / "records"))
    assert [[r.name for r in g] for _, g in groups] == [
        ["magika-fp32", "magika-fp16", "magika-int8"], ["mobilenet-v2-fp32", "mobilenet-v2-fp16"]]
    for _, group in groups:
        values = [v for r in group for v in (r.engine_bytes, r.inspection.memory.weights)]
        unit, size = charts.byte_unit(max(values))
        bars = read_xychart(charts.variant_chart(group))
        assert bars == [(f"{r.name} {what}", round(v / size, 2)) for r in group
                        for what, v in (("engine", r.engine_bytes),
                                        ("weights", r.inspection.memory.weights))]


def test_an_engine_without_times_has_no_time_charts():
    record = by_name("bert-tiny")
    assert charts.layer_time_chart(record) is None and charts.type_time_chart(record) is None


# --------------------------------------------------------------------------------------------
# Numbers and labels Mermaid reads
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "text"), [
    (0.000012, "0.000012"), (1e-9, "0"), (0.111616, "0.111616"), (12.0, "12"), (-0.0, "0"),
    (1234567.5, "1234567.5")])
def test_numbers_are_plain_decimals(value, text):
    assert charts.number(value) == text


HOSTILE = ['a"b<c>%%{init: {"theme": "forest"}}%%', "x`y`\nz|w &amp; #35;",
           '"; bar [9]\nx-axis ["', "<script>alert(1)</script>", '"' * 40, "W" * 45,
           "\u0416" * 40, "\u6f22\u5b57" * 20, "\U0001f600" * 20]


def hostile_record() -> EngineRecord:
    """A real record (bert-tiny) whose layers are renamed with Mermaid and HTML syntax and
    given times, as an imported profile of a hostile model would have."""
    record = by_name("bert-tiny")
    layers = tuple(dataclasses.replace(la, name=HOSTILE[i % len(HOSTILE)] + str(i),
                                       type=HOSTILE[(i + 1) % len(HOSTILE)],
                                       time_ms=0.001 * (i + 1), time_pct=1.0)
                   for i, la in enumerate(record.inspection.layers))
    return dataclasses.replace(record, inspection=dataclasses.replace(record.inspection,
                                                                      layers=layers))


def test_hostile_layer_names_stay_inside_their_labels():
    record = hostile_record()
    for text in (charts.layer_time_chart(record), charts.type_time_chart(record)):
        lines = text.splitlines()
        assert lines[-1].startswith("    bar [") and len(read_xychart(text)) > 1
        body = "\n".join(lines[lines.index("xychart-beta horizontal"):])
        assert '<' not in body and "%%" not in body and "`" not in body
        assert len(lines) == 14  # no label added a line
        for label, _ in read_xychart(text):
            assert len(label) <= charts.CHART_LABEL


def test_a_label_full_of_escapes_is_cut_to_what_mermaid_measures():
    label = charts.chart_label('"' * 40, ": 0.1116 ms")
    assert charts.label_px(label) <= charts.LABEL_PX < charts.label_px(
        charts.mermaid_label('"' * 40))
    assert unescape(label).endswith(ELLIPSIS + ": 0.1116 ms")
    assert charts.chart_label("Conv_0 + Relu_1") == "Conv_0 + Relu_1"


# --------------------------------------------------------------------------------------------
# TREx's real A100 fp16 export, imported with `trtdoc import`
# --------------------------------------------------------------------------------------------
def test_the_imported_trex_fp16_page_charts_its_slowest_layer_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("graph", "profile"):
        shutil.copyfile(TREX / "fp16" / f"resnet.onnx.engine.{name}.json", f"x.{name}.json")
    result = CliRunner().invoke(cli, ["import", "x.graph.json", "--profile", "x.profile.json",
                                      "--name", "resnet-fp16"], prog_name="trtdoc")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "engines" / "resnet-fp16.md").read_text()
    blocks = mermaid_blocks(page)
    per_layer = next(b for b in blocks if "Time per layer, slowest first" in b)
    first, *rest = read_xychart(per_layer)
    assert first == ("#1 Conv_0 + Relu_1", 0.111616) and round(first[1], 4) == 0.1116
    assert all(first[1] >= v for _, v in rest[:-1])
    assert '"#35;1 Conv_0 + Relu_1: 0.1116 ms"' in per_layer  # what the reader sees
    assert any('title "Time per layer type (ms per inference)"' in b for b in blocks)
    # The open (not collapsed) table of the slowest layers, average and median
    table = page[page.index("### Slowest layers"):]
    assert not table.splitlines()[0].startswith("???")
    assert "| # | Layer | Type | Precision | Average | Median | Share |" in table
    assert "| 1 | `Conv_0 + Relu_1` | CaskConvolution | Half | 0.112 ms | 0.112 ms | 11.0% |" \
        in table
    assert "Time    Median  Share" in page  # the layer table has the median too


def test_the_import_keeps_the_profiles_median(tmp_path):
    from trtdoc.importer import record_from_trtexec

    record = record_from_trtexec("r", TREX / "fp16" / "resnet.onnx.engine.graph.json",
                                 TREX / "fp16" / "resnet.onnx.engine.profile.json")
    conv = next(la for la in record.inspection.layers if la.name == "Conv_0 + Relu_1")
    assert (conv.time_ms, conv.median_ms) == (0.111616, 0.111616)


def test_a_layer_without_a_median_loads_and_writes_as_before():
    """Records from before median_ms hold no such key, and write none back."""
    from trtdoc.record.text import dumps

    bert = by_name("bert-tiny")
    assert all(la.median_ms is None for la in bert.inspection.layers)
    assert "median_ms" not in dumps(bert)
    assert isinstance(bert.inspection.layers[0], Layer)


# --------------------------------------------------------------------------------------------
# The bundled Mermaid draws every chart, hostile labels whole
# --------------------------------------------------------------------------------------------
RENDER = """async (sources) => {
  mermaid.initialize({startOnLoad: false});
  const out = [];
  for (const [i, s] of sources.entries()) {
    try {
      const r = await mermaid.render("chart" + i, s);
      const box = document.createElement("div");
      box.innerHTML = r.svg;
      document.body.appendChild(box);
      out.push({svg: true, texts: [...box.querySelectorAll("text")].map(t => t.textContent),
                error: /Syntax error|Parse error/i.test(box.textContent)});
    } catch (e) {
      out.push({svg: false, error: String(e)});
    }
  }
  return out;
}"""


def test_the_bundled_mermaid_draws_every_chart_with_hostile_labels_whole():
    from test_site_browser import CHROMIUM, CHROMIUM_ARGS, _chromium_missing

    missing = _chromium_missing()
    if missing:
        pytest.skip(missing)
    assert MERMAID_JS.is_file()
    record = hostile_record()
    sources = [charts.layer_time_chart(record), charts.type_time_chart(record),
               charts.precision_pie(record), charts.memory_chart(record),
               charts.variant_chart(charts.variant_groups(read_records(REPO / "records"))[0][1])]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.abort())  # nothing leaves the page
            page.set_content("<!doctype html><body></body>")
            page.add_script_tag(content=MERMAID_JS.read_text())
            drawn = page.evaluate(RENDER, sources)
        finally:
            browser.close()
    assert all(d["svg"] and not d["error"] for d in drawn), drawn
    # Every label is drawn, whole: Mermaid draws none when one is too wide for the chart.
    for source, shown in zip(sources[:2], drawn[:2], strict=True):
        for label in xychart_labels(source):
            assert label in shown["texts"], (label, shown["texts"])

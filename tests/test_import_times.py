"""``trtdoc import --times/--gpu`` on TREx's real A100 exports (../shared/fixtures/trex, fp32
and fp16, TensorRT 8.x): the latency summary equals trtexec's statistics of the raw file, the
page draws the record's numbers, the matrix says both engines run on sm80, and ``trtdoc diff``
says the total time went from 2.124 ms to 1.017 ms. Bad files: one line, nothing written."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import TREX

from trtdoc.cli.group import cli
from trtdoc.compat.data import ARCHITECTURE_KEYS
from trtdoc.compat.deploy import target_from_options
from trtdoc.compat.matrix import UNKNOWN, YES, engine_compat
from trtdoc.compat.verdicts import Plan, evaluate
from trtdoc.record.files import read_record
from trtdoc.render.latency_chart import format_latency


def trex(precision: str, kind: str) -> Path:
    return TREX / precision / f"resnet.onnx.engine.{kind}.json"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="trtdoc")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both A100 exports imported with --gpu A100 (fp32 also with --times) into a fresh
    folder, the way a user runs it there."""
    root = tmp_path_factory.mktemp("trex")
    here = Path.cwd()
    os.chdir(root)
    env = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "NO_COLOR")}
    os.environ.update(XDG_CACHE_HOME=str(root / "cache"), NO_COLOR="1")
    try:
        for args in (["--name", "resnet-fp32", "--profile", trex("fp32", "profile"),
                      "--times", trex("fp32", "timing"), "--gpu", "A100"],
                     ["--name", "resnet-fp16", "--profile", trex("fp16", "profile"),
                      "--gpu", "NVIDIA A100-PCIE-80GB"]):
            precision = "fp32" if "resnet-fp32" in args else "fp16"
            result = run("import", trex(precision, "graph"), *args)
            assert result.exit_code == 0, result.output
        yield root
    finally:
        os.chdir(here)
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def trtexec_statistics(path: Path) -> dict[str, float]:
    """trtexec's own statistics of latencyMs (samples/common/sampleReporting.cpp), from the
    raw file, written out again here so the test does not reuse the code it checks."""
    values = sorted(r["latencyMs"] for r in json.loads(path.read_text()))
    n = len(values)
    return {"count": n, "min_ms": values[0], "max_ms": values[-1],
            "median_ms": (values[n // 2 - 1] + values[n // 2]) / 2 if n % 2 == 0
            else values[n // 2],
            "p90_ms": values[n - 1 - int(0.1 * n)], "p99_ms": values[n - 1 - int(0.01 * n)],
            "mean_ms": sum(values) / n}


def test_the_record_keeps_the_gpu_and_trtexecs_latency_statistics(project: Path) -> None:
    record = read_record(project / "records" / "resnet-fp32.json")
    assert record.profiled is not None and record.profiled.latency is not None
    assert (record.profiled.gpu, record.profiled.compute_capability) == ("A100", "8.0")
    latency = record.profiled.latency
    want = trtexec_statistics(trex("fp32", "timing"))
    assert latency.count == want.pop("count") == 1600
    for key, value in want.items():
        assert getattr(latency, key) == round(value, 5), key
    assert sum(b.count for b in latency.histogram) == 1600
    assert latency.histogram[0].low_ms == latency.min_ms
    assert latency.histogram[-1].high_ms == latency.max_ms
    assert "latency distribution" not in {n.what for n in record.not_run}
    fp16 = read_record(project / "records" / "resnet-fp16.json")
    assert fp16.profiled is not None and fp16.profiled.latency is None
    assert fp16.profiled.gpu == "A100"  # nvidia-smi's name, matched to the model
    assert "latency distribution" in {n.what for n in fp16.not_run}


def test_the_fp32_page_draws_the_records_latency(project: Path) -> None:
    latency = read_record(project / "records" / "resnet-fp32.json").profiled.latency
    page = (project / "site" / "engines" / "resnet-fp32.md").read_text()
    section = page.split("\n## Latency\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (min|median|p90|p99|max|mean) \| ([0-9.]+) ms \|$", section,
                           re.M))
    assert {k: float(v) for k, v in rows.items()} == {
        "min": latency.min_ms, "median": latency.median_ms, "p90": latency.p90_ms,
        "p99": latency.p99_ms, "max": latency.max_ms, "mean": latency.mean_ms}
    chart = section.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.split("\n")[1] == "xychart-beta horizontal"
    labels = re.search(r'^\s*x-axis "[^"]*" \[(.*)\]$', chart, re.M).group(1)
    bars = re.search(r"^\s*bar \[(.*)\]$", chart, re.M).group(1)
    assert [float(x.strip('" ')) for x in labels.split(",")] == [
        b.low_ms for b in latency.histogram]
    assert [int(x) for x in bars.split(",")] == [b.count for b in latency.histogram]
    top = max(b.count for b in latency.histogram)
    assert f'y-axis "inferences (longest bar {top:,})" 0 --> {top}\n' in chart
    # Every bar's numbers, in the table under the chart.
    bins = re.findall(r"^    \| ([0-9.]+) \| ([0-9.]+) \| ([0-9,]+) \|$", section, re.M)
    assert [(float(a), float(b), int(n.replace(",", ""))) for a, b, n in bins] == [
        (b.low_ms, b.high_ms, b.count) for b in latency.histogram]
    assert 'title "1,600 inferences' in chart
    # fp16 was imported without --times: no section, and "not run" says why.
    fp16 = (project / "site" / "engines" / "resnet-fp16.md").read_text()
    assert "\n## Latency\n" not in fp16
    assert "no --exportTimes file was given" in fp16


def test_format_latency_keeps_every_digit_of_the_record() -> None:
    assert [format_latency(v) for v in (1.99072, 2.0, 0.00001, 12.5)] == [
        "1.99072", "2", "0.00001", "12.5"]


def test_both_imports_run_on_sm80_where_trtexec_ran_them(project: Path) -> None:
    for name in ("resnet-fp32", "resnet-fp16"):
        row = engine_compat(read_record(project / "records" / f"{name}.json"))
        cells = {c.arch: c for c in row.cells}
        assert cells["sm80"].text == "✓ trtexec ran the plan on the A100 (8.0)"
        assert {c.status for a, c in cells.items() if a != "sm80"} == {UNKNOWN}
        assert row.compiled_source == ("A100 (8.0), where trtexec ran it; others not "
                                       "recorded")
    # The published matrix: the sm80 column of both rows is a ✓.
    matrix = (project / "site" / "compatibility.md").read_text()
    sm80 = ["Engine", "Runtime", *ARCHITECTURE_KEYS].index("sm80")
    for name in ("resnet-fp32", "resnet-fp16"):
        line = next(x for x in matrix.splitlines() if x.startswith(f"| [{name}]"))
        cell = line.split(" | ")[sm80]
        assert re.sub(r"<[^>]+>", "", cell).startswith(YES), cell
    page = (project / "site" / "engines" / "resnet-fp32.md").read_text()
    assert "| Ampere sm80 | ✓ | trtexec ran the plan on the A100 (8.0) |" in page


def test_compat_deploy_gives_the_import_its_verdict_on_that_architecture(
        project: Path) -> None:
    plan = Plan.from_record(read_record(project / "records" / "resnet-fp32.json"))
    on_a100 = {c.rule: c for c in evaluate(
        plan, target_from_options("A100", "tensorrt 8.4.1", "535.104.05", None)).checks}
    assert on_a100["hardware-compatibility"].outcome == "runs"
    assert on_a100["hardware-compatibility"].reason == "trtexec ran the plan on the A100 (8.0)"
    on_l4 = {c.rule: c for c in evaluate(
        plan, target_from_options("L4", "tensorrt 8.4.1", "535.104.05", None)).checks}
    assert on_l4["hardware-compatibility"].outcome == "unknown"
    assert on_l4["hardware-compatibility"].reason == (
        "trtexec ran the plan on the A100 (8.0); whether it was built with hardware "
        "compatibility beyond 8.0 is not recorded")


def test_diff_of_the_two_imports_says_the_total_time(project: Path) -> None:
    old, new = (project / "records" / f"resnet-{p}.json" for p in ("fp32", "fp16"))
    text = run("diff", old, new)
    assert "  time (sum of layer times) 2.124 ms → 1.017 ms (-52.1%)\n" in text.output
    assert "    Conv_0 + Relu_1 0.522 ms → 0.112 ms (-78.6%)\n" in text.output
    markdown = run("diff", "--format", "markdown", old, new)
    assert "| `resnet-fp16` | time (sum of layer times) 2.124 ms → 1.017 ms (-52.1%)<br>" \
        in markdown.output
    assert "| `Conv_0 + Relu_1` | 0.522 ms | 0.112 ms | &#45;78.6% |" in markdown.output
    data = json.loads(run("diff", "--format", "json", old, new).output)
    engine = data["engines"][0]
    assert engine["times"] == [{"what": "time (sum of layer times)", "old": "2.124 ms",
                                "new": "1.017 ms", "delta": "-52.1%", "counts": True}]
    assert engine["layer_times"][0] == {"what": "Conv_0 + Relu_1", "old": "0.522 ms",
                                        "new": "0.112 ms", "delta": "-78.6%", "counts": True}
    assert len(engine["layer_times"]) == 5
    assert engine["headline"][0] == "time (sum of layer times) 2.124 ms → 1.017 ms (-52.1%)"


# --------------------------------------------------------------------------------------------
# Bad input: one line naming the file and the fix; nothing written
# --------------------------------------------------------------------------------------------
@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.graph.json").write_bytes(trex("fp32", "graph").read_bytes())
    return tmp_path


def refused(here: Path, args: list[str | Path], line: str) -> None:
    result = run("import", *args)
    assert "Traceback" not in result.output
    assert (result.exit_code, result.output) == (1, line + "\n")
    assert not (here / "records" / "x.json").exists()


def test_a_times_file_given_as_the_layer_information_points_to_times(here: Path) -> None:
    (here / "t.json").write_bytes(trex("fp32", "timing").read_bytes())
    refused(here, ["t.json", "--name", "x"],
            "error: t.json: the engine information is a JSON list, not the object "
            "IEngineInspector and trtexec --exportLayerInfo write; this is a trtexec "
            "--exportTimes file: give it as --times")


def test_the_other_exports_given_as_times_say_where_they_go(here: Path) -> None:
    (here / "p.json").write_bytes(trex("fp32", "profile").read_bytes())
    refused(here, ["x.graph.json", "--times", "p.json", "--name", "x"],
            "error: p.json: inference record 1 has no latencyMs that is a number ≥ 0; this is "
            "a --exportProfile file: give it as --profile")
    refused(here, ["x.graph.json", "--times", "x.graph.json", "--name", "x"],
            "error: x.graph.json: the trtexec times file is not a JSON list; export it with "
            "trtexec --exportTimes=<file> (a --exportLayerInfo file is the import's first "
            "argument)")


def test_the_other_exports_given_as_profile_say_where_they_go(here: Path) -> None:
    (here / "t.json").write_bytes(trex("fp32", "timing").read_bytes())
    refused(here, ["x.graph.json", "--profile", "t.json", "--name", "x"],
            "error: t.json: the trtexec profile has no layer records; this is a trtexec "
            "--exportTimes file: give it as --times")
    refused(here, ["x.graph.json", "--profile", "x.graph.json", "--name", "x"],
            "error: x.graph.json: the trtexec profile is not a JSON list; export it with "
            "trtexec --exportProfile=<file> (a --exportLayerInfo file is the import's first "
            "argument)")


@pytest.mark.parametrize(("text", "line"), [
    ("[]", "the trtexec times file lists no inference; export it with trtexec "
     "--exportTimes=<file> from a run that timed at least one"),
    ('[{"latencyMs": 1.5}, {"latencyMs": -1}]',
     "inference record 2 has no latencyMs that is a number ≥ 0"),
    ('[{"latencyMs": 1.5}, {"latencyMs": "2"}]',
     "inference record 2 has no latencyMs that is a number ≥ 0"),
    ('[{"latencyMs": true}]', "inference record 1 has no latencyMs that is a number ≥ 0"),
    ('[{"latencyMs": 1e999}]', "inference record 1 has no latencyMs that is a number ≥ 0"),
    ('[{"latencyMs": 1.5}', "the trtexec times file is not JSON (Expecting ',' delimiter: "
     "line 1 column 20 (char 19))"),
])
def test_bad_times_files(here: Path, text: str, line: str) -> None:
    (here / "t.json").write_text(text, encoding="utf-8")
    refused(here, ["x.graph.json", "--times", "t.json", "--name", "x"],
            f"error: t.json: {line}")


def test_too_many_inferences(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is lowered so the test need not write ten million records; the records are
    # counted as they stream, so the refusal comes at the first past it.
    monkeypatch.setattr("trtdoc.inspect.limits.MAX_INFERENCES", 1000)
    (here / "t.json").write_text(json.dumps([{"latencyMs": 1.0}] * 1001), encoding="utf-8")
    refused(here, ["x.graph.json", "--times", "t.json", "--name", "x"],
            "error: t.json: the trtexec times file lists over 1,000 inferences; trtdoc reads "
            "at most 1,000")


def test_a_times_file_that_is_not_a_file(here: Path) -> None:
    refused(here, ["x.graph.json", "--times", "/dev/zero", "--name", "x"],
            "error: /dev/zero: the trtexec times file is a device, not a regular file")


def test_an_unknown_gpu_says_how_to_see_the_known_names(here: Path) -> None:
    refused(here, ["x.graph.json", "--gpu", "A1000x", "--name", "x"],
            "error: --gpu: 'A1000x' is not a GPU trtdoc knows (did you mean 'A100'? `trtdoc "
            "schema deploy` lists the known models under gpu; a compute capability such as "
            "8.0 or sm80 names any GPU)")
    refused(here, ["x.graph.json", "--gpu", "sm999", "--name", "x"],
            "error: --gpu: 'sm999' is not a GPU trtdoc knows (`trtdoc schema deploy` lists "
            "the known models under gpu; a compute capability such as 8.0 or sm80 names any "
            "GPU)")


def test_a_compute_capability_names_the_gpu(here: Path) -> None:
    result = run("import", "x.graph.json", "--gpu", "sm80", "--name", "x")
    assert result.exit_code == 0, result.output
    record = read_record(here / "records" / "x.json")
    assert (record.profiled.gpu, record.profiled.compute_capability) == (None, "8.0")
    cells = {c.arch: c for c in engine_compat(record).cells}
    assert cells["sm80"].text == "✓ trtexec ran the plan on a GPU of compute capability 8.0"


def test_percentiles_are_trtexecs() -> None:
    # The real file has equal neighbours at the median and the percentiles (its times are
    # quantised), so trtexec's definitions are pinned here on distinct values too.
    from trtdoc.inspect.latency import latency_from_values

    hundred = latency_from_values([float(v) for v in range(100, 0, -1)])
    assert (hundred.median_ms, hundred.p90_ms, hundred.p99_ms) == (50.5, 90.0, 99.0)
    assert [b.count for b in hundred.histogram] == [10] * 10
    five = latency_from_values([3.0, 1.0, 5.0, 2.0, 4.0])
    assert (five.median_ms, five.p90_ms, five.p99_ms, five.mean_ms) == (3.0, 5.0, 5.0, 3.0)
    assert latency_from_values([2.0]).histogram[0].count == 1


def test_trtdoc_compat_gives_the_import_its_verdict_on_that_architecture(
        project: Path) -> None:
    (project / "deploy.yaml").write_text(
        "targets:\n"
        "  - {name: a100, gpu: A100, driver: '535.104.05', runtime: tensorrt 8.4.1,"
        " engines: [resnet-fp32]}\n"
        "  - {name: l4, gpu: L4, driver: '535.104.05', runtime: tensorrt 8.4.1,"
        " engines: [resnet-fp32]}\n", encoding="utf-8")
    result = run("compat", "--deploy", project / "deploy.yaml", "--records",
                 project / "records", "--format", "json")
    assert result.exit_code == 0, result.output
    verdicts = {v["target"]: {c["rule"]: c for c in v["checks"]}
                for v in json.loads(result.stdout)}
    assert verdicts["a100"]["hardware-compatibility"]["verdict"] == "runs"
    assert verdicts["l4"]["hardware-compatibility"]["verdict"] == "unknown"

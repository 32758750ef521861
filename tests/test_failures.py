"""Failures stay visible until fixed (issue 24 item 5): real TensorRT-RTX builds of
mobilenet_v2 (width 0.35, seeded random weights, ../shared/models) that fail at check, at the
accuracy gate and in the builder (a 1 MiB workspace at batch 32), each with a row in the
summary table, a ``records/.failed/<name>.json`` and a line on the engine index, until that
spec builds again or is gone."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MODELS, REPO

pytest.importorskip("tensorrt_rtx")
pytest.importorskip("onnxruntime")

MODEL = MODELS / "mobilenet_v2_035.onnx"


def _spec(name: str, *, precision: str = "fp32", batch: int = 1, extra: str = "") -> str:
    return (f"name: {name}\nmodel: {MODEL}\nbackend: tensorrt-rtx\nprecision: {precision}\n"
            f"profiles:\n  - input: {{min: [1, 3, 224, 224], opt: [{batch}, 3, 224, 224], "
            f"max: [{batch}, 3, 224, 224]}}\ntargets: [sm89]\n{extra}")


def _trtdoc(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(project)}
    return subprocess.run([sys.executable, "-m", "trtdoc.cli", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def _failed(project: Path) -> dict[str, dict[str, object]]:
    folder = project / "records" / ".failed"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _failing_table(index: str) -> list[str]:
    """The rows of the index's "Failing specs" table, cut to name and stage."""
    section = index.split("## Failing specs", 1)[1] if "## Failing specs" in index else ""
    return [" | ".join(cells.split(" | ")[:2]) + " |"
            for cells in re.findall(r"^(\| .*) \|$", section, re.M)[1:]]


def test_every_failure_is_listed_until_it_is_fixed(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ok.yaml").write_text(_spec("ok"))
    # The gate passes (figures measured), then the builder finds no tactic in 1 MiB.
    (specs / "ws.yaml").write_text(_spec("ws", precision="fp16", batch=32, extra=(
        "memory: {workspace: 1MiB}\naccuracy: {tolerance: {min_cosine: 0.9}}\n")))
    (specs / "gate.yaml").write_text(_spec("gate", precision="fp16", extra=(
        "accuracy: {tolerance: {max_abs: 1e-15}}\n")))
    (specs / "typo-file.yaml").write_text(_spec("typo", extra="precison: fp16\n"))
    (specs / "garbled.yaml").write_text("name: [unclosed\n")  # no name to read: its file's
    # NaN calibration data passes the check; onnxruntime's quantiser then fails ("scale issue").
    np.savez(specs / "nan.npz", input=np.full((2, 3, 224, 224), np.nan, dtype=np.float32))
    (specs / "conv.yaml").write_text(_spec("conv", precision="int8", extra=(
        "calibration: {data: nan.npz, batches: 2}\n")))

    run = _trtdoc(tmp_path, "build", "specs", "--site", "site")
    assert run.returncode == 1, run.stderr
    rows = {line.split()[0]: line for line in run.stdout.splitlines()[1:]}
    assert re.fullmatch(r"ok +built +\d+\.\d s +[\d,]+ bytes in .*", rows["ok"])
    for name, stage in (("ws", "build"), ("gate", "accuracy"), ("typo", "check"),
                        ("garbled", "check"), ("conv", "conversion")):
        assert re.fullmatch(rf"{name} +failed +(\d+\.\d s)? +failed at {stage}; see above",
                            rows[name]), rows[name]
    failed = _failed(tmp_path)
    assert {n: f["stage"] for n, f in failed.items()} == {
        "conv": "conversion", "garbled": "check", "gate": "accuracy", "typo": "check",
        "ws": "build"}
    assert failed["typo"]["reason"] == ("specs/typo-file.yaml:8:1: precison: unknown key "
                                        "'precison'. Hint: did you mean 'precision'?")
    assert failed["typo"]["spec_path"] == "specs/typo-file.yaml"
    assert str(failed["ws"]["reason"]).startswith("specs/ws.yaml:8: memory.workspace: the "
                                                  "builder failed: ")
    assert str(failed["ws"]["reason"]).endswith(". No tactic fits in memory.workspace: raise "
                                                "it (for example `memory: {workspace: 1GiB}`)")
    # The gate passed before the builder failed: its figures are kept with the failure.
    ws_accuracy = failed["ws"]["accuracy"]
    assert isinstance(ws_accuracy, dict) and ws_accuracy["outputs"][0]["cosine"] > 0.9
    assert failed["gate"]["accuracy"] is None  # the gate's own file has them
    assert (tmp_path / "records" / ".gates" / "gate.json").is_file()
    index = (tmp_path / "site" / "engines" / "index.md").read_text()
    assert _failing_table(index) == ["| conv | conversion |", "| garbled | check |",
                                     "| gate | accuracy |", "| typo | check |", "| ws | build |"]
    assert "| [ok](ok.md) |  |" in index

    # ws is fixed, garbled is gone, ok now fails at check while its last good page stays.
    (specs / "ws.yaml").write_text(_spec("ws", precision="fp16", batch=32, extra=(
        "memory: {workspace: 1GiB}\naccuracy: {tolerance: {min_cosine: 0.9}}\n")))
    (specs / "garbled.yaml").unlink()
    (specs / "conv.yaml").unlink()
    (specs / "ok.yaml").write_text(_spec("ok", extra="owner: [not, a, string]\n"))
    run = _trtdoc(tmp_path, "build", "specs", "--site", "site")
    assert run.returncode == 1, run.stderr
    assert sorted(_failed(tmp_path)) == ["gate", "ok", "typo"]
    index = (tmp_path / "site" / "engines" / "index.md").read_text()
    assert _failing_table(index) == ["| gate | accuracy |", "| [ok](ok.md) | check |",
                                     "| typo | check |"]
    assert "| [ok](ok.md) (latest build failed at check) |" in index
    assert "| [ws](ws.md) |  |" in index

    # Failure files are untrusted: one that does not decode, or names another spec, is left out.
    folder = tmp_path / "records" / ".failed"
    (folder / "evil.json").write_text("{")
    (folder / "other.json").write_text((folder / "typo.json").read_text())
    render = _trtdoc(tmp_path, "render", "--site", "site")
    assert (render.returncode, render.stderr) == (0, "")
    again = (tmp_path / "site" / "engines" / "index.md").read_text()
    assert again == index

    # Every spec fixed or gone: no failure left, and the index is as if none had failed.
    for name in ("gate", "typo-file", "ok"):
        (specs / f"{name}.yaml").unlink()
    run = _trtdoc(tmp_path, "build", "specs", "--site", "site")
    assert run.returncode == 0, run.stderr
    assert _failed(tmp_path) == {}
    assert "Failing specs" not in (tmp_path / "site" / "engines" / "index.md").read_text()


def test_a_refused_spec_goes_by_its_plain_name_else_its_file_name(tmp_path: Path) -> None:
    """The file just failed the check, so it is read as text, never parsed again: a YAML
    bomb costs one regular-expression scan, and a FIFO is never opened."""
    import os

    from trtdoc.build.failures import check_failure_name

    cases = {
        "plain.yaml": "name: resnet-int8  # the page slug\nmodel: m.onnx\nprecison: int8\n",
        "variants.yaml": "name: resnet\nvariants: {precision: [fp32, fp16]}\n",
        "unsafe.yaml": "name: ../../etc/passwd\n",
        "bomb.yaml": "name: bomb\na: &a [x, x, x, x, x, x, x, x, x]\n"
                     + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                               for p, c in zip("abcdefgh", "bcdefghi", strict=True)),
    }
    for file, text in cases.items():
        (tmp_path / file).write_text(text)
    os.mkfifo(tmp_path / "fifo.yaml")
    assert {f: check_failure_name(tmp_path / f) for f in [*cases, "fifo.yaml"]} == {
        "plain.yaml": "resnet-int8", "variants.yaml": "variants", "unsafe.yaml": "unsafe",
        "bomb.yaml": "bomb", "fifo.yaml": "fifo"}

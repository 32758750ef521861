"""``trtdoc import`` against real and hostile files: the exact line it prints, never a traceback.

Real exports: ../shared/fixtures/trex (TensorRT 8.x trtexec on an A100, ResNet-18 fp16).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, TREX

from trtdoc.cli.group import cli
from trtdoc.inspect.limits import MAX_EXPORT_BYTES, MAX_LAYERS

GRAPH = TREX / "fp16" / "resnet.onnx.engine.graph.json"
PROFILE = TREX / "fp16" / "resnet.onnx.engine.profile.json"


@pytest.fixture(autouse=True)
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(GRAPH, tmp_path / "x.graph.json")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["import", *args], prog_name="trtdoc")


def refused(result: Result, line: str) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (result.exit_code, result.output) == (1, line + "\n")


# --------------------------------------------------------------------------------------------
# Never replace a record without --force
# --------------------------------------------------------------------------------------------
def test_import_refuses_to_replace_a_built_record(here):
    built = REPO / "tests" / "data" / "records" / "bert-tiny.json"
    (here / "records").mkdir()
    shutil.copyfile(built, here / "records" / "bert-tiny.json")
    refused(run("x.graph.json", "--name", "bert-tiny"),
            "error: records/bert-tiny.json exists (built from tests/data/specs/bert_tiny.yaml); "
            "pass --force to replace it (the old record goes to records/.history/)")
    assert (here / "records" / "bert-tiny.json").read_bytes() == built.read_bytes()
    assert not (here / "records" / ".history").exists()


def test_import_refuses_to_replace_an_imported_record_and_force_keeps_it(here):
    first = run("x.graph.json", "--name", "resnet")
    assert first.exit_code == 0, first.output
    record = here / "records" / "resnet.json"
    old = record.read_bytes()
    refused(run("x.graph.json", "--profile", str(PROFILE), "--name", "resnet"),
            "error: records/resnet.json exists (imported from x.graph.json); pass --force to "
            "replace it (the old record goes to records/.history/)")
    assert record.read_bytes() == old
    forced = run("x.graph.json", "--profile", str(PROFILE), "--name", "resnet", "--force")
    assert forced.exit_code == 0, forced.output
    assert (here / "records" / ".history" / "resnet.json").read_bytes() == old
    assert json.loads(record.read_bytes())["spec"]["imported_from"] == [
        "resnet.onnx.engine.profile.json", "x.graph.json"]


# --------------------------------------------------------------------------------------------
# Hostile files: one line naming the file
# --------------------------------------------------------------------------------------------
def test_a_json_list_is_not_engine_information(here):
    (here / "list.json").write_text("[1, 2]", encoding="utf-8")
    refused(run("list.json", "--name", "x"),
            "error: list.json: the engine information is a JSON list, not the object "
            "IEngineInspector and trtexec --exportLayerInfo write")


def test_deeply_nested_json(here):
    (here / "deep.json").write_text("[" * 100_000, encoding="utf-8")
    refused(run("deep.json", "--name", "x"),
            "error: deep.json: the engine information is nested too deeply to be read")


def test_not_utf8(here):
    (here / "latin1.json").write_bytes(b'{"Layers": ["caf\xe9"]}')
    refused(run("latin1.json", "--name", "x"),
            "error: latin1.json: the layer information is not UTF-8 text (byte 0xe9 at "
            "offset 16)")


def test_symlink_loop(here):
    os.symlink("loop.json", here / "loop.json")
    refused(run("loop.json", "--name", "x"),
            "error: loop.json: cannot read the layer information (Too many levels of symbolic "
            "links)")


def test_directory(here):
    (here / "dir.json").mkdir()
    refused(run("dir.json", "--name", "x"),
            "error: dir.json: the layer information is a directory, not a regular file")


def test_dev_zero_is_not_read():
    refused(run("/dev/zero", "--name", "x"),
            "error: /dev/zero: the layer information is a device, not a regular file")


def test_fifo_never_hangs(here):
    os.mkfifo(here / "fifo.json")
    refused(run("fifo.json", "--name", "x"),
            "error: fifo.json: the layer information is a FIFO, not a regular file")
    refused(run("x.graph.json", "--profile", "fifo.json", "--name", "x"),
            "error: fifo.json: the trtexec profile is a FIFO, not a regular file")


def test_missing_file(here):
    refused(run("nope.json", "--name", "x"),
            "error: nope.json: cannot read the layer information (No such file or directory)")


def test_engine_that_is_a_device(here):
    refused(run("x.graph.json", "--engine", "/dev/zero", "--name", "x"),
            "error: /dev/zero: the --engine file is not a regular file")


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_not_read(here):
    big = here / "big.json"
    with big.open("wb") as f:  # sparse: no disk used, and nothing is read
        f.truncate(MAX_EXPORT_BYTES + 1)
    refused(run("big.json", "--name", "x"),
            "error: big.json: the layer information is 2,147,483,649 bytes; trtdoc reads at "
            "most 2,147,483,648 (2 GiB)")


def test_too_many_layers(here, monkeypatch):
    # 10^6 layers must import (issue 13); twice that is refused. The limit is lowered here
    # only so the test need not write 2,000,001 layers: the layers are counted as they stream,
    # so the refusal comes at the first one past the limit, whatever the limit is.
    assert MAX_LAYERS == 2_000_000
    monkeypatch.setattr("trtdoc.inspect.limits.MAX_LAYERS", 1000)
    layer = {"Name": "l", "LayerType": "Reformat", "Inputs": [], "Outputs": []}
    (here / "many.json").write_text(json.dumps({"Layers": [layer] * 1001}), encoding="utf-8")
    refused(run("many.json", "--name", "x"),
            "error: many.json: the engine information lists over 1,000 layers; trtdoc reads at "
            "most 1,000")


def test_the_import_renders_its_record_as_read_without_decoding_it_again(here, monkeypatch):
    """The import renders from the record it made (a 10^6-layer record is 1 GB of JSON): its
    pages are byte for byte those a render from the file on disk writes."""
    shutil.copyfile(PROFILE, here / "x.profile.json")
    monkeypatch.setenv("XDG_CACHE_HOME", str(here / "cache"))
    imported = run("x.graph.json", "--profile", "x.profile.json", "--name", "resnet")
    assert imported.exit_code == 0, imported.output
    pages = {p.relative_to(here / "site"): p.read_bytes()
             for p in (here / "site").rglob("*.md")}
    assert Path("engines/resnet.md") in pages
    shutil.rmtree(here / "site")
    shutil.rmtree(here / "cache")
    rendered = CliRunner().invoke(cli, ["render"], prog_name="trtdoc")
    assert rendered.exit_code == 0, rendered.output
    assert {p.relative_to(here / "site"): p.read_bytes()
            for p in (here / "site").rglob("*.md")} == pages


# --------------------------------------------------------------------------------------------
# Dimensions are integers from -1 to MAX_DIM, as a spec's shapes are (issue 26 item 7)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "shown"), [
    ("Infinity", "inf"), ("1.5", "1.5"), ("1e30", "1e+30"), ("-2", "-2"), ("true", "True"),
    ('"3"', "'3'"), ("2147483648", "2147483648"),
])
def test_a_dimension_that_is_not_a_sane_integer_is_one_line(here, value, shown):
    (here / "d.json").write_text(
        '{"Layers": [{"Name": "a", "LayerType": "X", "Inputs": [{"Name": "x", "Dimensions": '
        f'[1, {value}], "Format/Datatype": "Float"}}], "Outputs": []}}], "Bindings": []}}',
        encoding="utf-8")
    refused(run("d.json", "--name", "x"),
            f"error: d.json: layer 0 ('a'): the Dimensions of tensor 'x' is [1, {shown}], not a "
            "list of at most 8 integers from -1 (dynamic) to 2,147,483,647; export the engine "
            "information again with TensorRT")


def test_profile_shapes_and_io_dimensions_are_checked_too(here):
    io = {"Name": "x", "IOMode": "Input", "DataType": "Float", "Dimensions": [-1, 3],
          "ProfileInfo": [{"MinShape": [1, 3], "OptShape": [2, 3], "MaxShape": [1e400, 3]}]}
    layer = {"Name": "a", "LayerType": "X", "Inputs": [], "Outputs": []}
    text = json.dumps({"Layers": [layer], "I/O Tensors": [io]}).replace("Infinity", "1e400")
    (here / "p.json").write_text(text, encoding="utf-8")
    refused(run("p.json", "--name", "x"),
            "error: p.json: I/O tensor 'x': its MaxShape is [inf, 3], not a list of at most 8 "
            "integers from -1 (dynamic) to 2,147,483,647; export the engine information again "
            "with TensorRT")
    io.update(Dimensions=[-1, 1.5], ProfileInfo=[])
    (here / "p.json").write_text(json.dumps({"Layers": [layer], "I/O Tensors": [io]}))
    refused(run("p.json", "--name", "x"),
            "error: p.json: I/O tensor 'x': its Dimensions is [-1, 1.5], not a list of at most 8 "
            "integers from -1 (dynamic) to 2,147,483,647; export the engine information again "
            "with TensorRT")

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import MODELS, REPO, TREX

from trtdoc.errors import RecordError
from trtdoc.importer import record_from_trtexec
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.precision.result import PrecisionResult
from trtdoc.record.codec import (
    SCHEMA_COMMAND,
    SCHEMA_PATH,
    record_from_json,
    schema_text,
)
from trtdoc.record.files import read_record, read_records
from trtdoc.record.text import dumps
from trtdoc.record.types import EngineRecord
from trtdoc.typed import encode

SCHEMA = json.loads(SCHEMA_PATH.read_text())
SHIPPED = sorted((REPO / "records").glob("*.json"))


def test_the_shipped_schema_is_the_one_the_types_generate():
    generated = schema_text()
    assert SCHEMA_PATH.read_text(encoding="utf-8") == generated, (
        f"trtdoc/schema/record.schema.json is out of date; regenerate it with `{SCHEMA_COMMAND}`")
    jsonschema.Draft202012Validator.check_schema(json.loads(generated))


def test_the_schema_is_strict_where_the_decoder_is():
    props = SCHEMA["properties"]
    assert SCHEMA["additionalProperties"] is False
    assert props["schema_version"]["const"] == 1
    assert list(props) == ["schema_version", "trtdoc_version", "name", "build_key", "spec_hash",
                           "spec", "model", "backend", "host", "settings", "applied",
                           "build_seconds", "engine", "precision", "accuracy", "inspection",
                           "warnings", "not_run", "findings", "profiled"]
    facts = SCHEMA["$defs"]["ModelFacts"]
    assert facts["properties"]["ir_version"] == {"type": "integer"}
    assert "node_names" not in facts["properties"]  # kept in memory, never written
    assert "node_ops" not in facts["properties"] and "qdq_pairs" not in facts["properties"]
    assert SCHEMA["$defs"]["BackendSection"]["properties"]["name"]["enum"] == [
        "tensorrt", "tensorrt-rtx"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_record_round_trips_byte_for_byte(path: Path):
    text = path.read_text(encoding="utf-8")
    record = read_record(path)
    assert dumps(record) == text
    assert record_from_json(dumps(record)) == record
    jsonschema.validate(json.loads(text), SCHEMA)


def test_shipped_records_exist():
    assert len(SHIPPED) >= 6


def test_flat_names_read_the_sections():
    record = read_record(REPO / "records" / "bert-tiny.json")
    data = json.loads((REPO / "records" / "bert-tiny.json").read_text())
    assert record.model_path == data["model"]["path"] == record.model_section.path
    assert record.model is record.model_section.facts and record.model.ir_version == 8
    assert record.backend == data["backend"]["name"] == "tensorrt-rtx"
    assert record.engine_sha256 == data["engine"]["sha256"]
    assert record.header == record.engine_section.header
    # Constructor and dataclasses.replace take the flat names, as build.py and the tests do.
    again = dataclasses.replace(record, header=None, backend="tensorrt")
    assert (again.header, again.backend, again.backend_version) == (
        None, "tensorrt", record.backend_version)
    assert again.engine_path == record.engine_path and again.name == record.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "x"  # type: ignore[misc]


def test_layer_precision_is_recomputed_on_read():
    data = json.loads((REPO / "records" / "bert-tiny.json").read_text())
    assert data["inspection"]["layers"][0]["type"] == "ShapeHostToDevice"
    data["inspection"]["layers"][0]["precision"] = "Int64"  # what the old rule stored
    record = record_from_json(json.dumps(data))
    assert record.inspection.layers[0].precision == ""
    assert json.loads(dumps(record))["inspection"]["layers"][0]["precision"] == ""


def test_an_empty_precision_or_accuracy_reads_and_writes_as_null():
    text = (REPO / "records" / "bert-tiny.json").read_text()
    record = record_from_json(edit(text, precision={}, accuracy={}))
    assert (record.precision, record.accuracy) == (None, None)
    assert dumps(record) == text
    assert dumps(dataclasses.replace(record, precision={})) == text


def edit(text: str, **changes: object) -> str:
    return json.dumps({**json.loads(text), **changes})


def test_decoding_the_shipped_records_is_fast():
    texts = [p.read_bytes() for p in SHIPPED]
    record_from_json(texts[0])  # builds the decoder once
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            record_from_json(text)
    per_second = rounds * len(texts) / (time.perf_counter() - started)
    assert per_second > 50, f"{per_second:.0f} records/s"


def test_real_build_record_matches_the_shipped_schema(mobilenet_build):
    record_path, _ = mobilenet_build
    data = json.loads(record_path.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == 1
    assert data["backend"]["name"] == "tensorrt-rtx"
    assert data["engine"]["header"]["compute_capabilities"] == ["sm86", "sm120"]


def test_record_round_trips_byte_for_byte(mobilenet_build):
    record_path, _ = mobilenet_build
    text = record_path.read_text()
    record = read_record(record_path)
    assert dumps(record) == text
    assert record_from_json(json.dumps(encode(record))) == record


def test_trtexec_import_matches_the_schema_and_carries_layer_times():
    fp16 = TREX / "fp16"
    record = record_from_trtexec("resnet-a100-fp16", fp16 / "resnet.onnx.engine.graph.json",
                                 fp16 / "resnet.onnx.engine.profile.json",
                                 model=MODELS / "resnet18.onnx")
    assert isinstance(record, EngineRecord)
    jsonschema.validate(encode(record), SCHEMA)
    assert record_from_json(dumps(record)) == record
    timed = [layer for layer in record.inspection.layers if layer.time_ms is not None]
    assert len(record.inspection.layers) == 36
    assert len(timed) == 36
    assert round(sum(layer.time_ms for layer in timed), 6) == pytest.approx(1.016832)
    assert [n.what for n in record.not_run] == ["trtdoc build", "engine header",
                                                "latency distribution"]


def test_a_damaged_record_names_the_file(tmp_path):
    bad = tmp_path / "damaged.json"
    bad.write_text('{"schema_version": 1, "name": "x"}')
    with pytest.raises(RecordError) as err:
        read_record(bad)
    assert str(err.value).endswith("damaged.json: build_key: missing (and 11 more problems); "
                                   "rebuild it with `trtdoc build --force`")


def test_read_records_names_the_first_bad_file(tmp_path):
    for p in SHIPPED[:2]:
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "zz-bad.json").write_text("[]")
    (tmp_path / "zzz-bad.json").write_text("{")  # the first bad file in name order is named
    with pytest.raises(RecordError) as err:
        read_records(tmp_path)
    assert str(err.value).endswith(
        "zz-bad.json: not a trtdoc record: the file holds a JSON list, not a JSON object; "
        "rebuild it with `trtdoc build --force`")
    (tmp_path / "zz-bad.json").unlink()
    (tmp_path / "zzz-bad.json").unlink()
    assert [r.name for r in read_records(tmp_path)] == sorted(
        json.loads(p.read_text())["name"] for p in SHIPPED[:2])


V1 = sorted((REPO / "tests" / "data" / "records_v1").glob("*.json"))


@pytest.mark.parametrize("path", V1, ids=lambda p: p.name)
def test_schema_1_records_as_shipped_decode_typed_and_reencode_unchanged(path: Path):
    text = path.read_text(encoding="utf-8")
    record = record_from_json(text, path=path)
    assert dumps(record) == text
    if json.loads(text)["precision"] is not None:
        assert isinstance(record.precision, PrecisionResult)
        assert isinstance(record.accuracy, AccuracyReport)


def test_task_metric_figures_are_flat_keys_in_the_file_and_the_schema():
    record = read_record(REPO / "records" / "magika-int8.json")
    assert record.accuracy is not None
    accuracy = dataclasses.replace(record.accuracy, metrics=(("exact_match", 0.93),
                                                             ("wer", 0.1)))
    text = dumps(dataclasses.replace(record, accuracy=accuracy))
    data = json.loads(text)
    assert list(data["accuracy"])[-4:] == ["not_run", "metric.exact_match", "metric.wer",
                                           "gate_key"]
    jsonschema.validate(data, SCHEMA)
    assert record_from_json(text).accuracy == accuracy
    data["accuracy"]["metric.wer"] = "0.1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import MODELS, TREX

from trtdoc.errors import RecordError
from trtdoc.importer import record_from_trtexec
from trtdoc.record import SCHEMA_PATH, dumps, read_record, record_from_dict, record_to_dict

SCHEMA = json.loads(SCHEMA_PATH.read_text())


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
    assert record_from_dict(record_to_dict(record)) == record


def test_trtexec_import_matches_the_schema_and_carries_layer_times():
    fp16 = TREX / "fp16"
    record = record_from_trtexec("resnet-a100-fp16", fp16 / "resnet.onnx.engine.graph.json",
                                 fp16 / "resnet.onnx.engine.profile.json",
                                 model=MODELS / "resnet18.onnx")
    jsonschema.validate(record_to_dict(record), SCHEMA)
    timed = [layer for layer in record.inspection.layers if layer.time_ms is not None]
    assert len(record.inspection.layers) == 36
    assert len(timed) == 36
    assert round(sum(layer.time_ms for layer in timed), 6) == pytest.approx(1.016832)
    assert [n.what for n in record.not_run] == ["trtdoc build", "engine header"]


def test_a_record_from_another_schema_version_is_refused_with_the_fix(tmp_path, mobilenet_build):
    record_path, _ = mobilenet_build
    data = json.loads(record_path.read_text())
    data["schema_version"] = 99
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(RecordError) as err:
        read_record(bad)
    assert str(err.value).endswith(
        "old.json: schema_version 99 is not 1; rebuild it with `trtdoc build --force`")


def test_a_damaged_record_names_the_file(tmp_path):
    bad = tmp_path / "damaged.json"
    bad.write_text('{"schema_version": 1, "name": "x"}')
    with pytest.raises(RecordError) as err:
        read_record(bad)
    assert str(err.value).endswith("damaged.json: malformed record (missing key 'host'); "
                                   "rebuild it with `trtdoc build --force`")

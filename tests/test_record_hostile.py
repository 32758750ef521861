"""Records are untrusted input: every hostile shape gives one RecordError line, never a traceback.

Each test asserts the whole line (house style), so a change to a message is a visible change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from trtdoc.errors import FutureRecordError, RecordError
from trtdoc.record.files import MAX_RECORD_BYTES, read_record

FIX = "rebuild it with `trtdoc build --force`"
BASE = json.loads((REPO / "records" / "bert-tiny.json").read_text(encoding="utf-8"))
HTML = "<script>alert(1)</script>"
_DELETE = object()


def edited(*changes: tuple[tuple[Any, ...], Any], base: Any = BASE) -> str:
    data = json.loads(json.dumps(base))
    for path, value in changes:
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return json.dumps(data, ensure_ascii=False)


def error_line(tmp_path: Path, content: str | bytes, name: str = "x.json") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    with pytest.raises(RecordError) as err:
        read_record(path)
    line = str(err.value)
    assert "\n" not in line and "Traceback" not in line
    # The path is shown relative to the working directory where it can be; compare from it.
    assert line.startswith(str(path)) or line.startswith(name) or f"/{name}: " in line
    return line.split(f"{name}: ", 1)[1]


@pytest.mark.parametrize(("field", "path"), [
    ("model.facts.ir_version", ("model", "facts", "ir_version")),
    ("model.facts.opset[0][1]", ("model", "facts", "opset", 0, 1)),
    ("model.facts.nodes", ("model", "facts", "nodes")),
    ("model.facts.op_histogram[0][1]", ("model", "facts", "op_histogram", 0, 1)),
    ("model.facts.parameters", ("model", "facts", "parameters")),
    ("host.cpu_count", ("host", "cpu_count")),
    ("inspection.optimization_profile", ("inspection", "optimization_profile")),
    ("inspection.profile_count", ("inspection", "profile_count")),
    ("inspection.layers[3].profile", ("inspection", "layers", 3, "profile")),
    ("inspection.layers[3].inputs[0].dims[1]", ("inspection", "layers", 3, "inputs", 0, "dims", 1)),
    ("inspection.memory.weights", ("inspection", "memory", "weights")),
    ("engine.bytes", ("engine", "bytes")),
    ("engine.header.size_bytes", ("engine", "header", "size_bytes")),
])
def test_html_in_a_numeric_field_is_refused_naming_the_field(tmp_path, field, path):
    assert error_line(tmp_path, edited((path, HTML))) == (
        f"{field}: expected an integer, got '<script>alert(1)</script>' (a string); {FIX}")


def test_a_boolean_or_a_fraction_is_not_an_integer(tmp_path):
    assert error_line(tmp_path, edited((("host", "cpu_count"), True))) == (
        f"host.cpu_count: expected an integer, got true (a boolean); {FIX}")
    assert error_line(tmp_path, edited((("model", "facts", "ir_version"), 8.5))) == (
        f"model.facts.ir_version: expected an integer, got 8.5 (a number); {FIX}")
    assert error_line(tmp_path, edited((("host", "cpu_count"), -1))) == (
        f"host.cpu_count: expected a number of at least 0, got -1 (an integer); {FIX}")


def test_a_long_bad_value_is_cut_and_escaped(tmp_path):
    value = "A" * 100 + "\n\x1b[31m\u202e"
    line = error_line(tmp_path, edited((("model", "facts", "ir_version"), value)))
    assert line == (f"model.facts.ir_version: expected an integer, got "
                    f"'{'A' * 38}… (a string); {FIX}")
    line = error_line(tmp_path, edited((("model", "facts", "ir_version"), "\x1b[31m\u202e")))
    assert line == (f"model.facts.ir_version: expected an integer, got '\\x1b[31m\\u202e' "
                    f"(a string); {FIX}")


def test_a_string_where_a_string_or_int_dim_goes_is_named_once(tmp_path):
    assert error_line(tmp_path, edited((("model", "facts", "inputs", 0, "dims", 0), 1.5))) == (
        f"model.facts.inputs[0].dims[0]: expected an integer or a string, got 1.5 (a number); "
        f"{FIX}")


def test_enums_objects_and_lists_are_checked(tmp_path):
    assert error_line(tmp_path, edited((("backend", "name"), HTML))) == (
        f"backend.name: expected one of 'tensorrt' or 'tensorrt-rtx', got "
        f"'<script>alert(1)</script>' (a string); {FIX}")
    assert error_line(tmp_path, edited((("engine", "header"), "x"))) == (
        f"engine.header: expected an object, got 'x' (a string); {FIX}")
    assert error_line(tmp_path, edited((("warnings",), {"a": 1}))) == (
        f"warnings: expected a list, got an object; {FIX}")
    assert error_line(tmp_path, edited((("inspection", "source"), HTML))) == (
        "inspection.source: expected a string matching "
        f"'^(build-log|inspector-json|trtexec)$', got '<script>alert(1)</script>' "
        f"(a string); {FIX}")


def test_free_form_parts_must_be_objects(tmp_path):
    assert error_line(tmp_path, edited((("spec",), [HTML]))) == (
        f"spec: expected an object, got a list; {FIX}")
    assert error_line(tmp_path, edited((("precision",), HTML))) == (
        f"precision: expected an object, got '<script>alert(1)</script>' (a string); {FIX}")


def test_unknown_and_missing_keys(tmp_path):
    assert error_line(tmp_path, edited((("model", "facts", "evil\nkey"), 1))) == (
        f"model.facts['evil\\nkey']: unknown key (trtdoc writes no such field here); {FIX}")
    assert error_line(tmp_path, edited((("host",), _DELETE))) == f"host: missing; {FIX}"
    assert error_line(tmp_path, edited((("host",), _DELETE), (("name",), 3))) == (
        f"name: expected a string, got 3 (an integer) (and 1 more problem); {FIX}")


def test_nan_is_not_json(tmp_path):
    text = edited((("build_seconds",), 1.0)).replace('"build_seconds": 1.0',
                                                      '"build_seconds": NaN')
    assert error_line(tmp_path, text) == (
        f"build_seconds: expected a finite number, got NaN (a number); {FIX}")


@pytest.mark.parametrize(("content", "kind"), [
    ("[1, 2]", "a JSON list"), ('"<script>"', "a JSON string"), ("3", "a JSON integer"),
    ("2.5", "a JSON number"), ("true", "a JSON boolean"), ("null", "JSON null"),
])
def test_a_record_that_is_not_an_object(tmp_path, content, kind):
    assert error_line(tmp_path, content) == (
        f"not a trtdoc record: the file holds {kind}, not a JSON object; {FIX}")


def test_deeply_nested_json_is_refused_without_recursion_error(tmp_path):
    assert error_line(tmp_path, "[" * 100_000) == (
        "not valid JSON (nested too deeply: recursion limit exceeded at line 1 column 202); "
        f"{FIX}")
    deep = edited((("spec", "x"), "DEEP")).replace('"DEEP"', "[" * 5000 + "]" * 5000)
    assert error_line(tmp_path, deep).startswith("not valid JSON (nested too deeply: ")


def test_bytes_that_are_not_utf8(tmp_path):
    assert error_line(tmp_path, b'{"name": "\xff"}') == (
        f"not UTF-8 text (byte 0xff at offset 10); {FIX}")


@pytest.mark.parametrize(("content", "why"), [
    ("{", "EOF while parsing an object at line 1 column 1"),
    ("", "EOF while parsing a value at line 1 column 0"),
    ('{"a": 1,}', "trailing comma at line 1 column 9"),
    ('{"a": "\\ud800"}', "unexpected end of hex escape at line 1 column 14"),
])
def test_invalid_json(tmp_path, content, why):
    assert error_line(tmp_path, content) == f"not valid JSON ({why}); {FIX}"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(10 * 1024 ** 3)  # sparse: no disk used; reading it would take 10 GiB
    assert MAX_RECORD_BYTES == 1280 * 1024 * 1024
    with pytest.raises(RecordError) as err:
        read_record(path)
    # The size comes from stat: a read capped at the limit could not know it.
    assert str(err.value).endswith(
        "huge.json: 10240.0 MiB is larger than any record trtdoc writes (the limit is "
        f"1280 MiB), so it is not read; {FIX}")
    with open(path, "wb") as f:
        f.truncate(MAX_RECORD_BYTES)  # at the limit: read, and then judged as JSON
    with open(path, "rb") as f:
        first = f.read(1)
    assert error_line(tmp_path, first, name="nul.json") == (
        f"not valid JSON (expected value at line 1 column 1); {FIX}")


def test_a_record_from_a_newer_trtdoc_says_to_upgrade(tmp_path):
    path = tmp_path / "new.json"
    # A newer layout may differ anywhere; the version decides before any field is checked.
    path.write_text(json.dumps({"schema_version": 99, "model": "elsewhere"}))
    with pytest.raises(FutureRecordError) as err:
        read_record(path)
    assert str(err.value).endswith(
        "new.json: schema_version 99 is newer than the 1 this trtdoc reads: the record was "
        "written by a newer trtdoc; upgrade trtdoc (`pip install --upgrade trtdoc`) to read it")


@pytest.mark.parametrize(("value", "got"), [
    (0, "0 (an integer)"), ("1", "'1' (a string)"), (True, "true (a boolean)"),
    (1.0, "1.0 (a number)"), (None, "null"),
])
def test_a_wrong_schema_version_is_not_a_future_one(tmp_path, value, got):
    path = tmp_path / "old.json"
    path.write_text(edited((("schema_version",), value)))
    with pytest.raises(RecordError) as err:
        read_record(path)
    assert not isinstance(err.value, FutureRecordError)
    assert str(err.value).endswith(f"old.json: schema_version: expected 1, got {got}; {FIX}")


def test_a_missing_schema_version(tmp_path):
    assert error_line(tmp_path, edited((("schema_version",), _DELETE))) == (
        f"schema_version: missing, so this is not a trtdoc record; {FIX}")


def test_values_from_values_py_are_checked(tmp_path):
    # A spec may say `backend: auto`; a record names the backend that built it.
    assert error_line(tmp_path, edited((("backend", "name"), "auto"))) == (
        f"backend.name: expected one of 'tensorrt' or 'tensorrt-rtx', got 'auto' (a string); "
        f"{FIX}")
    assert error_line(tmp_path, edited((("engine", "header", "backend"), ["tensorrt"]))) == (
        f"engine.header.backend: expected one of 'tensorrt' or 'tensorrt-rtx', got a list; "
        f"{FIX}")
    assert error_line(tmp_path, edited((("applied", 0, "call"), "tensorrt-rtx"))) == (
        "applied[0].call: expected one of 'network_flag', 'profiling_verbosity', 'profile', "
        "'memory_pool', 'optimization_level', 'compute_capabilities', "
        f"'hardware_compatibility' or 'flag', got 'tensorrt-rtx' (a string); {FIX}")


# --------------------------------------------------------------------------------------------
# The precision and accuracy sections (typed: trtdoc.precision.result, trtdoc.precision.accuracy)
# --------------------------------------------------------------------------------------------
INT8 = json.loads((REPO / "records" / "magika-int8.json").read_text(encoding="utf-8"))


def edited_int8(*changes: tuple[tuple[Any, ...], Any]) -> str:
    """``edited`` on a record with precision and accuracy sections."""
    return edited(*changes, base=INT8)


@pytest.mark.parametrize(("path", "value", "problem"), [
    (("precision", "calibration_batches"), "8", "expected an integer, got '8' (a string)"),
    (("precision", "seconds"), "fast", "expected a number, got 'fast' (a string)"),
    (("precision", "seconds"), -1.0, "expected a number of at least 0.0, got -1.0 (a number)"),
    (("precision", "low_precision_ops", 0, 1), HTML,
     "expected an integer, got '<script>alert(1)</script>' (a string)"),
    (("precision", "source"), 5, "expected a string, got 5 (an integer)"),
    (("precision", "notes"), HTML,
     "expected a list, got '<script>alert(1)</script>' (a string)"),
    (("precision", "cache_hit"), 1, "expected true or false, got 1 (an integer)"),
    (("accuracy", "outputs", 0, "cosine"), "1", "expected a number, got '1' (a string)"),
    (("accuracy", "outputs", 0, "shape", 0), 1.5, "expected an integer, got 1.5 (a number)"),
    (("accuracy", "outputs"), {"x": {}}, "expected a list, got an object"),
    (("accuracy", "samples"), True, "expected an integer, got true (a boolean)"),
    (("accuracy", "smoke"), "no", "expected true or false, got 'no' (a string)"),
    (("accuracy", "gate_key"), 5, "expected a string, got 5 (an integer)"),
])
def test_a_wrong_type_in_precision_or_accuracy_is_one_located_line(tmp_path, path, value,
                                                                   problem):
    field = path[0] + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    assert error_line(tmp_path, edited_int8((path, value))) == f"{field}: {problem}; {FIX}"


def test_task_metric_figures_are_numbers_under_metric_keys(tmp_path):
    assert error_line(tmp_path, edited_int8((("accuracy", "metric.exact_match"), "0.9"))) == (
        f"accuracy['metric.exact_match']: expected a number, got '0.9' (a string); {FIX}")
    assert error_line(tmp_path, edited_int8((("accuracy", "metric.exact_match"), True))) == (
        f"accuracy['metric.exact_match']: expected a number, got true (a boolean); {FIX}")
    infinite = edited_int8((("accuracy", "metric.x"), 1.0)).replace('"metric.x": 1.0',
                                                                    '"metric.x": 1e999')
    assert error_line(tmp_path, infinite) == (
        f"accuracy['metric.x']: expected a finite number, got Infinity (a number); {FIX}")
    # Only metric.<figure> keys: the field's own name is not a key of the file.
    assert error_line(tmp_path, edited_int8((("accuracy", "metrics"), [["x", 1.0]]))) == (
        f"accuracy.metrics: unknown key (trtdoc writes no such field here); {FIX}")


def test_unknown_and_missing_keys_of_precision_and_accuracy(tmp_path):
    assert error_line(tmp_path, edited_int8((("precision", "evil"), 1))) == (
        f"precision.evil: unknown key (trtdoc writes no such field here); {FIX}")
    assert error_line(tmp_path, edited_int8((("accuracy", "evil"), HTML))) == (
        f"accuracy.evil: unknown key (trtdoc writes no such field here); {FIX}")
    assert error_line(tmp_path, edited_int8((("precision", "tool"), _DELETE))) == (
        f"precision.tool: missing; {FIX}")
    assert error_line(tmp_path, edited_int8((("accuracy", "outputs", 0, "cosine"), _DELETE))) \
        == f"accuracy.outputs[0].cosine: missing; {FIX}"


# The spec section is typed (trtdoc.spec.section): each wrong value is one located line.
MAGIKA = json.loads((REPO / "records" / "magika-int8.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("path", "value", "line"), [
    (("spec", "precision"), "fp4",
     "spec.precision: expected one of 'fp32', 'fp16', 'bf16', 'int8' or 'fp8', got 'fp4' "
     "(a string)"),
    (("spec", "calibration", "batches"), "8",
     "spec.calibration.batches: expected an integer, got '8' (a string)"),
    (("spec", "calibration", "data"), 5,
     "spec.calibration.data: expected a string, got 5 (an integer)"),
    (("spec", "profiles", 0, "bytes", "min", 0), HTML,
     "spec.profiles[0].bytes.min[0]: expected an integer, got '<script>alert(1)</script>' "
     "(a string)"),
    (("spec", "targets", 0), "sm99",
     "spec.targets[0]: expected one of 'sm75', 'sm80', 'sm86', 'sm89', 'sm120' or 'sm121', "
     "got 'sm99' (a string)"),
    (("spec", "memory", "workspace"), "1GiB",
     "spec.memory.workspace: expected an integer, got '1GiB' (a string)"),
    (("spec", "accuracy", "outputs"), {"x": "ign"},
     "spec.accuracy.outputs.x: expected an object or one of 'ignore' or a list, got 'ign' "
     "(a string)"),
    (("spec", "accuracy", "tolerance", "min_cosine"), "0.9",
     "spec.accuracy.tolerance.min_cosine: expected a number, got '0.9' (a string)"),
    (("spec", "tags"), "a", "spec.tags: expected a list, got 'a' (a string)"),
    (("spec", "hardware_compatibility"), None,
     "spec.hardware_compatibility: expected one of 'none', 'ampere+' or 'same-cc', got null"),
    (("spec", "version_compatible"), 1,
     "spec.version_compatible: expected true or false, got 1 (an integer)"),
    (("spec", "variant"), [1], "spec.variant: expected an object, got a list"),
    (("spec", "triton"), {"model": 3}, "spec.triton.model: expected a string, got 3 (an integer)"),
    (("spec", "build_on"), {"gpu": 1}, "spec.build_on.gpu: expected a string, got 1 (an integer)"),
    (("spec", "evil"), 1, "spec.evil: unknown key (trtdoc writes no such field here)"),
    (("spec", "source"), _DELETE, "spec.source: missing"),
])
def test_a_wrong_value_in_the_spec_section_is_one_located_line(tmp_path, path, value, line):
    data = json.loads(json.dumps(MAGIKA))
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    assert error_line(tmp_path, json.dumps(data)) == f"{line}; {FIX}"


def test_an_imported_spec_holds_only_its_own_keys(tmp_path):
    imported = {"name": "x", "description": "d", "imported_from": ["a.json"], "precision": 3}
    assert error_line(tmp_path, edited((("spec",), imported))) == (
        f"spec.precision: unknown key (trtdoc writes no such field here); {FIX}")
    bad_list = {"name": "x", "description": "d", "imported_from": "a.json"}
    assert error_line(tmp_path, edited((("spec",), bad_list))) == (
        f"spec.imported_from: expected a list, got 'a.json' (a string); {FIX}")


# The record parts that serialise themselves (trtdoc.typed): findings, inspection, the plan
# header and the model facts. Each wrong type is one line naming the field.
@pytest.mark.parametrize(("path", "value", "line"), [
    (("findings", 0, "severity"), "fatal",
     "findings[0].severity: expected one of 'info', 'warning' or 'error', got 'fatal' "
     "(a string)"),
    (("findings", 0, "numbers", "layers"), "8",
     "findings[0].numbers.layers: expected an integer or a number, got '8' (a string)"),
    (("findings", 0, "numbers"), [1], "findings[0].numbers: expected an object, got a list"),
    (("findings", 0, "layers", 0), 7,
     "findings[0].layers[0]: expected a string, got 7 (an integer)"),
    (("findings", 0, "evil"), 1,
     "findings[0].evil: unknown key (trtdoc writes no such field here)"),
    (("findings", 0, "what"), _DELETE, "findings[0].what: missing"),
    (("findings", 0), HTML,
     "findings[0]: expected an object, got '<script>alert(1)</script>' (a string)"),
    (("inspection", "layers", 3, "time_ms"), "1.5",
     "inspection.layers[3].time_ms: expected a number, got '1.5' (a string)"),
    (("inspection", "layers", 3, "fused", 0), 3,
     "inspection.layers[3].fused[0]: expected a string, got 3 (an integer)"),
    (("inspection", "layers", 3, "fused"), 7,
     "inspection.layers[3].fused: expected a list, got 7 (an integer)"),
    (("inspection", "layers", 3, "name"), None,
     "inspection.layers[3].name: expected a string, got null"),
    (("inspection", "layers", 0), [], "inspection.layers[0]: expected an object, got a list"),
    (("inspection", "io", 0, "mode"), HTML,
     "inspection.io[0].mode: expected a string matching '^(Input|Output)$', got "
     "'<script>alert(1)</script>' (a string)"),
    (("inspection", "io", 0, "profiles", 0, "min", 0), "1",
     "inspection.io[0].profiles[0].min[0]: expected an integer, got '1' (a string)"),
    (("inspection", "io", 0, "profiles", 0, "opt"), None,
     "inspection.io[0].profiles[0].opt: expected a list, got null"),
    (("engine", "header", "backend"), "tensorrt-llm",
     "engine.header.backend: expected one of 'tensorrt' or 'tensorrt-rtx', got "
     "'tensorrt-llm' (a string)"),
    (("engine", "header", "compute_capabilities", 0), 86,
     "engine.header.compute_capabilities[0]: expected a string, got 86 (an integer)"),
    (("engine", "header", "version"), 1.7,
     "engine.header.version: expected a string, got 1.7 (a number)"),
    (("model", "facts", "external_data"), "no",
     "model.facts.external_data: expected true or false, got 'no' (a string)"),
    (("model", "facts", "inputs", 0, "name"), ["x"],
     "model.facts.inputs[0].name: expected a string, got a list"),
    # The facts trtdoc reads from the model but never stores are refused, not taken.
    (("model", "facts", "node_names"), ["a"],
     "model.facts.node_names: unknown key (trtdoc writes no such field here)"),
    (("model", "facts", "qdq_pairs"), [["q", "dq"]],
     "model.facts.qdq_pairs: unknown key (trtdoc writes no such field here)"),
])
def test_the_self_serialising_parts_refuse_wrong_types_in_one_line(tmp_path, path, value, line):
    assert error_line(tmp_path, edited((path, value))) == f"{line}; {FIX}"

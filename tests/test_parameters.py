"""The parameter table: one row per builder setting, with spec, effective and default values."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import TREX
from sitetools import fixed_records

from trtdoc.builder.settings import SETTING_KEYS
from trtdoc.importer import record_from_trtexec
from trtdoc.render.parameters import (
    NOT_TENSORRT,
    PARAMETER_KEYS,
    format_bytes,
    format_bytes_exact,
    format_shape,
    format_value,
    parameter_rows,
)


def _record(name: str):
    return next(r for r in fixed_records() if r.name == name)


def test_every_builder_setting_has_a_row_with_an_explanation() -> None:
    assert set(SETTING_KEYS) <= set(PARAMETER_KEYS)
    rows = parameter_rows(_record("bert-tiny"))
    assert [r.key for r in rows] == list(PARAMETER_KEYS)
    assert all(r.explanation.strip() and "\n" not in r.explanation for r in rows)


def test_rows_of_a_real_rtx_build() -> None:
    rows = {r.key: r for r in parameter_rows(_record("bert-tiny"))}
    ws = rows["memory.workspace"]
    assert (ws.spec, ws.effective, ws.default) == ("512 MiB", "512 MiB", "64 GiB")
    assert ws.explanation.startswith("Upper bound on scratch memory tactics may use; raise it "
                                     "if the log warns that tactics were skipped")
    targets = rows["targets"]
    assert (targets.spec, targets.effective) == ("sm80, sm86, sm89", "sm80, sm86, sm89")
    assert targets.default == "none: TensorRT-RTX 1.7 then compiles for sm80, sm86, sm89, sm120"
    assert rows["hardware_compatibility"].effective == "n/a in TensorRT-RTX"
    assert rows["optimization_level"].spec == "not set"
    assert rows["optimization_level"].effective == "3"
    assert rows["profiles"].spec.startswith("2: #0: attention_mask 1×8 … 8×128")
    assert rows["profiling_verbosity"].effective == "detailed"


def test_the_default_column_is_tensorrts_never_trtdocs() -> None:
    # This record was written when trtdoc's own defaults ("auto", "model") were stored for
    # settings TensorRT does not have; the page must not show them as TensorRT's.
    from dataclasses import replace

    from trtdoc.builder.settings import Setting

    record = _record("bert-tiny")
    old = {"backend": "auto", "precision_method": "model"}
    record = replace(record, settings=tuple(Setting(s.key, s.effective, old.get(s.key, s.default))
                                            for s in record.settings))
    rows = {r.key: r for r in parameter_rows(record)}
    for key in ("backend", "precision_method", "calibration", "accuracy.tolerance"):
        assert rows[key].default == NOT_TENSORRT == "not a TensorRT setting"
    assert rows["precision"].default == "the model's own types"
    assert rows["profiles"].default == "none"
    assert rows["profiling_verbosity"].default == "layer_names_only"
    assert all(r.default not in ("auto", "model") for r in rows.values())


def test_new_records_store_no_default_for_trtdoc_settings() -> None:
    from dataclasses import replace

    from trtdoc.builder.settings import Setting

    record = _record("mobilenet-v2-fp16")
    settings = tuple(Setting(s.key, s.effective, None)
                     if s.key in ("backend", "precision_method") else s
                     for s in record.settings)
    rows = {r.key: r for r in parameter_rows(replace(record, settings=settings))}
    assert rows["backend"].default == rows["precision_method"].default == NOT_TENSORRT


def test_imported_records_have_no_rows_of_not_known() -> None:
    assert parameter_rows(_record("resnet18-trtexec")) == ()


def _import_page(tmp_path: Path, precision: str) -> str:
    from trtdoc.render.write import plan_site

    folder = TREX / precision
    record = record_from_trtexec(f"resnet-a100-{precision}",
                                 folder / "resnet.onnx.engine.graph.json",
                                 folder / "resnet.onnx.engine.profile.json")
    pages = plan_site([record], tmp_path / "site")
    return pages[tmp_path / "site" / "engines" / f"{record.name}.md"].decode()


def test_imported_page_states_what_its_layers_say(tmp_path: Path) -> None:
    """Real trtexec exports (TREx's A100 ResNet-18): the summary precision comes from the
    layers, and the parameter table is one sentence instead of rows of "not known"."""
    page = _import_page(tmp_path, "fp16")
    assert "| Precision | fp16, 35 of 36 layers |\n" in page
    params = page.split("## Parameters\n", 1)[1].split("\n## ", 1)[0]
    assert params == ("\nThe import carried no builder settings: the spec and the settings "
                      "that built this engine are not known, so there is no parameter "
                      "table.\n")
    assert "| Workspace |" not in page
    # The layer table shows the type each layer computes in and the type it writes.
    # Columns: #, type, precision, output type, time, median, share, layer, tactic
    # (layer_table.py; the median where the profile has medianMs, as TREx's has).
    rows = {cells[0]: cells for cells in (re.split(r"  +", line.strip()) for line in
                                          page.splitlines() if re.match(r" +\d+  ", line))}
    assert rows["0"][1:4] == ["Reformat", "Float", "Half"]
    assert rows["0"][7] == "Reformatting CopyNode for Input Tensor 0 to Conv_0 + Relu_1"
    assert rows["1"][1:4] == ["CaskConvolution", "Half", "Half"]
    assert rows["1"][7] == "Conv_0 + Relu_1"
    assert "| Precision | fp32, 32 of 32 layers |\n" in _import_page(tmp_path / "b", "fp32")


def test_formatting() -> None:
    assert format_bytes(536870912) == "512 MiB"
    assert format_bytes(7022340) == "6.70 MiB"
    assert format_bytes(80) == "80 B"
    assert format_bytes(None) == "not known"
    assert format_bytes_exact(7022340) == "6.70 MiB (7,022,340 B)"
    assert format_shape([1, 3, 224, 224]) == "1×3×224×224" and format_shape([]) == "scalar"
    assert format_value("flags", ["tf32", "debug"]) == "debug, tf32"
    assert format_value("version_compatible", False) == "false"
    assert format_value("memory.workspace", None) == "not set"


def test_a_tolerance_without_a_precision_step_is_not_shown_as_checked() -> None:
    # magika-fp32 inherits `accuracy.tolerance` from its variants, but fp32 has no precision
    # step: nothing was compared, so the effective column must not claim a gate.
    from trtdoc.record.files import read_record

    root = Path(__file__).resolve().parents[1]
    record = read_record(root / "records" / "magika-fp32.json")
    assert record.accuracy is None and record.spec.accuracy.tolerance
    rows = {r.key: r for r in parameter_rows(record)}
    assert rows["accuracy.tolerance"].effective == "not checked (no precision step)"
    int8 = read_record(root / "records" / "magika-int8.json")
    rows = {r.key: r for r in parameter_rows(int8)}
    assert "top-1 agreement ≥ 0.95" in rows["accuracy.tolerance"].effective


def test_the_calibration_row_says_a_sample_axis() -> None:
    from dataclasses import replace

    from trtdoc.spec.types import Calibration

    record = _record("bert-tiny")
    calibration = Calibration(Path("data/calib.npz"), 4, (("x", 1),))
    record = replace(record, spec=replace(record.spec, calibration=calibration))
    rows = {r.key: r for r in parameter_rows(record)}
    assert rows["calibration"].spec == "data/calib.npz, 4 batches, x samples along axis 1"

"""The parameter table: one row per builder setting, with spec, effective and default values."""

from __future__ import annotations

from sitetools import fixed_records

from trtdoc.builder_config import SETTING_KEYS
from trtdoc.parameters import (
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
    assert targets.default == "none (builder default)"
    assert rows["hardware_compatibility"].effective == "n/a in TensorRT-RTX"
    assert rows["optimization_level"].spec == "not set"
    assert rows["optimization_level"].effective == "3"
    assert rows["profiles"].spec.startswith("2: #0: attention_mask 1×8 … 8×128")
    assert rows["profiling_verbosity"].effective == "detailed"


def test_imported_records_say_not_known_instead_of_defaults() -> None:
    rows = {r.key: r for r in parameter_rows(_record("resnet18-trtexec"))}
    assert (rows["memory.workspace"].spec, rows["memory.workspace"].effective,
            rows["memory.workspace"].default) == ("not known", "not known", "not known")


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

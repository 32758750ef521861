"""What changed between two records of one engine."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from sitetools import RECORDS, fixed_previous, fixed_records

from trtdoc.diff import changes_between, history_path, read_previous


def test_fp32_to_fp16_changes() -> None:
    new = next(r for r in fixed_records() if r.name == "resnet18-trtexec")
    old = fixed_previous()["resnet18-trtexec"]
    changes = changes_between(old, new)
    summary = {c.what: c for c in changes.summary}
    assert (summary["engine layers"].old, summary["engine layers"].new) == ("32", "36")
    mix = {c.what: (c.old, c.new, c.delta) for c in changes.precision_mix}
    assert mix == {"Float": ("32", "1", "-31"), "Half": ("0", "35", "+35")}
    assert ("NoOp", "8", "11") in {(c.what, c.old, c.new) for c in changes.layer_types}
    # A trtexec export has no ONNX node names: its (stable) layer names align the layers.
    assert changes.layer_counts() == (("precision", 26), ("type", 1), ("tactic", 23),
                                      ("added", 10), ("removed", 6))
    pool = next(layer for layer in changes.layers if layer.name == "MaxPool_2")
    assert [(c.what, c.old, c.new) for c in pool.changes][:2] == [
        ("type", "TiledPooling", "CudaPooling"), ("precision", "Float", "Half")]
    assert not changes.empty


def test_identical_records_have_no_changes() -> None:
    record = fixed_records()[0]
    assert changes_between(record, record).empty


def test_size_memory_and_settings_changes() -> None:
    old = next(r for r in fixed_records() if r.name == "bert-tiny")
    settings = tuple(dataclasses.replace(s, effective=1 << 30) if s.key == "memory.workspace"
                     else s for s in old.settings)
    new = dataclasses.replace(old, engine_bytes=old.engine_bytes * 2, build_seconds=3.5,
                              settings=settings)
    changes = changes_between(old, new)
    summary = {c.what: c for c in changes.summary}
    assert summary["engine size"].delta == "+100.0%"
    assert summary["build time"].new == "3.50 s"
    assert [(c.what, c.old, c.new) for c in changes.settings] == [
        ("memory.workspace", "512 MiB", "1 GiB")]


def test_read_previous(tmp_path: Path) -> None:
    assert read_previous(tmp_path) == {}
    shutil.copytree(RECORDS / ".history", tmp_path / ".history")
    (tmp_path / ".history" / "broken.json").write_text("{")
    assert sorted(read_previous(tmp_path)) == ["resnet18-trtexec"]
    assert history_path(tmp_path, "x") == tmp_path / ".history" / "x.json"

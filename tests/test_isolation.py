"""A failed build does not change the engines built after it (trtdoc.build.workers FreshProcess).

TensorRT-RTX 1.7.1 refuses mobilenet_v2 fp32 for sm75 ("FP32 GEMM is not supported"); the
next engine the same process builds, mobilenet_v2 for sm86, then has 74 layers and 8,462,644
bytes instead of 56 layers and 7,067,276 (measured with trtdoc and with a bare script of the
same TensorRT calls). trtdoc builds in a fresh process after such a failure. Every build here
runs in a child process, so this test process never holds a failed builder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS, REPO

from trtdoc.build.plan import decide, select_specs
from trtdoc.build.workers import Workers, execute_locally
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record
from trtdoc.record.types import EngineRecord


def _spec(folder: Path, name: str, target: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nmodel: {MODELS / 'mobilenet_v2_035.onnx'}\nbackend: "
                    "tensorrt-rtx\nprofiles: [{input: {min: [1, 3, 224, 224], opt: [1, 3, "
                    "224, 224], max: [2, 3, 224, 224]}}]\n" f"targets: [{target}]\n")
    return path


def _build(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trtdoc.cli", "build", *args, "--out", "build",
         "--records", "records", "--site", "site"],
        capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)})


def _facts(record: EngineRecord) -> tuple[int | None, int]:
    return record.engine_bytes, len(record.inspection.layers)


def test_a_failed_build_does_not_change_the_next_engine(tmp_path: Path) -> None:
    pytest.importorskip("tensorrt_rtx")
    _spec(tmp_path, "a75", "sm75")
    _spec(tmp_path, "b86", "sm86")
    # One run, the refused sm75 build first (--jobs 1: both in the same process before).
    both = _build(tmp_path, "a75.yaml", "b86.yaml")
    assert both.returncode == 1, both.stdout + both.stderr
    assert "FP32 GEMM is not supported" in both.stdout + both.stderr
    after_failure = read_record(tmp_path / "records" / "b86.json")
    assert _facts(after_failure) == (7_067_276, 56)  # 8,462,644 and 74 without the fix
    # b86 alone, in a new process, over that record: a rebuild with the same key repeats until
    # it writes the recorded bytes (TensorRT-RTX varies them now and then), so the same sha256
    # means the engine built after the failure is the engine b86 builds alone.
    alone = _build(tmp_path, "b86.yaml", "--force")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    rebuilt = read_record(tmp_path / "records" / "b86.json")
    assert rebuilt.engine_sha256 == after_failure.engine_sha256
    assert _facts(rebuilt) == _facts(after_failure)


def test_a_jobs_worker_whose_build_failed_hands_on_its_next_build(tmp_path: Path) -> None:
    """``--jobs``: one worker process gets both builds, the refused one first."""
    pytest.importorskip("tensorrt_rtx")
    specs = [_spec(tmp_path, "a75", "sm75"), _spec(tmp_path, "b86", "sm86")]
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    selection = select_specs(specs, ())
    todo = [plan for item in selection.chosen
            for plan in [decide(item, paths, True)[1]] if plan is not None]
    assert [p.item.spec.name for p in todo] == ["a75", "b86"]
    workers = Workers(1, None, todo[0].choice.name)
    try:
        outcomes = execute_locally(todo, paths, 2, None, workers=workers)
    finally:
        workers.close()
    assert [(o.name, o.status) for o in outcomes] == [("a75", "failed"), ("b86", "built")]
    assert _facts(read_record(paths.records / "b86.json")) == (7_067_276, 56)

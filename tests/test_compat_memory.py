"""Will it fit? (trtdoc.compat.memory): `memory:` and `instances:` in deploy.yaml, the memory
check of `trtdoc compat` on a real TensorRT-RTX build, and the time lower bound it prints.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from trtdoc.cli.group import cli
from trtdoc.compat.deploy import load_deployment
from trtdoc.compat.memory import Budget, budget_from_record, instances_that_fit, size_text
from trtdoc.errors import SpecErrors
from trtdoc.record.files import read_record

TARGET = """
  - name: {name}
    gpu: A10
    driver: "580.65.06"
    runtime: tensorrt-rtx 1.7.1
    engines: [mobilenet]
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


def deploy(folder: Path, *extra: str) -> Path:
    """A deploy.yaml with one A10 target per entry of ``extra`` (its added lines)."""
    body = "".join(TARGET.format(name=f"t{i}") + textwrap.indent(e, "    ")
                   for i, e in enumerate(extra))
    path = folder / "deploy.yaml"
    path.write_text("targets:" + body)
    return path


def test_the_budget_adds_weights_activation_persistent_and_the_rest_of_the_plan() -> None:
    b = Budget(weights=3 << 20, activation=20 << 20, persistent=1024, rest=512 << 10)
    assert b.total == (3 << 20) + (20 << 20) + 1024 + (512 << 10)
    assert instances_that_fit(b, 24 << 30) == (24 << 30) // b.total
    assert instances_that_fit(b, 1 << 20) == 0
    assert size_text(1024) == "1.0 KiB" and size_text(1000) == "1,000 B"
    assert b.parts() == ("weights 3.0 MiB + activation 20.0 MiB + persistent 1.0 KiB + rest "
                         "of the plan 512.0 KiB")


def test_memory_and_instances_are_read_and_bad_ones_are_one_line_each(tmp_path: Path) -> None:
    good = load_deployment(deploy(tmp_path, "memory: 1MiB\ninstances: 3\n", ""))
    assert [(t.memory, t.instances) for t in good.targets] == [(1 << 20, 3), (None, None)]
    with pytest.raises(SpecErrors) as caught:
        load_deployment(deploy(tmp_path, "memory: lots\n", "instances: 0\n"))
    lines = [str(e) for e in caught.value.errors]
    assert lines == [
        f"{tmp_path / 'deploy.yaml'}:7:13: targets[0].memory: 'lots' is not a size. Hint: "
        "write `memory: 8GiB`, `memory: 512MiB` or a byte count",
        f"{tmp_path / 'deploy.yaml'}:14:16: targets[1].instances: expected a whole number of "
        "instances from 1 to 100,000, got 0. Hint: write `instances: 2`",
    ]


def test_a_target_giving_1_mib_fails_and_the_same_gpu_without_the_cap_runs(
        mobilenet_build: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    record_path, _ = mobilenet_build
    root = record_path.parent.parent
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "400")
    budget = budget_from_record(read_record(record_path))
    assert budget is not None and budget.total > 1 << 20
    path = deploy(root, "memory: 1MiB\n", "", f"instances: {24 * 1024}\n")
    result = run("compat", "--deploy", str(path), "--records", "records", "--format", "json")
    assert result.exit_code == 1, result.output
    got = {p["target"]: p for p in json.loads(result.stdout)}
    assert (got["t0"]["verdict"], got["t0"]["rule"]) == ("fails", "memory")
    assert got["t0"]["reason"] == (f"one instance needs {size_text(budget.total)} "
                                   f"({budget.parts()}); the target gives 1.0 MiB")
    assert got["t1"]["verdict"] == "runs"
    fit = (24 << 30) // budget.total
    memory = next(c for c in got["t1"]["checks"] if c["rule"] == "memory")
    assert memory["reason"] == (f"{fit:,} instances of {size_text(budget.total)} fit; the A10 "
                                "has 24.0 GiB")
    # 24,576 instances do not fit in 24 GiB: the reason gives the figures.
    assert (got["t2"]["verdict"], got["t2"]["rule"]) == ("fails", "memory")
    assert got["t2"]["reason"].startswith("24,576 instances need ")
    assert got["t2"]["reason"].endswith(f"; the A10 has 24.0 GiB, room for {fit:,}")
    table = run("compat", "--deploy", str(path), "--records", "records")
    assert "time per inference on the target's GPU: an estimate and a lower bound, not a " \
           "measurement" in table.stdout
    assert any(line.split()[:3] == ["t1", "mobilenet", "≥"] for line in table.stdout.splitlines())

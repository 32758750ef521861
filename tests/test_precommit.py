"""The pre-commit hooks (.pre-commit-hooks.yaml), run by the real `pre-commit try-repo`.

try-repo clones this repository (with its uncommitted changes), installs the hooks'
environment with pip (`pip install .`: trtdoc and its dependencies, from the configured index
and pip's cache, so it works offline) and runs them in a throw-away git repository. About 30 to
40 s, most of it pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, relu_model, write

from trtdoc.cli.group import cli

pytest.importorskip("tensorrt_rtx")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=trtdoc tests", "-c", "user.email=tests@trtdoc",
                    *args], cwd=cwd, check=True, capture_output=True)


def test_the_hooks_run_trtdoc_check_and_the_drift_check() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {k: (h["entry"], h["language"], h["pass_filenames"]) for k, h in hooks.items()} == {
        "trtdoc-check": ("trtdoc check", "python", False),
        "trtdoc-drift": ("trtdoc build --check", "python", False),
    }


def test_pre_commit_try_repo_runs_both_hooks(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "project"
    relu_model(repo / "models" / "relu.onnx")
    write(repo, "specs/relu.yaml", "name: relu\nmodel: ../models/relu.onnx\n"
          "backend: tensorrt-rtx\ntargets: [sm86]\n")
    write(repo, "trtdoc.yml", "specs: specs/\n")
    _git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    assert CliRunner().invoke(cli, ["build"]).exit_code == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "built")
    # A valid edit the records do not have yet: check passes, the drift check fails.
    (repo / "specs" / "relu.yaml").write_text(
        (repo / "specs" / "relu.yaml").read_text() + "description: now documented\n")
    _git(repo, "add", "-A")

    env = {**os.environ, "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           # pre-commit runs `git` and makes its virtualenv with this interpreter's modules.
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    done = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO),
                           "--all-files", "--color", "never"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)

    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    lines = [line for line in out.splitlines() if line.startswith("trtdoc ")]
    assert [line.rsplit(".", 1)[-1] for line in lines] == ["Passed", "Failed"], out
    assert lines[0].startswith("trtdoc check...") and lines[1].startswith("trtdoc build --check")
    assert "- hook id: trtdoc-drift" in out
    assert out.rstrip().splitlines()[-4:] == [
        "would change: records/relu.json",
        "would change: site/engines/index.md",
        "would change: site/engines/relu.md",
        "3 file(s) would change; run `trtdoc build` and commit the result",
    ]

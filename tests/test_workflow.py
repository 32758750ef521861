"""The GitHub Actions workflow (.github/workflows/trtdoc.yml) against GitHub's workflow schema.

check-jsonschema vendors SchemaStore's github-workflow schema, so this runs offline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO, write

WORKFLOW = REPO / ".github" / "workflows" / "trtdoc.yml"
CHECK = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHECK, str(path)], capture_output=True, text=True, timeout=120)


def test_the_workflow_is_a_valid_github_workflow() -> None:
    done = _validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok -- validation done"


def test_the_validation_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")
    done = _validate(write(tmp_path, "trtdoc.yml", broken))
    assert done.returncode == 1
    assert "$.jobs.docs" in done.stdout


def test_the_workflow_runs_the_gates_and_the_diff_comment() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["docs"]["steps"]
    runs = [s["run"].strip() for s in steps if "run" in s]
    assert runs[1:5] == [
        "trtdoc check",
        "trtdoc build --check",
        "trtdoc compat --strict",
        'trtdoc diff --base "origin/$BASE_REF" --format markdown > trtdoc-diff.md',
    ]
    diff = next(s for s in steps if "trtdoc diff" in s.get("run", ""))
    assert diff["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert "gh pr comment" in runs[5]


def test_the_workflow_builds_the_site() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["docs"]["steps"]
    site = next(s for s in steps if s.get("name") == "Build the site")
    assert site["run"].split("\n")[:3] == [
        "npm ci --no-audit --no-fund", "trtdoc render", "mkdocs build --strict --site-dir public"]
    assert steps.index(site) == len(steps) - 1  # after the gates: a broken site fails the run

"""trtdoc.yml: the project file whose paths are every command's defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, relu_model, write

from trtdoc.cli.group import cli
from trtdoc.errors import SpecErrors
from trtdoc.project_file import find_project, load_project

pytest.importorskip("tensorrt_rtx")

# Folder names unlike the built-in defaults (records/, site/, build/), so that a command that
# ignored the project file would write somewhere else and fail these tests.
PROJECT = """\
    specs: specs/
    records: state/records/
    site: docs/
    build: out/
    deploy: where.yaml
"""
SPEC = """\
    name: relu
    model: ../models/relu.onnx
    backend: tensorrt-rtx
    targets: [sm86]
"""
DEPLOY = """\
    targets:
      - name: lab
        gpu: RTX 3090
        driver: "580.65.06"
        runtime: tensorrt-rtx 1.7.1
        engines: [relu]
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


def _project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)  # the walk up stops at the repository's top
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", SPEC)
    write(root, "where.yaml", DEPLOY)
    write(root, "trtdoc.yml", PROJECT)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """A project built with a bare `trtdoc build`, run from its specs/ folder."""
    root = _project(tmp_path_factory.mktemp("project") / "repo")
    cwd = os.getcwd()
    os.chdir(root / "specs")
    try:
        result = run("build")
    finally:
        os.chdir(cwd)
    return root, result


def test_a_bare_build_uses_every_path_the_project_file_names(built) -> None:
    root, result = built
    assert result.exit_code == 0, result.stderr
    assert (root / "state" / "records" / "relu.json").is_file()
    assert (root / "out" / "engines" / "relu.engine").is_file()
    assert (root / "docs" / "engines" / "relu.md").is_file()
    # deploy: where.yaml reached the site: the compatibility page is engines × its targets.
    assert "lab" in (root / "docs" / "compatibility.md").read_text()
    for default in ("records", "site", "build", "specs/records", "specs/build"):
        assert not (root / default).exists(), default


def test_check_render_compat_and_the_drift_check_need_no_arguments(
        built, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = built
    monkeypatch.chdir(root)

    check = run("check")
    assert (check.exit_code, check.stdout) == (0, "1 spec(s) OK: relu\n")
    drift = run("build", "--check")
    assert (drift.exit_code, drift.stdout) == (0, "records and pages match the specs\n")
    render = run("render")
    assert (render.exit_code, render.stdout) == (0, "0 page(s) written\n")
    compat = run("compat")
    assert compat.exit_code == 0, compat.stderr
    assert compat.stdout.splitlines()[1].split()[:4] == ["lab", "relu", "✓", "runs"]


def test_flags_override_the_project_file(built, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = built
    monkeypatch.chdir(root)
    write(root, "elsewhere/other.yaml", DEPLOY.replace("name: lab", "name: other-lab"))

    render = run("render", "--site", "preview")  # records still from trtdoc.yml
    assert render.exit_code == 0, render.stderr
    assert (root / "preview" / "engines" / "relu.md").is_file()
    compat = run("compat", "--deploy", "elsewhere/other.yaml")
    assert compat.exit_code == 0, compat.stderr
    assert compat.stdout.splitlines()[1].split()[:2] == ["other-lab", "relu"]
    write(root, "more/typo.yaml", "name: typo\nmodel: ../models/relu.onnx\nprecison: fp16\n")
    check = run("check", "more")
    assert check.exit_code == 1
    assert check.stderr.splitlines()[0] == ("more/typo.yaml:3:1: precison: unknown key "
                                            "'precison'. Hint: did you mean 'precision'?")


def test_the_drift_check_names_project_paths_from_where_it_runs(
        built, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = built
    spec = root / "specs" / "relu.yaml"
    before = spec.read_text()
    monkeypatch.chdir(root / "specs")
    spec.write_text(before + "description: now documented\n")
    try:
        drift = run("build", "--check")
    finally:
        spec.write_text(before)
    assert drift.exit_code == 1
    assert drift.stdout.splitlines() == ["would change: ../docs/engines/index.md",
                                         "would change: ../docs/engines/relu.md",
                                         "would change: ../state/records/relu.json"]
    assert drift.stderr == "3 file(s) would change; run `trtdoc build` and commit the result\n"


def test_a_bad_project_file_is_one_located_line_per_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    write(root, "trtdoc.yml", """\
        specs: [specs/, spces/]
        records: [state, records]
        sites: docs/
    """)
    monkeypatch.chdir(root)

    for command in (["check"], ["build", "--check"], ["render"], ["compat"]):
        result = run(*command)
        assert result.exit_code == 1, command
        assert result.stderr.splitlines() == [
            "trtdoc.yml:1:17: specs[1]: 'spces/' does not exist. Hint: fix the path; it is "
            "relative to trtdoc.yml",
            "trtdoc.yml:2:10: records: expected a string, got a list. Hint: fix the value's "
            "type (quotes make a string)",
            "trtdoc.yml:3:1: sites: unknown key 'sites'. Hint: did you mean 'site'?",
            "3 problem(s) found",
        ], command


def test_project_names_the_file_and_a_missing_one_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    (root / "trtdoc.yml").rename(root / "ci.yml")
    monkeypatch.chdir(root)

    check = run("check", "--project", "ci.yml")
    assert (check.exit_code, check.stdout) == (0, "1 spec(s) OK: relu\n")
    missing = run("check", "--project", "nope.yml")
    assert (missing.exit_code, missing.stderr) == (
        1, "nope.yml: does not exist. Hint: pass the project file, as `--project trtdoc.yml`\n"
           "1 problem(s) found\n")


def test_without_a_project_file_the_defaults_are_as_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A project file above the repository belongs to something else: the walk stops at .git.
    write(tmp_path, "trtdoc.yml", "specs: [elsewhere/]\n")
    root = _project(tmp_path / "repo")
    (root / "trtdoc.yml").unlink()
    monkeypatch.chdir(root)
    assert find_project() is None

    check = run("check")
    assert check.exit_code == 2
    assert check.stderr.splitlines()[-1] == (
        "Error: Missing argument 'PATHS...': name spec files or folders, or name them in a "
        "trtdoc.yml (`specs: [specs/]`).")
    compat = run("compat")
    assert compat.exit_code == 2
    assert compat.stderr.splitlines()[-1] == (
        "Error: Missing option '--deploy': name the deployment file, or name it in a "
        "trtdoc.yml (`deploy: deploy.yaml`).")
    render = run("render")  # records/ as before: it does not exist here
    assert render.exit_code == 1
    assert render.stderr.startswith("error: records: no such records folder")


def test_the_shipped_project_file_is_the_demo_command() -> None:
    project = load_project(REPO / "trtdoc.yml")
    assert project.specs == (REPO / "specs",)
    assert (project.records, project.site, project.build) == (
        REPO / "records", REPO / "site", REPO / "build")
    assert (project.templates, project.deploy) == (None, REPO / "deploy.yaml")
    assert find_project(REPO / "specs" / "vision") == REPO / "trtdoc.yml"


def test_a_file_that_is_not_a_project_file_is_named_not_shown(tmp_path: Path) -> None:
    path = write(tmp_path, "trtdoc.yml", "root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(SpecErrors) as info:
        load_project(path)
    assert [str(e) for e in info.value.errors] == [
        f"{path}: not a trtdoc project file (the top level must be a mapping of specs, "
        "records, site, build, templates and deploy); nothing from it is shown"]


def test_a_bare_drift_check_of_this_repository_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    # `trtdoc build --check` with no --deploy used to render the compatibility page without
    # the targets, so it differed from the shipped site; trtdoc.yml names deploy.yaml.
    monkeypatch.chdir(REPO)
    drift = run("build", "--check")
    assert (drift.exit_code, drift.stdout, drift.stderr) == (
        0, "records and pages match the specs\n", "")


def test_folders_that_overlap_are_named_where_they_came_from(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    root = _project(tmp_path / "repo")
    write(root, "trtdoc.yml", PROJECT.replace("build: out/", "build: state/records/out/"))
    monkeypatch.chdir(root)
    result = run("build")
    assert (result.exit_code, result.stderr) == (1, (
        "error: trtdoc.yml's build: state/records/out is inside trtdoc.yml's records: "
        "state/records; engines and build logs are not checked in: set build: outside records/ "
        "and site/ in trtdoc.yml\n"))
    flag = run("build", "--out", "docs/out")  # a flag is named as the flag
    assert flag.stderr == ("error: --out docs/out is inside trtdoc.yml's site: docs; engines "
                           "and build logs are not checked in: pass an --out outside records/ "
                           "and site/\n")

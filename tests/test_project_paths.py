"""Every command that renders (build, render, import) takes its records, site, templates and
deployment file from one decision (``trtdoc.cli.options.page_paths``): trtdoc.yml's keys,
each overridden by its flag. An import used to render without the deployment file, so every
page lost its "Deployment targets" section and `trtdoc build --check` failed until a render.

Real parts: a copy of this repository's project, the real trtexec exports of
../shared/fixtures/trex (TensorRT 8.x on an A100), a real TensorRT-RTX build of a one-Relu
model, and the CLI as users run it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, TREX, relu_model, write

from trtdoc.cli.group import cli

GRAPH = TREX / "fp16" / "resnet.onnx.engine.graph.json"
PROFILE = TREX / "fp16" / "resnet.onnx.engine.profile.json"
SECTION = "### Deployment targets\n"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="trtdoc")


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# --------------------------------------------------------------------------------------------
# This repository's project: import the trtexec exports, then the drift check passes
# --------------------------------------------------------------------------------------------
def test_an_import_keeps_every_deployment_section_and_the_drift_check_passes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".git").mkdir()  # the walk up for trtdoc.yml stops here
    for folder in ("specs", "records", "site", "models"):
        shutil.copytree(REPO / folder, root / folder)
    for name in ("trtdoc.yml", "mkdocs.yml"):
        shutil.copyfile(REPO / name, root / name)
    deploy = (REPO / "deploy.yaml").read_text(encoding="utf-8")
    assert "engines: [bert-tiny]" in deploy
    # The A100 pool also runs the imported engine (its exports come from an A100).
    (root / "deploy.yaml").write_text(
        deploy.replace("engines: [bert-tiny]", "engines: [bert-tiny, resnet-trex]"),
        encoding="utf-8")
    monkeypatch.chdir(root)
    shipped = sorted(p for p in (REPO / "site" / "engines").glob("*.md")
                     if p.name != "index.md" and "~" not in p.name)  # not the graph pages

    imported = run("import", GRAPH, "--profile", PROFILE, "--name", "resnet-trex")
    assert imported.exit_code == 0, imported.output

    page = (root / "site" / "engines" / "resnet-trex.md").read_text(encoding="utf-8")
    assert SECTION in page
    assert "- **a100-batch** (A100 (8.0), sm80; tensorrt-rtx 1.7.1; driver 580.65.06): " \
        in page
    # The other engine pages are those the repository ships, Deployment targets and all.
    assert all(SECTION in p.read_text(encoding="utf-8") for p in shipped)
    for shipped_page in shipped:
        assert (root / "site" / "engines" / shipped_page.name).read_bytes() == \
            shipped_page.read_bytes(), shipped_page.name
    compatibility = (root / "site" / "compatibility.md").read_text(encoding="utf-8")
    assert "| [resnet-trex](engines/resnet-trex.md) | — | — | " in compatibility

    drift = run("build", "--check")
    assert drift.exit_code == 0, drift.output
    assert "would change" not in drift.output


# --------------------------------------------------------------------------------------------
# Each command that renders: trtdoc.yml's paths, and a flag over each
# --------------------------------------------------------------------------------------------
# Folder names unlike the built-in defaults (records/, site/), so that a command that ignored
# the project file would write somewhere else and fail.
PROJECT = """\
    specs: specs/
    records: state/records/
    site: docs/
    build: out/
    templates: ours/
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
      - name: {target}
        gpu: RTX 3090
        driver: "580.65.06"
        runtime: tensorrt-rtx 1.7.1
        engines: ["*"]
"""
# A static index template: which folder the page came from, whatever the shipped one holds.
INDEX = "# Engines, from {folder}\n"


def _project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", SPEC)
    write(root, "trtdoc.yml", PROJECT)
    write(root, "where.yaml", DEPLOY.format(target="lab"))
    write(root, "ours/index.md.j2", INDEX.format(folder="ours"))
    # What the flags name instead.
    write(root, "elsewhere.yaml", DEPLOY.format(target="flagged-lab"))
    write(root, "theirs/index.md.j2", INDEX.format(folder="theirs"))
    return root


def _build(_records: Path) -> tuple[list[str], str]:
    pytest.importorskip("tensorrt_rtx")
    return ["build"], "relu"


def _render(records: Path) -> tuple[list[str], str]:
    records.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "records" / "bert-tiny.json", records / "bert-tiny.json")
    return ["render"], "bert-tiny"


def _import(_records: Path) -> tuple[list[str], str]:
    return ["import", str(GRAPH), "--profile", str(PROFILE), "--name", "resnet-trex"], \
        "resnet-trex"


# Each command that renders: given the records folder it will read, its arguments and the
# engine whose page it writes. A later command that renders belongs here too.
RENDERING: dict[str, Callable[[Path], tuple[list[str], str]]] = {
    "build": _build, "render": _render, "import": _import}


def _assert_rendered(root: Path, *, records: str, site: str, target: str, templates: str,
                     engine: str) -> None:
    assert (root / records / f"{engine}.json").is_file()
    page = (root / site / "engines" / f"{engine}.md").read_text(encoding="utf-8")
    assert f"{SECTION}\nHow this engine fares on the targets of `{target}.yaml` that deploy " \
        "it:\n" in page
    assert (root / site / "engines" / "index.md").read_text(encoding="utf-8") == \
        INDEX.format(folder=templates)


@pytest.mark.parametrize("command", sorted(RENDERING))
def test_a_command_that_renders_takes_every_path_from_trtdoc_yml(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    args, engine = RENDERING[command](root / "state" / "records")
    monkeypatch.chdir(root / "specs")  # trtdoc.yml is found above, its paths are from there

    result = run(*args)
    assert result.exit_code == 0, result.output

    _assert_rendered(root, records="state/records", site="docs", target="where",
                     templates="ours", engine=engine)
    assert "**lab** (RTX 3090" in (root / "docs" / "engines" / f"{engine}.md").read_text()
    for default in ("records", "site", "specs/records", "specs/site", "specs/docs"):
        assert not (root / default).exists(), default


@pytest.mark.parametrize("command", sorted(RENDERING))
def test_a_flag_overrides_each_key_of_trtdoc_yml(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    args, engine = RENDERING[command](root / "flagged" / "records")
    monkeypatch.chdir(root)

    result = run(*args, "--records", "flagged/records", "--site", "flagged/docs",
                 "--templates", "theirs", "--deploy", "elsewhere.yaml")
    assert result.exit_code == 0, result.output

    _assert_rendered(root, records="flagged/records", site="flagged/docs", target="elsewhere",
                     templates="theirs", engine=engine)
    assert "**flagged-lab** (RTX 3090" in \
        (root / "flagged" / "docs" / "engines" / f"{engine}.md").read_text()
    # What trtdoc.yml names was not touched.
    assert not (root / "docs").exists()
    assert not (root / "state").exists()


def test_one_flag_leaves_the_other_keys_to_trtdoc_yml(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    monkeypatch.chdir(root)

    result = run("import", GRAPH, "--name", "resnet-trex", "--deploy", "elsewhere.yaml")
    assert result.exit_code == 0, result.output

    _assert_rendered(root, records="state/records", site="docs", target="elsewhere",
                     templates="ours", engine="resnet-trex")


def test_a_bad_deployment_file_stops_an_import_before_any_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    write(root, "where.yaml", DEPLOY.format(target="lab").replace("RTX 3090", "RTX 3909"))
    monkeypatch.chdir(root)

    result = run("import", GRAPH, "--name", "resnet-trex")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(
        "where.yaml:3:10: targets[0].gpu: 'RTX 3909' is not a GPU trtdoc knows.")
    assert not (root / "state").exists()


def test_an_import_says_which_deployment_patterns_name_no_engine_as_build_and_render_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "repo")
    write(root, "where.yaml", DEPLOY.format(target="lab").replace('["*"]', "[resnet-*, relu]"))
    monkeypatch.chdir(root)

    lines = []
    for args in (["import", str(GRAPH), "--name", "resnet-trex"], ["render"]):
        result = run(*args)
        assert result.exit_code == 1, result.output
        lines.append([line for line in result.output.splitlines() if "relu" in line])
    assert lines[0] == lines[1] != []
    assert "**lab** (RTX 3090" in (root / "docs" / "engines" / "resnet-trex.md").read_text()

"""``trtdoc`` on the command line: exit codes, and exactly what lands on stdout and stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, write

from trtdoc import __version__
from trtdoc.cli.group import cli

PROFILE = "  - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}\n"


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Colour codes would be part of the lines under test if a CI runner forces them.
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models").mkdir()
    shutil.copyfile(REPO / "models" / "mobilenet_v2_035.onnx",
                    tmp_path / "models" / "mobilenet_v2_035.onnx")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


def broken_specs(folder: Path) -> list[str]:
    """Three files with four problems between them; returns the lines check must print."""
    write(folder, "specs/typo.yaml", """
        name: typo
        model: ../models/mobilenet_v2_035.onnx
        precison: fp16
        memory: {workspace: lots}
    """)
    write(folder, "specs/profile.yaml", "name: profile\nmodel: ../models/mobilenet_v2_035.onnx\n"
          "profiles:\n  - input: {min: [8, 3, 224, 224], opt: [4, 3, 224, 224], "
          "max: [1, 3, 224, 224]}\n")
    write(folder, "specs/good.yaml", "name: good\nmodel: ../models/mobilenet_v2_035.onnx\n"
          "profiles:\n" + PROFILE)
    write(folder, "specs/broken.yaml", "name: broken\nmodel: [../models/missing.onnx\n")
    return [
        "specs/broken.yaml:3:1: malformed YAML: expected ',' or ']', but got '<stream end>'. "
        "Hint: fix the YAML syntax (indentation, colons, quotes)",
        "specs/profile.yaml:4:12: profiles[0].input: dimension 0 violates min <= opt <= max "
        "(8, 4, 1). Hint: make min <= opt <= max in every dimension",
        "specs/typo.yaml:3:1: precison: unknown key 'precison'. "
        "Hint: did you mean 'precision'?",
        "specs/typo.yaml:4:21: memory.workspace: 'lots' is not a size. Hint: write bytes or a "
        "number with a unit (B, KiB, MiB, GiB, KB, MB, GB)",
        "4 problem(s) found",
    ]


def test_version() -> None:
    for flag in ("--version", "-V"):
        result = run(flag)
        assert result.exit_code == 0
        assert result.stdout.splitlines()[0] == f"trtdoc {__version__}"


def test_check_passes_the_shipped_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)

    result = run("check", "specs")

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("6 spec(s) OK: magika-fp32, magika-fp16, magika-int8, bert-tiny, "
                             "mobilenet-v2-fp32, mobilenet-v2-fp16\n")
    assert result.stderr == ""


def test_check_reports_every_problem_one_line_each(here: Path) -> None:
    expected = broken_specs(here)

    result = run("check", "specs")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""


def test_check_of_a_path_that_does_not_exist(here: Path) -> None:
    result = run("check", "nope", "also-nope.yaml")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "also-nope.yaml: no such file or folder. "
        "Hint: pass a spec file or a folder of *.yaml specs",
        "nope: no such file or folder. Hint: pass a spec file or a folder of *.yaml specs",
        "2 problem(s) found",
    ]


def test_quiet_says_only_what_went_wrong(here: Path) -> None:
    write(here, "ok/good.yaml", "name: good\nmodel: ../models/mobilenet_v2_035.onnx\n"
          "profiles:\n" + PROFILE)
    assert run("check", "ok").stdout == "1 spec(s) OK: good\n"

    quiet_ok = run("-q", "check", "ok")
    assert (quiet_ok.exit_code, quiet_ok.stderr, quiet_ok.stdout) == (0, "", "")

    expected = broken_specs(here)
    quiet_bad = run("-q", "check", "specs")
    assert quiet_bad.exit_code == 1
    assert quiet_bad.stderr.splitlines() == expected


def test_check_needs_a_path_without_a_project_file(here: Path) -> None:
    result = run("check")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Missing argument 'PATHS...': name spec files or folders, or name them in a "
        "trtdoc.yml (`specs: [specs/]`).")


def test_a_bug_is_one_line_and_its_traceback_is_shown_with_v(
        here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(paths: object) -> None:
        raise RuntimeError("a bug, not a user error")

    monkeypatch.setattr("trtdoc.check.check_specs", broken)
    result = run("check", "specs")
    assert result.exit_code == 2
    assert result.stderr == ("error: trtdoc hit a bug (RuntimeError: 'a bug, not a user error'); "
                             "run it again with -v to see the traceback, and please report "
                             "it\n")
    verbose = run("-v", "check", "specs")
    assert isinstance(verbose.exception, RuntimeError)


def test_end_to_end_in_a_subprocess(here: Path) -> None:
    expected = broken_specs(here)
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"} | {"NO_COLOR": "1"}

    proc = subprocess.run([sys.executable, "-m", "trtdoc.cli", "check", "specs"], cwd=here,
                          capture_output=True, text=True, env=env, timeout=60)

    assert proc.returncode == 1
    assert proc.stderr.splitlines() == expected
    assert proc.stdout == ""


def test_inspect_reads_the_header_of_a_real_engine(mobilenet_build) -> None:
    import tensorrt_rtx

    _, engine = mobilenet_build
    result = run("inspect", str(engine))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "backend               tensorrt-rtx"
    assert lines[1] == f"version               {tensorrt_rtx.__version__}"
    assert lines[2] == "compute capabilities  sm86, sm120"
    assert lines[4] == f"size                  {engine.stat().st_size:,} bytes"


def test_inspect_refuses_a_file_that_is_not_an_engine(here: Path) -> None:
    (here / "notes.engine").write_bytes(b"hello, this is not a plan" * 4)
    result = run("inspect", "notes.engine")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: notes.engine: ")


def test_import_turns_trtexec_exports_into_a_record_and_page(here: Path) -> None:
    from conftest import TREX

    result = run("import", str(TREX / "fp16" / "resnet.onnx.engine.graph.json"),
                 "--profile", str(TREX / "fp16" / "resnet.onnx.engine.profile.json"),
                 "--name", "resnet-a100-fp16")
    assert result.exit_code == 0, result.stderr
    assert "resnet-a100-fp16: 36 layers, 36 with times → records/resnet-a100-fp16.json" \
        in result.stdout
    page = (here / "site" / "engines" / "resnet-a100-fp16.md").read_text()
    assert "1.016832" in page or "1.017" in page  # total of the per-layer averages, in ms


def test_only_builds_the_named_engine(here: Path) -> None:
    from conftest import MODELS

    spec = (f"model: {MODELS / 'mobilenet_v2_035.onnx'}\nbackend: tensorrt-rtx\n"
            "profiles:\n  - input: {min: [1, 3, 224, 224], opt: [1, 3, 224, 224], "
            "max: [1, 3, 224, 224]}\ntargets: [sm86]\n")
    write(here, "specs/a.yaml", "name: a\n" + spec)
    write(here, "specs/b.yaml", "name: b\n" + spec)
    result = run("build", "specs", "--only", "b")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (here / "records").glob("*.json")) == ["b.json"]
    unknown = run("build", "specs", "--only", "c")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: --only c: no such engine in the specs; known: a, b"


def _one_spec(here: Path) -> None:
    from conftest import MODELS

    write(here, "specs/a.yaml", f"name: a\nmodel: {MODELS / 'mobilenet_v2_035.onnx'}\n"
          "backend: tensorrt-rtx\nprofiles:\n  - input: {min: [1, 3, 224, 224], "
          "opt: [1, 3, 224, 224], max: [2, 3, 224, 224]}\ntargets: [sm86]\n")


def test_v_after_the_subcommand_logs_each_build_phase_once(here: Path) -> None:
    _one_spec(here)
    result = run("build", "specs", "-v")
    assert result.exit_code == 0, result.stderr
    phases = [line for line in result.stderr.splitlines() if line.startswith("a: ")]
    # TensorRT repeats its phases (reformat costs once per candidate); the log says each once
    assert "a: Parsing ONNX" in phases and "a: Timing tactics" in phases
    assert len(phases) == len(set(phases)), phases
    assert "[VERBOSE]" not in result.stderr  # that is -vv


def test_vv_shows_the_tensorrt_log_and_q_after_the_subcommand_silences(here: Path) -> None:
    _one_spec(here)
    loud = run("build", "specs", "-vv")
    assert loud.exit_code == 0, loud.stderr
    assert "--- a: TensorRT log (build/logs/a.build.log)" in loud.stderr
    log = (here / "build" / "logs" / "a.build.log").read_text()
    assert "[VERBOSE]" in log and log.splitlines()[-1] in loud.stderr
    quiet = run("build", "specs", "--force", "-q")
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr == ""
    # before and after the subcommand add up: -v then -q is the default
    assert run("-v", "build", "specs", "-q").stderr == run("build", "specs").stderr

"""`trtdoc build --check`: the CI gate that fails when docs no longer match specs or engines."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import MODELS

from trtdoc.cli.group import cli

pytest.importorskip("tensorrt_rtx")

SPEC = f"""name: mobilenet
model: {MODELS / "mobilenet_v2_035.onnx"}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [2, 3, 224, 224]}}
targets: [sm86]
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_check_fails_after_a_spec_edit_and_passes_after_a_rebuild(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "mobilenet.yaml"
    spec.write_text(SPEC)
    code, _, err = _run("build", "specs")
    assert code == 0, err
    assert _run("build", "--check", "specs")[0] == 0

    spec.write_text(SPEC.replace("targets: [sm86]", "targets: [sm86, sm89]"))
    code, out, err = _run("build", "--check", "specs")
    assert code == 1
    # The record, and the pages a new record may change: its own and the site-wide ones.
    assert out.splitlines() == ["would change: records/mobilenet.json",
                                "would change: site/changes.md",
                                "would change: site/compatibility.md",
                                "would change: site/engines/index.md",
                                "would change: site/engines/mobilenet.md"]
    assert "5 file(s) would change; run `trtdoc build specs` and commit the result" in err

    assert _run("build", "specs")[0] == 0
    assert _run("build", "--check", "specs")[0] == 0


def test_check_lists_a_page_edited_by_hand(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mobilenet.yaml").write_text(SPEC)
    assert _run("build", "specs")[0] == 0
    page = tmp_path / "site" / "engines" / "mobilenet.md"
    page.write_text(page.read_text() + "\nhand edit\n")
    code, out, _ = _run("build", "--check", "specs")
    assert code == 1
    assert out.splitlines() == ["would change: site/engines/mobilenet.md"]
    # `trtdoc render` restores it from the record, without TensorRT.
    assert _run("render")[0] == 0
    assert _run("build", "--check", "specs")[0] == 0


def test_second_build_says_nothing_was_rebuilt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mobilenet.yaml").write_text(SPEC)
    assert _run("build", "specs")[0] == 0
    code, out, _ = _run("build", "specs")
    assert code == 0
    assert "nothing to build: 1 engine(s) up to date" in out

"""Every path trtdoc.yml names stays inside the repository, symbolic links followed, and no
output folder holds an input (issue 26 items 2 and 8): anything else is one located line in
trtdoc.yml before anything is read or written; a flag on the command line may still point
anywhere. Each case runs the real CLI in a tmp tree and checks that nothing was written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import relu_model, write

from trtdoc.cli.group import cli
from trtdoc.spec.text import excerpt


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="trtdoc")


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path below ``root`` (file bytes; None for a folder or link), for 'nothing was
    written' checks."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = (path.read_bytes() if path.is_file()
                                                and not path.is_symlink() else None)
    return out


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/repo (a git repository: specs/, models/, a link to tmp/outside) and tmp/outside."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "repo" / "build" / "cache"))
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    relu_model(root / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", "name: relu\nmodel: ../models/relu.onnx\n"
          "backend: tensorrt-rtx\ntargets: [sm86]\n")
    (tmp_path / "outside").mkdir()
    (root / "escape").symlink_to(tmp_path / "outside")
    monkeypatch.chdir(root)
    return root


FIX = {"records": "pass --records DIR on the command line instead",
       "site": "pass --site DIR on the command line instead",
       "build": "pass --out DIR on the command line instead",
       "templates": "pass --templates DIR on the command line instead"}


# An absolute path outside is a tmp folder, not /etc/: if this broke, the build would write
# there (it wrote /etc/tiny.json once); templates are only read, so /etc/ it is.
@pytest.mark.parametrize("key, value, real", [
    ("records", "{tmp}/abs/", "{tmp}/abs"),
    ("records", "../x/", "{tmp}/x"),
    ("site", "../out", "{tmp}/out"),
    ("build", "../../b", "{tmp_parent}/b"),
    ("records", "escape/records", "{tmp}/outside/records"),  # a symbolic link that escapes
    ("templates", "/etc/", "/etc"),
])
@pytest.mark.parametrize("command", [("build",), ("render",), ("build", "--check")])
def test_a_path_outside_the_repository_is_one_located_line(
        tree: Path, key: str, value: str, real: str, command: tuple[str, ...]) -> None:
    tmp = tree.parent
    value = value.format(tmp=tmp)
    write(tree, "trtdoc.yml", f"specs: [specs/]\n{key}: {value}\n")
    before, outside = _tree(tree), _tree(tmp / "outside")
    result = run(*command)
    shown = real.format(tmp=tmp, tmp_parent=tmp.parent)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"trtdoc.yml:2:{len(key) + 3}: {key}: {excerpt(value)} leads outside the repository (the "
        f"folder of trtdoc.yml), to {shown}. Hint: name a path inside it, or {FIX[key]}",
        "1 problem(s) found"]
    # Nothing read or written: not in the repository, not outside it.
    assert _tree(tree) == before and _tree(tmp / "outside") == outside
    assert not any((tmp / n).exists() for n in ("x", "out", "abs"))
    assert not (tmp.parent / "b").exists()


def test_a_default_folder_that_is_a_link_out_is_refused(tree: Path) -> None:
    """records/ left out of trtdoc.yml is still records/; committed as a link, it leads out."""
    (tree / "records").symlink_to(tree.parent / "outside")
    write(tree, "trtdoc.yml", "specs: [specs/]\n")
    before = _tree(tree.parent / "outside")
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"trtdoc.yml:1:1: records: 'records/' leads outside the repository (the folder of "
        f"trtdoc.yml), to {tree.parent / 'outside'}. Hint: name a path inside it, or "
        f"{FIX['records']}", "1 problem(s) found"]
    assert _tree(tree.parent / "outside") == before


@pytest.mark.parametrize("link", ["site/engines", "records/.history", "build/logs"])
def test_a_folder_link_below_an_output_that_leads_out_is_refused(tree: Path, link: str) -> None:
    (tree / link).parent.mkdir(parents=True)
    (tree / link).symlink_to(tree.parent / "outside")
    write(tree, "trtdoc.yml", "specs: [specs/]\n")
    before = _tree(tree.parent / "outside")
    key = link.split("/")[0]
    result = run("build")
    assert result.exit_code == 1
    flag = {"build": "out"}.get(key, key)
    assert result.stderr.splitlines() == [
        f"trtdoc.yml:1:1: {key}: {link!r} below '{key}/' is a link that leads outside the "
        f"repository (the folder of trtdoc.yml), and trtdoc writes there. Hint: make it a "
        f"folder, or pass --{flag} DIR on the command line instead", "1 problem(s) found"]
    assert _tree(tree.parent / "outside") == before


@pytest.mark.parametrize("key, value, holds", [
    ("site", "specs/", "specs: specs/"),
    ("records", "specs", "specs: specs/"),
    ("build", ".", "specs: specs/"),
    ("site", "tpl/", "templates: tpl/"),
    ("build", "state/", "records: state/records"),
])
def test_an_output_that_holds_an_input_is_refused(tree: Path, key: str, value: str,
                                                  holds: str) -> None:
    (tree / "tpl").mkdir()
    extra = "records: state/records\n" if key == "build" and "records" in holds else ""
    write(tree, "trtdoc.yml", f"specs: [specs/]\ntemplates: tpl/\n{extra}{key}: {value}\n")
    before = _tree(tree)
    result = run("build")
    assert result.exit_code == 1
    line = 3 + bool(extra)
    assert result.stderr.splitlines() == [
        f"trtdoc.yml:{line}:{len(key) + 3}: {key}: {value!r} holds {holds!r}, an input; "
        f"trtdoc writes and removes files in {key}. Hint: give {key} a folder of its own",
        "1 problem(s) found"]
    assert _tree(tree) == before


def test_the_command_line_may_name_a_folder_outside(tree: Path) -> None:
    """Said on the command line, a folder outside the repository is the user's choice."""
    pytest.importorskip("tensorrt_rtx")
    write(tree, "trtdoc.yml", "specs: [specs/]\n")
    elsewhere = tree.parent / "outside" / "records"
    result = run("build", "--records", elsewhere, "--site", tree.parent / "outside" / "site")
    assert result.exit_code == 0, result.output
    assert (elsewhere / "relu.json").is_file()


@pytest.mark.parametrize("out", ["specs", "specs/triton", "trtdoc.yml/x"])
def test_triton_never_writes_into_what_the_project_reads(tree: Path, out: str) -> None:
    write(tree, "trtdoc.yml", "specs: [specs/]\n")
    (tree / "records").mkdir()
    before = _tree(tree)
    result = run("triton", out)
    assert result.exit_code == 1
    name, shown = ("the project file", "trtdoc.yml") if out.startswith("trtdoc.yml") else (
        "trtdoc.yml's specs", "specs")
    assert result.stderr == (
        f"error: the Triton repository {out} and {name} ({shown}) overlap, and the project "
        "reads that; write the repository to a folder of its own, such as triton/\n")
    assert _tree(tree) == before


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_triton_into_proc_self_says_why(tree: Path) -> None:
    """Not 'in use by another trtdoc command': the lock file cannot be made there."""
    (tree / "records").mkdir()
    result = run("triton", "/proc/self")
    assert result.exit_code == 1
    assert "in use by another trtdoc command" not in result.stderr
    assert result.stderr.startswith("error: cannot write in /proc/self: ")
    assert len(result.stderr.splitlines()) == 1


def test_a_link_inside_the_repository_is_fine(tree: Path) -> None:
    (tree / "docs").mkdir()
    (tree / "pages").symlink_to(tree / "docs")
    write(tree, "trtdoc.yml", "specs: [specs/]\nsite: pages/\n")
    result = run("check")
    assert result.exit_code == 0, result.output

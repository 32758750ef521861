"""``trtdoc triton OUT`` removes only what it wrote, and knows whose it is (issue 26 item 5): the
manifest ``OUT/.trtdoc-triton.json`` lists each project's models and the scratch folders of a
run; a folder that merely looks like trtdoc's, another project's model, and anything in a
repository written before there was a manifest all survive. Real builds of a one-Relu model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import relu_model, write

from trtdoc.cli.group import cli
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record
from trtdoc.triton import MARK, write_repository
from trtdoc.triton_manifest import MANIFEST_NAME, project_key, read_manifest

pytest.importorskip("tensorrt_rtx")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Engines a, b and c (one-Relu models) built into one build folder: (build, records)."""
    from trtdoc.build.run import build_all

    root = tmp_path_factory.mktemp("manifest")
    relu_model(root / "relu.onnx")
    for name in ("a", "b", "c"):
        write(root, f"specs/{name}.yaml", f"name: {name}\nmodel: ../relu.onnx\n"
              "backend: tensorrt-rtx\ntargets: [sm86]\n")
    paths = OutputPaths(out=root / "build", records=root / "records")
    result = build_all([root / "specs"], paths)
    assert sorted(o.status for o in result.outcomes) == ["built"] * 3, result.outcomes
    return root / "build", root / "records"


def _project(store: tuple[Path, Path], root: Path, names: tuple[str, ...]) -> Path:
    """A project whose records folder holds the records of ``names`` (engines in ``store``)."""
    records = root / "records"
    records.mkdir(parents=True, exist_ok=True)
    for old in records.glob("*.json"):
        old.unlink()
    for name in names:
        shutil.copyfile(store[1] / f"{name}.json", records / f"{name}.json")
    return records


def _write(store: tuple[Path, Path], records: Path, repo: Path) -> tuple[str, ...]:
    """``write_repository`` of ``records``' project; its problems."""
    result = write_repository([read_record(p) for p in sorted(records.glob("*.json"))], repo,
                              OutputPaths(out=store[0], records=records))
    return result.problems


def _triton(tmp_path: Path, store: tuple[Path, Path], records: Path, repo: Path):
    return CliRunner().invoke(cli, ["triton", str(repo), "--records", str(records), "--out",
                                    str(store[0]), "--site", str(tmp_path / "site")],
                              prog_name="trtdoc")


def test_a_folder_named_like_a_temporary_that_trtdoc_did_not_write_survives(
        store, tmp_path: Path) -> None:
    records = _project(store, tmp_path / "p", ("a",))
    repo = tmp_path / "repo"
    looks_like = [repo / ".cache.deadbeef.tmp", repo / ".a.0123456789abcdef.tmp"]
    for folder in looks_like:
        (folder / "1").mkdir(parents=True)
        (folder / "config.pbtxt").write_text(MARK + "\n")
    (repo / ".notes.abcdefgh.tmp").write_text("mine\n")  # as the lock's sweep knew them
    result = _triton(tmp_path, store, records, repo)
    assert result.exit_code == 0, result.output
    assert all((f / "config.pbtxt").is_file() for f in looks_like)
    assert (repo / ".notes.abcdefgh.tmp").read_text() == "mine\n"
    assert (repo / "a" / "config.pbtxt").is_file()


def test_two_projects_in_one_repository_keep_each_others_models(store, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = _project(store, tmp_path / "first", ("a",))
    second = _project(store, tmp_path / "second", ("b", "c"))
    assert _write(store, first, repo) == ()
    assert _write(store, second, repo) == ()
    assert _write(store, first, repo) == ()  # the first again: b and c are not its models
    assert sorted(p.name for p in repo.iterdir()) == [MANIFEST_NAME, "a", "b", "c"]
    manifest = read_manifest(repo)
    assert manifest.projects == {project_key(first): ("a",), project_key(second): ("b", "c")}
    assert manifest.pending == ()

    # The second project drops c: only its own c goes.
    _project(store, tmp_path / "second", ("b",))
    result = _triton(tmp_path, store, second, repo)
    assert result.exit_code == 0, result.output
    assert "removed (no record is that model now)" in result.stdout
    assert sorted(p.name for p in repo.iterdir() if not p.name.startswith(".trtdoc.lock")) == [
        MANIFEST_NAME, "a", "b"]

    # A model name the other project holds is refused, and its folder left as it was.
    before = (repo / "a" / "config.pbtxt").read_bytes()
    _project(store, tmp_path / "second", ("a", "b"))
    problems = _write(store, second, repo)
    assert len(problems) == 1 and problems[0].startswith("a: ")
    assert "is the model of another project (records " in problems[0]
    assert (repo / "a" / "config.pbtxt").read_bytes() == before
    assert read_manifest(repo).projects[project_key(first)] == ("a",)


def test_a_repository_written_before_the_manifest_loses_nothing(store, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    records = _project(store, tmp_path / "p", ("a", "b"))
    assert _write(store, records, repo) == ()
    (repo / MANIFEST_NAME).unlink()  # as the previous trtdoc left it
    _project(store, tmp_path / "p", ("a",))
    assert _write(store, records, repo) == ()
    # b was written by trtdoc (its mark), but whose is not known: it stays.
    assert (repo / "b" / "config.pbtxt").is_file()
    assert read_manifest(repo).projects == {project_key(records): ("a",)}


def test_scratch_folders_of_a_killed_run_are_removed_by_the_manifest(store, tmp_path) -> None:
    repo = tmp_path / "repo"
    records = _project(store, tmp_path / "p", ("a",))
    assert _write(store, records, repo) == ()
    left = ".a.00112233445566ff.tmp"
    (repo / left / "1").mkdir(parents=True)
    data = json.loads((repo / MANIFEST_NAME).read_text())
    (repo / MANIFEST_NAME).write_text(json.dumps({**data, "pending": [left]}))
    assert _write(store, records, repo) == ()
    assert not (repo / left).exists()


HOSTILE = {
    "not JSON": "{",
    "a path for a model": json.dumps({"format": 1, "projects": {"x": ["../../etc"]},
                                      "pending": []}),
    "a path for a scratch folder": json.dumps({"format": 1, "projects": {},
                                               "pending": ["../../home"]}),
    "a key given twice": '{"format": 1, "projects": {"x": ["a"], "x": ["b"]}, "pending": []}',
    "another format": json.dumps({"format": 2, "projects": {}, "pending": []}),
    "a list": "[]",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_damaged_or_hostile_manifest_is_one_line_and_removes_nothing(
        store, tmp_path: Path, case: str) -> None:
    repo = tmp_path / "repo"
    records = _project(store, tmp_path / "p", ("a", "b"))
    assert _write(store, records, repo) == ()
    _project(store, tmp_path / "p", ("a",))  # b is stale: a trusted manifest would remove it
    (repo / MANIFEST_NAME).write_text(HOSTILE[case])
    before = sorted(p.relative_to(repo) for p in repo.rglob("*") if p.suffix != ".lock")
    result = _triton(tmp_path, store, records, repo)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {repo / MANIFEST_NAME}: ")
    assert lines[0].endswith("trtdoc removes nothing until it is fixed: restore it from a "
                             "backup, or delete it (trtdoc then removes no old model until it "
                             "has written them again)")
    assert sorted(p.relative_to(repo) for p in repo.rglob("*") if p.suffix != ".lock") == before


def test_files_a_user_added_to_a_model_folder_are_never_lost(store, tmp_path: Path) -> None:
    """trtdoc replaces a model folder whole, so one holding files it did not write (a version
    folder of one's own, notes, a file in 1/) is refused in one line and left as it was, both
    when it would be rewritten and when its model is gone."""
    records = _project(store, tmp_path / "p", ("a", "b"))
    repo = tmp_path / "repo"
    assert _triton(tmp_path, store, records, repo).exit_code == 0
    (repo / "a" / "2").mkdir()
    (repo / "a" / "2" / "model.plan").write_bytes(b"my own version")
    (repo / "a" / "README.ops").write_text("call me\n")
    (repo / "b" / "1" / "notes.txt").write_text("mine\n")
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    result = _triton(tmp_path, store, records, repo)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    problems = [line for line in result.output.splitlines() if str(repo) in line]
    assert problems == [
        f"a: {repo / 'a'} holds 2/, README.ops, which trtdoc did not write; trtdoc replaces the "
        "model folder whole, so move them out of it (keep your own files beside the model "
        "folders), then run again; the folder was left as it was",
        f"b: {repo / 'b'} holds 1/notes.txt, which trtdoc did not write; trtdoc replaces the "
        "model folder whole, so move them out of it (keep your own files beside the model "
        "folders), then run again; the folder was left as it was"]
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before
    # Model b gone from the records: its folder is not removed with notes.txt in it.
    records = _project(store, tmp_path / "p", ("a",))
    (repo / "a" / "2" / "model.plan").unlink()
    (repo / "a" / "2").rmdir()
    (repo / "a" / "README.ops").unlink()
    result = _triton(tmp_path, store, records, repo)
    assert result.exit_code == 1
    assert (repo / "b" / "1" / "notes.txt").read_text() == "mine\n"
    assert f"b: {repo / 'b'} holds 1/notes.txt" in result.output
    (repo / "b" / "1" / "notes.txt").unlink()
    assert _triton(tmp_path, store, records, repo).exit_code == 0
    assert not (repo / "b").exists()


def test_a_repository_in_or_above_the_models_folder_is_refused(tmp_path: Path) -> None:
    """`trtdoc triton models/` would put engines among the ONNX models the specs name: it is
    refused in one line, as a folder inside models/ or holding it is, and nothing is written."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    root = tmp_path / "project"
    relu_model(root / "data" / "models" / "relu.onnx")
    write(root, "specs/relu.yaml", "name: relu\nmodel: ../data/models/relu.onnx\n"
          "backend: tensorrt-rtx\ntargets: [sm86]\n")
    write(root, "trtdoc.yml", "specs: [specs/]\n")
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))

    def trtdoc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "trtdoc.cli", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)

    assert trtdoc("build").returncode == 0
    (root / "stuff").mkdir()
    for out in ("data/models", "data/models/triton", "data", "stuff/../data/models/"):
        before = sorted(p.name for p in (root / "data").rglob("*"))
        result = trtdoc("triton", out)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.splitlines() == [
            f"error: the Triton repository {os.path.normpath(out)} and data/models overlap, and "
            "that folder holds the model of relu (data/models/relu.onnx); write the repository "
            "to a folder of its own, such as triton/"]
        assert sorted(p.name for p in (root / "data").rglob("*")) == before
    result = trtdoc("triton", "triton/")
    assert result.returncode == 0, result.stderr
    assert (root / "triton" / "relu" / "config.pbtxt").is_file()

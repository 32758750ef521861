"""Kills, full and read-only folders, replaced engines and a held lock, for real.

Every test runs the real ``trtdoc`` command on real TensorRT-RTX builds of a small ONNX model
and then checks what a user would: one line naming the folder, no traceback, and an engine,
record and page that still agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorrt_rtx")

TRTDOC = Path(sys.executable).with_name("trtdoc")


def _tiny_model(path: Path, seed: int = 0, width: int = 8) -> Path:
    import numpy as np
    import onnx
    import onnx.helper as oh
    import onnx.numpy_helper as nh

    rng = np.random.default_rng(seed)
    inits = [nh.from_array(rng.standard_normal((width, 3, 3, 3)).astype(np.float32), "w"),
             nh.from_array(rng.standard_normal((width * 64, 10)).astype(np.float32), "w2"),
             nh.from_array(np.array([-1, width * 64], dtype=np.int64), "shape")]
    nodes = [oh.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             oh.make_node("Relu", ["c"], ["r"]),
             oh.make_node("Reshape", ["r", "shape"], ["f"]),
             oh.make_node("MatMul", ["f", "w2"], ["y"])]
    graph = oh.make_graph(nodes, "tiny", [oh.make_tensor_value_info("x", 1, ["N", 3, 8, 8])],
                          [oh.make_tensor_value_info("y", 1, ["N", 10])], inits)
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], ir_version=8),
              str(path))
    return path


def _spec(folder: Path, name: str, target: str = "sm86", model: str = "../tiny.onnx") -> Path:
    path = folder / "specs" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"name: {name}\nmodel: {model}\nbackend: tensorrt-rtx\nprofiles:\n"
                    "  - x: {min: [1, 3, 8, 8], opt: [2, 3, 8, 8], max: [4, 3, 8, 8]}\n"
                    f"targets: [{target}]\n", encoding="utf-8")
    return path


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A repository with two specs of a small real model."""
    (tmp_path / ".git").mkdir()
    _tiny_model(tmp_path / "tiny.onnx")
    _spec(tmp_path, "a")
    _spec(tmp_path, "b", target="sm120")  # another engine, not a copy of a's
    return tmp_path


def trtdoc(root: Path, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(TRTDOC), *args], cwd=root, capture_output=True, text=True,
                            timeout=600, **kwargs)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(root: Path, *, settled: bool = True) -> None:
    """Every record names an engine that is on disk with the recorded sha256; once a command
    has completed, the engine's named link holds the same bytes and the page shows that
    sha256 (a kill can leave those two behind their record until the next command)."""
    for record_path in sorted((root / "records").glob("*.json")):
        record = json.loads(record_path.read_text())
        sha = record["engine"]["sha256"]
        stored = root / record["engine"]["path"]
        assert stored.is_file(), f"{record_path.name} names a missing engine {stored}"
        assert sha256(stored) == sha, f"{record_path.name} does not match {stored}"
        named = root / "build" / "engines" / f"{record['name']}.engine"
        if settled:
            assert sha256(named) == sha, f"{named} is not the engine {record_path.name} names"
        page = root / "site" / "engines" / f"{record['name']}.md"
        if settled:
            assert sha in page.read_text(), f"{page} does not show {sha}"


def records_of(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "records").glob("*.json")}


def assert_recovers(root: Path, *, target: str) -> None:
    """Once the fault is gone, the next build publishes engine ``a`` for ``target``, and the
    whole set is consistent with nothing left behind."""
    result = trtdoc(root, "build", "specs/")
    assert result.returncode == 0, result.stderr
    assert json.loads((root / "records" / "a.json").read_text())["engine"]["header"][
        "compute_capabilities"] == [target]
    assert_consistent(root)
    assert leftovers(root) == []


def snapshot(root: Path) -> dict[str, bytes]:
    """The bytes of every checked-in output: records (not history) and pages."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for folder in ("records", "site") for p in (root / folder).rglob("*")
            if p.is_file() and ".history" not in p.parts and not p.name.startswith(".")}


def changed_since(root: Path, before: dict[str, bytes]) -> set[str]:
    after = snapshot(root)
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tmp"))


@contextlib.contextmanager
def mounted(kind: str, target: Path, *, spare: int = 0):
    """A read-only bind mount of ``target`` onto itself, or a tmpfs over it that holds what
    ``target`` holds and ``spare`` bytes more."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting needs root and mount(8)")
    target.mkdir(parents=True, exist_ok=True)
    if kind == "ro":
        saved = None
        cmds = [["mount", "--bind", str(target), str(target)],
                ["mount", "-o", "remount,ro,bind", str(target)]]
    else:
        saved = target.with_name(target.name + ".saved")
        shutil.copytree(target, saved)
        # tmpfs counts whole pages per file; copies do not keep hard links.
        pages = sum(-(-p.stat().st_size // 4096) for p in saved.rglob("*") if p.is_file())
        size = (pages + 2) * 4096 + spare
        cmds = [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)]]
    for i, cmd in enumerate(cmds):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            if i:
                subprocess.run(["umount", str(target)])
            pytest.skip(f"this machine cannot mount ({done.stderr.strip()})")
    try:
        if saved is not None:  # the tmpfs starts with what the folder held
            shutil.copytree(saved, target, dirs_exist_ok=True)
        yield target
    finally:
        if saved is not None:
            kept = target.with_name(target.name + ".tmpfs")
            shutil.copytree(target, kept, dirs_exist_ok=True)
        subprocess.run(["umount", str(target)], check=True)
        if saved is not None:
            shutil.rmtree(target)
            kept.rename(target)
            shutil.rmtree(saved)


# --------------------------------------------------------------------------------------------
# The record is the commit point
# --------------------------------------------------------------------------------------------
def test_a_replaced_engine_file_is_rebuilt_not_up_to_date(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    record = json.loads((project / "records" / "a.json").read_text())
    stored = project / record["engine"]["path"]
    named = project / "build" / "engines" / "a.engine"
    assert named.samefile(stored)
    # Someone copies another engine over it (a break of the link makes a new file).
    named.unlink()
    named.write_bytes(b"not the engine")
    stored.unlink()
    stored.write_bytes(b"not the engine")

    again = trtdoc(project, "build", "specs/")
    assert again.returncode == 0, again.stderr
    assert "a       reproduced" in again.stdout or "a       built" in again.stdout
    assert "b       up-to-date" in again.stdout
    assert_consistent(project)


def test_a_lost_named_link_is_repaired_without_a_build(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    (project / "build" / "engines" / "a.engine").unlink()
    again = trtdoc(project, "build", "specs/")
    assert "nothing to build: 2 engine(s) up to date" in again.stdout
    assert_consistent(project)
    assert (project / "build" / "engines" / "a.engine").is_file()


def test_a_read_only_records_folder_is_one_line_before_anything_is_written(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    before = records_of(project)
    engines_before = sorted((project / "build" / "engines" / "by-sha256").iterdir())
    _spec(project, "a", target="sm89")
    with mounted("ro", project / "records"):
        result = trtdoc(project, "build", "specs/")
        assert result.returncode == 1
        assert result.stderr == ("error: cannot write in records: the file system is read-only "
                                 "(EROFS); make it writable, or point the command at another "
                                 "folder\n")
        assert records_of(project) == before
        assert sorted((project / "build" / "engines" / "by-sha256").iterdir()) == engines_before
        assert_consistent(project)
    assert_recovers(project, target="sm89")


def test_a_full_records_folder_publishes_nothing_and_keeps_the_last_good_set(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    before = records_of(project)
    page_before = (project / "site" / "engines" / "a.md").read_bytes()
    _spec(project, "a", target="sm89")
    with mounted("tmpfs", project / "records"):
        result = trtdoc(project, "build", "specs/")
        assert result.returncode == 1
        assert ("specs/a.yaml: cannot write in records/.history: no space left on the device "
                "(ENOSPC); free some space there" in result.stderr), result.stderr
        assert "b       up-to-date" in result.stdout
        assert records_of(project) == before
        assert (project / "site" / "engines" / "a.md").read_bytes() == page_before
        assert_consistent(project)
    assert_recovers(project, target="sm89")


def test_a_full_build_folder_is_one_line_and_loses_nothing(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    before = (project / "records" / "a.json").read_bytes()
    log_before = (project / "build" / "logs" / "a.build.log").read_bytes()
    _tiny_model(project / "big.onnx", width=256)  # an engine of about 600 kB
    _spec(project, "a", model="../big.onnx")
    with mounted("tmpfs", project / "build", spare=200_000):
        result = trtdoc(project, "build", "specs/")
        assert result.returncode == 1
        assert ("specs/a.yaml: cannot write in build/engines/by-sha256: no space left on the "
                "device (ENOSPC); free some space there" in result.stderr), result.stderr
        assert (project / "records" / "a.json").read_bytes() == before
        assert (project / "build" / "logs" / "a.build.log").read_bytes() == log_before
        assert_consistent(project)
    assert leftovers(project) == []


def test_a_file_size_limit_is_one_line(project):
    _tiny_model(project / "big.onnx", width=1024)  # an engine of about 2.6 MB
    _spec(project, "a", model="../big.onnx")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    result = trtdoc(project, "build", "specs/", preexec_fn=limit)
    assert result.returncode == 1
    assert ("specs/a.yaml: cannot write in build/engines/by-sha256: the file is larger than "
            "this process may write (ulimit -f) (EFBIG); raise the limit with "
            "`ulimit -f unlimited`" in result.stderr), result.stderr
    assert "b       built" in result.stdout  # the other engine still builds
    assert not (project / "records" / "a.json").exists()
    assert_consistent(project)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_with_two_jobs_leaves_no_worker_running(project):
    for name in ("c", "d"):
        _spec(project, name)
    proc = subprocess.Popen([str(TRTDOC), "build", "specs/", "--jobs", "2"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [c for c in _children(proc.pid)
                   if "spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes().decode(
                       errors="replace")]
        time.sleep(0.05)
    assert len(workers) == 2, "the build never started two workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "workers outlived the killed build"
    # The lock died with it: the next build runs, and leaves a consistent set.
    result = trtdoc(project, "build", "specs/")
    assert result.returncode == 0, result.stderr
    assert_consistent(project)
    assert leftovers(project) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigkill_at_any_moment_leaves_a_consistent_set(project, jobs):
    assert trtdoc(project, "build", "specs/").returncode == 0
    for round_, delay in enumerate((0.3, 0.8, 1.5, 2.5, 4.0)):
        target = ("sm89", "sm86")[round_ % 2]
        _spec(project, "a", target=target)
        _spec(project, "b", target=target)
        proc = subprocess.Popen([str(TRTDOC), "build", "specs/", "--jobs", jobs], cwd=project,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Pages are rendered from records at the end of a run; a kill before that leaves
        # them for the next command (and --check lists them).
        assert_consistent(project, settled=False)
    result = trtdoc(project, "build", "specs/")
    assert result.returncode == 0, result.stderr
    assert_consistent(project)
    assert leftovers(project) == []
    assert trtdoc(project, "build", "--check", "specs/").returncode == 0


def test_stale_temporaries_are_swept_under_the_lock(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    junk = [project / "site" / "engines" / ".a.md.k2j4h5g6.tmp",
            project / "records" / ".a.json.abcd1234.tmp",
            project / "build" / "engines" / "by-sha256" / ".engine.zz99yy88.tmp"]
    for path in junk:
        path.write_text("half a file")
    mine = project / "site" / "notes.tmp"  # not trtdoc's: left alone
    mine.write_text("mine")
    assert trtdoc(project, "render").returncode == 0
    assert not junk[0].exists() and not junk[1].exists() and junk[2].exists()
    assert trtdoc(project, "build", "specs/").returncode == 0
    assert not junk[2].exists()
    assert mine.read_text() == "mine"


# --------------------------------------------------------------------------------------------
# One lock
# --------------------------------------------------------------------------------------------
HOLD = """
import sys, time
from pathlib import Path
from trtdoc.lock import project_lock
with project_lock([Path(p) for p in sys.argv[1:]], "build"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("command", [("build", "specs/"), ("build", "specs/", "--out", "elsewhere"),
                                     ("render",)])
def test_a_running_command_locks_out_every_other_writer(project, command):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "build", "records", "site"],
                              cwd=project, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = trtdoc(project, *command)
        assert result.returncode == 1
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("error: ") and "is in use by another trtdoc command (trtdoc " \
            f"build, pid {holder.pid}, since " in line and line.endswith(
                "; wait for it to finish, then run this again"), line
        assert not (project / "records" / "a.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert trtdoc(project, *command).returncode == 0


# --------------------------------------------------------------------------------------------
# --check you can trust, and what build does about it
# --------------------------------------------------------------------------------------------
def test_check_lists_documentation_edits_and_deleted_specs(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    assert trtdoc(project, "build", "--check", "specs/").returncode == 0
    spec = project / "specs" / "a.yaml"
    spec.write_text(spec.read_text() + "description: the new words\n")
    (project / "specs" / "b.yaml").unlink()
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1
    before = snapshot(project)
    built = trtdoc(project, "build", "specs/")
    assert built.returncode == 0, built.stderr
    assert {f"would change: {p}" for p in changed_since(project, before)} == set(
        result.stdout.splitlines())
    assert "b       removed" in built.stdout
    assert not (project / "records" / "b.json").exists()
    assert (project / "records" / ".history" / "b.json").is_file()
    assert not (project / "site" / "engines" / "b.md").exists()
    assert "the new words" in (project / "site" / "engines" / "a.md").read_text()
    assert trtdoc(project, "build", "--check", "specs/").returncode == 0


def test_check_lists_a_record_under_another_name(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    path = project / "records" / "a.json"
    path.write_text(path.read_text().replace('"name": "a"', '"name": "b"', 1))
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1
    assert "would change: records/a.json" in result.stdout


def test_check_goes_on_past_an_engine_whose_backend_is_missing(project):
    pytest.importorskip("tensorrt_rtx")
    if __import__("importlib.util").util.find_spec("tensorrt") is not None:
        pytest.skip("full TensorRT is installed here")
    assert trtdoc(project, "build", "specs/").returncode == 0
    spec = project / "specs" / "a.yaml"
    spec.write_text(spec.read_text().replace("backend: tensorrt-rtx", "backend: tensorrt")
                    .replace("targets: [sm86]\n", ""))
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1
    assert "specs/a.yaml: cannot check this engine here: " in result.stderr
    assert "would change" not in result.stdout  # b was checked, and is up to date


def test_a_converter_upgrade_makes_the_record_stale(project, monkeypatch):
    from trtdoc.build.check import check_records
    from trtdoc.paths import OutputPaths
    from trtdoc.precision import recipe

    spec = project / "specs" / "a.yaml"
    spec.write_text(spec.read_text() + "precision: fp16\n")
    assert trtdoc(project, "build", "specs/").returncode == 0
    monkeypatch.chdir(project)
    paths = OutputPaths(out=Path("build"), records=Path("records"))
    assert [o.status for o in check_records([Path("specs")], paths).outcomes] == [
        "up-to-date", "up-to-date"]
    monkeypatch.setattr(recipe, "RECIPE_VERSION", recipe.RECIPE_VERSION + 1)
    assert [o.status for o in check_records([Path("specs")], paths).outcomes] == [
        "stale", "up-to-date"]


def test_a_record_from_a_newer_trtdoc_is_never_overwritten_without_a_copy(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    path = project / "records" / "a.json"
    record = json.loads(path.read_text())
    del record["schema_version"]
    record["schema_version"] = 7  # last, far past the first kB
    record["from_the_future"] = "precious"
    newer = json.dumps(record, indent=1)
    path.write_text(newer)
    _spec(project, "a", target="sm89")
    result = trtdoc(project, "build", "specs/")
    assert result.returncode == 1
    assert ("specs/a.yaml: records/a.json: schema_version 7 is newer than the 1 this trtdoc "
            "reads: the record was written by a newer trtdoc; upgrade trtdoc (`pip install "
            "--upgrade trtdoc`) to read it; or pass --force to rebuild it (the newer record is "
            "then kept as records/.history/<name>.<n>.kept)" in result.stderr), result.stderr
    assert path.read_text() == newer
    forced = trtdoc(project, "build", "specs/", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (project / "records" / ".history" / "a.1.kept").read_text() == newer
    # Later builds never overwrite the copy.
    _spec(project, "a", target="sm86")
    assert trtdoc(project, "build", "specs/").returncode == 0
    assert (project / "records" / ".history" / "a.1.kept").read_text() == newer
    assert_consistent(project)


@pytest.mark.parametrize("damage", ["fifo", "symlink", "huge"])
def test_an_unreadable_record_is_set_aside_not_lost_and_never_hangs(project, damage):
    assert trtdoc(project, "build", "specs/").returncode == 0
    path = project / "records" / "a.json"
    path.unlink()
    if damage == "fifo":
        os.mkfifo(path)
    elif damage == "symlink":
        (project / "secret").write_text("root:$6$hash\n")
        path.symlink_to(project / "secret")
    else:
        with path.open("wb") as f:  # sparse: 300 MB on paper, nothing read
            f.truncate(300 << 20)
    check = trtdoc(project, "build", "--check", "specs/")
    assert check.returncode == 1 and "would change: records/a.json" in check.stdout
    assert "root:" not in check.stderr + check.stdout
    result = trtdoc(project, "build", "specs/")
    assert result.returncode == 0, result.stderr
    kept = project / "records" / ".history" / "a.1.kept"
    assert os.path.lexists(kept)
    if damage == "symlink":
        assert kept.is_symlink()  # the link moved, its target was never read or copied
    assert_consistent(project)


def test_pages_follow_each_published_engine_during_a_run(project, monkeypatch):
    from trtdoc.build.run import build_all
    from trtdoc.cli.options import PagePaths
    from trtdoc.cli.output import Ui
    from trtdoc.cli.pages import PagesFollow
    from trtdoc.paths import OutputPaths

    _spec(project, "c", target="sm89")
    monkeypatch.chdir(project)
    paths = OutputPaths(out=Path("build"), records=Path("records"))
    follow = PagesFollow(Ui(-1), PagePaths(records=Path("records"), site=Path("site")))
    follow.SHARE = 1e9  # always render: this test is about what a render then shows
    seen = []

    def published() -> None:
        follow()
        assert_consistent(project)  # every record so far has its page, right now
        seen.append(len(list(Path("records").glob("*.json"))))

    result = build_all([Path("specs")], paths, on_published=published)
    assert [o.status for o in result.outcomes] == ["built"] * 3
    assert seen == [1, 2, 3]


def test_another_records_folder_never_deletes_engines_the_project_records_name(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    _spec(project, "a", target="sm89")
    result = trtdoc(project, "build", "specs/a.yaml", "--records", "elsewhere")
    assert result.returncode == 0, result.stderr
    assert_consistent(project, settled=False)  # records/ still names engines that are there
    missing = trtdoc(project, "render", "--records", "recordz")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: recordz: no such records folder; build first")
    assert not (project / "recordz").exists()


def test_check_lists_the_pages_a_build_would_change(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    spec = project / "specs" / "a.yaml"
    spec.write_text(spec.read_text() + "owner: bob\n")
    _spec(project, "b", target="sm89")  # a rebuild: its new record is not known before
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1
    before = snapshot(project)
    assert trtdoc(project, "build", "specs/").returncode == 0
    changed = changed_since(project, before)
    assert {"records/a.json", "records/b.json", "site/engines/a.md",
            "site/engines/b.md"} <= changed
    assert {f"would change: {p}" for p in changed} <= set(result.stdout.splitlines())


def test_check_with_only_an_unknown_name_fails(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    result = trtdoc(project, "build", "--check", "--only", "nope", "specs/")
    assert result.returncode == 1
    assert result.stderr == ("error: --only nope: no such engine in the specs; known: a, b\n")


def test_a_record_that_names_another_engine_file_is_stale(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    path = project / "records" / "a.json"
    record = json.loads(path.read_text())
    record["engine"]["path"] = "../../../../etc/hostname"
    path.write_text(json.dumps(record, indent=1))
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1 and "would change: records/a.json" in result.stdout
    assert trtdoc(project, "build", "specs/").returncode == 0
    assert_consistent(project)


def test_problems_are_one_line_whatever_the_model_names_hold(project):
    import onnx

    model = onnx.load(str(project / "tiny.onnx"))
    model.graph.node[0].name = "a\nFAKE LINE\n\x1b[31m" + "x" * 5000
    onnx.save(model, str(project / "long.onnx"))
    _spec(project, "a", model="../long.onnx")
    result = trtdoc(project, "build", "specs/")
    for line in result.stderr.splitlines():
        assert "FAKE LINE" not in line or line.startswith("specs/a.yaml"), line
        assert "\x1b" not in line


def test_a_record_naming_a_lookalike_engine_path_is_stale(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    path = project / "records" / "a.json"
    record = json.loads(path.read_text())
    sha = record["engine"]["sha256"]
    record["engine"]["path"] = f"../../nowhere/engines/by-sha256/{sha}.engine"
    path.write_text(json.dumps(record, indent=1))
    result = trtdoc(project, "build", "--check", "specs/")
    assert result.returncode == 1 and "would change: records/a.json" in result.stdout
    assert trtdoc(project, "build", "specs/").returncode == 0
    assert "nowhere" not in path.read_text()
    assert_consistent(project)


def test_build_products_never_land_in_checked_in_folders(project):
    result = trtdoc(project, "build", "specs/", "--out", "records/b")
    assert result.returncode == 1
    assert result.stderr == ("error: --out records/b is inside --records records; engines and "
                             "build logs are not checked in: pass an --out outside records/ "
                             "and site/\n")
    assert not (project / "records").exists()


def test_a_file_where_a_folder_should_be_is_named(project):
    assert trtdoc(project, "build", "specs/").returncode == 0
    (project / "records" / ".history").write_text("junk")
    _spec(project, "a", target="sm89")
    result = trtdoc(project, "build", "specs/")
    assert result.returncode == 1
    assert ("specs/a.yaml: cannot write 'records/.history': a file stands where a folder "
            "should be (EEXIST); move that file away" in result.stderr), result.stderr
    assert_consistent(project)

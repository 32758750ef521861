"""``trtdoc build --ray``: real TensorRT-RTX builds as tasks of a real two-node Ray cluster.

The cluster runs on this machine (``ray start --head`` and a second ``ray start --address`` with
a custom resource ``node2`` of its own), started once for the module. Each ``ray start`` runs in
a session of its own, so the test ends exactly the processes of the nodes it started (their
process groups), never other Ray processes on the machine, and kills the second node mid-build
the same way: SIGKILL, no ``ray stop``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_faults import _spec, _tiny_model, assert_consistent, leftovers, trtdoc

# Not imported here: importing Ray puts its vendored packages on sys.path (psutil, ...), which
# other tests of this process would then see.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="the Ray tests need Ray: pip install 'trtdoc[ray]'")

REPO = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
MOBILENET = Path(__file__).resolve().parents[2] / "shared" / "models" / "mobilenet_v2_035.onnx"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A local Ray cluster whose nodes this test started (one process group each)."""

    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.groups: dict[str, int] = {}

    def start(self, name: str, *args: str) -> None:
        common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", f"--temp-dir={self.temp}",
                  "--disable-usage-stats", f"--dashboard-agent-listen-port={_free_port()}"]
        proc = subprocess.Popen([str(RAY), "start", *args, *common], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.groups[name] = proc.pid  # its session's id: every process of this node
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out

    def add_node(self, name: str) -> None:
        self.start(name, f"--address={self.address}", '--resources={"node2": 1}')

    def kill(self, name: str) -> None:
        group = self.groups.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)

    def stop(self) -> None:
        for name in list(self.groups):
            self.kill(name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    temp = Path(f"/tmp/trtdoc-ray-{os.getpid()}")  # Ray's socket paths must stay short
    c = Cluster(temp)
    try:
        c.start("head", "--head", f"--port={c.port}", "--include-dashboard=false",
                f"--dashboard-port={_free_port()}")
        c.add_node("node2")
        yield c
    finally:
        c.stop()
        shutil.rmtree(temp, ignore_errors=True)


def _slow_model(path: Path) -> Path:
    """A 400-layer MLP (6.5 MB of weights): about 5 s to build here, long enough to kill the
    node that builds it."""
    spec = importlib.util.spec_from_file_location("make_mlp", REPO / "bench" / "make_mlp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(str(path), 64, 400)
    return path


def _project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    _tiny_model(root / "tiny.onnx")
    _spec(root, "a")
    _spec(root, "b", target="sm120")
    (root / "specs" / "mobilenet.yaml").write_text(
        f"name: mobilenet\nmodel: {MOBILENET}\nbackend: tensorrt-rtx\nprofiles:\n"
        "  - input: {min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [4, 3, 224, 224]}\n"
        "targets: [sm86]\n")
    _slow_model(root / "mlp" / "mlp.onnx")
    (root / "specs" / "big.yaml").write_text(
        "name: big\nmodel: ../mlp/mlp.onnx\nbackend: tensorrt-rtx\nprofiles:\n"
        "  - x: {min: [1, 64], opt: [4, 64], max: [8, 64]}\ntargets: [sm86]\n"
        "build_on: {resource: node2}\n")
    return root


def test_a_node_killed_mid_build_is_retried_and_the_records_equal_a_local_build(
        cluster: Cluster, tmp_path: Path) -> None:
    root = _project(tmp_path)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("trtdoc")), "-v", "build",
                             "specs/", "--ray", cluster.address], cwd=root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 180
    for line in proc.stdout:  # the pinned build has started on node2: kill that node
        lines.append(line)
        if "big: building on Ray node" in line or time.monotonic() > deadline:
            break
    assert "big: building on Ray node" in lines[-1], "".join(lines)
    time.sleep(1.5)  # inside TensorRT's build (about 5 s)
    cluster.kill("node2")
    cluster.add_node("node3")  # the only other node with the resource the retry needs
    out, _ = proc.communicate(timeout=300)
    text = "".join(lines) + out
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    # big is pinned to the killed node; an unpinned engine still building there (a loaded
    # machine is slower) is retried too, and says so in the same line.
    retried = re.search(r"(\d+) engine\(s\) retried after a Ray node or worker failed "
                        r"mid-build: (.*)", text)
    assert retried is not None, text
    runs = dict(re.findall(r"([\w-]+) \((\d+) runs\)", retried[2]))
    assert runs.get("big") == "2" and int(retried[1]) == len(runs), text
    assert text.count("big: building on Ray node") == 2
    records = {p.stem for p in (root / "records").glob("*.json")}
    assert records == {"a", "b", "big", "mobilenet"}
    assert_consistent(root)
    assert leftovers(root) == []
    assert json.loads((root / "records" / "big.json").read_text())["spec"]["build_on"] == {
        "resource": "node2"}

    # A local build of the same specs makes the same records, host facts and timings aside:
    # every engine is reproduced, and its record, made afresh here, is byte for byte the one
    # the Ray build wrote ("record kept").
    before = {p.name: p.read_bytes() for p in (root / "records").glob("*.json")}
    local = trtdoc(root, "build", "specs/", "--force")
    assert local.returncode == 0, local.stderr
    assert local.stdout.count("record kept") == 4, local.stdout
    assert {p.name: p.read_bytes() for p in (root / "records").glob("*.json")} == before

    # Incremental: nothing changed, so no task is submitted and the cluster is not even
    # contacted (nothing listens at this address).
    again = trtdoc(root, "build", "specs/", "--ray", "127.0.0.1:1")
    assert again.returncode == 0, again.stderr
    assert "nothing to build: 4 engine(s) up to date" in again.stdout


def test_a_spec_no_node_can_place_fails_in_one_line_and_the_others_build(
        cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _tiny_model(tmp_path / "tiny.onnx")
    _spec(tmp_path, "a")
    nowhere = _spec(tmp_path, "nowhere")
    nowhere.write_text(nowhere.read_text() + "build_on: {resource: gpu-farm}\n")
    a100 = _spec(tmp_path, "a100", target="sm80")
    a100.write_text(a100.read_text() + "build_on:\n  gpu: A100\n")
    result = trtdoc(tmp_path, "build", "specs/", "--ray", cluster.address)
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if "no node" in line]
    assert problems == [
        "specs/a100.yaml:8: build_on.gpu: no node of the Ray cluster has the resource "
        "'accelerator_type:A100'; start a node that has it, or change where this spec is built",
        "specs/nowhere.yaml:7: build_on.resource: no node of the Ray cluster has the resource "
        "'gpu-farm'; start a node that has it, or change where this spec is built",
    ]
    assert {p.stem for p in (tmp_path / "records").glob("*.json")} == {"a"}
    assert_consistent(tmp_path)


def test_a_failing_build_is_not_retried_and_keeps_the_last_good_engine(
        cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    _tiny_model(tmp_path / "tiny.onnx")
    spec = _spec(tmp_path, "a")
    assert trtdoc(tmp_path, "build", "specs/", "--ray", cluster.address).returncode == 0
    good = (tmp_path / "records" / "a.json").read_bytes()
    # A real builder failure: a workspace too small for any tactic.
    spec.write_text(spec.read_text() + "memory: {workspace: 1KiB}\n")
    result = trtdoc(tmp_path, "-v", "build", "specs/", "--ray", cluster.address)
    assert result.returncode == 1
    assert result.stderr.count("a: building on Ray node") == 1, result.stderr  # run once
    assert "specs/a.yaml:7: memory.workspace: the builder failed" in result.stderr, result.stderr
    assert (tmp_path / "records" / "a.json").read_bytes() == good
    assert (tmp_path / "build" / "logs" / "a.failed.log").is_file()


def test_placement_maps_build_on_to_ray_resources() -> None:
    from trtdoc.build.ray import placement, unplaceable
    from trtdoc.spec.types import BuildOn, EngineSpec

    spec = EngineSpec(name="x", source=Path("x.yaml"), model=Path("x.onnx"),
                      build_on=BuildOn(gpu="A100", compute_capability="8.6", resource="farm"))
    place = placement(spec, "tensorrt")
    assert place.options() == {"num_cpus": 1, "num_gpus": 1.0, "accelerator_type": "A100",
                               "resources": {"trtdoc-sm86": 0.001, "farm": 0.001}}
    node = {"CPU": 8.0, "GPU": 1.0, "accelerator_type:A100": 1.0, "trtdoc-sm86": 1.0,
            "farm": 1.0}
    assert unplaceable(place, [node]) == ("", "")
    why, setting = unplaceable(place, [{**node, "GPU": 0.0}])
    assert (why, setting) == ("no node of the Ray cluster has the resource 'GPU'; start a node "
                              "that has it, or change where this spec is built", "backend")
    assert unplaceable(place, [{**node, "farm": 0.0}])[1] == "build_on.resource"
    split = [{"CPU": 1.0, "GPU": 1.0, "accelerator_type:A100": 1.0, "trtdoc-sm86": 1.0},
             {"CPU": 1.0, "farm": 1.0}]
    assert unplaceable(place, split)[0].startswith(
        "no node of the Ray cluster has all of 'CPU', ")
    # TensorRT-RTX without build_on: one CPU, anywhere.
    rtx = placement(EngineSpec(name="y", source=Path("y.yaml"), model=Path("y.onnx")),
                    "tensorrt-rtx")
    assert rtx.options() == {"num_cpus": 1, "num_gpus": 0.0}
    assert unplaceable(rtx, [{"CPU": 1.0}]) == ("", "")


def test_the_gpu_names_build_on_accepts_are_rays_accelerator_types() -> None:
    from trtdoc.spec.schema import RAY_NVIDIA_GPUS

    probe = ("import json, ray.util.accelerators.accelerators as a; print(json.dumps(sorted("
             "{v for k, v in vars(a).items() if k.startswith('NVIDIA_') and isinstance(v, str)}"
             ")))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(RAY_NVIDIA_GPUS) == set(json.loads(proc.stdout.splitlines()[-1]))

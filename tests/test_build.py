"""Real TensorRT-RTX builds of the shared models, and what a user sees when one goes wrong."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import onnx.helper as oh
import pytest
from conftest import MODELS
from onnx import TensorProto

from trtdoc.build.run import build_all
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record
from trtdoc.spec.types import Tolerance

trt = pytest.importorskip("tensorrt_rtx")

GOOD = {
    "resnet18.yaml": f"""
name: resnet18
model: {MODELS / "resnet18.onnx"}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}}
memory: {{workspace: 1GiB}}
targets: [sm80, sm86, sm120]
""",
    "mobilenet.yaml": f"""
name: mobilenet
model: {MODELS / "mobilenet_v2_035.onnx"}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [4, 3, 224, 224]}}
optimization_level: 2
targets: [sm80, sm89]
""",
    "bert.yaml": f"""
name: bert-tiny
model: {MODELS / "bert_tiny.onnx"}
backend: tensorrt-rtx
profiles:
  - input_ids: {{min: [1, 8], opt: [4, 64], max: [8, 128]}}
    attention_mask: {{min: [1, 8], opt: [4, 64], max: [8, 128]}}
  - input_ids: {{min: [1, 128], opt: [1, 192], max: [1, 256]}}
    attention_mask: {{min: [1, 128], opt: [1, 192], max: [1, 256]}}
targets: [sm86, sm121]
""",
}


def _bad_models(folder: Path) -> None:
    custom = oh.make_graph(
        [oh.make_node("Relu", ["x"], ["y"]), oh.make_node("FancyOp", ["y"], ["z"],
                                                           domain="com.acme")],
        "custom", [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [oh.make_tensor_value_info("z", TensorProto.FLOAT, ["n", 4])])
    onnx.save(oh.make_model(custom, opset_imports=[oh.make_opsetid("", 17),
                                                   oh.make_opsetid("com.acme", 1)]),
              folder / "custom.onnx")
    # Reshape to a fixed [2, 6]: only batch 2 can ever pass.
    reshape = oh.make_graph(
        [oh.make_node("Reshape", ["x", "s"], ["y"])], "reshape",
        [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])],
        [oh.make_tensor("s", TensorProto.INT64, [2], [2, 6])])
    onnx.save(oh.make_model(reshape, opset_imports=[oh.make_opsetid("", 17)]),
              folder / "reshape.onnx")
    data = (MODELS / "mobilenet_v2_035.onnx").read_bytes()
    (folder / "truncated.onnx").write_bytes(data[: len(data) // 3])


BAD = {
    "missing.yaml": "name: missing\nmodel: nowhere.onnx\nbackend: tensorrt-rtx\n",
    "truncated.yaml": "name: truncated\nmodel: truncated.onnx\nbackend: tensorrt-rtx\n",
    "custom.yaml": """name: custom-op
model: custom.onnx
backend: tensorrt-rtx
profiles:
  - x: {min: [1, 4], opt: [2, 4], max: [4, 4]}
targets: [sm86]
""",
    "reshape.yaml": """name: reshape
model: reshape.onnx
backend: tensorrt-rtx
profiles:
  - x: {min: [1, 6], opt: [3, 6], max: [4, 6]}
targets: [sm86]
""",
    "tiny-workspace.yaml": f"""name: tiny-workspace
model: {MODELS / "mobilenet_v2_035.onnx"}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [1, 3, 224, 224], max: [1, 3, 224, 224]}}
memory:
  workspace: 1KiB
targets: [sm86]
""",
    # A real OutOfMemory (Requested size was N bytes): blamed on the workspace, with N.
    "oom-workspace.yaml": f"""name: oom-workspace
model: {MODELS / "mobilenet_v2_035.onnx"}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [8, 3, 224, 224], max: [32, 3, 224, 224]}}
memory: {{workspace: 8MiB}}
targets: [sm86]
""",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("run")
    specs = root / "specs"
    specs.mkdir()
    _bad_models(specs)
    for name, text in {**GOOD, **BAD}.items():
        (specs / name).write_text(text)
    paths = OutputPaths(out=root / "build", records=root / "records")
    cwd = os.getcwd()
    os.chdir(root)  # displayed paths are relative to the working directory
    try:
        result = build_all([Path("specs")], paths, jobs=2)
    finally:
        os.chdir(cwd)
    return root, paths, result


def test_good_specs_build_while_bad_ones_fail(run):
    root, paths, result = run
    status = {o.name: o.status for o in result.outcomes}
    assert status == {"resnet18": "built", "mobilenet": "built", "bert-tiny": "built",
                      "reshape": "failed", "tiny-workspace": "failed",
                      "oom-workspace": "failed"}
    # A custom-domain op is caught by check, before any build.
    custom = [str(e) for e in result.spec_errors if e.path.name == "custom.yaml"]
    assert len(custom) == 1 and custom[0].startswith("specs/custom.yaml:2:8: model: ")
    assert "(com.acme: FancyOp)" in custom[0]
    assert [str(e) for e in result.spec_errors if e.path.name != "custom.yaml"] == [
        "specs/missing.yaml:2:8: model: model file specs/nowhere.onnx does not exist. "
        "Hint: fix the path; it is relative to the spec file",
        "specs/truncated.yaml:2:8: model: specs/truncated.onnx is not a readable ONNX model "
        "(truncated, or not ONNX at all). Hint: point `model` at a complete .onnx file (export or "
        "copy it again if it was cut short)",
    ]
    messages = {o.name: o.message for o in result.outcomes}
    assert messages["reshape"].startswith("specs/reshape.yaml:5: profiles: the builder failed: ")
    assert "kOPT values for profile 0 violate shape constraints" in messages["reshape"]
    assert messages["tiny-workspace"].startswith(
        "specs/tiny-workspace.yaml:7: memory.workspace: the builder failed: ")
    assert "workspace" in messages["tiny-workspace"].split(": ", 3)[-1]
    oom = messages["oom-workspace"]
    assert oom.startswith("specs/oom-workspace.yaml:6: memory.workspace: the builder failed: ")
    asked = re.search(r"Requested size was (\d+) bytes", oom)
    assert asked, oom
    mib = -(-int(asked.group(1)) // 2**20)
    assert f"asked for {int(asked.group(1)):,} bytes" in oom
    assert f"raise it to at least {mib} MiB (`memory: {{workspace: {mib}MiB}}`)" in oom
    for name in ("custom-op", "reshape", "tiny-workspace", "oom-workspace"):
        assert not paths.engine(name).exists()
        assert not paths.record(name).exists()
    assert paths.failed_log("tiny-workspace").read_text().count("[ERROR]") >= 1


def test_records_show_layers_fusions_profiles_and_memory(run):
    _, paths, _ = run
    rec = read_record(paths.record("resnet18"))
    layers = rec.inspection.layers
    assert len(layers) > 20
    fused = [layer for layer in layers if len(layer.fused) >= 2]
    assert fused, "a Conv+Relu style fusion must list every ONNX node it absorbed"
    assert any(n.endswith("Conv") for n in fused[0].fused)
    io = {t.name: t for t in rec.inspection.io}
    assert io["input"].profiles[0].min == (1, 3, 224, 224)
    assert io["input"].profiles[0].max == (8, 3, 224, 224)
    mem = rec.inspection.memory
    assert mem.weights > 40_000_000  # resnet18 holds 11.7 M float parameters
    assert mem.activation > 0
    assert rec.header.weights_bytes == mem.weights
    settings = {s.key: s for s in rec.settings}
    assert settings["memory.workspace"].effective == 1 << 30
    assert settings["targets"].effective == ["sm80", "sm86", "sm120"]
    assert settings["profiling_verbosity"].effective == "DETAILED"
    assert rec.model.default_opset == 17


def test_header_facts_agree_with_settings(run):
    _, paths, _ = run
    for name, targets in (("resnet18", ("sm80", "sm86", "sm120")), ("mobilenet", ("sm80", "sm89")),
                          ("bert-tiny", ("sm86", "sm121"))):
        rec = read_record(paths.record(name))
        assert rec.header.compute_capabilities == targets
        assert rec.header.version == trt.__version__
        assert rec.engine_bytes == paths.engine(name).stat().st_size


def test_bert_two_int64_inputs_and_two_profiles(run):
    _, paths, _ = run
    rec = read_record(paths.record("bert-tiny"))
    io = {t.name: t for t in rec.inspection.io}
    assert set(io) >= {"input_ids", "attention_mask"}
    assert io["input_ids"].dtype == "Int64"
    assert [(p.min, p.max) for p in io["attention_mask"].profiles] == [
        ((1, 8), (8, 128)), ((1, 128), (1, 256))]
    assert rec.settings[[s.key for s in rec.settings].index("profiles")].effective == 2


def test_record_lists_what_was_not_run(run):
    _, paths, _ = run
    rec = read_record(paths.record("mobilenet"))
    whats = [n.what for n in rec.not_run]
    assert "engine execution and latency benchmark" in whats
    assert all(n.reason for n in rec.not_run)


def test_second_build_rebuilds_nothing_and_keeps_engines(run):
    root, paths, _ = run
    before = {n: paths.engine(n).stat().st_mtime_ns for n in ("resnet18", "mobilenet")}
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = build_all([Path("specs") / "resnet18.yaml", Path("specs") / "mobilenet.yaml"],
                           paths)
    finally:
        os.chdir(cwd)
    assert [(o.name, o.status) for o in result.outcomes] == [
        ("mobilenet", "up-to-date"), ("resnet18", "up-to-date")]
    assert before == {n: paths.engine(n).stat().st_mtime_ns for n in before}


def test_a_failing_rebuild_keeps_the_last_good_engine_and_record(run, tmp_path):
    root, paths, _ = run
    spec = tmp_path / "mobilenet.yaml"
    spec.write_text(GOOD["mobilenet.yaml"])
    engine_before = paths.engine("mobilenet").read_bytes()
    record_before = paths.record("mobilenet").read_text()
    spec.write_text(GOOD["mobilenet.yaml"] + "memory: {workspace: 1KiB}\n")
    result = build_all([spec], paths)
    assert [(o.name, o.status) for o in result.outcomes] == [("mobilenet", "failed")]
    assert paths.engine("mobilenet").read_bytes() == engine_before
    assert paths.record("mobilenet").read_text() == record_before


def test_description_edit_updates_the_record_without_rebuilding(run, tmp_path):
    _, paths, _ = run
    spec = tmp_path / "bert.yaml"
    spec.write_text(GOOD["bert.yaml"] + "description: now documented\n")
    before = paths.engine("bert-tiny").stat().st_mtime_ns
    result = build_all([spec], paths)
    assert [(o.name, o.status) for o in result.outcomes] == [("bert-tiny", "updated")]
    assert paths.engine("bert-tiny").stat().st_mtime_ns == before
    assert json.loads(paths.record("bert-tiny").read_text())["spec"]["description"] == \
        "now documented"


def test_sigkill_mid_build_leaves_no_partial_output_and_rerun_completes(tmp_path):
    spec = tmp_path / "specs" / "resnet18.yaml"
    spec.parent.mkdir()
    spec.write_text(GOOD["resnet18.yaml"])
    cmd = [sys.executable, "-m", "trtdoc.cli", "-v", "build", "specs", "--site", "site"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until TensorRT is really building, then kill without warning
        if "Building engine" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine = tmp_path / "build" / "engines" / "resnet18.engine"
    record = tmp_path / "records" / "resnet18.json"
    assert not engine.exists() and not record.exists()
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert read_record(record).engine_bytes == engine.stat().st_size
    leftovers = [p for p in tmp_path.rglob(".*.tmp")]
    assert leftovers == []


def test_builder_errors_blame_the_setting_a_user_should_change():
    from trtdoc.build.engine import blame

    # Real TensorRT-RTX 1.7 messages (fp32 resnet18 for sm75; mobilenet with a 1 KiB workspace).
    assert blame(["IBuilder::buildSerializedNetwork: Error Code 1: Myelin ([pass.cpp:337: "
                  "check_turing_op_compatibility] Cannot compile operation '/fc/Gemm' for "
                  "Turing (SM75): FP32 GEMM is not supported."]) == ("targets",)
    assert blame(["Tactic Selection: no tactics to implement the operation within workspace "
                  "limit. Consider increase the allowed workspace size"]) == ("memory", "workspace")
    assert blame(["kOPT values for profile 0 violate shape constraints"]) == ("profiles",)


def _key_inputs():
    from trtdoc.backends import BACKENDS, BackendChoice
    from trtdoc.spec.types import EngineSpec

    spec = EngineSpec(name="x", source=Path("x.yaml"), model=Path("x.onnx"))
    choice = BackendChoice(BACKENDS["tensorrt-rtx"], "1.7.0.1", "installed", cuda="13")
    return spec, "0" * 64, choice


def test_the_build_key_changes_with_the_backend_version():
    """Engines do not carry across TensorRT-RTX releases: a new version must rebuild."""
    from dataclasses import replace

    from trtdoc.build.key import build_key

    spec, model_sha, choice = _key_inputs()
    key = build_key(spec, model_sha, choice)
    assert build_key(spec, model_sha, replace(choice)) == key
    assert build_key(spec, model_sha, replace(choice, version="1.8.0.0")) != key


def test_the_build_key_covers_backend_cuda_and_model_but_not_the_reason():
    from dataclasses import replace

    from trtdoc.backends import BACKENDS
    from trtdoc.build.key import build_key

    spec, model_sha, choice = _key_inputs()
    key = build_key(spec, model_sha, choice)
    assert build_key(spec, model_sha, replace(choice, backend=BACKENDS["tensorrt"])) != key
    assert build_key(spec, model_sha, replace(choice, cuda="12")) != key
    assert build_key(spec, model_sha, replace(choice, cuda=None)) != key
    assert build_key(spec, "1" * 64, choice) != key
    # Why the backend was chosen does not change the engine.
    assert build_key(spec, model_sha, replace(choice, reason="requested")) == key


def test_external_data_model_builds(tmp_path):
    model = onnx.load(str(MODELS / "mobilenet_v2_035.onnx"))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="ext.onnx.data", size_threshold=0)
    assert (tmp_path / "ext.onnx").stat().st_size < 200_000
    (tmp_path / "ext.yaml").write_text(
        GOOD["mobilenet.yaml"].replace(str(MODELS / "mobilenet_v2_035.onnx"), "ext.onnx"))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([tmp_path / "ext.yaml"], paths)
    assert [o.status for o in result.outcomes] == ["built"]
    rec = read_record(paths.record("mobilenet"))
    assert rec.model.external_data
    assert rec.inspection.memory.weights > 1_000_000
    # Changing only the external weights must change the build key.
    data = bytearray((tmp_path / "ext.onnx.data").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "ext.onnx.data").write_bytes(bytes(data))
    again = build_all([tmp_path / "ext.yaml"], paths)
    assert [o.status for o in again.outcomes] == ["built"]
    shutil.rmtree(tmp_path / "build")


def test_a_rebuild_with_the_recorded_bytes_keeps_the_record(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "m.yaml").write_text(GOOD["mobilenet.yaml"])
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    build_all([tmp_path / "specs"], paths)
    record_file = paths.record("mobilenet")
    first = record_file.read_bytes()
    shutil.rmtree(tmp_path / "build")  # a fresh clone: records checked in, engines not

    again = build_all([tmp_path / "specs"], paths)

    (outcome,) = again.outcomes
    assert outcome.status == "reproduced", outcome
    # TensorRT-RTX now and then serialises the same build in other bytes; trtdoc builds again
    # until it has the recorded ones (REPRODUCE_ATTEMPTS), and says on which attempt.
    assert re.search(r"equals the record's( on attempt \d+)?; record kept$", outcome.message)
    assert record_file.read_bytes() == first  # host and build time of the first build stay
    assert paths.engine("mobilenet").is_file()


def test_a_rebuild_with_other_bytes_replaces_the_record_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "m.yaml").write_text(GOOD["mobilenet.yaml"])
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    build_all([tmp_path / "specs"], paths)
    record_file = paths.record("mobilenet")
    data = json.loads(record_file.read_text())
    data["engine"]["sha256"] = "0" * 64  # as if the last build had written other bytes
    record_file.write_text(json.dumps(data))

    again = build_all([tmp_path / "specs"], paths, force=True)

    assert [o.status for o in again.outcomes] == ["built"]
    assert read_record(record_file).engine_sha256 != "0" * 64
    from trtdoc.diff.compare import changes_between
    from trtdoc.diff.history import history_path, read_previous

    previous = read_previous(paths.records)["mobilenet"]
    assert history_path(paths.records, "mobilenet").is_file()
    changes = changes_between(previous, read_record(record_file))
    assert ("engine sha256", "000000000000") in {(c.what, c.old) for c in changes.summary}


GATED = f"""name: gated
model: {MODELS / "mobilenet_v2_035.onnx"}
backend: tensorrt-rtx
precision: fp16
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [2, 3, 224, 224]}}
targets: [sm86]
accuracy: {{samples: 2, tolerance: {{max_abs: TOL}}}}
"""


def test_a_failed_gate_keeps_the_last_good_engine_and_shows_its_figures(tmp_path: Path) -> None:
    from trtdoc.record.files import read_gates
    from trtdoc.render.write import plan_site

    spec = tmp_path / "specs" / "gated.yaml"
    spec.parent.mkdir()
    spec.write_text(GATED.replace("TOL", "0.05"))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    assert [o.status for o in build_all([spec.parent], paths).outcomes] == ["built"]
    engine, record = paths.engine("gated"), paths.record("gated")
    engine_bytes, record_bytes = engine.read_bytes(), record.read_bytes()
    engine_mtime = engine.stat().st_mtime_ns

    # Only accuracy changes: the gate runs again on the converted model, and fails.
    spec.write_text(GATED.replace("TOL", "1e-15"))
    (failed,) = build_all([spec.parent], paths).outcomes
    assert failed.status == "failed"
    assert "max abs error" in failed.message and "exceeds accuracy.tolerance.max_abs 1e-15" \
        in failed.message
    assert engine.read_bytes() == engine_bytes and engine.stat().st_mtime_ns == engine_mtime
    assert record.read_bytes() == record_bytes  # the last good record stays
    gates = read_gates(paths.records)
    assert gates["gated"].accuracy.outputs[0].max_abs > 1e-15
    pages = {p.name: b.decode() for p, b in plan_site(
        [read_record(record)], tmp_path / "site", gates=gates).items()}
    assert '!!! failure "The latest build failed its accuracy gate"' in pages["gated.md"]
    assert "exceeds accuracy.tolerance.max&#95;abs 1e-15" in pages["gated.md"]
    assert "(latest build failed its accuracy gate)" in pages["index.md"]

    # A looser limit: re-checked without a TensorRT build, and the failed gate is gone.
    spec.write_text(GATED.replace("TOL", "0.1"))
    (rechecked,) = build_all([spec.parent], paths).outcomes
    assert rechecked.status == "re-checked", rechecked
    assert engine.stat().st_mtime_ns == engine_mtime
    assert read_record(record).spec.accuracy.tolerance == Tolerance(max_abs=0.1)
    assert read_gates(paths.records) == {}


def test_a_first_build_that_fails_its_gate_is_listed_on_the_index(tmp_path: Path) -> None:
    from trtdoc.record.files import read_gates
    from trtdoc.render.write import plan_site

    spec = tmp_path / "specs" / "gated.yaml"
    spec.parent.mkdir()
    spec.write_text(GATED.replace("TOL", "1e-15"))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    assert [o.status for o in build_all([spec.parent], paths).outcomes] == ["failed"]
    assert not paths.record("gated").exists() and not paths.engine("gated").exists()
    pages = {p.name: b.decode() for p, b in plan_site(
        [], tmp_path / "site", gates=read_gates(paths.records)).items()}
    assert "## Failed before their first page" in pages["index.md"]
    row = next(line for line in pages["index.md"].splitlines() if line.startswith("| gated |"))
    assert "max abs error" in row and "1e-15" in row


def test_a_forced_build_records_the_key_a_plain_build_expects(tmp_path: Path) -> None:
    """--force hashes the model beside the build; the key it records is the same one."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "mobilenet.yaml").write_text(GOOD["mobilenet.yaml"])
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    forced = build_all([specs], paths, force=True)
    assert [o.status for o in forced.outcomes] == ["built"], forced.outcomes
    again = build_all([specs], paths)
    assert [o.status for o in again.outcomes] == ["up-to-date"], again.outcomes

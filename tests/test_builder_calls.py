"""Each kind of builder call applies itself and renders itself as Python and as a switch; the
snippet of a spec with flags, run as printed, writes the very plan trtdoc built; and
``version_compatible`` reaches the builder, the snippet and the command line on each backend."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, get_args

import pytest
from conftest import MODELS
from sitetools import fixed_records

from trtdoc.backends import BACKENDS
from trtdoc.builder.calls import (
    CALL_KINDS,
    CALLS,
    Applied,
    Call,
    CallKind,
    Rendering,
    kind_of,
    network_creation_flags,
    replay,
)
from trtdoc.builder.reproduce import cli_command, python_snippet
from trtdoc.builder.settings import applied_settings, read_settings
from trtdoc.errors import BackendUnavailableError
from trtdoc.render.parameters import format_bytes
from trtdoc.spec.types import EngineSpec

# One call of each kind, as the build records it.
SAMPLES: dict[str, Applied] = {
    "network_flag": Applied("precision_method", "network_flag", "STRONGLY_TYPED"),
    "profiling_verbosity": Applied("profiling_verbosity", "profiling_verbosity", "DETAILED"),
    "profile": Applied("profiles[0]", "profile", value=[["input", [1, 3], [2, 3], [4, 3]]]),
    "memory_pool": Applied("memory.workspace", "memory_pool", "WORKSPACE", 512 << 20),
    "optimization_level": Applied("optimization_level", "optimization_level",
                                  "builder_optimization_level", 3),
    "compute_capabilities": Applied("targets", "compute_capabilities", value=["sm80", "sm89"]),
    "hardware_compatibility": Applied("hardware_compatibility", "hardware_compatibility",
                                      "AMPERE_PLUS"),
    "flag": Applied("flags", "flag", "WEIGHT_STREAMING"),
}


class Recorder:
    """A builder, config or profile that keeps every call and assignment made on it."""

    def __init__(self, log: list[tuple[Any, ...]]) -> None:
        object.__setattr__(self, "log", log)

    def __setattr__(self, name: str, value: Any) -> None:
        self.log.append(("set", name, value))

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            self.log.append(("call", name, *args))
            return Recorder(self.log) if name.startswith("create_") else 0
        return call


def _trt() -> SimpleNamespace:
    # Enums as plain names, so what apply passes to the config can be read off the log.
    names = {m: SimpleNamespace(**{v: f"{m}.{v}" for v in values}) for m, values in {
        "ProfilingVerbosity": ("DETAILED",), "MemoryPoolType": ("WORKSPACE",),
        "ComputeCapability": ("SM80", "SM89"), "HardwareCompatibilityLevel": ("AMPERE_PLUS",),
        "BuilderFlag": ("WEIGHT_STREAMING",)}.items()}
    return SimpleNamespace(**names, NetworkDefinitionCreationFlag=SimpleNamespace(
        STRONGLY_TYPED=5))


def test_every_kind_of_call_has_one_object_and_a_sample() -> None:
    assert get_args(Call) == CALLS
    assert tuple(CALL_KINDS) == CALLS
    assert tuple(SAMPLES) == CALLS
    assert all(isinstance(k, CallKind) and k.call == c for c, k in CALL_KINDS.items())
    # A hand-made record may hold any JSON there; renderings skip what no kind knows.
    assert kind_of(Applied("k", ["flag"])) is None  # type: ignore[arg-type]  # a wrong type
    assert kind_of(Applied("k", "bogus")) is None  # type: ignore[arg-type]  # on purpose


@pytest.mark.parametrize("call", CALLS)
def test_every_kind_applies_itself_and_renders_as_python_and_as_a_switch(call: str) -> None:
    a = SAMPLES[call]
    kind = CALL_KINDS[a.call]
    log: list[tuple[Any, ...]] = []
    kind.apply(_trt(), Recorder(log), Recorder(log), a)
    # A network flag is made with the network, before any config call.
    assert log or kind.creation_flag(_trt(), a) == 1 << 5
    full = Rendering(rtx=False, size=format_bytes, first_profile=a)
    rtx = Rendering(rtx=True, size=format_bytes, first_profile=a)
    assert kind.python(a, full) or kind.creation_term(a)
    switches = kind.cli(a, full)
    assert switches.args or switches.unmatched
    switches = kind.cli(a, rtx)
    # tensorrt_rtx is always strongly typed: that one flag needs no switch there.
    assert switches.args or switches.unmatched or call == "network_flag"


def test_replay_makes_each_call_on_the_config() -> None:
    log: list[tuple[Any, ...]] = []
    trt = _trt()
    replay(trt, Recorder(log), Recorder(log), tuple(SAMPLES.values()))
    log = [tuple("<made>" if isinstance(x, Recorder) else x for x in e) for e in log]
    assert log == [
        ("set", "profiling_verbosity", "ProfilingVerbosity.DETAILED"),
        ("call", "create_optimization_profile"),
        ("call", "set_shape", "input", [1, 3], [2, 3], [4, 3]),
        ("call", "add_optimization_profile", "<made>"),
        ("call", "set_memory_pool_limit", "MemoryPoolType.WORKSPACE", 512 << 20),
        ("set", "builder_optimization_level", 3),
        ("set", "num_compute_capabilities", 2),
        ("call", "set_compute_capability", "ComputeCapability.SM80", 0),
        ("call", "set_compute_capability", "ComputeCapability.SM89", 1),
        ("set", "hardware_compatibility_level", "HardwareCompatibilityLevel.AMPERE_PLUS"),
        ("call", "set_flag", "BuilderFlag.WEIGHT_STREAMING"),
    ]
    assert network_creation_flags(trt, tuple(SAMPLES.values())) == 1 << 5


# --------------------------------------------------------------------------------------------
# Real TensorRT-RTX builds
# --------------------------------------------------------------------------------------------
def _spec(name: str, extra: str) -> str:
    return f"""
name: {name}
model: ../models/mobilenet_v2_035.onnx
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [4, 3, 224, 224]}}
targets: [sm89]
{extra}
"""


def test_the_snippet_of_a_spec_with_flags_writes_the_plan_trtdoc_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import read_record

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mobilenet_v2_035.onnx").symlink_to(MODELS / "mobilenet_v2_035.onnx")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "plain.yaml").write_text(_spec("plain", ""))
    (tmp_path / "specs" / "streamed.yaml").write_text(_spec("streamed",
                                                            "flags: [weight_streaming]"))
    monkeypatch.chdir(tmp_path)
    paths = OutputPaths(out=Path("build"), records=Path("records"))
    result = build_all([Path("specs")], paths)
    assert [o.status for o in result.outcomes] == ["built", "built"], result
    plain, streamed = (read_record(paths.record(n)) for n in ("plain", "streamed"))
    assert Applied("flags", "flag", "WEIGHT_STREAMING") in streamed.applied
    # The flag changes the plan, so equal bytes below mean the snippet set it.
    assert plain.engine_sha256 != streamed.engine_sha256
    for record in (plain, streamed):
        snippet = python_snippet(record)
        assert snippet is not None
        (tmp_path / f"{record.name}.py").write_text(snippet)
        # TensorRT-RTX now and then serialises the same build in other bytes (trtdoc itself
        # builds again until it has the recorded ones, REPRODUCE_ATTEMPTS), so the snippet may
        # run a few times; without the flag it never writes the streamed engine's bytes.
        shas = []
        for _ in range(5):
            done = subprocess.run([sys.executable, f"{record.name}.py"], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr
            plan = (tmp_path / f"{record.name}.engine").read_bytes()
            shas.append(hashlib.sha256(plan).hexdigest())
            if shas[-1] == record.engine_sha256:
                break
        assert shas[-1] == record.engine_sha256, (record.name, shas)
    assert "config.set_flag(trt.BuilderFlag.WEIGHT_STREAMING)" in str(python_snippet(streamed))


def _spec_object(**kw: Any) -> EngineSpec:
    return EngineSpec(name="x", source=Path("x.yaml"), model=Path("x.onnx"), **kw)


def _full_trt(flags: tuple[str, ...]) -> SimpleNamespace:
    # Full TensorRT cannot be installed here: a stand-in with the attributes a version has.
    return SimpleNamespace(__version__="11.0.0", BuilderFlag=SimpleNamespace(
        **{f: f for f in flags}), NetworkDefinitionCreationFlag=SimpleNamespace(),
        HardwareCompatibilityLevel=SimpleNamespace())


VERSION_COMPATIBLE = Applied("version_compatible", "flag", "VERSION_COMPATIBLE")


def test_version_compatible_is_applied_shown_in_the_snippet_and_on_the_rtx_command_line(
) -> None:
    trt = pytest.importorskip("tensorrt_rtx")
    rtx = BACKENDS["tensorrt-rtx"]
    assert hasattr(trt.BuilderFlag, "VERSION_COMPATIBLE")  # TensorRT-RTX 1.7 has the flag
    applied = applied_settings(trt, rtx, trt.__version__, _spec_object(version_compatible=True))
    assert VERSION_COMPATIBLE in applied
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    config = builder.create_builder_config()
    assert read_settings(trt, rtx, config)["version_compatible"] is False
    replay(trt, builder, config, applied)
    assert read_settings(trt, rtx, config)["version_compatible"] is True

    base = next(r for r in fixed_records() if r.name == "bert-tiny")
    record = dataclasses.replace(base, applied=(*base.applied, VERSION_COMPATIBLE))
    assert "config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)" in str(python_snippet(record))
    _, notes, _ = cli_command(record)
    assert any("no tensorrt_rtx flag for" in n and "BuilderFlag.VERSION_COMPATIBLE" in n
               for n in notes), notes


def test_version_compatible_on_full_tensorrt_is_a_flag_and_a_switch_where_it_exists() -> None:
    full = BACKENDS["tensorrt"]
    applied = applied_settings(_full_trt(("VERSION_COMPATIBLE",)), full, "10.9",
                               _spec_object(version_compatible=True))
    assert applied[-1] == VERSION_COMPATIBLE
    base = next(r for r in fixed_records() if r.name == "mobilenet-v2-fp16")
    record = dataclasses.replace(base, backend="tensorrt", applied=applied)
    assert "config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)" in str(python_snippet(record))
    command, _, _ = cli_command(record)
    assert command is not None and "--versionCompatible" in command.split()

    with pytest.raises(BackendUnavailableError) as err:
        applied_settings(_full_trt(()), full, "11.0.0", _spec_object(version_compatible=True))
    assert err.value.setting == "version_compatible"
    assert str(err.value) == "version_compatible is not available in TensorRT 11.0.0"


def test_a_version_compatible_rtx_build_fails_for_want_of_the_lean_runtime(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured with tensorrt-rtx 1.7.1: the flag exists and is set, but the builder then loads
    # libnvinfer_lean.so.1, which the tensorrt-rtx wheels do not ship.
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mobilenet_v2_035.onnx").symlink_to(MODELS / "mobilenet_v2_035.onnx")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "vc.yaml").write_text(_spec("vc", "version_compatible: true"))
    monkeypatch.chdir(tmp_path)
    result = build_all([Path("specs")], OutputPaths(out=Path("build"), records=Path("records")))
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert "the builder failed" in outcome.message and "libnvinfer_lean" in outcome.message

"""The backend seam: which flavour builds a spec, and features detected by presence."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from trtdoc.backends import BACKENDS, choose_backend, installed_version
from trtdoc.backends.cuda import cuda_device_status
from trtdoc.builder.calls import Applied, network_creation_flags
from trtdoc.builder.settings import apply_spec, read_settings
from trtdoc.errors import BackendUnavailableError
from trtdoc.spec.types import EngineSpec

trt = pytest.importorskip("tensorrt_rtx")
FULL_TRT_INSTALLED = importlib.util.find_spec("tensorrt") is not None


def spec(**kw) -> EngineSpec:
    return EngineSpec(name="x", source=Path("x.yaml"), model=Path("x.onnx"), **kw)


@pytest.mark.skipif(FULL_TRT_INSTALLED and cuda_device_status()[0],
                    reason="full TensorRT with a GPU is here, so auto picks it")
def test_auto_picks_tensorrt_rtx_here_and_says_why():
    choice = choose_backend("auto")
    assert choice.name == "tensorrt-rtx"
    assert choice.version == installed_version(BACKENDS["tensorrt-rtx"]) == trt.__version__
    assert choice.reason.startswith("auto: TensorRT is not installed") or \
        choice.reason.startswith("auto: TensorRT is installed but ")
    assert choice.reason.endswith("and TensorRT-RTX builds ahead of time without a GPU")


@pytest.mark.skipif(FULL_TRT_INSTALLED, reason="full TensorRT is installed here")
def test_asking_for_full_tensorrt_where_it_is_missing_says_how_to_install_it():
    with pytest.raises(BackendUnavailableError) as err:
        choose_backend("tensorrt")
    assert str(err.value) == (
        "TensorRT is not installed (module tensorrt); install it with `pip install "
        "'trtdoc[tensorrt]' (needs NVIDIA's package host)` or set `backend: auto`")


def _rtx_config():
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    network = builder.create_network(0)
    return builder, network, builder.create_builder_config()


def test_rtx_reads_back_what_the_spec_set():
    builder, network, config = _rtx_config()
    rtx = BACKENDS["tensorrt-rtx"]
    before = read_settings(trt, rtx, config)
    apply_spec(trt, rtx, trt.__version__, builder, network, config,
               spec(workspace=512 << 20, optimization_level=1, targets=("sm80", "sm121"),
                    flags=("weight_streaming",)))
    after = read_settings(trt, rtx, config)
    assert before["profiling_verbosity"] != "DETAILED"
    assert after["profiling_verbosity"] == "DETAILED"
    assert after["memory.workspace"] == 512 << 20
    assert after["optimization_level"] == 1
    assert after["targets"] == ["sm80", "sm121"]
    assert "weight_streaming" in after["flags"]
    assert after["hardware_compatibility"] is None  # RTX has none; it is never read there


def test_a_flag_the_installed_rtx_lacks_names_setting_and_version():
    builder, network, config = _rtx_config()
    assert not hasattr(trt.BuilderFlag, "OBEY_PRECISION_CONSTRAINTS")
    with pytest.raises(BackendUnavailableError) as err:
        apply_spec(trt, BACKENDS["tensorrt-rtx"], trt.__version__, builder, network, config,
                   spec(flags=("obey_precision_constraints",)))
    assert err.value.setting == "flags"
    assert str(err.value) == (f"BuilderFlag.OBEY_PRECISION_CONSTRAINTS is not available in "
                              f"TensorRT-RTX {trt.__version__}; remove it from `flags`")


def test_rtx_refuses_hardware_compatibility():
    builder, network, config = _rtx_config()
    with pytest.raises(BackendUnavailableError) as err:
        apply_spec(trt, BACKENDS["tensorrt-rtx"], trt.__version__, builder, network, config,
                   spec(hardware_compatibility="ampere+"))
    assert err.value.setting == "hardware_compatibility"


# Full TensorRT cannot be installed here (PyPI has only a downloader stub), so its presence
# checks run against a stand-in that has exactly the attributes a given version has. Only the
# hasattr branches are under test; nothing pretends to build.
def _full_trt(*, flags: tuple[str, ...], strongly_typed: bool, levels: tuple[str, ...]):
    return SimpleNamespace(
        __version__="11.0.0",
        BuilderFlag=SimpleNamespace(**{f: f for f in flags}),
        NetworkDefinitionCreationFlag=SimpleNamespace(
            **({"STRONGLY_TYPED": 5} if strongly_typed else {})),
        HardwareCompatibilityLevel=SimpleNamespace(**{lv: lv for lv in levels}),
    )


def test_tensorrt_11_without_precision_flags_explains_strong_typing():
    full = _full_trt(flags=("VERSION_COMPATIBLE",), strongly_typed=False, levels=())
    with pytest.raises(BackendUnavailableError) as err:
        BACKENDS["tensorrt"].precision_flag_settings(
            full, spec(precision="fp16", precision_method="builder_flags"), "11.0.0")
    assert str(err.value) == (
        "precision_method builder_flags: BuilderFlag.FP16 is not available in TensorRT 11.0.0 "
        "(TensorRT 11 removed weak typing); use `precision_method: model`")
    # TensorRT 11 has no STRONGLY_TYPED flag: it is always strongly typed, so none is recorded.
    assert BACKENDS["tensorrt"].network_flag_names(full, spec()) == ()


def test_tensorrt_10_sets_fp16_flag_and_strongly_typed_network_by_presence():
    full = _full_trt(flags=("FP16", "INT8"), strongly_typed=True, levels=("AMPERE_PLUS",))
    backend = BACKENDS["tensorrt"]
    assert backend.precision_flag_settings(
        full, spec(precision="fp16", precision_method="builder_flags"), "10.9") == (
        Applied("precision", "flag", "FP16"),)
    assert backend.network_flag_names(full, spec()) == ("STRONGLY_TYPED",)
    assert network_creation_flags(full, (Applied("precision_method", "network_flag",
                                                 "STRONGLY_TYPED"),)) == 1 << 5
    assert backend.network_flag_names(full, spec(precision_method="builder_flags")) == ()
    assert backend.compatibility_settings(full, spec(hardware_compatibility="ampere+")) == (
        Applied("hardware_compatibility", "hardware_compatibility", "AMPERE_PLUS"),)
    with pytest.raises(BackendUnavailableError, match="same-cc is not available in TensorRT"):
        backend.compatibility_settings(full, spec(hardware_compatibility="same-cc"))

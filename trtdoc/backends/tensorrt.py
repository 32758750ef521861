"""Full TensorRT (10.x, 11.x): builds for the GPU it runs on.

Written against the documented Python API. It cannot be installed on trtdoc's CI machines
(PyPI only carries a stub that downloads from NVIDIA's host), so only its feature detection and
the inspector-JSON path are tested there; the README says so.
"""

from __future__ import annotations

from typing import Any

from trtdoc.backends.base import Backend
from trtdoc.builder.calls import Applied
from trtdoc.errors import BackendUnavailableError
from trtdoc.spec.types import EngineSpec
from trtdoc.values import HardwareCompatibility, Precision

_HARDWARE_LEVELS: dict[HardwareCompatibility, str] = {
    "ampere+": "AMPERE_PLUS", "same-cc": "SAME_COMPUTE_CAPABILITY"}
_PRECISION_FLAGS: dict[Precision, tuple[str, ...]] = {
    "fp16": ("FP16",), "bf16": ("BF16",), "int8": ("INT8",), "fp8": ("FP8",)}


class TensorRTBackend(Backend):
    name = "tensorrt"
    display = "TensorRT"
    module_name = "tensorrt"
    distributions = ("tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt_cu12",
                     "tensorrt_cu13")
    install_hint = "pip install 'trtdoc[tensorrt]' (needs NVIDIA's package host)"
    unsupported = {
        "targets": "TensorRT has no compute-capability targets; it builds for the GPU it "
                   "runs on (see hardware_compatibility)",
    }

    def network_flag_names(self, trt: Any, spec: EngineSpec) -> tuple[str, ...]:
        # TensorRT 11 is always strongly typed and drops the flag; 10.x needs it so that a
        # converted fp16/int8 model keeps its types instead of being re-chosen by the builder.
        creation = trt.NetworkDefinitionCreationFlag
        if spec.precision_method == "model" and hasattr(creation, "STRONGLY_TYPED"):
            return ("STRONGLY_TYPED",)
        return ()

    def compatibility_settings(self, trt: Any, spec: EngineSpec) -> tuple[Applied, ...]:
        if spec.hardware_compatibility == "none":
            return ()
        level = _HARDWARE_LEVELS[spec.hardware_compatibility]
        levels = getattr(trt, "HardwareCompatibilityLevel", None)
        if levels is None or not hasattr(levels, level):
            raise BackendUnavailableError(
                f"hardware_compatibility {spec.hardware_compatibility} is not available in "
                f"TensorRT {trt.__version__}", setting="hardware_compatibility")
        return (Applied("hardware_compatibility", "hardware_compatibility", level),)

    def read_compatibility(self, trt: Any, config: Any) -> HardwareCompatibility | None:
        level = config.hardware_compatibility_level.name
        return {v: k for k, v in _HARDWARE_LEVELS.items()}.get(level, "none")

    def precision_flag_settings(self, trt: Any, spec: EngineSpec,
                                version: str) -> tuple[Applied, ...]:
        if spec.precision_method != "builder_flags" or spec.precision == "fp32":
            return ()
        out = []
        for flag in _PRECISION_FLAGS[spec.precision]:
            if not hasattr(trt.BuilderFlag, flag):
                raise BackendUnavailableError(
                    f"precision_method builder_flags: BuilderFlag.{flag} is not available in "
                    f"TensorRT {version} (TensorRT 11 removed weak typing); use "
                    "`precision_method: model`", setting="precision_method")
            out.append(Applied("precision", "flag", flag))
        return tuple(out)

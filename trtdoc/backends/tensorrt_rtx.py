"""TensorRT-RTX: strongly typed, compiles ahead of time for chosen compute capabilities.

Measured with tensorrt-rtx 1.7 on a machine without a GPU: engines build on the CPU, targets
are set with ``config.num_compute_capabilities`` and ``config.set_compute_capability``, and
reading ``hardware_compatibility_level`` only logs "unsupported", so it is never read here.
"""

from __future__ import annotations

from typing import Any

from trtdoc.backends.base import Backend
from trtdoc.builder.calls import Applied
from trtdoc.errors import BackendUnavailableError
from trtdoc.spec.types import EngineSpec


class TensorRTRTXBackend(Backend):
    name = "tensorrt-rtx"
    display = "TensorRT-RTX"
    module_name = "tensorrt_rtx"
    distributions = ("tensorrt-rtx", "tensorrt_rtx")
    install_hint = "pip install tensorrt-rtx"
    unsupported = {
        "hardware_compatibility": "TensorRT-RTX has no hardware-compatibility modes; "
                                  "list compute capabilities in `targets` instead",
        "precision_method": "TensorRT-RTX is strongly typed and has no precision flags; "
                            "use `precision_method: model`",
    }

    def target_settings(self, trt: Any, spec: EngineSpec, version: str) -> tuple[Applied, ...]:
        if not spec.targets:
            return ()  # None means default: TensorRT-RTX picks the GPU it finds, else fails
        for target in spec.targets:
            if not hasattr(trt.ComputeCapability, target.upper()):
                raise BackendUnavailableError(
                    f"ComputeCapability.{target.upper()} is not available in TensorRT-RTX "
                    f"{version}; remove it from `targets`", setting="targets")
        return (Applied("targets", "compute_capabilities", value=list(spec.targets)),)

    def read_targets(self, trt: Any, config: Any) -> tuple[str, ...]:
        return tuple(config.get_compute_capability(i).name.lower()
                     for i in range(config.num_compute_capabilities))

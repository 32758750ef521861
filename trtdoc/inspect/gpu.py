"""A live engine as an Inspection: deserialised on a GPU host, read with its engine inspector.

:func:`gpu_runtime_available` is the check to make first; without a GPU (the normal case for
trtdoc), read the DETAILED build log instead (:mod:`trtdoc.inspect.build_log`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from trtdoc.errors import InspectError
from trtdoc.inspect.inspector_json import inspection_from_inspector_json
from trtdoc.inspect.types import Inspection, Memory


def gpu_runtime_available(trt_module: Any) -> tuple[bool, str]:
    """``(True, "")`` when ``trt_module`` can deserialise engines here, else ``(False, why)``.

    Asks the CUDA driver directly (cuInit, cuDeviceGetCount through ctypes) and never raises:
    a machine without a GPU is the normal case for trtdoc.
    """
    name = getattr(trt_module, "__name__", "the TensorRT module")
    for attr in ("Runtime", "LayerInformationFormat", "ILogger"):
        if not hasattr(trt_module, attr):
            return False, f"{name} has no {attr}, so it cannot deserialise engines"
    from trtdoc.backends.cuda import cuda_device_status

    try:
        return cuda_device_status()
    except (OSError, AttributeError) as exc:  # a libcuda without the symbols we call
        return False, f"the CUDA driver could not be queried ({exc})"


def inspection_from_engine(engine_bytes: bytes, trt_module: Any, *,
                           optimization_profile: int | None = 0,
                           onnx_nodes: Collection[str] | None = None) -> Inspection:
    """Deserialise ``engine_bytes`` with ``trt_module`` and read its engine inspector JSON.

    Needs a CUDA driver and a GPU the engine supports; check :func:`gpu_runtime_available`
    first. Without them, use :func:`inspection_from_build_log` on the build's log instead.
    """
    ok, why = gpu_runtime_available(trt_module)
    if not ok:
        raise InspectError(f"cannot deserialise the engine here: {why}. Read the layers from "
                           "the DETAILED build log instead")

    class _Collect(trt_module.ILogger):
        # The library never prints, so TensorRT's complaints become part of the error.
        def __init__(self) -> None:
            trt_module.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if "ERROR" in str(severity):
                self.errors.append(msg)

    logger = _Collect()
    runtime = trt_module.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(engine_bytes)
    if engine is None:
        detail = "; ".join(logger.errors) or "no message"
        raise InspectError(f"{trt_module.__name__} could not deserialise the engine ({detail});"
                           " it needs the TensorRT version and a GPU the engine was built for")
    inspector = engine.create_engine_inspector()
    text = inspector.get_engine_information(trt_module.LayerInformationFormat.JSON)
    inspection = inspection_from_inspector_json(
        text, optimization_profile=optimization_profile, onnx_nodes=onnx_nodes)
    activation = getattr(engine, "device_memory_size_v2", None)
    if activation is None:
        activation = getattr(engine, "device_memory_size", None)
    return Inspection(inspection.source, inspection.layers, inspection.io,
                      Memory(activation=int(activation) if activation is not None else None),
                      inspection.optimization_profile, inspection.profile_count)

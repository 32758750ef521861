"""Bare TensorRT-RTX builds in one process, one per target in order: does a failed build change
the next engine? Fresh logger, builder, network, parser and config for each; no trtdoc.

    python bench/after_failure.py ../shared/models/mobilenet_v2_035.onnx sm75 sm86 sm86
    python bench/after_failure.py ../shared/models/mobilenet_v2_035.onnx sm86

Measured with tensorrt-rtx 1.7.1 (CPU only): sm75 is refused ("FP32 GEMM is not supported"),
the sm86 build right after it is 8,462,628 or 8,462,644 bytes with 74 layers, the next sm86
build and one in a fresh process 7,067,276 bytes with 56 layers (sha256 2695d7ce8458d390...).
A model the parser refuses changes nothing. So trtdoc builds in a fresh process after a failed
build (``trtdoc.build.workers.FreshProcess``).
"""

from __future__ import annotations

import hashlib
import sys


def build(trt, model: str, target: str) -> str:  # type: ignore[no-untyped-def]
    messages: list[tuple[str, str]] = []

    class Logger(trt.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity, msg: str) -> None:  # type: ignore[no-untyped-def]
            messages.append((severity.name, msg))

    logger = Logger()
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(model):
        return f"{target}: the parser failed"
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        shape = [d if d > 0 else 1 for d in tensor.shape]
        profile.set_shape(tensor.name, shape, shape, [d if d > 0 else 2 for d in tensor.shape])
    config.add_optimization_profile(profile)
    config.num_compute_capabilities = 1
    config.set_compute_capability(getattr(trt.ComputeCapability, target.upper()), 0)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        errors = [m for s, m in messages if "ERROR" in s]
        return f"{target}: failed: {errors[-1] if errors else '?'}"
    data = bytes(plan)
    layers = next((m.count("\nName: ") for _, m in messages if m.startswith("Layers:")), 0)
    return (f"{target}: {len(data):,} bytes, {layers} layers, "
            f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")


def main(argv: list[str]) -> int:
    import tensorrt_rtx as trt

    model, *targets = argv
    for target in targets:
        print(build(trt, model, target), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

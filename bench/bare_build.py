"""The bare baseline: the TensorRT-RTX API calls trtdoc makes for one spec, and nothing else.

This is what a user would write by hand to build the same engine: parse the ONNX file, add the
optimisation profiles, set the workspace, optimisation level and compute-capability targets,
ask for DETAILED profiling verbosity with a logger that keeps every message (trtdoc reads the
layer information from them), build, and write the plan. It does not import trtdoc, so
``trtdoc build`` ÷ this script is trtdoc's own cost.

    python bench/bare_build.py MODEL.onnx OUT.plan \\
        --profile 'input=1x3x224x224:4x3x224x224:8x3x224x224' \\
        --workspace 1073741824 --opt-level 3 --targets sm86,sm89,sm120

``--profile`` may be given once per optimisation profile; inside one, inputs are separated
by ``,`` and each shape is ``min:opt:max`` with dimensions joined by ``x``.
"""

from __future__ import annotations

import argparse
import sys


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in text.split("x"))


def _profile(text: str) -> list[tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    out = []
    for part in text.split(","):
        name, shapes = part.split("=", 1)
        lo, mid, hi = (_shape(s) for s in shapes.split(":"))
        out.append((name, lo, mid, hi))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--profile", action="append", default=[], type=_profile)
    ap.add_argument("--workspace", type=int)
    ap.add_argument("--opt-level", type=int)
    ap.add_argument("--targets", default="")
    args = ap.parse_args(argv)

    import tensorrt_rtx as trt

    messages: list[tuple[str, str]] = []

    class Logger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: trt.ILogger.Severity, msg: str) -> None:
            messages.append((severity.name, msg))

    logger = Logger()
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(args.model):
        for i in range(parser.num_errors):
            print(parser.get_error(i), file=sys.stderr)
        return 1
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    for shapes in args.profile:
        profile = builder.create_optimization_profile()
        for name, lo, mid, hi in shapes:
            profile.set_shape(name, lo, mid, hi)
        config.add_optimization_profile(profile)
    if args.workspace is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, args.workspace)
    if args.opt_level is not None:
        config.builder_optimization_level = args.opt_level
    targets = [t for t in args.targets.split(",") if t]
    if targets:
        config.num_compute_capabilities = len(targets)
        for i, t in enumerate(targets):
            config.set_compute_capability(getattr(trt.ComputeCapability, t.upper()), i)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        print("build failed: " + "; ".join(m for s, m in messages if "ERROR" in s),
              file=sys.stderr)
        return 1
    with open(args.out, "wb") as f:
        f.write(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())

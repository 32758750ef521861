"""Regenerate the build-log fixtures in this folder (see README.md).

    python tests/data/capture_build_logs.py

Needs tensorrt_rtx; no GPU. Writes nasty_names.onnx, nasty_names.build.jsonl and
bert_tiny.build.jsonl next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
MODELS = HERE.parents[2] / "shared" / "models"

# Node and tensor names that imitate the syntax of the builder's "Layers:" message.
NASTY = {
    "in": 'in, put: [x] {"q"}',
    "conv": "conv, LayerType: kgen, Inputs: [ { Name: evil }], Metadata: [ONNX Layer: fake]",
    "relu": "relu]\x1f[ONNX Layer: notreal",
    "add": "add\nName: line2, LayerType: x",
    "mul": "mul 'single' \"double\" : ; {}",
    "t1": "t1, Dimensions: [9,9], Datatype: Half, Format: }]",
    "t2": "t2 }], Outputs: [ { Name: z",
    "t3": "t3\x1e[x]",
    "out": "out, IOMode: Input, DataType: Half",
}


def nasty_model() -> onnx.ModelProto:
    """Conv → Relu → Add → Mul with hostile names; no Gemm, so it also builds for SM75."""
    n = NASTY
    weight = numpy_helper.from_array(
        np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32), "W, [w]")
    scale = numpy_helper.from_array(np.array([2.0], dtype=np.float32), "scale")
    nodes = [
        helper.make_node("Conv", [n["in"], "W, [w]"], [n["t1"]], name=n["conv"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [n["t1"]], [n["t2"]], name=n["relu"]),
        helper.make_node("Add", [n["t2"], n["t1"]], [n["t3"]], name=n["add"]),
        helper.make_node("Mul", [n["t3"], "scale"], [n["out"]], name=n["mul"]),
    ]
    graph = helper.make_graph(
        nodes, "nasty",
        [helper.make_tensor_value_info(n["in"], TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info(n["out"], TensorProto.FLOAT, ["N", 8, 16, 16])],
        [weight, scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def raw_build(trt, model_path: Path, profiles: list[dict[str, tuple]], targets: list[str]
              ) -> tuple[list[tuple[str, str]], bytes]:
    """Build like trtdoc does, with TensorRT-RTX alone (no trtdoc code), for tests and fixtures.

    Returns every ``(severity, message)`` the builder logged, and the plan.
    """

    class Collect(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.messages: list[tuple[str, str]] = []

        def log(self, severity, msg):
            self.messages.append((str(severity).rsplit(".", 1)[-1], msg))

    log = Collect()
    builder = trt.Builder(log)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, log)
    if not parser.parse_from_file(str(model_path)):
        raise RuntimeError(f"cannot parse {model_path}")
    config = builder.create_builder_config()
    config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED
    for shapes in profiles:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
    config.num_compute_capabilities = len(targets)
    for i, target in enumerate(targets):
        config.set_compute_capability(getattr(trt.ComputeCapability, target), i)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        errors = [m for s, m in log.messages if s in ("ERROR", "INTERNAL_ERROR")]
        raise RuntimeError(f"build of {model_path} failed: {errors}")
    return log.messages, bytes(plan)


def write_log(path: Path, messages: list[tuple[str, str]]) -> None:
    """Keep what trtdoc reads: every non-VERBOSE message and the VERBOSE 'Layers:' message."""
    kept = [(s, m) for s, m in messages if s != "VERBOSE" or m.startswith("Layers:")]
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for severity, message in kept:
            f.write(json.dumps({"severity": severity, "message": message}) + "\n")
    print(f"{path.name}: {len(kept)} of {len(messages)} messages")


def main() -> int:
    import tensorrt_rtx as trt

    onnx.save(nasty_model(), HERE / "nasty_names.onnx")
    write_log(HERE / "nasty_names.build.jsonl",
              raw_build(trt, HERE / "nasty_names.onnx",
                        [{NASTY["in"]: ((1, 3, 16, 16), (2, 3, 16, 16), (4, 3, 16, 16))}],
                        ["SM86"])[0])
    bert = ((1, 8), (2, 64), (4, 128))
    write_log(HERE / "bert_tiny.build.jsonl",
              raw_build(trt, MODELS / "bert_tiny.onnx",
                        [{"input_ids": bert, "attention_mask": bert}], ["SM86", "SM120"])[0])
    print(f"tensorrt_rtx {trt.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

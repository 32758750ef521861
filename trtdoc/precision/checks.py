"""Checks a converted model must pass before it is built, and what their failures mean.

Runs ``onnx.checker`` (full check) and an onnxruntime CPU session, and turns their messages
into one line naming the node and, for known converter bugs, the bug.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trtdoc.errors import BuildError
from trtdoc.precision.graph import opset_of
from trtdoc.precision.recipe import PER_CHANNEL_MIN_OPSET

# Known ways converters break a model, by what the checker or onnxruntime says.
_TYPE_ORT = re.compile(r"Type \((tensor\(\w+\))\) of output arg \((.+?)\) of node \((.*?)\) "
                       r"does not match expected type \((tensor\(\w+\))\)")
_TYPE_CHECKER = re.compile(r"\(op_type:(\w+), node name: (.*?)\): \[TypeInferenceError\] "
                           r"Inferred elem type differs from existing elem type: \((\d+)\) vs "
                           r"\((\d+)\)")
_UNSORTED = re.compile(r"Nodes in a graph must be topologically sorted, however input '(.+?)' "
                       r"of node:\s*name: (.*?) OpType: (\w+)")
_BAD_ATTRIBUTE = re.compile(r"Unrecognized attribute: (\w+) for operator (\w+).*?Name: (.*?) "
                            r"OpType: (\w+)", re.S)
_ELEM = {1: "tensor(float)", 10: "tensor(float16)", 16: "tensor(bfloat16)", 11: "tensor(double)"}


def _subgraph_parent(proto: Any, node: str) -> tuple[str, str] | None:
    """``(name, op type)`` of the top-level If/Loop/Scan whose subgraph holds ``node``."""
    def holds(graph: Any) -> bool:
        return any(n.name == node or any(holds(a.g) for a in n.attribute if a.HasField("g"))
                   for n in graph.node)

    if any(n.name == node for n in proto.graph.node):
        return None
    for n in proto.graph.node:
        if any(a.HasField("g") and holds(a.g) for a in n.attribute):
            return n.name, n.op_type
    return None


def _diagnose(text: str, proto: Any) -> tuple[str, str, str]:
    """(node, op type, what is wrong) from a checker or onnxruntime message; '' if unknown."""
    ops = {n.name: n.op_type for n in proto.graph.node}
    if m := _TYPE_ORT.search(text):
        declared, tensor, node, computed = m.groups()
        op = ops.get(node, "")
        return node, op, _mistyped(op, tensor, declared, computed)
    if m := _TYPE_CHECKER.search(text):
        op, node, inferred, existing = m.groups()
        tensor = next((n_out for n in proto.graph.node if n.name == node
                       for n_out in n.output), "")
        return node, op, _mistyped(op, tensor, _ELEM.get(int(existing), existing),
                                   _ELEM.get(int(inferred), inferred))
    if m := _UNSORTED.search(text):
        tensor, node, op = m.groups()
        parent = _subgraph_parent(proto, node)
        if parent is not None:
            return node, op, (
                f"the nodes are not in topological order: {node!r} sits in a subgraph of "
                f"{parent[1]} {parent[0]!r} and reads {tensor!r} from the outer graph, where "
                "a later node makes it. onnxruntime.transformers.float16 appends the Casts it "
                "inserts at the end of the graph, and OnnxModel.topological_sort(), which "
                "trtdoc ran, does not see what a subgraph takes from outside, so it leaves "
                f"{parent[1]} {parent[0]!r} before that Cast")
        return node, op, (f"the nodes are not in topological order (its input {tensor!r} is "
                          "made by a later node). onnxruntime.transformers.float16 appends the "
                          "Casts it inserts at the end of the graph; "
                          "onnxruntime.transformers.onnx_model.OnnxModel(model)"
                          ".topological_sort() orders them")
    if m := _BAD_ATTRIBUTE.search(text):
        attribute, op, node, _ = m.groups()
        opset = opset_of(proto)
        if attribute == "axis" and op in ("QuantizeLinear", "DequantizeLinear") \
                and opset < PER_CHANNEL_MIN_OPSET:
            return node, op, (f"per-channel {op}(axis=...) needs opset >= "
                              f"{PER_CHANNEL_MIN_OPSET}, and the model declares opset {opset}. "
                              "Upgrade it first (onnx.version_converter.convert_version(model, "
                              f"{PER_CHANNEL_MIN_OPSET})) or quantize per tensor")
        return node, op, f"{op} has no attribute {attribute!r} in opset {opset}"
    return "", "", ""


def _mistyped(op: str, tensor: str, declared: str, computed: str) -> str:
    what = (f"the graph declares its output {tensor!r} as {declared}, but the node computes "
            f"{computed}")
    if op == "Cast" and (declared, computed) == ("tensor(float16)", "tensor(float)"):
        what += (": a Cast(to=float) whose output the converter typed fp16, as in "
                 "onnxconverter-common issue #320")
    return what


def check_converted(model: Path, *, converter: str, precision: str, engine: str = "") -> str:
    """Refuse a converted model that the ONNX checker or onnxruntime refuses.

    The checker runs with full type and shape inference; onnxruntime loads the model in a CPU
    session. A model onnxruntime cannot run only for want of a CPU kernel (bf16 convolutions)
    is not invalid and passes, and the returned text says so. A failure raises
    :class:`BuildError` naming ``converter`` (the call that made the model), the node and, for
    the known converter bugs, the bug. Returns what was checked, for the record.
    """
    import onnx
    import onnxruntime as ort

    proto = onnx.load(str(model), load_external_data=False)

    def refuse(checker: str, exc: Exception) -> BuildError:
        text = str(exc).strip()
        node, op, what = _diagnose(text, proto)
        if node:
            why = f"{checker} refuses node {node!r} ({op}): {what}"
        else:  # not a known pattern: the tool's own words, first line
            first = text.splitlines()[0][:300] if text else type(exc).__name__
            why = f"{checker} refuses it: {first}"
        return BuildError(
            f"{converter} made an invalid {precision} model: {why}. trtdoc does not build it; "
            "choose another precision, or report the model to the converter's maintainers",
            engine=engine, setting="precision")

    try:
        # A path, not the proto: the checker then reads external data and passes 2 GB.
        onnx.checker.check_model(str(model), full_check=True)
    except Exception as exc:  # ValidationError, InferenceError, and protobuf's own errors
        raise refuse("the ONNX checker", exc) from exc
    checked = "onnx.checker.check_model(full_check=True), onnxruntime.InferenceSession (CPU)"
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the library never prints
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind error types
        if "NOT_IMPLEMENTED" not in str(exc):
            raise refuse("onnxruntime", exc) from exc
        checked = ("onnx.checker.check_model(full_check=True); onnxruntime has no CPU kernel "
                   "for it, so it was not loaded there")
    return checked

"""The 16-bit float conversions: fp16 (onnxruntime's converter) and bf16 (ModelOpt AutoCast).

Both keep graph inputs and outputs fp32. fp16 also reports the weights it clamps, and puts
the nodes back in topological order, subgraph inputs included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trtdoc.precision.conversion import Conversion, python_call, save_model

# (op types, node names) kept in fp32: the spec's keep_fp32, sorted.
KeepFp32 = tuple[tuple[str, ...], tuple[str, ...]]

# The fp16 converter's range (onnxruntime.transformers.float16 defaults): smaller magnitudes
# become the smallest fp16 subnormal, larger ones the largest finite fp16.
_FP16_MIN_POSITIVE = 5.96e-08
_FP16_MAX_FINITE = 65504.0


def to_fp16(model: Path, out: Path, external: bool, keep: KeepFp32 = ((), ())) -> Conversion:
    """Convert ``model`` to fp16 at ``out`` (graph inputs and outputs stay fp32), in order.

    ``keep`` (op types, node names) stay fp32: the converter's block lists.
    """
    import onnx
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    options: dict[str, Any] = {"keep_io_types": True}
    ops, nodes = keep
    calls: tuple[str, ...] = ()
    if ops:  # the list replaces the converter's own, which must stay blocked too
        options["op_block_list"] = sorted(set(DEFAULT_OP_BLOCK_LIST) | set(ops))
    if nodes:
        options["node_block_list"] = list(nodes)
    ranges = _fp16_range_report(model)
    # A path lets the converter run shape inference on disk, past protobuf's 2 GB limit.
    loaded: Any = str(model) if external else onnx.load(str(model))
    # The converter keeps an initializer fp32 when only blocked nodes read it, but it converts
    # every Constant node (PaddlePaddle keeps all weights there): a blocked BatchNormalization
    # would still read a clamped variance.
    if keep != ((), ()) and not external and constants_to_initializers(loaded.graph):
        calls += ("trtdoc.precision.float16.constants_to_initializers(model.graph)",)
    why: dict[str, str] = {}  # a kept node -> the out-of-range weight it reads, for the page
    if not external:
        for node in loaded.graph.node:
            if node.name in nodes or node.op_type in ops:
                past = [ranges[i][1][-1] for i in node.input if i in ranges]
                if past:
                    why[node.name or node.op_type] = past[0]
    proto = convert_float_to_float16(loaded, **options)
    # The converter appends every Cast it inserts at the end of the graph, so a model with an
    # op it keeps in fp32 (Max, Min, TopK, Range...) comes out unsorted; the ONNX checker and
    # the onnx-tensorrt parser require topological order.
    OnnxModel(proto).topological_sort()
    moved = sort_with_subgraph_inputs(proto.graph)
    converted = {i.name for i in proto.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16}
    converted |= {n.output[0] for n in proto.graph.node if n.op_type == "Constant"
                  and any(a.name == "value" and a.t.data_type == onnx.TensorProto.FLOAT16
                          for a in n.attribute)}
    # A weight a constant subgraph computes is fp16 too, unless the node making it stays fp32.
    blocked = set(DEFAULT_OP_BLOCK_LIST) | set(ops)
    converted |= {n.output[0] for n in proto.graph.node if n.output and n.output[0] in ranges
                  and n.op_type != "Constant" and n.name not in nodes and n.op_type not in blocked}
    clamped = {k: v for k, v in ranges.items() if k in converted}
    note = _clamp_note(clamped)
    # The nodes reading a weight clamped to the largest fp16 value: that changes what the
    # layer computes by orders of magnitude (tiny values flushed to 6e-8 rarely matter).
    huge = {k for k, (_, _, above) in clamped.items() if above}
    readers = tuple(sorted({n.name for n in proto.graph.node if huge & set(n.input)}))
    save_model(proto, out, external)
    calls += (
        python_call("onnxruntime.transformers.float16.convert_float_to_float16", "model",
                    **options),
        "onnxruntime.transformers.onnx_model.OnnxModel(model).topological_sort()")
    # The name trtdoc.precision re-exports it under: the line a page prints to reproduce this.
    if moved:
        calls += ("trtdoc.precision.sort_with_subgraph_inputs(model.graph)",)
    return Conversion(calls=calls, notes=tuple(n for n in (note, kept_note(keep, why)) if n),
                      clamped_nodes=readers)


def kept_note(keep: KeepFp32, why: Mapping[str, str] | None = None) -> str | None:
    """The page's line for what ``keep_fp32`` kept, or None; ``why``: per kept node, the
    out-of-range weight value it reads (as "9.79e+07 -> 6.55e+04")."""
    ops, nodes = keep
    if not ops and not nodes:
        return None
    what = [f"op type(s) {', '.join(ops)}" if ops else "", f"node(s) {', '.join(nodes)}"
            if nodes else ""]
    reasons = "; ".join(f"{n} reads a weight the conversion would clamp ({v})"
                        for n, v in sorted((why or {}).items()))
    return (f"kept in fp32 by the spec's keep_fp32: {' and '.join(w for w in what if w)} "
            f"({reasons or 'their values stay out of the low precision'})")


def constants_to_initializers(graph: Any) -> bool:
    """Move each Constant node's ``value`` tensor of ``graph`` into its initializers, so the
    fp16 converter treats it as a weight; True if any moved."""
    kept = []
    moved = False
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 \
                and node.attribute[0].name == "value" and node.output:
            tensor = graph.initializer.add()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            moved = True
        else:
            kept.append(node)
    if moved:
        graph.ClearField("node")
        graph.node.extend(kept)
    return moved


def sort_with_subgraph_inputs(graph: Any) -> bool:
    """Order ``graph``'s nodes so each comes after what it and its subgraphs read.

    ``OnnxModel.topological_sort()`` sees only a node's own inputs, not the outer-graph values
    an If/Loop/Scan body reads, so a Cast the fp16 converter appended for such a value stays
    after the If that needs it (seen on silero-vad's op18 model). This is Kahn's algorithm over
    those implicit inputs too, keeping the present order where it is free. Returns True if
    any node moved.
    """
    def reads(node: Any) -> set[str]:
        names = {i for i in node.input if i}
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                made = {o for n in sub.node for o in n.output} | {i.name for i in sub.input} \
                    | {i.name for i in sub.initializer}
                names |= {r for n in sub.node for r in reads(n)} - made
        return names

    import heapq

    nodes = list(graph.node)
    producer = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    needs = [{producer[r] for r in reads(n) if r in producer and producer[r] != i}
             for i, n in enumerate(nodes)]
    users: list[list[int]] = [[] for _ in nodes]
    for i, deps in enumerate(needs):
        for d in deps:
            users[d].append(i)
    waiting = [len(deps) for deps in needs]
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)  # the lowest index first: the present order where it is free
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(nodes):
        return False  # a cycle: leave the graph as it is; the checker will say why
    if order == list(range(len(nodes))):
        return False
    graph.ClearField("node")
    graph.node.extend(nodes[i] for i in order)
    return True


def _fp16_range_report(model: Path) -> dict[str, tuple[int, tuple[str, ...], int]]:
    """Per float weight (initializer, Constant, or a constant subgraph's output): the values
    fp16 cannot hold, and their clamp.

    Read one tensor at a time (external data too), so it costs no more memory than the
    largest weight.
    """
    import math

    import numpy as np
    import onnx
    from onnx import numpy_helper

    from trtdoc.constant_folding import fold_constants

    proto = onnx.load(str(model), load_external_data=False)
    report: dict[str, tuple[int, tuple[str, ...], int]] = {}
    # Weights live in initializers or, in PaddlePaddle exports, in Constant nodes' values;
    # both are keyed by the tensor they hold. Constant subgraphs compute more (folded, bounded).
    tensors: list[tuple[str, Any]] = [
        (init.name, init) for init in proto.graph.initializer
        if init.data_type == onnx.TensorProto.FLOAT]
    tensors += [(node.output[0], a.t) for node in proto.graph.node if node.op_type == "Constant"
                for a in node.attribute if a.name == "value" and node.output
                and a.t.data_type == onnx.TensorProto.FLOAT]
    folded = fold_constants(model, proto)
    tensors += [(name, array) for name, array in (folded.values if folded else {}).items()
                if array.dtype == np.float32]
    for name, init in tensors:
        values = (init if isinstance(init, np.ndarray)
                  else numpy_helper.to_array(init, base_dir=str(model.parent))).ravel()
        magnitude = np.abs(values)
        tiny = (magnitude > 0) & (magnitude < _FP16_MIN_POSITIVE)
        huge = np.isfinite(values) & (magnitude > _FP16_MAX_FINITE)
        count = int(tiny.sum()) + int(huge.sum())
        if not count:
            continue
        examples = []
        for mask, pick, bound in ((tiny, np.argmin, _FP16_MIN_POSITIVE),
                                  (huge, np.argmax, _FP16_MAX_FINITE)):
            if mask.any():
                v = float(values[mask][pick(magnitude[mask])])
                examples.append(f"{v:.3g} -> {math.copysign(bound, v):.3g}")
        report[name] = (count, tuple(examples), int(huge.sum()))
    return report


def _clamp_note(report: Mapping[str, tuple[int, tuple[str, ...], int]]) -> str | None:
    """One line for the weight values the fp16 conversion clamped, or None."""
    if not report:
        return None
    examples = sorted({e for _, ex, _ in report.values() for e in ex})
    shown = ", ".join(examples[:3]) + (", ..." if len(examples) > 3 else "")
    count = sum(n for n, _, _ in report.values())
    return (f"{count} fp32 weight value(s) in {len(report)} tensor(s) outside the fp16 range "
            f"were clamped ({shown})")


def to_bf16(model: Path, out: Path, external: bool, keep: KeepFp32 = ((), ())) -> Conversion:
    """Convert ``model`` to bf16 at ``out`` with ModelOpt AutoCast (inputs and outputs fp32);
    ``keep`` (op types, node names) stay fp32: AutoCast's exclusions."""
    import re

    from modelopt.onnx.autocast import convert_to_mixed_precision

    options: dict[str, Any] = {"low_precision_type": "bf16", "keep_io_types": True}
    if keep[0]:
        options["op_types_to_exclude"] = list(keep[0])
    if keep[1]:  # AutoCast matches node names as regular expressions
        options["nodes_to_exclude"] = [f"^{re.escape(n)}$" for n in keep[1]]
    proto = convert_to_mixed_precision(onnx_path=str(model), **options)
    save_model(proto, out, external)
    note = kept_note(keep)
    return Conversion(calls=(python_call("modelopt.onnx.autocast.convert_to_mixed_precision",
                                         "onnx_path=model", **options),),
                      notes=(note,) if note else ())

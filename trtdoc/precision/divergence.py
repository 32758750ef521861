"""The first node whose output diverges between an fp32 model and its converted copy.

When an accuracy gate fails, both models run in onnxruntime (CPU, no graph optimisation) on one
sample with every intermediate tensor as an output. Tensors are matched by name: the converters
keep the names of the nodes and tensors they convert (onnxruntime's float16 converter and
``quantize_static`` add Cast and Q/DQ nodes with new names, which match nothing and are
skipped). The first node of the fp32 model, in its topological order, with a float output whose
cosine against fp32 falls below the gate's ``min_cosine`` (or that turns NaN or infinite) is
the one named.

Bounded: models of more than :data:`MAX_NODES` nodes, or files larger than :data:`MAX_BYTES`,
are not searched (every intermediate tensor of one sample is held in memory), and the result
says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_NODES = 4000
MAX_BYTES = 256 * 1024 * 1024  # the model file and its external data


@dataclass(frozen=True)
class Divergence:
    """``node`` (op ``op``) is the first whose output ``tensor`` diverges: ``cosine`` below
    ``bound``; ``skipped`` instead says why the search did not run."""

    node: str = ""
    op: str = ""
    tensor: str = ""
    cosine: float = 1.0
    bound: float = 0.0
    skipped: str = ""

    def sentence(self, precision: str, clamped: tuple[str, ...] = ()) -> str:
        """The failure line's part naming the node and the ``keep_fp32`` that keeps it;
        ``clamped``: the nodes the line already names as reading a clamped weight."""
        if self.skipped:
            return f"The first diverging node was not searched: {self.skipped}"
        what = repr(self.node) if self.node else f"an unnamed node making {self.tensor!r}"
        found = (f"The first node whose output diverges from fp32 in the {precision} model is "
                 f"{what} ({self.op}; cosine {self.cosine:.4g} < {self.bound:g} on one "
                 "sample, onnxruntime CPU)")
        if not self.node:  # keep_fp32 takes node names
            return f"{found}; give it a name in the model to keep it in fp32 with keep_fp32"
        if self.node in clamped:
            return f"{found}, one of those"
        return f"{found}; keep it in fp32 with `keep_fp32: {{nodes: [{self.node}]}}`"


def _cosine(a: Any, b: Any) -> float:
    import numpy as np

    r = np.asarray(a, dtype=np.float64).ravel()
    c = np.asarray(b, dtype=np.float64).ravel()
    if r.shape != c.shape or not np.isfinite(r).all():
        return 1.0  # not comparable: no verdict on this tensor
    if not np.isfinite(c).all():
        return 0.0  # NaN or inf where fp32 is finite
    rr, cc = float(np.dot(r, r)), float(np.dot(c, c))
    if rr == 0.0 and cc == 0.0:
        return 1.0
    if rr == 0.0 or cc == 0.0:
        return 0.0
    return float(np.dot(r, c)) / math.sqrt(rr * cc)


def _float_tensors(proto: Any) -> dict[str, int]:
    """Tensor name -> its elem type, for every value the graph's nodes make (inferred)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # inference is a help here, never a reason to fail
        inferred = proto
    types = {v.name: v.type.tensor_type.elem_type
             for v in (*inferred.graph.value_info, *inferred.graph.output)}
    return types


def _with_outputs(proto: Any, names: list[str], types: Mapping[str, int]) -> bytes:
    import onnx

    model = onnx.ModelProto()
    model.CopyFrom(proto)
    present = {o.name for o in model.graph.output}
    for name in names:
        if name not in present:
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(name, types[name], None))
    return model.SerializeToString()


def _run(data: bytes, names: list[str], feed: Mapping[str, Any]) -> dict[str, Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the library never prints
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    types = {i.name: i.type for i in session.get_inputs()}
    dtype = {"tensor(float)": "float32", "tensor(float16)": "float16",
             "tensor(int64)": "int64", "tensor(int32)": "int32"}
    inputs = {n: (feed[n].astype(dtype[types[n]]) if types[n] in dtype else feed[n])
              for n in types if n in feed}
    return dict(zip(names, session.run(names, inputs), strict=True))


def first_divergence(reference: Path, candidate: Path, feed: Mapping[str, Any], *,
                     min_cosine: float) -> Divergence | None:
    """The first node of ``reference`` whose float output in ``candidate`` has a cosine below
    ``min_cosine`` (or NaN/inf where fp32 is finite) on ``feed`` (one sample, by input name);
    None if none does, or if the models cannot be run so; a :class:`Divergence` with
    ``skipped`` set for models past the bounds."""
    import onnx

    size = sum(p.stat().st_size for p in reference.parent.iterdir()
               if p == reference or p.suffix in (".data", ".bin", ".weights"))
    if size > MAX_BYTES:
        return Divergence(skipped=f"{reference.name} and its data take {size:,} bytes; the "
                                  f"search runs for models up to {MAX_BYTES:,}")
    try:
        ref = onnx.load(str(reference))
        cand = onnx.load(str(candidate))
    except Exception:  # an unreadable model was refused before; say nothing more here
        return None
    if len(ref.graph.node) > MAX_NODES:
        return Divergence(skipped=f"{reference.name} has {len(ref.graph.node):,} nodes; the "
                                  f"search runs for models of up to {MAX_NODES:,}")
    float_types = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16,
                   onnx.TensorProto.DOUBLE)
    ref_types = _float_tensors(ref)
    cand_types = _float_tensors(cand)
    made = {o for n in cand.graph.node for o in n.output}
    # (node, op, tensor) in the fp32 model's order, for the float tensors both models make.
    order = [(n.name, n.op_type, o) for n in ref.graph.node if n.op_type != "Constant"
             for o in n.output if o and o in made and ref_types.get(o) in float_types
             and cand_types.get(o) in float_types]
    names = list(dict.fromkeys(o for _, _, o in order))
    if not names:
        return None
    try:
        want = _run(_with_outputs(ref, names, ref_types), names, feed)
        got = _run(_with_outputs(cand, names, cand_types), names, feed)
    except Exception:  # no CPU kernel (bf16), or a graph ORT refuses: no search, no noise
        return None
    for node, op, tensor in order:
        cosine = _cosine(want[tensor], got[tensor])
        if cosine < min_cosine:
            return Divergence(node=node, op=op, tensor=tensor,
                              cosine=float(f"{cosine:.6g}"), bound=min_cosine)
    return None

"""Refusals that lead somewhere: the ops TensorRT's ONNX parser refuses, where such ops come
from and what to do instead, and the next step after a builder assertion trtdoc recognises.

Measured with tensorrt-rtx 1.7.1 on 2026-12-07 (``tests/test_refusals.py`` repeats it):

* ONNX Runtime's ``quantize_dynamic`` of mobilenet_v2 writes ``DynamicQuantizeLinear`` x53,
  ``ConvInteger`` x52 and ``MatMulInteger`` x1 (of bert_tiny: ``DynamicQuantizeLinear`` x8,
  ``MatMulInteger`` x12), all standard ONNX ops; the parser refuses every one of them
  (``UNSUPPORTED_NODE``, description ``false``). ONNX Runtime's ``com.microsoft`` ops for such
  graphs (``DynamicQuantizeMatMul``, ``MatMulIntegerToFloat``, ...) are in a domain the parser
  does not read at all.
* An ``If`` whose branches give outputs of different shapes, with a condition computed from a
  graph input, parses and then fails inside the builder with
  ``MyelinCheckException: utils.cpp:...: CHECK(...) failed``. The same model with that input
  fixed as a constant builds: the parser imports only the branch taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Standard ONNX ops TensorRT's parser refuses, each with where such ops usually come from.
DYNAMIC_QUANTISATION = "dynamic quantisation"
REFUSED_OPS = {
    "DynamicQuantizeLinear": DYNAMIC_QUANTISATION,
    "ConvInteger": DYNAMIC_QUANTISATION,
    "MatMulInteger": DYNAMIC_QUANTISATION,
}
# ONNX Runtime's contrib ops for dynamically quantised graphs: its optimiser fuses the ops above
# into these when it saves an optimised model (from ONNX Runtime's contrib-op list; on the two
# models measured, quantize_dynamic itself wrote only the standard ops above).
DYNAMIC_QUANTISATION_CONTRIB = frozenset({
    "com.microsoft::DynamicQuantizeMatMul", "com.microsoft::MatMulIntegerToFloat",
    "com.microsoft::DynamicQuantizeLSTM", "com.microsoft::QAttention",
})

FROM_THE_FLOAT_MODEL = (
    "ONNX Runtime's dynamic quantisation (quantize_dynamic) writes these ops: start from the "
    "float model instead, and let trtdoc quantise it (`precision: int8` with `calibration` "
    "data writes the QuantizeLinear/DequantizeLinear pairs TensorRT reads)")


def refused_standard_ops(op_histogram: Iterable[tuple[str, int]]) -> list[str]:
    """Every standard op of the model the parser refuses, as ``Op`` or ``Op xN``, sorted."""
    return sorted(f"{op} x{n}" if n > 1 else op for op, n in op_histogram if op in REFUSED_OPS)


def dynamically_quantised(op_histogram: Iterable[tuple[str, int]]) -> bool:
    """Whether the model holds ops that ONNX Runtime's dynamic quantisation writes."""
    return any(REFUSED_OPS.get(op) == DYNAMIC_QUANTISATION
               or op in DYNAMIC_QUANTISATION_CONTRIB for op, _ in op_histogram)


def parser_errors_text(errors: Sequence[tuple[str, str, str]]) -> str:
    """The parser's errors ``(description, node, op)`` as one line: one entry per (op,
    description), with how many nodes and the first of them, so that 106 refused nodes of
    three ops read as three entries."""
    groups: dict[tuple[str, str], list[str]] = {}
    for desc, node, op in errors:
        groups.setdefault((op, desc), []).append(node)
    parts = []
    for (op, desc), nodes in groups.items():
        more = f" and {len(nodes) - 1} more" if len(nodes) > 1 else ""
        where = [f"node {nodes[0]!r}{more}"] if nodes[0] else []
        where += [f"op {op}"] if op else []
        parts.append(desc + (f" ({', '.join(where)})" if where else ""))
    return "; ".join(parts)


def builder_next_step(errors: Sequence[str], op_histogram: Iterable[tuple[str, int]]) -> str:
    """For a builder failure trtdoc recognises, the next step (``. <text>``); empty else."""
    ops = dict(op_histogram)
    text = " ".join(errors)
    if "If" in ops and ("MyelinCheckException" in text or "Assertion" in text):
        n = ops["If"]
        return (f". The model has {n} `If` node{'s' if n != 1 else ''} (control flow), and "
                "TensorRT-RTX failed inside its graph compiler: fix the graph inputs each "
                "`If` condition is computed from as constants in the model (the parser then "
                "imports only the branch taken), for example by constant folding with those "
                "inputs set, or use an export of the model without `If`")
    return ""

"""Findings: what a build tells you about its engine, computed from its record.

TREx had linters (convolution, reformat, slice, Q/DQ); users ask "why did this layer not fuse"
and "why is int8 slower than fp16". A record holds the engine's layers with the ONNX nodes
fused into each (the build log's Metadata), the requested precision, the build-log warnings,
the profiles and the sizes, and :func:`findings_from_record` turns them into a list of
:class:`Finding`: what, where (engine layers and ONNX nodes), why it matters and what to try.

The list is data in the record (``findings``), computed when ``trtdoc build`` or
``trtdoc import`` makes it; the page, ``trtdoc lint`` and the diff all read it through
:func:`current_findings`, which also says when it had to compute them (a record written before
findings existed holds ``null``) and refreshes the one finding that compares two records (the
engine's size against its fp32 variant, which can be rebuilt after this record was made).

How layers are read (measured on TensorRT-RTX 1.7 builds of magika, mobilenet_v2 and small
graphs): TensorRT-RTX compiles almost everything through Myelin, so there are no ``Reformat``
or ``Cast`` layers as in TensorRT 8-10. A Myelin kernel's name lists what it does,
``__myl_CastReplConc_myl0_1`` or ``__myl_Tran_myl0_54``; a kernel made only of data movement
(Cast, Move, Tran, Resh, Repl, Conc, Slic, Copy) is a reformat or cast layer, unless every
ONNX node it implements is the model's own data movement (a YOLOv8 C2f's Split and Concat,
its head's Concat and Reshape): those are what the model asked for. A layer's
``precision`` is the type of its inputs (see :func:`trtdoc.inspect.layer_precision`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trtdoc.inspect.types import Layer
    from trtdoc.model import ModelFacts
    from trtdoc.record.types import EngineRecord


from trtdoc.findings.types import KINDS, SEVERITIES, Finding, Severity
from trtdoc.inspect.types import myelin_ops
from trtdoc.spec.section import SpecSection
from trtdoc.values import QUANTIZED

# Thresholds, chosen from the builds in records/ (see the README's "Findings" section).
RESHAPE_SHARE_WARNING = 0.10  # reformat/cast layers: a warning from this share of layers ...
RESHAPE_COUNT_WARNING = 5  # ... and at least this many (a 5-layer graph has 2 layout moves)
RESHAPE_TIME_WARNING = 0.10  # ... or from this share of the measured time
PROFILE_RATIO_WARNING = 16  # max shape / opt shape, in elements
# The TensorRT data type of each precision below fp32 (keys: values.Precision).
_LOW: dict[str, str] = {"fp16": "Half", "bf16": "BFloat16", "int8": "Int8", "fp8": "FP8"}
_QUANTIZED: dict[str, str] = {p: _LOW[p] for p in QUANTIZED}
_MOVES = frozenset({"Cast", "Move", "Tran", "Resh", "Repl", "Conc", "Slic", "Copy", "Shuf"})
# ONNX ops that only move data. A kernel implementing nothing but such nodes of the model is
# the model's own Split/Concat/Reshape (YOLOv8's heads are full of them), not a copy TensorRT
# inserted, so ``reformat-cast`` does not count it. Cast is left out: a type change is what the
# finding is about, and the fp16 converter's casts are Cast nodes of the built model.
MODEL_MOVES = frozenset({
    "Concat", "DepthToSpace", "Expand", "Flatten", "Gather", "Identity", "Pad", "Reshape",
    "Slice", "SpaceToDepth", "Split", "Squeeze", "Tile", "Transpose", "Unsqueeze"})
# onnxruntime's fp16 converter names the casts it inserts so: Cast nodes even where the op
# types are unknown (a record read without its model).
_CONVERTER_CAST = re.compile(r"^graph_(input|output)_cast\d*$|_cast_to_fp(16|32)_node$")
_MATH_TYPES = re.compile(r"conv|gemm|correlation|matrixmultiply|fullyconnected", re.I)
_MATH_TOKENS = frozenset({"Fc", "Gemm", "Conv", "Matm"})


# --------------------------------------------------------------------------------------------
# Reading layers
# --------------------------------------------------------------------------------------------
def _tokens(layer: Layer) -> tuple[str, ...] | None:
    """The op abbreviations of a Myelin kernel's name; None for any other layer."""
    return myelin_ops(layer.name)


def _movement(layer: Layer) -> str | None:
    """"cast" or "reformat" for a layer that only converts types or layouts, else None."""
    kind = layer.type.lower()
    if kind == "cast":
        return "cast"
    if "reformat" in kind or kind in ("copy", "shuffle"):
        return "reformat"
    tokens = _tokens(layer)
    if tokens and set(tokens) <= _MOVES:
        return "cast" if "Cast" in tokens else "reformat"
    return None


def _math(layer: Layer) -> bool:
    """A convolution or GEMM (matrix multiply, fully connected) layer."""
    if _MATH_TYPES.search(layer.type):
        return True
    tokens = _tokens(layer)
    return bool(tokens and _MATH_TOKENS & set(tokens))


def _compute(layer: Layer) -> bool:
    return layer.type != "shape_call" and bool(layer.precision) and _movement(layer) is None


class _Ops:
    """ONNX op types by node name: from the built model where read, else from ORT's names."""

    def __init__(self, model: ModelFacts | None) -> None:
        self.known = dict(model.node_ops) if model is not None else {}
        self.pairs = tuple(model.qdq_pairs) if model is not None else ()

    def of(self, node: str) -> str:
        op = self.known.get(node)
        if op:
            return op
        for suffix in ("DequantizeLinear", "QuantizeLinear"):  # onnxruntime's QDQ names
            if node.endswith("_" + suffix):
                return suffix
        return "Cast" if _CONVERTER_CAST.search(node) else ""

    def model_moves(self, layer: Layer) -> bool | None:
        """Whether a data-movement layer implements only the model's own data movement
        (:data:`MODEL_MOVES`): True, False, or None where a fused node's op type is unknown
        and the others move data."""
        if not layer.fused:
            return False  # no ONNX node behind it: TensorRT inserted it
        found = [self.of(node) for node in layer.fused]
        if any(op and op not in MODEL_MOVES for op in found):
            return False
        return None if "" in found else True

    def histogram(self, nodes: Iterable[str]) -> tuple[str, ...]:
        counts = Counter(op for op in map(self.of, nodes) if op)
        return tuple(f"{op} ×{n}" if n > 1 else op
                     for op, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def qdq_pairs(self, nodes: Iterable[str]) -> list[tuple[str, str]]:
        if self.pairs:
            return list(self.pairs)
        names = set(nodes)
        return sorted((n[: -len("DequantizeLinear")] + "QuantizeLinear", n) for n in names
                      if n.endswith("_DequantizeLinear")
                      and n[: -len("DequantizeLinear")] + "QuantizeLinear" in names)


def _nodes(layers: Iterable[Layer]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for layer in layers:
        for node in layer.fused:
            seen.setdefault(node, None)
    return tuple(seen)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# --------------------------------------------------------------------------------------------
# The findings
# --------------------------------------------------------------------------------------------
def requested_precision(record: EngineRecord) -> str:
    """The precision the spec asked for ("" for an import, which has no spec)."""
    return record.spec.precision if isinstance(record.spec, SpecSection) else ""


def findings_from_record(record: EngineRecord, *, model: ModelFacts | None = None,
                         fp32: EngineRecord | None = None) -> tuple[Finding, ...]:
    """Every finding about ``record``'s engine, most severe first.

    ``model`` is the ONNX model the engine was built from (after the precision step), read by
    :func:`trtdoc.model.model_facts_from_onnx`: it gives the op types of fused nodes and the
    Q/DQ pairs. Without it, Q/DQ nodes are known by onnxruntime's names and no op types are
    shown. ``fp32`` is the fp32 variant (:func:`fp32_variant`) to compare the size with.
    """
    layers = list(record.inspection.layers)
    if record.inspection.profile_count > 1:  # one copy of the graph per profile: count one
        first = min((layer.profile for layer in layers), default=0)
        layers = [layer for layer in layers if layer.profile == first]
    ops = _Ops(model)
    wanted = requested_precision(record)
    out: list[Finding] = []
    out += _islands(layers, wanted, ops, _spec_keeps(record, ops))
    out += _movements(layers, ops)
    out += _qdq(layers, ops)
    out += _coverage(layers, wanted)
    out += _warnings(record)
    out += _profiles(record)
    out += _turing_gemms(record, layers)
    if fp32 is not None:
        out += size_finding(record, fp32)
    return tuple(sorted(out, key=lambda f: (-SEVERITIES.index(f.severity), KINDS.index(f.kind),
                                            f.what)))


def _spec_keeps(record: EngineRecord, ops: _Ops) -> Callable[[str], bool]:
    """Whether the spec's ``keep_fp32`` keeps an ONNX node in fp32 (by its name or op type)."""
    keep = record.spec.keep_fp32 if isinstance(record.spec, SpecSection) else None
    if keep is None:
        return lambda node: False
    names, types = frozenset(keep.nodes), frozenset(keep.ops)
    return lambda node: node in names or ops.of(node) in types


def _islands(layers: Sequence[Layer], wanted: str, ops: _Ops,
             by_spec: Callable[[str], bool]) -> list[Finding]:
    low = _LOW.get(wanted)
    if low is None:
        return []
    if wanted in _QUANTIZED:
        found = [la for la in layers if _compute(la) and la.precision == "Float"]
    else:
        # The fp16 converter keeps some ops in fp32 and names the casts it puts before them
        # "<tensor>_cast_to_fp32_node": such a layer computes in fp32 even where its input
        # (and so its precision) is fp16.
        found = [la for la in layers if (_compute(la) and la.precision == "Float") or any(
            n.endswith("_cast_to_fp32_node") for n in la.fused)]
    if not found:
        return []
    nodes = _nodes(found)
    # Myelin names a kernel's neighbours too (a GEMM's name in the kernel after it): a node
    # that an int8 convolution or GEMM also implements is not behind the fp32 math.
    in_math = set(_nodes(la for la in layers if _math(la) and la.precision in _LOW.values()))
    math = [n for n in nodes if n not in in_math and ops.of(n) not in (
        "Cast", "QuantizeLinear", "DequantizeLinear")]
    # What the spec's keep_fp32 keeps is kept on purpose: not blamed, and not advised against.
    behind = ops.histogram(n for n in math if not by_spec(n))
    on_purpose = ops.histogram(n for n in math if by_spec(n))
    label = "ONNX ops"
    kept = _fp16_kept_ops() if wanted not in _QUANTIZED else frozenset()
    if kept and any(b.split(" ×")[0] in kept for b in behind):
        behind = tuple(b for b in behind if b.split(" ×")[0] in kept)
        label = "ONNX ops the fp16 converter keeps in fp32"
    elif on_purpose and wanted not in _QUANTIZED:
        return [Finding(
            "precision-island", "info",
            f"{len(found)} of {len(layers)} layers compute in fp32 in this {wanted} engine "
            f"(ONNX ops the spec's keep_fp32 keeps in fp32: {', '.join(on_purpose)})",
            "the spec keeps these ops in fp32 on purpose; fp32 math is slower than "
            f"{wanted} and each fp32 island needs a cast on the way in and out",
            "nothing: this is what the spec's keep_fp32 asks for",
            layers=tuple(la.name for la in found), onnx_nodes=nodes,
            onnx_ops=tuple(b.split(" ×")[0] for b in on_purpose),
            numbers={"layers": len(found), "of_layers": len(layers),
                     "share_pct": _pct(len(found), len(layers))})]
    of = f"{len(found)} of {len(layers)} layers"
    shown = f" ({label}: {', '.join(behind)})" if behind else ""
    if wanted in _QUANTIZED:
        return [Finding(
            "precision-island", "info",
            f"{of} run in fp32 in this {wanted} engine{shown}",
            f"trtdoc's {wanted} step quantizes only Conv, ConvTranspose, Gemm and MatMul "
            "(onnxruntime QDQ); every other op stays fp32, not fp16, so between the "
            f"{wanted} layers the engine runs fp32 kernels and converts to and from {wanted}",
            "if these layers take the time (import a trtexec --exportProfile to see), compare "
            f"with an fp16 variant (variants: {{precision: [fp16, {wanted}]}}): fp16 can be "
            f"faster than {wanted} with fp32 between the GEMMs",
            layers=tuple(la.name for la in found), onnx_nodes=nodes,
            onnx_ops=tuple(b.split(" ×")[0] for b in behind),
            numbers={"layers": len(found), "of_layers": len(layers),
                     "share_pct": _pct(len(found), len(layers))})]
    return [Finding(
        "precision-island", "warning",
        f"{of} compute in fp32 in this {wanted} engine{shown}",
        "fp32 math is slower than fp16 and moves twice the bytes, and each fp32 island needs "
        "a cast on the way in and out",
        "the fp16 converter keeps ops it cannot convert safely (Max, Min, TopK, Range, ...) "
        "in fp32 and casts around them; rewrite those ops in the model (for example a Relu "
        "or Clip for a Max with a constant), or keep them if their time is small",
        layers=tuple(la.name for la in found), onnx_nodes=nodes,
        onnx_ops=tuple(b.split(" ×")[0] for b in behind),
        numbers={"layers": len(found), "of_layers": len(layers),
                 "share_pct": _pct(len(found), len(layers))})]


def _fp16_kept_ops() -> frozenset[str]:
    """The ops onnxruntime's fp16 converter (trtdoc's fp16 step) leaves in fp32; empty where
    onnxruntime is not installed (an import of a trtexec export, say)."""
    try:
        from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST
    except Exception:  # noqa: BLE001 - optional: without it every op is listed
        return frozenset()
    return frozenset(DEFAULT_OP_BLOCK_LIST)


def _movements(layers: Sequence[Layer], ops: _Ops) -> list[Finding]:
    found = [(la, kind) for la in layers if (kind := _movement(la)) is not None]
    # What the model asked for (its own Split, Concat, Reshape...) is not counted: the advice
    # below is about copies TensorRT inserted. Where op types are unknown, count and say so.
    own = [la for la, _ in found if ops.model_moves(la) is True]
    found = [(la, kind) for la, kind in found if la not in own]
    if not found:
        return []
    unknown = [la for la, _ in found if ops.model_moves(la) is None]
    kinds = Counter(kind for _, kind in found)
    moved = [la for la, _ in found]
    numbers: dict[str, int | float] = {
        "layers": len(moved), "casts": kinds["cast"], "reformats": kinds["reformat"],
        "of_layers": len(layers), "share_pct": _pct(len(moved), len(layers))}
    share = len(moved) / len(layers)
    text = (f"{len(moved)} reformat/cast layer{'s' * (len(moved) != 1)} of {len(layers)} "
            f"({numbers['share_pct']}%): {kinds['cast']} cast, {kinds['reformat']} reformat")
    time_share = 0.0
    timed = [la.time_ms for la in layers if la.time_ms is not None]
    if timed:
        total = sum(timed)
        spent = sum(la.time_ms or 0.0 for la in moved)
        time_share = spent / total if total else 0.0
        numbers.update(time_ms=round(spent, 6), time_pct=_pct(spent, total))
        text += f"; {spent:.4g} ms, {numbers['time_pct']}% of the measured time"
    if own:
        numbers["model_moves"] = len(own)
        text += (f"; not counted: {len(own)} that implement the model's own "
                 f"{', '.join(sorted({ops.of(n) for n in _nodes(own)}))}")
    if unknown:
        numbers["unknown_ops"] = len(unknown)
        why_unknown = ("the record was read without its model" if not ops.known
                       else "not in the model that was read")
        text += (f"; counted, though they may be the model's own Split/Concat/Reshape: "
                 f"{len(unknown)} whose ONNX nodes have unknown op types ({why_unknown})")
    warn = ((share >= RESHAPE_SHARE_WARNING and len(moved) >= RESHAPE_COUNT_WARNING)
            or time_share >= RESHAPE_TIME_WARNING)
    nodes = _nodes(moved)
    io_casts = any(n.startswith(("graph_input_cast", "graph_output_cast")) for n in nodes)
    fix = ("look at the layers on both sides of each: a precision change between "
           "neighbours (an op kept in another precision) or a Transpose/Reshape in the model "
           "forces a copy; keep neighbouring ops in one precision and layout")
    if io_casts:
        fix += ("; the casts at the graph's inputs and outputs are the converter's "
                "keep_io_types (I/O stays fp32), which the caller would otherwise do")
    if unknown:
        fix += ("; build, or import with --model, so that trtdoc reads the op types and "
                "leaves the model's own data movement out")
    return [Finding(
        "reformat-cast", "warning" if warn else "info", text,
        "these layers do no math: each reads and writes a whole tensor to change its type or "
        "memory layout, and is one more kernel launch",
        fix, layers=tuple(la.name for la in moved), onnx_nodes=nodes,
        onnx_ops=tuple(b.split(" ×")[0] for b in ops.histogram(nodes)), numbers=numbers)]


def _qdq(layers: Sequence[Layer], ops: _Ops) -> list[Finding]:
    where: dict[str, list[Layer]] = {}
    for layer in layers:
        for node in layer.fused:
            where.setdefault(node, []).append(layer)
    pairs = [(q, dq) for q, dq in ops.qdq_pairs(where) if dq in where]
    if not pairs:
        return []
    def int8_math(node: str) -> bool:
        return any(_math(la) and la.precision in ("Int8", "FP8") for la in where.get(node, ()))

    # A pair is fused when an int8 convolution or GEMM reads its DQ or writes its Q.
    lonely = [(q, dq) for q, dq in pairs if not int8_math(q) and not int8_math(dq)]
    if not lonely:
        return []
    hit = [la for la in layers if any(n in la.fused for pair in lonely for n in pair)]
    nodes = tuple(n for pair in lonely for n in pair)
    return [Finding(
        "qdq-unfused", "warning",
        f"{len(lonely)} of {len(pairs)} Q/DQ pairs do not feed an int8 convolution or GEMM "
        "(they round a tensor to int8 and back inside fp32 kernels)",
        "a Q/DQ pair that no int8 layer consumes only rounds the tensor to int8 and back: it "
        "costs a quantize kernel and accuracy and saves no math",
        "leave the op that reads this tensor out of quantization (onnxruntime's "
        "nodes_to_exclude, or quantize fewer op types), or quantize it only where the "
        "consumer has an int8 kernel",
        layers=tuple(la.name for la in hit), onnx_nodes=nodes,
        numbers={"pairs": len(lonely), "of_pairs": len(pairs)})]


def _coverage(layers: Sequence[Layer], wanted: str) -> list[Finding]:
    dtype = _QUANTIZED.get(wanted)
    if dtype is None:
        return []
    math = [la for la in layers if _math(la)]
    if not math:
        return []
    covered = [la for la in math if la.precision == dtype]
    missed = [la for la in math if la.precision != dtype]
    numbers = {"layers": len(covered), "of_layers": len(math),
               "coverage_pct": _pct(len(covered), len(math))}
    if not missed:
        return [Finding(
            "int8-coverage", "info",
            (f"all {len(math)} convolution and GEMM layers run in {wanted}" if len(math) > 1
             else f"the one convolution or GEMM layer runs in {wanted}"),
            f"{wanted} pays off in convolutions and GEMMs; these all use it",
            "nothing to change", layers=tuple(la.name for la in covered),
            onnx_nodes=_nodes(covered), numbers=numbers)]
    severity: Severity = "error" if not covered else "warning"
    mix = ", ".join(f"{p or 'unknown'} {n}" for p, n in sorted(
        Counter(la.precision for la in missed).items()))
    return [Finding(
        "int8-coverage", severity,
        f"{len(covered)} of {len(math)} convolution and GEMM layers run in {wanted} "
        f"({numbers['coverage_pct']}%); the others: {mix}",
        f"a convolution or GEMM outside {wanted} runs at its higher precision's speed; with "
        f"none in {wanted} the engine has the cost of quantization and none of the gain",
        "check that the quantizer put Q/DQ on both inputs of these nodes (onnxruntime "
        "quantizes a node only if calibration saw it and its op type is listed); a layer "
        "TensorRT has no int8 kernel for stays in its input precision",
        layers=tuple(la.name for la in missed), onnx_nodes=_nodes(missed), numbers=numbers)]


# Warning kinds: (kind, pattern, severity, why, what to try). The first match wins.
_WARNING_KINDS: tuple[tuple[str, re.Pattern[str], Severity, str, str], ...] = (
    ("weights clamped to the fp16 range",
     re.compile(r"clamp|outside the fp16 range|out of (the )?fp16 range|subnormal", re.I),
     "warning",
     "values beyond ±65504 (or below fp16's smallest) were changed; outputs that depend on "
     "them change too",
     "check the accuracy figures against fp32; keep the layers with those weights in fp32 "
     "or rescale the weights"),
    ("tactics skipped for memory",
     re.compile(r"tactic.*(memory|workspace|skip)|insufficient (workspace|memory)|"
                r"requested size", re.I),
     "warning",
     "TensorRT did not try the kernels that needed more memory than allowed, so a faster "
     "one may have been left out",
     "raise memory.workspace (or memory.tactic_shared_memory) and build again"),
    ("int64 inputs kept as int64",
     re.compile(r"Int64 binding", re.I), "info",
     "the engine reads these inputs as int64, as the model declares them",
     "pass int64 arrays at run time; nothing to change in the build"),
)


def _turing_gemms(record: EngineRecord, layers: Sequence[Layer]) -> list[Finding]:
    """FP32 GEMMs in a TensorRT-RTX plan compiled for Turing (trtdoc.compat.hazards)."""
    from trtdoc.compat.hazards import TURING, TURING_FP32_GEMM_SOURCES, fp32_gemm_layers

    header = record.header
    if header is None or header.backend != "tensorrt-rtx" or \
            TURING not in header.compute_capabilities:
        return []
    gemms = fp32_gemm_layers(layers)
    if not gemms:
        return []
    return [Finding(
        "turing-fp32-gemm", "error",
        f"{len(gemms)} FP32 GEMM layer{'s' * (len(gemms) != 1)} in a plan compiled for sm75",
        "TensorRT-RTX does not support FP32 GEMMs on Turing: a dynamic-shape one runs and "
        "returns zeros without an error, a static one gets no execution context (sources: "
        + "; ".join(TURING_FP32_GEMM_SOURCES[:3]) + ")",
        "build this engine in fp16 (`precision: fp16`) for sm75, or leave sm75 out of "
        "`targets`", layers=gemms, onnx_nodes=_nodes(x for x in layers if x.name in gemms),
        numbers={"layers": len(gemms)})]


def _warnings(record: EngineRecord) -> list[Finding]:
    messages = [("build log", m) for m in record.warnings]
    notes = record.precision.notes if record.precision is not None else ()
    messages += [("precision step", n) for n in notes if _WARNING_KINDS[0][1].search(n)]
    groups: dict[str, list[tuple[str, str]]] = {}
    for source, message in messages:
        kind = next((k[0] for k in _WARNING_KINDS if k[1].search(message)), "other")
        groups.setdefault(kind, []).append((source, message))
    out = []
    for kind, items in groups.items():
        rule = next((k for k in _WARNING_KINDS if k[0] == kind), None)
        sources = sorted({s for s, _ in items})
        first = items[0][1].strip()
        more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
        out.append(Finding(
            "build-warnings", rule[2] if rule else "info",
            f"{len(items)} {' and '.join(sources)} warning{'s' * (len(items) != 1)}: {kind}: "
            f"{first}{more}",
            rule[3] if rule else "TensorRT warned while building; read what it says",
            rule[4] if rule else f"read the full build log (build/logs/{record.name}.build.log)",
            numbers={"warnings": len(items)}))
    return out


def _elements(dims: Sequence[int]) -> int:
    n = 1
    for d in dims:
        n *= max(d, 0)
    return n


def _profiles(record: EngineRecord) -> list[Finding]:
    out = []
    for tensor in record.inspection.io:
        if tensor.mode != "Input":
            continue
        for index, shape in enumerate(tensor.profiles):
            opt, top = _elements(shape.opt), _elements(shape.max)
            if not opt or top < PROFILE_RATIO_WARNING * opt:
                continue
            ratio = top / opt
            out.append(Finding(
                "profile-range", "warning",
                f"profile {index}: input {tensor.name!r} max {list(shape.max)} is {ratio:.3g}× "
                f"its opt {list(shape.opt)} in elements",
                "TensorRT picks kernels for the opt shape and sizes activation memory for "
                "max; shapes far from opt can run much slower than at opt",
                "add a profile whose opt is near the large shapes you serve, or lower max to "
                "what you serve",
                tensors=(tensor.name,),
                numbers={"profile": index, "ratio": round(ratio, 3),
                         "opt_elements": opt, "max_elements": top}))
    return out


def size_finding(record: EngineRecord, fp32: EngineRecord) -> list[Finding]:
    """The ``larger-than-fp32`` finding, when this engine is larger than its fp32 variant."""
    mine, base = record.engine_bytes, fp32.engine_bytes
    if not mine or not base or mine <= base:
        return []
    ratio = mine / base
    w, bw = record.inspection.memory.weights, fp32.inspection.memory.weights
    weights = (f"; weights {w:,} B against {bw:,} B ({w / bw:.2f}×)" if w and bw else "")
    wanted = requested_precision(record) or "this"
    return [Finding(
        "larger-than-fp32", "warning",
        f"the {wanted} engine is {mine:,} B, {ratio:.2f}× its fp32 variant {fp32.name} "
        f"({base:,} B){weights}",
        "a lower precision should make the plan smaller; here the kernels compiled for it "
        "outweigh what the smaller weights save",
        f"deploy the fp32 or fp16 engine where size matters, build for fewer targets, or keep "
        f"{wanted} only if it is faster on the GPU",
        numbers={"bytes": mine, "fp32_bytes": base, "ratio": round(ratio, 3)})]

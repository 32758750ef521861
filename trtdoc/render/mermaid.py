"""The Mermaid diagrams of an engine page: the build flow and the largest fusions (the charts
are in ``charts.py``).

Labels are escaped (``escape.mermaid_label``) and node ids are generated (``n0``, ``n1``...),
never made from names; a diagram is trusted Markdown built from escaped parts.
"""

from __future__ import annotations

from typing import Any

from trtdoc.record.types import EngineRecord
from trtdoc.render import parameters
from trtdoc.render.compatibility import compat_row
from trtdoc.render.escape import is_number, mermaid_label, one_line, shown, truncate
from trtdoc.render.tolerant import tolerant
from trtdoc.spec.section import SpecSection
from trtdoc.values import HALF_PRECISIONS, QUANTIZED

# Diagram limits that keep a page usable for engines with hundreds of layers.
LABEL_LIMIT = 48
# A fusion-diagram label: lines of at most this many characters, at most two, so that its two
# columns stay legible (≥ 12 px) in mkdocs-material's 688 px content column at 1,280 px wide.
FUSION_LINE = 24
FUSION_GROUPS_SHOWN = 6
FUSED_NODES_SHOWN = 4


class _Graph:
    """A Mermaid flowchart under construction, with generated node ids."""

    def __init__(self, direction: str = "LR") -> None:
        self.lines = [f"flowchart {direction}"]
        self.count = 0
        self.skipped: list[str] = []

    def node(self, label: str, *more: str, taken: bool = True, shape: str = "rect",
             limit: int = 0) -> str:
        """Add a node; ``more`` are further lines of its label (a narrow node keeps a
        top-to-bottom diagram's text legible on a laptop); ``limit`` shortens labels made
        from (long, untrusted) names. Each line is escaped; only the breaks are markup."""
        nid = f"n{self.count}"
        self.count += 1
        text = "<br>".join(mermaid_label(line, limit) for line in (label, *more) if line)
        opened, closed = {"rect": ('["', '"]'), "round": ('("', '")'),
                          "stadium": ('(["', '"])')}[shape]
        self.lines.append(f"    {nid}{opened}{text}{closed}")
        if not taken:
            self.skipped.append(nid)
        return nid

    def edge(self, a: str, b: str, *, taken: bool = True) -> None:
        self.lines.append(f"    {a} {'-->' if taken else '-.->'} {b}")

    def text(self) -> str:
        lines = list(self.lines)
        if self.skipped:
            # Transparent with mid-grey text and a dashed border: readable in light and dark.
            lines.append("    classDef skipped fill:transparent,stroke:#9e9e9e,"
                         "stroke-dasharray:4 3,color:#9e9e9e")
            lines.append(f"    class {','.join(self.skipped)} skipped")
        return "\n".join(lines)


def _plain_flow(record: EngineRecord) -> str:
    g = _Graph("LR")
    g.edge(g.node("ONNX model"), g.node("TensorRT build"))
    g.node("build path not drawn: the record holds a value of the wrong type", taken=False)
    return g.text()


@tolerant(_plain_flow)
def build_flow(record: EngineRecord) -> str:
    """The path this build took, as a Mermaid flowchart; branches not taken are dashed."""
    g = _Graph("TB")
    spec = record.spec if isinstance(record.spec, SpecSection) else None
    model = record.model
    imported = spec is None
    precision = "fp32" if spec is None else spec.precision
    method = "model" if spec is None else spec.precision_method
    layers = len(record.inspection.layers)

    if imported:
        onnx = g.node("ONNX model (not recorded)", taken=False)
    else:
        opset = model.default_opset if model is not None else None
        words = (shown(lambda n: f"{n:,}", model.nodes) + " nodes" if model is not None
                 else "facts not read")
        onnx = g.node(f"ONNX model: {words}" + (f", opset {one_line(opset)}" if opset else ""))

    # The precision step: exactly one of these branches was taken.
    fp32 = g.node("fp32:", "no conversion", taken=not imported and precision == "fp32")
    cast_taken = not imported and precision in HALF_PRECISIONS and method == "model"
    info = record.precision
    tool = f"({one_line(info.tool)})" if cast_taken and info is not None and info.tool else ""
    cast = g.node(precision if cast_taken else "/".join(HALF_PRECISIONS), "conversion", tool,
                  taken=cast_taken)
    quant_taken = not imported and precision in QUANTIZED and method == "model"
    batches = info.calibration_batches if info is not None else None
    calib = g.node("Calibration", f"data: {one_line(batches)} batches" if batches else "data",
                   taken=quant_taken)
    scales = g.node("Scale factors", taken=quant_taken)
    qdq_count = info.qdq_nodes if info is not None else None
    qdq = g.node(precision.upper() if quant_taken else "/".join(QUANTIZED).upper(),
                 "Q/DQ nodes" + (f": {one_line(qdq_count)}" if qdq_count else ""),
                 taken=quant_taken)
    flags_taken = not imported and method == "builder_flags" and precision != "fp32"
    flags = g.node("Builder flag", f"--{precision}" if flags_taken else "(fp16, int8, ...)",
                   taken=flags_taken)

    # TensorRT parses the model the precision step wrote, where one ran.
    parsed = (info.nodes_after if info is not None else None) if (cast_taken or quant_taken) \
        else (model.nodes if model is not None else None)
    counted = is_number(parsed) and isinstance(parsed, int)
    nodes_in = shown(lambda n: f"{n:,}", parsed) + " ONNX nodes" if counted else "ONNX nodes"
    parse = g.node(shown(lambda n: f"Parse ONNX: {n:,} nodes", parsed) if counted
                   else "Parse ONNX", taken=not imported)
    optimise = g.node("Graph optimisation", f"{nodes_in} to {layers:,} engine layers",
                      taken=not imported)
    level = next((s.effective for s in record.settings if s.key == "optimization_level"), None)
    tactics = g.node("Tactic selection" + (f" (level {one_line(level)})" if level is not None
                                           else ""),
                     taken=not imported)
    size = shown(parameters.format_bytes, record.engine_bytes) if record.engine_bytes else ""
    serialise = g.node(f"Serialise{': ' + size if size else ''}", shape="round")

    g.edge(onnx, fp32, taken=fp32 not in g.skipped)
    g.edge(onnx, cast, taken=cast not in g.skipped)
    g.edge(onnx, calib, taken=calib not in g.skipped)
    g.edge(calib, scales, taken=scales not in g.skipped)
    g.edge(scales, qdq, taken=qdq not in g.skipped)
    g.edge(onnx, flags, taken=flags not in g.skipped)
    for step in (fp32, cast, qdq, flags):
        g.edge(step, parse, taken=step not in g.skipped and parse not in g.skipped)
    g.edge(parse, optimise, taken=parse not in g.skipped)
    g.edge(optimise, tactics, taken=optimise not in g.skipped)
    g.edge(tactics, serialise, taken=tactics not in g.skipped)

    row = compat_row(record)
    if record.backend == "tensorrt-rtx":
        for target in row.compiled_for or ("default targets",):
            g.edge(serialise, g.node(target, shape="stadium"))
    else:
        g.edge(serialise, g.node(f"runs on: {one_line(row.compiled_source)}", shape="stadium",
                                 taken=record.engine_bytes is not None))
    return g.text()


def _wrapped(name: Any, width: int = FUSION_LINE, lines: int = 2) -> tuple[str, ...]:
    """``name`` on up to ``lines`` lines of ``width`` characters, the last cut with an
    ellipsis (the layer table has every name whole)."""
    text = one_line(name)
    out = [text[i:i + width] for i in range(0, min(len(text), width * (lines - 1)), width)]
    rest = text[width * (lines - 1):]
    return (*out, truncate(rest, width)) if rest else (*out,) or ("",)


def fusion_flow(record: EngineRecord) -> str | None:
    """The largest fusions (ONNX nodes → one engine layer) as a flowchart, or None."""
    groups = sorted(enumerate(record.inspection.fusion_groups()),
                    key=lambda ig: (-len(ig[1].fused), ig[0]))[:FUSION_GROUPS_SHOWN]
    if not groups:
        return None
    g = _Graph("LR")
    for _, layer in sorted(groups, key=lambda ig: ig[0]):
        target = g.node(*_wrapped(layer.name), f"({truncate(layer.type, FUSION_LINE)})",
                        shape="round")
        for onnx_name in layer.fused[:FUSED_NODES_SHOWN]:
            g.edge(g.node(*_wrapped(onnx_name)), target)
        hidden = len(layer.fused) - FUSED_NODES_SHOWN
        if hidden > 0:
            g.edge(g.node(f"... and {hidden} more ONNX nodes"), target)  # an int: len()
    return g.text()

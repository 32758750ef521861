"""The render stage: build records → Markdown pages of the mkdocs site.

Pages are Jinja2 templates fed with view data computed here. Output is deterministic: every
collection is sorted (layers keep engine order), nothing reads the clock, tables are unpadded
and lines end in ``\\n``. :func:`plan_site` returns the bytes of every page without touching
the disk (``trtdoc build --check`` compares them with the files); :func:`render_site` writes
only the files whose bytes differ and removes generated pages whose record is gone.

Untrusted names reach a page only through the filters in ``escape.py``: ``cell`` for table
cells and text, ``code`` for inline code, ``mlabel`` for Mermaid labels, ``codeblock`` for
fenced code; ``attr`` (here) for a double-quoted HTML attribute, the hover text of a
deployment verdict. Escaping is also the default: the environment's ``finalize`` hook escapes
every ``{{ }}`` output that is not :class:`~markupsafe.Markup` as Markdown text, so a number from a
hand-edited record (an opset of ``<script>``) cannot reach a page raw even where a template
prints it unfiltered. The filters, and the helpers here that build trusted Markdown (Mermaid
diagrams from escaped labels), return Markup so nothing is escaped twice. Mermaid node ids
are generated (``n0``, ``n1``...), never made from names.

Records are decoded strictly, but pages are rendered defensively as well: every formatter is
total (a string where a number belongs is shown as text, never a crash), and a computation in
another stage that fails on a wrong-typed value falls back to showing the raw values.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup

from trtdoc import findings, parameters, render_cache
from trtdoc.compat import matrix as compat
from trtdoc.compat import verdicts
from trtdoc.compat.data import RULES
from trtdoc.compat.deploy import Deployment, Target
from trtdoc.diff import Change, Changes, Diff, changes_between
from trtdoc.errors import RenderError
from trtdoc.escape import (
    autolink,
    code_block,
    code_cell,
    front_matter_str,
    is_number,
    md_cell,
    mermaid_label,
    one_line,
    plain,
    shown,
    slug,
    truncate,
)
from trtdoc.header import EngineFacts
from trtdoc.inspect import IOTensor, Layer, ProfileShape
from trtdoc.layer_table import extra_pages, paging_from_layers  # issue 13: paged layer tables
from trtdoc.model import ModelFacts
from trtdoc.record import EngineRecord, ModelFile, NotRun, write_atomic
from trtdoc.reproduce import reproduce_context

T = TypeVar("T")

# Every generated page starts with this line (after its front matter); only files that do are
# ever removed.
GENERATED_MARK = render_cache.GENERATED_MARK
ENGINES_DIR = "engines"
# Diagram limits that keep a page usable for engines with hundreds of layers.
LABEL_LIMIT = 48
# A fusion-diagram label: lines of at most this many characters, at most two, so that its two
# columns stay legible (≥ 12 px) in mkdocs-material's 688 px content column at 1,280 px wide.
FUSION_LINE = 24
FUSION_GROUPS_SHOWN = 6
FUSED_NODES_SHOWN = 4

@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_site` did, as paths under the site folder."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    removed: tuple[Path, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# The template environment
# --------------------------------------------------------------------------------------------
shipped_templates = render_cache.shipped_templates


def _bytecode_cache(filters: Mapping[str, Any]) -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling costs ~0.2 s of every ``trtdoc build``.

    Jinja keys each entry on the template's source checksum, so an edited template is never
    served stale. Where no cache folder can be made, templates are simply compiled each time.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    # Compiled code bakes in how each filter is called (Jinja passes the eval context to its
    # own join, not to ours), so the filter set is part of the key as well as the source.
    calls = repr(sorted((n, str(getattr(f, "jinja_pass_arg", ""))) for n, f in filters.items()))
    key = hashlib.sha256(calls.encode()).hexdigest()[:12]
    folder = Path(base) / "trtdoc" / f"jinja-{jinja2.__version__}-{key}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


# What code that expects well-typed record values raises on a hand-edited one: a string where
# an int belongs (int("<b>"), f"{x:,}"), a float too large for 10**400, a None, a list where a
# string belongs (unhashable, unsortable against str), a missing key.
_BAD_VALUE = (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError)


def _tolerant(fallback: Callable[..., Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a view computation; on a wrong-typed record value, ``fallback(*args)`` instead.

    Records are decoded strictly (``record.py``), so the fallbacks are for records built or
    edited around the decoder: the page still renders, showing what it can escaped.
    """
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except _BAD_VALUE:
                return fallback(*args, **kwargs)  # type: ignore[no-any-return]
        return run
    return wrap


def _seq(value: Any) -> tuple[Any, ...]:
    """A list or tuple as a tuple; ``None`` as empty; any other single value as one item."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """``(key, value)`` rows from pairs or a mapping; a malformed entry is ``(entry, "")``."""
    entries = list(value.items()) if isinstance(value, Mapping) else _seq(value)
    return [tuple(e) if isinstance(e, (list, tuple)) and len(e) == 2 else (e, "")
            for e in entries]


def _join(value: Any, separator: str = "") -> str:
    """Jinja's ``join`` for any value: items as text (``str`` fails on a 5000-digit int)."""
    return str(separator).join(plain(v) for v in _seq(value))


def _output_type(layer: Any) -> Any:
    try:
        return layer.output_type
    except _BAD_VALUE:
        return ""


def _text_key(value: Any) -> str:
    return one_line(value)


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` output: Markup as it is, anything else escaped as Markdown text."""
    return value if isinstance(value, Markup) else md_cell(value)


def _total(fmt: Any, *, none: bool = True) -> Any:
    def format_value(value: Any) -> str:
        return shown(fmt, value, none=none)

    format_value.__doc__ = f"{fmt.__name__}, or the value as text when it is not a number."
    return format_value


def _length(value: Any) -> Any:
    """``len`` of a collection; anything else (a number where a list belongs) as it is."""
    if isinstance(value, (list, tuple, Mapping, set, frozenset)):
        return len(value)
    return value


def _shape(dims: Any) -> str:
    if dims is None or isinstance(dims, (list, tuple)):
        try:
            return parameters.format_shape(tuple(one_line(d) for d in dims or ()))
        except (TypeError, ValueError):
            pass
    return one_line(dims)


def html_attr(value: Any) -> Markup:
    """Text for a double-quoted HTML attribute inside Markdown: ``<span title="<this>">``.

    ``md_cell`` already turns ``<>&|`[]*_\\`` and newlines into character references (the
    table and the inline parsers see none of them); quotes are what an attribute adds.
    """
    return Markup(str(md_cell(value)).replace('"', "&quot;").replace("'", "&#39;"))


def _sentence(value: Any) -> str:
    """One line of text with its first letter in capitals: a reason that starts a sentence."""
    text = one_line(value)
    return text[:1].upper() + text[1:]


def _percent(value: Any) -> str:
    return shown(lambda v: f"{v:.1f}%", value, none=False) if value is not None else ""


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The environment for ``templates_dir``, made once per process and folder: its compiled
    templates are reused by every render of a build (Jinja's auto_reload still notices an edited
    template by its mtime)."""
    key = _folder_key(templates_dir)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _ENVIRONMENTS.setdefault(key, make_environment(templates_dir))
    return env


_ENVIRONMENTS: dict[Any, jinja2.Environment] = {}


def _folder_key(templates_dir: Path | None) -> Any:
    """The folder and the names in it: auto_reload notices an edited template, but not a new
    file that overrides a shipped template already loaded, so that makes a new environment."""
    if templates_dir is None:
        return None
    folder = Path(templates_dir).resolve()
    try:
        names = tuple(sorted(str(p.relative_to(folder)) for p in folder.rglob("*")))
    except OSError:
        names = ()
    return (str(folder), names)


def make_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: the user's templates first, then the shipped ones."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise RenderError("the folder does not exist; pass an existing folder to "
                              "--templates or leave it out", template=str(templates_dir))
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(shipped_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # Markdown, not HTML: escaping is per context, via the filters
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,  # escaping is the default; filters return Markup
    )
    env.filters.update(
        cell=md_cell,
        code=code_cell,
        mlabel=mermaid_label,
        truncate_text=truncate,
        bytes=_total(parameters.format_bytes),
        bytes_exact=_total(parameters.format_bytes_exact),
        seconds=_total(parameters.format_seconds),
        ms=_total(parameters.format_ms),
        shape=_shape,
        count=_total(parameters.format_count),
        percent=_percent,
        length=_length,
        items=_seq,
        pairs=_pairs,
        join=_join,
        output_type=_output_type,
        codeblock=code_block,
        front_matter=front_matter_str,
        autolink=autolink,
        slug=slug,
        attr=html_attr,
        sentence=_sentence,
    )
    env.bytecode_cache = _bytecode_cache(env.filters)
    return env


def _render(env: jinja2.Environment, name: str, **context: Any) -> bytes:
    try:
        text = env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name} not found in the templates folders",
                          template=name) from exc
    except (jinja2.TemplateError, *_BAD_VALUE) as exc:
        lineno = getattr(exc, "lineno", None)
        where = f"{name}:{lineno}" if lineno else name
        raise RenderError(f"{type(exc).__name__}: {exc}", template=where) from exc
    # One trailing newline, \n endings, no trailing spaces: byte-stable across platforms.
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    collapsed: list[str] = []
    for line in lines:
        if not line and collapsed and not collapsed[-1]:
            continue  # template whitespace never makes two blank lines in a row
        collapsed.append(line)
    return ("\n".join(collapsed) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------------------------
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


@_tolerant(_plain_flow)
def build_flow(record: EngineRecord) -> str:
    """The path this build took, as a Mermaid flowchart; branches not taken are dashed."""
    g = _Graph("TB")
    spec = record.spec or {}
    model = record.model
    imported = "imported_from" in spec
    precision = str(spec.get("precision", "fp32"))
    method = str(spec.get("precision_method", "model"))
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
    cast_taken = not imported and precision in ("fp16", "bf16") and method == "model"
    info = record.precision or {}
    tool = f"({one_line(info['tool'])})" if cast_taken and info.get("tool") else ""
    cast = g.node(precision if cast_taken else "fp16/bf16", "conversion", tool,
                  taken=cast_taken)
    quant_taken = not imported and precision in ("int8", "fp8") and method == "model"
    batches = info.get("calibration_batches")
    calib = g.node("Calibration", f"data: {one_line(batches)} batches" if batches else "data",
                   taken=quant_taken)
    scales = g.node("Scale factors", taken=quant_taken)
    qdq_count = info.get("qdq_nodes")
    qdq = g.node(precision.upper() if quant_taken else "INT8/FP8",
                 "Q/DQ nodes" + (f": {one_line(qdq_count)}" if qdq_count else ""),
                 taken=quant_taken)
    flags_taken = not imported and method == "builder_flags" and precision != "fp32"
    flags = g.node("Builder flag", f"--{precision}" if flags_taken else "(fp16, int8, ...)",
                   taken=flags_taken)

    # TensorRT parses the model the precision step wrote, where one ran.
    parsed = info.get("nodes_after") if (cast_taken or quant_taken) else (
        model.nodes if model is not None else None)
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

    row = _engine_compat(record)
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


@_tolerant(lambda record: None)
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


@_tolerant(lambda record: None)
def precision_pie(record: EngineRecord) -> str | None:
    """The precision mix of the engine's layers as a Mermaid pie, or None with no layers."""
    mix = record.inspection.precision_mix()
    if not mix:
        return None
    lines = ["pie showData"]
    lines += [f'    "{mermaid_label(dtype, LABEL_LIMIT)}" : {count}' for dtype, count in mix]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------
def _raw_io_rows(record: EngineRecord) -> list[dict[str, Any]]:
    return [{"name": getattr(t, "name", t), "mode": getattr(t, "mode", ""),
             "dtype": getattr(t, "dtype", ""), "dims": getattr(t, "dims", ""),
             "onnx_dims": None, "onnx_dtype": None, "profiles": ()}
            for t in _seq(getattr(record.inspection, "io", ()))]


@_tolerant(_raw_io_rows)
def _io_rows(record: EngineRecord) -> list[dict[str, Any]]:
    rows = []
    model_io = {}
    if record.model is not None:
        model_io = {t.name: t for t in (*record.model.inputs, *record.model.outputs)}
    for t in _of_type(record.inspection.io, IOTensor):
        onnx_t = model_io.get(t.name)
        rows.append({
            "name": t.name, "mode": t.mode, "dtype": t.dtype, "dims": t.dims,
            "onnx_dims": onnx_t.dims if onnx_t is not None else None,
            "onnx_dtype": onnx_t.dtype if onnx_t is not None else None,
            "profiles": _of_type(t.profiles, ProfileShape),
        })
    return rows


@_tolerant(lambda record: [])
def _profile_rows(record: EngineRecord) -> list[tuple[int, str, Any]]:
    """``(profile index, input name, ProfileShape)``, profile by profile, inputs in engine order."""
    shapes = [(t, _of_type(t.profiles, ProfileShape))
              for t in _of_type(record.inspection.io, IOTensor)]
    inputs = [(t, p) for t, p in shapes if p]
    count = max((len(p) for _, p in inputs), default=0)
    return [(i, t.name, p[i]) for i in range(count) for t, p in inputs if i < len(p)]


@_tolerant(lambda record: [])
def _type_histogram(record: EngineRecord) -> list[tuple[str, int]]:
    counts = Counter(one_line(layer.type) or "(none)" for layer in record.inspection.layers)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _scalar_items(mapping: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if not mapping or not isinstance(mapping, Mapping):
        return []
    # Unset facts (None) are left out: a blank cell would read as "empty", not "not set".
    return sorted(((k, ("yes" if v else "no") if isinstance(v, bool) else v)
                   for k, v in mapping.items() if isinstance(v, (str, int, float, bool))),
                  key=lambda kv: _text_key(kv[0]))


# Precision-step facts whose bare key would be read wrongly: the counts are of the whole
# converted model, not of what the step added.
_PRECISION_LABELS = {
    "cast_nodes": "cast nodes in the converted model",
    "qdq_nodes": "Q/DQ nodes in the converted model",
    "nodes_before": "nodes before the step",
    "nodes_after": "nodes after the step",
}


@_tolerant(lambda record, name: "not known: the spec's accuracy settings are malformed")
def _output_gate(record: EngineRecord, name: str) -> str:
    """The limits that gate one output, from the spec the record was built from."""
    accuracy = (record.spec or {}).get("accuracy") or {}
    own = (accuracy.get("outputs") or {}).get(name)
    if own == "ignore":
        return "ignored: measured, not gated"
    limits = {**(accuracy.get("tolerance") or {}), **(own if isinstance(own, Mapping) else {})}
    return parameters.format_tolerance(limits) if limits else "not gated"


@_tolerant(lambda accuracy: [])
def _accuracy_outputs(accuracy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per-output metrics, whichever of a list or a name-keyed mapping the record holds."""
    if not accuracy or not isinstance(accuracy, Mapping):
        return []
    outputs = accuracy.get("outputs")
    rows: list[dict[str, Any]] = []
    if isinstance(outputs, Mapping):
        rows = [{"name": k, **v}
                for k, v in sorted(outputs.items(), key=lambda kv: _text_key(kv[0]))
                if isinstance(v, Mapping)]
    elif isinstance(outputs, list):
        rows = [{"name": "", **o} for o in outputs if isinstance(o, Mapping)]
    return rows


@_tolerant(lambda record, records: None)
def fp32_baseline(record: EngineRecord, records: Sequence[EngineRecord]) -> EngineRecord | None:
    """The fp32 engine built from the same spec file and model, to compare a lower precision with.

    ``variants: {precision: [fp32, fp16, int8]}`` makes such siblings; the first fp32 one by name
    wins, so the choice is stable.
    """
    return findings.fp32_variant(record, records)


@_tolerant(lambda record, base: [])
def _baseline_rows(record: EngineRecord, base: EngineRecord) -> list[tuple[str, Any, Any, str]]:
    def format_bytes(n: Any) -> str:
        return shown(parameters.format_bytes, n)

    def ratio(a: Any, b: Any) -> str:
        return shown(lambda x: f"{x:.2f}×", a / b, none=False) if (
            is_number(a) and is_number(b) and a and b) else ""

    def mix(r: EngineRecord) -> str:
        return ", ".join(f"{k} {n}" for k, n in r.inspection.precision_mix()) or "not known"

    mem, bmem = record.inspection.memory, base.inspection.memory
    return [
        ("Engine size", format_bytes(base.engine_bytes), format_bytes(record.engine_bytes),
         ratio(record.engine_bytes, base.engine_bytes)),
        ("Weights", format_bytes(bmem.weights), format_bytes(mem.weights),
         ratio(mem.weights, bmem.weights)),
        ("Activations", format_bytes(bmem.activation), format_bytes(mem.activation),
         ratio(mem.activation, bmem.activation)),
        ("Engine layers", len(base.inspection.layers), len(record.inspection.layers), ""),
        ("Layer precisions", mix(base), mix(record), ""),
        ("Build time", shown(parameters.format_seconds, base.build_seconds or None),
         shown(parameters.format_seconds, record.build_seconds or None), ""),
    ]


@_tolerant(lambda record: "")
def _layer_precision(record: EngineRecord) -> str:
    ops = [op for op, _ in record.model.op_histogram] if record.model is not None else []
    return record.inspection.precision_summary(ops)


def _raw_parameter_rows(record: EngineRecord) -> tuple[parameters.ParameterRow, ...]:
    """The recorded settings as they are, for a record ``parameter_rows`` cannot word."""
    spec = record.spec if isinstance(record.spec, Mapping) else {}
    rows = []
    for s in _seq(record.settings):
        key = getattr(s, "key", s)
        try:
            known = parameters.parameter(key)
            title, explanation = known.title, known.explanation
        except (KeyError, TypeError):
            title, explanation = key, ""
        spec_value = spec.get(key) if isinstance(key, str) else None
        rows.append(parameters.ParameterRow(
            one_line(key), one_line(title), one_line(spec_value),
            one_line(getattr(s, "effective", "")), one_line(getattr(s, "default", "")),
            f"{explanation} (values shown as recorded: one has the wrong type)".strip()))
    return tuple(rows)


_parameter_rows = _tolerant(_raw_parameter_rows)(parameters.parameter_rows)


def _unknown_compat(record: EngineRecord) -> compat.EngineCompat:
    why = "not known: the record holds a value of the wrong type"
    return compat.EngineCompat(
        record.name, f"{one_line(record.backend)} {one_line(record.backend_version)}", None,
        (), why, why, tuple(compat.Cell(a.key, compat.UNKNOWN, why) for a in compat.ARCHITECTURES))


_engine_compat = _tolerant(_unknown_compat)(compat.engine_compat)


def _uncompared(old: EngineRecord, new: EngineRecord) -> Changes:
    return Changes(engine=new.name, old_key=one_line(old.build_key),
                   new_key=one_line(new.build_key),
                   summary=(Change("record", "not compared",
                                   "a value of one record has the wrong type"),),
                   settings=(), precision_mix=(), layer_types=())


_changes_between = _tolerant(_uncompared)(changes_between)


def _of_type(values: Any, cls: type) -> tuple[Any, ...]:
    """The items of ``values`` that are ``cls``: a layer that is not a layer has no row."""
    return tuple(v for v in _seq(values) if isinstance(v, cls))


@_tolerant(lambda record: ())
def _fusions(record: EngineRecord) -> tuple[Any, ...]:
    return record.inspection.fusion_groups()


@_tolerant(lambda record: None)
def _total_time(record: EngineRecord) -> Any:
    return record.inspection.total_time_ms


# --------------------------------------------------------------------------------------------
# Deployment verdicts (``--deploy deploy.yaml``)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeployedPair:
    """One (engine, target) pair the deployment file deploys, with its numbered note."""

    target: Target
    verdict: verdicts.Verdict
    note: int  # its number in the notes under the compatibility table (1, 2...)

    @property
    def hover(self) -> str:
        """The cell's hover text: the verdict, why, and the fix (escaped by ``attr``)."""
        fix = f" Fix: {self.verdict.fix}." if self.verdict.fix else ""
        return f"{self.verdict.verdict}: {self.verdict.reason}.{fix}"

    @property
    def others(self) -> tuple[verdicts.Check, ...]:
        """The other checks that fail or cannot tell: the "(and N more)" of the reason."""
        deciding = next((c for c in self.verdict.checks if c.rule == self.verdict.rule
                         and c.outcome == self.verdict.verdict), None)
        return tuple(c for c in self.verdict.checks
                     if c is not deciding and c.outcome != verdicts.RUNS)

    @property
    def rules(self) -> tuple[str, ...]:
        """The deciding rule; for a pair that runs (rule ``all``), every rule that was checked."""
        if self.verdict.rule == "all":
            return tuple(dict.fromkeys(c.rule for c in self.verdict.checks)) or ("all",)
        return (self.verdict.rule,)

    @property
    def rule_says(self) -> str:
        """What the deciding rule says; "" for a pair that runs or a rule ``data.py`` lacks."""
        rule = RULES.get(self.verdict.rule)
        return rule.says if rule is not None else ""


@dataclass(frozen=True)
class DeploymentView:
    """The deployment as the pages show it: targets in file order, engines by name."""

    file: str  # the deployment file's name, not its path: pages do not depend on the checkout
    targets: tuple[Target, ...]
    rows: tuple[tuple[str, tuple[DeployedPair | None, ...]], ...]  # engine, one per target
    notes: tuple[DeployedPair, ...]  # in table order: row by row, left to right
    counts: tuple[tuple[str, str, int], ...]  # (outcome, glyph, pairs), every outcome

    def of(self, engine: str) -> tuple[DeployedPair, ...]:
        """The pairs of one engine, in target order."""
        for name, cells in self.rows:
            if name == engine:
                return tuple(c for c in cells if c is not None)
        return ()


def _unknown_verdict(engine: str, target: Target) -> verdicts.Verdict:
    why = "not known: the record holds a value of the wrong type"
    return verdicts.Verdict(target.name, engine, verdicts.UNKNOWN, "record", why,
                            "rebuild it with `trtdoc build --force`", ())


def _record_verdicts(record: EngineRecord, targets: Sequence[Target]
                     ) -> dict[str, verdicts.Verdict]:
    """Target name → verdict, for the targets that deploy ``record``.

    A record whose facts have the wrong type (built or edited around the decoder) gets
    ``unknown`` on every target whose patterns name it, rather than no row or a crash.
    """
    name = _name_key(record)
    try:
        plan = verdicts.Plan.from_record(record)
        pairs = verdicts.deployed_pairs([plan], targets)
    except _BAD_VALUE:
        return {t.name: _unknown_verdict(name, t) for t in targets if t.deploys(name)}
    out = {}
    for p, t in pairs:
        try:
            out[t.name] = verdicts.evaluate(p, t)
        except _BAD_VALUE:
            out[t.name] = _unknown_verdict(name, t)
    return out


def deployment_view(records: Sequence[EngineRecord], deployment: Deployment) -> DeploymentView:
    """Every deployed (engine, target) pair through ``verdicts.evaluate``, ready to show."""
    targets = tuple(deployment.targets)
    rows: list[tuple[str, tuple[DeployedPair | None, ...]]] = []
    notes: list[DeployedPair] = []
    for record in sorted(records, key=_name_key):
        found = _record_verdicts(record, targets)
        cells: list[DeployedPair | None] = []
        for t in targets:
            v = found.get(t.name)
            if v is None:
                cells.append(None)
                continue
            pair = DeployedPair(t, v, len(notes) + 1)
            notes.append(pair)
            cells.append(pair)
        rows.append((_name_key(record), tuple(cells)))
    counted = Counter(p.verdict.verdict for p in notes)
    counts = tuple((o, g, counted.get(o, 0)) for o, g in verdicts.GLYPHS.items())
    return DeploymentView(one_line(Path(deployment.path).name), targets, tuple(rows),
                          tuple(notes), counts)


def _tags(value: Any) -> list[str]:
    """The spec's tags as the page and the tags plugin show them: one line each, blank ones
    dropped, and one of each whatever its case (the tags page would give ``VISION`` and
    ``vision`` two sections with one anchor); the first spelling stays, sorted."""
    seen: dict[str, str] = {}
    for tag in _seq(value):
        text = one_line(tag).strip()
        if text:
            seen.setdefault(text.casefold(), text)
    return sorted(seen.values(), key=_text_key)


def _page_meta(record: EngineRecord, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The engine page's front matter besides its title, for the theme's tags plugin and for
    tools that read page metadata: values as the record says them (escaped by the template)."""
    targets = _engine_compat(record).compiled_for
    return {
        "engine": record.name,
        "backend": record.backend,
        "backend_version": record.backend_version,
        "precision": spec.get("precision") or _layer_precision(record) or "not known",
        "targets": [one_line(t) for t in _seq(targets)],
        "owner": spec.get("owner") or "",
        "tags": _tags(spec.get("tags")),
    }


def engine_context(record: EngineRecord, previous: EngineRecord | None = None,
                   baseline: EngineRecord | None = None,
                   gate: Mapping[str, Any] | None = None,
                   deployment: DeploymentView | None = None) -> dict[str, Any]:
    """Everything the engine template needs, computed once here.

    With ``deployment``, "Where it runs" also says how the engine fares on each target that
    deploys it; without, the page is what it was before deployment files existed.
    """
    inspection = record.inspection
    layers = _of_type(inspection.layers, Layer)
    timed = [layer for layer in layers if layer.time_ms is not None]
    rows = _engine_compat(record)
    spec = record.spec if isinstance(record.spec, Mapping) else {}
    return {
        "r": record,
        "spec": spec,
        "meta": _page_meta(record, spec),
        "layers": layers,
        "model_files": _of_type(record.model_files, ModelFile),
        "model": record.model if isinstance(record.model, ModelFacts) else None,
        "header": record.header if isinstance(record.header, EngineFacts) else None,
        "precision_info": record.precision if isinstance(record.precision, Mapping) else {},
        "accuracy_info": record.accuracy if isinstance(record.accuracy, Mapping) else {},
        "imported": "imported_from" in spec,
        "layer_precision": _layer_precision(record),
        "several_profiles": is_number(inspection.profile_count) and inspection.profile_count > 1,
        "parameters": _parameter_rows(record),
        "io": _io_rows(record),
        "profile_rows": _profile_rows(record),
        "type_histogram": _type_histogram(record),
        "fusions": _fusions(record),
        "timed": bool(timed),
        # issue 13: the layer rows as text, paged above layer_table.PAGE_ROWS
        "layer_paging": paging_from_layers(slug(record.name), layers, timed=bool(timed)),
        "total_time_ms": _total_time(record),
        "build_flow": build_flow(record),
        "fusion_flow": fusion_flow(record),
        "precision_pie": precision_pie(record),
        "precision_items": [(_PRECISION_LABELS.get(k, k), v)
                            for k, v in _scalar_items(record.precision)],
        "accuracy_items": [(k, v) for k, v in _scalar_items(record.accuracy)
                           if k != "gate_key"],
        "accuracy_outputs": [{**o, "gate": _output_gate(record, o["name"])}
                             for o in _accuracy_outputs(record.accuracy)],
        "gate": gate,
        "gate_samples": (gate.get("accuracy") or {}).get("samples", "") if gate and isinstance(
            gate.get("accuracy"), Mapping) else "",
        "gate_outputs": _accuracy_outputs(gate.get("accuracy")) if gate else [],
        "compat": rows,
        "architectures": compat.ARCHITECTURES,
        "deployment": deployment,
        "deployed": deployment.of(_name_key(record)) if deployment is not None else (),
        "triton": triton_view(record),  # issue 15
        **reproduce_context(record),
        "changes": _changes_between(previous, record) if previous is not None else None,
        "baseline": baseline,
        "baseline_rows": _baseline_rows(record, baseline) if baseline is not None else [],
        **_findings_context(record, baseline),
        "warnings": sorted(_seq(record.warnings), key=_text_key),
        "not_run": sorted(_of_type(record.not_run, NotRun),
                          key=lambda n: (_text_key(n.what), _text_key(n.reason))),
    }


# The findings box: the worst severity decides its kind; only info stays folded.
_FINDINGS_BOX = {"error": "!!! failure", "warning": "!!! warning", "info": "??? info"}
_FINDING_NAMES = 5  # layers and ONNX nodes a finding lists on the page before "and N more"


@_tolerant(lambda record, baseline: {"findings": [], "findings_notes": [],
                                      "findings_box": "", "findings_title": ""})
def _findings_context(record: EngineRecord, baseline: EngineRecord | None) -> dict[str, Any]:
    items, notes = findings.current_findings(record, baseline)
    counts = Counter(f.severity for f in items)
    worst = next((s for s in reversed(findings.SEVERITIES) if counts[s]), "info")
    title = ", ".join(f"{counts[s]} {s}{'s' * (counts[s] != 1 and s != 'info')}"
                      for s in reversed(findings.SEVERITIES) if counts[s])
    rows = [{"f": f,
             **{key: (names[:_FINDING_NAMES], max(0, len(names) - _FINDING_NAMES))
                for key, names in (("layers", f.layers), ("nodes", f.onnx_nodes),
                                   ("tensors", f.tensors))}}
            for f in items]
    return {"findings": rows, "findings_notes": list(notes),
            "findings_box": _FINDINGS_BOX[worst], "findings_title": title}

def triton_view(record: EngineRecord) -> dict[str, Any]:
    """What the page says about serving the engine with Triton: its ``config.pbtxt`` (as
    ``trtdoc triton`` writes it), or why there is none."""
    from trtdoc.triton import (
        TritonError,
        compute_capabilities,
        triton_config_from_record,
        triton_model_name,
    )

    try:
        name = triton_model_name(record)
        config = triton_config_from_record(record)
        ccs = compute_capabilities(record)
    except TritonError as exc:
        return {"config": None, "problem": exc.message, "model": None, "grouped": False,
                "rtx": record.backend == "tensorrt-rtx"}
    except _BAD_VALUE as exc:  # a wrong-typed value of a hand-edited record
        return {"config": None, "problem": f"the record cannot be read as a Triton model "
                f"({type(exc).__name__})", "model": None, "grouped": False, "rtx": False}
    return {"config": config, "problem": None, "model": name, "grouped": name != record.name,
            "rtx": record.backend == "tensorrt-rtx",
            "compute_capabilities": ccs}


def _name_key(record: EngineRecord) -> str:
    """An engine's name as a dictionary key and sort key, whatever its type."""
    name = getattr(record, "name", None)
    return name if isinstance(name, str) else one_line(name)


@dataclass(frozen=True)
class MatrixNotes:
    """The architecture matrix's reasons, each written once under the table and numbered in
    the order the table first shows it, so that a cell is a glyph and a number: eleven
    columns of sentences did not fit a laptop's 720 px column (the Blackwell ones were cut)."""

    texts: tuple[str, ...]  # note k is texts[k - 1]

    @classmethod
    def of(cls, matrix: Sequence[compat.EngineCompat]) -> MatrixNotes:
        texts: dict[str, None] = {}
        for row in matrix:
            for cell in row.cells:
                texts.setdefault(one_line(cell.reason), None)
            texts.setdefault(one_line(row.other_versions), None)
        return cls(tuple(texts))

    def number(self, reason: Any) -> int:
        """The note that says ``reason``."""
        return self.texts.index(one_line(reason)) + 1


def _site_pages(records: Sequence[EngineRecord], env: jinja2.Environment,
                previous: Mapping[str, EngineRecord],
                gates: Mapping[str, Mapping[str, Any]],
                deployment: Deployment | None = None, *,
                only: Collection[str] | None = None, site: bool = True) -> dict[str, bytes]:
    """Every page; with ``only``, just the pages of those engines, and with ``site=False``
    not the pages that show every record (``render_changed``)."""
    records = sorted(records, key=_name_key)
    names = [_name_key(r) for r in records]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RenderError(f"two records are named {', '.join(dupes)}; engine names must be "
                          "unique (they are the page slugs)", template="engine.md.j2")
    view = deployment_view(records, deployment) if deployment is not None else None
    pages: dict[str, bytes] = {}
    for record in records:
        path = f"{ENGINES_DIR}/{slug(record.name)}.md"
        key = _name_key(record)
        if only is not None and key not in only:
            continue
        try:
            context = engine_context(record, previous.get(key), fp32_baseline(record, records),
                                     gates.get(key), view)
        except _BAD_VALUE as exc:
            # A record whose structure is wrong (no inspection at all), not just a value.
            raise RenderError(f"record {one_line(key)!r} cannot be shown ({type(exc).__name__}: "
                              f"{exc}); rebuild it with `trtdoc build --force`",
                              template="engine.md.j2") from exc
        pages[path] = _render(env, "engine.md.j2", **context)
        for rel, layer_page in extra_pages(context):  # issue 13: a huge engine's layer pages
            pages[rel] = _render(env, "layers.md.j2", **layer_page)
    if not site:
        return pages
    matrix = tuple(_engine_compat(r) for r in records)
    by_name = dict(zip(names, matrix, strict=True))
    changes: list[Changes] = [_changes_between(previous[_name_key(r)], r) for r in records
                              if _name_key(r) in previous]
    pages[f"{ENGINES_DIR}/index.md"] = _render(
        env, "index.md.j2", records=records, compat=by_name, gates=gates,
        compat_of=lambda r: by_name[_name_key(r)], failed=lambda r: _name_key(r) in gates,
        spec_of=lambda r: r.spec if isinstance(r.spec, Mapping) else {},
        unpublished=sorted(((n, g) for n, g in gates.items() if n not in set(names)),
                           key=lambda ng: _text_key(ng[0])))
    pages["compatibility.md"] = _render(
        env, "compatibility.md.j2", rows=matrix, architectures=compat.ARCHITECTURES,
        notes=MatrixNotes.of(matrix),
        runtimes=compat.RUNTIMES, used=compat.used_runtimes(matrix),
        portability=compat.PORTABILITY_SOURCES, deployment=view)
    pages["changes.md"] = _render(env, "changes.md.j2", changes=changes,
                                  unchanged=[r.name for r in records
                                             if _name_key(r) not in previous])
    return pages


DIFF_LAYER_ROWS = 100  # layer rows per engine in a pull-request comment (GitHub takes 65,536 chars)


def diff_markdown(diff: Diff, *, templates_dir: Path | None = None,
                  layer_rows: int = DIFF_LAYER_ROWS) -> str:
    """``trtdoc diff --format markdown``: a summary short enough for a pull-request comment,
    each engine's full tables in a collapsed ``<details>`` (``diff.md.j2``)."""
    env = environment(templates_dir)
    return _render(env, "diff.md.j2", diff=diff, layer_rows=layer_rows).decode("utf-8")


def plan_site(records: Iterable[EngineRecord], site_dir: Path, *,
              templates_dir: Path | None = None,
              previous: Mapping[str, EngineRecord] | None = None,
              gates: Mapping[str, Mapping[str, Any]] | None = None,
              deployment: Deployment | None = None) -> dict[Path, bytes]:
    """Every generated page as ``{path under site_dir: bytes}``, without writing anything.

    ``gates`` maps engine names to their latest failed accuracy gate (``record.read_gates``).
    ``deployment`` (``compat.deploy.load_deployment``) adds the verdict of every deployed
    (engine, target) pair to the compatibility page and the engine pages; None leaves both as
    they are without one.
    """
    env = environment(templates_dir)
    pages = _site_pages(list(records), env, previous or {}, gates or {}, deployment)
    return {Path(site_dir) / rel: data for rel, data in sorted(pages.items())}


def _stale_pages(site_dir: Path, keep: Iterable[Path]) -> list[Path]:
    """Generated engine pages whose record is gone (only files that carry the mark)."""
    folder = site_dir / ENGINES_DIR
    if not folder.is_dir():
        return []
    keep_set = {p.resolve() for p in keep}
    stale = []
    for path in sorted(folder.glob("*.md")):
        if path.resolve() not in keep_set and is_generated(path):
            stale.append(path)
    return stale


is_generated = render_cache.is_generated


def render_site(records: Iterable[EngineRecord], site_dir: Path, *,
                templates_dir: Path | None = None,
                previous: Mapping[str, EngineRecord] | None = None,
                gates: Mapping[str, Mapping[str, Any]] | None = None,
                keep: Iterable[str] = (),
                deployment: Deployment | None = None) -> RenderResult:
    """Write every page whose bytes changed, and remove generated pages of vanished engines.

    The pages of the engines named in ``keep`` (whose records could not be read) stay as they
    are.

    ``previous`` maps engine names to their previous records (``diff.read_previous``); with
    it, engine pages and ``changes.md`` say what changed since then. ``deployment``: see
    :func:`plan_site`.
    """
    site_dir = Path(site_dir)
    planned = plan_site(records, site_dir, templates_dir=templates_dir, previous=previous,
                        gates=gates, deployment=deployment)
    written, unchanged = _write_changed(planned.items())
    kept = set(keep)
    # A kept engine keeps its layer pages too (<slug>~layers-<k>.md).
    removed = [p for p in _stale_pages(site_dir, planned) if p.stem.split("~", 1)[0] not in kept]
    for path in removed:
        path.unlink()
    return RenderResult(tuple(written), tuple(unchanged), tuple(removed))


def _write_changed(pages: Iterable[tuple[Path, bytes]]) -> tuple[list[Path], list[Path]]:
    """Write each page whose bytes differ from the file's; the written and the unchanged."""
    written, unchanged = [], []
    for path, data in pages:
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if same:
            unchanged.append(path)
        else:
            write_atomic(path, data)
            written.append(path)
    return written, unchanged


def stale_pages(site_dir: Path, planned: Mapping[Path, bytes]) -> list[Path]:
    """Files ``render_site`` would change or remove: for ``trtdoc build --check``."""
    changed = [p for p, data in planned.items() if not p.is_file() or p.read_bytes() != data]
    return sorted([*changed, *_stale_pages(Path(site_dir), planned)])


# --------------------------------------------------------------------------------------------
# Rendering only what changed (``render_cache``)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Summary:
    """What another engine's page reads of a record (``fp32_baseline``), kept in the manifest
    so an unchanged record need not be decoded to choose a baseline."""

    name: str
    spec: Mapping[str, Any]
    model_sha256: str

    @classmethod
    def of(cls, record: EngineRecord) -> _Summary:
        return cls(record.name, record.spec, record.model_sha256)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "spec": dict(self.spec), "model_sha256": self.model_sha256}

    @classmethod
    def from_json(cls, data: Any) -> _Summary | None:
        if not (isinstance(data, dict) and isinstance(data.get("name"), str)
                and isinstance(data.get("spec"), dict)
                and isinstance(data.get("model_sha256"), str)):
            return None
        return cls(data["name"], data["spec"], data["model_sha256"])


@dataclass(frozen=True)
class ChangedRender:
    """What :func:`render_changed` did, and the records it could not read."""

    result: RenderResult
    bad: tuple[tuple[Path, Exception], ...]


def _unit_of(rel: str, slugs: Mapping[str, str]) -> str | None:
    """The engine whose page (or layer page) ``rel`` is; SITE_UNIT for the site pages."""
    if rel in render_cache.SITE_PAGES:
        return render_cache.SITE_UNIT
    stem = Path(rel).name.removesuffix(".md").split("~", 1)[0]
    return slugs.get(stem)


def render_changed(state: render_cache.State, *, templates_dir: Path | None = None,
                   deployment: Deployment | None = None,
                   fresh: Mapping[str, EngineRecord] | None = None) -> ChangedRender:
    """``render_site`` of every record in ``state.records_dir``, rendering only the pages whose
    inputs changed since the render the manifest describes, then saving the new manifest.

    The pages written are byte for byte those of a full render: a page is skipped only when
    its input digest (``State.unit_digest``) is unchanged and its file still holds the bytes
    that render wrote. A record is decoded only when a page to render needs it; the site pages
    show every record, so any change to a record, previous record or gate decodes them all.
    ``fresh`` are records the caller has just written, by name: they are used as they are
    instead of decoded again (``trtdoc import`` of 10^6 layers: 1 GB of JSON, ~6 GB to decode).
    """
    with _no_gc():
        return _render_changed(state, templates_dir, deployment, fresh or {})


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Records are big trees of acyclic objects (200 records of 1,000 layers are ~10 million).
    The cyclic collector finds nothing in them yet rescans them every few thousand
    allocations, which tripled the time to read such a set: it is off while they are read,
    and they are frozen out of its scans while pages render (``cli._render`` did this)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _render_changed(state: render_cache.State, templates_dir: Path | None,
                    deployment: Deployment | None,
                    fresh: Mapping[str, EngineRecord]) -> ChangedRender:
    from trtdoc.errors import RecordError
    from trtdoc.record import read_gates, read_record

    records_dir, site_dir = state.records_dir, state.site_dir
    known = state.known_summaries()
    decoded: dict[str, EngineRecord] = {n: r for n, r in fresh.items() if n in state.records}
    summaries: dict[str, _Summary] = {}
    bad: list[tuple[Path, Exception]] = []
    for name, digest in state.records.items():
        summary = _Summary.from_json(known.get(digest))
        if summary is not None and summary.name == name:
            summaries[name] = summary
            continue
        if name in decoded:
            summaries[name] = _Summary.of(decoded[name])
            continue
        path = records_dir / f"{name}.json"
        try:
            decoded[name] = read_record(path)
        except RecordError as exc:
            bad.append((path, exc))
            continue
        summaries[name] = _Summary.of(decoded[name])

    def record(name: str) -> EngineRecord:
        if name not in decoded:
            decoded[name] = read_record(records_dir / f"{name}.json")
        return decoded[name]

    good = sorted(summaries)
    slugs = {str(slug(n)): n for n in good}
    # Two names with one slug would share a page: only a full render says which wins.
    incremental = len(slugs) == len(good)
    stubs: list[Any] = [summaries[n] for n in good]
    baselines = {n: fp32_baseline(summaries[n], stubs) for n in good}  # type: ignore[arg-type]
    digests = {n: state.unit_digest(n, b.name if b is not None else None,
                                    deployed=deployment is not None)
               for n, b in baselines.items()}
    digests[render_cache.SITE_UNIT] = state.unit_digest(render_cache.SITE_UNIT, None,
                                                        deployed=False)
    stale = {u for u, d in digests.items() if not (incremental and state.unit_fresh(u, d))}

    need: set[str]
    if render_cache.SITE_UNIT in stale or deployment is not None:
        need = set(good)  # the site pages and the deployment view show every record
    else:
        need = {m for n in stale for m in (n, *([baselines[n].name] if baselines[n] else []))}
    try:
        chosen = [record(n) for n in sorted(need)]
    except RecordError:
        # A record changed since it was hashed into something unreadable: start again.
        return _render_changed(render_cache.State.load(
            records_dir, site_dir, templates=(templates_dir, shipped_templates()),
            deployment=deployment, folder=state.path.parent), templates_dir, deployment, fresh)
    previous = {}
    history = records_dir / render_cache.HISTORY_DIR
    for name in sorted(need):
        if name in state.history:
            # As diff.read_previous: no comparison rather than a failed render.
            with contextlib.suppress(RecordError):
                previous[name] = read_record(history / f"{name}.json")
    env = environment(templates_dir)
    gates = read_gates(records_dir)
    gc.freeze()
    gc.enable()
    pages = _site_pages(chosen, env, previous, gates, deployment,
                        only=stale - {render_cache.SITE_UNIT},
                        site=render_cache.SITE_UNIT in stale)

    gc.disable()
    written, unchanged = _write_changed((site_dir / rel, data)
                                        for rel, data in sorted(pages.items()))
    units: dict[str, dict[str, Any]] = {}
    for name in digests:
        if name not in stale:
            old = state.old_unit(name) or {}
            units[name] = {"in": digests[name], "pages": old.get("pages", {})}
            unchanged += [site_dir / rel for rel in units[name]["pages"]]
        else:
            units[name] = {"in": digests[name], "pages": {}}
    for rel, data in pages.items():
        unit = _unit_of(rel, slugs)
        if unit is not None and unit in units:
            units[unit]["pages"][rel] = hashlib.sha256(data).hexdigest()
    keep = {site_dir / rel for u in units.values() for rel in u["pages"]}
    kept = {path.stem for path, _ in bad}
    removed = [p for p in _stale_pages(site_dir, keep) if p.stem.split("~", 1)[0] not in kept]
    for path in removed:
        path.unlink()
        state.digests.forget(path)
    if incremental:
        state.save(units=units, summaries={state.records[n]: summaries[n].to_json()
                                           for n in good}, clean=not bad)
    return ChangedRender(RenderResult(tuple(written), tuple(sorted(unchanged)), tuple(removed)),
                         tuple(bad))

"""The view-model of one engine page: :func:`engine_context` turns a record (with its previous
record, its fp32 sibling, its failed gate and the deployment) into the values
``engine.md.j2`` shows, table by table.

The typed parts of a record (the inspection, the model facts, the plan header) are read as
their types say: the decoder refuses a record holding anything else. Computations that also
read its free-form parts (the spec, the precision and accuracy facts) are total: a
wrong-typed value there shows the raw values (or nothing) instead of failing the page
(``tolerant``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from trtdoc.builder.reproduce import reproduce_context
from trtdoc.compat import matrix as compat
from trtdoc.diff.changes import Change, Changes
from trtdoc.diff.compare import changes_between
from trtdoc.findings import current as findings
from trtdoc.findings import types as finding_types
from trtdoc.precision.accuracy import AccuracyReport
from trtdoc.record.types import EngineRecord, FailedGate, ModelFile, NotRun
from trtdoc.render import charts, parameters
from trtdoc.render.compatibility import compat_row
from trtdoc.render.cost import cost_view
from trtdoc.render.deployment import DeploymentView
from trtdoc.render.escape import is_number, one_line, shown, slug
from trtdoc.render.glossary import term_anchor
from trtdoc.render.latency_chart import latency_view
from trtdoc.render.layer_table import paging_from_layers  # issue 13: paged layer tables
from trtdoc.render.mermaid import build_flow, fusion_flow
from trtdoc.render.tolerant import BAD_VALUE, as_tuple, name_key, of_type, text_key, tolerant
from trtdoc.spec.section import ImportedSpec, SpecSection, encode_spec
from trtdoc.typed import encode


def _io_rows(record: EngineRecord) -> list[dict[str, Any]]:
    rows = []
    model_io = {}
    if record.model is not None:
        model_io = {t.name: t for t in (*record.model.inputs, *record.model.outputs)}
    for t in record.inspection.io:
        onnx_t = model_io.get(t.name)
        rows.append({
            "name": t.name, "mode": t.mode, "dtype": t.dtype, "dims": t.dims,
            "onnx_dims": onnx_t.dims if onnx_t is not None else None,
            "onnx_dtype": onnx_t.dtype if onnx_t is not None else None,
            "profiles": t.profiles,
        })
    return rows


def _profile_rows(record: EngineRecord) -> list[tuple[int, str, Any]]:
    """``(profile index, input name, ProfileShape)``, profile by profile, inputs in engine order."""
    shapes = [(t, t.profiles) for t in record.inspection.io]
    inputs = [(t, p) for t, p in shapes if p]
    count = max((len(p) for _, p in inputs), default=0)
    return [(i, t.name, p[i]) for i in range(count) for t, p in inputs if i < len(p)]


def _type_histogram(record: EngineRecord) -> list[tuple[str, int]]:
    counts = Counter(one_line(layer.type) or "(none)" for layer in record.inspection.layers)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _scalar_items(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The facts of a section as the file holds it that fit one table cell, by key (lists are
    shown apart). Unset facts (None) are left out: a blank cell would read as "empty", not
    "not set"."""
    return sorted(((k, ("yes" if v else "no") if isinstance(v, bool) else v)
                   for k, v in mapping.items() if isinstance(v, (str, int, float, bool))),
                  key=lambda kv: text_key(kv[0]))


# Precision-step facts whose bare key would be read wrongly: the counts are of the whole
# converted model, not of what the step added.
_PRECISION_LABELS = {
    "cast_nodes": "cast nodes in the converted model",
    "qdq_nodes": "Q/DQ nodes in the converted model",
    "nodes_before": "nodes before the step",
    "nodes_after": "nodes after the step",
}


def _output_gate(record: EngineRecord, name: str) -> str:
    """The limits that gate one output, from the spec the record was built from."""
    spec = record.spec
    accuracy = spec.accuracy if isinstance(spec, SpecSection) else None
    if accuracy is None:
        return "not gated"
    # The name comes from the record's free-form accuracy figures, not from the spec.
    own = accuracy.outputs.get(name) if isinstance(name, str) else None
    output, _, label = name.partition("[") if isinstance(name, str) else ("", "", "")
    cuts = accuracy.outputs.get(output) if label else None
    if isinstance(cuts, tuple):  # a slice, output0[scores]: its own limits
        own = next((c.limits for c in cuts if f"{c.label}]" == label), None)
    if isinstance(own, tuple):  # a sliced output as a whole: accuracy.tolerance
        own = None
    if own == "ignore":
        return "ignored: measured, not gated"
    limits = {**dict(accuracy.tolerance.items() if accuracy.tolerance else ()),
              **dict(own.items() if own is not None else ())}
    return parameters.format_tolerance(limits) if limits else "not gated"


def _accuracy_outputs(report: AccuracyReport | None) -> list[dict[str, Any]]:
    """Per-output figures, one row per output, in the report's order."""
    return [dataclasses.asdict(o) for o in report.outputs] if report is not None else []


@tolerant(lambda record, records: None)
def fp32_baseline(record: EngineRecord, records: Sequence[EngineRecord]) -> EngineRecord | None:
    """The fp32 engine built from the same spec file and model, to compare a lower precision with.

    ``variants: {precision: [fp32, fp16, int8]}`` makes such siblings; the first fp32 one by name
    wins, so the choice is stable.
    """
    return findings.fp32_variant(record, records)


@tolerant(lambda record, base: [])
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


def _layer_precision(record: EngineRecord) -> str:
    ops = [op for op, _ in record.model.op_histogram] if record.model is not None else []
    return record.inspection.precision_summary(ops)


def _raw_parameter_rows(record: EngineRecord) -> tuple[parameters.ParameterRow, ...]:
    """The recorded settings as they are, for a record ``parameter_rows`` cannot word."""
    spec = encode_spec(record.spec)
    rows = []
    for s in as_tuple(record.settings):
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


_parameter_rows = tolerant(_raw_parameter_rows)(parameters.parameter_rows)


def _uncompared(old: EngineRecord, new: EngineRecord) -> Changes:
    return Changes(engine=new.name, old_key=one_line(old.build_key),
                   new_key=one_line(new.build_key),
                   summary=(Change("record", "not compared",
                                   "a value of one record has the wrong type"),),
                   settings=(), precision_mix=(), layer_types=())


changes_shown = tolerant(_uncompared)(changes_between)
changes_shown.__doc__ = """``diff.changes_between`` of two records; for a record holding a value of
the wrong type, one line that says they were not compared."""


def _fusions(record: EngineRecord) -> tuple[Any, ...]:
    return record.inspection.fusion_groups()


@tolerant(lambda record, baseline: {
    "precision_pie": None, "precision_weight": None, "layer_time_chart": None,
    "type_time_chart": None, "slowest_layers": [], "memory_chart": None,
    "variant_chart": None})
def _charts_context(record: EngineRecord, baseline: EngineRecord | None) -> dict[str, Any]:
    """The charts of the page (``charts.py``) and the slowest layers' rows (issue 25)."""
    mix = charts.precision_mix(record)
    return {
        "precision_pie": charts.precision_pie(record),
        "precision_weight": mix,
        "layer_time_chart": charts.layer_time_chart(record),
        "type_time_chart": charts.type_time_chart(record),
        "slowest_layers": charts.timed_layers(record)[:charts.SLOWEST_ROWS],
        "memory_chart": charts.memory_chart(record),
        "variant_chart": (charts.variant_chart([baseline, record]) if baseline is not None
                          else None),
    }


def _total_time(record: EngineRecord) -> Any:
    return record.inspection.total_time_ms


def _tags(value: tuple[str, ...]) -> list[str]:
    """The spec's tags as the page and the tags plugin show them: one line each, blank ones
    dropped, and one of each whatever its case (the tags page would give ``VISION`` and
    ``vision`` two sections with one anchor); the first spelling stays, sorted."""
    seen: dict[str, str] = {}
    for tag in value:
        text = one_line(tag).strip()
        if text:
            seen.setdefault(text.casefold(), text)
    return sorted(seen.values(), key=text_key)


def _page_meta(record: EngineRecord) -> dict[str, Any]:
    """The engine page's front matter besides its title, for the theme's tags plugin and for
    tools that read page metadata: values as the record says them (escaped by the template)."""
    targets = compat_row(record).compiled_for
    spec = record.spec if isinstance(record.spec, SpecSection) else None
    return {
        "engine": record.name,
        "backend": record.backend,
        "backend_version": record.backend_version,
        "precision": (spec.precision if spec else "") or _layer_precision(record) or "not known",
        "targets": [one_line(t) for t in as_tuple(targets)],
        "owner": (spec.owner if spec else None) or "",
        "tags": _tags(spec.tags if spec else ()),
    }


def engine_context(record: EngineRecord, previous: EngineRecord | None = None,
                   baseline: EngineRecord | None = None,
                   gate: FailedGate | None = None,
                   deployment: DeploymentView | None = None) -> dict[str, Any]:
    """Everything the engine template needs, computed once here.

    With ``deployment``, "Where it runs" also says how the engine fares on each target that
    deploys it; without, the page is what it was before deployment files existed.
    """
    inspection = record.inspection
    layers = inspection.layers
    timed = [layer for layer in layers if layer.time_ms is not None]
    rows = compat_row(record)
    precision_info = encode(record.precision) if record.precision is not None else {}
    accuracy_info = encode(record.accuracy) if record.accuracy is not None else {}
    return {
        "r": record,
        # As the record's JSON has it: templates (the user's too) read it with .get().
        "spec": encode_spec(record.spec),
        "meta": _page_meta(record),
        "layers": layers,
        "model_files": of_type(record.model_files, ModelFile),
        "model": record.model,
        "header": record.header,
        # The sections as the record file holds them, key by key: the tables below list every
        # fact, and templates read these as they read the file.
        "precision_info": precision_info,
        "accuracy_info": accuracy_info,
        "imported": isinstance(record.spec, ImportedSpec),
        "layer_precision": _layer_precision(record),
        "several_profiles": inspection.profile_count > 1,
        "parameters": _parameter_rows(record),
        "io": _io_rows(record),
        "profile_rows": _profile_rows(record),
        "type_histogram": _type_histogram(record),
        "fusions": _fusions(record),
        "timed": bool(timed),
        # issue 13: the layer rows as text, paged above layer_table.PAGE_ROWS
        "layer_paging": paging_from_layers(slug(record.name), layers, timed=bool(timed),
                                           medians=any(la.median_ms is not None for la in timed)),
        "total_time_ms": _total_time(record),
        "build_flow": build_flow(record),
        "fusion_flow": fusion_flow(record),
        "latency": latency_view(record),  # issue 25: trtdoc import --times
        **_charts_context(record, baseline),
        "precision_items": [(_PRECISION_LABELS.get(k, k), v)
                            for k, v in _scalar_items(precision_info)],
        "accuracy_items": [(k, v) for k, v in _scalar_items(accuracy_info)
                           if k != "gate_key"],
        "accuracy_outputs": [{**o, "gate": _output_gate(record, o["name"])}
                             for o in _accuracy_outputs(record.accuracy)],
        "gate": encode(gate) if gate is not None else None,  # as the gate file holds it
        "gate_samples": gate.accuracy.samples if gate is not None else "",
        "gate_outputs": _accuracy_outputs(gate.accuracy) if gate is not None else [],
        "compat": rows,
        "architectures": compat.ARCHITECTURES,
        "deployment": deployment,
        "deployed": deployment.of(name_key(record)) if deployment is not None else (),
        # issue 28: FLOPs and bytes per layer and the lower bound on the GPU it ran on; the
        # deployment section has the bound on each deployed target's GPU
        "cost": cost_view(record),
        "glossary": term_anchor,  # a layer type → its line on glossary.md, or None
        "deployed_cost": cost_view(record, [p.target.gpu.model or "" for p in deployment.of(
            name_key(record))], host=False) if deployment is not None else None,
        "triton": triton_view(record),  # issue 15
        **reproduce_context(record),
        "changes": changes_shown(previous, record) if previous is not None else None,
        "baseline": baseline,
        "baseline_rows": _baseline_rows(record, baseline) if baseline is not None else [],
        **_findings_context(record, baseline),
        "warnings": sorted(as_tuple(record.warnings), key=text_key),
        "not_run": sorted(of_type(record.not_run, NotRun),
                          key=lambda n: (text_key(n.what), text_key(n.reason))),
    }


# The findings box: the worst severity decides its kind; only info stays folded.
_FINDINGS_BOX = {"error": "!!! failure", "warning": "!!! warning", "info": "??? info"}
_FINDING_NAMES = 5  # layers and ONNX nodes a finding lists on the page before "and N more"


@tolerant(lambda record, baseline: {"findings": [], "findings_notes": [],
                                      "findings_box": "", "findings_title": ""})
def _findings_context(record: EngineRecord, baseline: EngineRecord | None) -> dict[str, Any]:
    items, notes = findings.current_findings(record, baseline)
    counts: Counter[str] = Counter(f.severity for f in items)
    worst = next((s for s in reversed(finding_types.SEVERITIES) if counts[s]), "info")
    title = ", ".join(f"{counts[s]} {s}{'s' * (counts[s] != 1 and s != 'info')}"
                      for s in reversed(finding_types.SEVERITIES) if counts[s])
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
    except BAD_VALUE as exc:  # a wrong-typed value of a hand-edited record
        return {"config": None, "problem": f"the record cannot be read as a Triton model "
                f"({type(exc).__name__})", "model": None, "grouped": False, "rtx": False}
    return {"config": config, "problem": None, "model": name, "grouped": name != record.name,
            "rtx": record.backend == "tensorrt-rtx",
            "compute_capabilities": ccs}

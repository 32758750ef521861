"""What changed between two records of one engine (settings, profiles, model, memory,
accuracy, findings, layers), and between two sets of records by engine name: two files, or the
records folder against the same folder at a git ref."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from trtdoc.diff.changes import Change, Changes, Diff
from trtdoc.diff.git import records_at_ref
from trtdoc.diff.layers import layer_changes
from trtdoc.diff.times import layer_time_changes, time_changes
from trtdoc.errors import TrtdocError, display_path
from trtdoc.inspect.types import IOTensor
from trtdoc.record.files import read_record, read_record_file
from trtdoc.record.types import EngineRecord
from trtdoc.render.parameters import format_bytes_exact, format_seconds, format_shape, format_value


# --------------------------------------------------------------------------------------------
# Record-level comparison
# --------------------------------------------------------------------------------------------
def _pct(old: float, new: float) -> str:
    if old == 0:
        return ""
    return f"{(new - old) / old * 100:+.1f}%"


def _number_change(what: str, old: float | int | None, new: float | int | None,
                   fmt: Callable[[Any], str], *, counts: bool = True) -> Change | None:
    if old == new:
        return None
    delta = ""
    if old is not None and new is not None:
        delta = _pct(float(old), float(new))
    return Change(what, fmt(old), fmt(new), delta, counts)


def _counter_changes(old: Counter[str], new: Counter[str]) -> tuple[Change, ...]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old[key] != new[key]:
            out.append(Change(key, str(old[key]), str(new[key]), f"{new[key] - old[key]:+d}"))
    return tuple(out)


def _summary(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    rows = [
        _number_change("engine size", old.engine_bytes, new.engine_bytes, format_bytes_exact),
        _number_change("engine layers", len(old.inspection.layers), len(new.inspection.layers),
                       lambda n: f"{n:,}"),
    ]
    for name in ("weights", "activation", "scratch", "host_persistent", "device_persistent"):
        rows.append(_number_change(
            f"{name.replace('_', ' ')} memory", getattr(old.inspection.memory, name),
            getattr(new.inspection.memory, name), format_bytes_exact))
    if ((old.backend, old.backend_version, old.backend_cuda)
            != (new.backend, new.backend_version, new.backend_cuda)):
        rows.append(Change("backend", _backend(old), _backend(new)))
    if old.model_sha256 != new.model_sha256:
        rows.append(Change("model sha256", old.model_sha256[:12], new.model_sha256[:12]))
    if old.model is not None and new.model is not None:
        rows.append(_number_change("model nodes", old.model.nodes, new.model.nodes,
                                   lambda n: f"{n:,}"))
        rows.extend(Change(f"model {c.what} nodes", c.old, c.new, c.delta) for c in
                    _counter_changes(Counter(dict(old.model.op_histogram)),
                                     Counter(dict(new.model.op_histogram))))
        rows.append(_number_change("model parameters", old.model.parameters,
                                   new.model.parameters, lambda n: f"{n:,}"))
    # Not changes of the build (see Change.counts), shown after the ones that are.
    rows.append(_number_change("build time", old.build_seconds, new.build_seconds,
                               format_seconds, counts=False))
    if old.engine_sha256 != new.engine_sha256:
        rows.append(Change("engine sha256", (old.engine_sha256 or "")[:12],
                           (new.engine_sha256 or "")[:12], counts=False))
    return tuple(c for c in rows if c is not None)


def _backend(record: EngineRecord) -> str:
    cuda = f" (CUDA {record.backend_cuda})" if record.backend_cuda else ""
    return f"{record.backend} {record.backend_version}{cuda}"


def _settings(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    """The read-back settings by key, then any builder call whose key no setting has."""
    old_settings = {s.key: s.effective for s in old.settings}
    new_settings = {s.key: s.effective for s in new.settings}
    out = [Change(key, format_value(key, old_settings.get(key)),
                  format_value(key, new_settings.get(key)))
           for key in sorted(set(old_settings) | set(new_settings))
           if old_settings.get(key) != new_settings.get(key)]
    # Profiles are compared input by input (_profiles); every other call has a setting row.
    known = set(old_settings) | set(new_settings)

    def calls(record: EngineRecord) -> dict[str, list[str]]:
        by_key: dict[str, list[str]] = defaultdict(list)
        for a in record.applied:
            if a.key not in known and not a.key.startswith("profiles["):
                by_key[a.key].append(f"{a.call} {a.name} {a.value}".strip()
                                     if a.value is not None else f"{a.call} {a.name}".strip())
        return by_key

    old_calls, new_calls = calls(old), calls(new)
    for key in sorted(set(old_calls) | set(new_calls)):
        if old_calls.get(key) != new_calls.get(key):
            out.append(Change(key, "; ".join(old_calls.get(key, [])) or "not set",
                              "; ".join(new_calls.get(key, [])) or "not set"))
    return tuple(out)


def _profiles(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    """min/opt/max of each input in each profile, then each I/O tensor's type and shape."""
    def ranges(io: Iterable[IOTensor]) -> dict[tuple[int, str], str]:
        return {(i, t.name): " / ".join(format_shape(d) for d in (p.min, p.opt, p.max))
                for t in io if t.mode == "Input" for i, p in enumerate(t.profiles)}

    def tensors(io: Iterable[IOTensor]) -> dict[tuple[str, str], str]:
        return {(t.mode.lower(), t.name): f"{t.dtype} {format_shape(t.dims)}" for t in io}

    out = []
    a, b = ranges(old.inspection.io), ranges(new.inspection.io)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(Change(f"profile {key[0]} {key[1]} (min / opt / max)",
                              a.get(key, "none"), b.get(key, "none")))
    c, d = tensors(old.inspection.io), tensors(new.inspection.io)
    for mode, name in sorted(set(c) | set(d)):
        if c.get((mode, name)) != d.get((mode, name)):
            out.append(Change(f"{mode} {name}", c.get((mode, name), "none"),
                              d.get((mode, name), "none")))
    return tuple(out)


# Figures of one output as the page shows them (precision.accuracy writes them); compared
# as printed to four significant digits, so a last-bit difference is not a change.
_ACCURACY_FIGURES = ("max_abs", "mean_abs", "cosine", "top1_agreement", "nonfinite")


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "none" if value is None else str(value)


def _accuracy(old: EngineRecord, new: EngineRecord) -> tuple[Change, ...]:
    def figures(record: EngineRecord) -> dict[str, str]:
        acc = record.accuracy
        if acc is None:
            return {}
        out = {"samples": _figure(acc.samples), "runtime": _figure(acc.runtime)}
        for o in acc.outputs:
            for k in _ACCURACY_FIGURES:
                out[f"{o.name} {k}"] = _figure(getattr(o, k))
        return out

    a, b = figures(old), figures(new)
    return tuple(Change(f"accuracy {key}", a.get(key, "none"), b.get(key, "none"))
                 for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key))


def finding_changes(old: EngineRecord, new: EngineRecord
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Findings added and removed, compared by (kind, what): the list the page and
    ``trtdoc lint`` show (``findings.current_findings``: the stored one, or for a record from
    before findings, the one computed from the record)."""
    from trtdoc.findings.current import current_findings

    def keyed(record: EngineRecord) -> dict[tuple[str, str], str]:
        found, _ = current_findings(record)
        return {(f.kind, f.what): f"{f.severity} {f.kind}: {f.what}" for f in found}

    a, b = keyed(old), keyed(new)
    return (tuple(b[k] for k in sorted(set(b) - set(a))),
            tuple(a[k] for k in sorted(set(a) - set(b))))


def changes_between(old: EngineRecord, new: EngineRecord) -> Changes:
    """Compare two records of one engine (layers: see :mod:`trtdoc.diff.layers`)."""
    old_types = Counter(layer.type for layer in old.inspection.layers)
    new_types = Counter(layer.type for layer in new.inspection.layers)
    layers, renamed = layer_changes(old.inspection.layers, new.inspection.layers)
    added, removed = finding_changes(old, new)
    return Changes(
        engine=new.name,
        old_key=old.build_key,
        new_key=new.build_key,
        summary=_summary(old, new),
        settings=_settings(old, new),
        precision_mix=_counter_changes(Counter(dict(old.inspection.precision_mix())),
                                       Counter(dict(new.inspection.precision_mix()))),
        layer_types=_counter_changes(old_types, new_types),
        profiles=_profiles(old, new),
        accuracy=_accuracy(old, new),
        findings_added=added,
        findings_removed=removed,
        layers=layers,
        renamed=renamed,
        times=time_changes(old, new),
        layer_times=layer_time_changes(old.inspection.layers, new.inspection.layers),
    )


def one_side(name: str, status: Literal["new", "removed"], key: str) -> Changes:
    """An engine with a record on one side only."""
    return Changes(engine=name, old_key=key if status == "removed" else "",
                   new_key=key if status == "new" else "", summary=(), settings=(),
                   precision_mix=(), layer_types=(), status_override=status)


# --------------------------------------------------------------------------------------------
# Many engines: a records folder against another one, or against a git ref
# --------------------------------------------------------------------------------------------
def diff_records(old: Mapping[str, EngineRecord], new: Mapping[str, EngineRecord], *,
                 old_label: str, new_label: str) -> Diff:
    """Compare two sets of records by engine name."""
    engines = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            engines.append(one_side(name, "new", new[name].build_key))
        elif name not in new:
            engines.append(one_side(name, "removed", old[name].build_key))
        else:
            engines.append(changes_between(old[name], new[name]))
    return Diff(old_label, new_label, tuple(engines))


def diff_files(old: Path, new: Path) -> Diff:
    """Compare two record files (of one engine, or of two: ``trtdoc diff OLD.json NEW.json``)."""
    a, b = read_record_file(old), read_record_file(new)
    return Diff(str(old), str(new), (changes_between(a, b),))


def records_in_folder(folder: Path) -> dict[str, EngineRecord]:
    """Every record in ``folder`` by engine name (``read_record``: strict, one line a problem)."""
    if not folder.is_dir():
        raise TrtdocError(f"{display_path(folder)}: no such records folder; pass --records to "
                          "the folder "
                          "that holds the records/<name>.json files")
    return {p.stem: read_record(p) for p in sorted(folder.glob("*.json"))}


def diff_against_ref(folder: Path, ref: str) -> Diff:
    """The records in ``folder`` (the working tree) against the same folder at ``ref``."""
    old = records_at_ref(folder, ref)
    new = records_in_folder(folder)
    return diff_records(old, new, old_label=ref, new_label="working tree")

"""What changed between two records of one engine.

The build keeps the record it is about to replace as ``records/.history/<name>.json`` (see
:func:`history_path`); the site's "What changed" page compares each engine's record with that
one. Layer names that Myelin generates change between otherwise identical builds, so layers
are compared by count and by type, and named layers are listed only when the names are
stable (the same name in both builds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trtdoc.parameters import format_bytes_exact, format_seconds, format_value
from trtdoc.record import EngineRecord, read_record

HISTORY_DIR = ".history"


@dataclass(frozen=True)
class Change:
    """One quantity that differs: what, before, after (as page text), and by how much."""

    what: str
    old: str
    new: str
    delta: str = ""


@dataclass(frozen=True)
class Changes:
    """Everything that differs between ``old`` and ``new`` records of one engine."""

    engine: str
    old_key: str
    new_key: str
    summary: tuple[Change, ...]  # size, build time, memory, layer count, backend version
    settings: tuple[Change, ...]
    precision_mix: tuple[Change, ...]
    layer_types: tuple[Change, ...]
    layers_added: tuple[str, ...]
    layers_removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.summary or self.settings or self.precision_mix or self.layer_types
                    or self.layers_added or self.layers_removed)


def _pct(old: float, new: float) -> str:
    if old == 0:
        return ""
    return f"{(new - old) / old * 100:+.1f}%"


def _number_change(what: str, old: float | int | None, new: float | int | None,
                   fmt: object) -> Change | None:
    if old == new:
        return None
    render = fmt if callable(fmt) else str
    delta = ""
    if old is not None and new is not None:
        delta = _pct(float(old), float(new))
    return Change(what, render(old), render(new), delta)


def _counter_changes(old: Counter[str], new: Counter[str]) -> tuple[Change, ...]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old[key] != new[key]:
            out.append(Change(key, str(old[key]), str(new[key]), f"{new[key] - old[key]:+d}"))
    return tuple(out)


def changes_between(old: EngineRecord, new: EngineRecord) -> Changes:
    """Compare two records of one engine: layers, precision mix, size, memory, build time."""
    summary = [
        _number_change("engine size", old.engine_bytes, new.engine_bytes, format_bytes_exact),
        _number_change("build time", old.build_seconds, new.build_seconds, format_seconds),
        _number_change("engine layers", len(old.inspection.layers), len(new.inspection.layers),
                       lambda n: f"{n:,}"),
    ]
    for field in ("weights", "activation", "scratch", "host_persistent", "device_persistent"):
        summary.append(_number_change(
            f"{field.replace('_', ' ')} memory", getattr(old.inspection.memory, field),
            getattr(new.inspection.memory, field), format_bytes_exact))
    if (old.backend, old.backend_version) != (new.backend, new.backend_version):
        summary.append(Change("backend", f"{old.backend} {old.backend_version}",
                              f"{new.backend} {new.backend_version}"))
    if old.model_sha256 != new.model_sha256:
        summary.append(Change("model sha256", old.model_sha256[:12], new.model_sha256[:12]))
    if old.engine_sha256 != new.engine_sha256:
        summary.append(Change("engine sha256", (old.engine_sha256 or "")[:12],
                              (new.engine_sha256 or "")[:12]))

    old_settings = {s.key: s.effective for s in old.settings}
    new_settings = {s.key: s.effective for s in new.settings}
    settings = tuple(
        Change(key, format_value(key, old_settings.get(key)),
               format_value(key, new_settings.get(key)))
        for key in sorted(set(old_settings) | set(new_settings))
        if old_settings.get(key) != new_settings.get(key))

    old_types = Counter(layer.type for layer in old.inspection.layers)
    new_types = Counter(layer.type for layer in new.inspection.layers)
    old_names = {layer.name for layer in old.inspection.layers}
    new_names = {layer.name for layer in new.inspection.layers}
    return Changes(
        engine=new.name,
        old_key=old.build_key,
        new_key=new.build_key,
        summary=tuple(c for c in summary if c is not None),
        settings=settings,
        precision_mix=_counter_changes(Counter(dict(old.inspection.precision_mix())),
                                       Counter(dict(new.inspection.precision_mix()))),
        layer_types=_counter_changes(old_types, new_types),
        layers_added=tuple(sorted(new_names - old_names)),
        layers_removed=tuple(sorted(old_names - new_names)),
    )


def history_path(records_dir: Path, name: str) -> Path:
    """Where the build keeps the previous record of ``name``."""
    return records_dir / HISTORY_DIR / f"{name}.json"


def read_previous(records_dir: Path) -> Mapping[str, EngineRecord]:
    """Every kept previous record under ``records_dir/.history``, by engine name.

    An unreadable file is skipped: a missing comparison is better than a failed render.
    """
    from trtdoc.errors import RecordError

    folder = records_dir / HISTORY_DIR
    out: dict[str, EngineRecord] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            record = read_record(path)
        except RecordError:
            continue
        out[record.name] = record
    return out

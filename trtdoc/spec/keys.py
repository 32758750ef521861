"""The spec's part of the build key, and the accuracy key, computed from the typed spec section.

Every field of :class:`~trtdoc.spec.section.SpecSection` is in the build key unless its type
marks it :class:`~trtdoc.spec.section.NotInBuildKey`, so a new setting is in it without anyone
remembering to add it. A path counts by the bytes of the file (or folder) it names, not by
where it is: moving calibration data does not rebuild the engine, editing it does.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import TypeAdapter

from trtdoc.spec.section import NotInBuildKey, spec_section_from_spec
from trtdoc.spec.types import EngineSpec


def spec_build_key(spec: EngineSpec) -> str:
    """Hash of every setting that changes the engine (not description, owner or tags).

    ``accuracy`` is left out: it changes the check of the converted model, not the engine,
    so editing it re-runs the check (:func:`spec_accuracy_key`) without a TensorRT build.
    """
    return section_key(spec_section_from_spec(spec))


def spec_accuracy_key(spec: EngineSpec) -> str:
    """Hash of the accuracy settings and the bytes of their held-out data."""
    return section_key(spec_section_from_spec(spec).accuracy)


def section_key(value: Any) -> str:
    """sha256 of ``value`` as its record writes it, without the fields marked
    :class:`NotInBuildKey` and with each path replaced by the digest of its file's bytes."""
    data = None if value is None else _adapter(value).dump_python(value, mode="json")
    blob = json.dumps(_keyed(value, data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(value: Any) -> TypeAdapter[Any]:
    cls = type(value)
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


@functools.cache
def _left_out(cls: type) -> frozenset[str]:
    hints = get_type_hints(cls, include_extras=True)
    return frozenset(f.name for f in fields(cls) if any(
        isinstance(m, NotInBuildKey) for m in getattr(hints[f.name], "__metadata__", ())))


def _keyed(value: Any, data: Any) -> Any:
    if isinstance(value, Path):
        return file_digest(value)
    if is_dataclass(value) and not isinstance(value, type) and isinstance(data, dict):
        left_out = _left_out(type(value))
        for f in fields(value):
            if f.name in left_out:
                data.pop(f.name, None)
            elif f.name in data:
                data[f.name] = _keyed(getattr(value, f.name), data[f.name])
    return data


def file_digest(path: Path) -> str:
    """sha256 over the name and bytes of ``path``, or of every file below it, sorted."""
    h = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in paths:
        h.update(p.name.encode())
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()

"""Findings of records beside each other: the fp32 variant a lower precision is compared with,
and the findings a page, ``trtdoc lint`` and the diff show (:func:`current_findings`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trtdoc.model import ModelFacts
    from trtdoc.record.types import EngineRecord


from trtdoc.findings.rules import findings_from_record, requested_precision, size_finding
from trtdoc.findings.types import KINDS, SEVERITIES, Finding
from trtdoc.spec.section import SpecSection


# --------------------------------------------------------------------------------------------
# Records beside each other
# --------------------------------------------------------------------------------------------
def fp32_variant(record: EngineRecord, records: Iterable[EngineRecord]
                 ) -> EngineRecord | None:
    """The fp32 engine built from the same spec file and model, to compare a lower precision
    with: ``variants: {precision: [fp32, fp16, int8]}`` makes such siblings. The first fp32
    one by name wins, so the choice is stable."""
    spec = record.spec
    if not isinstance(spec, SpecSection) or spec.precision == "fp32":
        return None
    for other in sorted(records, key=lambda r: str(r.name)):
        o = other.spec
        if (other.name != record.name and isinstance(o, SpecSection) and o.precision == "fp32"
                and o.source == spec.source
                and other.model_sha256 == record.model_sha256):
            return other
    return None


# How much of a record fp32_candidates reads to tell whether it is an fp32 variant.
_HEAD_BYTES = 4 << 20


def fp32_candidates(folder: Path, record: EngineRecord) -> list[EngineRecord]:
    """The records in ``folder`` that may be ``record``'s fp32 variant (same model sha256).

    Only files whose bytes hold the model's sha256 and "fp32" are decoded, so a build does
    not decode every record beside it; a record that cannot be read is passed over (the
    build that reads it for itself says why).
    """
    from trtdoc.errors import RecordError
    from trtdoc.record.files import MAX_RECORD_BYTES, read_record

    sha = record.model_sha256
    if requested_precision(record) in ("", "fp32") or not sha or not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            if (path.stem == record.name or not path.is_file()
                    or path.stat().st_size > MAX_RECORD_BYTES):
                continue
            # The model's sha256 and the precision are written before the layers: the head
            # of the file tells, without reading a record of 10^5 layers whole per record.
            with path.open("rb") as f:
                raw = f.read(_HEAD_BYTES)
            if sha.encode() not in raw or b'"fp32"' not in raw:
                continue
            out.append(read_record(path))
        except (OSError, RecordError):
            continue
    return out


PREDATES = ("computed now: this record was written before trtdoc stored findings "
            "(`trtdoc build --force`, or `trtdoc import` again, stores them)")


def current_findings(record: EngineRecord, fp32: EngineRecord | None = None
                     ) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """The findings the page and ``trtdoc lint`` show, and notes on where they came from.

    The stored list, with the size against the fp32 variant computed again from ``fp32`` as
    it is now (it may have been rebuilt since), and a note when that changed the list. A
    record written before findings existed (``findings`` is null) gets them computed from the
    record alone, without the model's op types, and a note that says so.
    """
    stored = record.findings
    if stored is None:
        return findings_from_record(record, fp32=fp32), (PREDATES,)
    kept = [f for f in stored if f.kind != "larger-than-fp32"]
    fresh = list(size_finding(record, fp32)) if fp32 is not None else []
    old = [f for f in stored if f.kind == "larger-than-fp32"]
    notes: tuple[str, ...] = ()
    if [dict(f.numbers) for f in old] != [dict(f.numbers) for f in fresh]:
        name = fp32.name if fp32 is not None else "its fp32 variant"
        notes = (f"the size against {name} was computed again: {name} changed (or appeared, "
                 "or went) since this record was built",)
    else:
        fresh = old
    every = kept + fresh
    return tuple(sorted(every, key=lambda f: (-SEVERITIES.index(f.severity),
                                              KINDS.index(f.kind), f.what))), notes


def with_findings(record: EngineRecord, *, model: ModelFacts | None = None,
                  records: Iterable[EngineRecord] = ()) -> EngineRecord:
    """``record`` holding its findings, its fp32 variant looked up among ``records``."""
    return replace(record, findings=findings_from_record(
        record, model=model, fp32=fp32_variant(record, records)))

"""What a finding is: its kinds and severities, and the one typed :class:`Finding` a record
stores (``findings`` in the JSON)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, PlainSerializer

Kind = Literal["precision-island", "reformat-cast", "qdq-unfused", "int8-coverage",
               "build-warnings", "profile-range", "larger-than-fp32", "turing-fp32-gemm"]
Severity = Literal["info", "warning", "error"]
KINDS: tuple[str, ...] = get_args(Kind)
SEVERITIES: tuple[str, ...] = get_args(Severity)  # in rising order

_SHOWN = 3  # names a line shows before "(+N more)"


_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


_Numbers = Annotated[Mapping[str, int | float], PlainSerializer(_plain), Field(description=(
    "The figures behind the finding (counts, shares in percent, bytes, ratios)."))]


@dataclass(frozen=True)
class Finding:
    """One thing a build tells you: what, where, why it matters, what to try."""

    __pydantic_config__ = _CONFIG

    kind: Kind
    severity: Severity
    what: str
    why: str
    fix: Annotated[str, Field(description="What to try.")]
    layers: Annotated[tuple[str, ...], Field(description="Engine layer names.")] = ()
    onnx_nodes: Annotated[tuple[str, ...], Field(description=(
        "ONNX nodes those layers came from (the build log's Metadata)."))] = ()
    onnx_ops: Annotated[tuple[str, ...], Field(description=(
        "The op types of those nodes, where the built model was read."))] = ()
    tensors: Annotated[tuple[str, ...], Field(description="Engine I/O tensors.")] = ()
    numbers: _Numbers = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))

    def where(self) -> str:
        """``layers A, B (+3 more); ONNX nodes x, y``: a short place for a one-line report."""
        parts = [f"{label} {_some(names)}" for label, names in (
            ("layers", self.layers), ("ONNX nodes", self.onnx_nodes),
            ("inputs", self.tensors)) if names]
        return "; ".join(parts) or "the engine"

    def line(self, engine: str) -> str:
        """``<engine>: <severity>: <what> — <where>; try: <fix>`` (``trtdoc lint``)."""
        return f"{engine}: {self.severity}: {self.what} — {self.where()}; try: {self.fix}"


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(n if _plain_name(n) else repr(n) for n in names[:_SHOWN])
    more = len(names) - _SHOWN
    return shown + (f" (+{more} more)" if more > 0 else "")


def _plain_name(name: str) -> bool:
    # Names are untrusted: one with spaces, commas or control characters is quoted so the line
    # still reads as one line with its list intact.
    return bool(name) and not re.search(r"[\s,;'\"\\]|[^\x20-\x7e]", name)


def severity_at_least(severity: str, floor: str) -> bool:
    """Whether ``severity`` is ``floor`` or worse (``SEVERITIES`` order)."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)

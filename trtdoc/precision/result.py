"""What the precision step did (:class:`PrecisionResult`) and the calibration data it was given.

The result is what a page shows and what the converted-model cache keeps beside each model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Calibration:
    """Calibration data for int8/fp8: an .npz, an .npy, or a folder of them; ``batches`` to use."""

    data: Path
    batches: int


@dataclass(frozen=True)
class PrecisionResult:
    """What the precision step did, as a page shows it. ``model`` is the file to build."""

    source: Path
    model: Path
    precision: str
    method: str
    tool: str
    tool_version: str
    calibration: str | None  # "data", "random" (seeded: scales are a guess), None if not used
    calibration_batches: int | None
    calibration_samples: int | None
    cache_key: str
    cache_hit: bool
    seconds: float  # time the conversion took when it ran (also on a cache hit)
    nodes_before: int
    nodes_after: int
    qdq_nodes: int
    cast_nodes: int
    low_precision_ops: tuple[tuple[str, int], ...]  # op type -> nodes computing in `precision`
    # op type -> float nodes left in fp32 (for int8/fp8: not quantized themselves, though
    # TensorRT may still fuse them into a quantized layer)
    fp32_ops: tuple[tuple[str, int], ...]
    untouched_inputs: tuple[str, ...]  # non-float graph inputs, passed through as they were
    notes: tuple[str, ...] = ()
    # The conversion as Python calls, in order, with every option passed ("model" is the file
    # before that call): what a page prints to reproduce the converted model.
    calls: tuple[str, ...] = ()
    checked: str = ""  # the checks the converted model passed before it was built

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        """JSON-ready, in a fixed key order; paths relative to ``base`` when given."""

        def rel(p: Path) -> str:
            if base is not None:
                from trtdoc.project import project_path

                return project_path(p, base)
            return p.as_posix()

        return {
            "source": rel(self.source),
            "model": rel(self.model),
            "precision": self.precision,
            "method": self.method,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "calibration": self.calibration,
            "calibration_batches": self.calibration_batches,
            "calibration_samples": self.calibration_samples,
            "cache_key": self.cache_key,
            "cache_hit": self.cache_hit,
            "seconds": round(self.seconds, 3),
            "nodes_before": self.nodes_before,
            "nodes_after": self.nodes_after,
            "qdq_nodes": self.qdq_nodes,
            "cast_nodes": self.cast_nodes,
            "low_precision_ops": [[op, n] for op, n in self.low_precision_ops],
            "fp32_ops": [[op, n] for op, n in self.fp32_ops],
            "untouched_inputs": list(self.untouched_inputs),
            "notes": list(self.notes),
            "calls": list(self.calls),
            "checked": self.checked,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], base: Path | None = None) -> PrecisionResult:
        """Inverse of :meth:`to_dict`; relative paths are taken from ``base`` when given."""

        def path(s: str) -> Path:
            p = Path(s)
            return base / p if base is not None and not p.is_absolute() else p

        return cls(
            source=path(d["source"]),
            model=path(d["model"]),
            precision=d["precision"],
            method=d["method"],
            tool=d["tool"],
            tool_version=d["tool_version"],
            calibration=d["calibration"],
            calibration_batches=d["calibration_batches"],
            calibration_samples=d["calibration_samples"],
            cache_key=d["cache_key"],
            cache_hit=d["cache_hit"],
            seconds=float(d["seconds"]),
            nodes_before=d["nodes_before"],
            nodes_after=d["nodes_after"],
            qdq_nodes=d["qdq_nodes"],
            cast_nodes=d["cast_nodes"],
            low_precision_ops=tuple((op, n) for op, n in d["low_precision_ops"]),
            fp32_ops=tuple((op, n) for op, n in d["fp32_ops"]),
            untouched_inputs=tuple(d["untouched_inputs"]),
            notes=tuple(d.get("notes", ())),
            calls=tuple(d.get("calls", ())),
            checked=d.get("checked", ""),
        )

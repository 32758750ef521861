"""What the precision step did (:class:`PrecisionResult`) and the calibration data it was given.

The result is what a page shows and what the converted-model cache keeps beside each model. Its
type is its encoding: the record's ``"precision"`` object and the cache file are both written and
read through it (:mod:`trtdoc.typed`), the record's with project-relative paths
(:meth:`PrecisionResult.in_project`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PlainSerializer

# Decoded as strictly as the record around it: no unknown key, no NaN or Infinity.
_CONFIG: Any = {"extra": "forbid", "allow_inf_nan": False}
# A path as the record and the cache file write it: POSIX form, relative in a record.
_PosixPath = Annotated[Path, PlainSerializer(Path.as_posix, return_type=str)]
_Count = Annotated[int, Field(ge=0)]


@dataclass(frozen=True)
class Calibration:
    """Calibration data for int8/fp8: an .npz, an .npy, or a folder of them; ``batches`` to use."""

    data: Path
    batches: int
    sample_axis: tuple[tuple[str, int], ...] = ()  # input -> axis, where the model does not say


@dataclass(frozen=True)
class PrecisionResult:
    """What the precision step did, as a page shows it. ``model`` is the file to build.

    The fields are the JSON keys in file order.
    """

    __pydantic_config__ = _CONFIG

    source: _PosixPath
    model: _PosixPath
    precision: str
    method: str
    tool: str
    tool_version: str
    calibration: str | None  # "data", "random" (seeded: scales are a guess), None if not used
    calibration_batches: _Count | None
    calibration_samples: _Count | None
    cache_key: str
    cache_hit: bool
    # time the conversion took when it ran (also on a cache hit), to the millisecond
    seconds: Annotated[float, Field(ge=0),
                       PlainSerializer(lambda s: round(s, 3), return_type=float)]
    nodes_before: _Count
    nodes_after: _Count
    qdq_nodes: _Count
    cast_nodes: _Count
    # op type -> nodes computing in `precision`
    low_precision_ops: tuple[tuple[str, _Count], ...]
    # op type -> float nodes left in fp32 (for int8/fp8: not quantized themselves, though
    # TensorRT may still fuse them into a quantized layer)
    fp32_ops: tuple[tuple[str, _Count], ...]
    untouched_inputs: tuple[str, ...]  # non-float graph inputs, passed through as they were
    notes: tuple[str, ...] = ()
    # The conversion as Python calls, in order, with every option passed ("model" is the file
    # before that call): what a page prints to reproduce the converted model.
    calls: tuple[str, ...] = ()
    checked: str = ""  # the checks the converted model passed before it was built
    # Nodes that read weights the conversion clamped to the largest fp16 value: what a failed
    # gate names, with keep_fp32 (only when there are some, so older records stay as they are).
    clamped_nodes: Annotated[tuple[str, ...], Field(exclude_if=lambda v: not v)] = ()

    # The sha256 of ``model`` as sha256sum prints it, so the page's reproduce snippet can be
    # checked; set by the build (:meth:`in_project`), left out of the cache file.
    model_sha256: Annotated[str | None, Field(
        exclude_if=lambda v: v is None, description=(
            "sha256 of the converted model the engine was built from, as sha256sum "
            "prints it"))] = None

    def in_project(self, root: Path) -> PrecisionResult:
        """The result as a record keeps it: ``source`` and ``model`` relative to the project
        root ``root`` (records are checked in, so they must not depend on the checkout), and
        the converted model's sha256. The build's own result keeps the absolute paths."""
        from trtdoc.model import file_sha256
        from trtdoc.project import project_path

        return replace(self, source=Path(project_path(self.source, root)),
                       model=Path(project_path(self.model, root)),
                       model_sha256=file_sha256(self.model))

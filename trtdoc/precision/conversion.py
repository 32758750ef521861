"""What one converter function hands back (:class:`Conversion`), its calls written as Python,
and how converters save the model they made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Conversion:
    """What a converter function did: its calls (as Python), notes, and a corrected method."""

    calls: tuple[str, ...]
    notes: tuple[str, ...] = ()
    method: str | None = None  # None: the precision's usual method
    # Nodes reading weights the conversion clamped past the target's largest value.
    clamped_nodes: tuple[str, ...] = ()


def _literal(value: Any) -> str:
    """``value`` as Python source: enums by name (QuantType.QInt8), containers element-wise."""
    import enum

    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def python_call(function: str, *args: str, **kwargs: Any) -> str:
    """One converter call as a line of Python; ``args`` are names (model, calibration_reader)."""
    return f"{function}({', '.join([*args, *(f'{k}={_literal(v)}' for k, v in kwargs.items())])})"


def save_model(proto: Any, out: Path, external: bool) -> None:
    """Write ``proto`` to ``out``; with ``external``, its weights go to one ``<out>.data`` file."""
    import onnx

    if external:
        onnx.save(proto, str(out), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=out.name + ".data")
    else:
        onnx.save(proto, str(out))

"""Value types a spec key may hold, each with its validator and its JSON Schema: sizes,
dimensions, paths, bounded numbers and builder flags.

They are shared by the spec schema and the project file's (``trtdoc.yml``).
"""

from __future__ import annotations

import difflib
import math
import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from trtdoc.spec.json_schema import JsonSchema, any_case
from trtdoc.spec.limits import MAX_DIM, MAX_PATH_CHARS, MAX_POOL_BYTES, MAX_RANK
from trtdoc.spec.text import excerpt, short_number

# Builder flags a spec may name; whether the installed TensorRT has one is checked at build time.
KNOWN_FLAGS = (
    "debug", "direct_io", "disable_compilation_cache", "disable_timing_cache",
    "distributive_independence", "editable_timing_cache", "error_on_timing_cache_miss",
    "exclude_lean_runtime", "gpu_fallback", "monitor_memory", "prefer_precision_constraints",
    "obey_precision_constraints", "refit", "refit_identical", "refit_individual",
    "reject_empty_algorithms", "require_user_allocation", "safety_scope", "sparse_weights",
    "strict_nans", "strip_plan", "tf32", "version_compatible", "weight_streaming",
)


# Written without flags or \d so that the same pattern is valid in the JSON Schema (ECMA-262),
# whose `pattern` has no IGNORECASE and whose \d is ASCII only.
SIZE_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMmGgTt][Ii]?[Bb]|[Bb])?\s*$"
_SIZE_RE = re.compile(SIZE_PATTERN)
_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}

# YAML 1.1 reads `1e-2` (no dot) as a string; _as_float accepts it.
_NUMBER_PATTERN = r"^\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$"


def parse_size(value: Any) -> int:
    """``512MiB``, ``1GiB``, ``1.5GB`` or a plain byte count → bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value}; write a byte count, "
                             "or a number with a unit such as 512MiB")
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m:
            number, unit = float(m.group(1)), (m.group(2) or "b").lower()
            if math.isfinite(number * _UNITS[unit]):
                return int(number * _UNITS[unit])
    raise ValueError(f"{excerpt(value)} is not a size; write bytes or a number with a unit "
                     "(B, KiB, MiB, GiB, KB, MB, GB)")


def _pool_bound(value: int) -> int:
    if value > MAX_POOL_BYTES:
        raise ValueError(f"{value} bytes is more than 1 PiB ({MAX_POOL_BYTES} bytes), the "
                         "largest memory pool trtdoc passes to TensorRT; give a real size "
                         "such as 4GiB, or leave the key out for TensorRT's default")
    return value


def _dims(value: list[int]) -> list[int]:
    if len(value) > MAX_RANK:
        raise ValueError(f"{len(value)} dimensions is more than the {MAX_RANK} a TensorRT "
                         f"tensor has; give one value per model dimension")
    for d, size in enumerate(value):
        if not -MAX_DIM - 1 <= size <= MAX_DIM:
            raise ValueError(f"dimension {d} is {short_number(size)}, outside the int32 range "
                             f"(at most {MAX_DIM}); give a real size")
    return value


def int_at_most(limit: int, what: str, hint: str) -> Any:
    """An int of at most ``limit``, with a message of its own (and the schema's maximum)."""
    def check(value: int) -> int:
        if value > limit:
            raise ValueError(f"{short_number(value)} is more than the {limit} {what}; {hint}")
        return value
    return Annotated[int, AfterValidator(check), JsonSchema(maximum=limit)]


def _path(value: str) -> str:
    if "\0" in value or len(value) > MAX_PATH_CHARS or not value:
        raise ValueError(f"{excerpt(value)} is not a usable path; write a path relative to the "
                         "spec file")
    return value


def _as_float(value: Any) -> Any:
    # YAML 1.1 reads `1e-2` (no dot) as a string; the spec sketch writes tolerances that way.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _known_flag(value: str) -> str:
    # Checked per item, so that an error names the item's own position in the file.
    if value.lower() in KNOWN_FLAGS:
        return value
    close = difflib.get_close_matches(value.lower(), KNOWN_FLAGS, n=1, cutoff=0.6)
    hint = (f"did you mean '{close[0]}'?" if close else "use TensorRT BuilderFlag names in "
            f"lower case, e.g. {', '.join(KNOWN_FLAGS[:3])}")
    raise ValueError(f"unknown builder flag {excerpt(value)}; {hint}")


def float_within(**bounds: float) -> Any:
    """A number (or a string YAML did not read as one) within ``bounds`` (ge, le)."""
    # pydantic cannot turn a bound behind a BeforeValidator into JSON Schema; this does.
    number = {"type": "number", **{{"ge": "minimum", "le": "maximum"}[k]: v
                                   for k, v in bounds.items()}}
    # Field's overloads name each bound; mypy cannot match them to a **dict of floats.
    return Annotated[float, BeforeValidator(_as_float),
                     Field(**bounds),  # type: ignore[call-overload]
                     JsonSchema(lambda _: {"anyOf": [number, {"type": "string",
                                                              "pattern": _NUMBER_PATTERN}]})]


Size = Annotated[int, BeforeValidator(parse_size), AfterValidator(_pool_bound), JsonSchema(
    lambda _: {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_POOL_BYTES},
                         {"type": "string", "pattern": SIZE_PATTERN}],
               "description": "bytes, or a number with a unit: 512MiB, 1GiB, 1.5GB"})]
Dims = Annotated[list[int], AfterValidator(_dims), JsonSchema(
    maxItems=MAX_RANK, items={"type": "integer", "minimum": -MAX_DIM - 1, "maximum": MAX_DIM})]
PathText = Annotated[str, AfterValidator(_path), JsonSchema(
    minLength=1, maxLength=MAX_PATH_CHARS, pattern="^[^\\u0000]*$")]
# A type built by a call is not a type to mypy: it sees the plain type it validates to.
if TYPE_CHECKING:
    Float = float
else:
    Float = float_within()
Flag = Annotated[str, AfterValidator(_known_flag), JsonSchema(
    lambda text: {"anyOf": [{"enum": list(KNOWN_FLAGS)}, {**text, "pattern": "^(?:" + "|".join(
        any_case(f) for f in KNOWN_FLAGS) + ")$"}]})]

"""Encoding, decoding and the JSON Schema of a record, all from the types; one line per bad
record.

* decoding (:func:`record_from_json`) is strict: a string, a float or a boolean where an
  integer belongs is refused, and so is a key this trtdoc does not write (a typo, or a field
  of another tool, would otherwise vanish on the next write). Each refusal is one
  :class:`RecordError` line naming the file, the field path and the fix;
* encoding (:func:`trtdoc.typed.encode`, and :mod:`trtdoc.record.text` for the file's text)
  writes the keys in the order of the types' fields;
* ``trtdoc/schema/record.schema.json`` is generated: ``python -m trtdoc.record --schema``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from trtdoc.errors import FutureRecordError, InspectError, RecordError
from trtdoc.inspect.json_stream import JsonStream
from trtdoc.inspect.types import Layer
from trtdoc.record.stream import SCAN, DuplicateKeyError, walk_record
from trtdoc.record.types import SCHEMA_VERSION, EngineRecord
from trtdoc.typed import adapter

SCHEMA_PATH = Path(__file__).parent.parent / "schema" / "record.schema.json"
SCHEMA_COMMAND = "python -m trtdoc.record --schema > trtdoc/schema/record.schema.json"
FIX = "rebuild it with `trtdoc build --force`"
_EXCERPT = 40  # characters of a bad value an error line quotes
# More layers than any record trtdoc writes (imports stop at 2,000,000, one copy per profile
# at most a few): past it a record is refused while it is read.
MAX_RECORD_LAYERS = 4_000_000


def record_adapter() -> TypeAdapter[EngineRecord]:
    """The one adapter of :class:`EngineRecord`: its decoder, encoder and JSON Schema."""
    return adapter(EngineRecord)


def record_from_json(text: str | bytes, *, path: Path | None = None) -> EngineRecord:
    """Decode a record's text; anything but a record this trtdoc writes is a
    :class:`RecordError` (a :class:`FutureRecordError` for a newer schema) naming ``path``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                              f"{exc.start}); {FIX}", path=path) from None
    whole = text
    return record_from_stream(JsonStream("record", None, text=text, scan=SCAN), path=path,
                              whole=lambda: whole)


def record_from_stream(s: JsonStream, *, path: Path | None,
                       whole: Callable[[], str] | None = None) -> EngineRecord:
    """Decode the record ``s`` reads, one layer at a time (:mod:`trtdoc.record.stream`).

    ``whole()``, when given, is the whole text: a bad record is then judged whole, so its one
    line is the same whichever way it was read. A stream too large to hold is judged as it
    goes: the first problem in the record around the layers, else the first bad layer.
    """
    from dataclasses import replace

    layer_adapter = adapter(Layer)
    layers: list[Layer] = []
    # Equal tensors (a layer's output is the next one's input) and fused names are kept once:
    # the decoder makes a new object for each, and a record of 10^5 layers holds millions.
    shared: dict[Any, Any] = {}
    bad: list[tuple[int, str, ValidationError]] = []

    def layer(i: int, text: str) -> None:
        if bad:
            return  # the first bad layer is the one reported
        try:
            decoded = layer_adapter.validate_json(text, strict=True)
        except ValidationError as exc:
            bad.append((i, text, exc))
            return
        for field in ("inputs", "outputs", "constants", "fused"):
            items = getattr(decoded, field)
            if items:
                # The layer was decoded a moment ago and is not shared yet.
                object.__setattr__(decoded, field,
                                   tuple([shared.setdefault(t, t) for t in items]))
        layers.append(decoded)
        if len(shared) > 1 << 20:
            shared.clear()

    try:
        shell = walk_record(s, layer, max_layers=MAX_RECORD_LAYERS)
    except DuplicateKeyError as exc:
        where = f"{exc.where}: " if exc.where else ""
        raise RecordError(f"{where}the key {excerpt(exc.key)} is written twice in one object "
                          "(JSON readers disagree on which value counts); keep one, or "
                          f"{FIX}", path=path) from None
    except InspectError as exc:
        if whole is not None:
            return _record_from_whole(whole(), path)
        message = str(exc).removeprefix("the record is ")
        raise RecordError(f"{message}; {FIX}", path=path) from None
    try:
        record = record_adapter().validate_json(shell, strict=True)
    except ValidationError as exc:
        if whole is not None:
            return _record_from_whole(whole(), path)
        raise _decode_error(shell, exc, path) from None
    if bad:
        if whole is not None:
            return _record_from_whole(whole(), path)
        i, text, error = bad[0]
        raise RecordError(f"{_first_problem(json.loads(text), error, f'inspection.layers[{i}]')}"
                          f"; {FIX}", path=path)
    return replace(record, inspection=replace(record.inspection, layers=tuple(layers)))


def _record_from_whole(text: str, path: Path | None) -> EngineRecord:
    try:
        return record_adapter().validate_json(text, strict=True)
    except ValidationError as exc:
        raise _decode_error(text, exc, path) from None



def record_schema() -> dict[str, Any]:
    """The JSON Schema of a record file, generated from :class:`EngineRecord`."""
    body = record_adapter().json_schema(by_alias=True, schema_generator=_RecordJsonSchema)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://trtdoc.dev/schema/record-{SCHEMA_VERSION}.json",
        "title": "trtdoc build record",
        "description": (
            "One engine: the spec it came from, the model, the backend, the effective builder "
            "settings, the engine file, its layers and I/O, and what was not run. Written by "
            "`trtdoc build` and `trtdoc import`; every page is rendered from it. Generated "
            f"from trtdoc/record/types.py by `{SCHEMA_COMMAND}`."),
    }
    body.pop("title", None)
    body.pop("description", None)
    return {**head, **body}


def schema_text() -> str:
    """What ``trtdoc/schema/record.schema.json`` holds."""
    return json.dumps(record_schema(), indent=1, ensure_ascii=False) + "\n"


class _RecordJsonSchema(GenerateJsonSchema):
    # Titles made from field names ("Ir Version") say nothing the key does not.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False



# --------------------------------------------------------------------------------------------
# One line per bad record
# --------------------------------------------------------------------------------------------
_EXPECTED = {
    "int_type": "an integer", "string_type": "a string", "float_type": "a number",
    "bool_type": "true or false", "tuple_type": "a list", "list_type": "a list",
    "frozen_set_type": "a list", "set_type": "a list", "dataclass_type": "an object",
    "dataclass_exact_type": "an object", "dict_type": "an object", "model_type": "an object",
    "finite_number": "a finite number", "none_required": "null",
}
_KIND = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
         list: "a list", dict: "an object", type(None): "null"}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")
_MISSING = ("missing", "missing_keyword_only_argument", "missing_argument")


def _decode_error(text: str, exc: ValidationError, path: Path | None) -> RecordError:
    errors = exc.errors(include_url=False)
    if errors[0]["type"] == "json_invalid":
        why = str(errors[0].get("ctx", {}).get("error", errors[0]["msg"]))
        if why.startswith("recursion limit exceeded"):
            why = "nested too deeply: " + why
        return RecordError(f"not valid JSON ({why}); {FIX}", path=path)
    import pydantic_core

    data = pydantic_core.from_json(text)  # valid JSON: validate_json got past the parse
    if not isinstance(data, dict):
        return RecordError(
            f"not a trtdoc record: the file holds {_kind(data, json_word=True)}, not a JSON "
            f"object; {FIX}", path=path)
    version = data.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        return FutureRecordError(
            f"schema_version {version} is newer than the {SCHEMA_VERSION} this trtdoc reads: "
            "the record was written by a newer trtdoc; upgrade trtdoc "
            "(`pip install --upgrade trtdoc`) to read it", path=path)
    if "schema_version" not in data:
        return RecordError(f"schema_version: missing, so this is not a trtdoc record; {FIX}",
                           path=path)
    if type(version) is not int or version != SCHEMA_VERSION:
        return RecordError(f"schema_version: expected {SCHEMA_VERSION}, got "
                           f"{_got(version)}; {FIX}", path=path)
    return RecordError(f"{_first_problem(data, exc)}; {FIX}", path=path)


def _first_problem(data: Any, exc: ValidationError, prefix: str = "") -> str:
    """One line per file: the first field at fault, and how many others there are."""
    problems: dict[str, list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        problems.setdefault(_field_path(data, err, prefix), []).append(dict(err))
    (where, errs), others = next(iter(problems.items())), len(problems) - 1
    more = f" (and {others} more problem{'s' * (others != 1)})" if others else ""
    return f"{where}: {_problem(errs)}{more}"


def _field_path(data: Any, err: Any, prefix: str = "") -> str:
    """``model.facts.opset[0][1]``: the error's location in the file, without the names
    pydantic gives the members of a union."""
    parts: list[str] = [prefix] if prefix else []
    node = data
    loc = err["loc"]
    for i, item in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(item, str) and item in node
        in_list = isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)
        if in_dict or in_list:
            node = node[item]
        elif not (i == len(loc) - 1 and err["type"] in _UNKNOWN + _MISSING):
            continue  # a union member's tag, not a key of the file
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.isidentifier():
            parts.append(f".{item}" if parts else item)
        else:
            parts.append(f"[{excerpt(item)}]")
    return "".join(parts) or "(the record)"


def _problem(errs: list[dict[str, Any]]) -> str:
    first = errs[0]
    kind = first["type"]
    if kind in _UNKNOWN:
        return "unknown key (trtdoc writes no such field here)"
    if kind in _MISSING:
        return "missing"
    expected: list[str] = []
    for err in errs:
        word = _expected(err)
        if word not in expected:
            expected.append(word)
    return f"expected {' or '.join(expected)}, got {_got(first.get('input'))}"


def _expected(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx.get('ge')}"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')!r}"
    if kind == "string_too_long":
        return f"a string of at most {ctx.get('max_length'):,} characters"
    if kind == "too_long" and "min_length" not in ctx:
        return f"a list of at most {ctx.get('max_length'):,} items"
    if kind in ("too_short", "too_long"):
        return f"a list of {ctx.get('min_length') or ctx.get('max_length')} items"
    msg = str(err.get("msg", kind))
    return msg.removeprefix("Input should be ").rstrip(".")


def _got(value: Any) -> str:
    if isinstance(value, (list, dict)) or value is None:
        return _kind(value)
    shown = excerpt(value) if isinstance(value, str) else excerpt(json.dumps(value))[1:-1]
    return f"{shown} ({_kind(value)})"


def _kind(value: Any, *, json_word: bool = False) -> str:
    word = _KIND.get(type(value), type(value).__name__)
    if json_word and value is not None:
        return word.replace("a ", "a JSON ", 1).replace("an ", "a JSON ", 1)
    return "JSON null" if json_word else word


def excerpt(value: str) -> str:
    """``repr(value)``, escaped and cut to at most 40 characters."""
    shown = repr(value)
    return shown if len(shown) <= _EXCERPT else shown[:_EXCERPT - 1] + "…"

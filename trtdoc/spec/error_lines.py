"""pydantic's ``ValidationError`` → one located line per problem, each with a fix.

Used for specs and for ``trtdoc.yml``; each line reads
``file:line:col: key.path: message. Hint: fix``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from trtdoc.errors import SpecError
from trtdoc.spec.limits import EXCERPT_CHARS, MAX_PROBLEMS_PER_FILE
from trtdoc.spec.locations import KeyPath, MoreProblems, format_key
from trtdoc.spec.text import excerpt, short_number
from trtdoc.spec.yaml_source import Document

_TYPE_WORDS = {
    "int_type": "an integer", "int_parsing": "an integer", "string_type": "a string",
    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
    "float_type": "a number", "float_parsing": "a number", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


_TYPE_HINTS = {
    "list_type": "write a list, as `[a, b]` or one `- item` per line",
    "dict_type": "write a mapping, as `{key: value}` or one `key: value` per line",
    "model_type": "write a mapping, as `{key: value}` or one `key: value` per line",
    "model_attributes_type": "write a mapping, as `{key: value}` or one `key: value` per line",
}


def _example_for(path: KeyPath) -> str:
    examples = {
        "name": "name: resnet18-fp16", "model": "model: ../models/resnet18.onnx",
        "calibration.data": "data: ../calib/sample.npz",
    }
    return examples.get(format_key(tuple(p for p in path if not isinstance(p, int))), "")


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping", type(None): "nothing"}.get(type(value), "a value")
    text = excerpt(value) if isinstance(value, (int, float, str, bool)) else ""
    return f"{kind} {text}".strip()


def located_errors(exc: ValidationError, doc: Document,
                   keys_at: Mapping[str, tuple[str, ...]]) -> list[SpecError]:
    """One line per problem, for the first MAX_PROBLEMS_PER_FILE in file order; the rest are
    only counted, since a hint (``difflib``) costs far more than finding the problem.
    ``keys_at`` gives the keys allowed at each level, for "did you mean" (for a spec:
    ``trtdoc.spec.schema.KEYS_AT``)."""
    found = []
    for err in exc.errors(include_url=False, include_context=True, include_input=True):
        path = _key_path(err["loc"], doc.data)
        where = doc.locator.find(path, at_key=err["type"] == "extra_forbidden")
        found.append(((str(where.path), where.line or 0, where.col or 0), path, err))
    found.sort(key=lambda f: f[0])
    out = [_spec_error(path, err, doc, keys_at)
           for _, path, err in found[:MAX_PROBLEMS_PER_FILE]]
    if len(found) > MAX_PROBLEMS_PER_FILE:
        out.append(MoreProblems(doc.locator.default, len(found) - MAX_PROBLEMS_PER_FILE))
    return out


def _key_path(loc: Sequence[str | int], data: Any) -> KeyPath:
    """pydantic's error location without its own steps (``function-after[...]``), keeping a
    spec key that merely contains ``[``."""
    out: list[str | int] = []
    here = data
    for part in loc:
        inside = (part in here if isinstance(here, dict) else isinstance(here, list)
                  and isinstance(part, int) and 0 <= part < len(here))
        if inside:
            here = here[part]
        elif isinstance(part, str) and "[" in part:
            continue
        elif part in ("limits", "slices") and out[:2] == ["accuracy", "outputs"] \
                and len(out) == 3:
            continue  # the tag of accuracy.outputs.<name>'s two forms, not a spec key
        else:
            here = None
        out.append(part)
    return tuple(out)


def _spec_error(path: KeyPath, err: Any, doc: Document,
                keys_at: Mapping[str, tuple[str, ...]]) -> SpecError:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = path[-1]
        parent = tuple(path[:-1])
        level = ("profile" if parent and parent[0] == "profiles" and len(parent) == 3
                 else "accuracy.outputs.*" if parent[:2] == ("accuracy", "outputs")
                 and len(parent) == 3
                 else "accuracy.outputs.*[]" if parent[:2] == ("accuracy", "outputs")
                 and len(parent) == 4
                 else format_key(tuple(p for p in parent if not isinstance(p, int))))
        allowed = keys_at.get(level, ())
        close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], allowed, n=1, cutoff=0.6)
        hint = (f"did you mean '{close[0]}'?" if close
                else f"valid keys here: {', '.join(allowed)}")
        return doc.locator.error(path, f"unknown key {excerpt(key)}", hint, at_key=True)
    if kind == "missing":
        example = _example_for(path)
        hint = f"add `{example}`" if example else f"add the key '{path[-1]}'"
        return doc.locator.error(path, "required key is missing", hint)
    if kind == "literal_error":
        expected = err["ctx"]["expected"]
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        given = err["input"]
        close = difflib.get_close_matches(str(given)[:EXCERPT_CHARS], options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(options)}"
        return doc.locator.error(path, f"{excerpt(given)} is not one of {', '.join(options)}",
                                 hint)
    if kind in _TYPE_WORDS:
        return doc.locator.error(
            path, f"expected {_TYPE_WORDS[kind]}, got {_describe(err['input'])}",
            _TYPE_HINTS.get(kind, "fix the value's type (quotes make a string)"))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        given = err["input"]
        shown = short_number(given) if isinstance(given, int) else excerpt(given)
        return doc.locator.error(path, f"{shown} is out of range: {err['msg'].lower()}",
                                 "choose a value in the allowed range")
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    message, _, hint = msg.partition("; ")
    return doc.locator.error(path, message, hint)


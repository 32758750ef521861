"""``variants:`` — one spec file expanded into one document per combination of values.

Each variant's name is the spec's name plus each varied value, and each varied value keeps
its position in the file, so errors point at the list item that made the engine.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from typing import Any

from trtdoc.errors import SpecError
from trtdoc.spec.limits import EXCERPT_CHARS, MAX_PROBLEMS_PER_FILE, MAX_VARIANTS
from trtdoc.spec.locations import Locator
from trtdoc.spec.schema import KEYS_AT
from trtdoc.spec.text import excerpt
from trtdoc.spec.yaml_source import Document


def expand_variants(doc: Document, errors: list[SpecError]) -> list[Document]:
    """One document per combination of the ``variants:`` values (``doc`` itself when it has
    none), each with ``__variant__`` set to its ``(key, value)`` pairs; none, with the problems
    in ``errors``, when ``variants:`` is wrong."""
    variants = doc.data.get("variants")
    if variants is None:
        return [doc]
    if not isinstance(variants, dict) or not variants:
        errors.append(doc.locator.error(
            ("variants",), "expected a mapping of spec keys to lists of values",
            "write for example `variants: {precision: [fp32, fp16]}`"))
        return []
    keys: list[str] = []
    for key, values in itertools.islice(variants.items(), MAX_PROBLEMS_PER_FILE):
        if key not in KEYS_AT[""] or key in ("name", "variants"):
            close = difflib.get_close_matches(str(key)[:EXCERPT_CHARS], KEYS_AT[""], n=1,
                                              cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "name a top-level spec key"
            errors.append(doc.locator.error(("variants", key),
                                            f"cannot vary unknown key {excerpt(key)}", hint,
                                            at_key=True))
        elif not isinstance(values, list) or not values:
            errors.append(doc.locator.error(("variants", key), "expected a non-empty list",
                                            f"write `{key}: [a, b]`"))
        elif len(values) > MAX_VARIANTS:
            errors.append(doc.locator.error(
                ("variants", key), f"{len(values)} values is more than the {MAX_VARIANTS} "
                "engines one spec may make", "split the spec, or list fewer values"))
        else:
            repeated = [i for i, v in enumerate(values) if v in values[:i]]
            for i in repeated:
                errors.append(doc.locator.error(
                    ("variants", key, i), f"{excerpt(values[i])} is listed twice",
                    "list each value once (each one becomes an engine)"))
            if not repeated:
                keys.append(key)
    if len(keys) != len(variants):
        return []
    count = math.prod(len(variants[k]) for k in keys)
    if count > MAX_VARIANTS:
        errors.append(doc.locator.error(
            ("variants",), f"the variants make {count} engines, more than the {MAX_VARIANTS} "
            "one spec may make", "split the spec, or vary fewer keys"))
        return []
    out = []
    for combo in itertools.product(*(enumerate(variants[k]) for k in keys)):
        data = {k: v for k, v in doc.data.items() if k != "variants"}
        loc = Locator(doc.locator.default, doc.locator.values, doc.locator.keys)
        suffix = []
        for key, (i, value) in zip(keys, combo, strict=True):
            data[key] = value
            for table in (loc.values, loc.keys):
                for p in [p for p in table if p[:1] == (key,)]:
                    del table[p]
            for p, where in doc.locator.values.items():
                if p[:3] == ("variants", key, i):
                    loc.values[(key,) + p[3:]] = where
            suffix.append(_slug_value(value, i))
        base = data.get("name", "")
        data["name"] = "-".join([str(base), *suffix]) if isinstance(base, str) else base
        data["__variant__"] = tuple((k, v) for k, (_, v) in zip(keys, combo, strict=True))
        out.append(Document(data, loc))
    return out


def _slug_value(value: Any, index: int) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        s = re.sub(r"[^A-Za-z0-9._]+", "-", str(value)).strip("-").lower()
        return s or f"v{index}"
    return f"v{index}"


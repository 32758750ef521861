"""JSON Schema plumbing shared by the schemas of every checked-in YAML file (specs,
``deploy.yaml``, ``trtdoc.yml``): keywords for checks done in code, and the generator."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

SCHEMA_ID = "https://trtdoc.dev/schema/{kind}.schema.json"


class JsonSchema:
    """JSON Schema keywords for what a validator checks in code (a size's units, a
    limit, a name's characters), so that the schema generated from these models accepts what
    the loader accepts. ``wrap`` rewrites the generated schema (for a value that may also be
    written another way); ``extra`` adds keywords to it."""

    def __init__(self, wrap: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 **extra: Any) -> None:
        self.wrap, self.extra = wrap, extra

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema.update(self.extra)
        return self.wrap(schema) if self.wrap is not None else schema


def any_case(word: str) -> str:
    """A regular expression matching ``word`` in any case, without flags (JSON Schema has
    none)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


class SchemaGenerator(GenerateJsonSchema):
    """JSON Schema of pydantic models: no titles made from key names ("Optimization Level"
    says nothing the key does not), and ``$defs`` named without the leading underscore."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def normalize_name(self, name: str) -> str:
        return super().normalize_name(name).lstrip("_")

    def generate(self, schema: Any, mode: Any = "validation") -> Any:
        out = super().generate(schema, mode)
        for definition in out.get("$defs", {}).values():
            definition.pop("title", None)
        out.pop("title", None)
        return out


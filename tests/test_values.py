"""The value lists are defined once (trtdoc/values.py): the shipped schemas, the CLI and the
tables that name them use exactly those lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

import click
import pytest

from trtdoc import values
from trtdoc.backends import BACKENDS as BACKEND_OBJECTS
from trtdoc.builder.calls import CALLS
from trtdoc.cli.group import cli
from trtdoc.compat import data
from trtdoc.compat.deploy import parse_runtime
from trtdoc.inspect.header import RTX_COMPUTE_CAPABILITIES
from trtdoc.schemas import KINDS, schema_text

# Every list values.py defines, and the builder call kinds (trtdoc/builder/calls.py).
LISTS: dict[str, tuple[str, ...]] = {
    "PRECISIONS": values.PRECISIONS,
    "HALF_PRECISIONS": values.HALF_PRECISIONS,
    "QUANTIZED": values.QUANTIZED,
    "PRECISION_METHODS": values.PRECISION_METHODS,
    "BACKENDS": values.BACKENDS,
    "ENGINE_BACKENDS": values.ENGINE_BACKENDS,
    "FLAVOURS": values.FLAVOURS,
    "TARGETS": values.TARGETS,
    "FP8_TARGETS": values.FP8_TARGETS,
    "HARDWARE_COMPATIBILITY": values.HARDWARE_COMPATIBILITY,
    "SAME_CC_LEVELS": values.SAME_CC_LEVELS,
    "CALLS": CALLS,
}
MEMBERS = {m for members in LISTS.values() for m in members}


def _enums(node: Any, path: str = "$") -> Iterator[tuple[str, list[Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum" and isinstance(value, list):
                yield path, value
            yield from _enums(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _enums(value, f"{path}[{i}]")


def _same_list(found: list[Any] | tuple[Any, ...], where: str) -> str:
    """The name of the values list ``found`` is, in order; fails if it only overlaps one."""
    if not MEMBERS & set(found):
        return ""
    name = next((n for n, members in LISTS.items() if tuple(found) == members), None)
    assert name is not None, f"{where}: {found} is not one of values.py's lists"
    return name


def test_each_list_is_its_literal_and_parts_are_derived() -> None:
    assert ("fp32", *values.HALF_PRECISIONS, *values.QUANTIZED) == values.PRECISIONS
    assert ("auto", *values.ENGINE_BACKENDS) == values.BACKENDS
    assert (*values.ENGINE_BACKENDS, "tensorrt-lean") == values.FLAVOURS
    assert get_args(values.Target) == values.TARGETS
    assert values.FP8_TARGETS[0] == "sm89"  # Ada: the first with fp8 tensor cores
    assert set(values.SAME_CC_LEVELS) < set(values.HARDWARE_COMPATIBILITY)
    for name, members in LISTS.items():
        assert len(set(members)) == len(members), name


@pytest.mark.parametrize("kind", KINDS)
def test_schema_enums_are_values_lists(kind: str) -> None:
    found = {path: _same_list(enum, f"{kind} schema {path}")
             for path, enum in _enums(json.loads(schema_text(kind)))}
    named = {path: name for path, name in found.items() if name}
    if kind == "spec":
        assert {named[f"$.properties.{key}"] for key in (
            "backend", "precision", "precision_method", "hardware_compatibility")} == {
            "BACKENDS", "PRECISIONS", "PRECISION_METHODS", "HARDWARE_COMPATIBILITY"}
        assert named["$.properties.targets.items"] == "TARGETS"
    if kind == "record":
        assert named["$.$defs.BackendSection.properties.name"] == "ENGINE_BACKENDS"
        assert named["$.$defs.EngineFacts.properties.backend"] == "ENGINE_BACKENDS"
        assert named["$.$defs.Applied.properties.call"] == "CALLS"


def _params(command: click.Command, path: str) -> Iterator[tuple[str, click.Parameter]]:
    for param in command.params:
        yield f"{path} {param.name}", param
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _params(sub, f"{path} {name}")


def test_cli_choices_are_values_lists() -> None:
    # No option lists a value of its own: a choice that names precisions, targets, ... is one
    # of values.py's lists, whole and in order.
    for where, param in _params(cli, "trtdoc"):
        if isinstance(param.type, click.Choice):
            _same_list(tuple(str(c) for c in param.type.choices), where)


def test_tables_name_the_values() -> None:
    # The engine header's compute-capability bits are the targets, in bit order.
    assert RTX_COMPUTE_CAPABILITIES == values.TARGETS
    # Every target is a column of the compatibility matrix, in the same order.
    columns = [key for key in data.ARCHITECTURE_KEYS if key in values.TARGETS]
    assert tuple(columns) == values.TARGETS
    for runtime in data.RUNTIMES:
        assert runtime.backend in values.ENGINE_BACKENDS
        assert set(runtime.default_targets) <= set(values.TARGETS)
    assert tuple(data.FLAVOUR_NAMES) == tuple(data.PLAN_FLAVOUR) == values.FLAVOURS
    assert set(data.PLAN_FLAVOUR.values()) == set(values.ENGINE_BACKENDS)
    assert tuple(BACKEND_OBJECTS) == values.ENGINE_BACKENDS


def test_deploy_runtimes_are_the_flavours() -> None:
    assert tuple(parse_runtime(f"{f} 1.2.3").flavour for f in values.FLAVOURS) == values.FLAVOURS
    with pytest.raises(Exception, match="is not one of tensorrt, tensorrt-rtx, tensorrt-lean"):
        parse_runtime("tensorrt-full 1.2.3")

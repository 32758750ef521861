"""The shipped JSON Schemas: generated from the code that validates, current, and in agreement
with the loaders on what a file may say."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, write

from trtdoc.cli.group import cli
from trtdoc.compat.deploy import load_deployment
from trtdoc.errors import SpecErrors
from trtdoc.project_file import load_project
from trtdoc.schemas import KINDS, regenerate_command, schema_path, schema_text
from trtdoc.spec.load import load_specs

SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_path(kind).read_text()))


def problems(kind: str, data: Any) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(data)]


@pytest.mark.parametrize("kind", KINDS)
def test_the_shipped_schema_is_the_one_the_code_generates(kind: str) -> None:
    generated = schema_text(kind)
    assert schema_path(kind).read_text(encoding="utf-8") == generated, (
        f"{schema_path(kind).relative_to(REPO)} is out of date; regenerate it with "
        f"`{regenerate_command(kind)}`")
    jsonschema.Draft202012Validator.check_schema(json.loads(generated))


def test_trtdoc_schema_prints_it() -> None:
    for kind in KINDS:
        result = CliRunner().invoke(cli, ["schema", kind])
        assert (result.exit_code, result.stdout) == (0, schema_path(kind).read_text()), kind
    bad = CliRunner().invoke(cli, ["schema", "specs"])
    assert bad.exit_code == 2
    assert "Invalid value for '[spec|deploy|project|record]'" in bad.stderr


def _examples() -> list[tuple[str, Path]]:
    specs = sorted((REPO / "specs").rglob("*.yaml"))
    return [*(("spec", p) for p in specs), ("deploy", REPO / "deploy.yaml"),
            ("project", REPO / "trtdoc.yml"),
            *(("record", p) for p in sorted((REPO / "records").glob("*.json")))]


@pytest.mark.parametrize(("kind", "path"), _examples(),
                         ids=[p.relative_to(REPO).as_posix() for _, p in _examples()])
def test_every_shipped_example_is_valid_against_its_schema(kind: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if kind == "record" else yaml.safe_load(text)
    assert problems(kind, data) == []
    if kind != "record":
        # The first line points an editor at the schema, relative to the file.
        match = SCHEMA_LINE.match(text)
        assert match, f"{path.relative_to(REPO)} does not start with its schema line"
        target = (path.parent / match.group(1)).resolve()
        assert target == schema_path(kind).resolve(), match.group(1)


def test_the_examples_cover_every_kind_of_shipped_file() -> None:
    kinds = {k for k, _ in _examples()}
    assert kinds == set(KINDS)
    assert len([p for k, p in _examples() if k == "spec"]) == 4  # _defaults.yaml included


# What the loader accepts, the schema accepts, and the other way round. Each case is a spec
# body (YAML) and whether it is valid.
SPEC_CASES = [
    ("memory: {workspace: 1GiB}", True),
    ("memory: {workspace: 1.5 gb, tactic_shared_memory: 48KiB}", True),
    ("memory: {workspace: 536870912}", True),
    ("memory: {workspace: lots}", False),
    ("memory: {workspace: -1}", False),
    ("memory: {workspace: 2000000000000000}", False),
    ("precision: fp16", True),
    ("precision: fp61", False),
    ("precison: fp16", False),
    ("targets: [sm86, sm120]", True),
    ("targets: [sm90]", False),
    ("flags: [tf32, STRICT_NANS]", True),
    ("flags: [tf23]", False),
    ("optimization_level: 6", False),
    ("profiles: [{x: {min: [1, 3], opt: [2, 3], max: [4, 3]}}]", True),
    ("profiles: [{x: {min: [1, 2, 3, 4, 5, 6, 7, 8, 9], opt: [1], max: [1]}}]", False),
    ("profiles: [{x: {min: [1], opt: [1]}}]", False),
    ("calibration: {data: calib.npz, batches: 10000}", True),
    ("calibration: {data: calib.npz, batches: 10001}", False),
    ("accuracy: {tolerance: {min_cosine: 0.99, max_abs: 1e-2}}", True),
    ("accuracy: {tolerance: {min_cosine: 1.5}}", False),
    ("accuracy: {outputs: {y: ignore, z: {max_abs: 0.5}}}", True),
    ("accuracy: {outputs: {y: skip}}", False),
    ("accuracy: {metric: pkg.mod:score, metric_tolerance: {min_score: 0.9}}", True),
    ("accuracy: {metric: pkg.mod.score}", False),
    ("accuracy: {metric_tolerance: {score: 0.9}}", False),
    ("variants: {precision: [fp32, fp16]}", True),
    ("variants: {precision: [fp32, fp64]}", False),
    ("variants: {precision: [fp32, fp32]}", False),
    ("variants: {name: [a, b]}", False),
    ("variants: {}", False),
]


@pytest.mark.parametrize(("body", "valid"), SPEC_CASES, ids=[b for b, _ in SPEC_CASES])
def test_the_spec_schema_accepts_what_the_loader_accepts(tmp_path: Path, body: str,
                                                         valid: bool) -> None:
    text = f"name: tiny\nmodel: tiny.onnx\n{body}\n"
    path = write(tmp_path, "tiny.yaml", text)
    _, errors = load_specs([path])
    assert (not errors) is valid, [str(e) for e in errors]
    assert (not problems("spec", yaml.safe_load(text))) is valid


@pytest.mark.parametrize(("name", "valid"), [("bert-tiny", True), ("Index", False),
                                             ("-x", False), ("a b", False), ("x" * 129, False)])
def test_names_are_checked_alike(tmp_path: Path, name: str, valid: bool) -> None:
    text = f"name: {json.dumps(name)}\nmodel: tiny.onnx\n"
    _, errors = load_specs([write(tmp_path, "tiny.yaml", text)])
    assert (not errors) is valid
    assert (not problems("spec", yaml.safe_load(text))) is valid


TARGET = {"name": "edge", "gpu": "L4", "driver": "580.65.06", "runtime": "tensorrt-rtx 1.7.1",
          "engines": ["*"]}
DEPLOY_CASES = [
    ({}, True),
    ({"gpu": "8.9"}, True),
    ({"gpu": 8.9}, True),
    ({"gpu": "sm120"}, True),
    ({"gpu": 89}, False),
    ({"driver": 580}, True),
    ({"driver": 550.90}, False),
    ({"driver": "55"}, False),
    ({"driver": None}, True),
    ({"runtime": "TensorRT_RTX 1.7.1"}, True),
    ({"runtime": "tensorrt-rtc 1.7.1"}, False),
    ({"runtime": "tensorrt rtx 1.7.1"}, False),
    ({"runtime": "tensorrt-rtx one"}, False),
    ({"cuda": 13}, True),
    ({"cuda": "12.8"}, True),
    ({"cuda": 14}, False),
    ({"engines": "mobilenet-*"}, True),
    ({"engines": []}, False),
    ({"engines": ["tag:"]}, False),
    ({"engines": ["  "]}, False),
    ({"enignes": ["*"]}, False),
    ({"name": "index"}, False),
    ({"description": None}, False),
]


@pytest.mark.parametrize(("change", "valid"), DEPLOY_CASES,
                         ids=[json.dumps(c) for c, _ in DEPLOY_CASES])
def test_the_deploy_schema_accepts_what_the_reader_accepts(tmp_path: Path,
                                                           change: dict[str, Any],
                                                           valid: bool) -> None:
    data = {"targets": [{**TARGET, **change}]}
    path = write(tmp_path, "deploy.yaml", yaml.safe_dump(data))
    try:
        load_deployment(path)
        loaded = True
    except SpecErrors:
        loaded = False
    assert loaded is valid
    assert (not problems("deploy", data)) is valid


def test_a_gpu_name_is_left_to_the_reader() -> None:
    # Names match loosely ("NVIDIA A100-SXM4-80GB" is an A100), so the schema offers the known
    # models and takes any name; the reader says "'L44' is not a GPU trtdoc knows".
    gpu = validator("deploy").schema["$defs"]["Target"]["properties"]["gpu"]
    assert "L4" in gpu["anyOf"][0]["enum"]
    assert problems("deploy", {"targets": [{**TARGET, "gpu": "L44"}]}) == []


PROJECT_CASES = [
    ("specs: specs/", True),
    ("specs: [specs/, more/]", True),
    ("specs: []", False),
    ("records: 5", False),
    ("site: [a, b]", False),
    ("templates: null", True),
    ("sites: docs/", False),
]


@pytest.mark.parametrize(("body", "valid"), PROJECT_CASES, ids=[b for b, _ in PROJECT_CASES])
def test_the_project_schema_accepts_what_the_loader_accepts(tmp_path: Path, body: str,
                                                            valid: bool) -> None:
    for folder in ("specs", "more"):
        os.makedirs(tmp_path / folder, exist_ok=True)
    path = write(tmp_path, "trtdoc.yml", body + "\n")
    try:
        load_project(path)
        loaded = True
    except SpecErrors:
        loaded = False
    assert loaded is valid
    assert (not problems("project", yaml.safe_load(body))) is valid


def test_schema_write_refreshes_a_projects_schemas(tmp_path: Path) -> None:
    """`trtdoc schema --write` writes every schema beside trtdoc.yml (where the $schema lines
    `trtdoc init` writes point), rewrites only what changed, and says which."""
    write(tmp_path, "trtdoc.yml", "specs: [specs/]\n")
    (tmp_path / "specs").mkdir()
    write(tmp_path, "schema/spec.schema.json", "{}\n")  # from an older trtdoc
    cwd = Path.cwd()
    os.chdir(tmp_path / "specs")
    try:
        first = CliRunner().invoke(cli, ["schema", "--write"])
        again = CliRunner().invoke(cli, ["schema", "--write"])
    finally:
        os.chdir(cwd)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [f"wrote     ../schema/{k}.schema.json" for k in KINDS]
    assert again.stdout.splitlines() == [f"unchanged ../schema/{k}.schema.json" for k in KINDS]
    for kind in KINDS:
        assert (tmp_path / "schema" / f"{kind}.schema.json").read_text() == schema_text(kind)
    elsewhere = CliRunner().invoke(cli, ["schema", "--write", str(tmp_path / "out")])
    assert elsewhere.exit_code == 0 and (tmp_path / "out" / "deploy.schema.json").is_file()
    both = CliRunner().invoke(cli, ["schema", "spec", "--write"])
    assert (both.exit_code, both.stderr.splitlines()[-1]) == (
        2, "Error: --write writes every schema; leave out 'spec'")

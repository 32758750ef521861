"""What changed between two records of one engine."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from sitetools import RECORDS, fixed_previous, fixed_records

from trtdoc.diff.compare import changes_between
from trtdoc.diff.history import history_path, read_previous
from trtdoc.record.files import read_record


def test_fp32_to_fp16_changes() -> None:
    new = next(r for r in fixed_records() if r.name == "resnet18-trtexec")
    old = fixed_previous()["resnet18-trtexec"]
    changes = changes_between(old, new)
    summary = {c.what: c for c in changes.summary}
    assert (summary["engine layers"].old, summary["engine layers"].new) == ("32", "36")
    mix = {c.what: (c.old, c.new, c.delta) for c in changes.precision_mix}
    assert mix == {"Float": ("32", "1", "-31"), "Half": ("0", "35", "+35")}
    assert ("NoOp", "8", "11") in {(c.what, c.old, c.new) for c in changes.layer_types}
    # A trtexec export has no ONNX node names: its (stable) layer names align the layers.
    assert changes.layer_counts() == (("precision", 26), ("type", 1), ("tactic", 23),
                                      ("added", 10), ("removed", 6))
    pool = next(layer for layer in changes.layers if layer.name == "MaxPool_2")
    assert [(c.what, c.old, c.new) for c in pool.changes][:2] == [
        ("type", "TiledPooling", "CudaPooling"), ("precision", "Float", "Half")]
    assert not changes.empty


def test_identical_records_have_no_changes() -> None:
    record = fixed_records()[0]
    assert changes_between(record, record).empty


def test_size_memory_and_settings_changes() -> None:
    old = next(r for r in fixed_records() if r.name == "bert-tiny")
    settings = tuple(dataclasses.replace(s, effective=1 << 30) if s.key == "memory.workspace"
                     else s for s in old.settings)
    new = dataclasses.replace(old, engine_bytes=old.engine_bytes * 2, build_seconds=3.5,
                              settings=settings)
    changes = changes_between(old, new)
    summary = {c.what: c for c in changes.summary}
    assert summary["engine size"].delta == "+100.0%"
    assert summary["build time"].new == "3.50 s"
    assert [(c.what, c.old, c.new) for c in changes.settings] == [
        ("memory.workspace", "512 MiB", "1 GiB")]


def test_read_previous(tmp_path: Path) -> None:
    assert read_previous(tmp_path) == {}
    shutil.copytree(RECORDS / ".history", tmp_path / ".history")
    (tmp_path / ".history" / "broken.json").write_text("{")
    assert sorted(read_previous(tmp_path)) == ["resnet18-trtexec"]
    assert history_path(tmp_path, "x") == tmp_path / ".history" / "x.json"


# --------------------------------------------------------------------------------------------
# Real TensorRT-RTX builds that differ in one way each
# --------------------------------------------------------------------------------------------
BERT = """name: NAME
model: MODEL
backend: tensorrt-rtx
profiles:
  - input_ids: {min: [1, 8], opt: [4, 64], max: [8, MAX]}
    attention_mask: {min: [1, 8], opt: [4, 64], max: [8, MAX]}
targets: [TARGETS]
"""


def _bert_spec(name: str, *, model: Path, extra: str = "", max_len: int = 128,
               targets: str = "sm86") -> str:
    return (BERT.replace("NAME", name).replace("MODEL", str(model))
            .replace("MAX", str(max_len)).replace("TARGETS", targets) + extra)


def _edited_bert(path: Path) -> Path:
    """bert_tiny with one extra node: a Relu on its output."""
    import onnx
    import onnx.helper as oh
    from conftest import MODELS

    model = onnx.load(MODELS / "bert_tiny.onnx")
    out = model.graph.output[0].name
    for node in model.graph.node:
        for i, name in enumerate(node.output):
            if name == out:
                node.output[i] = out + "_pre_relu"
    model.graph.node.append(oh.make_node("Relu", [out + "_pre_relu"], [out], name="extra_relu"))
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """bert-tiny built as ``base`` and as five variants, each differing in one way; and
    ``base`` built a second time, from nothing, in another build folder."""
    pytest.importorskip("tensorrt_rtx")
    from conftest import MODELS

    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths

    root = tmp_path_factory.mktemp("diff")
    specs = root / "specs"
    specs.mkdir()
    bert = MODELS / "bert_tiny.onnx"
    variants = {
        "base": _bert_spec("base", model=bert),
        "fp16": _bert_spec("fp16", model=bert, extra="precision: fp16\n"),
        "longer": _bert_spec("longer", model=bert, max_len=256),
        "targets": _bert_spec("targets", model=bert, targets="sm86, sm89"),
        "level2": _bert_spec("level2", model=bert, extra="optimization_level: 2\n"),
        "edited": _bert_spec("edited", model=_edited_bert(root / "bert_edited.onnx")),
    }
    for name, text in variants.items():
        (specs / f"{name}.yaml").write_text(text)
    paths = OutputPaths(out=root / "build", records=root / "records")
    first = build_all([specs], paths, jobs=2)
    assert {o.status for o in first.outcomes} == {"built"}, first.outcomes
    records = {name: read_record(paths.record(name)) for name in variants}
    # The same spec built again from nothing: a second build folder, no engine to reuse.
    second = OutputPaths(out=root / "build2", records=root / "records2")
    again = build_all([specs / "base.yaml"], second)
    assert [o.status for o in again.outcomes] == ["built"], again.outcomes
    return {"root": root, "paths": paths, "records": records,
            "rebuilt": read_record(second.record("base")), "previous": records["base"]}


# --------------------------------------------------------------------------------------------
# An engine with two optimisation profiles: one copy of its layers per profile
# --------------------------------------------------------------------------------------------
TWO_PROFILES = """name: two
model: MODEL
backend: tensorrt-rtx
profiles:
  - input_ids: {min: [1, 8], opt: [4, 64], max: [8, 128]}
    attention_mask: {min: [1, 8], opt: [4, 64], max: [8, 128]}
  - input_ids: {min: [1, 128], opt: [1, 256], max: [1, 256]}
    attention_mask: {min: [1, 128], opt: [1, 256], max: [1, 256]}
targets: [sm86]
"""


def _log_messages(log: Path) -> list[str]:
    """The builder's messages from the build log trtdoc kept: one ``[SEVERITY] message`` each,
    where a message (``Layers:``) may span many lines."""
    import re

    text = log.read_text(encoding="utf-8")
    return [m.removesuffix("\n") for m in re.split(r"^\[[A-Z_]+\] ", text, flags=re.M) if m]


@pytest.fixture(scope="module")
def two_profiles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    """The layers of both profiles of bert-tiny built from a spec with two ``profiles:``
    entries (short and long sequences). The record lists profile 0's; both are read from the
    build log trtdoc kept, as the record's are."""
    pytest.importorskip("tensorrt_rtx")
    from conftest import MODELS

    from trtdoc.build.run import build_all
    from trtdoc.inspect.build_log import inspection_from_build_log
    from trtdoc.model import model_facts_from_onnx
    from trtdoc.paths import OutputPaths

    root = tmp_path_factory.mktemp("profiles")
    bert = MODELS / "bert_tiny.onnx"
    (root / "two.yaml").write_text(TWO_PROFILES.replace("MODEL", str(bert)))
    paths = OutputPaths(out=root / "build", records=root / "records")
    result = build_all([root / "two.yaml"], paths)
    assert [o.status for o in result.outcomes] == ["built"], result.outcomes
    facts = model_facts_from_onnx(bert)
    every = inspection_from_build_log(_log_messages(paths.log("two")),
                                      optimization_profile=None, onnx_nodes=facts.node_names,
                                      onnx_tensors=facts.tensor_names)
    assert every.profile_count == 2
    record = read_record(paths.record("two"))
    # the log has no costs: the build prices the layers after reading it (trtdoc/cost)
    assert tuple(la for la in every.layers if la.profile == 0) == tuple(
        dataclasses.replace(la, cost=None) for la in record.inspection.layers)
    return every.layers


def _across_profiles(old: Any, new: Any) -> list[tuple[str, int, str, int]]:
    """The aligned pairs whose layers serve different optimisation profiles."""
    from trtdoc.diff.layers import align_layers

    pairs, _, _ = align_layers(old, new)
    return [(old[i].name, old[i].profile, new[j].name, new[j].profile) for i, j in pairs
            if old[i].profile != new[j].profile]


def test_layers_are_aligned_only_within_their_optimisation_profile(two_profiles) -> None:
    """Each profile's copy of the layers implements the same ONNX nodes as the other's: only
    the profile tells them apart, and a layer of profile 0 is never compared with one of
    profile 1, whatever order the copies are listed in and whichever is missing."""
    from trtdoc.diff.layers import align_layers, layer_changes

    layers = two_profiles
    first = tuple(la for la in layers if la.profile == 0)
    second = tuple(la for la in layers if la.profile == 1)
    assert first and second
    shared = {frozenset(la.fused) for la in first} & {frozenset(la.fused) for la in second}
    assert len(shared - {frozenset()}) >= 10  # the node sets that could be paired wrongly
    # The copies listed the other way round: the same layers, nothing changed.
    swapped = (*second, *first)
    assert _across_profiles(layers, swapped) == []
    assert layer_changes(layers, swapped) == ((), 0)
    # Profile 0's copy gone: exactly its layers are removed, profile 1's are unchanged.
    assert _across_profiles(layers, second) == []
    changes, _ = layer_changes(layers, second)
    assert {(c.status, c.profile) for c in changes} == {("removed", 0)}
    assert len(changes) == len(first)
    # Profile 0's copy against profile 1's: nothing pairs.
    assert align_layers(first, second) == ([], list(range(len(first))),
                                           list(range(len(second))))


def _settings(changes: Any) -> list[tuple[str, str, str]]:
    return [(c.what, c.old, c.new) for c in changes.settings]


def test_two_identical_rebuilds_report_no_change(builds) -> None:
    changes = changes_between(builds["previous"], builds["rebuilt"])
    assert changes.empty, changes
    assert changes.status == "unchanged"
    assert changes.layers == () and changes.headline == ()
    # Only what varies from run to run is left, and it is not a change.
    assert {c.what for c in changes.summary} <= {"build time", "engine sha256"}


def test_fp32_to_fp16_names_the_precision(builds) -> None:
    base, fp16 = builds["records"]["base"], builds["records"]["fp16"]
    changes = changes_between(base, fp16)
    assert _settings(changes) == [("precision", "fp32", "fp16")]
    assert changes.profiles == ()
    assert "model sha256" not in {c.what for c in changes.summary}
    counts = dict(changes.layer_counts())
    assert counts["precision"] >= 15
    assert changes.headline[0] == "precision fp32 → fp16"
    assert any(c.what == "Half" and c.old == "0" for c in changes.precision_mix)
    # The precision step ran an accuracy check the fp32 build has not.
    assert any(c.what == "accuracy samples" for c in changes.accuracy)


def test_a_longer_profile_names_the_profile_and_nothing_else(builds) -> None:
    changes = changes_between(builds["records"]["base"], builds["records"]["longer"])
    assert _settings(changes) == []
    assert [(c.what, c.old, c.new) for c in changes.profiles] == [
        ("profile 0 attention_mask (min / opt / max)", "1×8 / 4×64 / 8×128",
         "1×8 / 4×64 / 8×256"),
        ("profile 0 input_ids (min / opt / max)", "1×8 / 4×64 / 8×128", "1×8 / 4×64 / 8×256"),
    ]
    # Same layers, same nodes, same precisions: Myelin picks other kernels for other shapes.
    counts = dict(changes.layer_counts())
    assert set(counts) <= {"tactic", "kernel"}
    # Most are the same generated kernel compiled again (only its code hash is new).
    assert counts.get("kernel", 0) > counts.get("tactic", 0)
    assert changes.precision_mix == () and changes.layer_types == ()
    assert "model sha256" not in {c.what for c in changes.summary}


@pytest.mark.parametrize(("variant", "setting"), [
    ("targets", ("targets", "sm86", "sm86, sm89")),
    ("level2", ("optimization_level", "3", "2")),
])
def test_a_setting_is_named_and_the_layers_are_unchanged(builds, variant, setting) -> None:
    changes = changes_between(builds["records"]["base"], builds["records"][variant])
    assert _settings(changes) == [setting]
    assert changes.layers == () and changes.profiles == () and changes.precision_mix == ()
    assert changes.headline[0] == f"{setting[0]} {setting[1]} → {setting[2]}"


def test_a_model_edit_names_the_node_and_the_one_layer_it_joined(builds) -> None:
    changes = changes_between(builds["records"]["base"], builds["records"]["edited"])
    assert _settings(changes) == [] and changes.profiles == ()
    summary = {c.what: (c.old, c.new) for c in changes.summary}
    assert summary["model Relu nodes"] == ("0", "1")
    assert "model sha256" in summary
    # Myelin renumbers its generated layers after the edit; only one layer really changed.
    assert [layer.status for layer in changes.layers] == ["changed"]
    (layer,) = changes.layers
    assert "extra_relu" in layer.nodes
    assert [c.delta for c in layer.changes if c.what == "nodes"] == ["+extra_relu"]
    assert changes.renamed >= 1
    assert changes.headline[0].startswith("model changed (nodes ")


def _renumbered(record: Any) -> Any:
    """``record`` with every Myelin running number in its layer names shifted by one."""
    import re

    layers = tuple(dataclasses.replace(
        layer, name=re.sub(r"(_myl\d+_)(\d+)$", lambda m: f"{m[1]}{int(m[2]) + 1}", layer.name))
        for layer in record.inspection.layers)
    return dataclasses.replace(record, inspection=dataclasses.replace(record.inspection,
                                                                        layers=layers))


def test_renamed_generated_layers_are_not_changes(builds) -> None:
    base = builds["records"]["base"]
    renamed = _renumbered(base)
    assert [layer.name for layer in renamed.inspection.layers] != [
        layer.name for layer in base.inspection.layers]
    changes = changes_between(base, renamed)
    assert changes.empty
    pairs = zip(base.inspection.layers, renamed.inspection.layers, strict=True)
    assert changes.renamed == sum(layer.name != again.name for layer, again in pairs)


def test_layers_align_by_their_nodes_whatever_their_names(builds) -> None:
    """The names of the layers that implement ONNX nodes dealt out again in reverse order:
    every one of them renamed, none changed."""
    base = builds["records"]["base"]
    layers = base.inspection.layers
    with_nodes = [i for i, layer in enumerate(layers) if layer.fused]
    names = {i: layers[j].name for i, j in zip(with_nodes, reversed(with_nodes), strict=True)}
    shuffled = tuple(dataclasses.replace(layer, name=names.get(i, layer.name))
                     for i, layer in enumerate(layers))
    record = dataclasses.replace(base, inspection=dataclasses.replace(base.inspection,
                                                                      layers=shuffled))
    changes = changes_between(base, record)
    assert changes.empty, changes.layers
    renamed = sum(a.name != b.name for a, b in zip(layers, shuffled, strict=True))
    assert changes.renamed == renamed > 20


def test_the_what_changed_page_shows_the_same_comparison(builds, tmp_path: Path) -> None:
    from trtdoc.render.write import plan_site

    records = [builds["rebuilt"], _renumbered(builds["records"]["edited"])]
    previous = {"base": builds["previous"], "edited": builds["records"]["base"]}
    pages = plan_site(records, tmp_path, previous=previous)
    page = pages[tmp_path / "changes.md"].decode()
    base_part = page.split("## [base]", 1)[1].split("## [", 1)[0]
    assert "Nothing that the engine page shows changed." in base_part
    edited = page.split("## [edited]", 1)[1]
    assert "- model changed (nodes 335 → 336, Relu +1)" in edited
    assert "Layers: 1 tactic, 1 fused nodes" in edited
    assert "| nodes: `+extra_relu` | `1 nodes` | `2 nodes` |" in edited  # the node it joined
    assert " new, " not in page  # no "27 new, 27 gone" for renamed layers


# --------------------------------------------------------------------------------------------
# trtdoc diff on the command line
# --------------------------------------------------------------------------------------------
def _git(repo: Path, *args: str) -> None:
    import subprocess

    subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci",
                    "-c", "init.defaultBranch=main", *args], cwd=repo, check=True,
                   capture_output=True)


def _cli(*args: str) -> Any:
    from click.testing import CliRunner

    from trtdoc.cli.group import cli

    return CliRunner().invoke(cli, list(args), prog_name="trtdoc")


@pytest.fixture
def repo(builds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away git repository: ``base`` and ``level2`` committed; then ``base`` rebuilt
    for two targets, ``level2`` deleted and ``fp16`` added in the working tree."""
    from trtdoc.record.files import write_record

    monkeypatch.setenv("NO_COLOR", "1")
    records = tmp_path / "project" / "records"
    records.mkdir(parents=True)
    built = builds["records"]
    write_record(records / "base.json", built["base"])
    write_record(records / "level2.json", built["level2"])
    _git(records.parent, "init", "-q")
    _git(records.parent, "add", "records")
    _git(records.parent, "commit", "-q", "-m", "records")
    # The record of the same engine built for one more target (the `targets` variant's build).
    write_record(records / "base.json", dataclasses.replace(built["targets"], name="base"))
    (records / "level2.json").unlink()
    write_record(records / "fp16.json", built["fp16"])
    monkeypatch.chdir(records.parent)
    return records.parent


def test_diff_base_compares_the_working_tree_with_a_ref(repo: Path) -> None:
    result = _cli("diff", "--base", "HEAD")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "HEAD → working tree: 3 of 3 engine(s) changed"
    assert lines[2:4] == ["base: changed", "  targets sm86 → sm86, sm89"]
    assert "fp16: new" in lines and "level2: removed" in lines
    # Nothing checked out: the working tree is as it was.
    assert not (repo / "records" / "level2.json").exists()


def test_diff_markdown_is_a_short_pull_request_comment(repo: Path) -> None:
    result = _cli("diff", "--base", "HEAD", "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("### trtdoc diff: 3 of 3 engine(s) changed\n")
    assert "| `base` | targets sm86 → sm86, sm89 |" in text
    assert "| `fp16` | new engine (no record at the base) |" in text
    assert "<details><summary>base: every change</summary>" in text
    assert len(text) < 65536  # what GitHub takes in one comment


def test_diff_json_for_tools(repo: Path) -> None:
    import json

    result = _cli("diff", "--base", "HEAD", "--format", "json")
    data = json.loads(result.stdout)
    assert [(e["engine"], e["status"]) for e in data["engines"]] == [
        ("base", "changed"), ("fp16", "new"), ("level2", "removed")]
    assert data["engines"][0]["settings"] == [
        {"what": "targets", "old": "sm86", "new": "sm86, sm89", "delta": "", "counts": True}]


def test_diff_of_two_files_of_identical_rebuilds(builds, tmp_path: Path) -> None:
    paths = builds["paths"]
    result = _cli("diff", str(paths.record("base")),
                  str(builds["root"] / "records2" / "base.json"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith(": 0 of 1 engine(s) changed")
    assert result.stdout.splitlines()[-1] == "unchanged: base"


def test_an_unknown_ref_is_one_line(repo: Path) -> None:
    result = _cli("diff", "--base", "no-such-branch")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --base no-such-branch: no such commit in {repo.resolve()}; name a branch, tag "
        "or commit that exists (in CI, fetch it first: git fetch origin main)\n")


def test_a_bad_record_at_the_ref_is_one_line_naming_it(repo: Path) -> None:
    (repo / "records" / "broken.json").write_text('{"schema_version": 1, "name": 5}')
    _git(repo, "add", "records/broken.json")
    _git(repo, "commit", "-q", "-m", "a bad record")
    result = _cli("diff", "--base", "HEAD")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: HEAD:records/broken.json: name: expected a string, got 5 (an integer) (and 12 "
        "more problems); rebuild it with `trtdoc build --force`"]


def test_a_record_at_the_ref_larger_than_any_record_is_not_read(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trtdoc.diff.git.MAX_RECORD_BYTES", 1 << 20)
    big = repo / "records" / "fp16.json"
    big.write_text(big.read_text() + " " * (1 << 20))  # still a valid record, but too big
    size = big.stat().st_size
    _git(repo, "add", "records/fp16.json")
    _git(repo, "commit", "-q", "-m", "fp16")
    result = _cli("diff", "--base", "HEAD")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: HEAD:records/fp16.json: {size / 2**20:.1f} MiB is larger than any record "
        "trtdoc writes (the limit is 1 MiB), so it is not read\n")


def test_diff_needs_two_files_or_a_ref() -> None:
    result = _cli("diff", "one.json")
    assert result.exit_code == 1
    assert result.stderr == ("error: give two record files (trtdoc diff OLD.json NEW.json) or "
                             "a git ref (trtdoc diff --base origin/main)\n")


def test_findings_are_compared_by_kind_and_what() -> None:
    """The findings the page and lint show (the stored list), added and removed by (kind,
    what); a record from before findings gets them computed, as on its page."""
    from trtdoc.diff.compare import finding_changes

    old = read_record(REPO / "records" / "magika-int8.json")
    assert old.findings and len(old.findings) >= 2
    first, second, *rest = old.findings
    changed = dataclasses.replace(second, what=second.what + " (edited)")
    new = dataclasses.replace(old, findings=(changed, *rest))
    added, removed = finding_changes(old, new)
    assert added == (f"{changed.severity} {changed.kind}: {changed.what}",)
    assert sorted(removed) == sorted(f"{f.severity} {f.kind}: {f.what}" for f in (first, second))
    assert finding_changes(old, old) == ((), ())
    unknown = dataclasses.replace(old, findings=None)  # written before findings existed
    assert finding_changes(unknown, unknown) == ((), ())

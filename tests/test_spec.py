"""Spec files → frozen EngineSpec: merging, variants, sizes, paths, and every located error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import REPO, write

from trtdoc.errors import SpecErrors
from trtdoc.spec.fields import parse_size
from trtdoc.spec.keys import spec_accuracy_key, spec_build_key
from trtdoc.spec.load import load_specs, load_specs_or_raise
from trtdoc.spec.section import DOC_ONLY, SpecSection, encode_spec, spec_section_from_spec
from trtdoc.spec.types import Accuracy, Calibration, EngineSpec, Profile, ShapeRange, Tolerance


def problems(*paths: Path | str) -> list[str]:
    """What `trtdoc check` would print for the spec stage, one string per line."""
    _, errors = load_specs(paths)
    return [str(e) for e in errors]


def specs(*paths: Path | str) -> dict[str, EngineSpec]:
    loaded, errors = load_specs(paths)
    assert [str(e) for e in errors] == []
    return {item.spec.name: item.spec for item in loaded}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so that error lines show short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------------------------
# Valid specs round-trip into the frozen objects the build stage uses
# --------------------------------------------------------------------------------------------
FULL = """
name: resnet18-int8
description: ResNet-18 for the edge camera line
owner: vision-platform
tags: [vision, classification]
model: ../models/resnet18.onnx
backend: tensorrt-rtx
precision: int8
calibration: {data: ../calib/sample.npz, batches: 4}
profiles:
  - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}
    aux: {min: [1], opt: [2], max: [3]}
memory: {workspace: 1GiB, tactic_shared_memory: 48KiB}
optimization_level: 3
targets: [sm120, sm86, sm89, sm86]
version_compatible: true
flags: [Weight_Streaming, debug]
accuracy:
  tolerance: {max_abs: 1e-2, min_cosine: 0.999}
  data: ../calib/held_out.npz
  samples: 16
"""


def test_full_spec_round_trips_into_engine_spec(tmp_path: Path) -> None:
    source = write(tmp_path / "specs", "resnet18.yaml", FULL)
    root = tmp_path.resolve()

    spec = specs(tmp_path / "specs")["resnet18-int8"]

    assert spec == EngineSpec(
        name="resnet18-int8",
        source=source,
        model=root / "models" / "resnet18.onnx",
        description="ResNet-18 for the edge camera line",
        owner="vision-platform",
        tags=("classification", "vision"),
        backend="tensorrt-rtx",
        precision="int8",
        precision_method="model",
        calibration=Calibration(data=root / "calib" / "sample.npz", batches=4),
        profiles=(Profile(shapes=(
            ("aux", ShapeRange(min=(1,), opt=(2,), max=(3,))),
            ("input", ShapeRange(min=(1, 3, 224, 224), opt=(4, 3, 224, 224),
                                 max=(8, 3, 224, 224))),
        )),),
        workspace=2**30,
        tactic_shared_memory=48 * 1024,
        optimization_level=3,
        targets=("sm86", "sm89", "sm120"),
        hardware_compatibility="none",
        version_compatible=True,
        flags=("debug", "weight_streaming"),
        accuracy=Accuracy(tolerance=Tolerance(max_abs=0.01, min_cosine=0.999),
                          data=root / "calib" / "held_out.npz", samples=16),
        variant=(),
    )


def test_engine_spec_is_frozen_and_hashable(tmp_path: Path) -> None:
    write(tmp_path, "resnet18.yaml", FULL)
    spec = specs(tmp_path)["resnet18-int8"]

    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.precision = "fp16"  # type: ignore[misc]
    # Hashing fails on any list left inside: everything handed inward is a tuple.
    assert isinstance(hash(spec), int)
    assert spec.profiles[0].get("input") == ShapeRange((1, 3, 224, 224), (4, 3, 224, 224),
                                                        (8, 3, 224, 224))
    assert spec.profiles[0].get("missing") is None


def test_minimal_spec_leaves_tensorrt_defaults(tmp_path: Path) -> None:
    source = write(tmp_path, "tiny.yaml", "name: tiny\nmodel: tiny.onnx\n")

    spec = specs(tmp_path)["tiny"]

    assert spec == EngineSpec(name="tiny", source=source, model=tmp_path.resolve() / "tiny.onnx")
    assert (spec.workspace, spec.optimization_level, spec.calibration, spec.accuracy) == (
        None, None, None, None)


def test_the_record_section_is_json_ready_with_paths_relative_to_base(tmp_path: Path) -> None:
    write(tmp_path / "specs", "resnet18.yaml", FULL)
    spec = specs(tmp_path / "specs")["resnet18-int8"]

    assert encode_spec(spec_section_from_spec(spec, base=tmp_path)) == {
        "name": "resnet18-int8",
        "source": "specs/resnet18.yaml",
        "model": "models/resnet18.onnx",
        "description": "ResNet-18 for the edge camera line",
        "owner": "vision-platform",
        "tags": ["classification", "vision"],
        "backend": "tensorrt-rtx",
        "precision": "int8",
        "precision_method": "model",
        "calibration": {"data": "calib/sample.npz", "batches": 4},
        "profiles": [{"aux": {"min": [1], "opt": [2], "max": [3]},
                      "input": {"min": [1, 3, 224, 224], "opt": [4, 3, 224, 224],
                                "max": [8, 3, 224, 224]}}],
        "memory": {"workspace": 1073741824, "tactic_shared_memory": 49152},
        "optimization_level": 3,
        "targets": ["sm86", "sm89", "sm120"],
        "hardware_compatibility": "none",
        "version_compatible": True,
        "flags": ["debug", "weight_streaming"],
        "accuracy": {"tolerance": {"max_abs": 0.01, "min_cosine": 0.999},
                     "data": "calib/held_out.npz", "samples": 16},
        "variant": {},
    }


def test_shipped_specs_load_with_defaults_and_variants() -> None:
    loaded = specs(REPO / "specs")

    assert sorted(loaded) == ["bert-tiny", "magika-fp16", "magika-fp32", "magika-int8",
                              "mobilenet-v2-fp16", "mobilenet-v2-fp32"]
    fp16 = loaded["mobilenet-v2-fp16"]
    assert (fp16.precision, fp16.backend, fp16.owner, fp16.workspace, fp16.targets,
            fp16.variant) == ("fp16", "tensorrt-rtx", "vision-platform", 2**30,
                              ("sm86", "sm89", "sm120"), (("precision", "fp16"),))
    assert fp16.model == REPO / "models" / "mobilenet_v2_035.onnx"
    assert loaded["mobilenet-v2-fp32"].precision == "fp32"
    assert loaded["bert-tiny"].workspace == 512 * 2**20


# --------------------------------------------------------------------------------------------
# build_key: what decides whether an engine is rebuilt
# --------------------------------------------------------------------------------------------
BASE = """
name: net
description: first words
owner: team-a
tags: [a]
model: net.onnx
precision: fp16
profiles:
  - input: {min: [1, 3, 8, 8], opt: [2, 3, 8, 8], max: [4, 3, 8, 8]}
memory: {workspace: 1GiB}
optimization_level: 3
targets: [sm86, sm89]
"""


def _key(folder: Path, text: str) -> str:
    write(folder, "net.yaml", text)
    [spec] = specs(folder).values()
    return spec_build_key(spec)


def test_build_key_is_stable(tmp_path: Path) -> None:
    first = _key(tmp_path / "one", BASE)
    assert _key(tmp_path / "two", BASE) == first
    assert len(first) == 64


def test_accuracy_changes_the_accuracy_key_not_the_build_key(tmp_path: Path) -> None:
    # The gate checks the converted model; the engine does not depend on it, so editing it
    # re-runs the check without a TensorRT build.
    write(tmp_path / "a", "net.yaml", BASE)
    write(tmp_path / "b", "net.yaml",
          BASE.replace("model: net.onnx",
                       "model: net.onnx\naccuracy: {tolerance: {max_abs: 1e-2}}"))
    [a] = specs(tmp_path / "a").values()
    [b] = specs(tmp_path / "b").values()
    assert spec_build_key(a) == spec_build_key(b)
    assert spec_accuracy_key(a) != spec_accuracy_key(b)


@pytest.mark.parametrize(("old", "new"), [
    ("description: first words", "description: other words"),
    ("owner: team-a", "owner: team-b"),
    ("tags: [a]", "tags: [a, b]"),
    ("name: net", "name: renamed"),
    ("workspace: 1GiB", "workspace: 1073741824"),
    ("targets: [sm86, sm89]", "targets: [sm89, sm86]"),
])
def test_build_key_ignores_what_does_not_change_the_engine(tmp_path: Path, old: str,
                                                           new: str) -> None:
    assert old in BASE
    assert _key(tmp_path / "a", BASE) == _key(tmp_path / "b", BASE.replace(old, new))


@pytest.mark.parametrize(("old", "new"), [
    ("precision: fp16", "precision: fp32"),
    ("workspace: 1GiB", "workspace: 2GiB"),
    ("max: [4, 3, 8, 8]", "max: [8, 3, 8, 8]"),
    ("optimization_level: 3", "optimization_level: 5"),
    ("targets: [sm86, sm89]", "targets: [sm86]"),
    ("model: net.onnx", "model: net.onnx\nbackend: tensorrt-rtx"),
    ("model: net.onnx", "model: net.onnx\nflags: [weight_streaming]"),
    ("model: net.onnx", "model: net.onnx\nversion_compatible: true"),
])
def test_build_key_changes_with_build_settings(tmp_path: Path, old: str, new: str) -> None:
    assert old in BASE
    assert _key(tmp_path / "a", BASE) != _key(tmp_path / "b", BASE.replace(old, new))


def test_build_key_follows_calibration_data_contents(tmp_path: Path) -> None:
    text = BASE.replace("precision: fp16", "precision: int8\ncalibration: {data: calib.npz}")
    (tmp_path / "calib.npz").write_bytes(b"first")
    first = _key(tmp_path, text)
    (tmp_path / "calib.npz").write_bytes(b"second")
    assert _key(tmp_path, text) != first


@dataclasses.dataclass(frozen=True, kw_only=True)
class _WithNewSetting(SpecSection):
    new_setting: int = 1  # a field added without thinking of the build key


def test_a_new_field_is_in_the_build_key_unless_marked(tmp_path: Path) -> None:
    from trtdoc.spec.keys import section_key

    write(tmp_path, "net.yaml", BASE)
    [spec] = specs(tmp_path).values()
    section = spec_section_from_spec(spec)
    assert section_key(section) == spec_build_key(spec)
    wider = _WithNewSetting(**{f.name: getattr(section, f.name)
                               for f in dataclasses.fields(section)})
    assert section_key(wider) != section_key(section)
    assert section_key(dataclasses.replace(wider, new_setting=2)) != section_key(wider)


def test_fields_marked_doc_only_are_not_in_the_build_key(tmp_path: Path) -> None:
    from typing import get_type_hints

    from trtdoc.spec.keys import section_key

    hints = get_type_hints(SpecSection, include_extras=True)
    assert [name for name, hint in hints.items()
            if DOC_ONLY in getattr(hint, "__metadata__", ())] == ["description", "owner", "tags"]
    write(tmp_path, "net.yaml", BASE)
    [spec] = specs(tmp_path).values()
    section = spec_section_from_spec(spec)
    edited = dataclasses.replace(section, description="other", owner=None, tags=("x", "y"))
    assert section_key(edited) == section_key(section)


def test_shipped_records_hold_their_specs_section_and_key() -> None:
    # The spec section a build writes and its key, for every shipped spec, are those the
    # records in git hold: no engine is rebuilt and no record changes.
    import json

    from trtdoc.project import project_root
    from trtdoc.record.files import read_record

    for name, spec in specs(REPO / "specs").items():
        path = REPO / "records" / f"{name}.json"
        section = spec_section_from_spec(spec, project_root(spec.source))
        assert encode_spec(section) == json.loads(path.read_text(encoding="utf-8"))["spec"]
        record = read_record(path)
        assert record.spec == section
        assert record.spec_hash == spec_build_key(spec)


# --------------------------------------------------------------------------------------------
# _defaults.yaml, variants, sizes, relative paths
# --------------------------------------------------------------------------------------------
def test_defaults_merge_under_every_spec_outermost_first(tmp_path: Path) -> None:
    write(tmp_path, "_defaults.yaml", """
        owner: team
        backend: tensorrt-rtx
        memory: {workspace: 1GiB}
        targets: [sm86]
    """)
    write(tmp_path, "sub/_defaults.yaml", "targets: [sm89]\nprecision: fp16\n")
    write(tmp_path, "sub/a.yaml", """
        name: a
        model: ../m.onnx
        memory: {tactic_shared_memory: 64KiB}
    """)
    write(tmp_path, "b.yaml", "name: b\nmodel: m.onnx\nowner: me\n")

    loaded = specs(tmp_path)

    assert sorted(loaded) == ["a", "b"]  # _defaults.yaml is not a spec
    a, b = loaded["a"], loaded["b"]
    assert (a.owner, a.backend, a.workspace, a.tactic_shared_memory, a.targets, a.precision) == (
        "team", "tensorrt-rtx", 2**30, 64 * 1024, ("sm89",), "fp16")
    assert (b.owner, b.backend, b.workspace, b.tactic_shared_memory, b.targets, b.precision) == (
        "me", "tensorrt-rtx", 2**30, None, ("sm86",), "fp32")


def test_variants_expand_into_suffixed_names(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", """
        name: m
        model: m.onnx
        variants:
          precision: [fp32, fp16]
          optimization_level: [1, 3]
    """)

    loaded, errors = load_specs([tmp_path])

    assert errors == []
    assert [(s.spec.name, s.spec.precision, s.spec.optimization_level, s.spec.variant)
            for s in loaded] == [
        ("m-fp32-1", "fp32", 1, (("precision", "fp32"), ("optimization_level", 1))),
        ("m-fp32-3", "fp32", 3, (("precision", "fp32"), ("optimization_level", 3))),
        ("m-fp16-1", "fp16", 1, (("precision", "fp16"), ("optimization_level", 1))),
        ("m-fp16-3", "fp16", 3, (("precision", "fp16"), ("optimization_level", 3))),
    ]
    assert spec_section_from_spec(loaded[0].spec).variant == {"precision": "fp32",
                                                              "optimization_level": 1}


@pytest.mark.parametrize(("text", "size"), [
    ("512MiB", 512 * 2**20),
    ("1GiB", 2**30),
    ("1.5GiB", 3 * 2**29),
    ("48 KiB", 48 * 1024),
    ("1gib", 2**30),
    ("2GB", 2 * 10**9),
    ("100B", 100),
    ("4096", 4096),
    (4096, 4096),
    (0, 0),
])
def test_sizes_with_units_or_bytes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


def test_spec_sizes_become_bytes(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", "name: m\nmodel: m.onnx\n"
          "memory: {workspace: 512MiB, tactic_shared_memory: 65536}\n")
    spec = specs(tmp_path)["m"]
    assert (spec.workspace, spec.tactic_shared_memory) == (536870912, 65536)


def test_relative_paths_resolve_against_the_spec_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "specs/vision/m.yaml", """
        name: m
        model: ../../models/m.onnx
        calibration: {data: calib}
        accuracy: {data: /data/held_out.npz}
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    spec = specs("../specs")["m"]

    assert spec.model == tmp_path.resolve() / "models" / "m.onnx"
    assert spec.calibration == Calibration(tmp_path.resolve() / "specs" / "vision" / "calib", 8)
    assert spec.accuracy is not None
    assert spec.accuracy.data == Path("/data/held_out.npz")


def test_tolerance_in_exponent_notation_is_a_float(tmp_path: Path) -> None:
    # YAML 1.1 needs a dot for a float: PyYAML reads `1e-2` as the string '1e-2'.
    assert yaml.safe_load("x: 1e-2") == {"x": "1e-2"}
    write(tmp_path, "m.yaml", "name: m\nmodel: m.onnx\n"
          "accuracy: {tolerance: {max_abs: 1e-2, mean_abs: 5E-3, min_top1: 1}}\n")

    accuracy = specs(tmp_path)["m"].accuracy

    assert accuracy == Accuracy(tolerance=Tolerance(max_abs=0.01, mean_abs=0.005, min_top1=1.0))


# --------------------------------------------------------------------------------------------
# Errors: whole lines, as a user sees them
# --------------------------------------------------------------------------------------------
def test_malformed_yaml(here: Path) -> None:
    write(here, "a.yaml", "name: a\n  model: b\n")
    write(here, "b.yaml", "name: b\ntags: [x, y\nmodel: m.onnx\n")

    assert problems(here) == [
        "a.yaml:2:8: malformed YAML: mapping values are not allowed here. "
        "Hint: fix the YAML syntax (indentation, colons, quotes)",
        "b.yaml:3:6: malformed YAML: expected ',' or ']', but got ':'. "
        "Hint: fix the YAML syntax (indentation, colons, quotes)",
    ]


def test_unknown_keys_suggest_the_nearest_valid_one(here: Path) -> None:
    write(here, "m.yaml", """
        name: m
        model: m.onnx
        precison: fp16
        calibration: {data: c.npz, batchs: 3}
        profiles:
          - input: {min: [1], opt: [1], max: [1], optt: [2]}
        colour: blue
    """)

    assert problems(here) == [
        "m.yaml:3:1: precison: unknown key 'precison'. Hint: did you mean 'precision'?",
        "m.yaml:4:28: calibration.batchs: unknown key 'batchs'. Hint: did you mean 'batches'?",
        "m.yaml:6:43: profiles[0].input.optt: unknown key 'optt'. Hint: did you mean 'opt'?",
        "m.yaml:7:1: colour: unknown key 'colour'. Hint: valid keys here: name, description, "
        "owner, tags, model, backend, precision, precision_method, calibration, profiles, "
        "memory, optimization_level, targets, hardware_compatibility, version_compatible, "
        "flags, accuracy, triton, build_on, keep_fp32, variants",
    ]


def test_wrong_types(here: Path) -> None:
    write(here, "m.yaml", """
        name: m
        model: m.onnx
        optimization_level: "3"
        version_compatible: "yes"
        tags: vision
        profiles:
          - input: {min: [1.5], opt: [2], max: [true]}
          - input: [1, 2]
        accuracy: {tolerance: {max_abs: small}}
    """)

    assert problems(here) == [
        "m.yaml:3:21: optimization_level: expected an integer, got a string '3'. "
        "Hint: fix the value's type (quotes make a string)",
        "m.yaml:4:21: version_compatible: expected true or false, got a string 'yes'. "
        "Hint: fix the value's type (quotes make a string)",
        "m.yaml:5:7: tags: expected a list, got a string 'vision'. "
        "Hint: write a list, as `[a, b]` or one `- item` per line",
        "m.yaml:7:19: profiles[0].input.min[0]: expected an integer, got a number 1.5. "
        "Hint: fix the value's type (quotes make a string)",
        "m.yaml:7:41: profiles[0].input.max[0]: expected an integer, got a boolean True. "
        "Hint: fix the value's type (quotes make a string)",
        "m.yaml:8:12: profiles[1].input: expected a mapping, got a list. "
        "Hint: write a mapping, as `{key: value}` or one `key: value` per line",
        "m.yaml:9:33: accuracy.tolerance.max_abs: expected a number, got a string 'small'. "
        "Hint: fix the value's type (quotes make a string)",
    ]


def test_bad_literals_ranges_names_and_flags(here: Path) -> None:
    write(here, "m.yaml", """
        name: my engine
        model: m.onnx
        backend: tensorrt-rtxx
        precision: int4
        targets: [sm86, sm90]
        optimization_level: 7
        flags: [Weight_Streaming, weight_streamin, frobnicate]
    """)

    assert problems(here) == [
        "m.yaml:1:7: name: 'my engine' is not a valid name. Hint: use letters, digits, '.', '_' "
        "and '-', starting and ending with a letter or digit, at most 128 characters (it "
        "becomes the page slug and file name)",
        "m.yaml:3:10: backend: 'tensorrt-rtxx' is not one of auto, tensorrt, tensorrt-rtx. "
        "Hint: did you mean 'tensorrt-rtx'?",
        "m.yaml:4:12: precision: 'int4' is not one of fp32, fp16, bf16, int8, fp8. "
        "Hint: did you mean 'int8'?",
        "m.yaml:5:17: targets[1]: 'sm90' is not one of sm75, sm80, sm86, sm89, sm120, sm121. "
        "Hint: did you mean 'sm89'?",
        "m.yaml:6:21: optimization_level: 7 is out of range: input should be less than or "
        "equal to 5. Hint: choose a value in the allowed range",
        "m.yaml:7:27: flags[1]: unknown builder flag 'weight_streamin'. "
        "Hint: did you mean 'weight_streaming'?",
        "m.yaml:7:44: flags[2]: unknown builder flag 'frobnicate'. Hint: use TensorRT "
        "BuilderFlag names in lower case, e.g. debug, direct_io, disable_compilation_cache",
    ]


def test_bad_sizes(here: Path) -> None:
    write(here, "m.yaml", """
        name: m
        model: m.onnx
        memory: {workspace: 12 parsecs, tactic_shared_memory: -5}
    """)

    assert problems(here) == [
        "m.yaml:3:21: memory.workspace: '12 parsecs' is not a size. Hint: write bytes or a "
        "number with a unit (B, KiB, MiB, GiB, KB, MB, GB)",
        "m.yaml:3:55: memory.tactic_shared_memory: a size cannot be negative, got -5. "
        "Hint: write a byte count, or a number with a unit such as 512MiB",
    ]
    for bad in ("lots", True, -1, "1.5 parsecs", None):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_missing_keys_and_non_mapping_files(here: Path) -> None:
    write(here, "empty.yaml", "")
    write(here, "list.yaml", "- name: a\n")
    write(here, "nameless.yaml", "model: m.onnx\n")

    assert problems(here) == [
        "empty.yaml:1:1: model: required key is missing. "
        "Hint: add `model: ../models/resnet18.onnx`",
        "empty.yaml:1:1: name: required key is missing. Hint: add `name: resnet18-fp16`",
        "list.yaml: not a trtdoc spec (the top level must be a mapping with name and model "
        "keys); nothing from it is shown",
        "nameless.yaml:1:1: name: required key is missing. Hint: add `name: resnet18-fp16`",
    ]


def test_a_commented_out_spec_is_skipped_and_an_empty_one_is_not(here: Path) -> None:
    """`trtdoc init`'s example spec is every line a comment: skipped, so a new project checks
    and builds before it has a model. An empty file is still reported (a write gone wrong)."""
    write(here, "specs/example.yaml", """
        # yaml-language-server: $schema=../schema/spec.schema.json

        # name: my-model
        #   model: ../models/my_model.onnx
    """)
    assert load_specs(["specs"]) == ([], [])
    write(here, "specs/empty.yaml", "")
    assert problems("specs") == [
        "specs/empty.yaml:1:1: model: required key is missing. "
        "Hint: add `model: ../models/resnet18.onnx`",
        "specs/empty.yaml:1:1: name: required key is missing. Hint: add `name: resnet18-fp16`"]


def test_nothing_to_load(here: Path) -> None:
    (here / "empty").mkdir()
    assert problems("nope") == [
        "nope: no such file or folder. Hint: pass a spec file or a folder of *.yaml specs"]
    assert problems("empty") == [
        "empty: no spec files found. Hint: add a *.yaml spec (files starting with '_' are "
        "skipped)"]


def test_duplicate_key_in_a_mapping(here: Path) -> None:
    write(here, "m.yaml", """
        name: m
        model: a.onnx
        memory: {workspace: 1GiB, workspace: 2GiB}
        model: b.onnx
    """)

    loaded, errors = load_specs([here])

    assert loaded == []
    assert [str(e) for e in errors] == [
        "m.yaml:3:27: memory.workspace: this key appears twice in one mapping. "
        "Hint: keep one of them",
        "m.yaml:4:1: model: this key appears twice in one mapping. Hint: keep one of them",
    ]


def test_duplicate_names_across_files(here: Path) -> None:
    write(here, "a.yaml", "name: net\nmodel: m.onnx\n")
    write(here, "b.yaml", "# the same engine again\nname: net\nmodel: m.onnx\n")
    write(here, "c.yaml", "name: other\nmodel: m.onnx\n")

    loaded, errors = load_specs([here])

    assert [str(e) for e in errors] == [
        "b.yaml:2:7: name: name 'net' is already used by a.yaml:1. "
        "Hint: give every engine a unique name (it is the page slug)",
    ]
    # Neither 'net' is built: which one was meant is the user's call.
    assert [item.spec.name for item in loaded] == ["other"]


def test_duplicate_names_across_variants(here: Path) -> None:
    write(here, "a.yaml", """
        name: net
        model: m.onnx
        variants:
          precision: [fp32, fp16]
    """)
    write(here, "b.yaml", "name: net-fp16\nmodel: m.onnx\n")
    write(here, "c.yaml", """
        name: twice
        model: m.onnx
        variants:
          precision: [fp16, fp32, fp16]
    """)

    loaded, errors = load_specs([here])

    assert [str(e) for e in errors] == [
        "b.yaml:1:7: name: name 'net-fp16' is already used by a.yaml:1 (variant "
        "precision=fp16). Hint: give every engine a unique name (it is the page slug; a "
        "variant's name is the name plus each varied value)",
        "c.yaml:4:27: variants.precision[2]: 'fp16' is listed twice. "
        "Hint: list each value once (each one becomes an engine)",
    ]
    assert [item.spec.name for item in loaded] == ["net-fp32"]


def test_variant_errors_point_at_the_variant_list_item(here: Path) -> None:
    write(here, "v.yaml", """
        name: v
        model: m.onnx
        variants:
          precision:
            - fp16
            - fp64
          memory:
            - {workspace: 1GiB}
            - {workspace: lots}
    """)
    write(here, "w.yaml", """
        name: w
        model: m.onnx
        variants:
          precison: [fp16]
          tags: vision
    """)

    assert problems(here) == [
        "v.yaml:6:7: precision: 'fp64' is not one of fp32, fp16, bf16, int8, fp8. "
        "Hint: did you mean 'fp16'?",
        "v.yaml:9:19: memory.workspace: 'lots' is not a size. Hint: write bytes or a number "
        "with a unit (B, KiB, MiB, GiB, KB, MB, GB)",
        "w.yaml:4:3: variants.precison: cannot vary unknown key 'precison'. "
        "Hint: did you mean 'precision'?",
        "w.yaml:5:9: variants.tags: expected a non-empty list. Hint: write `tags: [a, b]`",
    ]


def test_defaults_errors_point_at_the_defaults_file_once(here: Path) -> None:
    write(here, "_defaults.yaml", """
        owner: team
        memory: {workspace: lots}
        accuracy:
          samples: 0
    """)
    write(here, "sub/_defaults.yaml", "optimisation_level: 2\n")
    # Each spec also sets keys of the same mappings: the defaults' own keys keep their lines.
    write(here, "a.yaml", """
        name: a
        model: m.onnx
        memory: {tactic_shared_memory: 1MiB}
    """)
    write(here, "sub/b.yaml", """
        name: b
        model: ../m.onnx
        accuracy: {tolerance: {max_abs: 1e-2}}
    """)

    assert problems(here) == [
        "_defaults.yaml:2:21: memory.workspace: 'lots' is not a size. Hint: write bytes or a "
        "number with a unit (B, KiB, MiB, GiB, KB, MB, GB)",
        "_defaults.yaml:4:12: accuracy.samples: 0 is out of range: input should be greater "
        "than or equal to 1. Hint: choose a value in the allowed range",
        "sub/_defaults.yaml:1:1: optimisation_level: unknown key 'optimisation_level'. "
        "Hint: did you mean 'optimization_level'?",
    ]


def test_a_spec_value_overrides_a_bad_default(here: Path) -> None:
    write(here, "_defaults.yaml", "memory: {workspace: lots}\n")
    write(here, "a.yaml", "name: a\nmodel: m.onnx\nmemory: {workspace: 1GiB}\n")

    assert specs(here)["a"].workspace == 2**30


def test_defaults_cannot_set_a_name(here: Path) -> None:
    write(here, "_defaults.yaml", "owner: team\nname: shared\n")
    write(here, "a.yaml", "name: a\nmodel: m.onnx\n")

    assert problems(here) == [
        "_defaults.yaml:2:1: name: a defaults file cannot set the name. "
        "Hint: set `name` in each spec file",
    ]


def test_one_bad_file_does_not_stop_the_rest(here: Path) -> None:
    write(here, "bad.yaml", "name: bad\nmodel: m.onnx\nprecision: fp64\n")
    write(here, "good.yaml", "name: good\nmodel: m.onnx\n")

    loaded, errors = load_specs([here])

    assert [item.spec.name for item in loaded] == ["good"]
    assert len(errors) == 1
    with pytest.raises(SpecErrors) as raised:
        load_specs_or_raise([here])
    assert str(raised.value) == str(errors[0])



@pytest.mark.parametrize("name", ["evil\n", "tiny-", "tiny.", "x" * 129, "index", "Index"])
def test_names_that_would_collide_or_escape_are_refused(here: Path, name: str) -> None:
    import json

    write(here, "m.yaml", f"name: {json.dumps(name)}\nmodel: m.onnx\n")
    (line,) = [p for p in problems(here) if ": name: " in p]
    assert line.startswith("m.yaml:1:7: name: ")
    assert ("reserved" in line) if name.lower() == "index" else ("is not a valid name" in line)
    assert "\n" not in line


def test_names_that_are_fine_pass(here: Path) -> None:
    write(here, "m.yaml", "name: resnet18-fp16.v2\nmodel: m.onnx\n")
    assert not [p for p in problems(here) if ": name: " in p]


# --------------------------------------------------------------------------------------------
# build_on: where `trtdoc build --ray` builds an engine
# --------------------------------------------------------------------------------------------
def test_build_on_is_read_kept_in_the_record_view_and_not_in_the_build_key(here: Path) -> None:
    write(here, "a.yaml", "name: a\nmodel: m.onnx\n")
    write(here, "b.yaml", """
        name: b
        model: m.onnx
        build_on: {gpu: a100, compute_capability: 8.6, resource: farm}
    """)
    got = specs(here)
    from trtdoc.spec.types import BuildOn

    assert got["b"].build_on == BuildOn(gpu="A100", compute_capability="8.6", resource="farm")
    assert encode_spec(spec_section_from_spec(got["b"]))["build_on"] == {
        "gpu": "A100", "compute_capability": "8.6", "resource": "farm"}
    # Records of specs without it do not change.
    assert "build_on" not in encode_spec(spec_section_from_spec(got["a"]))
    assert spec_build_key(got["a"]) == spec_build_key(got["b"])  # the same engine anywhere


def test_build_on_errors_are_located_lines(here: Path) -> None:
    write(here, "a.yaml", """
        name: a
        model: m.onnx
        build_on: {gpu: A1000}
    """)
    write(here, "b.yaml", """
        name: b
        model: m.onnx
        build_on:
          compute_capability: "9.9"
          resource: CPU
    """)
    write(here, "c.yaml", """
        name: c
        model: m.onnx
        build_on: {}
    """)
    assert problems(here) == [
        "a.yaml:3:17: build_on.gpu: 'A1000' is not a GPU Ray knows. Hint: did you mean "
        "'A100'? (for any other GPU, start its nodes with a custom resource and use "
        "`build_on: {resource: NAME}`)",
        "b.yaml:4:23: build_on.compute_capability: '9.9' is not a compute capability any GPU "
        "has. Hint: write it as \"8.6\" or sm86",
        "b.yaml:5:13: build_on.resource: 'CPU' is a resource Ray itself counts, not a label. "
        "Hint: name a custom resource your build nodes are started with (ray start "
        "--resources='{\"trt-builder\": 1}')",
        "c.yaml:3:11: build_on: says nowhere to build. Hint: give gpu, compute_capability or "
        "resource, e.g. `build_on: {gpu: A100}`, or remove build_on",
    ]


def test_todays_records_decode_and_encode_unchanged() -> None:
    # tests/data/records_v1 holds the shipped records as they were before the spec section
    # was typed: they decode as they are, and encode to the same bytes.
    from trtdoc.record.files import read_record
    from trtdoc.record.text import dumps

    paths = sorted((REPO / "tests" / "data" / "records_v1").glob("*.json"))
    assert len(paths) == 6
    for path in paths:
        record = read_record(path)
        assert isinstance(record.spec, SpecSection)
        assert dumps(record) == path.read_text(encoding="utf-8")


def test_the_spec_file_blocks_and_the_frozen_parts_name_the_same_keys() -> None:
    # The pydantic models read the spec file (text, paths relative to it, defaults, located
    # messages); the frozen parts are what the build receives and the record stores. Two
    # classes per block, one set of keys.
    from trtdoc.spec.schema import KEYS_AT
    from trtdoc.spec.types import BuildOn

    def names(cls: type) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    assert KEYS_AT["calibration"] == names(Calibration)
    assert KEYS_AT["accuracy.tolerance"] == names(Tolerance)
    assert KEYS_AT["profile"] == names(ShapeRange)
    assert KEYS_AT["build_on"] == names(BuildOn)


def test_every_engine_spec_field_reaches_the_record_section() -> None:
    # The build key is computed from the section: a field of EngineSpec the converter left
    # out would be out of the key too.
    placed = {"workspace": "memory", "tactic_shared_memory": "memory", "triton_model": "triton"}
    section = {f.name for f in dataclasses.fields(SpecSection)}
    assert {placed.get(f.name, f.name) for f in dataclasses.fields(EngineSpec)} == section

"""Model-aware checks against the real example models: every problem, one exact line each."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from conftest import REPO, write
from onnx import TensorProto, numpy_helper

from trtdoc.check import check_spec, check_specs
from trtdoc.model import model_facts_from_onnx
from trtdoc.spec.load import load_specs
from trtdoc.spec.types import Accuracy

MOBILENET_PROFILE = (
    "profiles:\n"
    "  - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}\n"
)
BERT_PROFILE = (
    "profiles:\n"
    "  - input_ids: {min: [1, 8], opt: [4, 64], max: [8, 128]}\n"
    "    attention_mask: {min: [1, 8], opt: [4, 64], max: [8, 128]}\n"
)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory, with copies of the example models in models/."""
    (tmp_path / "models").mkdir()
    for name in ("mobilenet_v2_035.onnx", "bert_tiny.onnx"):
        shutil.copyfile(REPO / "models" / name, tmp_path / "models" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems(*paths: Path | str) -> list[str]:
    _, errors = check_specs(paths)
    return [str(e) for e in errors]


def static_model(path: Path) -> Path:
    """A Relu whose only input is fixed at [1, 3, 8, 8]."""
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    graph = oh.make_graph([oh.make_node("Relu", ["x"], ["y"])], "static", [x], [y])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    return path


def external_data_model(path: Path) -> Path:
    """y = x @ w with w (8x8 float32) stored beside the model in ``<name>.data``."""
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w")
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])
    graph = oh.make_graph([oh.make_node("MatMul", ["x", "w"], ["y"])], "ext", [x], [y],
                          initializer=[w])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=f"{path.name}.data", size_threshold=0)
    return path


_recording: list[list[str]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _recording:
        _recording[-1].append(str(args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; this one only records inside opened_files()


@contextmanager
def opened_files() -> Iterator[list[str]]:
    """Every path this process opens while the block runs."""
    opened: list[str] = []
    _recording.append(opened)
    try:
        yield opened
    finally:
        _recording.pop()


# --------------------------------------------------------------------------------------------
def test_valid_specs_pass(here: Path) -> None:
    static_model(here / "models" / "static.onnx")
    write(here, "mobilenet.yaml", "name: mobilenet\nmodel: models/mobilenet_v2_035.onnx\n"
          + MOBILENET_PROFILE)
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\n" + BERT_PROFILE)
    # A static model needs no profile; one that repeats its fixed shape is fine too.
    write(here, "static.yaml", "name: static\nmodel: models/static.onnx\n")
    write(here, "static-profile.yaml", "name: static-profile\nmodel: models/static.onnx\n"
          "profiles:\n  - x: {min: [1, 3, 8, 8], opt: [1, 3, 8, 8], max: [1, 3, 8, 8]}\n")

    good, errors = check_specs([here])

    assert errors == []
    assert [item.spec.name for item in good] == ["bert", "mobilenet", "static-profile",
                                                 "static"]  # file order


def test_shipped_specs_pass() -> None:
    good, errors = check_specs([REPO / "specs"])
    assert [str(e) for e in errors] == []
    assert sorted(item.spec.name for item in good) == [
        "bert-tiny", "magika-fp16", "magika-fp32", "magika-int8", "mobilenet-v2-fp16",
        "mobilenet-v2-fp32"]


def test_min_opt_max_order_and_ranks(here: Path) -> None:
    write(here, "m.yaml", """
        name: m
        model: models/mobilenet_v2_035.onnx
        profiles:
          - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [2, 3, 224, 224]}
          - input: {min: [1, 3, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}
          - input: {min: [1, 3, 224], opt: [4, 3, 224], max: [8, 3, 224]}
          - input: {min: [-1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 3, 224, 224]}
    """)

    assert problems(here) == [
        "m.yaml:4:12: profiles[0].input: dimension 0 violates min <= opt <= max (1, 4, 2). "
        "Hint: make min <= opt <= max in every dimension",
        "m.yaml:5:12: profiles[1].input: min, opt and max have different ranks (3, 4, 4). "
        "Hint: give every shape one value per model dimension",
        "m.yaml:6:18: profiles[2].input.min: rank 3 does not match the model input rank 4 "
        "[batch,3,224,224]. Hint: give one value per model dimension",
        "m.yaml:7:12: profiles[3].input: dimension 0 is negative (-1, 4, 8). "
        "Hint: a profile gives real sizes (>= 0), not -1 for a dynamic axis",
    ]


def test_model_missing_or_not_onnx(here: Path) -> None:
    mobilenet = (here / "models" / "mobilenet_v2_035.onnx").read_bytes()
    (here / "models" / "truncated.onnx").write_bytes(mobilenet[:100_000])
    (here / "models" / "notes.onnx").write_text("name: this is YAML, not ONNX\n")
    (here / "models" / "empty.onnx").write_bytes(b"")
    for name in ("missing", "truncated", "notes", "empty"):
        write(here, f"{name}.yaml", f"name: {name}\nmodel: models/{name}.onnx\n")

    assert problems(here) == [
        "empty.yaml:2:8: model: models/empty.onnx is not a readable ONNX model (truncated, or "
        "not ONNX at all). Hint: point `model` at a complete .onnx file (export or copy it "
        "again if it was cut short)",
        "missing.yaml:2:8: model: model file models/missing.onnx does not exist. "
        "Hint: fix the path; it is relative to the spec file",
        "notes.yaml:2:8: model: models/notes.onnx is not a readable ONNX model (truncated, or "
        "not ONNX at all). Hint: point `model` at a complete .onnx file (export or copy it "
        "again if it was cut short)",
        "truncated.yaml:2:8: model: models/truncated.onnx is not a readable ONNX model "
        "(truncated, or not ONNX at all). Hint: point `model` at a complete .onnx file "
        "(export or copy it again if it was cut short)",
    ]


def test_model_path_is_relative_to_the_spec_file(here: Path) -> None:
    write(here, "specs/nlp/bert.yaml", "name: bert\nmodel: ../../models/bert_tiny.onnx\n"
          + BERT_PROFILE)
    write(here, "specs/nlp/wrong.yaml", "name: wrong\nmodel: models/bert_tiny.onnx\n"
          + BERT_PROFILE)

    assert problems("specs") == [
        "specs/nlp/wrong.yaml:2:8: model: model file specs/nlp/models/bert_tiny.onnx does not "
        "exist. Hint: fix the path; it is relative to the spec file",
    ]


def test_profile_names_an_input_the_model_does_not_have(here: Path) -> None:
    write(here, "bert.yaml", """
        name: bert
        model: models/bert_tiny.onnx
        profiles:
          - input_id: {min: [1, 8], opt: [4, 64], max: [8, 128]}
            attention_mask: {min: [1, 8], opt: [4, 64], max: [8, 128]}
          - pixels: {min: [1, 8], opt: [4, 64], max: [8, 128]}
            input_ids: {min: [1, 8], opt: [4, 64], max: [8, 128]}
            attention_mask: {min: [1, 8], opt: [4, 64], max: [8, 128]}
    """)

    assert problems(here) == [
        "bert.yaml:4:5: profiles[0]: dynamic model input 'input_ids' has no shape in this "
        "profile. Hint: add `input_ids: {min: [...], opt: [...], max: [...]}`",
        "bert.yaml:4:5: profiles[0].input_id: the model has no input 'input_id'. "
        "Hint: did you mean 'input_ids'?",
        "bert.yaml:6:5: profiles[1].pixels: the model has no input 'pixels'. "
        "Hint: model inputs are: attention_mask, input_ids",
    ]


def test_profile_contradicts_a_static_model_dimension(here: Path) -> None:
    static_model(here / "models" / "static.onnx")
    write(here, "static.yaml", """
        name: static
        model: models/static.onnx
        profiles:
          - x: {min: [1, 3, 8, 8], opt: [2, 3, 8, 8], max: [4, 3, 16, 8]}
    """)
    write(here, "mobilenet.yaml", """
        name: mobilenet
        model: models/mobilenet_v2_035.onnx
        profiles:
          - input: {min: [1, 3, 224, 224], opt: [4, 3, 224, 224], max: [8, 4, 224, 224]}
    """)

    assert problems(here) == [
        "mobilenet.yaml:4:64: profiles[0].input.max: dimension 1 is 4 but the model fixes it "
        "at 3. Hint: set dimension 1 to 3 in min, opt and max",
        "static.yaml:4:33: profiles[0].x.opt: dimension 0 is 2 but the model fixes it at 1. "
        "Hint: set dimension 0 to 1 in min, opt and max",
        "static.yaml:4:52: profiles[0].x.max: dimension 2 is 16 but the model fixes it at 8. "
        "Hint: set dimension 2 to 8 in min, opt and max",
    ]


def test_dynamic_model_input_without_a_profile(here: Path) -> None:
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\n")
    write(here, "mobilenet.yaml", "name: mobilenet\nmodel: models/mobilenet_v2_035.onnx\n")

    assert problems(here) == [
        "bert.yaml:1:1: profiles: model input 'input_ids' has dynamic shape [batch,seq] and no "
        "profile. Hint: add `profiles: [{input_ids: {min: [...], opt: [...], max: [...]}}]`",
        "bert.yaml:1:1: profiles: model input 'attention_mask' has dynamic shape [batch,seq] "
        "and no profile. Hint: add `profiles: [{attention_mask: {min: [...], opt: [...], "
        "max: [...]}}]`",
        "mobilenet.yaml:1:1: profiles: model input 'input' has dynamic shape "
        "[batch,3,224,224] and no profile. Hint: add `profiles: [{input: {min: [...], "
        "opt: [...], max: [...]}}]`",
    ]


def test_quantized_precision_needs_calibration(here: Path) -> None:
    for precision in ("int8", "fp8"):
        write(here, f"{precision}.yaml", f"name: {precision}\n"
              f"model: models/mobilenet_v2_035.onnx\nprecision: {precision}\n"
              + MOBILENET_PROFILE)
    write(here, "calib.yaml", "name: calib\nmodel: models/mobilenet_v2_035.onnx\n"
          "precision: int8\ncalibration: {data: calib/missing.npz}\n"
          "accuracy: {data: held_out.npz}\n" + MOBILENET_PROFILE)

    assert problems(here) == [
        "calib.yaml:4:21: calibration.data: calibration data calib/missing.npz does not "
        "exist. Hint: point calibration.data at an .npz, .npy or a folder of them",
        "calib.yaml:5:18: accuracy.data: held-out data held_out.npz does not exist. "
        "Hint: point accuracy.data at an .npz, .npy or a folder of them",
        "fp8.yaml:3:12: precision: fp8 needs calibration data. "
        "Hint: add `calibration: {data: path/to/samples.npz, batches: 8}`",
        "int8.yaml:3:12: precision: int8 needs calibration data. "
        "Hint: add `calibration: {data: path/to/samples.npz, batches: 8}`",
    ]


def test_settings_the_backend_does_not_have(here: Path) -> None:
    head = "model: models/mobilenet_v2_035.onnx\n" + MOBILENET_PROFILE
    write(here, "trt.yaml", "name: trt\nbackend: tensorrt\ntargets: [sm86]\n" + head)
    write(here, "rtx.yaml", "name: rtx\nbackend: tensorrt-rtx\n"
          "hardware_compatibility: ampere+\n" + head)
    write(here, "auto.yaml", "name: auto\ntargets: [sm86]\nhardware_compatibility: same-cc\n"
          + head)
    write(here, "flags.yaml", "name: flags\nbackend: tensorrt-rtx\n"
          "precision_method: builder_flags\n" + head)

    assert problems(here) == [
        "auto.yaml:3:25: hardware_compatibility: targets (TensorRT-RTX only) and "
        "hardware_compatibility (TensorRT only) cannot both be used. "
        "Hint: choose a backend and keep only its setting",
        "flags.yaml:3:19: precision_method: TensorRT-RTX is strongly typed and has no "
        "precision flags. Hint: use `precision_method: model`",
        "rtx.yaml:3:25: hardware_compatibility: TensorRT-RTX has no hardware-compatibility "
        "modes. Hint: remove hardware_compatibility and list compute capabilities in "
        "`targets` instead",
        "trt.yaml:3:10: targets: TensorRT has no compute-capability targets; it builds for "
        "the GPU it runs on. Hint: remove targets, or use `backend: tensorrt-rtx`",
    ]


def test_a_duplicate_name_does_not_hide_the_specs_other_problems(here: Path) -> None:
    write(here, "a.yaml", "name: net\nmodel: models/mobilenet_v2_035.onnx\n" + MOBILENET_PROFILE)
    write(here, "b.yaml", "name: net\nmodel: models/bert_tiny.onnx\nprecision: int8\n")
    write(here, "c.yaml", "name: other\nmodel: models/mobilenet_v2_035.onnx\n"
          + MOBILENET_PROFILE)

    good, errors = check_specs([here])

    assert [str(e) for e in errors] == [
        "b.yaml:1:1: profiles: model input 'input_ids' has dynamic shape [batch,seq] and no "
        "profile. Hint: add `profiles: [{input_ids: {min: [...], opt: [...], max: [...]}}]`",
        "b.yaml:1:1: profiles: model input 'attention_mask' has dynamic shape [batch,seq] "
        "and no profile. Hint: add `profiles: [{attention_mask: {min: [...], opt: [...], "
        "max: [...]}}]`",
        "b.yaml:1:7: name: name 'net' is already used by a.yaml:1. "
        "Hint: give every engine a unique name (it is the page slug)",
        "b.yaml:3:12: precision: int8 needs calibration data. "
        "Hint: add `calibration: {data: path/to/samples.npz, batches: 8}`",
    ]
    # Neither 'net' goes on to be built, though a.yaml alone has no problem.
    assert [item.spec.name for item in good] == ["other"]


def test_every_problem_in_every_file_is_reported(here: Path) -> None:
    write(here, "a.yaml", "name: a\nmodel: models/missing.onnx\nprecision: fp8\n"
          "backend: tensorrt\ntargets: [sm89]\n")
    write(here, "b.yaml", "name: b\nmodel: models/bert_tiny.onnx\n")

    assert problems(here) == [
        "a.yaml:2:8: model: model file models/missing.onnx does not exist. "
        "Hint: fix the path; it is relative to the spec file",
        "a.yaml:3:12: precision: fp8 needs calibration data. "
        "Hint: add `calibration: {data: path/to/samples.npz, batches: 8}`",
        "a.yaml:5:10: targets: TensorRT has no compute-capability targets; it builds for the "
        "GPU it runs on. Hint: remove targets, or use `backend: tensorrt-rtx`",
        "b.yaml:1:1: profiles: model input 'input_ids' has dynamic shape [batch,seq] and no "
        "profile. Hint: add `profiles: [{input_ids: {min: [...], opt: [...], max: [...]}}]`",
        "b.yaml:1:1: profiles: model input 'attention_mask' has dynamic shape [batch,seq] "
        "and no profile. Hint: add `profiles: [{attention_mask: {min: [...], opt: [...], "
        "max: [...]}}]`",
    ]


# --------------------------------------------------------------------------------------------
# Reading the model must not load its weights
# --------------------------------------------------------------------------------------------
def test_check_never_opens_external_weights(here: Path) -> None:
    model = external_data_model(here / "models" / "ext.onnx")
    weights = here / "models" / "ext.onnx.data"
    assert weights.stat().st_size == 64 * 4
    write(here, "ext.yaml", "name: ext\nmodel: models/ext.onnx\n"
          "profiles:\n  - x: {min: [1, 8], opt: [2, 8], max: [4, 8]}\n")

    with opened_files() as opened:
        good, errors = check_specs([here])
        facts = model_facts_from_onnx(model)

    assert errors == []
    assert [item.spec.name for item in good] == ["ext"]
    assert any(p.endswith("ext.onnx") for p in opened)  # the recorder works
    assert not any(p.endswith("ext.onnx.data") for p in opened)
    # The weights are counted from the tensor's declared shape, not its bytes.
    assert (facts.external_data, facts.parameters, facts.parameter_bytes) == (True, 64, 256)


def test_missing_external_weights_are_reported(here: Path) -> None:
    external_data_model(here / "models" / "ext.onnx")
    (here / "models" / "ext.onnx.data").unlink()
    write(here, "ext.yaml", "name: ext\nmodel: models/ext.onnx\n"
          "profiles:\n  - x: {min: [1, 8], opt: [2, 8], max: [4, 8]}\n")

    assert problems(here) == [
        "ext.yaml:2:8: model: external data file models/ext.onnx.data of models/ext.onnx does "
        "not exist. Hint: keep the model's external data files beside the .onnx file",
    ]


# --------------------------------------------------------------------------------------------
# Calibration and held-out data against the model inputs
# --------------------------------------------------------------------------------------------
def test_data_that_fits_the_model_passes(here: Path) -> None:
    static_model(here / "models" / "static.onnx")
    np.save(here / "static.npy", np.zeros((4, 3, 8, 8), np.float32))
    # int32 and whole-number floats cast losslessly to the int64 inputs.
    np.savez(here / "bert.npz", input_ids=np.ones((8, 16), np.int32),
             attention_mask=np.ones((8, 16), np.float64))
    (here / "folder").mkdir()
    for i in range(2):
        np.savez(here / "folder" / f"{i}.npz", x=np.ones((1, 3, 8, 8), np.int64))
    write(here, "static.yaml", "name: static\nmodel: models/static.onnx\nprecision: int8\n"
          "calibration: {data: folder, batches: 2}\naccuracy: {data: static.npy}\n")
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\nprecision: int8\n"
          "calibration: {data: bert.npz, batches: 8}\naccuracy: {data: bert.npz, samples: 8}\n"
          + BERT_PROFILE)

    assert problems(here) == []


def test_data_keys_that_do_not_match_the_model_inputs(here: Path) -> None:
    np.savez(here / "typo.npz", input_id=np.ones((8, 16), np.int64),
             attention_mask=np.ones((8, 16), np.int64), labels=np.zeros(8, np.int64))
    np.savez(here / "other.npz", tokens=np.ones((8, 16), np.int64),
             attention_mask=np.ones((8, 16), np.int64))
    np.save(here / "one.npy", np.ones((8, 16), np.int64))
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\nprecision: int8\n"
          "calibration: {data: typo.npz}\naccuracy: {data: one.npy}\n" + BERT_PROFILE)
    write(here, "other.yaml", "name: other\nmodel: models/bert_tiny.onnx\n"
          "accuracy: {data: other.npz}\n" + BERT_PROFILE)

    assert problems(here) == [
        "bert.yaml:4:21: calibration.data: typo.npz has no array for model input "
        "'input_ids'. Hint: rename array 'input_id' to 'input_ids'",
        "bert.yaml:4:21: calibration.data: typo.npz holds array 'labels', which is not a "
        "model input. Hint: remove it, or name it after a model input (attention_mask, "
        "input_ids)",
        "bert.yaml:5:18: accuracy.data: one.npy is an .npy file with one array, but the "
        "model has 2 inputs (attention_mask, input_ids). Hint: save an .npz with one array "
        "per input name: numpy.savez(file, **{input: array})",
        "other.yaml:3:18: accuracy.data: other.npz has no array for model input "
        "'input_ids'. Hint: it holds: attention_mask, tokens; name each array after the "
        "model input it feeds: numpy.savez(file, **{input: array})",
        "other.yaml:3:18: accuracy.data: other.npz holds array 'tokens', which is not a "
        "model input. Hint: remove it, or name it after a model input (attention_mask, "
        "input_ids)",
    ]


def test_data_ranks_shapes_dtypes_and_counts(here: Path) -> None:
    static_model(here / "models" / "static.onnx")
    np.save(here / "rank.npy", np.zeros((4, 3, 8), np.float32))
    np.save(here / "shape.npy", np.zeros((4, 3, 8, 9), np.float32))
    np.save(here / "text.npy", np.full((4, 3, 8, 8), "a"))
    np.savez(here / "frac.npz", input_ids=np.full((8, 16), 0.5, np.float32),
             attention_mask=np.ones((6, 16), np.int64))
    np.savez(here / "few.npz", input_ids=np.ones((4, 16), np.int64),
             attention_mask=np.ones((4, 16), np.int64))
    (here / "folder").mkdir()
    for i in range(3):
        np.save(here / "folder" / f"{i}.npy", np.zeros((1, 3, 8, 8), np.float32))
    write(here, "rank.yaml", "name: rank\nmodel: models/static.onnx\nprecision: int8\n"
          "calibration: {data: rank.npy, batches: 1}\naccuracy: {data: shape.npy}\n")
    write(here, "text.yaml", "name: text\nmodel: models/static.onnx\nprecision: int8\n"
          "calibration: {data: folder}\naccuracy: {data: text.npy}\n")
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\nprecision: int8\n"
          "calibration: {data: frac.npz, batches: 2}\naccuracy: {data: few.npz, samples: 8}\n"
          + BERT_PROFILE)

    assert problems(here) == [
        "bert.yaml:4:21: calibration.data: frac.npz: array 'input_ids' holds fractional "
        "float32 values, but model input 'input_ids' is int64. Hint: save int64 data for it",
        "bert.yaml:4:21: calibration.data: frac.npz: arrays have different sample counts "
        "along their batch axes (attention_mask: 6, input_ids: 8). Hint: give every input the "
        "same number of samples",
        "bert.yaml:5:18: accuracy.data: few.npz holds 4 samples, but accuracy.samples is 8. "
        "Hint: add samples, or lower accuracy.samples",
        "rank.yaml:4:21: calibration.data: rank.npy: array 'x' has rank 3 [4,3,8] but model "
        "input 'x' has rank 4 [1,3,8,8]. Hint: give the array one axis per model dimension "
        "(samples along the batch axis), or one more in front (a leading sample axis, each "
        "slice one complete input)",
        "rank.yaml:5:18: accuracy.data: shape.npy: array 'x' has shape [4,3,8,9] but model "
        "input 'x' fixes dimension 3 at 8 [1,3,8,8]. Hint: give the array the model input's "
        "shape in dimension 3",
        "text.yaml:4:21: calibration.data: folder holds 3 files, one batch each, but "
        "calibration.batches is 8. Hint: add files, or lower calibration.batches",
        "text.yaml:5:18: accuracy.data: text.npy: array 'x' holds <U1 values, which cannot "
        "feed model input 'x' (float32). Hint: save float32 data for it",
    ]


def test_fp8_targets_older_than_ada(here: Path) -> None:
    head = "model: models/mobilenet_v2_035.onnx\ncalibration: {data: cal.npz}\n" \
        + MOBILENET_PROFILE
    np.savez(here / "cal.npz", input=np.zeros((8, 3, 224, 224), np.float16))
    write(here, "old.yaml", "name: old\nprecision: fp8\ntargets: [sm120, sm75, sm86, sm89]\n"
          + head)
    write(here, "new.yaml", "name: new\nprecision: fp8\ntargets: [sm89, sm120]\n" + head)
    write(here, "int8.yaml", "name: int8\nprecision: int8\ntargets: [sm75]\n" + head)

    assert problems(here) == [
        "old.yaml:3:10: targets: fp8 needs compute capability 8.9 (Ada) or later, but "
        "targets lists sm75, sm86. Hint: remove sm75, sm86 from targets (fp8 runs on sm89, "
        "sm120, sm121), or build an int8 or fp16 variant for them",
    ]


def two_dims_one_name_model(path: Path, names: tuple[str, str, str]) -> Path:
    """image [batch, 3, names[0], names[1]] and mask [batch, names[2]]."""
    image = oh.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, *names[:2]])
    mask = oh.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", names[2]])
    out = oh.make_tensor_value_info("out", TensorProto.FLOAT, None)
    out2 = oh.make_tensor_value_info("out2", TensorProto.FLOAT, None)
    graph = oh.make_graph([oh.make_node("Relu", ["image"], ["out"]),
                           oh.make_node("Relu", ["mask"], ["out2"])], "g", [image, mask],
                          [out, out2])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    return path


def test_dims_with_one_name_and_different_ranges(here: Path) -> None:
    two_dims_one_name_model(here / "models" / "named.onnx", ("side", "side", "side"))
    two_dims_one_name_model(here / "models" / "q.onnx", ("?", "?", "len"))
    write(here, "named.yaml", """
        name: named
        model: models/named.onnx
        profiles:
          - image: {min: [1, 3, 64, 64], opt: [1, 3, 128, 128], max: [1, 3, 256, 256]}
            mask: {min: [1, 64], opt: [1, 128], max: [1, 256]}
          - image: {min: [1, 3, 64, 32], opt: [1, 3, 128, 128], max: [1, 3, 256, 256]}
            mask: {min: [2, 64], opt: [2, 128], max: [2, 512]}
    """)
    write(here, "q.yaml", """
        name: q
        model: models/q.onnx
        profiles:
          - image: {min: [1, 3, 64, 32], opt: [1, 3, 128, 64], max: [1, 3, 256, 128]}
            mask: {min: [1, 8], opt: [1, 8], max: [1, 8]}
    """)

    assert problems(here) == [
        "named.yaml:6:5: profiles[1]: input dimensions named 'batch' have different "
        "sizes (image[0] 1, mask[0] 2); TensorRT takes same-named dims as "
        "one, and the build fails with 'contradictory IOptimizationProfile kMIN/kMAX "
        "constraints'. Hint: give these dims distinct names when exporting (dynamic_axes / "
        "dynamic_shapes)",
        "named.yaml:6:5: profiles[1]: input dimensions named 'side' have different "
        "min/opt/max (image[2] 64/128/256, image[3] 32/128/256, mask[1] 64/128/512); "
        "TensorRT takes same-named dims as one, and the build fails with 'contradictory "
        "IOptimizationProfile kMIN/kMAX constraints'. Hint: give these dims distinct names "
        "when exporting (dynamic_axes / dynamic_shapes), or give them equal min, opt and "
        "max",
        "q.yaml:4:5: profiles[0]: input dimensions named '?' have different min/opt/max "
        "(image[2] 64/128/256, image[3] 32/64/128); TensorRT takes same-named dims as one, "
        "and the build fails with 'contradictory IOptimizationProfile kMIN/kMAX "
        "constraints'. Hint: give these dims distinct names when exporting (dynamic_axes / "
        "dynamic_shapes), or give them equal min, opt and max",
    ]


def test_ops_tensorrt_does_not_parse(here: Path) -> None:
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    nodes = [oh.make_node("FastGelu", ["x"], ["a"], domain="com.microsoft"),
             oh.make_node("FastGelu", ["a"], ["b"], domain="com.microsoft"),
             oh.make_node("BiasGelu", ["b", "b"], ["c"], domain="com.microsoft"),
             oh.make_node("Normalizer", ["c"], ["d"], domain="ai.onnx.ml"),
             oh.make_node("MyPlugin", ["d"], ["e"], domain="trt.plugins"),
             oh.make_node("Relu", ["e"], ["y"])]
    opsets = [oh.make_opsetid(d, v) for d, v in
              (("", 17), ("com.microsoft", 1), ("ai.onnx.ml", 3), ("trt.plugins", 1))]
    onnx.save(oh.make_model(oh.make_graph(nodes, "g", [x], [y]), opset_imports=opsets),
              here / "models" / "ort.onnx")
    plugin_only = [oh.make_node("MyPlugin", ["x"], ["y"], domain="trt.plugins")]
    onnx.save(oh.make_model(oh.make_graph(plugin_only, "g", [x], [y]),
                            opset_imports=opsets), here / "models" / "plugin.onnx")
    write(here, "ort.yaml", "name: ort\nmodel: models/ort.onnx\n")
    write(here, "plugin.yaml", "name: plugin\nmodel: models/plugin.onnx\n")

    assert problems(here) == [
        "ort.yaml:2:8: model: models/ort.onnx uses ops from domains TensorRT's ONNX parser "
        "does not read (ai.onnx.ml: Normalizer; com.microsoft: BiasGelu, FastGelu x2). "
        "Hint: export the model without them (ONNX Runtime's optimiser writes com.microsoft "
        "ops: save the model before optimising, or optimise with ORT_ENABLE_BASIC), or "
        "implement them as TensorRT plugins (trtdoc loads no plugin libraries yet)",
    ]


@dataclass(frozen=True)
class _AccuracyWithOutputs:
    """Stands in for spec.Accuracy with per-output settings, whatever form spec.py gives them."""

    outputs: Any
    data: Path | None = None
    samples: int = 4
    tolerance: Any = None
    sample_axis: Any = ()


@pytest.mark.parametrize("outputs", [
    {"logit": "ignore", "logits": "ignore"},
    (("logit", "ignore"), ("logits", "ignore")),
])
def test_accuracy_outputs_that_are_not_model_outputs(here: Path, outputs: Any) -> None:
    static_model(here / "models" / "static.onnx")
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    graph = oh.make_graph([oh.make_node("Relu", ["x"], ["logits"]),
                           oh.make_node("Relu", ["x"], ["probs"])], "g", [x],
                          [oh.make_tensor_value_info(n, TensorProto.FLOAT, [1, 8])
                           for n in ("logits", "probs")])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]),
              here / "models" / "two.onnx")
    write(here, "two.yaml", "name: two\nmodel: models/two.onnx\naccuracy: {samples: 4}\n")
    write(here, "static.yaml", "name: static\nmodel: models/static.onnx\n"
          "accuracy: {samples: 4}\n")
    loaded, errors = load_specs([here])
    assert errors == []

    found = []
    for item in loaded:
        accuracy: Any = _AccuracyWithOutputs(outputs)
        spec = dataclasses.replace(item.spec, accuracy=accuracy)
        found += [str(e) for e in check_spec(dataclasses.replace(item, spec=spec), {})]

    assert found == [
        "static.yaml:3:1: accuracy.outputs.logit: the model has no output 'logit'. "
        "Hint: model outputs are: y",
        "static.yaml:3:1: accuracy.outputs.logits: the model has no output 'logits'. "
        "Hint: model outputs are: y",
        "two.yaml:3:1: accuracy.outputs.logit: the model has no output 'logit'. "
        "Hint: did you mean 'logits'?",
    ]


def test_accuracy_outputs_in_the_spec_file(here: Path) -> None:
    if "outputs" not in {f.name for f in dataclasses.fields(Accuracy)}:
        pytest.skip("spec.py has no accuracy.outputs yet")
    static_model(here / "models" / "static.onnx")
    write(here, "static.yaml", """
        name: static
        model: models/static.onnx
        accuracy:
          outputs: {y: ignore, z: ignore}
    """)

    assert problems(here) == [
        "static.yaml:4:24: accuracy.outputs.z: the model has no output 'z'. "
        "Hint: model outputs are: y",
    ]


def test_data_checks_read_headers_not_arrays(here: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    np.savez_compressed(here / "bert.npz", input_ids=np.ones((8, 4096), np.int64),
                        attention_mask=np.ones((8, 4096), np.int32))
    np.save(here / "one.npy", np.ones((8, 3, 224, 224), np.float32))
    write(here, "bert.yaml", "name: bert\nmodel: models/bert_tiny.onnx\nprecision: int8\n"
          "calibration: {data: bert.npz}\naccuracy: {data: bert.npz}\n" + BERT_PROFILE)
    write(here, "mobilenet.yaml", "name: mobilenet\nmodel: models/mobilenet_v2_035.onnx\n"
          "precision: int8\ncalibration: {data: one.npy}\n" + MOBILENET_PROFILE)

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("check loaded an array")

    monkeypatch.setattr(np, "load", no_load)
    assert problems(here) == []


def test_held_out_data_is_counted_along_each_inputs_batch_axis(here: Path) -> None:
    """An LSTM-style state [2, B, 8] stacks samples along axis 1 and a scalar sample rate is
    fed whole, as the build reads them: check counts 6 samples, not 2, and accepts the scalar."""
    import numpy as np

    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 4])
    state = oh.make_tensor_value_info("state", TensorProto.FLOAT, [2, "B", 8])
    sr = oh.make_tensor_value_info("sr", TensorProto.INT64, [])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 4])
    graph = oh.make_graph([oh.make_node("Identity", ["x"], ["y"])], "g", [x, state, sr], [y])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), here / "m.onnx")
    np.savez(here / "held.npz", x=np.zeros((6, 4), np.float32),
             state=np.zeros((2, 6, 8), np.float32), sr=np.array(16000))
    spec = """
        name: s
        model: m.onnx
        profiles:
          - {x: {min: [1, 4], opt: [2, 4], max: [2, 4]},
             state: {min: [2, 1, 8], opt: [2, 2, 8], max: [2, 2, 8]}}
        accuracy: {data: held.npz, samples: SAMPLES}
    """
    write(here, "s.yaml", spec.replace("SAMPLES", "6"))
    assert [str(e) for e in check_specs([here])[1]] == []
    write(here, "s.yaml", spec.replace("SAMPLES", "8"))
    assert [str(e) for e in check_specs([here])[1]] == [
        "s.yaml:6:18: accuracy.data: held.npz holds 6 samples, but accuracy.samples is 8. "
        "Hint: add samples, or lower accuracy.samples"]


def test_same_named_dims_pinned_to_different_sizes_say_sizes(here: Path) -> None:
    # PP-OCR's direction classifier names both spatial dims '?'; each profile dim is fixed.
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 3, "?", "?"])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 3, "?", "?"])
    graph = oh.make_graph([oh.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), here / "m.onnx")
    write(here, "c.yaml", """
        name: c
        model: m.onnx
        profiles:
          - x: {min: [1, 3, 48, 192], opt: [4, 3, 48, 192], max: [8, 3, 48, 192]}
    """)
    assert [str(e) for e in check_specs([here])[1]] == [
        "c.yaml:4:5: profiles[0]: input dimensions named '?' have different sizes (x[2] 48, "
        "x[3] 192); TensorRT takes same-named dims as one, and the build fails with "
        "'contradictory IOptimizationProfile kMIN/kMAX constraints'. Hint: give these dims "
        "distinct names when exporting (dynamic_axes / dynamic_shapes)"]

"""Sample layouts without guessing (issue 24 item 4), on ddddocr's real OCR model.

ddddocr 1.6.1's text recogniser (MIT; fetched by models/fetch_ddddocr.py, which ``make setup``
runs) takes ``input1`` [1, 1, 64, image_width]: batch fixed at 1, width dynamic. Its images
are made here with numpy the way ddddocr prepares one (grey, height 64, values / 255): strips
of seven-segment digits on a noisy light background, drawn from a seeded generator, since
PIL is not available to render text. Stacked, they are the natural [N, 1, 64, W] data.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
from conftest import REPO, write
from onnx import TensorProto
from onnx import helper as oh

from trtdoc.check import check_specs
from trtdoc.errors import BuildError
from trtdoc.precision.samples import batch_axes, held_out_batches, load_samples

sys.path.insert(0, str(REPO / "models"))

import fetch_ddddocr as fd  # noqa: E402

# Strokes per digit: a top, b upper right, c lower right, d bottom, e lower left, f upper
# left, g middle.
_SEGMENTS = {0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc", 5: "afgcd", 6: "afgedc",
             7: "abc", 8: "abcdefg", 9: "abcdfg"}


def digit_strip(digits: list[int], width: int, seed: int) -> np.ndarray:
    """One grey uint8 image, 64 high: dark seven-segment digits on a noisy light ground."""
    rng = np.random.default_rng(seed)
    img = np.full((64, width), 235.0) + rng.normal(0, 6, (64, width))
    x = 8
    for d in digits:
        w, h, t, top = 18, 40, 4, 12
        mid = top + h // 2
        boxes = {"a": (top, top + t, x, x + w), "d": (top + h - t, top + h, x, x + w),
                 "g": (mid - t // 2, mid + t // 2, x, x + w), "f": (top, mid, x, x + t),
                 "e": (mid, top + h, x, x + t), "b": (top, mid, x + w - t, x + w),
                 "c": (mid, top + h, x + w - t, x + w)}
        for s in _SEGMENTS[d]:
            r0, r1, c0, c1 = boxes[s]
            img[r0:r1, c0:c1] = 30
        x += w + 8
    return np.clip(img, 0, 255).astype(np.uint8)


def ocr_images(count: int, width: int = 160, seed: int = 7) -> np.ndarray:
    """[count, 1, 64, width] float32: each row one image as ddddocr feeds it ([1, 64, W]/255)."""
    rng = np.random.default_rng(seed)
    images = [digit_strip(list(rng.integers(0, 10, 5)), width, seed + i) for i in range(count)]
    return np.stack(images)[:, None].astype(np.float32) / 255.0


def polygraphy_inputs(path: Path, feeds: list[dict[str, np.ndarray]]) -> Path:
    """Write feeds as ``polygraphy run --save-inputs`` does (polygraphy 0.53.6, json/serde.py:
    numpy.save bytes, base64, under {"array": ..., "polygraphy_class": "ndarray"})."""
    def encode(array: np.ndarray) -> dict[str, str]:
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        return {"array": base64.b64encode(buf.getvalue()).decode(),
                "polygraphy_class": "ndarray"}

    path.write_text(json.dumps([{n: encode(a) for n, a in f.items()} for f in feeds],
                               indent=4), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ocr_model() -> Path:
    if not fd.is_fetched():
        pytest.skip(f"{fd.MODEL} is not fetched: run python models/fetch_ddddocr.py "
                    "(make setup does)")
    return fd.MODEL


def test_the_ocr_model_is_batch_one_with_a_dynamic_width(ocr_model: Path) -> None:
    proto = onnx.load(str(ocr_model), load_external_data=False)
    dims = [d.dim_value or d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 1, 64, "image_width"]
    # Dimension 0 is fixed at 1: that is the batch axis, never the width.
    assert batch_axes(ocr_model) == {"input1": 0}


def test_ocr_data_is_read_image_by_image(ocr_model: Path, tmp_path: Path) -> None:
    x = ocr_images(6)
    np.savez(tmp_path / "own_rank.npz", input1=x)
    np.savez(tmp_path / "leading.npz", input1=x[:, None])  # [N, 1, 1, 64, W]
    for name in ("own_rank.npz", "leading.npz"):
        batches = held_out_batches(tmp_path / name, ocr_model, samples=6,
                                   shapes={"input1": (1, 1, 64, 160)})
        assert [b["input1"].shape for b in batches] == [(1, 1, 64, 160)] * 6
        assert np.array_equal(batches[5]["input1"], x[5:6])
    calibration = load_samples(tmp_path / "own_rank.npz", ["input1"], 3,
                               axes=batch_axes(ocr_model), model=ocr_model)
    assert [b["input1"].shape for b in calibration] == [(1, 1, 64, 160)] * 3


def _fixed_width_model(path: Path) -> Path:
    """Input x [3, width], mixed by a 3 x 3 MatMul: no dimension is certainly a batch."""
    x = oh.make_tensor_value_info("x", TensorProto.FLOAT, [3, "width"])
    y = oh.make_tensor_value_info("y", TensorProto.FLOAT, [3, "width"])
    w = onnx.numpy_helper.from_array(np.eye(3, dtype=np.float32) * 0.5, "w")
    graph = oh.make_graph([oh.make_node("MatMul", ["w", "x"], ["y"])], "g", [x], [y], [w])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    return path


def test_an_uncertain_layout_is_a_located_line_that_says_how(tmp_path: Path) -> None:
    model = _fixed_width_model(tmp_path / "m.onnx")
    assert batch_axes(model) == {"x": None}
    np.savez(tmp_path / "held.npz", x=np.zeros((3, 10), np.float32))
    spec = write(tmp_path, "s.yaml", """\
        name: s
        model: m.onnx
        precision: fp16
        profiles:
          - x: {min: [3, 8], opt: [3, 10], max: [3, 16]}
        accuracy: {data: held.npz, samples: 2}
        """)
    _, errors = check_specs([spec])
    assert [str(e) for e in errors] == [
        f"{spec}:6:18: accuracy.data: {tmp_path / 'held.npz'}: array 'x' has shape [3,10], "
        "the rank of "
        "model input 'x' [3,width], which has no dimension trtdoc can take as the batch axis "
        "(a symbolic dimension named as a batch, or dimension 0 symbolic or fixed at 1). "
        "Hint: save it with a leading sample axis, [N,3,width] (each slice one complete "
        "input), or set accuracy.sample_axis: {x: AXIS}"]
    with pytest.raises(BuildError) as exc:
        held_out_batches(tmp_path / "held.npz", model, samples=2, shapes=None, engine="s")
    assert str(exc.value) == (
        f"s: accuracy.data: {tmp_path / 'held.npz'}: array 'x' has shape [3, 10], the rank of "
        "model input 'x' [3, width], which has no dimension trtdoc can take as the batch axis "
        "(a symbolic dimension named as a batch, or dimension 0 symbolic or fixed at 1). Save "
        "it with a leading sample axis, [N, 3, width] (each slice one complete input), or set "
        "accuracy.sample_axis: {x: AXIS}")
    # The leading-axis layout says it: two samples, each one whole [3, 10] input.
    np.savez(tmp_path / "held.npz", x=np.arange(60, dtype=np.float32).reshape(2, 3, 10))
    assert check_specs([spec])[1] == []
    batches = held_out_batches(tmp_path / "held.npz", model, samples=2, shapes=None)
    assert [b["x"].shape for b in batches] == [(3, 10), (3, 10)]
    assert batches[1]["x"][0, 0] == 30.0


def test_polygraphy_inputs_are_read_feed_by_feed(ocr_model: Path, tmp_path: Path) -> None:
    x = ocr_images(3)
    path = polygraphy_inputs(tmp_path / "inputs.json", [{"input1": x[i:i + 1]} for i in range(3)])
    batches = load_samples(path, ["input1"], 2, axes=batch_axes(ocr_model), model=ocr_model)
    assert len(batches) == 2 and np.array_equal(batches[1]["input1"], x[1:2])
    held = held_out_batches(path, ocr_model, samples=3, shapes={"input1": (1, 1, 64, 160)})
    assert [b["input1"].shape for b in held] == [(1, 1, 64, 160)] * 3
    path.write_text('[{"input1": {"array": "not base64!", "polygraphy_class": "ndarray"}}]')
    with pytest.raises(BuildError) as exc:
        load_samples(path, ["input1"], 1, engine="e")
    assert str(exc.value) == (
        f"e: calibration.data: {path}: feed 0, input 'input1' does not decode to a numpy array "
        "(Error). Save it with polygraphy run --save-inputs, or as an .npz: "
        "numpy.savez(file, **{input_name: array})")


OCR_SPEC = """\
name: {name}
model: {model}
backend: tensorrt-rtx
precision: int8
calibration: {{data: {calibration}, batches: 4}}
profiles:
  - input1: {{min: [1, 1, 64, 64], opt: [1, 1, 64, 160], max: [1, 1, 64, 512]}}
targets: [sm89]
accuracy:
  data: held.npz
  samples: 4
  tolerance: {{min_cosine: 0.95}}
"""


def test_the_ocr_model_builds_int8_from_whole_images(ocr_model: Path, tmp_path: Path) -> None:
    """Calibration from [N, 1, 64, W] (an .npz, and the same images as Polygraphy inputs);
    the accuracy figures count 4 images, not 4 x 160 columns."""
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import read_record

    x = ocr_images(8)
    specs = tmp_path / "specs"
    specs.mkdir()
    np.savez(specs / "calib.npz", input1=x[:4])
    np.savez(specs / "held.npz", input1=x[4:])
    polygraphy_inputs(specs / "calib.json", [{"input1": x[i:i + 1]} for i in range(4)])
    for name, data in (("ocr-npz", "calib.npz"), ("ocr-polygraphy", "calib.json")):
        (specs / f"{name}.yaml").write_text(OCR_SPEC.format(name=name, model=ocr_model,
                                                            calibration=data))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([specs], paths)
    assert [(o.name, o.status) for o in result.outcomes] == [
        ("ocr-npz", "built"), ("ocr-polygraphy", "built")], result.outcomes
    records = {n: read_record(paths.record(n)) for n in ("ocr-npz", "ocr-polygraphy")}
    for record in records.values():
        acc, precision = record.accuracy, record.precision
        assert acc is not None and precision is not None
        assert (acc.samples, acc.batches, acc.smoke) == (4, 4, False)
        # The output of one image: 20 time steps x 8,210 classes, per whole image.
        assert [o.shape for o in acc.outputs] == [(20, 1, 8210)]
        assert acc.outputs[0].cosine is not None and acc.outputs[0].cosine >= 0.95
        assert (precision.calibration_batches, precision.calibration_samples) == (4, 4)
    # The same images calibrate the same: one quantised model, whichever file held them.
    npz, pg = (records[n].precision for n in ("ocr-npz", "ocr-polygraphy"))
    assert npz is not None and pg is not None and npz.qdq_nodes == pg.qdq_nodes


def test_sample_axis_says_it_for_one_input(tmp_path: Path) -> None:
    """``sample_axis: {x: 1}`` stacks [3, N] data along the width; a wrong name or axis is a
    located line."""
    from trtdoc.build.precision_step import convert_for_spec
    from trtdoc.paths import OutputPaths
    from trtdoc.spec.load import load_specs

    model = _fixed_width_model(tmp_path / "m.onnx")
    np.savez(tmp_path / "held.npz", x=np.arange(30, dtype=np.float32).reshape(3, 10))
    spec = write(tmp_path, "s.yaml", """\
        name: s
        model: m.onnx
        precision: int8
        calibration: {data: held.npz, batches: 2, sample_axis: {x: 1}}
        profiles:
          - x: {min: [3, 1], opt: [3, 5], max: [3, 16]}
        accuracy: {data: held.npz, samples: 10, sample_axis: {x: 1}}
        """)
    assert check_specs([spec])[1] == []
    batches = held_out_batches(tmp_path / "held.npz", model, samples=10,
                               shapes={"x": (3, 5)}, sample_axis={"x": 1})
    assert [b["x"].shape for b in batches] == [(3, 5), (3, 5)]
    assert batches[1]["x"][0].tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]
    item = load_specs([spec])[0][0]
    result = convert_for_spec(item.spec, OutputPaths(out=tmp_path / "b", records=tmp_path / "r"))
    assert (result.calibration_batches, result.calibration_samples) == (2, 10)

    spec.write_text(spec.read_text().replace("2, sample_axis: {x: 1}", "2, sample_axis: {y: 1}")
                    .replace("10, sample_axis: {x: 1}", "10, sample_axis: {x: 2}"))
    assert [str(e) for e in check_specs([spec])[1]] == [
        f"{spec}:4:57: calibration.sample_axis.y: 'y' is not a model input. Hint: name one "
        "of x",
        f"{spec}:7:58: accuracy.sample_axis.x: model input 'x' has 2 dimensions, so it has no "
        "axis 2. Hint: give an axis from 0 to 1"]


VAD = REPO / "models" / "silero_vad_16k_sequence.onnx"
VAD_SPEC = """\
name: vad-fp16
model: {model}
backend: tensorrt-rtx
precision: fp16
profiles:
  - input: {{min: [1, 576], opt: [8, 576], max: [32, 576]}}
targets: [sm89]
accuracy:
  data: held.npz
  samples: 6
  tolerance: {{min_cosine: 0.99}}
"""


def vad_sequences(count: int, chunks: int = 8) -> dict[str, np.ndarray]:
    """``count`` sequences of 16 kHz audio (a tone after 0.1 s in seeded noise, a different
    pitch each) cut in 576-sample chunks, with zero states: [N, T, 576] and [N, 1, 128]."""
    rng = np.random.default_rng(0)
    t = np.arange(chunks * 576) / 16000
    audio = np.stack([0.02 * rng.standard_normal(t.size)
                      + 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) * (t > 0.1)
                      for i in range(count)]).astype(np.float32)
    zeros = np.zeros((count, 1, 128), np.float32)
    return {"input": audio.reshape(count, chunks, 576), "h": zeros, "c": zeros}


def test_the_checked_in_vad_model_is_the_pinned_file() -> None:
    import fetch_silero_vad as fs

    data = VAD.read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (fs.MODEL_BYTES, fs.MODEL_SHA256)
    assert batch_axes(VAD) == {"input": 0, "h": 0, "c": 0}


def test_a_sequence_model_builds_from_n_sequences_and_n_states(tmp_path: Path) -> None:
    """silero-vad's sequence model: states [1, 1, 128] take [N, 1, 128] data (N states, one per
    sequence), and [N, T, 576] is N whole sequences (a leading sample axis), not N x T chunks."""
    pytest.importorskip("tensorrt_rtx")
    from trtdoc.build.run import build_all
    from trtdoc.paths import OutputPaths
    from trtdoc.record.files import read_record

    data = vad_sequences(6)
    batches = held_out_batches(_savez(tmp_path / "held.npz", data), VAD, samples=6,
                               shapes={"input": (8, 576)})
    assert [(b["input"].shape, b["h"].shape) for b in batches] == [((8, 576), (1, 1, 128))] * 6
    specs = tmp_path / "specs"
    specs.mkdir()
    _savez(specs / "held.npz", data)
    (specs / "vad.yaml").write_text(VAD_SPEC.format(model=VAD))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([specs], paths)
    assert [o.status for o in result.outcomes] == ["built"], result.outcomes
    acc = read_record(paths.record("vad-fp16")).accuracy
    assert acc is not None and (acc.samples, acc.batches, acc.smoke) == (6, 6, False)
    assert {o.name: o.shape for o in acc.outputs} == {
        "cn": (1, 1, 128), "hn": (1, 1, 128), "speech_probs": (8,)}


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def test_a_bad_polygraphy_file_is_a_located_line_at_check(tmp_path: Path) -> None:
    model = _fixed_width_model(tmp_path / "m.onnx")
    assert model.is_file()
    (tmp_path / "inputs.json").write_text('{"x": 1}')
    spec = write(tmp_path, "s.yaml", """\
        name: s
        model: m.onnx
        precision: int8
        calibration: {data: inputs.json, batches: 1}
        profiles:
          - x: {min: [3, 1], opt: [3, 5], max: [3, 16]}
        """)
    assert [str(e) for e in check_specs([spec])[1]] == [
        f"{spec}:4:21: calibration.data: {tmp_path / 'inputs.json'} is not a Polygraphy inputs "
        "file (a JSON list of feed dicts). Hint: save it with polygraphy run --save-inputs, or "
        "as an .npz: numpy.savez(file, **{input_name: array})"]
    # A feed dict is one batch as Polygraphy ran it, so [3, 5] needs no sample_axis here.
    polygraphy_inputs(tmp_path / "inputs.json", [{"x": np.ones((3, 5), np.float32)}])
    assert check_specs([spec])[1] == []
    batches = load_samples(tmp_path / "inputs.json", ["x"], 1, axes=batch_axes(model),
                           model=model)
    assert [b["x"].shape for b in batches] == [(3, 5)]

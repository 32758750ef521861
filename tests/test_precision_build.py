"""Precision variants end to end: spec → precision step → real TensorRT-RTX build → record."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODELS

from trtdoc.build.run import build_all
from trtdoc.paths import OutputPaths
from trtdoc.record.files import read_record

pytest.importorskip("tensorrt_rtx")
pytest.importorskip("onnxruntime")

SPEC = """name: {name}
model: {model}
backend: tensorrt-rtx
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [2, 3, 224, 224]}}
calibration: {{data: calib.npz, batches: 2}}
targets: [sm89]
variants:
  precision: [fp32, fp16, int8]
"""


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("precision")
    rng = np.random.default_rng(0)
    np.savez(root / "calib.npz", input=rng.standard_normal((4, 3, 224, 224), dtype=np.float32))
    for name, model in (("mobilenet", "mobilenet_v2_035.onnx"), ("resnet18", "resnet18.onnx")):
        (root / f"{name}.yaml").write_text(SPEC.format(name=name, model=MODELS / model))
    paths = OutputPaths(out=root / "build", records=root / "records")
    result = build_all([root], paths, jobs=2)
    return root, paths, result


@pytest.mark.parametrize("model", ["mobilenet", "resnet18"])
def test_fp16_and_int8_engines_are_smaller_and_show_their_layers(variants, model):
    _, paths, result = variants
    assert {o.name: o.status for o in result.outcomes if o.name.startswith(model)} == {
        f"{model}-fp32": "built", f"{model}-fp16": "built", f"{model}-int8": "built"}
    fp32, fp16, int8 = (read_record(paths.record(f"{model}-{p}")) for p in ("fp32", "fp16", "int8"))
    assert fp16.engine_bytes < 0.6 * fp32.engine_bytes
    assert int8.inspection.memory.weights < 0.35 * fp32.inspection.memory.weights
    if model == "resnet18":
        assert int8.engine_bytes < 0.4 * fp32.engine_bytes
    # mobilenet_v2 (width 0.35) is the exception, measured with TensorRT-RTX 1.7: its int8
    # weights are 0.27x, but the int8 kernels it compiles outweigh them (9.5 MB vs 7.2 MB), for
    # every target. The page's fp32 comparison shows exactly that, so it is not asserted here.
    assert dict(fp16.inspection.precision_mix()).get("Half", 0) > 10
    assert dict(int8.inspection.precision_mix()).get("Int8", 0) > 10
    assert "Half" not in dict(fp32.inspection.precision_mix())
    for rec, precision in ((fp16, "fp16"), (int8, "int8")):
        assert rec.precision is not None and rec.accuracy is not None
        assert rec.precision.precision == precision
        (out,) = rec.accuracy.outputs
        assert out.name == "output"
        assert out.cosine > 0.9
        assert out.top1_agreement is not None
        assert rec.accuracy.smoke is True  # no held-out data in the spec
    assert int8.precision is not None
    assert int8.precision.calibration_batches == 2
    assert int8.precision.qdq_nodes > 50
    assert fp32.precision is None and fp32.accuracy is None


def test_int8_page_takes_the_calibration_branch(variants, tmp_path):
    from trtdoc.render.mermaid import build_flow

    _, paths, _ = variants
    flow = build_flow(read_record(paths.record("mobilenet-int8")))
    skipped = flow.split("class ", 1)[1]
    assert "Calibration<br>data: " in flow and "Scale factors" in flow  # data: N batches
    for label in ("Calibration<br>data", "Scale factors"):
        node = next(line.split("[")[0].strip() for line in flow.splitlines()
                    if f'"{label}' in line)
        assert node not in skipped.split()[0].split(","), f"{label} was drawn as not taken"


def test_a_tight_tolerance_fails_the_spec_and_keeps_the_last_good_engine(variants):
    root, paths, _ = variants
    engine = paths.engine("mobilenet-fp16").read_bytes()
    record = paths.record("mobilenet-fp16").read_text()
    tight = root / "tight"
    tight.mkdir()
    (tight / "calib.npz").write_bytes((root / "calib.npz").read_bytes())
    (tight / "mobilenet.yaml").write_text(
        SPEC.format(name="mobilenet", model=MODELS / "mobilenet_v2_035.onnx")
        .replace("[fp32, fp16, int8]", "[fp16]")
        + "accuracy: {tolerance: {max_abs: 1e-15}}\n")
    result = build_all([tight], paths)
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"{tight / 'mobilenet.yaml'}:10: accuracy.tolerance: "
                                      "output 'output': max abs error ")
    assert outcome.message.endswith(" exceeds accuracy.tolerance.max_abs 1e-15; loosen "
                                    "accuracy.tolerance.max_abs or choose a higher precision")
    assert paths.engine("mobilenet-fp16").read_bytes() == engine
    assert paths.record("mobilenet-fp16").read_text() == record


def test_the_magika_example_builds_fp32_fp16_int8_on_real_files(tmp_path):
    """specs/files/magika.yaml: a real pretrained model, calibrated and checked on real files."""
    from conftest import REPO

    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([REPO / "specs" / "files"], paths)
    assert {o.name: o.status for o in result.outcomes} == {
        "magika-fp32": "built", "magika-fp16": "built", "magika-int8": "built"}, result.outcomes
    fp32, fp16, int8 = (read_record(paths.record(f"magika-{p}")) for p in ("fp32", "fp16", "int8"))
    assert fp16.engine_bytes < 0.75 * fp32.engine_bytes
    assert int8.inspection.memory.weights < 0.3 * fp32.inspection.memory.weights
    assert dict(fp16.inspection.precision_mix()).get("Half", 0) >= 10
    assert dict(int8.inspection.precision_mix()).get("Int8", 0) >= 3
    for rec in (fp16, int8):
        assert rec.precision is not None and rec.accuracy is not None
        (out,) = rec.accuracy.outputs
        assert out.name == "target_label" and out.shape[1] == 214
        # Every held-out file was compared: 59 samples, in batches of the opt batch (4).
        assert rec.accuracy.smoke is False
        assert (rec.accuracy.samples, rec.accuracy.batches) == (59, 15)
        # The spec's gate (min_top1 0.95, min_cosine 0.99) passed on 59 held-out files.
        assert out.top1_agreement is not None and out.top1_agreement >= 0.95
        assert out.cosine >= 0.99
        assert rec.precision.checked.startswith("onnx.checker.check_model(full_check=True)")
    assert fp16.precision is not None and int8.precision is not None
    assert fp16.precision.calls[0] == (
        "onnxruntime.transformers.float16.convert_float_to_float16(model, keep_io_types=True)")
    assert "'QDQDisableWeightAdjustForInt32Bias': True" in int8.precision.calls[-1]
    assert (int8.precision.calibration, int8.precision.calibration_batches,
            int8.precision.calibration_samples) == ("data", 8, 59)

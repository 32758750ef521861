"""The accuracy block end to end: spec → precision step → real TensorRT-RTX build → record.

mobilenet_v2 (width 0.35, seeded random weights, ../shared/models) converted to fp16; held-out
inputs are seeded random arrays in its input shape.
"""

from __future__ import annotations

import json
import textwrap

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
precision: fp16
profiles:
  - input: {{min: [1, 3, 224, 224], opt: [2, 3, 224, 224], max: [2, 3, 224, 224]}}
targets: [sm89]
accuracy:
  data: held.npz
  samples: 5
{accuracy}
"""

METRIC = '''
import numpy as np

def top1(reference, candidate, inputs):
    same = [r["output"].argmax(-1) == c["output"].argmax(-1) for r, c in zip(reference, candidate)]
    return {"top1": float(np.concatenate(same).mean()), "batches": float(len(inputs))}
'''


def test_per_output_limits_and_the_metric_hook_in_a_real_build(tmp_path, monkeypatch):
    (tmp_path / "build_metric_for_test.py").write_text(textwrap.dedent(METRIC))
    monkeypatch.syspath_prepend(str(tmp_path))
    specs = tmp_path / "specs"
    specs.mkdir()
    rng = np.random.default_rng(3)
    np.savez(specs / "held.npz", input=rng.standard_normal((6, 3, 224, 224), dtype=np.float32))
    model = MODELS / "mobilenet_v2_035.onnx"
    cases = {
        "good": "  tolerance: {min_cosine: 0.99}\n  outputs: {output: ignore}\n"
                "  metric: build_metric_for_test:top1\n"
                "  metric_tolerance: {min_top1: 0.5, max_batches: 3}",
        "tight": "  tolerance: {min_cosine: 0.99}\n  outputs:\n    output: {max_abs: 1e-15}",
        "noimport": "  metric: no_such_package_xyz:f",
    }
    for name, accuracy in cases.items():
        (specs / f"{name}.yaml").write_text(SPEC.format(name=name, model=model,
                                                        accuracy=accuracy))
    paths = OutputPaths(out=tmp_path / "build", records=tmp_path / "records")
    result = build_all([specs], paths)
    outcomes = {o.name: o for o in result.outcomes}
    assert outcomes["good"].status == "built", outcomes["good"].message
    acc = read_record(paths.record("good")).accuracy
    assert acc is not None
    # Five samples in batches of at most the opt batch (2): 2 + 2 + 1.
    assert (acc.samples, acc.batches, acc.smoke) == (5, 3, False)
    figures = dict(acc.metrics)
    assert figures["batches"] == 3.0 and figures["top1"] >= 0.5
    assert json.loads(paths.record("good").read_text())["accuracy"]["metric.batches"] == 3.0

    assert outcomes["tight"].status == "failed"
    message = outcomes["tight"].message
    assert message.startswith(f"{specs / 'tight.yaml'}:13: accuracy.outputs: output 'output': "
                              "max abs error "), message
    assert message.endswith(" exceeds accuracy.outputs.output.max_abs 1e-15; loosen "
                            "accuracy.outputs.output.max_abs or choose a higher precision")

    assert outcomes["noimport"].status == "failed"
    assert outcomes["noimport"].message == (
        f"{specs / 'noimport.yaml'}:11: accuracy.metric: cannot import no_such_package_xyz, "
        "which 'no_such_package_xyz:f' names (ModuleNotFoundError: No module named "
        "'no_such_package_xyz'). Install the package that holds it, or put its folder on "
        "PYTHONPATH")

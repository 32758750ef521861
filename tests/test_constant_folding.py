"""Constant subgraphs count as weights (issue 24): a small hand-made model whose weights sit
behind a Cast, a Reshape, a Transpose, an Identity alias and a Mul of constants."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
from onnx import TensorProto
from onnx import numpy_helper as nh

from trtdoc.constant_folding import fold_constants
from trtdoc.model import model_facts_from_onnx
from trtdoc.precision.float16 import to_fp16

F = TensorProto.FLOAT
ROOT = Path(__file__).resolve().parents[1]


def folded_model(path: Path) -> Path:
    """``y = ((x + kr) @ w) + sq + b`` where every weight is computed from constants:

    - ``kr`` [8]: Constant ``k8`` int8 [2, 4] -> Cast(float) -> Reshape(shape, an int64
      initializer [1]);
    - ``w`` [8, 8]: initializer ``wt`` [8, 8] -> Transpose;
    - ``sq`` [8]: Constant ``big`` float [8] of 300 -> Mul(big, big): 90,000, past fp16's
      65,504, though ``big`` itself fits;
    - ``b`` [8]: an Identity of the initializer ``bias`` [8], which ``add_b`` also reads
      directly (a PyTorch export aliases a shared weight so): one weight, not two.
    """
    k8 = np.arange(-4, 4, dtype=np.int8).reshape(2, 4)
    nodes = [
        oh.make_node("Constant", [], ["k8"], name="k8", value=nh.from_array(k8)),
        oh.make_node("Cast", ["k8"], ["kf"], name="cast_k", to=F),
        oh.make_node("Reshape", ["kf", "shape"], ["kr"], name="reshape_k"),
        oh.make_node("Transpose", ["wt"], ["w"], name="transpose_w"),
        oh.make_node("Constant", [], ["big"], name="big",
                     value=nh.from_array(np.full(8, 300.0, np.float32))),
        oh.make_node("Mul", ["big", "big"], ["sq"], name="square"),
        oh.make_node("Identity", ["bias"], ["b"], name="alias_b"),
        oh.make_node("Add", ["x", "kr"], ["a"], name="add_k"),
        oh.make_node("MatMul", ["a", "w"], ["m"], name="matmul"),
        oh.make_node("Add", ["m", "sq"], ["s"], name="add_sq"),
        oh.make_node("Add", ["s", "b"], ["t"], name="add_b"),
        oh.make_node("Add", ["t", "bias"], ["y"], name="add_bias_again"),
    ]
    rng = np.random.default_rng(0)
    graph = oh.make_graph(
        nodes, "folded", [oh.make_tensor_value_info("x", F, ["n", 8])],
        [oh.make_tensor_value_info("y", F, ["n", 8])],
        [nh.from_array(np.array([8], np.int64), "shape"),
         nh.from_array(rng.standard_normal((8, 8)).astype(np.float32), "wt"),
         nh.from_array(rng.standard_normal(8).astype(np.float32), "bias")])
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    return path


def test_the_weights_constant_subgraphs_compute_are_counted(tmp_path: Path) -> None:
    model = folded_model(tmp_path / "folded.onnx")
    facts = model_facts_from_onnx(model)
    # By hand: kr 8 + w 64 + sq 8 + bias 8 = 88 float32 values, 352 bytes. Read without
    # folding it would be shape 1 (int64, 8 B) + wt 64 + big 8 + bias 8 = 81 values, 328 B:
    # the int8 Constant uncounted, the shape counted, and w and sq only as their sources.
    assert (facts.parameters, facts.parameter_bytes) == (88, 352)
    folded = fold_constants(model)
    assert folded is not None
    assert sorted(folded.values) == ["kr", "sq", "w"]  # b is bias under another name
    assert folded.absorbed == frozenset({"k8", "shape", "wt", "big"})
    assert folded.producers["sq"] == ("square", "Mul")
    np.testing.assert_array_equal(folded.values["kr"], np.arange(-4, 4, dtype=np.float32))


def test_the_fp16_range_check_reads_computed_weights(tmp_path: Path) -> None:
    model = folded_model(tmp_path / "folded.onnx")
    done = to_fp16(model, tmp_path / "fp16.onnx", external=False)
    # sq (9e4) leaves the fp16 range though no stored weight does; add_sq reads it.
    assert done.clamped_nodes == ("add_sq",)
    assert ("8 fp32 weight value(s) in 1 tensor(s) outside the fp16 range were clamped "
            "(9e+04 -> 6.55e+04)") in done.notes


def test_a_model_whose_only_constant_nodes_are_identity_aliases_is_read_without_onnx(
        tmp_path: Path) -> None:
    # PyTorch exports (resnet18, mobilenet, bert-tiny) alias weights with Identity nodes only.
    # An alias folds nothing, so the model reader must not import onnx for it (0.1 to 0.2 s of
    # every build): the counts are the initializers', as folding would have found.
    rng = np.random.default_rng(0)
    graph = oh.make_graph(
        [oh.make_node("Identity", ["w"], ["w_alias"], name="alias_w"),
         oh.make_node("MatMul", ["x", "w_alias"], ["y"], name="matmul")],
        "aliased", [oh.make_tensor_value_info("x", F, ["n", 8])],
        [oh.make_tensor_value_info("y", F, ["n", 8])],
        [nh.from_array(rng.standard_normal((8, 8)).astype(np.float32), "w")])
    model = tmp_path / "aliased.onnx"
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), model)
    assert fold_constants(model) is None
    probe = (f"import sys; from pathlib import Path; from trtdoc.model import "
             f"model_facts_from_onnx as m; f = m(Path({str(model)!r})); "
             f"print(f.parameters, f.parameter_bytes, 'onnx' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["64", "256", "False"]

"""Facts about the example ONNX models, as an engine page shows them, and the model digest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest
from conftest import REPO
from onnx import TensorProto, numpy_helper

from trtdoc.model import (
    ModelError,
    ModelFacts,
    ModelTensor,
    model_digest,
    model_facts_from_onnx,
    model_files,
)
from trtdoc.typed import decode, encode

MOBILENET = REPO / "models" / "mobilenet_v2_035.onnx"
BERT = REPO / "models" / "bert_tiny.onnx"


def test_mobilenet_facts() -> None:
    facts = model_facts_from_onnx(MOBILENET)

    assert facts == ModelFacts(
        ir_version=8,
        opset=(("", 17),),
        producer="pytorch",
        producer_version="2.14.1",
        nodes=210,
        op_histogram=(("Constant", 70), ("Conv", 52), ("Identity", 40), ("Clip", 35),
                      ("Add", 10), ("Flatten", 1), ("Gemm", 1), ("GlobalAveragePool", 1)),
        # 1,665,392 initializer values and the 70 Constants' (the Clip bounds, one value each)
        parameters=1_665_462,
        parameter_bytes=1_665_462 * 4,
        external_data=False,
        inputs=(ModelTensor("input", "float32", ("batch", 3, 224, 224)),),
        outputs=(ModelTensor("output", "float32", ("batch", 1000)),),
        custom_domains=(),
    )
    assert facts.default_opset == 17
    assert [t.is_dynamic for t in facts.inputs + facts.outputs] == [True, True]


def test_bert_facts() -> None:
    facts = model_facts_from_onnx(BERT)

    assert (facts.ir_version, facts.opset, facts.producer) == (8, (("", 17),), "pytorch")
    # 423,680 initializer values and 16 scalar Constants
    assert (facts.nodes, facts.parameters, facts.parameter_bytes) == (335, 423_696, 1_694_784)
    assert facts.op_histogram[:5] == (("Constant", 107), ("Unsqueeze", 38), ("Add", 23),
                                      ("Gather", 19), ("Identity", 19))
    assert len(facts.op_histogram) == 27
    assert sum(n for _, n in facts.op_histogram) == facts.nodes
    assert facts.inputs == (ModelTensor("input_ids", "int64", ("batch", "seq")),
                            ModelTensor("attention_mask", "int64", ("batch", "seq")))
    assert facts.outputs == (ModelTensor("last_hidden_state", "float32",
                                         ("batch", "seq", 128)),)
    assert facts.external_data is False


def test_facts_round_trip_through_json_data() -> None:
    facts = model_facts_from_onnx(BERT)
    assert decode(ModelFacts, encode(facts)) == facts


def test_custom_domains_and_subgraph_nodes_are_counted(tmp_path: Path) -> None:
    branch = oh.make_graph([oh.make_node("Identity", ["x"], ["b"])], "branch", [],
                           [oh.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    nodes = [
        oh.make_node("FancyOp", ["x"], ["f"], domain="com.acme"),
        oh.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch),
    ]
    graph = oh.make_graph(
        nodes, "g",
        [oh.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
         oh.make_tensor_value_info("c", TensorProto.BOOL, [])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "custom.onnx"
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17),
                                                  oh.make_opsetid("com.acme", 1)]), path)

    facts = model_facts_from_onnx(path)

    assert facts.op_histogram == (("Identity", 2), ("If", 1), ("com.acme::FancyOp", 1))
    assert facts.nodes == 4
    assert facts.custom_domains == ("com.acme",)
    assert facts.opset == (("", 17), ("com.acme", 1))
    assert facts.inputs[1] == ModelTensor("c", "bool", ())


def test_missing_and_non_onnx_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as missing:
        model_facts_from_onnx(tmp_path / "nope.onnx")
    assert missing.value.missing is True
    assert missing.value.reason == "model file not found"

    (tmp_path / "text.onnx").write_text("not a model\n")
    with pytest.raises(ModelError) as text:
        model_facts_from_onnx(tmp_path / "text.onnx")
    assert text.value.missing is False
    assert text.value.reason == "not a readable ONNX model (truncated, or not ONNX at all)"


def _external_model(folder: Path, weights: np.ndarray) -> Path:
    w = numpy_helper.from_array(weights.astype(np.float32), "w")
    graph = oh.make_graph(
        [oh.make_node("MatMul", ["x", "w"], ["y"])], "ext",
        [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])], initializer=[w])
    path = folder / "ext.onnx"
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path,
              save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.weights", size_threshold=0)
    return path


def test_model_digest_is_stable_and_tells_models_apart() -> None:
    assert model_digest(MOBILENET) == model_digest(MOBILENET)
    assert model_digest(MOBILENET) != model_digest(BERT)
    assert model_files(MOBILENET) == [MOBILENET]


def test_model_digest_follows_external_data(tmp_path: Path) -> None:
    path = _external_model(tmp_path, np.eye(4))
    weights = tmp_path / "ext.weights"
    assert model_files(path) == [path, weights]
    before = model_digest(path)

    # New weights of the same size; the .onnx file itself is unchanged.
    weights.write_bytes((2 * np.eye(4, dtype=np.float32)).tobytes())

    assert model_digest(path) != before
    facts = model_facts_from_onnx(path)
    assert (facts.external_data, facts.parameters, facts.parameter_bytes) == (True, 16, 64)

    weights.unlink()
    with pytest.raises(ModelError) as missing:
        model_digest(path)
    assert missing.value.reason == "external data file ext.weights is missing"


def test_paddle_weights_in_constant_nodes_are_counted() -> None:
    # PaddlePaddle exports keep every weight in a Constant node: the page must count them.
    facts = model_facts_from_onnx(REPO / "models" / "ppocr_v4_det.onnx")

    assert dict(facts.op_histogram)["Constant"] == 342
    assert (facts.parameters, facts.parameter_bytes) == (1_171_841, 4_687_364)


def test_constant_floats_are_weights_and_shapes_are_not(tmp_path: Path) -> None:
    """A float Constant counts as an initializer does, a scalar too (value_float); an integer
    one (a shape) is an operand."""
    graph = oh.make_graph(
        [oh.make_node("Constant", [], ["w"], value=numpy_helper.from_array(
             np.ones((2, 3), np.float32), "w")),
         oh.make_node("Constant", [], ["lo"], value_float=0.0),
         oh.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(
             np.array([1, 6], np.int64), "shape")),
         oh.make_node("Add", ["x", "w"], ["s"]),
         oh.make_node("Reshape", ["s", "shape"], ["y"])],
        "g", [oh.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])])
    path = tmp_path / "m.onnx"
    onnx.save(oh.make_model(graph), str(path))

    assert (model_facts_from_onnx(path).parameters,
            model_facts_from_onnx(path).parameter_bytes) == (7, 28)

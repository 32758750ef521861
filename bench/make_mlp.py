"""Write an MLP whose weights (a few hundred MB) live in an ONNX external-data file.

    python bench/make_mlp.py OUT.onnx HIDDEN LAYERS

``LAYERS`` Gemm layers of HIDDEN×HIDDEN float32 weights with ReLU between them; input ``x``
[batch, HIDDEN], output ``y``. Weights are seeded random numbers: the graph is what matters.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
from onnx import TensorProto, numpy_helper


def main(out: str, hidden: int, layers: int) -> None:
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for i in range(layers):
        w = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"),
                  numpy_helper.from_array(np.zeros(hidden, np.float32), f"b{i}")]
        y = "y" if i == layers - 1 else f"h{i}"
        gemm_out = y if i == layers - 1 else f"g{i}"
        nodes.append(oh.make_node("Gemm", [x, f"w{i}", f"b{i}"], [gemm_out], name=f"fc{i}",
                                  transB=1))
        if i < layers - 1:
            nodes.append(oh.make_node("Relu", [gemm_out], [y], name=f"relu{i}"))
        x = y
    graph = oh.make_graph(
        nodes, "mlp", [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", hidden])],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", hidden])], inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)],
                          producer_name="trtdoc-bench")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=path.name + ".data", size_threshold=1024)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

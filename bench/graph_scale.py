"""The whole-engine graph pages at scale: building and rendering them, in process.

    python bench/graph_scale.py                  # 200 engines × 1,000 layers
    python bench/graph_scale.py --count 20 --layers 5000

Each engine is a chain of ``--layers`` layers in blocks of ten (``/model/layers.K/mlp/op_i``,
a residual link per block, every seventh a Reformat), as ``tests/test_engine_graph.py``
synthesises them. Times ``trtdoc.render.engine_graph.graph_pages`` and the rendering of
``graph.md.j2`` for every engine (the work ``trtdoc render`` adds per engine), and prints one
JSON object: seconds, pages and bytes. ``render_scale.py`` times whole renders, these pages
included.
"""

from __future__ import annotations

import argparse
import json
import time

from trtdoc.inspect.types import Inspection, IOTensor, Layer, TensorDesc
from trtdoc.render.engine_graph import graph_pages, links_from_inspection
from trtdoc.render.environment import environment, render_template


def _tensor(name: str) -> TensorDesc:
    return TensorDesc(name, (1, 64), "Half", "Row major linear FP16 format")


def inspection(count: int) -> Inspection:
    layers = []
    for i in range(count):
        node = f"/model/layers.{i // 10}/mlp/op_{i}"
        inputs = [_tensor(f"t{i - 1}" if i else "x")]
        if i % 10 == 9:
            inputs.append(_tensor(f"t{i - 9}"))
        layers.append(Layer(name=node if i % 7 else f"Reformatting CopyNode {i}",
                            type="Reformat" if i % 7 == 0 else "gemm", inputs=tuple(inputs),
                            outputs=(_tensor(f"t{i}"),), tactic="", fused=(node,),
                            precision="Half"))
    io = (IOTensor("x", "Input", "Half", (1, 64)),
          IOTensor(f"t{count - 1}", "Output", "Half", (1, 64)))
    return Inspection(source="build-log", layers=tuple(layers), io=io)


class _Record:
    """What graph_pages and graph.md.j2 read of a record."""

    def __init__(self, name: str, inspection: Inspection) -> None:
        self.name = name
        self.inspection = inspection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--layers", type=int, default=1000)
    args = parser.parse_args()
    shared = inspection(args.layers)
    records = [_Record(f"engine-{k:03d}", shared) for k in range(args.count)]
    env = environment(None)
    start = time.perf_counter()
    links = links_from_inspection(shared)
    link_seconds = time.perf_counter() - start
    pages = size = 0
    start = time.perf_counter()
    for record in records:
        for _, context in graph_pages(record):  # type: ignore[arg-type]
            size += len(render_template(env, "graph.md.j2", **context))
            pages += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"engines": args.count, "layers": args.layers,
                      "links": len(links.edges), "links_seconds": round(link_seconds, 4),
                      "seconds": round(seconds, 2),
                      "ms_per_engine": round(1000 * seconds / args.count, 1),
                      "pages": pages, "mib": round(size / 2**20, 1)}))


if __name__ == "__main__":
    main()

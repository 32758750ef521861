"""trtdoc reads ONNX protobufs itself (no weights copied, no `onnx` import): check it against onnx.

The reference below computes the same facts with ``onnx.load``; every model, real or broken,
must give the same facts or the same refusal.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import onnx
import onnx.helper as oh
import pytest
from conftest import MODELS
from onnx import TensorProto

from trtdoc import model as reader
from trtdoc.model import ModelError, model_facts_from_onnx, model_files

_STANDARD = ("", "ai.onnx", "ai.onnx.ml", "com.microsoft", "trt", "trt.plugins")


def reference(path: Path) -> dict:
    """The facts, computed with the onnx package."""
    proto = onnx.load(str(path), load_external_data=False)
    if proto.ir_version <= 0 or not proto.HasField("graph"):
        raise ValueError("empty")
    g = proto.graph
    inits = {i.name for i in g.initializer}
    ops: Counter[str] = Counter()
    domains: set[str] = set()

    def walk(graph):
        for n in graph.node:
            ops[n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"] += 1
            if n.domain not in _STANDARD:
                domains.add(n.domain)
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)

    walk(g)

    def dims(vi):
        return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in vi.type.tensor_type.shape.dim]

    params = 0
    for i in g.initializer:
        n = 1
        for d in i.dims:
            n *= d
        params += n
    # and the float values of the top graph's Constant nodes (scalars too; not shapes)
    for node in g.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for a in node.attribute:
                if a.name == "value" and a.t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16,
                                                             TensorProto.BFLOAT16,
                                                             TensorProto.DOUBLE):
                    n = 1
                    for d in a.t.dims:
                        n *= d
                    params += n
                elif a.name == "value_float":
                    params += 1
                elif a.name == "value_floats":
                    params += len(a.floats)
    return {
        "ir_version": proto.ir_version,
        "opset": sorted([o.domain, o.version] for o in proto.opset_import),
        "producer": proto.producer_name,
        "nodes": sum(ops.values()),
        "ops": dict(ops),
        "parameters": params,
        "external": any(i.data_location == 1 for i in g.initializer),
        "inputs": [[vi.name, dims(vi)] for vi in g.input if vi.name not in inits],
        "outputs": [[vi.name, dims(vi)] for vi in g.output],
        "custom_domains": sorted(domains),
    }


def ours(path: Path) -> dict:
    f = model_facts_from_onnx(path)
    return {
        "ir_version": f.ir_version,
        "opset": sorted([d, v] for d, v in f.opset),
        "producer": f.producer,
        "nodes": f.nodes,
        "ops": dict(f.op_histogram),
        "parameters": f.parameters,
        "external": f.external_data,
        "inputs": [[t.name, list(t.dims)] for t in f.inputs],
        "outputs": [[t.name, list(t.dims)] for t in f.outputs],
        "custom_domains": list(f.custom_domains),
    }


@pytest.fixture(autouse=True)
def no_stat_cache(monkeypatch):
    # Files here are rewritten within a second; compare fresh reads only.
    monkeypatch.setattr(reader, "_SETTLED_NS", 10**30, raising=False)


def _subgraph_model(folder: Path) -> Path:
    then = oh.make_graph([oh.make_node("Identity", ["a"], ["o1"], name="then_id")], "then", [],
                         [oh.make_tensor_value_info("o1", TensorProto.FLOAT, [2])])
    other = oh.make_graph(
        [oh.make_node("Neg", ["a"], ["o2"], name="else_neg"),
         oh.make_node("Foo", ["o2"], ["o3"], name="c", domain="my.dom")], "else", [],
        [oh.make_tensor_value_info("o3", TensorProto.FLOAT, [2])])
    g = oh.make_graph(
        [oh.make_node("If", ["cond"], ["out"], name="if0", then_branch=then, else_branch=other)],
        "g", [oh.make_tensor_value_info("cond", TensorProto.BOOL, []),
              oh.make_tensor_value_info("a", TensorProto.FLOAT, [-1, "n", None])],
        [oh.make_tensor_value_info("out", TensorProto.FLOAT, ["x"])],
        [oh.make_tensor("w", TensorProto.FLOAT16, [3, 4], [0] * 12),
         oh.make_tensor("a", TensorProto.FLOAT, [2], [1, 2])])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17), oh.make_opsetid("my.dom", 1)],
                      producer_name="tést")
    onnx.save(m, folder / "sub.onnx")
    return folder / "sub.onnx"


def test_real_and_tricky_models_give_the_same_facts_as_onnx(tmp_path: Path) -> None:
    mob = onnx.load(str(MODELS / "mobilenet_v2_035.onnx"))
    onnx.save(mob, str(tmp_path / "ext.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=False, size_threshold=0)
    paths = [MODELS / "resnet18.onnx", MODELS / "mobilenet_v2_035.onnx",
             MODELS / "bert_tiny.onnx", _subgraph_model(tmp_path), tmp_path / "ext.onnx"]
    for path in paths:
        assert ours(path) == reference(path), path.name
    ext_files = model_files(tmp_path / "ext.onnx")
    assert len(ext_files) > 50 and all(p.exists() for p in ext_files)


def test_broken_files_are_refused_exactly_when_onnx_refuses_them(tmp_path: Path) -> None:
    data = (MODELS / "bert_tiny.onnx").read_bytes()
    rnd = random.Random(0)
    cases: list[bytes] = [b"", b"hello world, not onnx\n"]
    cases += [data[:cut] for cut in sorted(rnd.sample(range(1, len(data)), 25))]
    cases += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64))) for _ in range(25)]
    for _ in range(15):
        flipped = bytearray(data[:20000])
        for _ in range(3):
            flipped[rnd.randrange(len(flipped))] = rnd.randrange(256)
        cases.append(bytes(flipped))
    for i, blob in enumerate(cases):
        path = tmp_path / f"case{i}.onnx"
        path.write_bytes(blob)
        try:
            expected = reference(path)
        except Exception:
            expected = None
        if expected is None:
            with pytest.raises(ModelError):
                model_facts_from_onnx(path)
        else:
            assert ours(path) == expected, f"case {i}"

"""Regenerate the fixed build records the render tests use (run from the repository root).

    python tests/data/records/make_records.py

Needs tensorrt_rtx (no GPU). Writes, next to this file:

* ``bert-tiny.json``: a real TensorRT-RTX build of models/bert_tiny.onnx with two profiles.
* ``mobilenet-v2-fp16.json``: a real fp16 build (precision step and accuracy check), when
  trtdoc's precision stage is installed.
* ``hostile-names.json``: a real build of a small model whose node and tensor names hold
  ``|``, ``<script>``, quotes, backticks, Markdown and Mermaid syntax and newlines. The model
  and its spec are written to tests/data/hostile/.
* ``resnet18-trtexec.json`` and ``.history/resnet18-trtexec.json``: the TREx trtexec exports
  (shared/fixtures/trex, NVIDIA A100) imported with ``record_from_trtexec`` and ``--gpu A100``:
  fp16 with its per-layer profile as the current record, fp32 with its profile and its
  ``--exportTimes`` file as the previous one; ``resnet18-trtexec-fp32.json`` is that fp32
  import as an engine of its own (its page has the latency chart). ``--trtexec`` remakes only
  these, with no build.

Records hold the host and the build time of the run that made them; that is expected, and
the goldens are regenerated from these files, not from new builds.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = Path(os.environ.get("TRTDOC_SHARED", REPO.parent / "shared"))
HOSTILE_DIR = HERE.parent / "hostile"

HOSTILE = {
    "in": 'in|put <b>"x"</b>',
    "conv": 'conv|0 <script>alert("pwn")</script>',
    "relu": "relu|1 <script>alert(\"relu\")</script>\n'single'",
    "add": "%%{init: {\"theme\": \"dark\"}}%% #quot; `tick` *star* _u_ [l](http://x.invalid)",
    "t1": "t1 </code></pre><script>alert(1)</script>",
    "t2": "t2\n```\nfence",
    "out": "out|put <img src=x onerror=alert(1)>",
}


def hostile_model() -> onnx.ModelProto:
    """Conv → Relu → Add, with a dynamic batch and hostile names everywhere."""
    n = HOSTILE
    weight = numpy_helper.from_array(
        np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32), "w|<w>")
    nodes = [
        helper.make_node("Conv", [n["in"], "w|<w>"], [n["t1"]], name=n["conv"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [n["t1"]], [n["t2"]], name=n["relu"]),
        helper.make_node("Add", [n["t2"], n["t1"]], [n["out"]], name=n["add"]),
    ]
    graph = helper.make_graph(
        nodes, "hostile",
        [helper.make_tensor_value_info(n["in"], TensorProto.FLOAT, ["batch", 3, 16, 16])],
        [helper.make_tensor_value_info(n["out"], TensorProto.FLOAT, ["batch", 4, 16, 16])],
        initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="trtdoc tests <hostile|producer>")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_hostile_inputs() -> Path:
    HOSTILE_DIR.mkdir(parents=True, exist_ok=True)
    onnx.save(hostile_model(), HOSTILE_DIR / "hostile.onnx")
    spec = {
        "name": "hostile-names",
        "description": 'Names from an untrusted model: | <script>alert("x")</script> `x` '
                       "*y* _z_ [a](b)",
        "owner": "security <team>|x",
        "tags": ["safety", "<tag>"],
        "model": "hostile.onnx",
        "backend": "tensorrt-rtx",
        "profiles": [{HOSTILE["in"]: {"min": [1, 3, 16, 16], "opt": [2, 3, 16, 16],
                                      "max": [4, 3, 16, 16]}}],
        "targets": ["sm75", "sm86"],
    }
    path = HOSTILE_DIR / "hostile.yaml"
    path.write_text("# Written by tests/data/records/make_records.py\n"
                    + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return path


def build(spec_path: Path):
    from trtdoc.backends import choose_backend
    from trtdoc.build.key import build_key
    from trtdoc.build.make import build_engine_record
    from trtdoc.model import model_digest
    from trtdoc.paths import OutputPaths
    from trtdoc.spec.load import load_specs

    loaded, errors = load_specs([spec_path])
    if errors:
        raise SystemExit("\n".join(map(str, errors)))
    (item,) = loaded
    spec = item.spec
    choice = choose_backend(spec.backend)
    sha = model_digest(spec.model)
    paths = OutputPaths(out=REPO / "build" / "test-records", records=HERE)
    record = build_engine_record(item, paths, build_key(spec, sha, choice), sha, choice)
    # Paths in a record are relative to the working directory; make them repository paths,
    # so that the fixtures (and the goldens made from them) do not depend on the checkout.
    def rel(mapping, keys):
        if not mapping:
            return mapping
        out = dict(mapping)
        for key in keys:
            if isinstance(out.get(key), str) and out[key].startswith(str(REPO) + "/"):
                out[key] = Path(out[key]).relative_to(REPO).as_posix()
        return out

    return dataclasses.replace(
        record, engine_path=f"build/engines/{record.name}.engine",
        precision=rel(record.precision, ("source", "model")),
        accuracy=rel(record.accuracy, ("reference", "candidate")))


TREX = SHARED / "fixtures" / "trex"


def _trex(precision: str, kind: str) -> Path:
    return TREX / precision / f"resnet.onnx.engine.{kind}.json"


def trtexec_records() -> list:
    """The imports that have pages: fp16 with its profile, and fp32 with its profile and its
    --exportTimes file (the latency chart); both with --gpu A100, where TREx made them."""
    from trtdoc.importer import record_from_trtexec

    return [record_from_trtexec("resnet18-trtexec", _trex("fp16", "graph"),
                                _trex("fp16", "profile"), gpu="A100"),
            record_from_trtexec("resnet18-trtexec-fp32", _trex("fp32", "graph"),
                                _trex("fp32", "profile"), gpu="A100",
                                times=_trex("fp32", "timing"))]


def trtexec_previous() -> object:
    """resnet18-trtexec's previous record: the fp32 import, so its What changed has time."""
    from trtdoc.importer import record_from_trtexec

    return record_from_trtexec("resnet18-trtexec", _trex("fp32", "graph"),
                               _trex("fp32", "profile"), gpu="A100",
                               times=_trex("fp32", "timing"))


def main() -> None:
    os.chdir(REPO)
    from trtdoc.record.files import write_atomic
    from trtdoc.record.text import dumps

    if sys.argv[1:] == ["--trtexec"]:  # only the imports: no build, the other records kept
        for record in trtexec_records():
            write_atomic(HERE / f"{record.name}.json", dumps(record))
        write_atomic(HERE / ".history" / "resnet18-trtexec.json", dumps(trtexec_previous()))
        return
    records = [build(HERE.parent / "specs" / "bert_tiny.yaml"), build(write_hostile_inputs())]
    try:
        import trtdoc.precision  # noqa: F401
    except ImportError:
        print("trtdoc.precision is not installed: skipping mobilenet-v2-fp16", file=sys.stderr)
    else:
        records.append(build(HERE.parent / "specs" / "mobilenet_v2_fp16.yaml"))
    records += trtexec_records()
    for record in records:
        write_atomic(HERE / f"{record.name}.json", dumps(record))
    write_atomic(HERE / ".history" / "resnet18-trtexec.json", dumps(trtexec_previous()))
    print(f"wrote {len(records) + 1} records to {HERE}")


if __name__ == "__main__":
    main()

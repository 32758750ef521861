"""Engine facts from plan headers: real TensorRT-RTX plans built here, and broken files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from capture_build_logs import raw_build
from conftest import MODELS

from trtdoc.errors import InspectError
from trtdoc.inspect.build_log import inspection_from_build_log
from trtdoc.inspect.header import EngineFacts, engine_facts_from_header
from trtdoc.typed import decode, encode

DATA = Path(__file__).parent / "data"
NASTY_INPUT = 'in, put: [x] {"q"}'  # the input of tests/data/nasty_names.onnx
BERT_SHAPES = ((1, 8), (2, 64), (4, 128))


@pytest.fixture(scope="module")
def trt():
    return pytest.importorskip("tensorrt_rtx")


def build(trt, model: Path, shapes: dict[str, tuple], targets: list[str]
          ) -> tuple[bytes, list[str]]:
    messages, plan = raw_build(trt, model, [shapes], targets)
    return plan, [m for _, m in messages]


@pytest.fixture(scope="module")
def bert_plan(trt) -> tuple[bytes, list[str]]:
    return build(trt, MODELS / "bert_tiny.onnx",
                 {"input_ids": BERT_SHAPES, "attention_mask": BERT_SHAPES},
                 ["SM86", "SM120", "SM121"])


# A conv-only model, because TensorRT-RTX cannot build an fp32 GEMM for Turing (SM75): all three
# shared models fail there with "check_turing_op_compatibility ... FP32 GEMM is not supported".
@pytest.mark.parametrize("targets", [
    ["SM75", "SM89"],
    ["SM80"],
    ["SM75", "SM80", "SM86", "SM89", "SM120", "SM121"],
])
def test_rtx_header_reports_the_targets_it_was_built_for(trt, targets):
    plan, _ = build(trt, DATA / "nasty_names.onnx",
                    {NASTY_INPUT: ((1, 3, 16, 16), (2, 3, 16, 16), (4, 3, 16, 16))}, targets)
    facts = engine_facts_from_header(plan)
    assert facts.backend == "tensorrt-rtx"
    assert facts.compute_capabilities == tuple(t.lower() for t in targets)
    assert facts.size_bytes == len(plan)


def test_rtx_header_of_a_real_model(trt, bert_plan, tmp_path):
    plan, messages = bert_plan
    path = tmp_path / "bert.engine"
    path.write_bytes(plan)
    facts = engine_facts_from_header(path)
    assert facts == EngineFacts("tensorrt-rtx", trt.__version__, ("sm86", "sm120", "sm121"),
                                1_699_200, len(plan))
    # The header's weight total is the builder's own "Total Weights Memory" line.
    assert facts.weights_bytes == inspection_from_build_log(messages).memory.weights
    assert "Total Weights Memory: 1699200 bytes" in messages
    assert engine_facts_from_header(plan) == engine_facts_from_header(str(path)) == facts


def test_only_the_header_is_read(bert_plan, tmp_path, monkeypatch):
    path = tmp_path / "bert.engine"
    path.write_bytes(bert_plan[0])
    sizes: list[int] = []
    real_fdopen = os.fdopen

    class Spy:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            sizes.append(n)
            return self.f.read(n)

        def fileno(self):
            return self.f.fileno()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Spy(real_fdopen(fd, mode)))
    engine_facts_from_header(path)
    assert sizes == [64]


def test_unknown_target_bits_are_kept(bert_plan):
    plan = bytearray(bert_plan[0])
    plan[32] |= 1 << 6  # a default build on this machine sets bit 6, which 1.7 cannot name
    assert engine_facts_from_header(bytes(plan)).compute_capabilities == (
        "sm86", "sm120", "sm121", "bit6")


def test_full_tensorrt_header():
    plan = b"ftrt" + bytes(20) + bytes([10, 8, 0, 43]) + bytes(100)
    assert engine_facts_from_header(plan) == EngineFacts("tensorrt", "10.8.0.43", (), None, 128)


def test_round_trip(bert_plan):
    facts = engine_facts_from_header(bert_plan[0])
    assert decode(EngineFacts, json.loads(json.dumps(encode(facts)))) == facts


@pytest.mark.parametrize(("content", "message"), [
    ("truncate", "bad.engine: truncated TensorRT-RTX engine: 1000 of the {size} bytes its "
                 "header declares; copy or rebuild it"),
    ("short", "bad.engine: truncated TensorRT-RTX engine: 40 bytes, shorter than its 64-byte "
              "header; copy or rebuild it"),
    (b"", "bad.engine: not a TensorRT engine: it is empty, not starting with b'ftrt' "
          "(TensorRT) or b'vtrt' (TensorRT-RTX); pass the plan that build_serialized_network "
          "wrote"),
    # The first bytes are not shown: the file may be a secret (/etc/shadow starts "root").
    (b"root:$6$x an ONNX file", "bad.engine: not a TensorRT engine: it does not start with "
                                "b'ftrt' (TensorRT) or b'vtrt' (TensorRT-RTX); pass the plan "
                                "that build_serialized_network wrote"),
    (b"ftrt" + bytes(20) + bytes([200, 1, 0, 0]) + bytes(40),
     "bad.engine: not a TensorRT engine this version of trtdoc can read: magic b'ftrt' but "
     "version bytes c8 01 00 00"),
    (b"ftrt" + bytes(10), "bad.engine: truncated TensorRT engine: 14 bytes, too short to hold "
                          "its version; copy or rebuild it"),
])
def test_broken_files_name_the_file(bert_plan, tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    plan = bert_plan[0]
    data = {"truncate": plan[:1000], "short": plan[:40]}.get(content, content)
    path = tmp_path / "bad.engine"
    path.write_bytes(data)
    with pytest.raises(InspectError) as err:
        engine_facts_from_header(path)
    assert str(err.value) == message.format(size=len(plan))


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InspectError) as err:
        engine_facts_from_header(tmp_path / "gone.engine")
    assert str(err.value) == "gone.engine: cannot read the engine (No such file or directory)"

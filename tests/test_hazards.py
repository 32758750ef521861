"""Per-target hazards (trtdoc.compat.hazards): FP32 GEMMs in a TensorRT-RTX plan on Turing,
as a compat check and as a finding, on real records and a real (refused) build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import MODELS, REPO

from trtdoc.compat.deploy import target_from_options
from trtdoc.compat.hazards import fp32_gemm_layers
from trtdoc.compat.verdicts import Plan, evaluate
from trtdoc.findings.rules import findings_from_record
from trtdoc.record.files import read_record

T4 = target_from_options("T4", "tensorrt-rtx 1.7.1", "580.65.06")


def _as_if_compiled_for_sm75(name: str):  # type: ignore[no-untyped-def]
    # A real record whose header also lists sm75, as a plan from a release or build path
    # that compiled FP32 GEMMs for Turing would (TensorRT-RTX 1.7.1 itself refuses: below).
    record = read_record(REPO / "records" / f"{name}.json")
    assert record.header is not None
    return replace(record, header=replace(
        record.header, compute_capabilities=("sm75", *record.header.compute_capabilities)))


def test_bert_s_fp32_gemms_fail_on_turing_and_are_a_finding() -> None:
    record = _as_if_compiled_for_sm75("bert-tiny")
    gemms = fp32_gemm_layers(record.inspection.layers)
    # 2 encoder layers × (QKV, scores, context, attention output, FFN in, FFN out) = 12.
    assert len(gemms) == 12
    assert gemms[0].startswith("/m/encoder/layer.0/attention/self/value/MatMul")
    verdict = evaluate(Plan.from_record(record), T4)
    assert (verdict.verdict, verdict.rule) == ("fails", "turing-fp32-gemm")
    assert verdict.reason.startswith("12 FP32 GEMM layers (first: /m/encoder/layer.0/")
    assert "https://github.com/pytorch/TensorRT/pull/4643" in verdict.sources
    finding = next(f for f in findings_from_record(record) if f.kind == "turing-fp32-gemm")
    assert finding.severity == "error" and len(finding.layers) == 12
    assert finding.what == "12 FP32 GEMM layers in a plan compiled for sm75"
    # The same plan on Ampere has no such check; the fp16 mobilenet has no FP32 GEMM.
    a10 = target_from_options("A10", "tensorrt-rtx 1.7.1", "580.65.06")
    assert all(c.rule != "turing-fp32-gemm" for c in evaluate(Plan.from_record(record),
                                                                  a10).checks)
    fp16 = _as_if_compiled_for_sm75("mobilenet-v2-fp16")
    assert fp32_gemm_layers(fp16.inspection.layers) == ()
    assert all(f.kind != "turing-fp32-gemm" for f in findings_from_record(fp16))


def test_tensorrt_rtx_refuses_an_fp32_gemm_for_sm75(tmp_path: Path) -> None:
    """The measurement the rule cites: a real fp32 build of mobilenet_v2 for sm75.

    In a child process: after this failed build, TensorRT-RTX 1.7.1 builds the next engine of
    the same process differently (mobilenet_v2 for sm86: 74 layers, 8,462,644 bytes, against
    56 layers and 7,067,276 bytes in a fresh process), which would change other tests' builds.
    """
    pytest.importorskip("tensorrt_rtx")
    spec = tmp_path / "m.yaml"
    spec.write_text(f"name: m\nmodel: {MODELS / 'mobilenet_v2_035.onnx'}\nbackend: "
                    "tensorrt-rtx\nprofiles: [{input: {min: [1, 3, 224, 224], opt: [1, 3, 224, "
                    "224], max: [2, 3, 224, 224]}}]\ntargets: [sm75]\n")
    result = subprocess.run(
        [sys.executable, "-m", "trtdoc.cli", "build", str(spec), "--out", str(tmp_path / "b"),
         "--records", str(tmp_path / "r"), "--site", str(tmp_path / "s")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert ("Cannot compile operation '/classifier/classifier.1/Gemm' for Turing (SM75): "
            "FP32 GEMM is not supported") in result.stderr + result.stdout

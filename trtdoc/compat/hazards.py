"""Per-target hazards of TensorRT-RTX plans: what can load on a target and still go wrong
there, each with its source. :mod:`trtdoc.compat.verdicts` turns them into checks of a
deployed pair, :mod:`trtdoc.findings.rules` into findings of a build.

First, FP32 GEMMs on Turing. TensorRT-RTX's support matrix says that on Turing (sm75) it
"does not support FP32 GEMMs and 3D convolutions"; pytorch/TensorRT PR#4546 and PR#4643 report
what that means at run time: a dynamic-shape FP32 GEMM builds, runs and silently returns zeros,
a static one gives no execution context. TensorRT-RTX 1.7.1 here refuses to compile one for
SM75 (measured), so such a plan comes from another release or build path; where a record
shows one, the pair fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from trtdoc.cost.rules import kind_of
from trtdoc.inspect.types import Layer, myelin_ops

RTX_MATRIX_URL = ("https://docs.nvidia.com/deeplearning/tensorrt-rtx/latest/getting-started/"
                  "support-matrix.html")
TORCH_TRT_4643_URL = "https://github.com/pytorch/TensorRT/pull/4643"
TORCH_TRT_4546_URL = "https://github.com/pytorch/TensorRT/pull/4546"
RTX_TURING_SLOW_URL = "https://github.com/NVIDIA/TensorRT-RTX/issues/11"
TURING_FP32_GEMM_MEASURED = (
    "measured: TensorRT-RTX 1.7.1 building mobilenet_v2 fp32 for [sm75] fails with \"Cannot "
    "compile operation '/classifier/classifier.1/Gemm' for Turing (SM75): FP32 GEMM is not "
    "supported\"")
TURING_FP32_GEMM_SOURCES = (RTX_MATRIX_URL, TORCH_TRT_4643_URL, TORCH_TRT_4546_URL,
                            TURING_FP32_GEMM_MEASURED)
TURING = "sm75"

# A Myelin kernel runs a GEMM when its name lists Fc, Gemm or Matm (__myl_FcAddDivErf_myl1_15).
_GEMM_TOKENS = frozenset({"Fc", "Gemm", "Matm"})


def fp32_gemm_layers(layers: Iterable[Layer]) -> tuple[str, ...]:
    """Names of the layers that run a GEMM (matrix multiply, fully connected) in FP32."""
    out = []
    for layer in layers:
        if layer.precision != "Float":
            continue
        tokens = set(myelin_ops(layer.name) or ())
        if kind_of(layer.type) in ("matmul", "fully-connected") or tokens & _GEMM_TOKENS:
            out.append(layer.name)
    return tuple(out)

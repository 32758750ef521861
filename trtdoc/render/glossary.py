"""The glossary: one line on each layer type, origin and Myelin term the pages show, each with
its source. It is one data table (``TERMS``); ``glossary.md`` is generated from it, and engine
pages link each layer type they list to its line (``anchor``).

Layer types of TensorRT 8-10 engines come from the inspector JSON (``LayerType``, ``Origin``)
as NVIDIA's TREx reads them; the TensorRT-RTX types (``kgen``, ``correlation``...) were measured
in the DETAILED build logs of this repository's builds (records/*.json), from each layer's
name, tensors and the ONNX nodes it implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INSPECTOR_URL = ("https://docs.nvidia.com/deeplearning/tensorrt/10.16.1/inference-library/"
                 "engine-tools.html")
TREX_URL = ("https://github.com/NVIDIA/TensorRT/tree/release/10.13/tools/experimental/"
            "trt-engine-explorer")
MYELIN_URL = "https://github.com/NVIDIA/TensorRT/issues/2576"
FOREIGN_NODE_URL = "https://github.com/NVIDIA/TensorRT/issues/2308"
MEASURED = "measured: TensorRT-RTX 1.7.1 DETAILED build logs of records/*.json"


@dataclass(frozen=True)
class Term:
    """One glossary line."""

    term: str
    kind: str  # layer type | origin | Myelin | tactic | name
    means: str
    source: str

    @property
    def anchor(self) -> str:
        """The id of its line on the glossary page: its kind and term in lower case
        (``layer-type-kgen``; ``origin-reformat`` is not ``layer-type-reformat``)."""
        return re.sub(r"[^a-z0-9]+", "-", f"{self.kind} {self.term}".lower()).strip("-")


_T = Term
TERMS: tuple[Term, ...] = tuple(sorted((
    _T("CaskConvolution", "layer type", "A convolution (with any fused bias, activation or "
       "residual add) run by a kernel of CASK, TensorRT's CUDA kernel library.", TREX_URL),
    _T("CaskDeconvolution", "layer type", "A transposed convolution run by a CASK kernel.",
       TREX_URL),
    _T("CaskGemm", "layer type", "A matrix multiply run by a CASK kernel.", TREX_URL),
    _T("CaskPooling", "layer type", "A pooling layer (max, average, global) run by a CASK "
       "kernel.", TREX_URL),
    _T("CudaPooling", "layer type", "A pooling layer run by a plain CUDA kernel.", TREX_URL),
    _T("TiledPooling", "layer type", "A pooling layer run by TensorRT's tiled pooling kernel.",
       TREX_URL),
    _T("Reformat", "layer type", "A copy that changes a tensor's layout or type (NCHW to "
       "vectorised channels, fp32 to fp16) between two layers that want different formats.",
       TREX_URL),
    _T("NoOp", "layer type", "A reformat TensorRT removed: the tensor is used as it is, so the "
       "layer costs nothing.", TREX_URL),
    _T("Shuffle", "layer type", "A transpose and/or reshape.", INSPECTOR_URL),
    _T("ElementWise", "layer type", "An element-wise operation on two tensors (add, multiply, "
       "max...).", INSPECTOR_URL),
    _T("PointWise", "layer type", "A fusion of element-wise operations into one generated "
       "kernel.", TREX_URL),
    _T("Myelin", "layer type", "A subgraph TensorRT handed to Myelin, its graph compiler; its "
       "name is {ForeignNode[first...last]}.", MYELIN_URL),
    _T("ForeignNode", "Myelin", "The name TensorRT gives a Myelin subgraph: "
       "{ForeignNode[first node...last node]} spans the ONNX nodes it took.",
       FOREIGN_NODE_URL),
    _T("Myelin graph compiler", "Myelin", "TensorRT's graph compilation backend: it fuses "
       "pointwise ops and attention aggressively; TensorRT-RTX compiles almost every layer "
       "through it.", MYELIN_URL),
    _T("kgen", "layer type", "A kernel Myelin generated for a group of pointwise and "
       "data-movement ops; its name (__myl_CastReplConc_myl0_1) lists them.", MEASURED),
    _T("gemm", "layer type", "A TensorRT-RTX matrix multiply (MatMul, Gemm, fused Q/K/V "
       "projections), weights in its constants.", MEASURED),
    _T("correlation", "layer type", "A TensorRT-RTX convolution (the operation is a "
       "cross-correlation), weights in its constants.", MEASURED),
    _T("runtime_fusion", "layer type", "A TensorRT-RTX kernel compiled for a fusion around a "
       "GEMM (__myl_FcAddDivErf: a fully connected layer with its GELU).", MEASURED),
    _T("shape_call", "layer type", "A TensorRT-RTX host call that works out shapes for the "
       "dynamic dimensions; it computes no tensor data.", MEASURED),
    _T("ShapeHostToDevice", "layer type", "A copy of shape values from the host to the GPU, "
       "for kernels that need them.", MEASURED),
    _T("__myl_", "Myelin", "The prefix of a Myelin-generated kernel's name; the capitalised "
       "words after it abbreviate its ops (Cast, Repl replicate, Conc concatenate, Tran "
       "transpose, Resh reshape, Move, Slic slice, Gath gather, Fc fully connected).",
       MEASURED),
    _T("_myl0_1", "Myelin", "The suffix of a Myelin layer's name: Myelin graph 0, its layer 1. "
       "A graph serves one optimisation profile.", MEASURED),
    _T("__myelin_CASK_STUB", "tactic", "The tactic of a Myelin layer that calls a CASK "
       "convolution or GEMM kernel chosen inside Myelin.", MEASURED),
    _T("tactic", "tactic", "The kernel implementation TensorRT chose for a layer after timing "
       "(or ranking) the candidates; TacticName or TacticValue in the inspector JSON.",
       INSPECTOR_URL),
    _T("REFORMAT", "origin", "Origin of a layer TensorRT inserted to change a format, not "
       "one of the network's layers.", TREX_URL),
    _T("Origin", "origin", "Why a layer exists in the engine, where the inspector JSON says "
       "(REFORMAT, ...); a layer without it comes from the network.", TREX_URL),
    _T("Reformatting CopyNode", "name", "The name TensorRT gives a reformat it inserted: "
       "Reformatting CopyNode for Input Tensor 0 to <layer>.", TREX_URL),
), key=lambda t: t.term.lower()))

_BY_TERM = {t.term: t for t in TERMS}


def term_anchor(term: str) -> str | None:
    """The glossary anchor of term (a layer type as TensorRT prints it), or None."""
    found = _BY_TERM.get(term)
    return found.anchor if found is not None else None

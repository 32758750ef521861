"""The inspection stage: what is inside an engine, as one normalised model.

The model (:class:`Inspection`, :class:`Layer`, :class:`IOTensor`, ...) lives in
:mod:`trtdoc.inspect.types`. Each source that describes an engine's layers has its own parser
module and converter into it:

* :mod:`~trtdoc.inspect.build_log`, :func:`inspection_from_build_log`: the builder's own log.
  With ``config.profiling_verbosity = ProfilingVerbosity.DETAILED`` and a logger that keeps
  VERBOSE messages, the builder emits one message that starts ``Layers:``
  (:mod:`~trtdoc.inspect.layers_message` reads it). This needs no GPU, which is why trtdoc
  uses it by default.
* :mod:`~trtdoc.inspect.inspector_json`, :func:`inspection_from_inspector_json`:
  ``IEngineInspector.get_engine_information(JSON)`` of TensorRT 8-10 and 11.
  :func:`inspection_from_engine` (:mod:`~trtdoc.inspect.gpu`) produces it from engine bytes on
  a GPU host.
* :mod:`~trtdoc.inspect.trtexec`, :func:`inspection_from_trtexec`: ``trtexec
  --exportLayerInfo`` (the same JSON), optionally joined with per-layer times from
  ``--exportProfile``, read as streams (:mod:`~trtdoc.inspect.json_stream`) within
  :mod:`~trtdoc.inspect.limits`.

Fused layers name their ONNX nodes in ``Metadata`` (:mod:`~trtdoc.inspect.fusion`), and every
parser finishes its Inspection the same way (:mod:`~trtdoc.inspect.assemble`).

No module-level TensorRT import: converters that need TensorRT take the module as an argument.
"""

from __future__ import annotations

from trtdoc.inspect.assemble import DETAILED_HINT
from trtdoc.inspect.build_log import inspection_from_build_log
from trtdoc.inspect.fusion import fused_from_metadata
from trtdoc.inspect.gpu import gpu_runtime_available, inspection_from_engine
from trtdoc.inspect.inspector_json import inspection_from_inspector_json
from trtdoc.inspect.limits import MAX_EXPORT_BYTES, MAX_JSON_VALUE_CHARS, MAX_LAYERS
from trtdoc.inspect.trtexec import inspection_from_trtexec
from trtdoc.inspect.types import (
    DTYPES,
    MATH_DTYPES,
    PRECISION_OF_DTYPE,
    SOURCES,
    Inspection,
    IOTensor,
    Layer,
    Memory,
    ProfileShape,
    TensorDesc,
    layer_precision,
    normalise_dtype,
    output_type,
)

__all__ = [
    "DETAILED_HINT",
    "DTYPES",
    "MATH_DTYPES",
    "MAX_EXPORT_BYTES",
    "MAX_JSON_VALUE_CHARS",
    "MAX_LAYERS",
    "PRECISION_OF_DTYPE",
    "SOURCES",
    "IOTensor",
    "Inspection",
    "Layer",
    "Memory",
    "ProfileShape",
    "TensorDesc",
    "fused_from_metadata",
    "gpu_runtime_available",
    "inspection_from_build_log",
    "inspection_from_engine",
    "inspection_from_inspector_json",
    "inspection_from_trtexec",
    "layer_precision",
    "normalise_dtype",
    "output_type",
]

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
  :mod:`~trtdoc.inspect.limits`; and ``--exportTimes`` (per-inference latency), summarised as a
  :class:`~trtdoc.inspect.latency.Latency`.

Beside the layers, :mod:`~trtdoc.inspect.header` reads a plan file's header (version, targets,
weight bytes) with no GPU and no TensorRT import.

Fused layers name their ONNX nodes in ``Metadata`` (:mod:`~trtdoc.inspect.fusion`), and every
parser finishes its Inspection the same way (:mod:`~trtdoc.inspect.assemble`).

No module-level TensorRT import: converters that need TensorRT take the module as an argument.
"""

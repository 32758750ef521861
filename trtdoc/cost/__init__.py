"""How much work an engine is, and how fast it could be on a GPU: estimates, never measurements.

* :mod:`~trtdoc.cost.rules`: the one registry of per-layer rules (FLOPs, bytes read and written)
  from a layer's type, parameters, dimensions and types; no rule means unknown, never 0.
* :mod:`~trtdoc.cost.onnx_nodes`: FLOPs and boundary bytes of ONNX nodes at the opt shape, for
  the Myelin fusions (``kgen``, ``runtime_fusion``) of engines built here.
* :mod:`~trtdoc.cost.shapes_cache`: those shapes kept between builds of the same model file
  (``build/cache/model-shapes/``), so a rebuild imports no onnx.
* :mod:`~trtdoc.cost.layers`: :func:`inspection_with_costs`, every layer's cost from the rules,
  the ONNX model where trtdoc has it, and the opt shapes.
* :mod:`~trtdoc.cost.gpus`: peak rates per precision, bandwidth and memory of GPUs, each row
  citing its datasheet; GPU names resolve through :mod:`trtdoc.compat.gpus`.
* :mod:`~trtdoc.cost.bound`: the lower bound per layer and per engine on one GPU (roofline).
"""

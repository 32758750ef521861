"""The precision step: turn an fp32 ONNX model into the model a strongly typed TensorRT builds.

TensorRT 11 and TensorRT-RTX take precision from the model, not from builder flags, so an
fp16/bf16/int8/fp8 engine starts here:

- fp16: ``onnxruntime.transformers.float16.convert_float_to_float16`` (onnxruntime's maintained
  fork of ONNX's converter; graph inputs and outputs stay fp32, so the engine is a drop-in for
  the fp32 one), then ``OnnxModel.topological_sort()``, since it appends the Casts it inserts at
  the end of the graph. onnxconverter-common 1.16's converter is not used: it can leave a
  ``Cast(to=float)`` whose output it types fp16 (its issue #320), which onnxruntime refuses.
- bf16: NVIDIA ModelOpt AutoCast, the only maintained bf16 converter; it is an optional extra
  (``trtdoc[modelopt]``) because it pulls in torch and CUDA libraries (several GB).
- int8, fp8: explicit quantization by ``onnxruntime.quantization.quantize_static`` in QDQ format,
  calibrated on the spec's data. ModelOpt's ONNX PTQ is built on the same quantizer. Models
  below opset 13 are upgraded first for int8 (per-channel ``DequantizeLinear(axis=)`` needs 13).

Every converted model is checked before it is built: ``onnx.checker`` with full type and shape
inference, and an onnxruntime CPU session. A model that fails raises :class:`BuildError` naming
the converter call, the node and, where it is a known converter bug, the bug. The calls made,
with their options, are kept in the result (``calls``) so a page can show how to reproduce it.

The step is split by concern: ``samples`` (calibration and held-out data), ``float16`` (fp16,
bf16), ``quantize`` (int8, fp8), ``checks``, ``graph`` (node counts, precision mix), ``recipe``
(tools, options and the keys they give), ``result`` and ``convert`` (:func:`convert_model`);
``accuracy`` measures the converted model against the fp32 one, for the spec's gate, and
``divergence`` finds the first node whose output diverges when that gate fails.

Converted models are cached by content: the same model, precision, calibration data and recipe
give the same file without converting again. Every conversion library is imported inside the
function that needs it, so ``import trtdoc`` stays fast and works without them.
"""

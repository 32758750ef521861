"""int8 and fp8: explicit quantization with onnxruntime's ``quantize_static`` in QDQ format,
symmetric, as TensorRT takes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trtdoc.precision.conversion import Conversion, python_call, save_model
from trtdoc.precision.float16 import KeepFp32, kept_note
from trtdoc.precision.graph import opset_of
from trtdoc.precision.recipe import METHODS, PER_CHANNEL_MIN_OPSET, QUANTIZED_OP_TYPES
from trtdoc.values import QuantizedPrecision

if TYPE_CHECKING:
    import numpy as np


def quantize(model: Path, out: Path, precision: QuantizedPrecision,
             samples: Sequence[Mapping[str, np.ndarray]], external: bool,
             workdir: Path, keep: KeepFp32 = ((), ())) -> Conversion:
    """Insert int8 or fp8 Q/DQ into ``model`` at ``out``, calibrated on ``samples``.

    ``keep`` (op types, node names) are not quantized: left out of the op types, and the
    nodes passed as ``nodes_to_exclude``. Models below opset 13 are upgraded first for
    per-channel weights, or quantized per tensor if they cannot be; ``workdir`` holds the
    intermediate files.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict[str, Any] | None:
            batch = next(self._it, None)
            return None if batch is None else dict(batch)

    fp8 = precision == "fp8"
    # fp8 per-channel was no more accurate in our measurements and twice as slow.
    per_channel = not fp8
    calls: list[str] = []
    notes: list[str] = []
    method = None
    source = model
    opset = opset_of(onnx.load(str(model), load_external_data=False))
    if per_channel and opset < PER_CHANNEL_MIN_OPSET:
        # Per-channel weights need DequantizeLinear's `axis`, which opset 11/12 do not have;
        # onnxruntime writes it anyway, and the result is invalid ONNX.
        from onnx import version_converter

        try:
            upgraded = version_converter.convert_version(onnx.load(str(model)),
                                                         PER_CHANNEL_MIN_OPSET)
            onnx.checker.check_model(upgraded)
        except Exception as exc:  # noqa: BLE001 - any adapter failure: fall back per tensor
            per_channel = False
            method = METHODS[precision][1].replace("per-channel", "per-tensor")
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            notes.append(f"weights quantized per tensor: per-channel DequantizeLinear(axis=...) "
                         f"needs opset >= {PER_CHANNEL_MIN_OPSET}, and onnx.version_converter "
                         f"could not upgrade this opset-{opset} model ({type(exc).__name__}"
                         f"{': ' + reason[:200] if reason else ''})")
        else:
            source = workdir / "upgraded.onnx"
            save_model(upgraded, source, external)
            calls.append(python_call("onnx.version_converter.convert_version", "model",
                                     str(PER_CHANNEL_MIN_OPSET)))
            notes.append(f"upgraded from opset {opset} to {PER_CHANNEL_MIN_OPSET} before "
                         "quantizing: per-channel DequantizeLinear(axis=...) needs it")

    # Pre-processing folds the Constant/Identity nodes torch exporters put in front of weights;
    # without it the quantizer sees those weights as activations and cannot quantize them
    # per channel. Symbolic shape inference needs sympy and adds nothing for static-rank models.
    pre = workdir / "preprocessed.onnx"
    pre_options: dict[str, Any] = {"skip_symbolic_shape": True}
    if external:
        pre_options |= {"save_as_external_data": True, "all_tensors_to_one_file": True,
                        "external_data_location": "preprocessed.onnx.data"}
    quant_pre_process(str(source), str(pre), **pre_options)
    calls.append(python_call("onnxruntime.quantization.shape_inference.quant_pre_process",
                             "model", "output_path", **pre_options))
    qtype = QuantType.QFLOAT8E4M3FN if fp8 else QuantType.QInt8
    options: dict[str, Any] = {
        "quant_format": QuantFormat.QDQ,
        "op_types_to_quantize": [t for t in QUANTIZED_OP_TYPES if t not in keep[0]],
        "per_channel": per_channel,
        "activation_type": qtype,
        "weight_type": qtype,
        # onnxruntime supports only the Distribution calibrator for float8.
        "calibrate_method": CalibrationMethod.Distribution if fp8 else CalibrationMethod.MinMax,
        "use_external_data_format": external,
        "extra_options": {
            # TensorRT's quantization is symmetric (zero point 0).
            "ActivationSymmetric": True,
            "WeightSymmetric": True,
            # TensorRT's DequantizeLinear takes 8-bit (and 4-bit) inputs only; an int32 bias
            # fails to parse. TensorRT fuses the fp32 bias into the quantized layer instead.
            "QuantizeBias": False,
            # The weight-scale adjustment only keeps an int32 bias in range, and no bias is
            # quantized here. It also fails on a per-channel Gemm whose bias is [1, N] (as
            # quant_pre_process makes from MatMul+Add): "The truth value of an array with more
            # than one element is ambiguous" (onnxruntime issue #24815).
            "QDQDisableWeightAdjustForInt32Bias": True,
        },
    }
    if keep[1]:
        options["nodes_to_exclude"] = list(keep[1])
    quantize_static(str(pre), str(out), _Reader(), **options)
    calls.append(python_call("onnxruntime.quantization.quantize_static", "model",
                             "output_path", "calibration_reader", **options))
    note = kept_note(keep)
    return Conversion(calls=tuple(calls), notes=tuple(notes) + ((note,) if note else ()),
                      method=method)

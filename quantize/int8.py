"""INT8: dynamic (weights only, activations quantised per call) and static QDQ (calibrated activations).

Static QDQ is for NPU EPs (QNN, OpenVINO) that need QDQ graphs; on ORT CPU it is no faster than
dynamic and less accurate (quantize/README.md). Weights are QInt8 (signed): ORT's U8S8 GEMM uses AVX512-VNNI, QUInt8 weights take a 2-3x slower path
(docs/hardware.md#cpu-measurements). Only MatMuls with a constant weight are quantised (MatMulConstBOnly): the
attention's activation×activation products stay FP32, they are small and accuracy-sensitive.
Dynamic INT8 also stores Conv / ConvTranspose weights as int8 weight-only (graph_passes.compress_conv_weights:
dequantised once at session load, FP32 convs): they were two thirds of the codec decoder's int8 file; and the
constant lookup tables of Gather / GatherND (the codec's semantic codebook embedding) the same way
(graph_passes.compress_gather_tables).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from .graph_passes import compress_conv_weights, compress_gather_tables, gemm_to_matmul
from .onnx_io import initializer_bytes, load_model, quiet_root_logger, save_model

DYNAMIC_OPS = ("MatMul",)
# No ConvInteger / QLinearConv: quantising a conv's activations (static or dynamic) cost ~12 dB of waveform
# SNR on `small` (45 -> 33 dB; all MatMuls together ~2 dB), and on the trained example codec ConvInteger
# took log-mel L1 to FP32 from 0.13 to 0.84 and ran 1.8x slower. Conv weights go int8 weight-only instead
# (CONV_WEIGHTS), which costs nothing measurable there (quantize/README.md, "Conv weights of the codec").
STATIC_OPS = ("MatMul",)
CONV_WEIGHTS = ("int8", "fp16", "fp32")  # how quantize_int8_dynamic stores Conv / ConvTranspose weights


def _prepared(src: str | Path, tmp: Path) -> Path:
    """Gemm -> MatMul (the dynamic quantiser ignores Gemm), saved next to the scratch output."""
    model = load_model(src)
    gemm_to_matmul(model)
    return save_model(model, tmp / "prepared.onnx")[0]


def quantize_int8_dynamic(src: str | Path, dst: str | Path, per_channel: bool = True,
                          op_types: tuple[str, ...] = DYNAMIC_OPS, exclude: Iterable[str] = (),
                          conv_weights: str = "int8") -> list[Path]:
    """conv_weights: how Conv / ConvTranspose weights and constant Gather tables are stored: 'int8' / 'fp16'
    weight-only (compress_conv_weights, compress_gather_tables: dequantised at session load), 'fp32' as exported."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if conv_weights not in CONV_WEIGHTS:
        raise ValueError(f"conv_weights must be one of {', '.join(CONV_WEIGHTS)}, not {conv_weights!r}")
    dst = Path(dst)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp, quiet_root_logger():
        prepared = _prepared(src, Path(tmp))
        out = Path(tmp) / "q.onnx"
        quantize_dynamic(prepared, out, op_types_to_quantize=list(op_types), per_channel=per_channel,
                         weight_type=QuantType.QInt8, nodes_to_exclude=list(exclude),
                         reduce_range=True,  # 7-bit weights: no int16 saturation without VNNI (onnx_utils.INT8_WEIGHT_MAX)
                         use_external_data_format=initializer_bytes(load_model(prepared, False)) > (1 << 30),
                         extra_options={"MatMulConstBOnly": True})
        model = load_model(out)
        if conv_weights != "fp32":
            compress_conv_weights(model, conv_weights)
            compress_gather_tables(model, conv_weights)  # the codec's semantic codebook embedding: same store
        return save_model(model, dst)


class FeedReader:
    """onnxruntime.quantization.CalibrationDataReader over a list of input feeds."""

    def __init__(self, feeds: list[Mapping[str, np.ndarray]]):
        self._feeds = list(feeds)
        self._it = iter(self._feeds)

    def get_next(self):
        return next(self._it, None)

    def rewind(self):
        self._it = iter(self._feeds)


def same_shape(feeds: list[Mapping[str, np.ndarray]]) -> list[Mapping[str, np.ndarray]]:
    """The feeds sharing the most common input shapes."""
    key = lambda f: tuple((k, v.shape) for k, v in sorted(f.items()))  # noqa: E731
    keys = [key(f) for f in feeds]
    best = max(set(keys), key=keys.count)
    return [f for f, k in zip(feeds, keys) if k == best]


def quantize_int8_static(src: str | Path, dst: str | Path, feeds: list[Mapping[str, np.ndarray]],
                         per_channel: bool = True, op_types: tuple[str, ...] | None = STATIC_OPS,
                         method: str = "minmax", exclude: Iterable[str] = (), activations: str = "u8",
                         weights: str = "s8", reduce_range: bool = True) -> list[Path]:
    """QDQ: U8 activations (ranges from `feeds`), S8 weights; ORT CPU fuses DQ->MatMul->Q into QLinearMatMul.

    For NPU graphs (export/npu_target.py): op_types=None quantises every op ORT can, activations='u16' gives A16W8
    (HTP's w8a16), and reduce_range=False keeps all 8 weight bits (the 7-bit range only helps x86 without VNNI)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    types = {"u8": QuantType.QUInt8, "s8": QuantType.QInt8, "u16": QuantType.QUInt16, "s16": QuantType.QInt16}

    if not feeds:
        raise ValueError("int8 static quantisation needs calibration feeds; collect them with "
                         "vox_edge.export.calibrate.collect_calibration")
    if method != "minmax":  # histogram collectors stack activations: they need one shape across feeds
        feeds = same_shape(feeds)
    cal = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
           "percentile": CalibrationMethod.Percentile}[method]
    dst = Path(dst)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp, quiet_root_logger():
        prepared = _prepared(src, Path(tmp))
        out = Path(tmp) / "q.onnx"
        quantize_static(prepared, out, FeedReader(feeds), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=None if op_types is None else list(op_types), per_channel=per_channel,
                        activation_type=types[activations], weight_type=types[weights],
                        calibrate_method=cal, nodes_to_exclude=list(exclude), reduce_range=reduce_range,  # as above
                        use_external_data_format=initializer_bytes(load_model(prepared, False)) > (1 << 30),
                        # everything (op_types=None) includes attention's activation x activation MatMuls
                        extra_options={"MatMulConstBOnly": op_types is not None, "CalibTensorRangeSymmetric": False})
        return save_model(load_model(out), dst)

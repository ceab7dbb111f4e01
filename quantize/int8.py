"""INT8: dynamic (weights only, activations quantised per call) and static QDQ (calibrated activations).

Static QDQ is for NPU EPs (QNN, OpenVINO) that need QDQ graphs; on ORT CPU it is no faster than
dynamic and less accurate (quantize/README.md). Weights are QInt8 (signed): ORT's U8S8 GEMM uses AVX512-VNNI, QUInt8 weights take a 2-3x slower path
(docs/toolchain.md §5). Only MatMuls with a constant weight are quantised (MatMulConstBOnly): the
attention's activation×activation products stay FP32, they are small and accuracy-sensitive.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from .graph_passes import gemm_to_matmul
from .onnx_io import initializer_bytes, load_model, quiet_root_logger, save_model

DYNAMIC_OPS = ("MatMul",)
# Convs stay FP32: on `small`, quantising any single codec conv (static or dynamic) costs ~12 dB of
# waveform SNR (45 -> 33 dB), all MatMuls together ~2 dB; convs are ~10% of the codec's weights.
STATIC_OPS = ("MatMul",)


def _prepared(src: str | Path, tmp: Path) -> Path:
    """Gemm -> MatMul (the dynamic quantiser ignores Gemm), saved next to the scratch output."""
    model = load_model(src)
    gemm_to_matmul(model)
    return save_model(model, tmp / "prepared.onnx")[0]


def quantize_int8_dynamic(src: str | Path, dst: str | Path, per_channel: bool = True,
                          op_types: tuple[str, ...] = DYNAMIC_OPS, exclude: Iterable[str] = ()) -> list[Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = Path(dst)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp, quiet_root_logger():
        prepared = _prepared(src, Path(tmp))
        out = Path(tmp) / "q.onnx"
        quantize_dynamic(prepared, out, op_types_to_quantize=list(op_types), per_channel=per_channel,
                         weight_type=QuantType.QInt8, nodes_to_exclude=list(exclude),
                         use_external_data_format=initializer_bytes(load_model(prepared, False)) > (1 << 30),
                         extra_options={"MatMulConstBOnly": True})
        return save_model(load_model(out), dst)


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
                         per_channel: bool = True, op_types: tuple[str, ...] = STATIC_OPS,
                         method: str = "minmax", exclude: Iterable[str] = ()) -> list[Path]:
    """QDQ: U8 activations (ranges from `feeds`), S8 weights; ORT CPU fuses DQ->MatMul->Q into QLinearMatMul."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if not feeds:
        raise ValueError("int8 static quantisation needs calibration feeds; collect them with "
                         "vox_edge.quantize.calibrate.collect_calibration")
    if method != "minmax":  # histogram collectors stack activations: they need one shape across feeds
        feeds = same_shape(feeds)
    cal = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
           "percentile": CalibrationMethod.Percentile}[method]
    dst = Path(dst)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp, quiet_root_logger():
        prepared = _prepared(src, Path(tmp))
        out = Path(tmp) / "q.onnx"
        quantize_static(prepared, out, FeedReader(feeds), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=list(op_types), per_channel=per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=cal, nodes_to_exclude=list(exclude),
                        use_external_data_format=initializer_bytes(load_model(prepared, False)) > (1 << 30),
                        extra_options={"MatMulConstBOnly": True, "CalibTensorRangeSymmetric": False})
        return save_model(load_model(out), dst)

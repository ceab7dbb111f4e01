"""FP16 weights and activations, for GPU / NPU execution providers.

ORT's CPU EP has no FP16 MatMul on x86: it inserts Casts and folds the weights back to FP32 at load,
so an FP16 graph on CPU runs at FP32 speed and memory; only the file is halved (docs/hardware.md#cpu-measurements).
Uses onnxruntime.transformers.float16 (onnxconverter_common's converter yields graphs ORT cannot load).
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import numpy_helper

from .graph_passes import toposort
from .onnx_io import load_model, save_model

# RMSNorm's sum of squares overflows FP16 once activations pass ~256 (x² > 65504): keep it in FP32,
# as fused SimplifiedLayerNormalization kernels do. Softmax and the -inf masks are FP16-safe.
FP32_OPS = ("Pow", "ReduceMean", "Sqrt", "Reciprocal", "Range", "Cos", "Sin")


def to_fp16(src: str | Path, dst: str | Path, keep_io_types: bool = True,
            fp32_ops: tuple[str, ...] = FP32_OPS) -> list[Path]:
    """FP32 graph -> FP16 graph with FP32 inputs/outputs (keep_io_types) so callers feed float32."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    model = load_model(src)
    m16 = convert_float_to_float16(model, keep_io_types=keep_io_types,
                                   op_block_list=list(DEFAULT_OP_BLOCK_LIST) + list(fp32_ops))
    toposort(m16)
    for t in m16.graph.initializer:  # the converter stores FP16 as int32 varints (~3 bytes each): pack as raw
        if t.data_type == onnx.TensorProto.FLOAT16 and not t.raw_data:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
    return save_model(m16, dst)

"""INT4 weight-only: MatMul -> com.microsoft.MatMulNBits (block-wise, FP32 scales).

accuracy_level=4 lets ORT quantise the activations to int8 per block and use the VNNI kernel; level 0
(FP32 compute) measured 2.4x slower (docs/hardware.md#cpu-measurements). Blocks run along K; a weight whose K is
not a multiple of the block size (the acoustic input_projection, K = 36) or is shorter than one
block is left in FP32: it is tiny, and ORT would zero-pad a partial block. Conv / ConvTranspose weights and constant
Gather tables are stored as dynamic int8 stores them (`conv_weights`: int8 / fp16 weight-only, dequantised at session
load, or fp32 as exported): a 4-bit codec's MatMuls beside FP32 conv weights made a file larger than the int8 one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .graph_passes import compress_conv_weights, compress_gather_tables, gemm_to_matmul, weight_matmuls
from .onnx_io import load_model, quiet_root_logger, save_model


def int4_exclusions(model, block_size: int) -> list[str]:
    return [n.name for n, (k, _n), _w in weight_matmuls(model) if k % block_size or k < block_size]


def quantize_int4(src: str | Path, dst: str | Path, block_size: int = 32, accuracy_level: int = 4,
                  symmetric: bool = False, bits: int = 4, exclude: Iterable[str] = (),
                  conv_weights: str = "fp32") -> list[Path]:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = load_model(src)
    gemm_to_matmul(model)
    skip = set(exclude) | set(int4_exclusions(model, block_size))
    q = MatMulNBitsQuantizer(model, bits=bits, block_size=block_size, is_symmetric=symmetric,
                             accuracy_level=accuracy_level, nodes_to_exclude=sorted(skip))
    with quiet_root_logger():
        q.process()
    model = q.model.model
    if conv_weights != "fp32":
        compress_conv_weights(model, conv_weights)
        compress_gather_tables(model, conv_weights)
    return save_model(model, dst)

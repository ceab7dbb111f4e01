"""The teacher's frame decoder as a torch FrameDecoder (export/reference/frame_decoder.py), weights read from
hibari 0.2.1's graph: float convs and norms as stored, int8 MatMul weights dequantized ((q - zero) * scale)."""
from __future__ import annotations

import numpy as np
import torch

from vox_edge.export.reference.frame_decoder import FrameDecoder

from .teacher_graph import teacher_model_path


def _initializers() -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(teacher_model_path())
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def _dequant(w: dict, prefix: str) -> np.ndarray:
    q = w[f"{prefix}/Transpose_output_0_quantized"].astype(np.float32)
    zero = w[f"{prefix}/Transpose_output_0_zero_point"].astype(np.float32)
    return (q - zero) * w[f"{prefix}/Transpose_output_0_scale"].astype(np.float32)  # [in, out]


def teacher_frame_decoder() -> FrameDecoder:
    w = _initializers()
    fd = FrameDecoder()
    sd = {"dec_in.weight": w["m.dec_in.weight"], "dec_in.bias": w["m.dec_in.bias"],
          "dec_norm.weight": w["m.dec_norm.weight"], "dec_norm.bias": w["m.dec_norm.bias"],
          "head.weight": _dequant(w, "/head").T, "head.bias": w["m.head.bias"]}
    for i in range(fd.n_layers):
        p = f"m.dec.{i}."
        sd.update({f"dec.{i}.dw.weight": w[p + "dw.weight"], f"dec.{i}.dw.bias": w[p + "dw.bias"],
                   f"dec.{i}.norm.weight": w[p + "norm.weight"], f"dec.{i}.norm.bias": w[p + "norm.bias"],
                   f"dec.{i}.pw1.weight": _dequant(w, f"/dec.{i}/pw1").T, f"dec.{i}.pw1.bias": w[p + "pw1.bias"],
                   f"dec.{i}.pw2.weight": _dequant(w, f"/dec.{i}/pw2").T, f"dec.{i}.pw2.bias": w[p + "pw2.bias"],
                   f"dec.{i}.gamma": w[p + "gamma"]})
    fd.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()})
    return fd.eval()

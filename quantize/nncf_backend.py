"""NNCF on ONNX graphs: for OpenVINO-targeted bundles only.

On ORT's CPU EP NNCF's outputs are not fused: its DequantizeLinear nodes de-quantise every weight on
every call (docs/hardware.md#cpu-measurements; re-measured in quantize/README.md), so ORT bundles use int8.py /
int4.py. OpenVINO folds the same QDQ patterns into low-precision kernels.
    int8: nncf.quantize (post-training, activations calibrated on the reference feeds; QDQ)
    int4: nncf.compress_weights INT4_SYM, group size = the plan's block size (weight-only)
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from .onnx_io import load_model, quiet_root_logger, save_model


def nncf_compress(src: str | Path, dst: str | Path, precision: str, feeds: list[Mapping[str, np.ndarray]] | None = None,
                  group_size: int = 32) -> list[Path]:
    import nncf

    model = load_model(src)
    with quiet_root_logger():
        if precision == "int8":
            if not feeds:
                raise ValueError("nncf int8 (nncf.quantize) needs calibration feeds")
            out = nncf.quantize(model, nncf.Dataset(list(feeds)), model_type=nncf.ModelType.TRANSFORMER,
                                subset_size=len(feeds))
        elif precision == "int4":
            # IGNORE: a weight whose K is not a group multiple (input_projection, K = 36) stays INT8
            adv = nncf.AdvancedCompressionParameters(group_size_fallback_mode=nncf.GroupSizeFallbackMode.IGNORE)
            # Convs are skipped: nncf 3.4 gives a 3-D conv weight a per-axis scale that ORT rejects
            # ("scale must be 1D tensor with size 240"), and they are the codec's least tolerant layers.
            out = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT4_SYM, group_size=group_size,
                                        ratio=1.0, all_layers=True, advanced_parameters=adv,
                                        ignored_scope=nncf.IgnoredScope(types=["Conv", "ConvTranspose"], validate=False))
        else:
            raise ValueError(f"nncf backend handles int8 / int4, not {precision}")
    return save_model(out, dst)

"""qnn-htp: a `source_filter` codec as two graphs, its trunk FP32 on the CPU and its frame decoder on the HTP.

A source_filter codec's network returns, per 80 Hz renderer frame, f0 and five spectral maps; the renderer
(runtime/source_filter.py, NumPy) integrates f0 sample by sample into the phase of a pulse train. An f0 error of a
fraction of a hertz therefore becomes a phase drift that grows over a voiced stretch, and the waveform stops
matching the FP32 codec's even where it sounds the same. On the trained v2 codec the whole codec as HTP QDQ
(uint16 activations, int8 per-channel weights) gives -2..-3 dB waveform SNR against FP32; int16 weights 16.6 dB
(and the SA8295P's V68 refuses them); the trunk FP32 with only the frame decoder quantised 32-33 dB
(benchmarks/RESULTS.md, "The source_filter codec's waveform SNR on qnn-htp"). f0 is computed by the whole trunk
(transformer stages, upsampling, output projection), so the split is at the frame decoder's input:

codec_trunk    codes [1,T,1+A] int64, frame_mask [1,T] -> features [1,C,F] (zero on padded renderer frames),
               feature_mask [1,1,F], f0 [1,F] Hz. FP32, placed on the CPU (manifest graph entry `placement`
               "cpu" with `placement_reason`): export/torch_graphs.py masked_features.
codec_decoder  features, feature_mask -> lh, theta, ln, lr, phi [1,601,F]: the ConvNeXt frame decoder, QDQ A16W8
               on the HTP like every other graph (export/torch_graphs.py masked_frame_decoder).

Together they compute exactly what the one fixed-window codec graph computes (masked_render_params is the two
halves composed); the runtime runs them as one codec session (runtime/source_filter.py SplitCodec).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from vox_edge.manifest import GRAPH_IO, SPLIT_DECODER_INPUTS, SPLIT_DECODER_OUTPUTS

from .npu_graphs import fold_for_npu
from .torch_graphs import (OPSET, CodecDecoder, masked_features, masked_frame_decoder, rms_norm_as_div, tidy)

CODEC_TRUNK = "codec_trunk"
TRUNK_REASON = ("computes f0, which the source_filter renderer integrates into its pulse phase: with int8 weights "
                "(the HTP's) the waveform drifts from the FP32 codec's (trained v2 codec: -2 dB SNR; this graph "
                "FP32 on the CPU: 32 dB); the frame decoder (codec_decoder) runs on the accelerator")


class CodecTrunk(CodecDecoder):
    def forward(self, codes: torch.Tensor, frame_mask: torch.Tensor):  # type: ignore[override]
        return masked_features(self.codec, self.latent(codes), frame_mask)


class FrameDecoderGraph(nn.Module):
    def __init__(self, codec):
        super().__init__()
        self.codec = codec

    def forward(self, features: torch.Tensor, feature_mask: torch.Tensor):
        return masked_frame_decoder(self.codec, features, feature_mask)


def renderer_frames(cfg, codec_frames: int) -> int:
    c = cfg.codec
    return (codec_frames * c.samples_per_frame + c.renderer_hop - 1) // c.renderer_hop


def export_split_codec(codec, cfg, codec_frames: int, scratch: Path, out_dir: Path,
                       progress: Callable[[str], None]) -> dict[str, dict]:
    """FP32 fixed-shape codec_trunk and codec_decoder (frame decoder) graphs, folded for the NPU, into out_dir;
    returns their manifest graph entries (codec_trunk's placed on the CPU)."""
    from vox_edge.quantize.onnx_io import save_model

    c = cfg.codec
    g = torch.Generator().manual_seed(0)
    codes = torch.cat([torch.randint(0, c.semantic_codebook_size, (1, codec_frames, 1), generator=g),
                       torch.randint(0, c.acoustic_codebook_size, (1, codec_frames, c.acoustic_dim), generator=g)], -1)
    f = renderer_frames(cfg, codec_frames)
    plan = (
        (CODEC_TRUNK, CodecTrunk(codec), (codes, torch.ones(1, codec_frames)), list(GRAPH_IO[CODEC_TRUNK][0]),
         list(GRAPH_IO[CODEC_TRUNK][1])),
        ("codec_decoder", FrameDecoderGraph(codec), (torch.randn(1, c.frame_features, f, generator=g),
                                                     torch.ones(1, 1, f)),
         list(SPLIT_DECODER_INPUTS), list(SPLIT_DECODER_OUTPUTS)),
    )
    entries = {}
    for name, module, args, ins, outs in plan:
        progress(f"[export] {name}: torch.onnx.export (fp32, fixed shapes, folded for the NPU; "
                 f"{'the codec trunk, FP32 on the CPU' if name == CODEC_TRUNK else 'the frame decoder'})")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exporter chatter (torchvision missing, deprecations)
            prog = torch.onnx.export(module.eval(), args, dynamo=True, input_names=ins, output_names=outs,
                                     opset_version=OPSET, optimize=True, verbose=False, external_data=True)
        model = prog.model_proto
        tidy(model)
        rms_norm_as_div(model)
        save_model(model, scratch / f"{name}.onnx")
        fold_for_npu(scratch / f"{name}.onnx", out_dir / f"{name}.onnx")
        entries[name] = {"file": f"{name}.onnx", "precision": "fp32", "method": "none", "inputs": ins,
                         "outputs": outs, "opset": OPSET, "static_shapes": True, "extra_files": []}
    entries[CODEC_TRUNK].update(placement="cpu", placement_reason=TRUNK_REASON)
    return entries

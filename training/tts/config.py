"""Dims of the small default model and its params.json (release layout, docs/model.md), with size / compute estimates.

The backbone + acoustic dims live here; the codec's come from the codec checkpoint (audio_tokenizer_args), the
vocabulary size from tekken.json, the voice table from the voices built at training time. `make_params` fills the
release layout through export/synthetic_params.make_params, so every key the readers expect is present.

Why these dims (chosen for the first default voice; details: training/README.md at commit eb6fe83, Stage 3):
- budget: INT8 bundle <= 25 MB. The codec decoder (codec_small.json) alone exports to ~8.5 MB (its convs stay
  fp32), and the audio codebook table is stored fp32 (2944 rows x dim); both are fixed costs per unit of width.
- speed: RTF <= 0.1 on one thread = <= 8 ms per 80 ms frame; the acoustic transformer runs 7 Euler steps x
  2 CFG branches x 3 tokens per frame, so it dominates and is kept at 2 layers.
- acoustic width == backbone width (the semantic head is declared at acoustic width but applied to the backbone
  hidden; docs/model.md, Acoustic head).

  python -m training.tts.config [--codec-config training/configs/codec_small.json]   # prints the estimates
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from training.common.paths import ROOT


DIMS = {
    "dim": 256, "n_layers": 10, "head_dim": 64, "hidden_dim": 768, "n_heads": 4, "n_kv_heads": 2,
    "rope_theta": 10000.0, "max_seq_len": 4096,
    "acoustic": {"n_layers": 2, "head_dim": 64, "hidden_dim": 768, "n_heads": 4, "n_kv_heads": 2,
                 "n_decoding_steps": 7},
}  # fmt: skip

# 14 backbone layers instead of 10 (+3.1 M parameters, ~+3.2 MB of INT8 bundle): for a run with compute to spare
# (e.g. `tts/train.py --device cuda`). `--init` from a 10-layer run adds layers 10-13 as the identity (zero output
# projections), so a deep run starts where its source is (tts/train.py _grow_identity)
DEEP_DIMS = {**DIMS, "n_layers": 14}

TINY_DIMS = {  # for tests and smoke runs
    "dim": 64, "n_layers": 2, "head_dim": 16, "hidden_dim": 128, "n_heads": 4, "n_kv_heads": 2,
    "rope_theta": 10000.0, "max_seq_len": 4096,
    "acoustic": {"n_layers": 1, "head_dim": 16, "hidden_dim": 128, "n_heads": 4, "n_kv_heads": 2,
                 "n_decoding_steps": 7},
}  # fmt: skip


def make_params(dims: dict, vocab_size: int, tokenizer_args: dict, voices: dict[str, int]) -> dict:
    """params.json dict: release layout with `dims`, the codec's audio_tokenizer_args and `voices` {name: id}."""
    from vox_edge.config import ModelConfig
    from vox_edge.export.synthetic_params import make_params as release_layout

    d = json.loads(json.dumps(dims))
    acoustic = d.pop("acoustic")
    codec = {k: v for k, v in tokenizer_args.items() if k != "voice"}
    p = release_layout("full", **d, vocab_size=vocab_size, acoustic=acoustic, codec=codec,
                       semantic_codebook_size=codec["semantic_codebook_size"])
    p["multimodal"]["audio_tokenizer_args"]["voice"] = {str(k): int(v) for k, v in voices.items()}
    p["multimodal"]["audio_model_args"]["audio_encoding_args"]["frame_rate"] = (
        codec["sampling_rate"] / (codec["pretransform_patch_size"] * _prod(codec["decoder_convs_strides_str"])))
    ModelConfig.from_params(p)  # fail here, not at export, if anything is inconsistent
    return p


def _prod(s: str) -> int:
    out = 1
    for x in str(s).split(","):
        out *= int(x)
    return out


def _layer(dim: int, heads: int, kv: int, hd: int, hidden: int) -> int:
    return dim * heads * hd * 2 + dim * kv * hd * 2 + 3 * dim * hidden


def estimates(params: dict, voice_rows: int = 30, left_context: int = 25, chunk: int = 12) -> dict:
    """Parameter counts, INT8 bundle bytes and multiply-accumulates per frame (analytic; export measures exactly)."""
    from vox_edge.config import ModelConfig

    cfg = ModelConfig.from_params(params)
    a, c = cfg.acoustic, cfg.codec
    bb = cfg.n_layers * _layer(cfg.dim, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.hidden_dim)
    ac_layers = a.n_layers * _layer(a.dim, a.n_heads, a.n_kv_heads, a.head_dim, a.hidden_dim)
    heads = cfg.semantic_head_width * a.dim + 2 * a.dim * a.dim + 2 * cfg.n_acoustic_codebook * a.dim
    text = cfg.vocab_size * cfg.dim
    audio = cfg.audio_embedding_rows * cfg.dim
    codec_tf = sum(c.decoder_transformer_lengths) * (4 * c.dim * c.dim + 3 * c.dim * c.hidden_dim)
    k = c.decoder_convs_kernels
    codec_conv = c.latent_dim * c.dim * k[0] + sum(c.dim * c.dim * kk for kk in k[1:]) \
        + c.dim * c.output_channels * c.output_kernel
    codebook = c.semantic_codebook_size * c.semantic_dim
    # bytes as vox-edge export --precision int8 writes them today: matmuls int8, codec convs + codebook fp32,
    # audio table fp32, text table fp16, voices fp32
    bundle = bb + ac_layers + heads + codec_tf + 4 * (codec_conv + codebook) + 4 * audio + 2 * text \
        + 4 * voice_rows * cfg.dim + 140_000
    # MACs per frame: one backbone step, 7 Euler steps x 2 CFG branches x 3 tokens, the codec's share
    flow = a.n_decoding_steps * 2 * 3 * ac_layers + cfg.semantic_head_width * a.dim + a.dim * a.dim
    ups = [1]
    for s in c.decoder_convs_strides[1:]:
        ups.append(ups[-1] * s)
    codec_layer = 4 * c.dim * c.dim + 3 * c.dim * c.hidden_dim  # per position (12.5 Hz x 1, 2, 4, 8)
    codec_frame = sum(n * u for n, u in zip(c.decoder_transformer_lengths, ups)) * codec_layer \
        + c.latent_dim * c.dim * k[0] + sum(c.dim * c.dim * kk * u for kk, u in zip(k[1:], ups)) \
        + ups[-1] * c.dim * c.output_channels * c.output_kernel
    return {
        "params_backbone": bb, "params_acoustic": ac_layers + heads, "params_text_table": text,
        "params_audio_table": audio, "params_codec_decoder": codec_tf + codec_conv + codebook,
        "bundle_mb_int8": round(bundle / 1e6, 2),
        "macs_per_frame_backbone": bb, "macs_per_frame_flow": flow, "macs_per_frame_codec": codec_frame,
        "macs_per_frame_codec_streamed": round(codec_frame * (left_context + chunk) / chunk),
        "macs_per_frame_total": bb + flow + round(codec_frame * (left_context + chunk) / chunk),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--codec-config", default=os.path.join(ROOT, "training", "configs", "codec_small.json"))
    ap.add_argument("--vocab-size", type=int, default=2112)
    ap.add_argument("--voice-rows", type=int, default=30)
    ap.add_argument("--tiny", action="store_true")
    args = ap.parse_args()
    with open(args.codec_config, encoding="utf-8") as f:
        tok = json.load(f)["audio_tokenizer_args"]
    p = make_params(TINY_DIMS if args.tiny else DIMS, args.vocab_size, tok, {"neutral_male": 0})
    for k, v in estimates(p, args.voice_rows).items():
        print(f"{k:32s} {v:>14,}" if isinstance(v, int) else f"{k:32s} {v:>14}")


if __name__ == "__main__":
    sys.exit(main())

"""params.json contents in the real Voxtral layout (docs/model.md#paramsjson) for synthetic checkpoints of any size.

`full` reproduces the published dims; `tiny` is for tests (builds in seconds); `small` is for
benchmarks and is the size class of the project's own default model.
"""

from __future__ import annotations

import copy
from typing import Any

from vox_edge.errors import ConfigError

# Voice table of the release (docs/model.md#voices): name -> id; N rows per voice (docs/model.md#tokenizer).
REAL_VOICES = {
    "casual_female": 0, "casual_male": 1, "cheerful_female": 2, "neutral_female": 3, "neutral_male": 4,
    "pt_male": 5, "pt_female": 6, "nl_male": 7, "nl_female": 8, "it_male": 9, "it_female": 10,
    "fr_male": 11, "fr_female": 12, "es_male": 13, "es_female": 14, "de_male": 15, "de_female": 16,
    "ar_male": 17, "hi_male": 18, "hi_female": 19,
}
REAL_VOICE_TOKENS = {
    "casual_female": 214, "casual_male": 147, "cheerful_female": 132, "neutral_female": 218,
    "neutral_male": 169, "pt_male": 144, "pt_female": 175, "nl_male": 138, "nl_female": 146,
    "it_male": 168, "it_female": 172, "fr_male": 97, "fr_female": 97, "es_male": 208,
    "es_female": 138, "de_male": 163, "de_female": 147, "ar_male": 67, "hi_male": 94, "hi_female": 86,
}

_FULL: dict[str, Any] = {
    "dim": 3072, "n_layers": 26, "head_dim": 128, "hidden_dim": 9216, "n_heads": 32, "n_kv_heads": 8,
    "rope_theta": 1000000.0, "norm_eps": 1e-05, "vocab_size": 131072, "max_seq_len": 65536,
    "max_position_embeddings": 128000, "model_type": "voxtral_tts", "use_biases": False, "causal": True,
    "model_parallel": 1, "tied_embeddings": True,
    "multimodal": {
        "bos_token_id": 1,
        "audio_model_args": {
            "semantic_codebook_size": 8192, "acoustic_codebook_size": 21, "n_acoustic_codebook": 36,
            "audio_encoding_args": {
                "codebook_pattern": "parallel", "interleave_audio_tokens_per_segment": 8192,
                "interleave_text_tokens_per_segment": 8192, "single_trailing_segment": False,
                "num_codebooks": 37, "sampling_rate": 24000, "frame_rate": 12.5,
            },
            "audio_token_id": 24, "begin_audio_token_id": 25, "input_embedding_concat_type": "sum",
            "p_uncond": 0.0, "text_feature_bugged": False, "condition_dropped_token_id": 42,
            "acoustic_transformer_args": {
                "input_dim": 3072, "dim": 3072, "n_layers": 3, "head_dim": 128, "hidden_dim": 9216,
                "n_heads": 32, "n_kv_heads": 8, "use_biases": False, "rope_theta": 10000.0,
                "sigma": 1e-05, "sigma_max": 1.0,
            },
        },
        "audio_tokenizer_args": {
            "channels": 1, "sampling_rate": 24000, "pretransform_patch_size": 240, "patch_proj_kernel_size": 7,
            "semantic_codebook_size": 8192, "semantic_dim": 256, "acoustic_codebook_size": 21, "acoustic_dim": 36,
            "conv_weight_norm": True, "causal": True, "attn_sliding_window_size": 16,
            "half_attn_window_upon_downsampling": True, "dim": 1024, "hidden_dim": 4096, "head_dim": 128,
            "n_heads": 8, "n_kv_heads": 8, "qk_norm": True, "qk_norm_eps": 1e-06, "use_biases": False,
            "norm_eps": 0.01, "layer_scale": True, "layer_scale_init": 0.01,
            "decoder_transformer_lengths_str": "2,2,2,2", "decoder_convs_kernels_str": "3,4,4,4",
            "decoder_convs_strides_str": "1,2,2,2", "voice": dict(REAL_VOICES),
        },
    },
}

# Overrides per scale: backbone / acoustic / codec dims. Acoustic width == backbone width (docs/model.md#acoustic-head).
SCALES: dict[str, dict[str, Any]] = {
    "full": {},
    "small": {
        "dim": 512, "n_layers": 8, "head_dim": 64, "hidden_dim": 1536, "n_heads": 8, "n_kv_heads": 2,
        "acoustic": {"n_layers": 2, "head_dim": 64, "hidden_dim": 1536, "n_heads": 8, "n_kv_heads": 2},
        "codec": {"dim": 256, "hidden_dim": 768, "head_dim": 64, "n_heads": 4, "n_kv_heads": 4,
                  "semantic_dim": 64, "semantic_codebook_size": 2048,
                  "decoder_transformer_lengths_str": "1,1,1,1"},
        "voices": 4,
    },
    "tiny": {
        "dim": 64, "n_layers": 2, "head_dim": 16, "hidden_dim": 128, "n_heads": 4, "n_kv_heads": 2,
        "vocab_size": 2048,
        "acoustic": {"n_layers": 2, "head_dim": 16, "hidden_dim": 128, "n_heads": 4, "n_kv_heads": 2},
        "codec": {"dim": 64, "hidden_dim": 128, "head_dim": 16, "n_heads": 4, "n_kv_heads": 4,
                  "semantic_dim": 16, "semantic_codebook_size": 64,
                  "decoder_transformer_lengths_str": "1,1,1,1"},
        "voices": 2,
        "voice_tokens": 6,
    },
}


def make_params(scale: str = "tiny", **custom: Any) -> dict[str, Any]:
    """A params.json dict for `scale`, then `custom` top-level / `acoustic` / `codec` overrides.

    custom keys: any top-level backbone key (dim, n_layers, ...), `acoustic={...}`, `codec={...}`,
    `voices=K` (keep the first K release voices), `semantic_codebook_size=N` (both places).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    tables = ("acoustic", "codec")
    known = set(_FULL) | set(tables) | {"voices", "voice_tokens", "semantic_codebook_size"}
    for k, v in custom.items():  # a typo must not pass silently as an extra params.json key
        if k not in known:
            raise ConfigError(f"custom dims: unknown key {k!r}; known: {', '.join(sorted(known))}.")
        if k in tables and not isinstance(v, dict):
            raise ConfigError(f"custom dims: {k!r} must be an object of overrides, e.g. {{\"n_layers\": 1}}.")
    over = copy.deepcopy(SCALES[scale])
    for k, v in custom.items():
        if isinstance(v, dict) and isinstance(over.get(k), dict):
            over[k].update(v)
        else:
            over[k] = v
    p = copy.deepcopy(_FULL)
    am = p["multimodal"]["audio_model_args"]
    ta = am["acoustic_transformer_args"]
    at = p["multimodal"]["audio_tokenizer_args"]
    for k, v in over.items():
        if k == "acoustic":
            ta.update(v)
        elif k == "codec":
            at.update(v)
        elif k == "voices":
            at["voice"] = {n: i for n, i in REAL_VOICES.items() if i < v}
        elif k == "voice_tokens":
            pass  # consumed by voice_token_counts()
        elif k == "semantic_codebook_size":
            am[k] = at[k] = v
        else:
            p[k] = v
    am["semantic_codebook_size"] = at["semantic_codebook_size"]
    ta["input_dim"] = ta["dim"] = p["dim"]
    return p


def voice_token_counts(params: dict[str, Any], scale: str = "tiny", n_tokens: int | None = None) -> dict[str, int]:
    """Rows per voice: the release's N for real-size voices, a fixed small N for tiny."""
    names = params["multimodal"]["audio_tokenizer_args"]["voice"]
    n = n_tokens or SCALES.get(scale, {}).get("voice_tokens")
    return {name: (n if n else REAL_VOICE_TOKENS.get(name, 100)) for name in names}

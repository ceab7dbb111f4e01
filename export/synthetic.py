"""Synthetic checkpoints in the exact real Voxtral format (files, names, BF16 dtypes, shapes), seeded.

Written streaming, one row-chunk at a time, so even the full-size 8 GB checkpoint needs little RAM.
Weights are scaled so activations stay O(1) through every component. `end_logit_scale` controls
END_AUDIO: 0 zeroes the END row of the semantic head so generation never stops on its own
(benchmarks then demand an exact frame count with max_frames); 1 treats END like any other code.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import zlib
from pathlib import Path
from typing import Callable, Iterator

import torch

from vox_edge.config import ModelConfig

from .checkpoint import WEIGHTS_FILE, expected_shapes
from .safetensors_io import write_streaming
from .synthetic_params import make_params, voice_token_counts

CHUNK_ELEMS = 1 << 24  # 16M elements (64 MB in fp32) per generated chunk


def _generator(seed: int, name: str) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))


def _init_rule(name: str, shape: tuple[int, ...], cfg: ModelConfig, end_logit_scale: float):
    """(kind, scale) for a tensor: kind in {normal, ones, const, usage}."""
    if name.endswith(("norm.weight",)):
        return "ones_jitter", 0.1
    if name.endswith(("attention_scale", "ffn_scale")):
        return "const", 0.1
    if name.endswith("parametrizations.weight.original0"):  # weight-norm g: keeps activation RMS
        return "const", 1.0
    if name.endswith("parametrizations.weight.original1"):
        return "normal", 1.0
    if name.endswith("cluster_usage"):
        return "usage", 1.0
    if name.endswith("embedding_sum"):
        return "normal", 1.0
    if name == "mm_audio_embeddings.tok_embeddings.weight":
        return "normal", 1.0
    if name == "mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight":
        return "normal", 1.0 / math.sqrt(cfg.n_codebooks)
    fan_in = shape[-1]
    scale = 1.0 / math.sqrt(fan_in)
    if name.endswith(("attention.wo.weight", "feed_forward.w2.weight")):
        n = cfg.n_layers if name.startswith("layers.") else cfg.acoustic.n_layers
        scale /= math.sqrt(2 * max(n, 1))
    if name == "acoustic_transformer.semantic_codebook_output.weight":
        return "semantic", scale * 4.0
    return "normal", scale


def _chunks(name: str, shape: tuple[int, ...], cfg: ModelConfig, seed: int, end_logit_scale: float) -> Callable[[], Iterator[torch.Tensor]]:
    kind, scale = _init_rule(name, shape, cfg, end_logit_scale)

    def gen() -> Iterator[torch.Tensor]:
        g = _generator(seed, name)
        rows = shape[0] if shape else 1
        per_row = max(1, math.prod(shape[1:]))
        step = max(1, CHUNK_ELEMS // per_row)
        for r0 in range(0, rows, step):
            sub = (min(step, rows - r0),) + tuple(shape[1:])
            if kind == "const":
                yield torch.full(sub, scale)
            elif kind == "ones_jitter":
                yield 1.0 + scale * torch.randn(sub, generator=g)
            elif kind == "usage":
                yield 0.5 + torch.rand(sub, generator=g) * 1.5
            else:
                t = torch.randn(sub, generator=g) * scale
                if kind == "semantic" and r0 <= 1 < r0 + sub[0]:
                    t[1 - r0] *= end_logit_scale  # row 1 = END_AUDIO
                yield t
    return gen


def make_checkpoint(out: str | Path, scale: str = "tiny", seed: int = 0, end_logit_scale: float = 0.0,
                    params: dict | None = None, progress: Callable[[str], None] | None = None, **custom) -> Path:
    """Write params.json, consolidated.safetensors, tekken.json and voice_embedding/*.pt to `out`.

    Built in `out.partial/` and renamed at the end: an interrupted run leaves no checkpoint behind.
    """
    out = Path(out)
    params = params or make_params(scale, **custom)
    cfg = ModelConfig.from_params(params)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "voice_embedding").mkdir(parents=True)
        (tmp / "params.json").write_text(json.dumps(params, indent=4))

        shapes = expected_shapes(cfg)
        specs = [(n, s, torch.bfloat16, _chunks(n, s, cfg, seed, end_logit_scale)) for n, s in shapes.items()]
        write_streaming(tmp / WEIGHTS_FILE, specs, progress)

        n_tokens = voice_token_counts(params, scale)
        _write_voices(tmp, cfg, seed, n_tokens, end_logit_scale)
        _write_tekken(tmp, cfg, scale, n_tokens, seed)
    except BaseException:  # an error or an interrupt (SIGINT / SIGTERM) leaves no half-written checkpoint
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def _write_voices(root: Path, cfg: ModelConfig, seed: int, n_tokens: dict[str, int], end_logit_scale: float) -> None:
    """Voices as the release stores them: row f = sum of the 37 codebook rows of a frame's codes,
    the last row being the END_AUDIO frame (semantic 1, acoustic 0) (docs/model.md#voices)."""
    name = "mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"
    shape = (cfg.audio_embedding_rows, cfg.dim)
    table = torch.cat(list(_chunks(name, shape, cfg, seed, end_logit_scale)())).to(torch.bfloat16).float()
    offsets = torch.tensor(cfg.codebook_offsets)
    for i, voice in enumerate(cfg.voice_names):
        g = torch.Generator().manual_seed(seed * 7919 + i)
        n = n_tokens[voice]
        sem = torch.randint(2, cfg.semantic_vocab, (n, 1), generator=g)
        ac = torch.randint(2, cfg.acoustic_vocab, (n, cfg.n_acoustic_codebook), generator=g)
        codes = torch.cat([sem, ac], 1)
        codes[-1, 0], codes[-1, 1:] = 1, 0  # END frame
        emb = table[codes + offsets].sum(1).to(torch.bfloat16).contiguous()  # [N, D]
        torch.save(emb, root / "voice_embedding" / f"{voice}.pt")


def _write_tekken(root: Path, cfg: ModelConfig, scale: str, n_tokens: dict[str, int], seed: int) -> None:
    from .tekken_files import real_vocab_tekken, tiny_tekken

    if cfg.vocab_size >= 131072:
        tk = real_vocab_tekken(n_tokens)
    else:
        tk = tiny_tekken(vocab_size=cfg.vocab_size, voice_num_audio_tokens=n_tokens, seed=seed)
    (root / "tekken.json").write_text(json.dumps(tk, ensure_ascii=False))

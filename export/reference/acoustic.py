"""Flow-matching acoustic transformer + semantic head (`acoustic_transformer.*`), docs/model.md#acoustic-head."""

from __future__ import annotations

import math

import torch
from torch import nn

from vox_edge.config import END_AUDIO, N_AUDIO_SPECIAL, TIME_EMBEDDING_THETA, ModelConfig

from .layers import AttentionProjections, FeedForward, RMSNorm


class BidirectionalAttention(AttentionProjections):
    """Attention over the 3-token sequence: no mask, no positional encoding, GQA."""

    def forward(self, x: torch.Tensor, queries: int | None = None) -> torch.Tensor:  # [B,3,D] -> [B,Q,D]
        return self.attend(*self.project(x, queries), None)


class AcousticBlock(nn.Module):
    def __init__(self, dim, n_heads, n_kv_heads, head_dim, hidden_dim, eps):
        super().__init__()
        self.attention_norm = RMSNorm(dim, eps)
        self.attention = BidirectionalAttention(dim, n_heads, n_kv_heads, head_dim)
        self.ffn_norm = RMSNorm(dim, eps)
        self.feed_forward = FeedForward(dim, hidden_dim)

    def forward(self, x, queries: int | None = None):  # [B,3,D] -> [B,Q,D] (Q = 3 unless `queries`)
        # Every op but attention is per position, so the outputs of the first `queries` positions need only
        # their own queries, residuals and FFN (keys and values still come from all 3).
        h = self.attention(self.attention_norm(x), queries)
        x = (x if queries is None else x[:, :queries]) + h
        return x + self.feed_forward(self.ffn_norm(x))


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """t [N] in [0,1] -> [N, dim] = cat(cos(t·f), sin(t·f)), f_j = exp(-ln(1e4)·j/(dim/2)) (cos first)."""
    half = dim // 2
    inv_freq = torch.exp(-math.log(TIME_EMBEDDING_THETA) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    ang = t.to(torch.float32)[:, None] * inv_freq[None, :]
    return torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1)


class AcousticTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        a = cfg.acoustic
        self.cfg = cfg
        self.input_projection = nn.Linear(cfg.n_acoustic_codebook, a.dim, bias=False)
        self.time_projection = nn.Linear(a.dim, a.dim, bias=False)
        self.llm_projection = nn.Linear(a.input_dim, a.dim, bias=False)
        # ModuleDict keyed "0".."n-1" in the reference; the checkpoint names are identical either way.
        self.layers = nn.ModuleDict(
            {str(i): AcousticBlock(a.dim, a.n_heads, a.n_kv_heads, a.head_dim, a.hidden_dim, a.norm_eps) for i in range(a.n_layers)}
        )
        self.norm = RMSNorm(a.dim, a.norm_eps)
        # The semantic head is applied to the *backbone* hidden (docs/model.md#acoustic-head).
        self.semantic_codebook_output = nn.Linear(a.dim, cfg.semantic_head_width, bias=False)
        self.acoustic_codebook_output = nn.Linear(a.dim, cfg.n_acoustic_codebook, bias=False)

    # --- pieces (each is one exported graph) ---
    def semantic_logits(self, h: torch.Tensor) -> torch.Tensor:
        """h [B,D] -> float32 logits [B, semantic_head_width] with EMPTY and padding masked to -inf."""
        logits = self.semantic_codebook_output(h).float()
        col = torch.arange(logits.shape[-1], device=logits.device)
        invalid = (col == 0) | (col >= self.cfg.semantic_vocab)
        return logits.masked_fill(invalid, float("-inf"))

    def time_condition(self, t: torch.Tensor) -> torch.Tensor:
        """t [N] -> time token [N, D] (constant per Euler step; the reference caches it)."""
        return self.time_projection(time_embedding(t, self.cfg.acoustic.dim))

    def velocity(self, x: torch.Tensor, time_cond: torch.Tensor, llm_cond: torch.Tensor) -> torch.Tensor:
        """x [B,A], time_cond [B,D], llm_cond [B,D] (= llm_projection(h), zero for CFG's uncond) -> v [B,A]."""
        seq = torch.stack([self.input_projection(x), time_cond, llm_cond], dim=1)  # [B,3,D]
        *first, last = self.layers.values()
        for layer in first:
            seq = layer(seq)
        # Only position 0 (the x token) is read out, so the last layer runs its query, wo and FFN for it alone:
        # the same numbers with ~30 % less work per Euler step at 2 layers (~20 % at the release's 3).
        return self.acoustic_codebook_output(self.norm(last(seq, queries=1))[:, 0])  # [B,A]

    # --- the whole per-frame step (reference for the runtime's NumPy loop) ---
    def decode_frame(self, h: torch.Tensor, noise: torch.Tensor, n_steps: int, cfg_alpha: float) -> torch.Tensor:
        """h [B,D], noise [B,A] -> codes [B, 1+A] in +2 space (docs/model.md#acoustic-step)."""
        logits = self.semantic_logits(h)
        semantic = logits.argmax(dim=-1)  # greedy
        levels = self.acoustic_levels(h, noise, n_steps, cfg_alpha)
        levels = torch.where((semantic == END_AUDIO)[:, None], torch.zeros_like(levels), levels)
        return torch.cat([semantic[:, None], levels + N_AUDIO_SPECIAL], dim=1)

    def acoustic_levels(self, h: torch.Tensor, noise: torch.Tensor, n_steps: int, cfg_alpha: float) -> torch.Tensor:
        """Euler ODE over linspace(0,1,n_steps+1) with CFG; returns FSQ levels [B,A] in 0..L-1."""
        b = h.shape[0]
        ts = torch.linspace(0, 1, n_steps + 1)
        tconds = self.time_condition(ts[:-1])  # [n_steps, D]
        llm = self.llm_projection(h)
        cond = torch.cat([llm, torch.zeros_like(llm)], dim=0)  # CFG's two branches batched: [2B, D]
        x = noise.float()
        for i in range(n_steps):
            dt = ts[i + 1] - ts[i]
            v = self.velocity(torch.cat([x, x], 0), tconds[i].expand(2 * b, -1), cond)
            v = cfg_alpha * v[:b] + (1 - cfg_alpha) * v[b:]
            x = x + v * dt
        return quantize_fsq(x, self.cfg.acoustic_codebook_size)


def quantize_fsq(x: torch.Tensor, levels: int) -> torch.Tensor:
    """clamp to [-1,1], round(((x+1)/2)·(levels-1)) half-to-even (torch.round) -> int64."""
    x = x.clamp(-1, 1)
    return torch.round((x + 1) / 2 * (levels - 1)).to(torch.int64)

"""Backbone: a Mistral decoder (pre-norm, GQA, adjacent-pair RoPE on raw wq/wk), docs/model.md#backbone.

Module names equal checkpoint keys (`layers.N.attention.wq.weight`, ...). The KV cache is explicit:
`forward(embeds, past)` returns the final-normed hidden states and the grown cache.
"""

from __future__ import annotations

import torch
from torch import nn

from vox_edge.config import ModelConfig

from .layers import AttentionProjections, FeedForward, RMSNorm


def rope_angles(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """positions [S] -> cos, sin [S, head_dim/2]; angle = pos * theta^(-2d/head_dim)."""
    d = torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device)
    inv_freq = 1.0 / (theta ** (d / head_dim))
    ang = positions.to(torch.float32)[:, None] * inv_freq[None, :]
    return torch.cos(ang), torch.sin(ang)


def apply_rope_adjacent(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent pairs (x[2d], x[2d+1]) — Mistral-native layout (docs/model.md#backbone).

    x [B,H,S,hd]; cos/sin [S,hd/2].
    """
    b, h, s, hd = x.shape
    xp = x.float().reshape(b, h, s, hd // 2, 2)
    x0, x1 = xp[..., 0], xp[..., 1]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
    return out.reshape(b, h, s, hd).to(x.dtype)


def causal_mask(s: int, p: int, dtype: torch.dtype = torch.float32, device: torch.device | None = None) -> torch.Tensor:
    """Additive mask [S, P+S]: query i (absolute P+i) sees keys j <= P+i."""
    i = torch.arange(s, device=device)[:, None] + p
    j = torch.arange(p + s, device=device)[None, :]
    return torch.where(j <= i, torch.zeros((), dtype=dtype, device=device),
                       torch.full((), float("-inf"), dtype=dtype, device=device))


class Attention(AttentionProjections):
    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        """x [B,S,D]; past_k/v [B,KV,P,hd] -> out [B,S,D], present_k/v [B,KV,P+S,hd]."""
        q, k, v = self.project(x)
        q, k = apply_rope_adjacent(q, cos, sin), apply_rope_adjacent(k, cos, sin)
        if past_k is not None:
            k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
        return self.attend(q, k, v, mask), k, v


class TransformerBlock(nn.Module):
    def __init__(self, dim, n_heads, n_kv_heads, head_dim, hidden_dim, eps):
        super().__init__()
        self.attention_norm = RMSNorm(dim, eps)
        self.attention = Attention(dim, n_heads, n_kv_heads, head_dim)
        self.ffn_norm = RMSNorm(dim, eps)
        self.feed_forward = FeedForward(dim, hidden_dim)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        a, k, v = self.attention(self.attention_norm(x), cos, sin, mask, past_k, past_v)
        x = x + a
        return x + self.feed_forward(self.ffn_norm(x)), k, v


class Backbone(nn.Module):
    """`layers.*` + `norm` of the checkpoint. Embeddings live in `mm_audio_embeddings` (see model.py)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(
            TransformerBlock(cfg.dim, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.hidden_dim, cfg.norm_eps)
            for _ in range(cfg.n_layers)
        )
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)

    def forward(self, embeds: torch.Tensor, past: list[tuple[torch.Tensor, torch.Tensor]] | None = None):
        """embeds [B,S,D]; past: n_layers × (k, v) [B,KV,P,hd] or None.

        Returns hidden [B,S,D] (final-normed) and present: n_layers × (k, v) [B,KV,P+S,hd].
        """
        s = embeds.shape[1]
        p = 0 if not past else past[0][0].shape[2]
        cos, sin = rope_angles(torch.arange(p, p + s, device=embeds.device), self.cfg.head_dim, self.cfg.rope_theta)
        mask = causal_mask(s, p, device=embeds.device)
        x, present = embeds, []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past else (None, None)
            x, k, v = layer(x, cos, sin, mask, pk, pv)
            present.append((k, v))
        return self.norm(x), present

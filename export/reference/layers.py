"""Building blocks shared by the backbone and the acoustic transformer (Mistral style, no biases)."""

from __future__ import annotations

import torch
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # computed in float32 whatever the activation dtype (matches the reference's numerics)
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (xf * self.weight.float()).to(x.dtype)


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x). w1 = gate, w3 = up, w2 = down (checkpoint names)."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class AttentionProjections(nn.Module):
    """wq/wk/wv/wo (checkpoint names) with GQA head bookkeeping; subclasses define the attention pattern."""

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int, head_dim: int):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, head_dim
        self.wq = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.wk = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.wv = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.wo = nn.Linear(n_heads * head_dim, dim, bias=False)

    def project(self, x: torch.Tensor, queries: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B,S,D] -> q [B,H,Q,hd], k/v [B,KV,S,hd]; Q = S, or the first `queries` positions only."""
        b, s, _ = x.shape
        xq = x if queries is None else x[:, :queries]
        q = self.wq(xq).view(b, xq.shape[1], self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        return q, k, v

    def attend(self, q, k, v, mask) -> torch.Tensor:
        """GQA attention then wo: q [B,H,S,hd], k/v [B,KV,T,hd] -> [B,S,D]."""
        n_rep = self.n_heads // self.n_kv_heads
        o = attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), mask)
        b, _, s, _ = o.shape
        return self.wo(o.transpose(1, 2).reshape(b, s, -1))


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """[B, KV, S, hd] -> [B, KV*n_rep, S, hd]; q-head h uses kv-head h // n_rep (GQA)."""
    if n_rep == 1:
        return x
    b, kv, s, hd = x.shape
    return x[:, :, None].expand(b, kv, n_rep, s, hd).reshape(b, kv * n_rep, s, hd)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """q [B,H,S,hd], k/v [B,H,P+S,hd], mask additive [S,P+S] or None -> [B,H,S,hd]."""
    scores = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v

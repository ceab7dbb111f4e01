"""Frame decoder of the `source_filter` codec head: 80 Hz frame features -> renderer parameters.

features [B, C_in, F] -> Conv1d(k) -> n_layers x ConvNeXt block -> LayerNorm -> Linear -> 5 x 601 channels:
lh, theta, ln, lr, phi for export/reference/source_filter.py. A ConvNeXt block is a depthwise Conv1d(k),
LayerNorm, Linear(dim -> hidden), exact GELU, Linear(hidden -> dim), a per-channel gain, and a residual add.
The convolutions are centred (k // 2 frames on each side), so a streaming decoder needs right context:
`right_context_frames` says how many 80 Hz frames.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PARAM_NAMES = ("lh", "theta", "ln", "lr", "phi")


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, hidden: int, kernel: int):
        super().__init__()
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.pw1 = nn.Linear(dim, hidden)
        self.pw2 = nn.Linear(hidden, dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, dim, F]
        h = self.norm(self.dw(x).transpose(1, 2))
        h = self.gamma * self.pw2(F.gelu(self.pw1(h)))
        return x + h.transpose(1, 2)


class FrameDecoder(nn.Module):
    def __init__(self, c_in: int = 130, dim: int = 256, hidden: int = 768, n_layers: int = 8, kernel: int = 7,
                 n_bins: int = 601):
        super().__init__()
        self.kernel, self.n_layers, self.n_bins = kernel, n_layers, n_bins
        self.dec_in = nn.Conv1d(c_in, dim, kernel, padding=kernel // 2)
        self.dec = nn.ModuleList(ConvNeXtBlock(dim, hidden, kernel) for _ in range(n_layers))
        self.dec_norm = nn.LayerNorm(dim, eps=1e-5)
        self.head = nn.Linear(dim, len(PARAM_NAMES) * n_bins)

    @property
    def right_context_frames(self) -> int:
        return (self.n_layers + 1) * (self.kernel // 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:  # [B, C_in, F] -> 5 x [B, 601, F]
        h = self.dec_in(x)
        for block in self.dec:
            h = block(h)
        y = self.head(self.dec_norm(h.transpose(1, 2))).transpose(1, 2)
        return tuple(y.split(self.n_bins, dim=1))

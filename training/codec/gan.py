"""Adversarial fine-tuning of the codec decoder (training only; nothing here is exported).

Magnitude losses alone leave the decoder blurry: consonants smear and Whisper confuses them ("A mobile blast"
for "A noble gas"). HiFi-GAN / Vocos fix that with discriminators; this is a CPU-sized version of both kinds:

- PeriodDiscriminator (HiFi-GAN's MPD, optional): the waveform folded at each period p in (2, 3, 5, 7, 11) into [B, 1, N/p, p],
  a stack of (k x 1) Conv2d -> one logit map per period. Sees periodic structure (pitch, harmonics).
- ResolutionDiscriminator (Vocos/UnivNet MRD, the default): log-magnitude STFTs at three resolutions as images,
  Conv2d stacks -> one logit map each. Sees spectral detail (fricatives, formant edges).

Losses are LSGAN (HiFi-GAN): D: (1 - D(x))^2 + D(G(z))^2; G: (1 - D(G(z)))^2, plus feature matching (L1 between
D's hidden maps on real and generated audio, averaged per map). Sized for the CPU (see Discriminators).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

LRELU = 0.1


def conv_stack(convs: nn.ModuleList, post: nn.Module, h: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Leaky-ReLU conv stack -> (flattened logits of `post`, every hidden map for feature matching)."""
    feats = []
    for conv in convs:
        h = F.leaky_relu(conv(h), LRELU)
        feats.append(h)
    return post(h).flatten(1), feats


class PeriodDiscriminator(nn.Module):
    def __init__(self, period: int, channels=(16, 32, 64, 64)):
        super().__init__()
        self.period = period
        chans = (1,) + tuple(channels)
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(chans[i], chans[i + 1], (5, 1), (3, 1) if i < len(channels) - 1 else (1, 1),
                                  padding=(2, 0)))
            for i in range(len(channels)))
        self.post = weight_norm(nn.Conv2d(chans[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:  # x [B, N]
        b, n = x.shape
        pad = (-n) % self.period
        x = F.pad(x, (0, pad), mode="reflect") if pad else x
        return conv_stack(self.convs, self.post, x.view(b, 1, -1, self.period))  # [B, 1, N/p, p]


class ResolutionDiscriminator(nn.Module):
    def __init__(self, n_fft: int, channels: int = 32):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(1, channels, (7, 5), (2, 2), padding=(3, 2))),
            weight_norm(nn.Conv2d(channels, channels, (5, 3), (2, 1), padding=(2, 1))),
            weight_norm(nn.Conv2d(channels, channels, (5, 3), (2, 2), padding=(2, 1))),
            weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=1)),
        ])
        self.post = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:  # x [B, N]
        spec = torch.stft(x, self.n_fft, hop_length=self.n_fft // 4, window=self.window, return_complex=True)
        return conv_stack(self.convs, self.post, torch.log(spec.abs().clamp(min=1e-5))[:, None])  # [B, 1, F, T]


class Discriminators(nn.Module):
    """Default: the three resolution discriminators at 16 channels only. Measured per forward+backward on 8 x 0.5 s,
    1 thread: MPD (5 periods) 0.16 s, MRD at 32 channels 0.28 s, at 16 channels 0.10 s; with three passes per step
    the default keeps the adversarial step at ~1.4x a plain one. periods=(2, 3, 5, 7, 11) adds HiFi-GAN's MPD."""

    def __init__(self, periods=(), ffts=(512, 1024, 2048), channels: int = 16, crop: int = 12000):
        super().__init__()
        self.crop = crop
        self.discs = nn.ModuleList([PeriodDiscriminator(p) for p in periods] +
                                   [ResolutionDiscriminator(n, channels) for n in ffts])

    def crops(self, *waves: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The same random `crop`-sample window of each [B, N] (D sees 0.5 s, as HiFi-GAN's segments)."""
        n = waves[0].shape[-1]
        if n <= self.crop:
            return waves
        start = int(torch.randint(0, n - self.crop + 1, ()))
        return tuple(w[..., start: start + self.crop] for w in waves)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(x) for d in self.discs]


def discriminator_loss(real: list, fake: list) -> torch.Tensor:
    """LSGAN: real -> 1, generated -> 0 (fake computed on detached audio)."""
    return sum(((1 - r) ** 2).mean() + (f ** 2).mean() for (r, _), (f, _) in zip(real, fake)) / len(real)


def generator_losses(real: list, fake: list) -> tuple[torch.Tensor, torch.Tensor]:
    """(adversarial, feature matching); `real` from D on the target audio, no gradient needed through it."""
    adv = sum(((1 - f) ** 2).mean() for f, _ in fake) / len(fake)
    fm = sum(sum((a.detach() - b).abs().mean() for a, b in zip(fr, ff)) / len(fr)
             for (_, fr), (_, ff) in zip(real, fake)) / len(fake)
    return adv, fm

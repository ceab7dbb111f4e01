"""Source-filter renderer: per-frame spectral parameters + f0 -> 24 kHz waveform, no learned weights.

The small codec's `source_filter` output head ends here. Per STFT frame t (hop 300 = 12.5 ms, n_fft 1200,
periodic Hann, centred frames) and bin k (601 one-sided bins):

    S[k, t] = exp(lh) * exp(i * pi * tanh(theta)) * E[k, t]      harmonic part: a pulse train, filtered
            + exp(ln) * Z[k, t]                                   noise part: complex Gaussian, shaped
            + exp(lr) * exp(i * phi)                              residual: free magnitude and phase

with every log-magnitude clipped at MAX_LOG_GAIN and E the STFT (divided by the hop) of a band-limited pulse
train whose phase integrates f0 sample by sample (f0 linearly interpolated between frame centres; silent where
f0 < VOICED_MIN_HZ). The pulse train is the closed-form sum of the harmonics below BAND_LIMIT_HZ:
sum_{h=1..H} cos(h * phase) = sin((H + 1/2) * phase) / (2 * sin(phase / 2)) - 1/2, with H = floor(limit / f0).
The waveform is the inverse STFT of S, trimmed to F * hop samples.

`phase0` (radians) is where the pulse phase starts: a streaming decoder passes the phase the previous window
ended at, so that a re-decoded window continues the same pulse train.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from vox_edge.runtime.source_filter import (BAND_LIMIT_HZ, HOP, MAX_LOG_GAIN, N_BINS, N_FFT,  # noqa: F401
                                            SAMPLE_RATE, VOICED_MIN_HZ)


def hann(n: int, dtype=torch.float32, device=None) -> torch.Tensor:
    t = torch.arange(n, dtype=torch.float64, device=device)
    return (0.5 - 0.5 * torch.cos(2 * math.pi * t / n)).to(dtype)


def upsample_f0(f0: torch.Tensor, hop: int = HOP) -> torch.Tensor:
    """[B, F] frame f0 (frame t centred on sample t*hop) -> [B, F*hop] per-sample f0, linear between centres."""
    b, f = f0.shape
    pos = torch.arange(f * hop, dtype=f0.dtype, device=f0.device) / hop  # fractional frame index
    lo = pos.floor().long().clamp(max=f - 1)
    hi = (lo + 1).clamp(max=f - 1)
    w = (pos - lo.to(f0.dtype))
    return f0[:, lo] * (1 - w) + f0[:, hi] * w


def pulse_train(f0_samples: torch.Tensor, phase0: torch.Tensor | None = None,
                sample_rate: int = SAMPLE_RATE) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, N] per-sample f0 -> (pulses [B, N], end phase [B]); zero where unvoiced.

    The phase is accumulated in float64 and wrapped to [0, 2 pi), so long utterances keep their precision.
    """
    f = f0_samples.to(torch.float64)
    step = 2 * math.pi * f / sample_rate
    phase = torch.cumsum(step, dim=-1)
    if phase0 is not None:
        phase = phase + phase0.to(torch.float64)[:, None]
    phase = torch.remainder(phase, 2 * math.pi)
    voiced = f >= VOICED_MIN_HZ
    n_harm = torch.floor(BAND_LIMIT_HZ / f.clamp(min=VOICED_MIN_HZ))
    half = torch.sin(phase / 2)
    near_zero = half.abs() < 1e-9
    dirichlet = torch.sin((n_harm + 0.5) * phase) / (2 * torch.where(near_zero, torch.ones_like(half), half)) - 0.5
    pulses = torch.where(near_zero, n_harm, dirichlet)
    pulses = torch.where(voiced, pulses, torch.zeros_like(pulses))
    return pulses.to(f0_samples.dtype), phase[:, -1]


def stft(x: torch.Tensor) -> torch.Tensor:
    """[B, N] -> complex [B, N_BINS, N / HOP + 1] (centred, reflect-padded, periodic Hann)."""
    return torch.stft(x, N_FFT, HOP, window=hann(N_FFT, x.dtype, x.device), center=True, return_complex=True)


def istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    return torch.istft(spec, N_FFT, HOP, window=hann(N_FFT, spec.real.dtype, spec.device), center=True, length=length)


class SourceFilterRenderer(nn.Module):
    """(lh, theta, ln, lr, phi [B, 601, F], f0 [B, F], noise [B, 2, 601, F]) -> waveform [B, F * 300]."""

    def forward(self, lh, theta, ln, lr, phi, f0, noise, phase0=None):
        n = f0.shape[-1] * HOP
        pulses, _ = pulse_train(upsample_f0(f0), phase0)
        e = stft(pulses)[..., : f0.shape[-1]] / HOP
        g = torch.exp(lh.clamp(max=MAX_LOG_GAIN))
        harmonic = torch.polar(g, math.pi * torch.tanh(theta)) * e
        z = torch.complex(noise[:, 0], noise[:, 1])
        shaped = torch.exp(ln.clamp(max=MAX_LOG_GAIN)) * z
        residual = torch.polar(torch.exp(lr.clamp(max=MAX_LOG_GAIN)), phi)
        spec = harmonic + shaped + residual
        spec = torch.cat([spec, torch.zeros_like(spec[..., :1])], dim=-1)  # the centred STFT's last frame
        return istft(spec, n)


def noise_like(f0: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Unit-variance complex Gaussian per component, [B, 2, 601, F], from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn((f0.shape[0], 2, N_BINS, f0.shape[-1]), generator=g, dtype=f0.dtype)

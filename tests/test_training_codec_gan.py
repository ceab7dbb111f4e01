"""training/codec/gan.py: discriminator shapes, LSGAN / feature-matching losses, and that a few D steps learn."""

from __future__ import annotations

import pytest
import torch

from training.codec.gan import Discriminators, discriminator_loss, generator_losses



pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_losses_and_gradients():
    torch.manual_seed(0)
    d = Discriminators(periods=(2, 3), crop=4000)
    x = torch.randn(2, 6000) * 0.1
    y = (torch.randn(2, 6000) * 0.1).requires_grad_()
    xc, yc = d.crops(x, y)
    assert xc.shape == yc.shape == (2, 4000)
    real, fake = d(xc), d(yc)
    assert len(real) == 5 and all(r.dim() == 2 and len(f) >= 4 for r, f in real)
    adv, feat = generator_losses(real, fake)
    (adv + feat).backward()
    assert y.grad is not None and y.grad.abs().sum() > 0  # the generator gets a signal through D
    assert all(p.grad is not None for p in d.parameters())  # ... and D's graph is connected
    assert float(discriminator_loss(real, real).detach()) > 0


def test_discriminator_learns_to_tell_tone_from_noise():
    torch.manual_seed(0)
    d = Discriminators(crop=4000)
    opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    t = torch.arange(4000) / 24000
    tone = 0.3 * torch.sin(2 * torch.pi * 220 * t).repeat(4, 1)
    noise = 0.3 * torch.randn(4, 4000)
    first = None
    for _ in range(15):
        loss = discriminator_loss(d(tone), d(noise))
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first

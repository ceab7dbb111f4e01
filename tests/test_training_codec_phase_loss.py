"""training/codec/losses.py PhaseLoss: relative phase (group delay, instantaneous frequency) of a reconstruction
vs its target."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training.codec import train as codec_train
from training.codec.losses import PhaseLoss, anti_wrap

from test_training_codec_ctc import _args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _voice(n=12000, f0=140.0, seed=0):
    """Harmonics of f0 plus a little noise: a stand-in for a voiced segment."""
    t = torch.arange(n) / 24000
    x = sum(torch.sin(2 * math.pi * k * f0 * t + k) / k for k in range(1, 8))
    return (x + 0.01 * torch.randn(n, generator=torch.Generator().manual_seed(seed)))[None]


def test_anti_wrap_is_the_distance_between_phases():
    d = torch.tensor([0.0, 0.5, math.pi, 2 * math.pi - 0.5, -2 * math.pi + 0.25, 7 * math.pi])
    assert torch.allclose(anti_wrap(d), torch.tensor([0.0, 0.5, math.pi, 0.5, 0.25, math.pi]), atol=1e-5)


def test_phase_loss_ignores_polarity_and_penalises_a_rough_waveform():
    pl = PhaseLoss(512)
    x = _voice()
    same, flipped = pl(x, x), pl(-x, x)  # absolute phase (polarity) is not what the codes determine
    assert float(same["gd"]) < 1e-5 and float(same["iaf"]) < 1e-5
    assert float(flipped["gd"]) < 1e-5 and float(flipped["iaf"]) < 1e-5
    rough = x + 0.5 * torch.randn_like(x)  # same magnitudes on average, incoherent phase
    r = pl(rough, x)
    assert float(r["gd"]) > 0.1 and float(r["iaf"]) > 0.1
    y = rough.clone().requires_grad_()
    out = pl(y, x)
    (out["gd"] + out["iaf"]).backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_trainer_adds_the_phase_term_and_logs_it(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, freeze_encoder=True, phase_weight=0.5))
    row = tr.train_step()
    assert {"gd", "iaf"} <= set(row) and all(np.isfinite(float(v)) for v in row.values())
    parts = float(row["sc"]) + float(row["logmag"]) + float(row["mel"]) + 0.25 * float(row["commit"])
    assert float(row["loss"]) == pytest.approx(parts + 0.5 * (float(row["gd"]) + float(row["iaf"])) / 2, rel=1e-4)


def test_phase_swap_takes_magnitude_from_one_side_and_phase_from_the_other():
    from training.codec.phase_diag import swap

    x = _voice(n=9600)[0].double().numpy()
    y = np.roll(x, 7) * 0.5  # another phase (a shift) and another magnitude (half)
    same = swap(x, x, "rec_mag+teacher_phase", 256)
    assert np.allclose(same[300:-300], x[300:-300], atol=1e-4)  # one signal on both sides inverts to itself
    mixed = swap(y, x, "rec_mag+teacher_phase", 256)  # y's magnitude (half of x's), x's phase
    err = np.abs(mixed[300:-300] - 0.5 * x[300:-300]).max() / np.abs(0.5 * x).max()
    assert err < 0.1 and np.abs(mixed[300:-300] - y[300:-300]).max() / np.abs(y).max() > 0.5

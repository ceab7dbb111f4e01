"""The source-filter codec head's reference parts: the renderer (export/reference/source_filter.py) and the
frame decoder (export/reference/frame_decoder.py)."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vox_edge.export.reference import source_filter as sf  # noqa: E402
from vox_edge.export.reference.frame_decoder import FrameDecoder  # noqa: E402


def _silent_params(frames: int):
    z = torch.full((1, sf.N_BINS, frames), -30.0)
    return dict(lh=z.clone(), theta=torch.zeros_like(z), ln=z.clone(), lr=z.clone(), phi=torch.zeros_like(z))


def test_pulse_train_matches_the_explicit_harmonic_sum():
    f0 = torch.full((1, 2400), 180.0, dtype=torch.float64)
    pulses, end = sf.pulse_train(f0)
    phase = torch.remainder(torch.cumsum(2 * math.pi * f0 / sf.SAMPLE_RATE, -1), 2 * math.pi)
    h = int(sf.BAND_LIMIT_HZ // 180.0)
    explicit = sum(torch.cos(k * phase) for k in range(1, h + 1))
    assert torch.allclose(pulses, explicit, atol=1e-6)
    assert float(end) == pytest.approx(float(phase[0, -1]))


def test_unvoiced_frames_give_no_pulses():
    f0 = torch.tensor([[0.0] * 100 + [30.0] * 100])
    pulses, _ = sf.pulse_train(f0)
    assert torch.count_nonzero(pulses) == 0


def test_phase0_continues_a_split_pulse_train():
    f0 = 120 + 60 * torch.rand(1, 4000, dtype=torch.float64)
    whole, _ = sf.pulse_train(f0)
    a, end = sf.pulse_train(f0[:, :1500])
    b, _ = sf.pulse_train(f0[:, 1500:], phase0=end)
    assert torch.allclose(torch.cat([a, b], -1), whole, atol=1e-9)


def test_harmonic_branch_renders_the_pitch():
    frames = 80
    p = _silent_params(frames)
    p["lh"] = torch.zeros_like(p["lh"])  # unit gain: the pulse train itself
    f0 = torch.full((1, frames), 200.0)
    audio = sf.SourceFilterRenderer()(**p, f0=f0, noise=sf.noise_like(f0))[0].numpy()
    assert audio.shape == (frames * sf.HOP,)
    spec = np.abs(np.fft.rfft(audio[6000:18000] * np.hanning(12000)))
    peak_hz = np.argmax(spec) * sf.SAMPLE_RATE / 12000
    assert abs(peak_hz % 200.0) < 5 or abs(peak_hz % 200.0 - 200.0) < 5
    assert abs(peak_hz) > 100


def test_all_gains_off_is_silence_and_noise_branch_follows_its_gain():
    frames = 40
    p = _silent_params(frames)
    f0 = torch.full((1, frames), 150.0)
    quiet = sf.SourceFilterRenderer()(**p, f0=f0, noise=sf.noise_like(f0))
    assert float(quiet.abs().max()) < 1e-6
    p["ln"] = torch.full_like(p["ln"], -4.0)
    loud = sf.SourceFilterRenderer()(**p, f0=f0, noise=sf.noise_like(f0))
    p["ln"] = torch.full_like(p["ln"], -4.0 + math.log(2.0))
    louder = sf.SourceFilterRenderer()(**p, f0=f0, noise=sf.noise_like(f0))
    assert torch.allclose(louder, 2 * loud, atol=1e-5)


def test_frame_decoder_right_context_is_exact():
    torch.manual_seed(0)
    fd = FrameDecoder(c_in=10, dim=16, hidden=32, n_layers=3, kernel=5, n_bins=7).eval()
    x = torch.randn(1, 10, 60)
    y = torch.cat(fd(x), 1)
    t = 40
    x2 = x.clone()
    x2[..., t] += 1.0
    changed = (torch.cat(fd(x2), 1) - y).abs().amax(1)[0] > 0
    first = int(torch.nonzero(changed)[0])
    assert t - first == fd.right_context_frames  # frame t reaches this many frames back (so needs as many ahead)
    assert [p.shape[1] for p in fd(x)] == [7] * 5


def _random_params(frames: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    p = {k: torch.randn((1, sf.N_BINS, frames), generator=g) for k in ("lh", "theta", "ln", "lr", "phi")}
    p["lh"], p["ln"], p["lr"] = p["lh"] - 4, p["ln"] - 8, p["lr"] - 6
    f0 = torch.where(torch.rand(1, frames, generator=g) > 0.3, 100 + 150 * torch.rand(1, frames, generator=g),
                     torch.zeros(1, frames))
    return p, f0


def test_numpy_renderer_equals_the_reference():
    from vox_edge.runtime import source_filter as rsf

    frames = 60
    p, f0 = _random_params(frames)
    noise = sf.noise_like(f0, seed=3)
    ref = sf.SourceFilterRenderer()(**p, f0=f0, noise=noise)[0].numpy()
    out, _ = rsf.render_window({k: v[0].numpy() for k, v in p.items()}, f0[0].numpy(), noise[0].numpy())
    assert out.shape == ref.shape
    assert np.max(np.abs(out - ref)) < 1e-4 * max(1.0, np.max(np.abs(ref)))

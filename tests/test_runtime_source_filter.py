"""The runtime's NumPy source-filter renderer (runtime/source_filter.py), without torch."""
import numpy as np

from vox_edge.runtime import source_filter as rsf


def _params(frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = {k: rng.standard_normal((rsf.N_BINS, frames)) for k in ("lh", "theta", "ln", "lr", "phi")}
    p["lh"], p["ln"], p["lr"] = p["lh"] - 4, p["ln"] - 8, p["lr"] - 6
    f0 = np.where(rng.random(frames) > 0.3, 100 + 150 * rng.random(frames), 0.0)
    return p, f0


def test_stft_istft_round_trip():
    x = np.random.default_rng(1).standard_normal(30 * rsf.HOP)
    assert np.allclose(rsf.istft(rsf.stft(x).T, len(x)), x, atol=1e-9)


def test_windows_on_the_frame_grid_with_carried_phase_equal_one_render():
    frames = 80
    p, f0 = _params(frames)
    noise = rsf.frame_noise(7, 0, frames)
    whole, phase = rsf.render_window(p, f0, noise)
    # a sample needs the STFT frames within 2 hops of it, and each frame's pulse spectrum needs the samples
    # within 2 hops of its centre (and f0 of the next frame): 4 frames of margin on the left, 5 on the right
    s = 40
    cut = lambda d, a, b: {k: v[:, a:b] for k, v in d.items()}  # noqa: E731
    first, _ = rsf.render_window(cut(p, 0, s + 5), f0[: s + 5], noise[:, :, : s + 5])
    a = s - 4
    second, _ = rsf.render_window(cut(p, a, frames), f0[a:], noise[:, :, a:], phase0=phase[a * rsf.HOP - 1])
    assert np.allclose(first[: s * rsf.HOP], whole[: s * rsf.HOP], atol=1e-5)
    assert np.allclose(second[4 * rsf.HOP:], whole[s * rsf.HOP:], atol=1e-5)


def test_frame_noise_does_not_depend_on_chunking():
    a = rsf.frame_noise(5, 0, 10)
    b = np.concatenate([rsf.frame_noise(5, 0, 4), rsf.frame_noise(5, 4, 6)], axis=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, rsf.frame_noise(6, 0, 10))


def test_frame_noise_cache_gives_the_same_noise_and_draws_each_block_once():
    cache: dict = {}
    for first, n in ((0, 13), (5, 40), (30, 70), (90, 3)):  # overlapping windows, as a stream asks
        got = rsf.frame_noise(3, first, n, cache)
        assert np.array_equal(got, rsf.frame_noise(3, first, n))
        got[:] = 0  # the caller's array is its own: the cached blocks stay as drawn
    assert sorted(cache) == [0, 1, 2, 3]  # frames 0..99 in blocks of 32
    assert np.array_equal(rsf.frame_noise(3, 0, 96, cache), rsf.frame_noise(3, 0, 96))

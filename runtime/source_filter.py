"""Source-filter renderer in NumPy: the signal-processing tail of a `source_filter` codec (docs/model.md#codec).

The codec graph returns, per 80 Hz frame, f0 and five spectral parameter maps; this turns them into audio:
a band-limited pulse train integrating f0 (its phase carried across calls), its STFT filtered by the harmonic
gain, plus shaped noise and a free-phase residual, then an inverse STFT. It mirrors the PyTorch reference
(export/reference/source_filter.py; tests hold the two together) and stays out of the ONNX graph because it is
plain FFT work that every CPU does well and NPUs do not run.

Streaming: `render_window` renders any run of frames that starts on the renderer's frame grid, given the pulse
phase at its first sample; the caller keeps only samples whose STFT frames are all inside the window.
"""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 24_000
N_FFT = 1200
HOP = 300
N_BINS = N_FFT // 2 + 1
MAX_LOG_GAIN = 7.0
VOICED_MIN_HZ = 40.0
BAND_LIMIT_HZ = 11_000.0
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float64)  # periodic Hann


def upsample_f0(f0: np.ndarray) -> np.ndarray:
    """[F] frame f0 (frame t centred on sample t*HOP) -> [F*HOP] per-sample f0, linear between centres."""
    f = len(f0)
    pos = np.arange(f * HOP, dtype=np.float64) / HOP
    lo = np.minimum(np.floor(pos).astype(np.int64), f - 1)
    hi = np.minimum(lo + 1, f - 1)
    w = pos - lo
    f0 = f0.astype(np.float64)
    return f0[lo] * (1 - w) + f0[hi] * w


def pulse_train(f0_samples: np.ndarray, phase0: float = 0.0, anchor: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample f0 -> (pulses, phase after each sample), float64; zero where f0 < VOICED_MIN_HZ.

    The phase after sample anchor - 1 is phase0 (anchor 0: phase0 comes before the first sample), so a window
    whose early samples carry a different f0 history still continues a pulse train exactly from `anchor` on.
    """
    raw = np.cumsum(2 * np.pi * f0_samples / SAMPLE_RATE)
    phase = np.remainder(raw - (raw[anchor - 1] if anchor > 0 else 0.0) + phase0, 2 * np.pi)
    n_harm = np.floor(BAND_LIMIT_HZ / np.maximum(f0_samples, VOICED_MIN_HZ))
    half = np.sin(phase / 2)
    near_zero = np.abs(half) < 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        pulses = np.sin((n_harm + 0.5) * phase) / (2 * np.where(near_zero, 1.0, half)) - 0.5
    pulses = np.where(near_zero, n_harm, pulses)
    return np.where(f0_samples >= VOICED_MIN_HZ, pulses, 0.0), phase


def stft(x: np.ndarray) -> np.ndarray:
    """[N] -> complex [N_BINS, N // HOP + 1]: centred (reflect-padded) frames, periodic Hann (the reference's layout)."""
    pad = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n_frames = len(x) // HOP + 1
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    return np.fft.rfft(pad[idx] * _WINDOW, axis=1).T


def istft(spec: np.ndarray, length: int) -> np.ndarray:
    """complex [F, N_BINS] -> [length] samples: windowed overlap-add normalised by the summed squared window."""
    frames = (np.fft.irfft(spec, n=N_FFT, axis=1) * _WINDOW).reshape(len(spec), N_FFT // HOP, HOP)
    n_frames, k = frames.shape[0], N_FFT // HOP
    out = np.zeros((n_frames + k - 1, HOP))
    norm = np.zeros((n_frames + k - 1, HOP))
    win2 = (_WINDOW ** 2).reshape(k, HOP)
    for j in range(k):  # hop = n_fft / k: k shifted block adds do the whole overlap-add
        out[j: j + n_frames] += frames[:, j]
        norm[j: j + n_frames] += win2[j]
    out, norm = out.ravel()[N_FFT // 2: N_FFT // 2 + length], norm.ravel()[N_FFT // 2: N_FFT // 2 + length]
    return out / np.where(norm > 1e-11, norm, 1.0)


def render_window(params: dict[str, np.ndarray], f0: np.ndarray, noise: np.ndarray,
                  phase0: float = 0.0, anchor: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """params lh/theta/ln/lr/phi [601, F], f0 [F] Hz, noise [2, 601, F] -> (audio [F*HOP] float32, phase [F*HOP]).

    `phase[i]` is the pulse phase after sample i; phase0 is the phase after sample anchor - 1 (`pulse_train`).
    """
    n_frames = len(f0)
    pulses, phase = pulse_train(upsample_f0(f0), phase0, anchor)
    e = stft(pulses)[:, :n_frames].T / HOP  # [F, bins]
    gain = lambda name: np.exp(np.minimum(params[name].T, MAX_LOG_GAIN))  # noqa: E731
    angle = np.pi * np.tanh(params["theta"].T)
    harmonic = gain("lh") * (np.cos(angle) + 1j * np.sin(angle)) * e
    shaped = gain("ln") * (noise[0].T + 1j * noise[1].T)
    phi = params["phi"].T
    residual = gain("lr") * (np.cos(phi) + 1j * np.sin(phi))
    spec = np.concatenate([harmonic + shaped + residual, np.zeros((1, N_BINS))], axis=0)
    return istft(spec, n_frames * HOP).astype(np.float32), phase


NOISE_BLOCK = 32  # renderer frames drawn per generator call; any constant keeps noise a function of the frame


def frame_noise(seed: int, first_frame: int, n_frames: int, cache: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """[2, 601, n] unit Gaussian noise for absolute frames first_frame .. first_frame + n - 1 of a request.

    Drawn in blocks keyed by (seed, block index), so a frame's noise does not depend on how a stream is chunked.
    `cache` (block index -> block, one seed's): blocks already drawn are reused and new ones added, so a stream
    whose windows overlap draws each block once (the caller drops blocks it no longer needs).
    """
    b0, b1 = first_frame // NOISE_BLOCK, (first_frame + n_frames - 1) // NOISE_BLOCK + 1
    cache = {} if cache is None else cache
    for b in range(b0, b1):
        if b not in cache:
            cache[b] = np.random.default_rng([seed & 0xFFFFFFFF, b]).standard_normal((2, N_BINS, NOISE_BLOCK), np.float32)
    blocks = [cache[b] for b in range(b0, b1)]
    start = first_frame - b0 * NOISE_BLOCK
    return np.concatenate(blocks, axis=2)[:, :, start: start + n_frames]


class SplitCodec:
    """A qnn-htp bundle's source_filter codec in two graphs (manifest `codec_trunk` + `codec_decoder`) behind the
    one-session face SourceFilterStream reads: run(None, {codes, frame_mask}) -> [lh, theta, ln, lr, phi, f0].

    codec_trunk (FP32, on the CPU) computes the frame features and f0: the renderer integrates f0 into the pulse
    phase, so an f0 a fraction of a hertz off (int8 weights) drifts the waveform; the frame decoder (codec_decoder,
    on the accelerator) turns the features into the five spectral maps, whose errors stay local.
    """

    def __init__(self, trunk, decoder):
        self.trunk, self.decoder = trunk, decoder

    def get_inputs(self):
        return self.trunk.get_inputs()

    def get_outputs(self):
        return [*self.decoder.get_outputs(), self.trunk.get_outputs()[2]]

    def get_providers(self):
        return self.decoder.get_providers()

    def run(self, names, feed, *args):
        features, mask, f0 = self.trunk.run(["features", "feature_mask", "f0"], feed, *args)
        maps = self.decoder.run(None, {"features": features, "feature_mask": mask}, *args)
        out = dict(zip(("lh", "theta", "ln", "lr", "phi", "f0"), [*maps, f0]))
        return [out[n] for n in (names or out)]

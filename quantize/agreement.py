"""How far a quantised graph set is from FP32: the acoustic Euler loop's codes and the codec's waveform.

The codes come from the runtime's own frame step (vox_edge.runtime.flow.FlowHead: semantic argmax, then the
Euler loop with CFG over flow_velocity in NumPy, docs/model.md#acoustic-step), so a report measures exactly what
the engine would produce. It is what the parity and agreement tests measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vox_edge.config import DEFAULT_CFG_ALPHA, END_AUDIO, N_AUDIO_SPECIAL


def session(path: str | Path, threads: int = 2):
    """A CPU session for one graph of a variant (the project's session factory, ORT's default spinning)."""
    from vox_edge.runtime.sessions import cpu_session

    return cpu_session(path, threads)


@dataclass
class FlowGraphs:
    condition: object
    time: object
    velocity: object

    @classmethod
    def load(cls, folder: str | Path, threads: int = 2) -> "FlowGraphs":
        folder = Path(folder)
        return cls(*(session(folder / f"{n}.onnx", threads) for n in ("flow_condition", "flow_time", "flow_velocity")))


def euler_codes(flow: FlowGraphs, hiddens: np.ndarray, noise: np.ndarray, n_steps: int, fsq_levels: int,
                cfg_alpha: float = DEFAULT_CFG_ALPHA) -> np.ndarray:
    """hiddens [F,D], noise [F,A] -> codes [F,1+A] (+2 space), one frame at a time through the runtime's flow
    head (its per-step NumPy Euler loop over flow_velocity); an END frame's acoustic codes are 0, as in the
    reference."""
    from vox_edge.runtime.flow import FlowHead

    head = FlowHead(flow.condition, flow.time, flow.velocity, n_acoustic=noise.shape[1], levels=fsq_levels)
    rows = []
    for f in range(len(hiddens)):
        semantic, llm_cond = head.condition(np.ascontiguousarray(hiddens[f:f + 1], dtype=np.float32))
        levels = head.acoustic(llm_cond, noise[f], n_steps, cfg_alpha)
        if semantic == END_AUDIO:
            levels[:] = 0
        rows.append(np.concatenate([[semantic], levels + N_AUDIO_SPECIAL]))
    return np.stack(rows)


@dataclass(frozen=True)
class CodeAgreement:
    frames: int
    semantic: float  # fraction of frames with the same semantic code
    acoustic: float  # fraction of the frames·A acoustic codes that are equal
    within_one: float  # fraction of acoustic codes within ±1 FSQ level
    frames_exact: float  # fraction of frames equal in all 1+A codes

    def __str__(self) -> str:
        return (f"semantic {self.semantic:.3f}, acoustic {self.acoustic:.3f} (±1: {self.within_one:.3f}), "
                f"whole frames {self.frames_exact:.3f} over {self.frames} frames")


def code_agreement(a: np.ndarray, b: np.ndarray) -> CodeAgreement:
    eq = a == b
    return CodeAgreement(len(a), float(eq[:, 0].mean()), float(eq[:, 1:].mean()),
                         float((np.abs(a[:, 1:] - b[:, 1:]) <= 1).mean()), float(eq.all(1).mean()))


@dataclass(frozen=True)
class WaveDistance:
    snr_db: float  # 10·log10(Σref² / Σ(ref-x)²)
    max_abs: float
    rel_rms: float  # rms(ref-x) / rms(ref)

    def __str__(self) -> str:
        return f"SNR {self.snr_db:.1f} dB, max-abs {self.max_abs:.2e}, rel-RMS {self.rel_rms:.2e}"


def wave_distance(ref: np.ndarray, x: np.ndarray) -> WaveDistance:
    ref, x = np.asarray(ref, np.float64).ravel(), np.asarray(x, np.float64).ravel()
    err = float(np.sum((ref - x) ** 2))
    sig = float(np.sum(ref ** 2))
    snr = float("inf") if err == 0 else 10 * np.log10(sig / err)
    return WaveDistance(snr, float(np.max(np.abs(ref - x))), float(np.sqrt(err / max(sig, 1e-30))))


def median_ms(sess, feed: dict, repeat: int = 30, warmup: int = 5) -> float:
    """Median wall ms of sess.run(feed) (median: the 2 cores are shared, outliers are contention)."""
    for _ in range(warmup):
        sess.run(None, feed)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feed)
        ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(ts))

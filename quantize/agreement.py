"""How far a quantised graph set is from FP32: the acoustic Euler loop's codes and the codec's waveform.

The loop is the frame step of docs/model.md#acoustic-step in NumPy over the three flow graphs, with CFG's two branches
batched (B=2), exactly as the runtime runs it. It is what the parity and agreement tests measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vox_edge.config import DEFAULT_CFG_ALPHA, END_AUDIO, N_AUDIO_SPECIAL


def session(path: str | Path, threads: int = 2):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def time_grid(n_steps: int) -> np.ndarray:
    """The reference's float32 torch.linspace(0, 1, n+1). np.linspace differs in the last bit of t3/t4 for
    n = 7, which changes dt and, rarely, a code; for n = 7 this equals float32 step = 1/n, t_i = i·step
    below the midpoint and 1 - (n-i)·step above it."""
    import torch

    return torch.linspace(0, 1, n_steps + 1).numpy()


@dataclass
class FlowGraphs:
    condition: object
    time: object
    velocity: object

    @classmethod
    def load(cls, folder: str | Path, threads: int = 2) -> "FlowGraphs":
        folder = Path(folder)
        return cls(*(session(folder / f"{n}.onnx", threads) for n in ("flow_condition", "flow_time", "flow_velocity")))

    def decode_frame(self, hidden: np.ndarray, noise: np.ndarray, ts: np.ndarray, cfg_alpha: float,
                     fsq_levels: int) -> np.ndarray:
        """hidden [1,D], noise [1,A] -> codes [1+A] in +2 space (docs/model.md#acoustic-step)."""
        logits, llm = self.condition.run(None, {"hidden": hidden})  # [1,W], [1,D]
        semantic = int(np.argmax(logits[0]))
        tconds = self.time.run(None, {"t": ts[:-1]})[0]  # [n,D] (a runtime caches these)
        cond = np.concatenate([llm, np.zeros_like(llm)], 0)  # [2,D]: CFG's uncond branch has a zero hidden
        alpha, beta = np.float32(cfg_alpha), np.float32(1 - cfg_alpha)
        x = noise.astype(np.float32)  # [1,A]
        for i in range(len(ts) - 1):
            feed = {"x_t": np.concatenate([x, x], 0), "time_cond": np.repeat(tconds[i:i + 1], 2, 0), "llm_cond": cond}
            v = self.velocity.run(None, feed)[0]  # [2,A]
            x = x + (alpha * v[:1] + beta * v[1:]) * (ts[i + 1] - ts[i])
        q = np.round((np.clip(x, -1, 1) + 1) / 2 * (fsq_levels - 1)).astype(np.int64)[0]  # half-to-even
        if semantic == END_AUDIO:
            q[:] = 0
        return np.concatenate([[semantic], q + N_AUDIO_SPECIAL])


def euler_codes(flow: FlowGraphs, hiddens: np.ndarray, noise: np.ndarray, n_steps: int, fsq_levels: int,
                cfg_alpha: float = DEFAULT_CFG_ALPHA) -> np.ndarray:
    """hiddens [F,D], noise [F,A] -> codes [F,1+A] (+2 space), one frame at a time."""
    ts = time_grid(n_steps)
    return np.stack([flow.decode_frame(hiddens[f:f + 1], noise[f:f + 1], ts, cfg_alpha, fsq_levels)
                     for f in range(len(hiddens))])


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

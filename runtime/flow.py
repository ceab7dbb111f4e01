"""Per-frame acoustic step (docs/model.md#acoustic-step): semantic argmax + flow-matching ODE with CFG, around these graphs:

    flow_condition: hidden [1,D] -> semantic_logits [1,W] (EMPTY/padding already -inf), llm_cond [1,D]
    flow_time:      t [n] -> time_cond [n,D]             (cached per step count: it depends on n only)
    flow_euler:     x0 [1,A], llm_cond [1,D], time_cond [n,D], dt [n], cfg_mix [2] -> x1 [1,A]   (all n steps)
    flow_velocity:  x_t [2,A], time_cond [2,D], llm_cond [2,D] -> velocity [2,A]   (row 0 cond, row 1 uncond)

With flow_euler (an ONNX Loop around the velocity graph; CPU provider) a frame's ODE is one call; without it
(older bundles, NPU providers) the same Euler loop runs here in NumPy, one flow_velocity call per step. Both
mirror the PyTorch reference's float32 arithmetic operation by operation (time grid, CFG mix, Euler update, FSQ
rounding), so with the same noise the codes come out identical.
"""

from __future__ import annotations

import threading

import numpy as np
import onnxruntime as ort

F32 = np.float32


def time_grid(n_steps: int) -> np.ndarray:
    """linspace(0, 1, n_steps+1) in float32 exactly as torch.linspace computes it: step = 1/n in float32,
    the first half as step·i and the second half as 1 − step·(n−i), each rounded once (np.linspace's
    float64-then-cast grid differs by one ulp at some points, e.g. for n = 7)."""
    step = F32(1) / F32(n_steps)
    i = np.arange(n_steps + 1, dtype=np.float64)
    half = (n_steps + 1) // 2
    exact = np.where(i < half, np.float64(step) * i, 1.0 - np.float64(step) * (n_steps - i))  # exact in f64
    return exact.astype(F32)


def quantize_fsq(x: np.ndarray, levels: int) -> np.ndarray:
    """x [A] float32 -> int64 levels in [0, levels-1]: clamp to [-1,1], ((x+1)/2)·(levels-1), round half to even."""
    x = np.clip(x, F32(-1), F32(1))
    return np.round(((x + F32(1)) / F32(2)) * F32(levels - 1)).astype(np.int64)


class FlowHead:
    """Semantic code + acoustic levels for one frame. Stateless per call; the time cache is filled under a lock."""

    def __init__(self, condition: ort.InferenceSession, time: ort.InferenceSession,
                 velocity: ort.InferenceSession | None, n_acoustic: int, levels: int,
                 euler: ort.InferenceSession | None = None):
        if velocity is None and euler is None:
            raise ValueError("FlowHead needs flow_velocity or flow_euler")
        self._cond, self._time, self._vel, self._euler = condition, time, velocity, euler
        self.n_acoustic, self.levels = n_acoustic, levels
        self._times: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        t_shape = time.get_inputs()[0].shape  # [N]: an int when exported with fixed shapes
        self._time_len = t_shape[0] if isinstance(t_shape[0], int) else None
        # a dynamic batch lets cfg_alpha == 1 skip the unconditional branch (1·v_c + 0·v_u == v_c exactly)
        self._dynamic_batch = velocity is not None and not isinstance(velocity.get_inputs()[0].shape[0], int)
        self._lock = threading.Lock()

    def time_schedule(self, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> dt [n] float32, time_cond [n, D], its CFG pairs [n, 2, D] (the same row for both branches)."""
        got = self._times.get(n_steps)
        if got is None:
            with self._lock:
                got = self._times.get(n_steps)
                if got is None:
                    ts = time_grid(n_steps)
                    t = ts[:-1]
                    if self._time_len is not None:  # fixed-shape graph: rows are independent, so pad and slice
                        if n_steps > self._time_len:
                            raise ValueError(f"flow_steps={n_steps}, but this bundle's fixed-shape flow_time graph "
                                             f"takes at most {self._time_len}; use fewer steps or re-export")
                        t = np.concatenate([t, np.zeros(self._time_len - n_steps, F32)])
                    (tc,) = self._time.run(["time_cond"], {"t": t})
                    tc = np.ascontiguousarray(tc[:n_steps], dtype=F32)  # [n, D]
                    tc2 = np.ascontiguousarray(np.repeat(tc[:, None, :], 2, axis=1))  # [n, 2, D]
                    dt = (ts[1:] - ts[:-1]).astype(F32)  # [n]
                    for a in (dt, tc, tc2):
                        a.setflags(write=False)
                    got = self._times[n_steps] = (dt, tc, tc2)
        return got

    def condition(self, hidden: np.ndarray) -> tuple[int, np.ndarray]:
        """hidden [1,D] -> (greedy semantic id in +2 space, llm_cond [1,D])."""
        logits, llm = self._cond.run(["semantic_logits", "llm_cond"], {"hidden": hidden})
        return int(np.argmax(logits[0])), llm.astype(F32)  # argmax: first max on ties, like torch

    def acoustic(self, llm_cond: np.ndarray, x0: np.ndarray, n_steps: int, cfg_alpha: float) -> np.ndarray:
        """llm_cond [1,D], x0 [A] noise -> FSQ levels [A] int64 (Euler over the time grid, CFG batch of 2)."""
        dt, tc, tc2 = self.time_schedule(n_steps)
        x = np.asarray(x0, dtype=F32).reshape(1, -1)  # [1, A]
        if self._euler is not None:  # the whole loop in one call
            mix = np.array([cfg_alpha, 1 - cfg_alpha], dtype=F32)  # the reference's python-float scalars, as below
            (x1,) = self._euler.run(["x1"], {"x0": x, "llm_cond": np.ascontiguousarray(llm_cond, dtype=F32),
                                             "time_cond": tc, "dt": dt, "cfg_mix": mix})
            return quantize_fsq(x1[0], self.levels)
        if cfg_alpha == 1.0 and self._dynamic_batch:  # no guidance: half the velocity work (flow is most of a frame)
            cond1 = np.ascontiguousarray(llm_cond, dtype=F32)
            for i in range(n_steps):
                (v,) = self._vel.run(["velocity"], {"x_t": x, "time_cond": tc2[i][:1], "llm_cond": cond1})  # [1, A]
                x = x + v * dt[i]
            return quantize_fsq(x[0], self.levels)
        cond2 = np.concatenate([llm_cond, np.zeros_like(llm_cond)], axis=0)  # [2, D]: CFG's uncond = zero hidden
        a_c, a_u = F32(cfg_alpha), F32(1 - cfg_alpha)  # the reference's python-float scalars, rounded to f32
        for i in range(n_steps):
            (v,) = self._vel.run(["velocity"], {"x_t": np.concatenate([x, x], axis=0), "time_cond": tc2[i],
                                                "llm_cond": cond2})  # [2, A]
            v = a_c * v[:1] + a_u * v[1:]
            x = x + v * dt[i]
        return quantize_fsq(x[0], self.levels)

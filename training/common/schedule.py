"""The learning-rate schedule of the backbone + flow head trainer (tts/train.py)."""

from __future__ import annotations

import math


def cosine_lr(step: int, a, frac: float | None = None) -> float:
    """Linear warm-up over a.warmup steps, then cosine from a.lr to a.lr * a.lr_min over a.total_steps (then flat),
    or over the fraction `frac` of a time box. a.restart_at = S (a warm restart of an annealed run, SGDR-style): the
    cosine starts again at step S, from a.lr (steps between the warm-up and S run at a.lr); a resumed run keeps its
    place because it is all in steps."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    start = max(a.warmup, getattr(a, "restart_at", 0))
    t = min(1.0, frac if frac is not None else max(0, step - start) / max(1, a.total_steps - start))
    return a.lr * (a.lr_min + (1 - a.lr_min) * 0.5 * (1 + math.cos(math.pi * t)))

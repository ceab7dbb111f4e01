"""Summary statistics of timing samples (medians and tails; means hide the noise of a shared 2-core VM)."""

from __future__ import annotations

import numpy as np


def summary(values: list[float]) -> dict:
    """n, p50, p95, mean, min, max of `values` (all None when there are none)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "mean": None, "min": None, "max": None}
    a = np.asarray(values, dtype=np.float64)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else 0.0


def playback_stalls(chunks: list[tuple[float, float]]) -> tuple[float, int]:
    """(ready_s, duration_s) of a stream's chunks in order -> (total silence in s, number of stalls) heard by a
    player that starts with the first audio and plays each chunk as soon as it is ready, after the one before.

    A chunk that is ready after the audio before it has run out leaves a gap; the gap delays everything after it
    (the player does not skip ahead). Empty chunks (a stream's closing chunk) are skipped."""
    clock, silence, stalls = None, 0.0, 0  # clock: when the audio queued so far runs out
    for ready, duration in chunks:
        if duration <= 0:
            continue
        if clock is None:
            clock = ready
        elif ready > clock:
            silence, stalls, clock = silence + ready - clock, stalls + 1, ready
        clock += duration
    return silence, stalls

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

"""Summarise an onnxruntime profile (SessionOptions.enable_profiling) by operator type.

ORT writes a Chrome-trace JSON list: one "Session"/"model_run" event per `run`, and one "Node" event per
kernel execution ("<node>_kernel_time", args.op_name, dur in µs). `by_op` keeps only the kernels inside the
chosen runs (e.g. the decode steps, not the prefill), so the table says where one step's time goes.
(args.parameter_size is not a weight-traffic figure: it omits weights a kernel prepacked at load, e.g.
MatMulNBits reports only its scales. `weight_stream_gbs` therefore takes the weight bytes from the caller.)
"""

from __future__ import annotations

import json
from pathlib import Path


def load(path: str | Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def run_windows(events: list[dict]) -> list[tuple[int, int]]:
    """(start, end) µs of every model_run, in order."""
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e["ts"])
    return [(int(e["ts"]), int(e["ts"]) + int(e["dur"])) for e in runs]


def by_op(events: list[dict], skip_runs: int = 1) -> dict:
    """Per op type over the runs after the first `skip_runs`: µs per run, share, count per run, GB/s of weights."""
    windows = run_windows(events)[skip_runs:]
    if not windows:
        return {"runs": 0, "ops": {}, "run_us": 0.0, "kernel_us": 0.0}
    starts = [w[0] for w in windows]
    totals: dict[str, dict] = {}
    for e in events:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        ts = int(e["ts"])
        # the run this kernel belongs to: the last window starting at or before it
        i = _last_le(starts, ts)
        if i < 0 or ts > windows[i][1]:
            continue
        args = e.get("args", {})
        op = args.get("op_name", "?")
        t = totals.setdefault(op, {"us": 0.0, "count": 0})
        t["us"] += float(e["dur"])
        t["count"] += 1
    n = len(windows)
    run_us = sum(b - a for a, b in windows) / n
    kernel_us = sum(t["us"] for t in totals.values()) / n
    ops = {}
    for op, t in sorted(totals.items(), key=lambda kv: -kv[1]["us"]):
        us = t["us"] / n
        ops[op] = {"us_per_run": us, "share_of_kernels": us / kernel_us if kernel_us else 0.0,
                   "calls_per_run": t["count"] / n}
    return {"runs": n, "run_us": run_us, "kernel_us": kernel_us, "ops": ops}


def _last_le(sorted_vals: list[int], x: int) -> int:
    lo, hi = 0, len(sorted_vals)
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_vals[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


MATMUL_OPS = ("MatMulNBits", "DynamicQuantizeMatMul", "MatMulInteger", "QLinearMatMul", "MatMul", "FusedMatMul", "Gemm")


def weight_stream_gbs(summary: dict, weight_bytes: float) -> float | None:
    """GB/s the matrix-multiply kernels achieve if they read `weight_bytes` per run (the graph's weights)."""
    us = sum(o["us_per_run"] for op, o in summary["ops"].items() if op in MATMUL_OPS)
    return weight_bytes / (us * 1e3) if us else None


def table(summary: dict, top: int = 12) -> str:
    lines = [f"per-op profile over {summary['runs']} runs: {summary['run_us'] / 1e3:.2f} ms/run, "
             f"kernels {summary['kernel_us'] / 1e3:.2f} ms",
             f"{'op':34s}{'ms/run':>9s}{'share':>8s}{'calls':>7s}"]
    for op, o in list(summary["ops"].items())[:top]:
        lines.append(f"{op:34s}{o['us_per_run'] / 1e3:>9.3f}{100 * o['share_of_kernels']:>7.1f}%{o['calls_per_run']:>7.0f}")
    return "\n".join(lines)

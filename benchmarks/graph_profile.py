"""Time and op-profile the per-frame graphs of a bundle (flow_condition, flow_velocity, codec_decoder) alone.

    python -m vox_edge.benchmarks.graph_profile BUNDLE [--threads 1] [--repeats 12] [--codec-frames 50] [--json out.json]

Each graph gets the shapes the engine feeds it: flow_condition hidden [1, D]; flow_velocity the CFG pair
[2, ...]; codec_decoder one steady-state chunk of `--codec-frames` frames (left context + chunk). Reports
median ms, the weight stream rate (graph bytes / ms) and the ORT per-op split, so a slow graph can be
told apart from a slow kernel (e.g. MatMulNBits at M=2 vs M=1). The backbone has its own `backbone_bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vox_edge.manifest import load_manifest
from vox_edge.runtime.sessions import cpu_session

from . import machine, ort_profile, roofline

GRAPHS = ("flow_condition", "flow_velocity", "codec_decoder")


def feeds(graph: str, cfg, codec_frames: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    d, a = cfg.dim, cfg.n_acoustic_codebook
    if graph == "flow_condition":
        return {"hidden": rng.standard_normal((1, d), dtype=np.float32)}
    if graph == "flow_velocity":
        return {"x_t": rng.standard_normal((2, a), dtype=np.float32),
                "time_cond": rng.standard_normal((2, d), dtype=np.float32) * 0.1,
                "llm_cond": rng.standard_normal((2, d), dtype=np.float32) * 0.1}
    if graph == "codec_decoder":  # "-2 space": semantic in [0, semantic codebook), acoustic in [0, levels)
        sem = rng.integers(0, cfg.semantic_codebook_size, (1, codec_frames, 1))
        ac = rng.integers(0, cfg.acoustic_codebook_size, (1, codec_frames, a))
        return {"codes": np.concatenate([sem, ac], axis=2).astype(np.int64)}
    raise ValueError(graph)


def profile_graph(path: Path, feed: dict, threads: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        plain = cpu_session(path, threads)
        for _ in range(2):
            plain.run(None, feed)
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            plain.run(None, feed)
            ts.append((time.perf_counter() - t) * 1e3)
        del plain
        prof = cpu_session(path, threads, profile_prefix=os.path.join(tmp, "g"))
        for _ in range(2 + min(repeats, 8)):
            prof.run(None, feed)
        ops = ort_profile.by_op(ort_profile.load(prof.end_profiling()), skip_runs=2)
    return {"median_ms": float(np.median(ts)), "min_ms": float(min(ts)), "ops": ops}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.graph_profile", description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--codec-frames", type=int, default=50, help="frames per codec call (default 25 context + 25 new)")
    p.add_argument("--graphs", default=",".join(GRAPHS))
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    m = load_manifest(a.bundle, verify="none")
    sizes = roofline.graph_file_bytes(m)
    rng = np.random.default_rng(0)
    out = {"bundle": os.fspath(a.bundle), "threads": a.threads, "loadavg_start": machine.loadavg(), "graphs": {}}
    for g in a.graphs.split(","):
        r = profile_graph(m.path(m.graphs[g].file), feeds(g, m.config, a.codec_frames, rng), a.threads, a.repeats)
        r["precision"] = m.graphs[g].precision
        r["graph_mb"] = sizes[g] / 2**20
        r["weight_gbs"] = sizes[g] / (r["median_ms"] * 1e6)
        r["loadavg"] = machine.loadavg()
        out["graphs"][g] = r
        print(f"{g} ({r['precision']}, {r['graph_mb']:.0f} MiB): {r['median_ms']:.2f} ms median -> "
              f"{r['weight_gbs']:.1f} GB/s of weights; load {r['loadavg']}")
        print(ort_profile.table(r["ops"], top=6))
    out["machine"] = machine.machine_info()
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

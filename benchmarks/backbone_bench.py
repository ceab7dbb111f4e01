"""Backbone-only decode benchmark: per-frame ms of one backbone graph at a fixed frame count, vs its roofline.

    python -m vox_edge.benchmarks.backbone_bench GRAPH_DIR_OR_BUNDLE --params params.json \
        [--prompt 16] [--frames 20] [--threads 2] [--profile-ops] [--bandwidth-gbs X] [--json out.json]

A full-size bundle needs every graph; the 4B backbone alone is what dominates a frame (docs/hardware.md#cost-model),
so this runs just `backbone.onnx`: a prefill of `--prompt` random embeddings (a short text prompt on top
of a cached voice prefix), then `--frames` single-token steps, through the engine's own KV cache code
(`runtime.backbone`: a growing cache, or the in-place one of a graph with a `past_length` input). Random embeddings are fine: the cost does not depend on
values. With --profile-ops a second session runs with ORT profiling and the steps are summarised per op type.
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
import onnxruntime as ort

from vox_edge.config import ModelConfig
from vox_edge.manifest import PAST_LENGTH
from vox_edge.runtime.backbone import Backbone
from vox_edge.runtime.sessions import cpu_session

from . import machine, ort_profile
from .stats import summary

_NP = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def graph_bytes(onnx_path: Path) -> int:
    """The .onnx file plus its external data files next to it (backbone.onnx.data)."""
    total = onnx_path.stat().st_size
    for p in onnx_path.parent.glob(onnx_path.name + ".data*"):
        total += p.stat().st_size
    return total


def decode(sess: ort.InferenceSession, cfg: ModelConfig, prompt: int, frames: int, seed: int = 0) -> dict:
    """Prefill `prompt` tokens, then `frames` steps through the engine's own KV cache code (either contract:
    a growing cache, or an in-place one when the graph takes `past_length`). -> ms of the prefill and of every
    step, KV bytes read per step."""
    kv_cache = "shared" if any(i.name == PAST_LENGTH for i in sess.get_inputs()) else "grow"
    bb = Backbone(sess, cfg, kv_cache)
    kv = bb.cache(bb.empty_past(), capacity=prompt + frames)
    row_bytes = 2 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * bb.empty_past()[0].itemsize  # K and V of one position
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((1, prompt, cfg.dim), dtype=np.float32) * 0.02)

    cpu: list[float] = []

    def step(emb: np.ndarray) -> float:
        c, t = time.process_time(), time.perf_counter()
        hidden = kv.step(emb)
        ms = (time.perf_counter() - t) * 1e3
        cpu.append((time.process_time() - c) * 1e3)
        if not np.isfinite(hidden).all():
            raise RuntimeError("backbone produced non-finite hidden states")
        return ms

    prefill_ms = step(x)
    kv_bytes, steps = [], []
    for _ in range(frames):
        kv_bytes.append(kv.length * row_bytes)
        steps.append(step(rng.standard_normal((1, 1, cfg.dim), dtype=np.float32) * 0.02))
    # CPU ms (all threads of this process): with 1 thread it is the time on a core, i.e. the wall time minus
    # the time the scheduler gave the core to neighbours; with more threads it also counts spinning.
    return {"prefill_ms": prefill_ms, "step_ms": steps, "step_cpu_ms": cpu[1:],
            "kv_bytes_per_step": float(np.mean(kv_bytes)), "kv_cache": kv_cache}


def run(graph: Path, params: Path, prompt: int, frames: int, threads: int, repeats: int,
        bandwidth_gbs: float | None, profile_ops: bool, log=lambda m: None, config: dict[str, str] | None = None,
        ref_gbs: float = 28.0) -> dict:
    cfg = ModelConfig.from_file(params)
    load0 = machine.loadavg()
    t = time.perf_counter()
    sess = cpu_session(graph, threads, config=config)
    load_s = time.perf_counter() - t
    log(f"loaded {graph} in {load_s:.1f} s (RSS {machine.rss_mb()['current_rss_mb']:.0f} MiB)")
    decode(sess, cfg, prompt, 3)  # warm-up: first-run allocations and lazy prepacking
    reps = []
    for r in range(repeats):
        d = decode(sess, cfg, prompt, frames, seed=r)
        reps.append(d)
        log(f"repeat {r + 1}/{repeats}: prefill {d['prefill_ms']:.0f} ms, step median {np.median(d['step_ms']):.1f} ms "
            f"(load {machine.loadavg()})")
    mem = machine.rss_mb()
    load1 = machine.loadavg()
    steps = [ms for d in reps for ms in d["step_ms"]]
    rep_medians = [float(np.median(d["step_ms"])) for d in reps]
    wbytes = graph_bytes(graph)
    kv = float(np.mean([d["kv_bytes_per_step"] for d in reps]))
    res = {
        "graph": os.fspath(graph), "graph_mb": wbytes / 2**20, "dims": {
            "dim": cfg.dim, "n_layers": cfg.n_layers, "n_kv_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim},
        "threads": threads, "session_config": config or {}, "prompt": prompt, "frames": frames, "repeats": repeats,
        "load_s": load_s, "prefill_ms": summary([d["prefill_ms"] for d in reps]),
        "step_ms": summary(steps), "step_ms_repeat_medians": rep_medians,
        "step_cpu_ms": summary([ms for d in reps for ms in d["step_cpu_ms"]]),
        "kv_bytes_per_step": kv, "kv_cache": reps[0]["kv_cache"], "memory": mem, "loadavg": {"start": load0, "end": load1},
    }
    del sess  # free the weights before the probe (and the profiling session) allocate theirs
    if bandwidth_gbs is None:
        from .bandwidth import measure_in_subprocess

        band = measure_in_subprocess(1024)
        bandwidth_gbs = band["gbs"]
        res["bandwidth"] = band
    res["bandwidth_gbs"] = bandwidth_gbs
    floor = (wbytes + kv) / (bandwidth_gbs * 1e9) * 1e3
    res["floor_ms"] = floor
    res["fraction"] = floor / res["step_ms"]["p50"]
    res["ref_bandwidth_gbs"] = ref_gbs
    res["fraction_at_ref"] = (wbytes + kv) / (ref_gbs * 1e9) * 1e3 / res["step_ms"]["p50"]
    if profile_ops:
        with tempfile.TemporaryDirectory() as tmp:
            ps = cpu_session(graph, threads, profile_prefix=os.path.join(tmp, "ort"), config=config)
            decode(ps, cfg, prompt, min(frames, 10))
            path = ps.end_profiling()
            res["op_profile"] = ort_profile.by_op(ort_profile.load(path), skip_runs=1)
            os.unlink(path)
        res["op_profile"]["matmul_weight_gbs"] = ort_profile.weight_stream_gbs(res["op_profile"], wbytes)
        log(ort_profile.table(res["op_profile"]))
        log(f"matrix-multiply kernels stream the {wbytes / 2**20:.0f} MiB of weights at "
            f"{res['op_profile']['matmul_weight_gbs'] or 0:.1f} GB/s")
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.backbone_bench", description=__doc__.splitlines()[0])
    p.add_argument("graph", type=Path, help="backbone.onnx, or a directory (bundle) holding it")
    p.add_argument("--params", type=Path, help="params.json (default: the bundle's manifest params or GRAPH_DIR/params.json)")
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--bandwidth-gbs", type=float, help="use this bandwidth instead of probing it after the run")
    p.add_argument("--ref-gbs", type=float, default=28.0,
                   help="quiet-machine reference bandwidth for a second roofline fraction (default 28: the dev VM "
                        "profile, docs/hardware.md#cpu-measurements)")
    p.add_argument("--profile-ops", action="store_true")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="ORT session config entry, e.g. session.intra_op.allow_spinning=0 (repeatable)")
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    config = dict(kv.split("=", 1) for kv in a.config)
    graph = a.graph / "backbone.onnx" if a.graph.is_dir() else a.graph
    params = a.params
    tmp_params = None
    if params is None:
        manifest = graph.parent / "manifest.json"
        if manifest.is_file():  # a bundle: the params live inside its manifest
            tmp_params = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
            json.dump(json.loads(manifest.read_text())["params"], tmp_params)
            tmp_params.close()
            params = Path(tmp_params.name)
        else:
            params = graph.parent / "params.json"
    try:
        res = run(graph, params, a.prompt, a.frames, a.threads, a.repeats, a.bandwidth_gbs, a.profile_ops,
                  log=lambda m: print(m, file=sys.stderr, flush=True), config=config, ref_gbs=a.ref_gbs)
    finally:
        if tmp_params:
            os.unlink(tmp_params.name)
    res["machine"] = machine.machine_info()
    s = res["step_ms"]
    print(f"{graph}: {res['graph_mb']:.0f} MiB, {a.threads} threads {config or ''}: step p50 {s['p50']:.1f} ms (p95 {s['p95']:.1f}), "
          f"CPU {res['step_cpu_ms']['p50']:.1f} ms, prefill {a.prompt} tok {res['prefill_ms']['p50']:.0f} ms; floor {res['floor_ms']:.1f} ms at "
          f"{res['bandwidth_gbs']:.1f} GB/s -> {100 * res['fraction']:.1f} % of roofline ({100 * res['fraction_at_ref']:.1f} % at {a.ref_gbs:g} GB/s); peak RSS "
          f"{res['memory']['peak_rss_mb']:.0f} MiB; load {res['loadavg']}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

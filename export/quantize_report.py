"""Measure every precision variant of the flow and codec graphs against FP32 on one checkpoint.

    python -m vox_edge.export.quantize_report CHECKPOINT WORKDIR [--variants fp16,int8,...] [--frames 60]

Per variant: file size, build time, code agreement of the Euler loop (vs FP32 ORT, which equals the
PyTorch reference), codec waveform distance, and median ORT CPU ms per call for flow_velocity (B=2)
and codec_decoder (T=27). Timings use 2 intra-op threads on whatever else the machine is doing;
they are taken in interleaved rounds after all builds, and the 1-minute load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from vox_edge.quantize.agreement import FlowGraphs, code_agreement, euler_codes, median_ms, session, wave_distance
from vox_edge.quantize.plan import plan_for, quantize_graph

GRAPHS = ("flow_condition", "flow_time", "flow_velocity", "codec_decoder")
DEFAULT_VARIANTS = ("fp32", "fp16", "int8", "int8-convfp32", "int8-pt", "int8-static", "int8-static-pt", "int4",
                    "int4-b128", "int4-acc0")
CODEC_T = 27  # 25 context + 2 new frames: the runtime's first streaming call after warm-up


def unit_rms_hiddens(ckpt, n: int, seed: int) -> np.ndarray:
    """[n,D] hiddens shaped like the backbone's final RMSNorm output (unit RMS times norm.weight)."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, ckpt.config.dim)).astype(np.float32)
    h /= np.sqrt((h ** 2).mean(-1, keepdims=True))
    return (h * ckpt.tensor("norm.weight").numpy()).astype(np.float32)


def folder_bytes(folder: Path, name: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(f"{name}.onnx*"))


def measure(ckpt, work: Path, variants=DEFAULT_VARIANTS, frames: int = 60, repeat: int = 30, seed: int = 1,
            rounds: int = 3, reuse: bool = False, progress=print) -> dict:
    from .calibrate import collect_calibration
    from .torch_graphs import export_component_graphs

    cfg = ckpt.config
    work = Path(work)
    fp32_dir = work / "fp32"
    if not (fp32_dir / "codec_decoder.onnx").exists():
        export_component_graphs(ckpt, fp32_dir, {"acoustic": "fp32", "codec": "fp32"}, progress=progress)
    cal = None
    hiddens = unit_rms_hiddens(ckpt, frames, seed)
    noise = np.random.default_rng(seed + 1).standard_normal((frames, cfg.n_acoustic_codebook)).astype(np.float32)
    n_steps, levels = cfg.acoustic.n_decoding_steps, cfg.acoustic_codebook_size
    ref_codes = euler_codes(FlowGraphs.load(fp32_dir), hiddens, noise, n_steps, levels)
    codec_codes = (ref_codes[None] - 2).astype(np.int64)  # [1,F,1+A] -2 space; FP32 codes
    ref_wave = session(fp32_dir / "codec_decoder.onnx").run(None, {"codes": codec_codes})[0]
    rng = np.random.default_rng(seed + 2)
    feed_v = {"x_t": rng.standard_normal((2, cfg.n_acoustic_codebook)).astype(np.float32),
              "time_cond": rng.standard_normal((2, cfg.dim)).astype(np.float32),
              "llm_cond": rng.standard_normal((2, cfg.dim)).astype(np.float32)}
    feed_c = {"codes": np.tile(codec_codes, (1, -(-CODEC_T // frames), 1))[:, :CODEC_T]}

    rows = {}
    for v in variants:
        vdir = work / v
        vdir.mkdir(parents=True, exist_ok=True)
        row: dict = {"variant": v, "build_s": {}, "bytes": {}}
        for g in GRAPHS:
            comp = "codec" if g == "codec_decoder" else "acoustic"
            spec = v + "-force" if (comp == "codec" and v.startswith("int4")) else v
            plan = plan_for(comp, spec, graph=g)
            if not (reuse and (vdir / f"{g}.onnx").exists()):
                if plan.needs_calibration and cal is None:
                    cal = collect_calibration(ckpt, progress=progress)
                t0 = time.perf_counter()
                quantize_graph(fp32_dir / f"{g}.onnx", vdir / f"{g}.onnx", plan, cal.feeds(g) if plan.needs_calibration else None)
                row["build_s"][g] = round(time.perf_counter() - t0, 2)
            row["bytes"][g] = folder_bytes(vdir, g)
        flow = FlowGraphs.load(vdir)
        codes = euler_codes(flow, hiddens, noise, n_steps, levels)
        agree = code_agreement(ref_codes, codes)
        codec = session(vdir / "codec_decoder.onnx")
        dist = wave_distance(ref_wave, codec.run(None, {"codes": codec_codes})[0])
        row.update(codes=agree.__dict__, codec=dist.__dict__)
        progress(f"[report] {v:>16}: {agree}; codec {dist}")
        rows[v] = row
    # Timing last, in interleaved rounds: contention from other jobs then hits every variant alike.
    loads = [os.getloadavg()[0]]
    samples: dict[str, dict[str, list[float]]] = {v: {"flow_velocity_ms": [], "codec_decoder_ms": []} for v in variants}
    for _ in range(rounds):
        for v in variants:
            sv, sc = session(work / v / "flow_velocity.onnx"), session(work / v / "codec_decoder.onnx")
            samples[v]["flow_velocity_ms"].append(median_ms(sv, feed_v, repeat))
            samples[v]["codec_decoder_ms"].append(median_ms(sc, feed_c, max(5, repeat // 3)))
        loads.append(os.getloadavg()[0])
    for v in variants:
        for k, xs in samples[v].items():
            rows[v][k] = float(np.median(xs))
            rows[v][k + "_rounds"] = xs
        progress(f"[report] {v:>16}: velocity B=2 {rows[v]['flow_velocity_ms']:.3f} ms, "
                 f"codec T={CODEC_T} {rows[v]['codec_decoder_ms']:.2f} ms")
    return {"checkpoint": str(ckpt.path), "frames": frames, "load_avg_1min": loads, "rows": rows}


def main(argv=None) -> int:
    from .checkpoint import Checkpoint

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("work")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=30, help="calls per timing sample (median taken)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds over all variants (median taken)")
    ap.add_argument("--reuse", action="store_true", help="keep variant graphs already in WORK (timing re-runs)")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args(argv)
    res = measure(Checkpoint.open(a.checkpoint), Path(a.work), a.variants.split(","), a.frames, a.repeat,
                  rounds=a.rounds, reuse=a.reuse)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

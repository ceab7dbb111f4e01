"""Compare precisions, flow steps and thread counts on synthetic checkpoints; append the table to RESULTS.md.

    python -m vox_edge.benchmarks.compare --scale tiny  [--repeats 3] [--utterances 6] [--max-frames 30]
    python -m vox_edge.benchmarks.compare --scale small --sweeps precision,steps,threads

Builds (once, cached under --work) a synthetic checkpoint of the scale and one bundle per precision spec,
then runs `vox-edge bench` in a fresh process per variant and repeat (clean peak RSS, no state carried
over), and reports the median of the repeats with the load average next to every row. This script uses
the exporter, hence torch; it imports it inside functions so `import vox_edge.benchmarks.compare` stays
torch-free like the rest of the package. Full-size numbers come from `full_size.py` (the 4B bundles are
exported by whoever owns the export; this script never builds one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from . import machine, results_md
from .bandwidth import measure_in_subprocess

# name -> (precision, per-component overrides). "mix" = the 4B roofline profile's split.
PRECISION_VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "fp32": ("fp32", {}),
    "fp16": ("fp16", {}),
    "int8": ("int8", {}),
    "int4": ("int4", {}),  # the exporter keeps the codec (and the semantic head) at int8: 4-bit breaks them
    "int8/int8/fp32": ("int8", {"codec": "fp32"}),  # dev-vm-2core-x86's split
    "mix": ("int4", {"acoustic": "int8", "codec": "fp32"}),  # dev-vm-2core-x86-voxtral-4b's split
    "mix-b128": ("int4-b128", {"acoustic": "int8", "codec": "fp32"}),
}
BASE = "mix"  # the variant the step and thread sweeps vary
RESULTS = Path(__file__).with_name("RESULTS.md")


def checkpoint(work: Path, scale: str) -> Path:
    from vox_edge.export.synthetic import make_checkpoint

    out = work / f"ckpt_{scale}"
    if not (out / "params.json").is_file():
        make_checkpoint(out, scale=scale, seed=0, end_logit_scale=0.0)
    return out


def bundle(work: Path, ckpt: Path, scale: str, name: str, log) -> Path | None:
    """The bundle of variant `name`, exported once; None (and a log line) if the export fails."""
    from vox_edge.errors import VoxEdgeError
    from vox_edge.export.bundle import export_bundle

    out = work / f"{scale}_{name.replace('/', '-')}"
    if (out / "manifest.json").is_file():
        return out
    precision, per = PRECISION_VARIANTS[name]
    log(f"exporting {out.name} ({precision}, {per})")
    try:
        export_bundle(ckpt, out, precision=precision, per_component=per, progress=lambda m: None)
    except (VoxEdgeError, ValueError, RuntimeError) as e:
        log(f"export of {name} failed: {e}")
        return None
    return out


def bench_once(b: Path, out_json: Path, threads: int, steps: int, args: argparse.Namespace, gbs: float) -> dict:
    cmd = [sys.executable, "-m", "vox_edge.cli", "bench", os.fspath(b), "--profile", args.profile,
           "--utterances", str(args.utterances), "--warmup", str(args.warmup), "--max-frames", str(args.max_frames),
           "--threads", str(threads), "--flow-steps", str(steps), "--bandwidth-gbs", f"{gbs:.3f}",
           "--json", os.fspath(out_json), "--no-targets", "-q"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"bench failed for {b.name}: {r.stderr.strip()[-800:]}")
    return json.loads(out_json.read_text())


def aggregate(runs: list[dict]) -> dict:
    """Medians over repeats of the numbers a row shows."""
    def med(f):
        vals = [f(r) for r in runs]
        vals = [v for v in vals if v is not None]
        return float(np.median(vals)) if vals else None

    r0 = runs[0]
    p = r0["bundle"]["precision_per_graph"]  # effective (the exporter may fall back, e.g. an int4 codec -> int8)
    pct = lambda x: None if x is None else 100 * x  # noqa: E731
    return {
        "precision": " / ".join(str(p.get(g, "?")) for g in ("backbone", "flow_velocity", "codec_decoder")),
        "threads": r0["profile"]["intra_op_threads"], "flow_steps": r0["profile"]["flow_steps"],
        "rtf": med(lambda r: r["rtf"]["aggregate"]),
        "ttfa_p50": med(lambda r: r["ttfa_ms"]["p50"]), "ttfa_p95": med(lambda r: r["ttfa_ms"]["p95"]),
        "prefill_ms": med(lambda r: r["stages_ms"]["backbone_prefill"]["p50"]),
        "bb_step_ms": med(lambda r: r["stages_ms"]["backbone_step"]["p50"]),
        "flow_step_ms": med(lambda r: r["stages_ms"]["flow_step"]["p50"]),
        "codec_chunk_ms": med(lambda r: r["stages_ms"]["codec_chunk"]["p50"] or r["stages_ms"]["codec_first_chunk"]["p50"]),
        "frame_ms": med(lambda r: r["roofline"]["frame_ms_wall"]),
        "floor_ms": med(lambda r: r["roofline"]["floor_ms_per_frame"]),
        "roofline_pct": med(lambda r: pct(r["roofline"]["fraction_wall"])),
        "bb_roofline_pct": med(lambda r: pct(r["roofline"]["backbone_fraction"])),
        "peak_rss_mb": med(lambda r: r["memory"]["peak_rss_mb"]),
        "loads": [r["loadavg"]["start"] for r in runs],
        "repeats": len(runs),
    }


def variants(sweeps: list[str], profile_steps: int, profile_threads: int) -> list[tuple[str, str, int, int]]:
    """(row label, precision variant, threads, steps), de-duplicated, in table order."""
    out: list[tuple[str, str, int, int]] = []
    if "precision" in sweeps:
        out += [(name, name, profile_threads, profile_steps) for name in PRECISION_VARIANTS]
    if "steps" in sweeps:
        out += [(f"{BASE}, NFE {s}", BASE, profile_threads, s) for s in (3, 5, 7)]
    if "threads" in sweeps:
        out += [(f"{BASE}, {t} thr", BASE, t, profile_steps) for t in (1, 2)]
    seen, uniq = set(), []
    for v in out:
        if v[1:] not in seen:
            seen.add(v[1:])
            uniq.append(v)
    return uniq


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.compare", description=__doc__.splitlines()[0])
    p.add_argument("--scale", choices=["tiny", "small"], default="tiny")
    p.add_argument("--sweeps", default="precision,steps,threads")
    p.add_argument("--profile", default="dev-vm-2core-x86")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--utterances", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--max-frames", type=int, default=30)
    p.add_argument("--work", type=Path, default=Path("/tmp/vox_bench"))
    p.add_argument("--out", type=Path, default=RESULTS, help="markdown file to append to (default benchmarks/RESULTS.md)")
    a = p.parse_args(argv)

    def log(m: str) -> None:
        print(f"compare: {m}", file=sys.stderr, flush=True)

    from vox_edge.device_profiles import load_profile

    prof = load_profile(a.profile)
    a.work.mkdir(parents=True, exist_ok=True)
    ckpt = checkpoint(a.work, a.scale)
    log(f"measuring bandwidth (load {machine.loadavg()})")
    band = measure_in_subprocess(1024, ort_formats=("fp32", "int8", "int4"), threads=prof.runtime.intra_op_threads)
    rows, raw = [], {}
    for label, name, threads, steps in variants(a.sweeps.split(","), prof.runtime.flow_steps,
                                               prof.runtime.intra_op_threads):
        b = bundle(a.work, ckpt, a.scale, name, log)
        if b is None:
            rows.append(f"| {label} | export failed | {threads} | {steps} |" + " – |" * 12)
            continue
        runs = []
        for i in range(a.repeats):
            runs.append(bench_once(b, a.work / f"{a.scale}_{name.replace('/', '-')}_t{threads}_s{steps}_{i}.json", threads, steps, a,
                                   band["gbs"]))
        agg = aggregate(runs)
        raw[label] = agg
        log(f"{label}: RTF {agg['rtf']:.3f}, TTFA {agg['ttfa_p50']:.1f} ms, frame {agg['frame_ms']:.2f} ms "
            f"(load {[l[0] for l in agg['loads']]})")
        rows.append(results_md.sweep_row(label, agg))
    m = machine.machine_info()
    intro = (f"`python -m vox_edge.benchmarks.compare --scale {a.scale}`: synthetic `{a.scale}` checkpoint, profile "
             f"`{a.profile}`, {a.utterances} corpus utterances × {a.max_frames} frames after {a.warmup} warm-up, "
             f"median of {a.repeats} fresh-process repeats. TTFA with the voice prefix cached. `frame ms` = wall time "
             f"per frame outside prefill; `floor` = bytes streamed per frame / measured bandwidth; `roofline %` = "
             f"floor / frame ms; `bb roofline %` = the backbone step alone. `load` = 1-min load average at the "
             f"start of each repeat (2 cores, shared).")
    results_md.append(a.out, results_md.sweep_section(f"{a.scale} checkpoint: precision / flow steps / threads",
                                                      intro, m, band, rows))
    (a.work / f"compare_{a.scale}.json").write_text(json.dumps({"machine": m, "bandwidth": band, "rows": raw}, indent=1))
    log(f"appended {len(rows)} rows to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Full-size (4B) measurements for RESULTS.md: backbone per-frame ms vs the roofline, and where the time goes.

    python -m vox_edge.benchmarks.full_size --backbone int8=/tmp/bb/full/int8 --backbone int4=/tmp/bb/full/int4 \
        --params /tmp/vox_full/params.json [--bundle /tmp/bb/full/bundle_int4] [--frames 20] [--repeats 3]

For each backbone graph: a fresh process runs `backbone_bench` (prefill of a short prompt, then a fixed
number of frames, medians over repeats, ORT per-op profile of the steps). For each complete full-size
bundle given with --bundle: `vox-edge bench` with the 4B device profile (TTFA with the voice prefix cached,
RTF, per-stage ms). The measured bandwidth is probed once, before any model is loaded. Exports nothing:
the 4B bundles are built by the export owner (8 GB checkpoint, RAM-heavy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from . import machine, results_md
from .bandwidth import measure_in_subprocess
from .results_md import _f

PROFILE_4B = "dev-vm-2core-x86-voxtral-4b"


def backbone_run(name: str, graph: Path, params: Path, a: argparse.Namespace, gbs: float, work: Path) -> dict:
    out = work / f"full_backbone_{name}{a.tag}.json"
    cmd = [sys.executable, "-m", "vox_edge.benchmarks.backbone_bench", os.fspath(graph), "--params", os.fspath(params),
           "--prompt", str(a.prompt), "--frames", str(a.frames), "--threads", str(a.threads), "--repeats",
           str(a.repeats), "--bandwidth-gbs", f"{gbs:.3f}", "--profile-ops", "--json", os.fspath(out)]
    for kv in a.config:
        cmd += ["--config", kv]
    r = subprocess.run(cmd, text=True, capture_output=True, timeout=3600)
    sys.stderr.write(r.stderr[-3000:])
    if r.returncode != 0:
        raise RuntimeError(f"backbone bench {name} failed: {r.stderr.strip()[-800:]}")
    print(r.stdout.strip())
    return json.loads(out.read_text())


def bundle_run(b: Path, a: argparse.Namespace, gbs: float, work: Path) -> dict:
    out = work / f"full_bench_{b.name}{a.tag}.json"
    cmd = [sys.executable, "-m", "vox_edge.cli", "bench", os.fspath(b), "--profile", PROFILE_4B, "--utterances",
           str(a.utterances), "--warmup", "1", "--max-frames", str(a.frames), "--bandwidth-gbs", f"{gbs:.3f}",
           "--json", os.fspath(out), "--png", os.fspath(work / f"full_bench_{b.name}{a.tag}.png"), "-q"]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    r = subprocess.run(cmd, text=True, capture_output=True, timeout=3600)
    print(r.stdout)
    if not out.is_file():
        raise RuntimeError(f"bench of {b} failed: {r.stderr.strip()[-800:]}")
    return json.loads(out.read_text())


def backbone_rows(results: dict[str, dict]) -> list[str]:
    rows = ["| backbone | graph MiB | threads | step ms p50 (p95) | CPU ms/step p50 | repeat medians ms | prefill ms (tokens) | "
            "KV MiB read/step | floor ms | roofline % (at 28 GB/s) | matmul kernels GB/s | peak RSS MiB | load (start → end) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        s = r["step_ms"]
        mm = r.get("op_profile", {}).get("matmul_weight_gbs")
        rows.append(
            f"| {name} | {r['graph_mb']:.0f} | {r['threads']} | {s['p50']:.1f} ({s['p95']:.1f}) | "
            f"{_f(r.get('step_cpu_ms', {}).get('p50'), '.1f')} | "
            f"{', '.join(f'{x:.1f}' for x in r['step_ms_repeat_medians'])} | {r['prefill_ms']['p50']:.0f} ({r['prompt']}) | "
            f"{r['kv_bytes_per_step'] / 2**20:.1f} | {r['floor_ms']:.1f} | {100 * r['fraction']:.1f} ({100 * r['fraction_at_ref']:.1f}) | {_f(mm, '.1f')} | "
            f"{r['memory']['peak_rss_mb']:.0f} | {r['loadavg']['start'][0]:.1f} → {r['loadavg']['end'][0]:.1f} |")
    return rows


def op_rows(results: dict[str, dict], top: int = 8) -> list[str]:
    out = []
    for name, r in results.items():
        prof = r.get("op_profile")
        if not prof:
            continue
        out += [f"Per-op profile, {name} backbone ({prof['runs']} profiled steps, {prof['run_us'] / 1e3:.1f} ms/step "
                f"with profiling on):", "", "| op type | ms/step | share of kernel time | calls/step |",
                "|---|---|---|---|"]
        for op, o in list(prof["ops"].items())[:top]:
            out.append(f"| {op} | {o['us_per_run'] / 1e3:.2f} | {100 * o['share_of_kernels']:.1f} % | "
                       f"{o['calls_per_run']:.0f} |")
        out.append("")
    return out


def bundle_rows(results: dict[str, dict]) -> list[str]:
    rows = ["| bundle | backbone / flow / codec | thr | NFE | RTF | TTFA p50 / p95 ms | prefill ms | bb step ms | flow step ms | "
            "codec chunk ms | frame ms (wall) | CPU RTF | floor ms | roofline % (at profile BW) | peak RSS MiB | "
            "model load s | load avg |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        st, ro = r["stages_ms"], r["roofline"]
        p = r["bundle"]["precision_per_graph"]
        rows.append(
            f"| {name} | {' / '.join(str(p.get(g)) for g in ('backbone', 'flow_velocity', 'codec_decoder'))} | "
            f"{r['profile']['intra_op_threads']} | {r['profile']['flow_steps']} | {_f(r['rtf']['aggregate'], '.2f')} | "
            f"{_f(r['ttfa_ms']['p50'], '.0f')} / {_f(r['ttfa_ms']['p95'], '.0f')} | "
            f"{_f(st['backbone_prefill']['p50'], '.0f')} | {_f(st['backbone_step']['p50'], '.1f')} | "
            f"{_f(st['flow_step']['p50'], '.1f')} | {_f(st['codec_chunk']['p50'] or st['codec_first_chunk']['p50'], '.0f')} | "
            f"{_f(ro['frame_ms_wall'], '.1f')} | {_f(r['rtf'].get('cpu_aggregate'), '.2f')} | "
            f"{_f(ro['floor_ms_per_frame'], '.1f')} | "
            f"{_f(100 * ro['fraction_wall'] if ro['fraction_wall'] else None, '.1f')} "
            f"({_f(100 * ro['profile']['fraction_wall'] if ro['profile']['fraction_wall'] else None, '.1f')}) | "
            f"{r['memory']['peak_rss_mb']:.0f} | {r['load_s']:.1f} | {r['loadavg']['start'][0]:.1f} → "
            f"{r['loadavg']['end_of_measurement'][0]:.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.full_size", description=__doc__.splitlines()[0])
    p.add_argument("--backbone", action="append", default=[], metavar="NAME=DIR", help="a backbone graph dir (repeatable)")
    p.add_argument("--params", type=Path, default=Path("/tmp/vox_full/params.json"))
    p.add_argument("--bundle", action="append", default=[], type=Path, help="a complete full-size bundle (repeatable)")
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--utterances", type=int, default=3)
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="ORT session config entry for the backbone runs, e.g. session.intra_op.allow_spinning=0")
    p.add_argument("--tag", default="", help="suffix for the section title and the JSON file names")
    p.add_argument("--work", type=Path, default=Path("/tmp/vox_bench"))
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    p.add_argument("--render", type=Path, metavar="full_size.json", help="only re-render a saved run's section")
    a = p.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)

    if a.render:  # re-render a saved run (e.g. after a table layout change)
        saved = json.loads(a.render.read_text())
        results_md.append(a.out, section(a, saved["machine"], saved["bandwidth"], saved["backbones"], saved["bundles"]))
        return 0
    band = measure_in_subprocess(1024, ort_formats=("fp32", "int8", "int4"), threads=a.threads)
    ort_rates = ", ".join(f"{k} {v['gbs']:.1f}" for k, v in band["ort"].items())
    print(f"bandwidth {band['gbs']:.1f} GB/s (ORT: {ort_rates})")
    bb = {}
    for spec in a.backbone:
        name, _, d = spec.partition("=")
        bb[name] = backbone_run(name, Path(d), a.params, a, band["gbs"], a.work)
    full = {b.name: bundle_run(b, a, band["gbs"], a.work) for b in a.bundle}
    m = machine.machine_info()
    results_md.append(a.out, section(a, m, band, bb, full))
    (a.work / f"full_size{a.tag}.json").write_text(json.dumps({"machine": m, "bandwidth": band, "backbones": bb,
                                                               "bundles": full}, indent=1, default=str))
    print(f"appended to {a.out}")
    return 0


def section(a: argparse.Namespace, m: dict, band: dict, bb: dict, full: dict) -> str:
    cfg = f", ORT config {' '.join(a.config)}" if a.config else ""
    text = [f"## Full-size Voxtral-4B, {a.threads} thread(s){cfg} ({a.frames} frames after a {a.prompt}-token prompt)", "",
            f"Date: {m['date']}. " + results_md.machine_line(m, band), ""]
    if bb:
        text += [f"`python -m vox_edge.benchmarks.full_size` → `backbone_bench`: the backbone graph alone, "
                 f"{a.threads} threads, {a.repeats} repeats of prefill + {a.frames} steps in one fresh process per "
                 f"graph (after 3 warm-up steps). floor = (graph bytes + KV bytes read per step) / measured bandwidth; "
                 "roofline % = floor / step p50. matmul-kernel GB/s = graph bytes / time in the matrix-multiply "
                 "kernels per step (from the ORT profile).", "", *backbone_rows(bb), "", *op_rows(bb)]
    if full:
        text += [f"`vox-edge bench` on complete bundles, profile `{PROFILE_4B}`, {a.utterances} utterances × "
                 f"{a.frames} frames, voice prefix cached:", "", *bundle_rows(full), ""]
    return "\n".join(text)


if __name__ == "__main__":
    sys.exit(main())

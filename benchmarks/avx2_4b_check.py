"""The check of the full-size 4B on a 2-core AVX2 machine (AVX2-only, no AVX-512 / VNNI), in one go, for a quiet window.

    python -m vox_edge.benchmarks.avx2_4b_check [--work /tmp/vox_avx2_4b] [--baseline]

1. a synthetic full-size checkpoint (`vox-edge make-checkpoint WORK/ckpt_full --scale full`, as the README; kept
   and reused when it is there),
2. `vox-edge export CKPT WORK/bundle --profile dev-vm-2core-x86-voxtral-4b` (the profile's kernels for its ISA),
3. the stream rate of a menu of candidate kernels at the bench's thread count (`bandwidth --ort ...`: int4 block
   32 / 64 / 128 and int8, 1 row = a backbone step, 2 rows = the CFG pair, 6 rows = a flow step's MatMuls: the CFG
   pair x the velocity net's 3 tokens, runner.FLOW_STEP_ROWS),
4. `vox-edge bench BUNDLE --profile ... --threads 2 -n 3 --max-frames 16` at NFE 3 and 7; before each measurement
   (3 and 4) it waits up to --settle seconds for the load of its own export and earlier runs to decay to the load
   read before it started (the 1-minute load average counts a finished 2-thread export for minutes;
   runner.wait_settled), and records how long it waited,
5. a summary: per-stage achieved GB/s (backbone step, flow per Euler step, codec per frame), frame ms, TTFA p50, the
   load before each run, and its acceptance lines (flow and codec >= 75 % of the backbone's GB/s, frame
   <= 170 / 230 ms at NFE 3 / 7, TTFA p50 <= 700 ms at NFE 3). A run that was not quiet says so: its numbers are
   no acceptance numbers.

--prefill8 exports the profile bundle with an INT8 prompt graph beside its backbone (backbone spec option prefill8,
manifest backbone_prefill: ~2.9 GB more at full size) and benches NFE 3 a second time with `--no-prefill-graph`,
so the prompt graph's TTFA gain and its memory are measured side by side on this class.

--baseline also exports and benches the README's earlier 4B recipe (`--precision int4 --component-precision
backbone=int4-gqa-shared codec=fp32`), the starting point, for a side-by-side. The full-size export needs
~5.5 GB RSS and minutes of both cores; nothing else should run. --scale tiny checks the script end to end in
seconds. Everything lands in WORK (JSON per run, avx2_4b_check.json, summary.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from . import machine
from .runner import load_check, wait_settled

PROFILE = "dev-vm-2core-x86-voxtral-4b"
BASELINE_SPECS = ["--precision", "int4", "--component-precision", "backbone=int4-gqa-shared", "codec=fp32"]
KERNEL_MENU = ("int4", "int4-b64-acc4", "int4-b128-acc4", "int8", "int4-m2", "int4-b64-acc4-m2",
               "int4-b128-acc4-m2", "int8-m2", "int4-m6", "int4-b128-acc4-m6", "int8-m6", "fp32")
# acceptance (this machine class, 2 threads, quiet)
MIN_OF_BACKBONE = 0.75
MAX_FRAME_MS = {3: 170.0, 7: 230.0}
MAX_TTFA_P50_MS = {3: 700.0}


def _run(cmd: list[str], what: str, log_path: Path | None = None) -> float:
    """Run a child (output streamed, or into `log_path`), fail loudly; returns its wall seconds."""
    print(f"\n== {what}: {' '.join(cmd)}", flush=True)
    t = time.perf_counter()
    if log_path is None:
        r = subprocess.run(cmd)
    else:
        with open(log_path, "w", encoding="utf-8") as f:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"== {what}: exit {r.returncode} in {dt:.0f} s (largest child peak RSS so far {peak:.0f} MiB)", flush=True)
    if r.returncode != 0:
        tail = log_path.read_text(encoding="utf-8")[-2000:] if log_path else ""
        raise SystemExit(f"{what} failed (exit {r.returncode}){': ' + tail if tail else ''}")
    return dt


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "vox_edge.cli", *args]


def summarize(name: str, r: dict) -> dict:
    """The numbers the acceptance lines need, from one `vox-edge bench --json` result."""
    nfe = r["profile"]["flow_steps"]
    sg = r.get("stage_gbs", {})
    load = r["loadavg"]
    row = {
        "bundle": name, "nfe": nfe, "threads": r["profile"]["intra_op_threads"],
        "precisions": r["bundle"].get("precisions"),
        "backbone_gbs": sg.get("backbone_step", {}).get("gbs"),
        "flow_step_gbs": sg.get("flow_step", {}).get("gbs"),
        "flow_of_backbone": sg.get("flow_step", {}).get("of_backbone"),
        "codec_gbs": sg.get("codec", {}).get("gbs"),
        "codec_of_backbone": sg.get("codec", {}).get("of_backbone"),
        "backbone_step_ms": r["stages_ms"]["backbone_step"]["p50"],
        "flow_step_ms": r["stages_ms"]["flow_step"]["p50"],
        "codec_ms_per_frame": r["per_frame_ms"].get("codec"),
        "frame_ms": r["per_frame_ms"]["wall_excl_prefill"],
        "ttfa_p50_ms": r["ttfa_ms"]["p50"], "prefill_p50_ms": r["stages_ms"]["backbone_prefill"]["p50"],
        "rtf": r["rtf"]["aggregate"], "floor_gbs": r["bandwidth"].get("gbs"),
        "floor_source": r["bandwidth"].get("floor_source") or r["bandwidth"].get("source"),
        "load_start": (load.get("start") or [None])[0], "load_end": (load.get("end_of_measurement") or [None])[0],
        "quiet": load.get("quiet"), "peak_rss_mb": r["memory"]["peak_rss_mb"],
    }
    checks = {"flow >= 75 % of backbone GB/s": _ge(row["flow_of_backbone"], MIN_OF_BACKBONE),
              "codec >= 75 % of backbone GB/s": _ge(row["codec_of_backbone"], MIN_OF_BACKBONE)}
    if nfe in MAX_FRAME_MS:
        checks[f"frame <= {MAX_FRAME_MS[nfe]:.0f} ms"] = _ge(MAX_FRAME_MS[nfe], row["frame_ms"])
    if nfe in MAX_TTFA_P50_MS:
        checks[f"TTFA p50 <= {MAX_TTFA_P50_MS[nfe]:.0f} ms"] = _ge(MAX_TTFA_P50_MS[nfe], row["ttfa_p50_ms"])
    row["acceptance"] = checks
    return row


def _ge(a, b) -> bool | None:
    return None if a is None or b is None else a >= b


def _f(v, spec: str = ".1f") -> str:
    return "–" if v is None else format(v, spec)


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def table(rows: list[dict]) -> str:
    out = ["| bundle | NFE | backbone GB/s | flow step GB/s (of bb) | codec GB/s (of bb) | bb step ms | flow step ms | "
           "codec ms/frame | frame ms | TTFA p50 ms | prefill ms | RTF | floor GB/s | peak RSS MiB | load start → end | quiet |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in rows:
        out.append(f"| {w['bundle']} | {w['nfe']} | {_f(w['backbone_gbs'])} | {_f(w['flow_step_gbs'])} "
                   f"({_pct(w['flow_of_backbone'])}) | {_f(w['codec_gbs'])} ({_pct(w['codec_of_backbone'])}) | "
                   f"{_f(w['backbone_step_ms'])} | {_f(w['flow_step_ms'])} | {_f(w['codec_ms_per_frame'])} | "
                   f"{_f(w['frame_ms'])} | {_f(w['ttfa_p50_ms'], '.0f')} | {_f(w['prefill_p50_ms'], '.0f')} | "
                   f"{_f(w['rtf'], '.2f')} | {_f(w['floor_gbs'])} | {_f(w['peak_rss_mb'], '.0f')} | "
                   f"{_f(w['load_start'], '.2f')} → "
                   f"{_f(w['load_end'], '.2f')} | {'yes' if w['quiet'] else 'NO'} |")
    out.append("")
    for w in rows:
        verdicts = ", ".join(f"{k}: {'ok' if v else 'FAIL' if v is False else '–'}" for k, v in w["acceptance"].items())
        out.append(f"- {w['bundle']} NFE {w['nfe']}: {verdicts}"
                   + ("" if w["quiet"] else " (NOT QUIET: no acceptance number)"))
    return "\n".join(out)


def kernel_table(band: dict) -> str:
    out = [f"Kernel stream rates at {band.get('threads')} thread(s) (numpy read {band['numpy']['best_gbs']:.1f} GB/s, "
           f"load {band['loadavg'][0]:.2f} → {band['loadavg_after'][0]:.2f}):", "",
           "| kernel | rows | GB/s median (best) | ms per 1e9 weights |", "|---|---|---|---|"]
    for key, o in band["ort"].items():
        params = o["matrices"] * o["k"] * o["k"]
        out.append(f"| {key} | {o['rows']} | {o['gbs']:.1f} ({o['best_gbs']:.1f}) | {o['median_ms'] / params * 1e9:.1f} |")
    return "\n".join(out)


def _profile_backbone(profile: str, isa: str | None) -> str:
    """The backbone spec `vox-edge export --profile` picks for `isa` (None: the profile's; 'host'; or a list)."""
    from vox_edge.device_profiles import choose, host_isa, load_profile

    prof = load_profile(profile)
    if isa is None:
        feats = prof.hardware.isa
    elif isa == "host":
        feats = host_isa(prof.hardware.arch)
    else:
        feats = tuple(x.strip() for x in isa.split(",") if x.strip())
    return choose(prof.model, feats).backbone


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.avx2_4b_check", description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/vox_avx2_4b"))
    p.add_argument("--checkpoint", type=Path, help="an existing checkpoint (default: WORK/ckpt_SCALE, made if missing)")
    p.add_argument("--scale", choices=["tiny", "small", "full"], default="full",
                   help="synthetic checkpoint scale (full = the acceptance; tiny = a seconds-long end-to-end check)")
    p.add_argument("--profile", default=PROFILE)
    p.add_argument("--isa", help="passed to export --isa (default: the profile's hardware.isa)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--utterances", "-n", type=int, default=3)
    p.add_argument("--max-frames", type=int, default=16)
    p.add_argument("--nfe", type=int, nargs="+", default=[3, 7])
    p.add_argument("--kernel-menu", action=argparse.BooleanOptionalAction, default=True,
                   help="probe the candidate kernels' stream rates first (~2 min)")
    p.add_argument("--kernel-mb", type=int, default=256, help="weight MiB per kernel chain (menu and bench)")
    p.add_argument("--bandwidth-mb", type=int, default=1024, help="numpy read probe MiB (menu and bench)")
    p.add_argument("--baseline", action="store_true", help="also the README's earlier recipe (the starting point)")
    p.add_argument("--reexport", action="store_true", help="export again even if WORK/bundle exists")
    p.add_argument("--prefill8", action="store_true",
                   help="the profile bundle with an INT8 prompt graph (backbone_prefill), benched with and without it")
    p.add_argument("--settle", type=float, default=300.0, metavar="SECONDS",
                   help="before each measurement, wait up to SECONDS for the load of this script's own export and "
                        "earlier runs to decay (runner.wait_settled; default 300, 0 = do not wait)")
    a = p.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    load = load_check(machine.loadavg())
    print(f"machine: {machine.cpu_model()}, flags {', '.join(machine.cpu_flags())}; load {load['start']} "
          f"({'quiet' if load['quiet'] else 'NOT QUIET: ' + str(load['warning'])})", flush=True)

    background = load["start"]  # the load before any of our own work: what settling returns to

    def settle(what: str) -> dict | None:
        if a.settle <= 0:
            return None
        r = wait_settled(background, a.settle, log=lambda m: print(f"== {what}: {m}", flush=True))
        if not r["settled"]:
            print(f"== {what}: the load did not settle in {a.settle:.0f} s ({r['load']}): measuring anyway, "
                  f"not quiet", flush=True)
        return r

    ckpt = a.checkpoint or a.work / f"ckpt_{a.scale}"
    if not (ckpt / "params.json").is_file():
        _run(_cli("make-checkpoint", os.fspath(ckpt), "--scale", a.scale), f"make-checkpoint ({a.scale})")
    bundles = {"profile": a.work / f"bundle_{a.scale}{'_prefill8' if a.prefill8 else ''}"}
    if a.baseline:
        bundles["readme-recipe"] = a.work / f"bundle_{a.scale}_readme_recipe"
    for name, b in bundles.items():
        if (b / "manifest.json").is_file() and not a.reexport:
            print(f"== export {name}: {b} exists, reused (--reexport to redo)")
            continue
        how = (["--profile", a.profile] + (["--isa", a.isa] if a.isa else [])) if name == "profile" else BASELINE_SPECS
        if name == "profile" and a.prefill8:
            how += ["--component-precision", f"backbone={_profile_backbone(a.profile, a.isa)}-prefill8"]
        _run(_cli("export", os.fspath(ckpt), os.fspath(b), *how), f"export {name}", a.work / f"export_{b.name}.log")

    band = None
    settles = {}
    if a.kernel_menu:
        settles["kernel menu"] = settle("kernel menu")
        out = a.work / "kernels.json"
        cmd = [sys.executable, "-m", "vox_edge.benchmarks.bandwidth", "--mb", str(a.bandwidth_mb), "--threads", str(a.threads),
               "--ort", ",".join(KERNEL_MENU), "--ort-mb", str(a.kernel_mb), "--json"]
        print(f"\n== kernel menu: {' '.join(cmd)}", flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"kernel probe failed: {r.stderr[-2000:]}")
        out.write_text(r.stdout, encoding="utf-8")
        band = json.loads(r.stdout)
        print(kernel_table(band), flush=True)

    rows = []
    runs = [(name, b, nfe, []) for name, b in bundles.items() for nfe in a.nfe]
    if a.prefill8:  # the same bundle without its prompt graph, at the first NFE: what the graph gains
        runs.insert(1, ("profile, no prefill graph", bundles["profile"], a.nfe[0], ["--no-prefill-graph"]))
    for name, b, nfe, extra in runs:
        out = a.work / f"bench_{b.name}{'_noprefill' if extra else ''}_nfe{nfe}.json"
        settles[f"bench {name} NFE {nfe}"] = settle(f"bench {name} NFE {nfe}")
        pre = load_check(machine.loadavg())
        if not pre["quiet"]:
            print(f"warning before bench {name} NFE {nfe}: {pre['warning']}", flush=True)
        _run(_cli("bench", os.fspath(b), "--profile", a.profile, "--threads", str(a.threads), "-n",
                  str(a.utterances), "--max-frames", str(a.max_frames), "--flow-steps", str(nfe), "--kernel-mb",
                  str(a.kernel_mb), "--bandwidth-mb", str(a.bandwidth_mb), "--json",
                  os.fspath(out), "--no-targets", "-q", *extra), f"bench {name} NFE {nfe}")
        rows.append(summarize(name, json.loads(out.read_text(encoding="utf-8"))))

    text = [f"# AVX2-class 4B check, {machine.cpu_model()} ({', '.join(machine.cpu_flags())}), "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"`python -m vox_edge.benchmarks.avx2_4b_check {' '.join(argv if argv is not None else sys.argv[1:])}`: "
            f"{a.scale} synthetic checkpoint, profile {a.profile}, {a.threads} thread(s), {a.utterances} utterances x "
            f"{a.max_frames} frames, voice prefix cached.", ""]
    text += [f"Load before this script's own work (1, 5, 15 min): {background}."]
    text += [f"- {k}: {'settled' if v['settled'] else 'NOT settled'} after {v['waited_s']:.0f} s at {v['load']}"
             for k, v in settles.items() if v]
    text.append("")
    if band:
        text += [kernel_table(band), ""]
    text.append(table(rows))
    summary = "\n".join(text)
    (a.work / "summary.md").write_text(summary + "\n", encoding="utf-8")
    record = {"rows": rows, "kernels": band, "background_load": background, "settle": settles}
    (a.work / "avx2_4b_check.json").write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    print("\n" + summary)
    print(f"\nwritten: {a.work / 'summary.md'}, {a.work / 'avx2_4b_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

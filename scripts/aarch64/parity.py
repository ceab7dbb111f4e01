"""Cross-architecture parity of the tiny bundles: x86 against aarch64 (run.sh runs it on both sides).

The parity ladder (tests/test_parity_ladder.py) compares each precision with the PyTorch reference on one machine;
this runs the same rungs on another CPU, where ONNX Runtime picks other kernels (NEON / dot-product on aarch64,
AVX2 / AVX-512 on x86), and puts both sides in one table. The rungs, their thresholds and the teacher-forced loop
are the ladder's own (imported from the test, so they have one home).

  prepare WORK   x86 with torch: tiny checkpoint, fp32 + int8 bundles, PyTorch reference (noise, codes, audio)
  run WORK SIDE  numpy + onnxruntime only: FP32 free-running with the reference's injected noise, INT8 teacher-forced
                 on the reference codes, the codec on the reference codes -> WORK/SIDE.json (+ SIDE.npz audio)
  compare WORK   both sides against the reference and each other: a Markdown table; exit 1 if a rung fails
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from runtime_fixtures import TEXT, test_profile  # noqa: E402
from test_parity_ladder import FRAMES, LADDER, _snr_db, _teacher_forced_codes  # noqa: E402

RUNGS = ("fp32", "int8", "int4")
SEED = 5  # the ladder's reference seed


def prepare(work: Path) -> None:
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.synthetic import make_checkpoint
    from runtime_fixtures import reference_run

    work.mkdir(parents=True, exist_ok=True)
    ckpt = make_checkpoint(work / "tiny", scale="tiny", seed=0, end_logit_scale=0.0)  # as tests/conftest.py
    for rung in RUNGS:
        export_bundle(ckpt, work / f"bundle-{rung}", precision=LADDER[rung][0], per_component=LADDER[rung][1],
                      progress=lambda m: None)
    ref = reference_run(Path(ckpt), FRAMES, seed=SEED)
    np.savez(work / "reference.npz", noise=ref["noise"], codes=ref["codes"], audio=ref["audio"])


def run(work: Path, side: str) -> None:
    import onnxruntime as ort

    from vox_edge.runtime import load

    ref = np.load(work / "reference.npz")
    out = {"side": side, "machine": platform.machine(), "onnxruntime": ort.__version__, "rungs": {}}
    audio = {}
    for rung in RUNGS:
        engine = load(work / f"bundle-{rung}", profile=test_profile(), verify="size")  # one thread, 7 flow steps
        if rung == "fp32":  # free-running: each frame's codes feed the next
            a = engine.synthesize(TEXT, voice="casual_male", normalize=False, noise=ref["noise"], max_frames=FRAMES)
            codes = np.concatenate(a.codes)
            audio[f"{rung}_free"] = a.samples
        else:
            codes = _teacher_forced_codes(engine, ref["codes"], ref["noise"])
        (wave,) = engine._codec_session.run(["audio"], {"codes": (ref["codes"] - 2)[None].astype(np.int64)})
        audio[f"{rung}_codec"] = wave[0]
        out["rungs"][rung] = {"codes": codes.tolist()}
    (work / f"{side}.json").write_text(json.dumps(out))
    np.savez(work / f"{side}.npz", **audio)
    print(f"{side}: wrote {work / f'{side}.json'}")


def _rung_row(side: dict, audio, rung: str, ref) -> tuple[list[str], bool]:
    _, _, min_sem, min_ac, min_pm1, min_snr = LADDER[rung]
    got, want = np.asarray(side["rungs"][rung]["codes"]), ref["codes"]
    if got.shape != want.shape:
        return [f"{got.shape[0]} frames, expected {want.shape[0]}"] + ["-"] * 4, False
    sem = float(np.mean(got[:, 0] == want[:, 0]))
    ac = float(np.mean(got[:, 1:] == want[:, 1:]))
    pm1 = float(np.mean(np.abs(got[:, 1:] - want[:, 1:]) <= 1))
    snr = _snr_db(ref["audio"], audio[f"{rung}_codec"])
    ok = sem >= min_sem and ac >= min_ac and pm1 >= min_pm1 and snr >= min_snr
    if rung == "fp32":  # the ladder's free-running check: identical codes for every frame, audio within 1e-4
        ok = ok and np.array_equal(got, want) and float(np.max(np.abs(audio["fp32_free"] - ref["audio"]))) <= 1e-4
    cells = [f"{sem:.3f} (>= {min_sem})", f"{ac:.3f} (>= {min_ac})", f"{pm1:.3f} (>= {min_pm1})",
             f"{snr:.1f} dB (>= {min_snr})"]
    return cells, ok


def compare(work: Path, sides: list[str]) -> bool:
    ref = np.load(work / "reference.npz")
    data = {s: json.loads((work / f"{s}.json").read_text()) for s in sides}
    audio = {s: np.load(work / f"{s}.npz") for s in sides}
    lines = ["| rung | side (machine, onnxruntime) | semantic | acoustic | acoustic within +-1 | codec SNR | "
             "codes equal x86's | holds |", "|---|---|---|---|---|---|---|---|"]
    all_ok = True
    for rung in RUNGS:
        base = np.asarray(data[sides[0]]["rungs"][rung]["codes"])
        for s in sides:
            cells, ok = _rung_row(data[s], audio[s], rung, ref)
            got = np.asarray(data[s]["rungs"][rung]["codes"])
            same = f"{np.mean(np.all(got == base, axis=1)):.0%} of frames" if got.shape == base.shape else "no"
            mode = "free-running" if rung == "fp32" else "teacher-forced"
            lines.append(f"| {rung} {mode} | {s} ({data[s]['machine']}, {data[s]['onnxruntime']}) | "
                         + " | ".join(cells) + f" | {same} | {'yes' if ok else '**no**'} |")
            all_ok &= ok
    print(f"{FRAMES} frames of {TEXT!r}, reference noise seed {SEED}; thresholds: tests/test_parity_ladder.py")
    print("\n".join(lines))
    return all_ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("prepare", "run", "compare"))
    ap.add_argument("work", type=Path)
    ap.add_argument("side", nargs="*", help="run: this side's name; compare: the sides, x86 first")
    a = ap.parse_args(argv)
    if a.mode == "prepare":
        prepare(a.work)
    elif a.mode == "run":
        if len(a.side) != 1:
            ap.error("run takes one SIDE name (x86, aarch64)")
        run(a.work, a.side[0])
    else:
        return 0 if compare(a.work, a.side or ["x86", "aarch64"]) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

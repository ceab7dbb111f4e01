"""How to store the codec decoder's Conv / ConvTranspose weights: every option ORT offers, measured.

    python -m vox_edge.quantize.conv_report FP32_BUNDLE WORK [--rounds 200] [--threads 1] [--json out.json]

FP32_BUNDLE is an FP32 bundle of a trained model: its codec_decoder.onnx is the source graph, and its engine
speaks SENTENCES (seed 0, the bundle's sampling defaults) for realistic codes. Each variant is decoded one-shot
per sentence and compared with the FP32 graph: waveform SNR / relative L2, and log-mel L1 (80 HTK bands
0-12 kHz, n_fft 1024, hop 256, centred reflect-padded periodic-Hann frames, log floor 1e-5; the mean absolute
difference of the two log-mel maps). Times: median ms of interleaved rounds at `--threads` intra-op threads,
one-shot on the first sentence and on its first 37 frames (the runtime's streaming call: 25 frames of context +
12 new). Numbers: quantize/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

SENTENCES = ("Turn left in 200 meters, then keep right at the fork.",
             "Recalculating route. Please make a U-turn when possible.",
             "The weather tomorrow will be sunny with a high of 24 degrees.")
STREAM_T = 37


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def log_mel(x: np.ndarray, sr: int = 24000, n_fft: int = 1024, hop: int = 256, n_mels: int = 80) -> np.ndarray:
    """[n] -> log mel [n_mels, frames]: frames as torch.stft center=True (reflect padding), periodic Hann window."""
    x = np.pad(np.asarray(x, np.float64).ravel(), n_fft // 2, mode="reflect")
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * win
    mag = np.abs(np.fft.rfft(frames, axis=-1)).T  # [F, frames]
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    hz = 700.0 * (10 ** (np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2) / 2595.0) - 1.0)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    fb = np.clip(np.minimum((freqs[None] - lo) / (mid - lo), (hi - freqs[None]) / (hi - mid)), 0.0, None)
    return np.log(np.clip(fb @ mag, 1e-5, None))


def distance(ref: np.ndarray, x: np.ndarray) -> dict[str, float]:
    ref, x = np.asarray(ref, np.float64).ravel(), np.asarray(x, np.float64).ravel()
    err, sig = float(np.sum((ref - x) ** 2)), float(np.sum(ref ** 2))
    return {"snr_db": float("inf") if err == 0 else float(10 * np.log10(sig / err)),
            "rel_l2": float(np.sqrt(err / max(sig, 1e-30))),
            "logmel_l1": float(np.mean(np.abs(log_mel(x) - log_mel(ref))))}


def _dequantize_linear_convs(model) -> None:
    """The QDQ-style alternative to compress_conv_weights: DequantizeLinear(int8 W, per-channel scale)."""
    import onnx
    from onnx import helper, numpy_helper

    from .graph_passes import CONV_OPS, compress_conv_weights

    done = set(compress_conv_weights(model, "int8", CONV_OPS))
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for n in [n for n in g.node if n.output[0] in done and n.op_type == "Mul"]:
        name, cast = n.output[0], next(c for c in g.node if c.output[0] == n.input[0])
        scale = numpy_helper.to_array(inits[n.input[1]])
        axis = int(np.argmax(scale.shape))
        inits[n.input[1]].CopyFrom(numpy_helper.from_array(scale.ravel(), n.input[1]))
        g.node.remove(cast)
        n.CopyFrom(helper.make_node("DequantizeLinear", [name + "_int8", n.input[1]], [name], name=name + "_dq", axis=axis))
    onnx.checker.check_model(model)


def build_variants(fp32_codec: Path, work: Path) -> dict[str, Path]:
    from .graph_passes import compress_conv_weights
    from .int8 import quantize_int8_dynamic
    from .onnx_io import load_model, save_model
    from .plan import plan_for, quantize_graph

    work.mkdir(parents=True, exist_ok=True)
    out = {v: work / f"{v}.onnx" for v in (
        "fp32", "int8-convfp32", "int8", "int8-convfp16", "int8+ConvInteger", "int8+DequantizeLinear",
        "fp32+conv-int8", "fp32+conv-fp16")}
    save_model(load_model(fp32_codec), out["fp32"])
    for spec in ("int8-convfp32", "int8", "int8-convfp16"):
        quantize_graph(fp32_codec, out[spec], plan_for("codec", spec))
    # quantize_dynamic's own conv path: Conv -> ConvInteger (ConvTranspose has none and stays FP32)
    quantize_int8_dynamic(fp32_codec, out["int8+ConvInteger"], op_types=("MatMul", "Conv"), conv_weights="fp32")
    m = load_model(out["int8-convfp32"])
    _dequantize_linear_convs(m)
    save_model(m, out["int8+DequantizeLinear"])
    for store in ("int8", "fp16"):  # the conv weights' own cost, without the MatMuls' int8
        m = load_model(fp32_codec)
        compress_conv_weights(m, store)
        save_model(m, out[f"fp32+conv-{store}"])
    return out


def speak_codes(bundle: Path, sentences=SENTENCES) -> list[np.ndarray]:
    """[1, T, 1+A] int64 codec inputs (-2 space), one per sentence, from the bundle's own engine."""
    from vox_edge.config import N_AUDIO_SPECIAL
    from vox_edge.runtime import load

    eng = load(bundle)
    return [np.concatenate(eng.synthesize(s, seed=0).codes)[None] - N_AUDIO_SPECIAL for s in sentences]


def measure(variants: dict[str, Path], codes: list[np.ndarray], rounds: int = 200, threads: int = 1) -> dict[str, dict]:
    from vox_edge.runtime.sessions import cpu_session

    sess = {v: cpu_session(p, threads, allow_spinning=False) for v, p in variants.items()}
    ref = [sess["fp32"].run(None, {"codes": c})[0] for c in codes]
    rows: dict[str, dict] = {}
    for v, s in sess.items():
        ds = [distance(r, s.run(None, {"codes": c})[0]) for r, c in zip(ref, codes)]
        rows[v] = {"bytes": variants[v].stat().st_size, **{k: float(np.mean([d[k] for d in ds])) for k in ds[0]}}
    feeds = {f"T{codes[0].shape[1]}": {"codes": codes[0]}, f"T{STREAM_T}": {"codes": codes[0][:, :STREAM_T]}}
    times = {v: {k: [] for k in feeds} for v in sess}
    names = list(sess)
    for r in range(rounds):  # interleaved: contention from other jobs hits every variant alike
        for v in (names if r % 2 == 0 else names[::-1]):
            for k, f in feeds.items():
                t0 = time.perf_counter()
                sess[v].run(None, f)
                times[v][k].append((time.perf_counter() - t0) * 1e3)
    for v in names:
        rows[v].update({f"{k}_ms": float(np.median(t)) for k, t in times[v].items()})
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle", type=Path, help="an FP32 bundle of a trained model")
    ap.add_argument("work", type=Path)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    variants = build_variants(a.bundle / "codec_decoder.onnx", a.work)
    codes = speak_codes(a.bundle)
    rows = measure(variants, codes, a.rounds, a.threads)
    tk = [k for k in next(iter(rows.values())) if k.endswith("_ms")]
    print(f"{len(codes)} sentences, {sum(c.shape[1] for c in codes)} frames; {a.threads} thread(s), {a.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| variant | MB | SNR dB | rel L2 | log-mel L1 | " + " | ".join(f"{k[:-3]} ms" for k in tk) + " |")
    print("|---|---|---|---|---|" + "---|" * len(tk))
    for v, r in rows.items():
        print(f"| {v} | {r['bytes'] / 1e6:.2f} | {r['snr_db']:.1f} | {r['rel_l2']:.4f} | {r['logmel_l1']:.4f} | "
              + " | ".join(f"{r[k]:.2f}" for k in tk) + " |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

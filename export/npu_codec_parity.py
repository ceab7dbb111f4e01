"""The codec rung of `vox-edge check-ep`, with phase-insensitive measures beside the waveform SNR.

    python -m vox_edge.export.npu_codec_parity REF_FP32_BUNDLE FRAMES NAME=BUNDLE [NAME=BUNDLE ...] [--htp]

The FP32 reference bundle speaks check-ep's sentence for FRAMES frames (seed 0, 7 flow steps, its own sampling
defaults); its codes are streamed through each bundle's codec as the engine streams them (runtime/ep_check.py
`_decode`), with the bundle's `codec_decoder` on the CPU provider and, with --htp, also strict on the QNN HTP
simulator (CPU fallback disabled; every other graph on the CPU, a split codec's codec_trunk too). Printed per run:
waveform SNR against the reference's audio (check-ep's rung), the mean |difference| of 80-band log-mel spectra
(natural log; vox_edge.quantize.conv_report.log_mel) and the SNR of the mel magnitudes: a source_filter codec whose
f0 drifts loses waveform SNR while its spectra stay close (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def codec_distances(ref: np.ndarray, test: np.ndarray) -> dict[str, float]:
    from vox_edge.export.codec_guard import snr_db
    from vox_edge.quantize.conv_report import log_mel

    a, b = np.asarray(ref, np.float64), np.asarray(test, np.float64)
    la, lb = log_mel(a), log_mel(b)
    return {"snr_db": snr_db(a, b), "logmel_l1": float(np.mean(np.abs(la - lb))),
            "mel_snr_db": snr_db(np.exp(la), np.exp(lb))}


def main(argv: list[str] | None = None) -> int:
    from vox_edge.config import DEFAULT_CFG_ALPHA, DEFAULT_NOISE_SCALE
    from vox_edge.manifest import load_manifest
    from vox_edge.runtime.engine import Engine
    from vox_edge.runtime.ep_check import TEXT, _decode, _frames
    from vox_edge.runtime.npu_providers import accelerator_session
    from vox_edge.runtime.sessions import SessionSettings, open_session

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference", type=Path)
    ap.add_argument("frames", type=int)
    ap.add_argument("bundles", nargs="+", help="NAME=BUNDLE")
    ap.add_argument("--htp", action="store_true", help="also run each codec_decoder on the QNN HTP (simulator)")
    args = ap.parse_args(argv)
    ref = Engine(load_manifest(args.reference, verify="size"), None, prefix_cache=False, flow_loop=False)
    syn = ref.manifest.synthesis
    alpha, scale = syn.get("cfg_alpha", DEFAULT_CFG_ALPHA), syn.get("noise_scale", DEFAULT_NOISE_SCALE)
    noise = scale * np.random.default_rng(0).standard_normal((args.frames, ref.config.n_acoustic_codebook), np.float32)
    codes, _ = _frames(ref, TEXT, ref.default_voice, noise, 7, alpha)
    audio = _decode(ref, codes)
    for spec in args.bundles:
        name, _, path = spec.partition("=")
        for where in ("cpu", "htp") if args.htp else ("cpu",):
            t0 = time.perf_counter()

            def opener(graph: str, p: Path, where: str = where):
                if where == "htp" and graph == "codec_decoder":
                    return accelerator_session(p, "QNNExecutionProvider", {}, strict=True)
                return open_session(p, SessionSettings())

            eng = Engine(load_manifest(Path(path), verify="size"), None, prefix_cache=False, flow_loop=False,
                         open_graph=opener)
            d = codec_distances(audio, _decode(eng, codes))
            print(f"{name:10s} {where:4s} waveform SNR {d['snr_db']:6.1f} dB | log-mel L1 {d['logmel_l1']:.4f} | "
                  f"mel-magnitude SNR {d['mel_snr_db']:5.1f} dB ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

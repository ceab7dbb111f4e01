"""The codec-SNR rung of the parity ladder as an export guard: a quantised codec_decoder against its FP32 graph.

Both graphs decode the same codes the way the engine streams them (runtime/codec_stream.CodecStream: first chunk
of `first_chunk_frames`, doubling up to `chunk_frames`, the codec's exact left context, the graph's optional
`context_frames` input where it has one), and the guard compares the concatenated waveforms:

    SNR = 10·log10(Σ fp32² / Σ (fp32 - quantised)²)

The codes are a fixed pseudo-random draw (seeded: the same for every export of a checkpoint's dims): valid
semantic and acoustic codes, no END frames. A codec precision spec with the option `snrN` (e.g. `int8-snr30`,
quantize/plan.py) runs this after quantising and writes the FP32 graph instead, with a message, when the SNR is
below N dB; `vox-edge export --profile` uses it where a profile's [[model.kernels]] entry asks for a cheaper
codec (device_profiles/kernels.py). A source_filter codec (renderer parameters, not audio) is not guarded here:
its own rung is runtime/ep_check's.

    python -m vox_edge.export.codec_guard CKPT --work DIR [--specs fp32,int8,int8-convfp16,fp16] [--frames 48]

exports the checkpoint's codec_decoder at each spec into DIR/SPEC (reused when there) and prints, per spec, its
size, the streamed decode's wall ms at 1 and 2 threads (best of --repeats) and its SNR against the first spec's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GUARD_FRAMES = 48  # codec frames decoded per graph (3.84 s at 12.5 Hz): chunks 2, 4, 8, 16, 18 with the defaults
GUARD_SEED = 0


@dataclass(frozen=True)
class CodecGuard:
    snr_db: float
    frames: int
    chunks: int
    fp32_ms: float  # wall ms of the whole streamed decode (1 thread), for the record only
    quantised_ms: float

    def holds(self, min_db: float) -> bool:
        return self.snr_db >= min_db

    def __str__(self) -> str:
        return (f"codec waveform SNR {self.snr_db:.1f} dB against FP32 over {self.frames} streamed frames "
                f"({self.chunks} chunks; {self.fp32_ms:.0f} -> {self.quantised_ms:.0f} ms on 1 thread)")


def guard_codes(cfg, frames: int = GUARD_FRAMES, seed: int = GUARD_SEED) -> np.ndarray:
    """[frames, 1+A] int64 codes in the codec's -2 space: semantic in [0, semantic_codebook_size), acoustic levels in
    [0, acoustic_codebook_size). `cfg` is the checkpoint's CodecConfig."""
    rng = np.random.default_rng(seed)
    sem = rng.integers(0, cfg.semantic_codebook_size, (frames, 1))
    ac = rng.integers(0, cfg.acoustic_codebook_size, (frames, cfg.acoustic_dim))
    return np.concatenate([sem, ac], 1).astype(np.int64)


def stream_decode(path: str | Path, cfg, codes: np.ndarray, first_chunk_frames: int = 2, chunk_frames: int = 25,
                  threads: int = 1) -> tuple[np.ndarray, int, float]:
    """The engine's streamed decode of `codes` through the graph at `path` -> (audio, chunks, wall ms)."""
    import onnx

    from vox_edge.runtime.codec_stream import CodecStream
    from vox_edge.runtime.sessions import cpu_session

    sess = cpu_session(str(path), threads)
    has_ctx = "context_frames" in {i.name for i in onnx.load(str(path), load_external_data=False).graph.input}
    stream = CodecStream(sess, cfg.samples_per_frame, first_chunk_frames, chunk_frames,
                         cfg.min_left_context_frames, context_input=has_ctx)
    out, chunks = [], 0
    t = time.perf_counter()
    for f in codes:
        a = stream.push(f)
        if a is not None:
            out.append(a)
            chunks += 1
    tail = stream.flush()
    if tail.size:
        out.append(tail)
        chunks += 1
    return np.concatenate(out), chunks, (time.perf_counter() - t) * 1e3


def snr_db(ref: np.ndarray, x: np.ndarray) -> float:
    ref, x = np.asarray(ref, np.float64), np.asarray(x, np.float64)
    err = float(np.sum((ref - x) ** 2))
    return float("inf") if err == 0 else float(10 * np.log10(float(np.sum(ref ** 2)) / err))


def check_codec(fp32_path: str | Path, quantised_path: str | Path, cfg, frames: int = GUARD_FRAMES,
                seed: int = GUARD_SEED) -> CodecGuard:
    """Stream the same codes through both codec graphs; the quantised one's waveform SNR against FP32."""
    codes = guard_codes(cfg, frames, seed)
    ref, chunks, ms_ref = stream_decode(fp32_path, cfg, codes)
    got, _, ms_q = stream_decode(quantised_path, cfg, codes)
    return CodecGuard(snr_db(ref, got), frames, chunks, ms_ref, ms_q)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.export.codec_guard", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--work", type=Path, required=True, help="one folder per spec (an exported codec is reused)")
    p.add_argument("--specs", default="fp32,int8,int8-convfp16,fp16", help="codec precision specs; the first is the "
                                                                         "reference (FP32)")
    p.add_argument("--frames", type=int, default=GUARD_FRAMES)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args(argv)
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import export_component_graphs

    ckpt = Checkpoint.open(a.checkpoint)
    cfg = ckpt.config.codec
    codes = guard_codes(cfg, a.frames)
    ref = None
    print(f"{a.checkpoint.name}: codec dim {cfg.dim}, {a.frames} frames streamed, left context "
          f"{cfg.min_left_context_frames}; load {os.getloadavg()}", flush=True)
    for spec in a.specs.split(","):
        d = a.work / spec
        if not (d / "codec_decoder.onnx").is_file():
            t = time.perf_counter()
            export_component_graphs(ckpt, d, {"codec": spec}, graphs=("codec_decoder",), progress=lambda m: None)
            print(f"export {spec}: {time.perf_counter() - t:.0f} s", flush=True)
        row: dict = {"spec": spec, "MB": round(sum(f.stat().st_size for f in d.iterdir() if f.is_file()) / 1e6, 2)}
        for threads in (1, 2):
            times = []
            for _ in range(a.repeats):
                audio, chunks, ms = stream_decode(d / "codec_decoder.onnx", cfg, codes, threads=threads)
                times.append(ms)
            row[f"ms_{threads}t"] = round(min(times), 1)
        ref = audio if ref is None else ref
        row.update(snr_db=round(snr_db(ref, audio), 1), chunks=chunks, load=os.getloadavg()[0])
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

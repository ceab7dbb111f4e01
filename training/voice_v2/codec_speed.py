"""Streamed cost of the v2 codec (codec_graph.py's export) against the packaged codec, per codec frame.

Random codes, the engine's chunking (2, 4, 8, 16, 25 frames), best of 5 passes, one ONNX Runtime thread.

    python -m training.voice_v2.codec_speed --graph DIR/codec_int8.onnx [--frames 100]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from vox_edge.config import ModelConfig
from vox_edge.runtime.codec_stream import CodecStream, SourceFilterStream
from vox_edge.runtime.sessions import cpu_session

PACKAGED = os.path.join(os.path.dirname(__file__), "..", "..", "src", "vox_edge", "assets", "default_bundle")


def ms_per_frame(make, codes: np.ndarray, passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        stream, t0 = make(), time.perf_counter()
        for c in codes:
            stream.push(c)
        stream.flush()
        best = min(best, time.perf_counter() - t0)
    return 1000 * best / len(codes)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graph", required=True)
    ap.add_argument("--frames", type=int, default=100)
    a = ap.parse_args(argv)
    with open(os.path.join(os.path.dirname(a.graph), "params.json"), encoding="utf-8") as f:
        cfg = ModelConfig.from_params(json.load(f)).codec
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.integers(0, cfg.semantic_codebook_size, (a.frames, 1)),
                            rng.integers(0, cfg.acoustic_codebook_size, (a.frames, cfg.acoustic_dim))], 1)
    v2 = cpu_session(a.graph, 1)
    packaged = cpu_session(os.path.join(PACKAGED, "codec_decoder.onnx"), 1)
    rows = [("v2 source_filter", ms_per_frame(lambda: SourceFilterStream(v2, cfg, 2, 25, cfg.min_left_context_frames), codes)),
            ("packaged", ms_per_frame(lambda: CodecStream(packaged, cfg.samples_per_frame, 2, 25, 13, True), codes))]
    print(f"load {os.getloadavg()[0]:.2f}")
    for label, ms in rows:
        print(f"{label}: {ms:.2f} ms per codec frame (RTF {ms / 80:.4f})")


if __name__ == "__main__":
    main()

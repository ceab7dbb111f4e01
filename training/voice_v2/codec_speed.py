"""Streamed cost of the v2 codec (codec_graph.py's export) against the packaged codec, per codec frame.

Random codes, the engine's chunking (2, 4, 8, ... frames up to --chunk, default the engine's), best of 5 passes,
one ONNX Runtime thread. A graph with the optional `render_from` input (export/codec_context.py) is streamed with it,
as the engine does; `--baseline OTHER.onnx` times a second v2 graph in the same run (e.g. one exported without it),
and a bundle's `codec_step.onnx` beside the graph is timed as the stateful stream.

    python -m training.voice_v2.codec_speed --graph DIR/codec_int8.onnx [--frames 100] [--chunk 12] [--baseline G]

DIR holds params.json (codec_graph.py's output) or is a bundle (its manifest's params).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from vox_edge.config import ModelConfig
from vox_edge.runtime.codec_stream import RENDER_FROM, CodecStream, SourceFilterStream, StepSourceFilterStream
from vox_edge.runtime.engine import DEFAULT_CHUNK_FRAMES
from vox_edge.runtime.sessions import cpu_session

PACKAGED = os.path.join(os.path.dirname(__file__), "..", "..", "src", "vox_edge", "assets", "default_bundle")


def params_beside(graph: str) -> dict:
    """params.json next to the graph (codec_graph.py's output), or a bundle's manifest params."""
    folder = os.path.dirname(graph)
    if os.path.exists(os.path.join(folder, "params.json")):
        with open(os.path.join(folder, "params.json"), encoding="utf-8") as f:
            return json.load(f)
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)["params"]


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
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK_FRAMES, help="steady-state chunk (frames)")
    ap.add_argument("--baseline", help="a second v2 codec graph to time in the same run")
    a = ap.parse_args(argv)
    cfg = ModelConfig.from_params(params_beside(a.graph)).codec
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.integers(0, cfg.semantic_codebook_size, (a.frames, 1)),
                            rng.integers(0, cfg.acoustic_codebook_size, (a.frames, cfg.acoustic_dim))], 1)

    def v2(path: str):
        sess = cpu_session(path, 1)
        render_from = RENDER_FROM in {i.name for i in (*sess.get_inputs(), *sess.get_overridable_initializers())}
        return lambda: SourceFilterStream(sess, cfg, 2, a.chunk, cfg.min_left_context_frames, render_from=render_from)

    packaged = cpu_session(os.path.join(PACKAGED, "codec_decoder.onnx"), 1)
    rows = [(f"v2 source_filter {os.path.basename(a.graph)}", ms_per_frame(v2(a.graph), codes))]
    step_path = os.path.join(os.path.dirname(a.graph), "codec_step.onnx")  # a bundle's stateful codec
    if os.path.exists(step_path):
        step, window = cpu_session(step_path, 1), cpu_session(a.graph, 1)
        rows.append(("v2 source_filter codec_step (stateful)", ms_per_frame(
            lambda: StepSourceFilterStream(step, window, cfg, 2, a.chunk, cfg.min_left_context_frames,
                                           render_from=True), codes)))
    if a.baseline:
        rows.append((f"v2 source_filter {a.baseline}", ms_per_frame(v2(a.baseline), codes)))
    rows.append(("packaged", ms_per_frame(lambda: CodecStream(packaged, cfg.samples_per_frame, 2, a.chunk, 13, True), codes)))
    print(f"load {os.getloadavg()[0]:.2f}, chunk {a.chunk}")
    for label, ms in rows:
        print(f"{label}: {ms:.2f} ms per codec frame (RTF {ms / 80:.4f})")


if __name__ == "__main__":
    main()

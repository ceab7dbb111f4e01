"""Whisper tiny.en WER of rendered speech on held-out sentences: the recipe's feasibility measurements.

Modes (each renders the same held-out rows and scores them with the quality benchmark's ASR and scoring):
  teacher   hibari's own audio (its package, end to end; as benchmarks/quality_wer.py --peer hibari)
  copy      the teacher's renderer parameters through the project's renderer (copy synthesis)
  codec     the teacher's decoder input through a trained code bottleneck (CKPT), then the teacher's frame
            decoder and the project's renderer
  graph     the same codes through the exported codec graph (--graph, codec_graph.py) streamed by the runtime's
            SourceFilterStream: the shipped codec path

    python -m training.voice_v2.evaluate --mode copy --n 30
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from vox_edge.benchmarks import quality_wer

OUT = os.path.expanduser("~/.cache/vox-edge/voice_v2/eval")


def write_wav(path: str, audio: np.ndarray, sr: int = 24_000) -> None:
    import soundfile as sf

    sf.write(path, np.clip(audio, -1, 1).astype(np.float32), sr, subtype="PCM_16")


def render(params: dict, seed: int = 0) -> np.ndarray:
    import torch

    from vox_edge.export.reference.source_filter import SourceFilterRenderer, noise_like

    t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))[None] for k, v in params.items()}
    with torch.no_grad():
        return SourceFilterRenderer()(t["lh"], t["theta"], t["ln"], t["lr"], t["phi"], t["f0"],
                                      noise_like(t["f0"], seed))[0].numpy()


def _graph_stream(graph: str, threads: int):
    """A factory of SourceFilterStreams over the exported codec graph, at the engine's default chunking."""
    from vox_edge.config import ModelConfig
    from vox_edge.runtime.codec_stream import SourceFilterStream
    from vox_edge.runtime.sessions import cpu_session

    with open(os.path.join(os.path.dirname(graph), "params.json"), encoding="utf-8") as f:
        cfg = ModelConfig.from_params(json.load(f)).codec
    sess = cpu_session(graph, threads)
    return lambda: SourceFilterStream(sess, cfg, 2, 25, cfg.min_left_context_frames, seed=0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["teacher", "copy", "codec", "graph"], required=True)
    ap.add_argument("--ckpt", help="codec bottleneck checkpoint (modes codec and graph)")
    ap.add_argument("--graph", help="codec_decoder ONNX file with params.json beside it (mode graph)")
    ap.add_argument("--n", type=int, default=30, help="evenly spaced rows of the held-out split")
    ap.add_argument("--label", default=None)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    from .teacher_graph import TeacherGraph

    rows = quality_wer.select(quality_wer.HELDOUT, a.n)
    teacher = TeacherGraph(threads=a.threads)
    label = a.label or a.mode
    out = os.path.join(OUT, label)
    os.makedirs(out, exist_ok=True)
    model = stream = None
    if a.mode in ("codec", "graph"):
        from .bottleneck import load_for_eval

        model = load_for_eval(a.ckpt)
        dec = teacher.decoder_session()
    if a.mode == "graph":
        stream = _graph_stream(a.graph, a.threads)
    clips, t0 = [], time.time()
    for r in rows:
        path = os.path.join(out, r["id"] + ".wav")
        if a.mode == "teacher":
            audio = teacher.peer.say(r["norm"], seed=0)[0]
        elif a.mode == "copy":
            audio = render(teacher.params(r["norm"]))
        elif a.mode == "graph":
            import torch

            x, _ = teacher.features(r["norm"])
            with torch.no_grad():
                _, codes, _ = model.encode(torch.from_numpy(x)[None])
            st = stream()
            parts = [c for c in (st.push(f) for f in codes[0].numpy()) if c is not None] + [st.flush()]
            audio = np.concatenate(parts)
        else:
            x, f0 = teacher.features(r["norm"])
            x_hat, f0_hat = model.reconstruct(x)
            lh, theta, ln, lr, phi = dec.run(None, {dec.get_inputs()[0].name: x_hat[None]})
            audio = render({"lh": lh[0], "theta": theta[0], "ln": ln[0], "lr": lr[0], "phi": phi[0], "f0": f0_hat})
        write_wav(path, audio)
        clips.append({"id": r["id"], "path": path, "norm": r["norm"], "category": r["category"]})
    hyps = quality_wer.transcribe([{"id": c["id"], "path": c["path"]} for c in clips],
                                  os.path.expanduser("~/.cache/vox-edge/venv-teacher/bin/python"), a.threads)
    res = quality_wer.score(clips, hyps)
    res.update(mode=a.mode, label=label, n=len(clips), ckpt=a.ckpt, seconds=round(time.time() - t0, 1))
    with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as f:
        json.dump({"result": res, "clips": clips}, f, indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()

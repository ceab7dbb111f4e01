r"""Pack a random part of the teacher's training audio small enough to travel to a borrowed GPU machine.

A GPU run of codec/train.py (`--device cuda --preload`, optional: the recipe runs on CPU) needs audio on a
machine that can fetch nothing and takes at most a few tens of MB along. Opus (Ogg) at compression level 0.8
(~57 kb/s at 24 kHz) is the smallest setting measured here that leaves the training targets alone: on 79 s of
teacher audio its log-mel L1 against the FLAC is 0.09 (the codec's own error is ~0.39); at level 0.85 (~39 kb/s)
Opus narrows the band and the log-mel L1 jumps to 0.51, i.e. the decoder would learn a low-pass.
Sample-aligned (libsndfile trims Opus's pre-skip; checked by cross-correlation).

Writes OUT/manifest.jsonl (teacher rows, `path` pointing at the .ogg) and OUT/audio/*.ogg, a teacher folder
codec/train.py --teacher OUT reads as it reads the real one. Clips are drawn at random (seeded) from the training
split, never from the codec's held-out ids or the corpus held-out sentences, until --mb is reached.

  .venv/bin/python -m training.codec.pack --out .gpu/pack --mb 30
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import soundfile as sf

from training.codec.data import DEFAULT_TEACHER, HELDOUT_IDS, read_manifest

OPUS_LEVEL = 0.8


def pack(teacher: str, out: str, max_bytes: int, seed: int = 0, level: float = OPUS_LEVEL) -> dict:
    rows = [r for r in read_manifest(os.path.join(teacher, "manifest.jsonl"))
            if not r.get("rejected") and r["id"] not in HELDOUT_IDS and r["id"].startswith("tr")
            and os.path.exists(os.path.join(teacher, r["path"]))]
    order = np.random.default_rng(seed).permutation(len(rows))
    os.makedirs(os.path.join(out, "audio"), exist_ok=True)
    kept, used = [], 0
    for k in order:
        r = rows[k]
        wav, sr = sf.read(os.path.join(teacher, r["path"]), dtype="float32")
        path = os.path.join("audio", r["id"] + ".ogg")
        sf.write(os.path.join(out, path), wav, sr, format="OGG", subtype="OPUS", compression_level=level)
        size = os.path.getsize(os.path.join(out, path))
        if used + size > max_bytes:
            os.remove(os.path.join(out, path))
            break
        used += size
        kept.append({**r, "path": path})
    with open(os.path.join(out, "manifest.jsonl"), "w", encoding="utf-8") as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return {"clips": len(kept), "hours": round(sum(r["duration"] for r in kept) / 3600, 3), "bytes": used}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", default=DEFAULT_TEACHER)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mb", type=float, default=30.0, help="audio budget in 10^6 bytes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--level", type=float, default=OPUS_LEVEL, help="libsndfile Opus compression level (0..1)")
    a = ap.parse_args()
    print(json.dumps(pack(a.teacher, a.out, int(a.mb * 1e6), a.seed, a.level)))


if __name__ == "__main__":
    main()

"""Stage 1: the teacher's decoder inputs (80 Hz) for a corpus split, in resumable shards.

hibari's graph turns phoneme ids into, per 12.5 ms frame, 128 aligned text features plus normalised log-f0 and
energy (130 channels), then a frame decoder turns those into renderer parameters. We keep the 130 channels (what
our codec must carry through 12.5 Hz codes) and f0 in Hz (what the renderer's pulse train needs).

    python -m training.voice_v2.teacher_features --split training/corpus/train.tsv --out DIR [--limit N]
"""
from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np

from .teacher_graph import TeacherGraph

SHARD = 250


def read_rows(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as f:
        return [(r["id"], r["norm"]) for r in csv.DictReader(f, delimiter="\t")]


def shard_done(path: str, want: list[str]) -> bool:
    """A shard holds (or has skipped) every row of its slice. The last shard of a split that has since grown
    (training/corpus/make.py appends rows) lacks the new rows, and is made again."""
    if not os.path.exists(path):
        return False
    with np.load(path) as z:
        have = set(z["ids"].tolist()) | set(z["skipped"].tolist() if "skipped" in z.files else [])
    return set(want) <= have


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=0, help="first N rows only (0 = all)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    rows = read_rows(a.split)
    if a.limit:
        rows = rows[: a.limit]
    os.makedirs(a.out, exist_ok=True)
    teacher = TeacherGraph(threads=a.threads)
    t0, frames = time.time(), 0
    for s in range(0, len(rows), SHARD):
        path = os.path.join(a.out, f"shard_{s // SHARD:05d}.npz")
        if shard_done(path, [rid for rid, _ in rows[s : s + SHARD]]):
            continue
        ids, feats, f0s, lens, skipped = [], [], [], [], []
        for rid, text in rows[s : s + SHARD]:
            try:
                x, f0 = teacher.features(text)
            except ValueError:
                skipped.append(rid)
                continue  # nothing the teacher can read (empty phoneme string)
            ids.append(rid)
            feats.append(x.T.astype(np.float16))  # [F, 130]
            f0s.append(f0.astype(np.float32))
            lens.append(len(f0))
        tmp = path + ".partial.npz"
        np.savez(tmp, ids=np.array(ids), skipped=np.array(skipped, dtype=str), lens=np.array(lens, np.int32),
                 feats=np.concatenate(feats), f0=np.concatenate(f0s))
        os.replace(tmp, path)
        frames += sum(lens)
        el = time.time() - t0
        print(f"{path}: {len(ids)} clips, {frames * 0.0125 / 3600:.2f} h so far, {el:.0f} s", flush=True)


if __name__ == "__main__":
    main()

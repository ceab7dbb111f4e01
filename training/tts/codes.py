"""Encode teacher clips into codec codes for stage 3 (resumable, background-friendly).

Reads the teacher manifest, skips clips the ASR filter rejected, encodes each FLAC with the codec's encoder and
writes shards OUT/shard_NNNNN.npz with
  ids [n] str, lengths [n] int32, semantic [sum T] uint16, acoustic [sum T, n_ac] uint8   (codes in -2 space)
plus OUT/meta.json (codec fingerprint, step, audio_tokenizer_args). A shard is written atomically; after an
interruption the same command encodes only the clips no shard holds yet. Codes from another codec (different
fingerprint) are never mixed in: use another --out, or --restart to drop the old shards.

  nice -n 10 .venv/bin/python -m training.tts.codes --codec ~/.cache/vox-edge/codec/last.pt
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

from training.tts.codec import DEFAULT_CODEC, load_codec
from training.tts.data import DEFAULT_TEACHER, read_manifest

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/tts/codes")


def shard_paths(out: str) -> list[str]:
    return sorted(glob.glob(os.path.join(out, "shard_*.npz")))


def read_meta(out: str) -> dict | None:
    try:
        with open(os.path.join(out, "meta.json"), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def write_shard(path: str, ids: list[str], codes: list[np.ndarray]) -> None:
    cat = np.concatenate(codes)
    tmp = path + ".tmp.npz"  # np.savez appends .npz unless the name already ends with it
    # compressed: half the bytes (codes repeat), so the training set's codes can be committed
    np.savez_compressed(tmp, ids=np.array(ids), lengths=np.array([len(c) for c in codes], np.int32),
             semantic=cat[:, 0].astype(np.uint16), acoustic=cat[:, 1:].astype(np.uint8))
    os.replace(tmp, path)


def read_shards(out: str) -> dict[str, np.ndarray]:
    """{clip id: codes [T, 1 + n_ac] int64, -2 space} of every shard."""
    codes = {}
    for p in shard_paths(out):
        z = np.load(p)
        full = np.concatenate([z["semantic"][:, None].astype(np.int64), z["acoustic"].astype(np.int64)], axis=1)
        start = 0
        for i, n in zip(z["ids"], z["lengths"]):
            codes[str(i)] = full[start : start + n]
            start += n
    return codes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--codec", default=DEFAULT_CODEC, help="stage-2 checkpoint (training state or compact)")
    ap.add_argument("--teacher", default=DEFAULT_TEACHER)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--shard-size", type=int, default=500, help="clips per shard")
    ap.add_argument("--limit", type=int, default=0, help="encode at most this many new clips (0 = all)")
    ap.add_argument("--restart", action="store_true", help="delete shards of a different codec instead of stopping")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import soundfile as sf  # only the encoding run needs it; the trainer imports this module for read_shards

    codec = load_codec(args.codec)
    os.makedirs(args.out, exist_ok=True)
    meta = read_meta(args.out)
    if meta and meta["codec_fingerprint"] != codec.fingerprint:
        if not args.restart:
            sys.exit(f"{args.out} holds codes of codec {meta['codec_fingerprint']} (step {meta['codec_step']}), "
                     f"not {codec.fingerprint} (step {codec.step}); pass --restart or another --out")
        shutil.rmtree(args.out)
        os.makedirs(args.out)
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"codec_fingerprint": codec.fingerprint, "codec_step": codec.step, "codec_path": codec.path,
                   "tokenizer_args": codec.tokenizer_args, "format": "codes -2 space; semantic uint16, acoustic uint8"},
                  f, indent=1)

    done = set(read_shards(args.out))
    rows = [r for r in read_manifest(os.path.join(args.teacher, "manifest.jsonl"))
            if not r.get("rejected") and r["id"] not in done and r.get("sr") == codec.cfg.sampling_rate]
    if args.limit:
        rows = rows[: args.limit]
    n_shard = len(shard_paths(args.out))
    print(f"codec {codec.fingerprint} step {codec.step}; {len(done)} clips encoded, {len(rows)} to do", flush=True)
    ids, codes, t0, audio_s = [], [], time.time(), 0.0
    for i, r in enumerate(rows, 1):
        wave, _ = sf.read(os.path.join(args.teacher, r["path"]), dtype="float32")
        codes.append(codec.encode(torch.from_numpy(wave)).numpy())
        ids.append(r["id"])
        audio_s += len(wave) / codec.cfg.sampling_rate
        if len(ids) == args.shard_size or i == len(rows):
            write_shard(os.path.join(args.out, f"shard_{n_shard:05d}.npz"), ids, codes)
            n_shard += 1
            el = time.time() - t0
            print(f"{i}/{len(rows)} clips, {audio_s / 3600:.2f} h audio in {el:.0f} s (RTF {el / audio_s:.3f})",
                  flush=True)
            ids, codes = [], []


if __name__ == "__main__":
    main()

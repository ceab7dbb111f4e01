"""Code shards, the backbone stage's input: the format training/voice_v2/codes.py writes and tts/train.py reads.

OUT/shard_NNNNN.npz holds
  ids [n] str, lengths [n] int32, semantic [sum T] uint16, acoustic [sum T, n_ac] uint8   (codes in -2 space)
plus OUT/meta.json (codec_fingerprint, codec_step, codec_path, tokenizer_args = the codec's audio_tokenizer_args).
write_shard writes one atomically and compressed (the tests' code sets).
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np

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
    # compressed: half the bytes (codes repeat)
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

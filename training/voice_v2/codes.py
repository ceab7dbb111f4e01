"""Stage 3: the training corpus as codec codes (the backbone's targets), from the bottleneck's encoder.

Reads the teacher-feature shards (teacher_features.py) and writes code shards in the format the backbone stage
reads (training/tts/data.py): ids, lengths, semantic uint16 [N], acoustic uint8 [N, 36], all "-2 space", plus a
meta.json that names the bottleneck checkpoint and its step.

    python -m training.voice_v2.codes --features DIR --ckpt CKPT --out DIR
"""
from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np
import torch

from .bottleneck import load_for_eval
from .codec_graph import fingerprint, tokenizer_args


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = load_for_eval(a.ckpt)
    step = torch.load(a.ckpt, map_location="cpu", weights_only=False)["step"]
    os.makedirs(a.out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(a.features, "shard_*.npz"))):
        dst = os.path.join(a.out, os.path.basename(path))
        z = np.load(path)
        if os.path.exists(dst):
            with np.load(dst) as done:
                if np.array_equal(done["ids"], z["ids"]):
                    continue  # else its feature shard was made again (a grown split): encode it again
        starts = np.concatenate([[0], np.cumsum(z["lens"])[:-1]])
        sem, ac, lengths = [], [], []
        with torch.no_grad():
            for s, n in zip(starts, z["lens"]):
                x = torch.from_numpy(z["feats"][s: s + n].astype(np.float32).T)[None]
                _, codes, _ = model.encode(x)
                sem.append(codes[0, :, 0].numpy().astype(np.uint16))
                ac.append(codes[0, :, 1:].numpy().astype(np.uint8))
                lengths.append(codes.shape[1])
        tmp = dst + ".partial.npz"
        np.savez(tmp, ids=z["ids"], lengths=np.array(lengths, np.int32), semantic=np.concatenate(sem),
                 acoustic=np.concatenate(ac))
        os.replace(tmp, dst)
        print(dst, len(lengths), flush=True)
    # the keys the backbone stage reads (training/tts/train.py): which codec made the codes, and its
    # audio_tokenizer_args, which become the trained model's params.json (the v2 source_filter head)
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"codec_fingerprint": fingerprint(a.ckpt), "codec_step": int(step), "codec_path": os.path.abspath(a.ckpt),
                   "tokenizer_args": tokenizer_args(),
                   "format": "codes -2 space; semantic uint16, acoustic uint8"}, f, indent=1)


if __name__ == "__main__":
    main()

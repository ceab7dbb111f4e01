"""How predictable are a code set's semantic codes? Entropies that bound what stage 3 can reach without text.

Stage 3's validation cross-entropy on the semantic code is only meaningful next to these: a model that gets no
lower than the entropy given the previous code has learned nothing from the text (as stage 3 on the codec's first, non-phonetic codes).

  .venv/bin/python -m training.tts.codes_stats training/codes [~/.cache/vox-edge/tts_ctc/codes ...]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from training.tts.codes import read_meta, read_shards


def entropies(seqs: list[np.ndarray], size: int) -> dict:
    """Unigram and previous-code conditional entropy (nats, in-sample, so the latter is optimistic)."""
    flat = np.concatenate(seqs)
    p = np.bincount(flat, minlength=size) / len(flat)
    h1 = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    prev = np.concatenate([s[:-1] for s in seqs])
    nxt = np.concatenate([s[1:] for s in seqs])
    joint = np.bincount(prev * size + nxt, minlength=size * size).reshape(size, size).astype(np.float64)
    row = joint.sum(1, keepdims=True)
    nz = joint > 0
    h2 = float(-(joint[nz] * np.log((joint / np.maximum(row, 1))[nz])).sum() / joint.sum())
    return {"frames": int(len(flat)), "used": int((p > 0).sum()), "unigram_nats": round(h1, 3),
            "unigram_perplexity": round(float(np.exp(h1)), 1), "given_previous_nats": round(h2, 3),
            "repeat_rate": round(float((prev == nxt).mean()), 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("codes", nargs="+", help="tts/codes.py output folders")
    for folder in ap.parse_args().codes:
        meta = read_meta(folder)
        if meta is None:
            sys.exit(f"{folder}: no meta.json (not a tts/codes.py output)")
        seqs = [c[:, 0] for c in read_shards(folder).values() if len(c) > 1]
        stats = entropies(seqs, int(meta["tokenizer_args"]["semantic_codebook_size"]))
        print(json.dumps({"codes": folder, "fingerprint": meta["codec_fingerprint"], "clips": len(seqs), **stats}))


if __name__ == "__main__":
    main()

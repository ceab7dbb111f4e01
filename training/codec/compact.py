"""Write the compact, committed codec checkpoint from the training state (OUT/last.pt).

training/checkpoints/codec_small.pt (gzip around a torch.save stream, see common/ckpt_io.py) holds:
- `weights`: every tensor in release naming (input_proj.*, encoder_blocks.*, decoder_blocks.*, output_proj.*,
  quantizer.semantic_codebook.*) in fp16, except cluster_usage (fp32: it can sit near the 1e-5 floor);
- `tokenizer_args`, `step`, `seen_s`; `opt` only if the file still fits --max-mb (it does not at 7 M params).
`codec/train.py --init training/checkpoints/codec_small.pt` resumes from it (fresh AdamW moments).
"""

from __future__ import annotations

import argparse
import os
import sys

from training.codec.model import Codec, codec_config
from training.common.ckpt_io import atomic_save, load as load_ckpt, serialize
from training.common.paths import ROOT

DEFAULT_SRC = os.path.expanduser("~/.cache/vox-edge/codec_ctc/last.pt")  # the codec with phonetic codes
DEFAULT_DST = os.path.join(ROOT, "training", "checkpoints", "codec_small.pt")
KEEP_FP32 = ("cluster_usage",)  # E_sem = sum / usage: fp16 sums are fine, usage may sit near the floor


def compact(ck: dict) -> dict:
    model = Codec(codec_config(ck["tokenizer_args"]))
    model.load_state_dict(ck["model"])
    weights = {k: (v.clone() if k.endswith(KEEP_FP32) else v.half()) for k, v in model.flat_state().items()}
    return {"weights": weights, "tokenizer_args": ck["tokenizer_args"], "step": ck["step"], "seen_s": ck.get("seen_s", 0.0)}


def size_of(obj) -> int:
    return len(serialize(obj, compress=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=DEFAULT_SRC)
    ap.add_argument("--dst", default=DEFAULT_DST)
    ap.add_argument("--max-mb", type=float, default=15.0, help="limit in 10^6 bytes")
    args = ap.parse_args()
    ck = load_ckpt(args.src)
    out = compact(ck)
    with_opt = {**out, "opt": ck["opt"]}
    if size_of(with_opt) <= args.max_mb * 1e6:
        out = with_opt
    n = size_of(out)
    if n > args.max_mb * 1e6:
        sys.exit(f"compact checkpoint is {n / 1e6:.2f} MB > {args.max_mb} MB; not written")
    os.makedirs(os.path.dirname(args.dst), exist_ok=True)
    atomic_save(out, args.dst, compress=True, keep_prev=False)
    print(f"wrote {args.dst}: step {out['step']}, {n / 1e6:.2f} MB, optimiser {'included' if 'opt' in out else 'not included'}")


if __name__ == "__main__":
    main()

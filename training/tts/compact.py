"""A stage-3 state (tts/train.py OUT/last.pt) without its optimiser: 16-bit weights plus what the run fixed.

    {"model": {name: bf16 tensor}, "step", "params", "tekken", "voice", "codec", ["lexicon_gz"], "compact": True}

"model" holds the EMA weights when the run kept an EMA (what export and evaluation use), else the training
weights. What reads a stage-3 state for its weights takes it as is: `tts/train.py --init` (a new run continues from
it with fresh AdamW moments), `ship/export_checkpoint.py --tts`, `ship/default.py --tts`. It is how a run
travels between machines: 22 MB at 11 M parameters instead of 178 MB.

  .venv/bin/python -m training.tts.compact --src ~/.cache/vox-edge/voice_v2/tts/last.pt --dst /tmp/run.pt
  .venv/bin/python -m training.tts.compact --int8 --src ... --dst training/voice_v2/checkpoints/tts.pt   # committed form
"""

from __future__ import annotations

import argparse
import os

import torch

from training.common.ckpt_io import atomic_save, int8_rows, load as load_ckpt

KEPT = ("step", "params", "tekken", "voice", "codec", "lexicon_gz")


def compact(state: dict, int8: bool = False) -> dict:
    """int8: matrices of 4096+ values as int8 rows (ckpt_io.int8_rows; ckpt_io.load gives float32 back), the
    rest bf16: the form committed to the repository (<= 15 MB at 11 M parameters, gzip-compressed)."""
    weights = {**state["model"], **(state.get("ema") or {})}  # the EMA's floating tensors replace the weights
    rows = {k for k, v in weights.items() if int8 and v.is_floating_point() and v.ndim == 2 and v.numel() >= 4096}
    model = {k: (v.detach().to("cpu", torch.bfloat16) if v.is_floating_point() else v.detach().cpu())
             for k, v in weights.items() if k not in rows}
    extra = {"model_int8": {k: int8_rows(weights[k]) for k in sorted(rows)}} if rows else {}
    return {"model": model, **extra, **{k: state[k] for k in KEPT if k in state}, "compact": True}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="tts/train.py state")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--int8", action="store_true", help="matrices as int8 rows, gzip-compressed (a committed state)")
    a = ap.parse_args(argv)
    out = compact(load_ckpt(a.src), int8=a.int8)
    os.makedirs(os.path.dirname(os.path.abspath(a.dst)), exist_ok=True)
    atomic_save(out, a.dst, compress=a.int8, keep_prev=False)
    print(f"wrote {a.dst}: step {out['step']}, {os.path.getsize(a.dst) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

"""A stage-3 state (tts/train.py OUT/last.pt) without its optimiser: 16-bit weights plus what the run fixed.

    {"model": {name: bf16 tensor}, "step", "params", "tekken", "voice", "codec", ["lexicon_gz"], "compact": True}

"model" holds the EMA weights when the run kept an EMA (what export, GTA codes and sweeps use), else the training
weights. What reads a stage-3 state for its weights takes it as is: `tts/train.py --init` (a new run continues from
it with fresh AdamW moments), `ship/export_checkpoint.py --tts`, `ship/default.py --tts`, `tts/sweep.py --tts`. It is how
a run travels to and from a borrowed GPU machine (training/tts/gpu.sh): 22 MB at 11 M parameters instead of 178 MB.

  .venv/bin/python -m training.tts.compact --src ~/.cache/vox-edge/tts_phon/last.pt --dst /tmp/run5.pt
"""

from __future__ import annotations

import argparse
import os

import torch

from training.common.ckpt_io import atomic_save, load as load_ckpt

KEPT = ("step", "params", "tekken", "voice", "codec", "lexicon_gz")


def compact(state: dict) -> dict:
    weights = {**state["model"], **(state.get("ema") or {})}  # the EMA's floating tensors replace the weights
    model = {k: (v.detach().to("cpu", torch.bfloat16) if v.is_floating_point() else v.detach().cpu())
             for k, v in weights.items()}
    return {"model": model, **{k: state[k] for k in KEPT if k in state}, "compact": True}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="tts/train.py state")
    ap.add_argument("--dst", required=True)
    a = ap.parse_args(argv)
    out = compact(load_ckpt(a.src))
    os.makedirs(os.path.dirname(os.path.abspath(a.dst)), exist_ok=True)
    atomic_save(out, a.dst, keep_prev=False)
    print(f"wrote {a.dst}: step {out['step']}, {os.path.getsize(a.dst) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

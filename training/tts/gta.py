"""Ground-truth-aligned (GTA) codes: what a stage-3 model says for every training clip, for the codec decoder to
learn from (Tacotron 2 fine-tuned its WaveNet on such GTA spectrograms for the same reason).

Why: on the validation clips the codec decodes the true codes at ~30 % WER, but decoding the true semantic codes
with *flow-made* acoustic codes from teacher-forced hiddens gives babble (tts/diagnose.py), and decoding the true
semantic codes with constant acoustic codes gives 100 %: the decoder takes all content from the acoustic codes,
exactly where the small flow head is least precise (mean |error| 3 of 21 levels). A decoder that has also seen
the model's own codes against the real audio learns to use what they carry, semantic codes included.

For each non-rejected training clip with codes: teacher-forced backbone hiddens (eval mode, no dropout), the
argmax semantic code (a special id falls back to the true code) and flow-sampled acoustic levels (noise seeded
by clip), frame-aligned with the clip's real audio. Writes shards in the tts/codes.py format (-2 space) to OUT
with meta.json naming the stage-3 step and the codec fingerprint; codec/train.py --gta OUT reads them.

  .venv/bin/python -m training.tts.gta --tts ~/.cache/vox-edge/tts_ctc/last.pt \
      --codes ~/.cache/vox-edge/tts_ctc/codes --out ~/.cache/vox-edge/gta
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import zlib

import numpy as np
import torch

from training.tts import train as tts_train
from training.tts.codes import write_shard
from training.tts.data import collate
from training.tts.model import frame_hiddens
from vox_edge.export.reference.model import N_AUDIO_SPECIAL


@torch.no_grad()
def teacher_forced(tr, examples, noises, n_steps: int, cfg_alpha: float,
                   bf16: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One batch of examples, noise [>= T, A] per example -> per example (argmax semantic id [T] in +2 space,
    flow acoustic levels [T, A] in 0..L-1), both from the teacher-forced hiddens (row f predicts frame f)."""
    m, at = tr.model, tr.model.acoustic_transformer
    batch = collate(examples, tr.n_voice, tr.tts_ids)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        h = frame_hiddens(m, batch, tr.voice_codes)  # [B, T+1, D]
    h = h.float()
    out = []
    for i, ex in enumerate(examples):
        hi = h[i, :len(ex.codes)]  # [T, D]
        out.append((at.semantic_logits(hi).argmax(-1), at.acoustic_levels(hi, noises[i][:len(ex.codes)], n_steps,
                                                                          cfg_alpha)))
    return out


def gta_codes(tr, examples, n_steps: int, cfg_alpha: float, bf16: bool = True,
              noise_scale: float = 1.0) -> list[np.ndarray]:
    """examples (one batch) -> per example GTA codes [T, 37] int64 in -2 space (flow started at noise_scale·x0)."""
    noises = [noise_scale * torch.randn(len(ex.codes), tr.model.cfg.n_acoustic_codebook,
                          generator=torch.Generator().manual_seed(zlib.crc32(ex.id.encode()))) for ex in examples]
    out = []
    for ex, (sem, ac) in zip(examples, teacher_forced(tr, examples, noises, n_steps, cfg_alpha, bf16)):
        true = torch.from_numpy(ex.codes)  # [T, 37] +2 space
        sem = torch.where(sem < N_AUDIO_SPECIAL, true[:, 0], sem)  # END / EMPTY mid-clip: keep the true code
        out.append(torch.cat([sem[:, None] - N_AUDIO_SPECIAL, ac], 1).numpy())
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tts", required=True, help="stage-3 checkpoint (last.pt)")
    ap.add_argument("--codes", required=True, help="codes folder the stage-3 run trained on")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/vox-edge/gta"))
    ap.add_argument("--batch-tokens", type=int, default=4000)
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=0, help="Euler steps (0 = the model's)")
    ap.add_argument("--cfg-alpha", type=float, default=1.2)
    ap.add_argument("--noise-scale", type=float, default=1.0,
                    help="flow start-noise scale: the one the shipped bundle samples with (its manifest's synthesis)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many clips (0 = all; for tests)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    tr = tts_train.load_for_inference(a.tts, a.codes)
    n_steps = a.steps or tr.model.cfg.acoustic.n_decoding_steps
    exs = sorted(tr.train_ex, key=lambda e: len(e.codes))[: a.limit or None]
    tmp = a.out + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    ids, codes, shard, t0, frames = [], [], 0, time.time(), 0
    i = 0
    while i < len(exs):  # length-sorted batches under a padded-token budget
        j = i + 1
        while j < len(exs) and (j + 1 - i) * exs[j].length(tr.n_voice) <= a.batch_tokens:
            j += 1
        for ex, c in zip(exs[i:j], gta_codes(tr, exs[i:j], n_steps, a.cfg_alpha,
                                                 noise_scale=a.noise_scale)):
            ids.append(ex.id)
            codes.append(c)
            frames += len(c)
        i = j
        if len(ids) >= a.shard_size or i == len(exs):
            write_shard(os.path.join(tmp, f"shard_{shard:05d}.npz"), ids, codes)
            shard, ids, codes = shard + 1, [], []
            print(f"{i}/{len(exs)} clips, {frames} frames in {time.time() - t0:.0f} s", flush=True)
    with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"kind": "gta", "tts": a.tts, "tts_step": tr.step, "codec_fingerprint": tr.codec_info["fingerprint"],
                   "tokenizer_args": tr.codec_info["tokenizer_args"], "n_steps": n_steps, "cfg_alpha": a.cfg_alpha,
                   "noise_scale": a.noise_scale,
                   "format": "codes -2 space; semantic uint16, acoustic uint8"}, f, indent=1)
    shutil.rmtree(a.out, ignore_errors=True)
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: {len(exs)} clips, stage-3 step {tr.step}", flush=True)


if __name__ == "__main__":
    main()

"""Where does a stage-3 model lose intelligibility? Decode the validation clips five ways and Whisper-score each.

  codec       the clip's own codes through the codec (the ceiling this codec allows)
  tf_flow     teacher-forced hiddens, the true semantic codes, acoustic codes from the flow head
  tf_pred     teacher-forced hiddens, predicted (argmax) semantic codes, flow acoustics: one-step-ahead, no drift
  sem_forced  free-running backbone fed its own frames, but each semantic code forced to the true one
              (true length): does the model drift when it hears its own acoustics?
  free        plain free-running generation, as the engine runs it

codec -> tf_flow is the cost of the flow head, tf_flow -> tf_pred the cost of semantic choices, tf_pred ->
sem_forced / free the cost of exposure to its own outputs. Writes OUT/<mode>/<id>.wav + refs.json, runs
codec/asr.py (teacher venv) on each, prints a table and writes OUT/diagnose.json.

  .venv/bin/python -m training.tts.diagnose --tts ~/.cache/vox-edge/tts_ctc/last.pt \
      --codec ~/.cache/vox-edge/codec_ctc/last.pt --codes ~/.cache/vox-edge/tts_ctc/codes
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import soundfile as sf
import torch

from training.codec.heldout_wer import asr
from training.tts import train as tts_train
from training.tts.gta import teacher_forced
from vox_edge.export.reference.model import N_AUDIO_SPECIAL
from vox_edge.runtime.tokenizer import build_tts_prompt

MODES = ("codec", "tf_flow", "tf_pred", "sem_forced", "free")


@torch.no_grad()
def decode_modes(tr, ex, noise: torch.Tensor, n_steps: int, cfg_alpha: float) -> dict[str, torch.Tensor]:
    """One example -> {mode: codes [T', 37] in +2 space}."""
    m = tr.model
    at = m.acoustic_transformer
    true = torch.from_numpy(ex.codes)  # [T, 37] +2 space
    t = len(true)
    (pred, ac), = teacher_forced(tr, [ex], [noise], n_steps, cfg_alpha)  # [T], [T, A]
    ac = ac + N_AUDIO_SPECIAL
    out = {"codec": true,
           "tf_flow": torch.cat([true[:, :1], ac], 1),
           "tf_pred": torch.cat([pred[:, None], ac], 1)}
    # free-running backbone with the true semantic code forced at every step
    ids = torch.tensor(build_tts_prompt(ex.text_ids, tr.n_voice, tr.tts_ids))
    prompt = m.prompt_embeddings(ids, m.embed_codes(tr.voice_codes))
    hidden, past = m.backbone(prompt)
    frames = []
    for f in range(t):
        hf = hidden[:, -1]
        lv = at.acoustic_levels(hf, noise[f:f + 1], n_steps, cfg_alpha) + N_AUDIO_SPECIAL
        codes = torch.cat([true[f:f + 1, :1], lv], 1)  # [1, 37]
        frames.append(codes[0])
        hidden, past = m.backbone(m.embed_codes(codes)[:, None], past)
    out["sem_forced"] = torch.stack(frames)
    g = m.generate(prompt, noise, 2 * t + 25, n_steps, cfg_alpha)
    out["free"] = g.codes
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tts", required=True, help="stage-3 checkpoint (last.pt)")
    ap.add_argument("--codec", required=True, help="codec checkpoint with the same code fingerprint")
    ap.add_argument("--codes", required=True, help="codes folder the run trained on")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/vox-edge/diagnose"))
    ap.add_argument("--steps", type=int, default=0, help="Euler steps (0 = the model's)")
    ap.add_argument("--cfg-alpha", type=float, default=1.2)
    ap.add_argument("--asr", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)

    tr = tts_train.load_for_inference(a.tts, a.codes, a.codec)
    codec = tr._codec()
    if codec is None:
        sys.exit(f"{a.codec}: not the codec of these codes (fingerprint {tr.codec_info['fingerprint']})")
    n_steps = a.steps or tr.model.cfg.acoustic.n_decoding_steps
    texts = tts_train.read_texts(tr.a.corpus)
    refs, lens = {}, {k: [] for k in MODES}
    for i, ex in enumerate(tr.val_ex):
        noise = torch.randn(2 * len(ex.codes) + 25, tr.model.cfg.n_acoustic_codebook,
                            generator=torch.Generator().manual_seed(i))
        for mode, codes in decode_modes(tr, ex, noise, n_steps, a.cfg_alpha).items():
            d = os.path.join(a.out, mode)
            os.makedirs(d, exist_ok=True)
            wav = codec.decode(codes - N_AUDIO_SPECIAL).clamp(-1, 1).numpy() if len(codes) else np.zeros(1920, np.float32)
            sf.write(os.path.join(d, ex.id + ".wav"), wav, codec.cfg.sampling_rate, subtype="PCM_16")
            lens[mode].append(len(codes) / len(ex.codes))
        refs[ex.id] = texts.get(ex.id, "")
        print(f"{ex.id}: decoded", flush=True)
    summary = {"tts": a.tts, "tts_step": tr.step, "codec": a.codec, "n": len(refs), "modes": {}}
    for mode in MODES:
        d = os.path.join(a.out, mode)
        with open(os.path.join(d, "refs.json"), "w", encoding="utf-8") as f:
            json.dump(refs, f, indent=1)
        row = {"len_ratio": round(float(np.median(lens[mode])), 3)}
        if a.asr and os.path.exists(tts_train.TEACHER_PY):
            row["wer"] = asr(d)["wer"]
        summary["modes"][mode] = row
        print(f"| {mode} | {row.get('wer', float('nan')) * 100:.1f} % | x{row['len_ratio']} |", flush=True)
    with open(os.path.join(a.out, "diagnose.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()

r"""Is it the decoder's magnitude or its phase? Swap them with the teacher's and ask Whisper.

Takes a folder of reconstructions of the held-out teacher clips (what `codec/heldout_wer.py` writes, CLIPS/rec/<step>) and
re-synthesises each clip from one side's STFT magnitude and the other side's phase (Hann, hop n/4), then scores
every variant like `codec/heldout_wer.py`:

  rec_mag+teacher_phase   the decoder's magnitude with the teacher's phase
  teacher_mag+rec_phase   the teacher's magnitude with the decoder's phase
  smooth_teacher_mag+teacher_phase   the teacher's magnitude blurred over 9 bins, its own phase (how much the
                          phase alone restores once the magnitude loses its harmonics)

  .venv/bin/python -m training.codec.phase_diag ~/.cache/vox-edge/teacher_heldout/rec/0045287 [--n-fft 960]

Measured on decoder 45,287 (26.3 % on its own; training/README.md, Known limits): 14.8 % / 4.9 % / 5.8 % at n_fft
960; rec_mag+teacher_phase is 16.8 % at 256 and 9.7 % at 2048. Training-time diagnostic only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

import numpy as np
import soundfile as sf
import torch

from training.codec.heldout_wer import DEFAULT_CLIPS, asr

VARIANTS = ("rec_mag+teacher_phase", "teacher_mag+rec_phase", "smooth_teacher_mag+teacher_phase")


def swap(rec: np.ndarray, teacher: np.ndarray, variant: str, n_fft: int) -> np.ndarray:
    """Both [N] float -> [N]: one STFT's magnitude with another's phase, inverted."""
    n = min(len(rec), len(teacher))
    win = torch.hann_window(n_fft, dtype=torch.float64)

    def stft(x):
        return torch.stft(torch.from_numpy(x[:n]).double(), n_fft, n_fft // 4, window=win, return_complex=True)

    sr_, st = stft(rec), stft(teacher)  # [F, T]
    if variant == "rec_mag+teacher_phase":
        mag, phase = sr_.abs(), st.angle()
    elif variant == "teacher_mag+rec_phase":
        mag, phase = st.abs(), sr_.angle()
    elif variant == "smooth_teacher_mag+teacher_phase":
        mag = torch.nn.functional.avg_pool1d(st.abs().T[:, None], 9, 1, 4, count_include_pad=False)[:, 0].T
        phase = st.angle()
    else:
        raise ValueError(variant)
    return torch.istft(mag * torch.exp(1j * phase), n_fft, n_fft // 4, window=win, length=n).float().numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rec", help="folder of reconstructions (<id>.wav + refs.json), e.g. CLIPS/rec/0045287")
    ap.add_argument("--teacher", default=os.path.join(DEFAULT_CLIPS, "rec", "teacher"),
                    help="the teacher's clips under the same ids (codec/heldout_wer.py --teacher-too writes them)")
    ap.add_argument("--n-fft", type=int, default=960)
    ap.add_argument("--variant", action="append", choices=VARIANTS, help="default: all")
    a = ap.parse_args(argv)
    result = {}
    for variant in a.variant or VARIANTS:
        out = os.path.join(a.rec, f"swap_{variant}_{a.n_fft}")
        os.makedirs(out, exist_ok=True)
        shutil.copy(os.path.join(a.rec, "refs.json"), out)
        for f in sorted(os.listdir(a.rec)):
            if f.endswith(".wav"):
                rec, sr = sf.read(os.path.join(a.rec, f), dtype="float32")
                teacher, _ = sf.read(os.path.join(a.teacher, f), dtype="float32")
                sf.write(os.path.join(out, f), np.clip(swap(rec, teacher, variant, a.n_fft), -1, 1), sr,
                         subtype="PCM_16")
        w = asr(out)
        result[variant] = {"wer": w["wer"], "matched": w["matched"]}
    print(json.dumps({"rec": a.rec, "n_fft": a.n_fft, **result}))


if __name__ == "__main__":
    main()

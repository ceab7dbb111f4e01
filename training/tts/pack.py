r"""Pack what stage 3 needs on a borrowed GPU machine (training/tts/gpu.sh) into a folder that travels with the tree.

The machine sees only the working tree plus carried folders (64 MiB in all, the tree ~30 MB of it). Stage 3 needs
codes, texts and a vocabulary, not audio: the committed training/codes already hold the codes of 11k clips, so the
pack adds the rest.

  OUT/codes/shard_1*.npz + meta.json   codes of every clip of --codes not in training/codes (same codec fingerprint)
  OUT/manifest.jsonl                   the teacher's rows that matter: rejected clips, and texts the teacher spoke
                                       that differ from training/corpus/train.tsv
  OUT/tekken.json                      the run's vocabulary
  OUT/own/                             (--own DIR) GTA codes for --own-inputs (tts/gta.py), ~14 MB
  OUT/init.pt                          (--init STATE) its weights as tts/compact.py writes them, ~22 MB

  .venv/bin/python -m training.tts.pack --out .gpu/tts --tekken ~/.cache/vox-edge/tts_char/tekken.json \
      [--own ~/.cache/vox-edge/gta] [--init ~/.cache/vox-edge/tts_phon/last.pt]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from training.common.ckpt_io import atomic_save, load as load_ckpt
from training.common.paths import ROOT
from training.tts.codes import read_meta, read_shards, write_shard
from training.tts.compact import compact
from training.tts.data import DEFAULT_TEACHER, TRAIN_TSV, read_manifest, read_texts

COMMITTED_CODES = os.path.join(ROOT, "training", "codes")
BUDGET_MB = 64 * 1.048576  # what may travel: tree + carried folders
SHARD_CLIPS = 1000


def manifest_rows(manifest: str, texts: dict[str, str]) -> list[dict]:
    """Only the rows load_examples() would act on: rejected clips and spoken texts that differ from the corpus."""
    keep = []
    for r in read_manifest(manifest):
        if r.get("rejected") or (r.get("norm") and r["norm"] != texts.get(r["id"])):
            keep.append({k: r[k] for k in ("id", "norm", "rejected") if k in r})
    return keep


def tree_mb() -> float:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    return sum(os.path.getsize(os.path.join(ROOT, f.decode())) for f in files if f and
               os.path.isfile(os.path.join(ROOT, f.decode()))) / 1e6


def folder_mb(path: str) -> float:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--codes", default=os.path.expanduser("~/.cache/vox-edge/tts_ctc/codes"))
    ap.add_argument("--teacher", default=DEFAULT_TEACHER)
    ap.add_argument("--tekken", required=True)
    ap.add_argument("--own", default="", help="GTA codes folder to carry for --own-inputs")
    ap.add_argument("--init", default="", help="a stage-3 state whose weights the GPU run starts from")
    a = ap.parse_args(argv)

    have, committed = read_meta(a.codes), read_meta(COMMITTED_CODES)
    if not have:
        sys.exit(f"no codes in {a.codes}")
    if committed and committed["codec_fingerprint"] != have["codec_fingerprint"]:
        sys.exit(f"{a.codes} holds codes of codec {have['codec_fingerprint']}, training/codes of "
                 f"{committed['codec_fingerprint']}: the two cannot be merged")
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(os.path.join(a.out, "codes"))
    done = set(read_shards(COMMITTED_CODES)) if committed else set()
    codes = read_shards(a.codes)
    rest = sorted(set(codes) - done)
    for n, i in enumerate(range(0, len(rest), SHARD_CLIPS)):
        ids = rest[i: i + SHARD_CLIPS]
        write_shard(os.path.join(a.out, "codes", f"shard_1{n:04d}.npz"), ids, [codes[c] for c in ids])
    with open(os.path.join(a.out, "codes", "meta.json"), "w", encoding="utf-8") as f:
        json.dump(have, f, indent=1)
    rows = manifest_rows(os.path.join(a.teacher, "manifest.jsonl"), read_texts(TRAIN_TSV))
    with open(os.path.join(a.out, "manifest.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    shutil.copyfile(a.tekken, os.path.join(a.out, "tekken.json"))
    if a.own:
        shutil.copytree(a.own, os.path.join(a.out, "own"))
    if a.init:
        atomic_save(compact(load_ckpt(a.init)), os.path.join(a.out, "init.pt"), keep_prev=False)
    pack, tree = folder_mb(a.out), tree_mb()
    print(f"{a.out}: {len(rest)} clips beyond training/codes ({len(done)} there), {len(rows)} manifest rows; "
          f"{pack:.1f} MB + tree {tree:.1f} MB = {pack + tree:.1f} of {BUDGET_MB:.1f} MB")
    if pack + tree > BUDGET_MB:
        sys.exit("over the budget: drop --own or --init")


if __name__ == "__main__":
    main()

r"""Build the pronunciation lexicon of the default voice (runtime/lexicon.py) from misaki's US dictionaries.

misaki (Apache-2.0, the teacher's G2P; in the teacher venv) ships us_gold.json and us_silver.json: word ->
phonemes, or word -> {part of speech: phonemes} for heteronyms, where the lexicon keeps DEFAULT. Gold wins over
silver. Written sorted, gzip-compressed, byte-reproducible (mtime 0): training/lexicon/en_us.tsv.gz.

  .venv/bin/python training/lexicon_build.py [--misaki-data DIR]
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "lexicon", "en_us.tsv.gz")
MISAKI_GLOB = os.path.expanduser("~/.cache/vox-edge/venv-teacher/lib/python3*/site-packages/misaki/data")


def entries(data_dir: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("us_silver.json", "us_gold.json"):  # gold last: it wins
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            for word, v in json.load(f).items():
                p = v.get("DEFAULT") if isinstance(v, dict) else v
                if p and "\t" not in word and "\n" not in word and word.strip() == word:
                    out[word] = p
    return out


def write(lex: dict[str, str], path: str) -> int:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = "".join(f"{w}\t{p}\n" for w, p in sorted(lex.items())).encode("utf-8")
    with open(path, "wb") as f:
        f.write(gzip.compress(text, compresslevel=9, mtime=0))
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--misaki-data", default="", help="misaki/data folder (default: the teacher venv's)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    data = a.misaki_data or next(iter(sorted(glob.glob(MISAKI_GLOB))), "")
    if not data:
        raise SystemExit("misaki's data folder not found: install the teacher venv (training/README.md) or pass --misaki-data")
    lex = entries(data)
    print(f"{len(lex)} words -> {a.out} ({write(lex, a.out) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()

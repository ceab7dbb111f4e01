"""Train the small model's text vocabulary: a byte-level BPE in the real Tekken schema (tekken.json).

The release vocabulary has 131072 ids; at the small model's width its embedding table alone would exceed the
shipped-model budget (25 MB). This learns a few thousand merges on the corpus text the teacher read (`norm`
column of training/corpus/train.tsv; held-out sentences are never seen) and writes tekken.json exactly as
mistral-common and runtime/tokenizer.py read it: Tekken regex pre-split, ranks 0..255 = single bytes, later ranks
= merges in learning order (tiktoken encodes by lowest rank), id = rank + num_special, the Voxtral specials
([AUDIO]=24, [BEGIN_AUDIO]=25, [REPEAT_AUDIO_TEXT]=35, [NEXT_AUDIO_TEXT]=36, ...) and an `audio` section.
64 specials instead of the release's 1000: both readers accept any count >= 37 (tests/test_tokenizer.py).

Deterministic: the same corpus and options give a byte-identical file. After writing, every train and held-out
sentence (raw and norm) is checked to round-trip through TekkenTokenizer, and, if mistral-common is installed,
to give the same ids as its Tekkenizer.

  .venv/bin/python -m training.tts.vocab --out ~/.cache/vox-edge/tts/tekken.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter, defaultdict

import regex

from training.common.paths import ROOT

CORPUS = os.path.join(ROOT, "training", "corpus")
DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/tts/tekken.json")
DEFAULT_VOCAB = 2112  # 64 specials + 256 bytes + 1792 merges: ids fit an embedding table of 2112 rows
DEFAULT_SPECIALS = 64


def read_column(path: str, column: str) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [r[column] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def learn_merges(texts: list[str], n_merges: int, pattern: str) -> list[bytes]:
    """Byte-level BPE; pair counts are updated incrementally (only words containing the merged pair are touched).

    Ties go to the lexicographically smallest pair, so the result does not depend on dict order.
    """
    pieces = Counter(p.encode("utf-8") for t in texts for p in regex.findall(pattern, t))
    words = [[bytes([c]) for c in w] for w in pieces]
    freq = list(pieces.values())
    counts: Counter = Counter()
    where: dict[tuple[bytes, bytes], set[int]] = defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            counts[(a, b)] += freq[i]
            where[(a, b)].add(i)
    merges: list[bytes] = []
    seen = {bytes([i]) for i in range(256)}
    while len(merges) < n_merges and counts:
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break  # nothing left that is worth a token
        a, b = best
        for i in list(where.pop(best, ())):
            w, n = words[i], freq[i]
            for x, y in zip(w, w[1:]):  # remove this word's old pairs ...
                counts[(x, y)] -= n
                if counts[(x, y)] <= 0:
                    del counts[(x, y)]
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):  # ... and add its new ones
                counts[(x, y)] += n
                where[(x, y)].add(i)
        counts.pop(best, None)
        if a + b not in seen:  # the same bytes can arise from two different pairs; keep one rank
            seen.add(a + b)
            merges.append(a + b)
    return merges


def build_tekken(texts: list[str], vocab_size: int, num_special: int, voices: dict[str, int] | None = None) -> dict:
    from vox_edge.export.tekken_files import TEKKEN_PATTERN, _token_entry, audio_section, special_tokens

    n_merges = vocab_size - num_special - 256
    if n_merges < 0:
        raise SystemExit(f"vocab size {vocab_size} leaves no room for {num_special} specials + 256 bytes")
    merges = learn_merges(texts, n_merges, TEKKEN_PATTERN)
    tokens = [bytes([i]) for i in range(256)] + merges
    return {
        "config": {
            "pattern": TEKKEN_PATTERN,
            "num_vocab_tokens": len(tokens),
            "default_vocab_size": num_special + len(tokens),  # smaller than asked only if the corpus ran out
            "default_num_special_tokens": num_special,
            "version": "v7",
        },
        "vocab": [_token_entry(i, b) for i, b in enumerate(tokens)],
        "special_tokens": special_tokens(num_special),
        "audio": audio_section(voices or {}),
    }


def with_voices(tekken: dict, voices: dict[str, int]) -> dict:
    """A copy whose audio.voice_num_audio_tokens lists `voices` (name -> prompt rows)."""
    out = json.loads(json.dumps(tekken))
    out["audio"]["voice_num_audio_tokens"] = {str(k): int(v) for k, v in voices.items()}
    return out


def verify(path: str, texts: list[str]) -> dict:
    """Round trip through our tokenizer for every text; ids equal mistral-common's when it is installed."""
    from vox_edge.runtime.tokenizer import TekkenTokenizer

    tok = TekkenTokenizer.from_file(path)
    n_ids = 0
    for t in texts:
        ids = tok.encode(t)
        n_ids += len(ids)
        if tok.decode(ids, keep_special=False) != t:
            raise SystemExit(f"round trip failed for {t!r}")
        if ids and not (tok.num_special_tokens <= min(ids) and max(ids) < tok.vocab_size):
            raise SystemExit(f"id out of range for {t!r}")
    report = {"texts": len(texts), "ids_per_text": round(n_ids / max(1, len(texts)), 2),
              "mistral_common": "not installed"}
    try:
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer
    except ImportError:
        return report
    ref = Tekkenizer.from_file(path)
    bad = sum(tok.encode(t) != ref.encode(t, bos=False, eos=False) for t in texts)
    if bad:
        raise SystemExit(f"{bad} texts encode differently from mistral-common")
    report["mistral_common"] = "identical ids"
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=os.path.join(CORPUS, "train.tsv"))
    ap.add_argument("--heldout", default=os.path.join(CORPUS, "heldout.tsv"), help="only for the round-trip check")
    ap.add_argument("--column", default="norm", help="corpus column to learn from (what the teacher read)")
    ap.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB, help="total ids incl. specials")
    ap.add_argument("--num-special", type=int, default=DEFAULT_SPECIALS)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    texts = read_column(args.train, args.column)
    tk = build_tekken(texts, args.vocab_size, args.num_special)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(tk, f, ensure_ascii=False)
    os.replace(tmp, args.out)
    check = texts + read_column(args.train, "raw")
    check += read_column(args.heldout, "norm") + read_column(args.heldout, "raw")
    report = verify(args.out, check)
    cfg = tk["config"]
    print(f"wrote {args.out}: {cfg['default_vocab_size']} ids ({cfg['default_num_special_tokens']} specials, "
          f"{cfg['num_vocab_tokens']} ranks); {json.dumps(report)}")


if __name__ == "__main__":
    sys.exit(main())

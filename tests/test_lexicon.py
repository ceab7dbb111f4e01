"""runtime/text/lexicon.py: the word rules a lexicon bundle's model was trained with, and its typed errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from vox_edge.errors import TokenizerError
from vox_edge.runtime.text.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[1]
TOY = {"the": "ðə", "cat": "kˈæt", "box": "bˈɑks", "stop": "stˈɑp", "make": "mˈAk", "road": "ɹˈOd", "want": "wˈɑnt",
       "use": "jˈuz", "us": "ˈʌs", "hope": "hˈOp", "hop": "hˈɑp", "city": "sˈɪɾi", "carry": "kˈɛɹi",
       "lake": "lˈAk", "view": "vjˈu",
       "John": "ʤˈɑn", "A": "ˈA", "T": "tˈi", "M": "ˈɛm", "US": "jˌuˈɛs", "play": "plˈA"}


def toy() -> Lexicon:
    return Lexicon(dict(TOY))


def test_words_are_replaced_and_everything_else_is_kept():
    assert toy().apply("The cat, the box!  (cat-box)") == "ðə kˈæt, ðə bˈɑks!  (kˈæt-bˈɑks)"


def test_lookup_as_written_then_lower_then_capitalised():
    lex = toy()
    assert lex.word("US") == "jˌuˈɛs"  # as written wins over lower-case "us" (unknown here anyway)
    assert lex.word("CAT") == "kˈæt" and lex.word("john") == "ʤˈɑn"


@pytest.mark.parametrize("word, want", [
    ("cats", "kˈæts"), ("roads", "ɹˈOdz"), ("boxes", "bˈɑksᵻz"), ("John's", "ʤˈɑnz"), ("John’s", "ʤˈɑnz"),
    ("wanted", "wˈɑntᵻd"), ("played", "plˈAd"), ("stopped", "stˈɑpt"), ("boxed", "bˈɑkst"),
    ("making", "mˈAkɪŋ"), ("stopping", "stˈɑpɪŋ"), ("playing", "plˈAɪŋ"), ("used", "jˈuzd"), ("hoped", "hˈOpt"),
    ("hoping", "hˈOpɪŋ"), ("cities", "sˈɪɾiz"), ("carried", "kˈɛɹid"), ("carries", "kˈɛɹiz")])
def test_regular_endings_on_a_known_stem(word, want):
    assert toy().word(word) == want


def test_two_known_words_run_together_read_as_both_with_one_primary_stress():
    lex = toy()
    assert lex.word("Lakeview") == "lˈAkvjˌu" and lex.word("lakeviews") == "lˈAkvjˌuz"  # the tail may inflect
    assert lex.word("hopcat") == "hˈɑpkˌæt"
    assert lex.word("uscat") == "uscat"  # "us" is shorter than a part may be
    assert lex.word("lakexyz") == "lakexyz"  # an unknown tail: letters


def test_unknown_capitals_are_spelled_and_other_unknown_words_stay_letters():
    lex = toy()
    assert lex.word("ATM") == "ˈAtˈiˈɛm"
    assert lex.word("ATMXYZ") == "atmxyz"  # longer than an acronym: letters
    assert lex.word("Xyzzy") == "xyzzy" and lex.word("is") == "is"  # "is" - "s" = "i": too short a stem


def test_secondary_entries_come_after_the_primary_ones_and_the_acronym_rule():
    lex = Lexicon(dict(TOY), {"cmudict": {"keith": "kˈiθ", "at": "ˈæt", "cat": "kˈAt", "lakeside": "lˈAksˌId"}})
    assert lex.word("Keith") == "kˈiθ" and lex.word("Keith's") == "kˈiθs"  # looked up, and with an ending
    assert lex.word("cat") == "kˈæt"  # a primary entry wins
    assert lex.word("AT") == "ˈAtˈi"  # short capitals stay an acronym
    assert lex.word("lakeside") == "lˈAksˌId"  # before the compound rule
    assert len(lex) == len(TOY) + 4


def test_file_round_trip_keeps_the_tiers(tmp_path):
    lex = Lexicon({"cat": "kˈæt", "A": "ˈA"}, {"cmudict": {"keith": "kˈiθ"}})
    text = lex.to_text()
    assert text == "A\tˈA\ncat\tkˈæt\nkeith\tkˈiθ\tcmudict\n"
    again = Lexicon.from_text(text)
    assert again.entries == lex.entries and again.secondary == lex.secondary
    assert Lexicon(dict(TOY)).to_text() == "".join(f"{w}\t{p}\n" for w, p in sorted(TOY.items()))  # as before
    for bad in ("cat\tkˈæt\t\n", "cat\tkˈæt\tcmudict\textra\n"):
        with pytest.raises(TokenizerError, match="line 1"):
            Lexicon.from_text(bad)


def test_the_compact_form_stores_what_the_rules_derive_as_the_word_alone_and_loads_the_same_entries(tmp_path):
    import lzma

    full = dict(TOY, cats="kˈæts", Cats="kˈæts", stopped="stˈɑpt", lakeview="lˈAkvjˌu", carries="kˈɛɹiz",
                boxes="bˈɑksᵻz", hopes="hˈOps", roads="ɹˈOdz", uses="jˈuzᵻz", city_hall="x", playing="plˈAɪŋ",
                views="vjˈuz", hoped="hˈOpt", usa="jˌuˈɛsˈA", lakes="lˈeɪks")  # lakes: not what the rules say
    lex = Lexicon(full, {"cmudict": {"keith": "kˈiθ"}})
    text = lex.to_compact_text()
    derived = {line for line in text.splitlines() if "\t" not in line}
    assert derived == {"cats", "Cats", "stopped", "lakeview", "carries", "boxes", "hopes", "roads", "uses", "playing",
                       "views", "hoped"}
    assert "lakes\tlˈeɪks\n" in text and "city_hall\tx\n" in text and "keith\tkˈiθ\tcmudict\n" in text
    again = Lexicon.from_text(text)
    assert again.entries == lex.entries and again.secondary == lex.secondary  # every lookup is the same
    (tmp_path / "l.tsv.xz").write_bytes(lzma.compress(text.encode("utf-8")))
    assert Lexicon.from_file(tmp_path / "l.tsv.xz").entries == lex.entries
    (tmp_path / "torn.tsv.xz").write_bytes(lzma.compress(text.encode("utf-8"))[:40])
    with pytest.raises(TokenizerError, match="re-export"):
        Lexicon.from_file(tmp_path / "torn.tsv.xz")


def test_the_compact_form_keeps_back_a_word_whose_derivation_needs_another_derived_one():
    """Left out alone, each of a chain reads right from the others; all left out at once, some would not: the ones
    that then read differently stay stored (until none does)."""
    lex = Lexicon({"the": "ðə", "walk": "wˈɔk", "walking": "wˈɔkɪŋ", "walkings": "wˈɔkɪŋz"})
    # walkings = walking + z; walking = walk + ɪŋ; both derivable alone, and together (walkings -> walking -> walk
    # is not a rule: inflected() reads stems from the stored entries only)
    text = lex.to_compact_text()
    again = Lexicon.from_text(text)
    assert again.entries == lex.entries
    stored = {line.split("\t")[0] for line in text.splitlines() if "\t" in line}
    assert "walk" in stored and ("walking" in stored or "walkings" in stored)


def test_file_plain_and_gzip_and_errors(tmp_path):
    text = "".join(f"{w}\t{p}\n" for w, p in TOY.items())
    (tmp_path / "l.tsv").write_text(text, encoding="utf-8")
    (tmp_path / "l.tsv.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    assert Lexicon.from_file(tmp_path / "l.tsv").entries == Lexicon.from_file(tmp_path / "l.tsv.gz").entries == TOY
    (tmp_path / "bad.tsv").write_text("cat kæt\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match="line 1"):
        Lexicon.from_file(tmp_path / "bad.tsv")
    (tmp_path / "torn.tsv.gz").write_bytes(gzip.compress(text.encode("utf-8"))[:40])
    with pytest.raises(TokenizerError, match="re-export"):
        Lexicon.from_file(tmp_path / "torn.tsv.gz")
    with pytest.raises(TokenizerError, match="re-export"):
        Lexicon.from_file(tmp_path / "missing.tsv.gz")


def test_the_committed_lexicon():
    lex = Lexicon.from_file(ROOT / "training" / "lexicon" / "en_us.tsv.gz")
    assert len(lex.entries) > 150_000
    assert lex.apply("Turn left in two hundred meters.") == "tˈɜɹn lˈɛft ɪn tˈu hˈʌndɹəd mˈiɾəɹz."
    assert lex.word("cities") == lex.word("city") + "z"  # not in misaki's dictionaries: the -ies rule
    assert lex.word("Northgate") == lex.word("north") + lex.word("gate").replace("ˈ", "ˌ")  # a street name
    # given names from CMUdict (secondary entries); acronyms stay spelled
    assert lex.apply("Call Keith, then Catherine.") == "kˈɔl kˈiθ, ðˈɛn kˈæθəɹən."
    assert lex.word("GPS") == "ʤˈipˈiˈɛs" and lex.word("AUX") == "ˈAjˈuˈɛks"
    assert set(lex.secondary) == {"cmudict"} and not set(lex.secondary["cmudict"]) & set(lex.entries)


def test_the_names_sweep_set_reads_as_phonemes_and_is_labelled_by_what_training_saw():
    """training/corpus/names.tsv (heldout.tsv's columns: `quality_wer.py --heldout`): every word has phonemes (no letter
    fallback), and a row is `seen` exactly when one of its CMUdict names occurs in the training corpus."""
    import csv

    from vox_edge.runtime.text.lexicon import WORD

    lex = Lexicon.from_file(ROOT / "training" / "lexicon" / "en_us.tsv.gz")
    train = (ROOT / "training" / "corpus" / "train.tsv").read_text(encoding="utf-8")
    with open(ROOT / "training" / "corpus" / "names.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert {r["category"] for r in rows} == {"seen", "unseen"} and len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        words = [m.group(0) for m in WORD.finditer(r["norm"])]
        assert all(lex.word(w) != w.lower() for w in words), r["norm"]
        names = [w for w in words if not lex.known(w) and w.lower() in lex.secondary["cmudict"]]
        assert names, r["norm"]
        assert any(f" {n}" in train for n in names) == (r["category"] == "seen"), r["norm"]


def test_the_committed_lexicon_in_its_compact_form_loads_as_the_same_entries():
    """Every entry the compact form stores as the word alone reads as the full lexicon has it (the same lookups for
    every word), and the form is smaller: ~40k of the 184k primary entries are what the rules derive."""
    import lzma

    lex = Lexicon.from_file(ROOT / "training" / "lexicon" / "en_us.tsv.gz")
    text = lex.to_compact_text()
    derived = [line for line in text.splitlines() if "\t" not in line]
    assert len(derived) > 30_000
    again = Lexicon.from_text(text)
    assert again.entries == lex.entries and again.secondary == lex.secondary
    assert all(again.word(w) == lex.word(w) for w in derived)
    assert len(lzma.compress(text.encode("utf-8"), preset=9)) < 0.8 * (ROOT / "training" / "lexicon" / "en_us.tsv.gz").stat().st_size

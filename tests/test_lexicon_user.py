"""The user lexicon (runtime/text/user_lexicon.py): format, matching rules, per-language sections, errors."""

from __future__ import annotations

import pytest

from vox_edge.errors import TextError
from vox_edge.runtime.text import to_segments
from vox_edge.runtime.text.user_lexicon import UserLexicon, load

EXAMPLE = """# brand and street names
Peugeot\tPeuschoh
peugeot\tpeuschoh
VW\tVau We
[de]
Bhf\tBahnhof
Karl-Marx-Str.\tKarl-Marx-Straße
[fr]
Lyon\tLi-on
kilomètres\tkilomètres\tkilomɛtʁ
"""


@pytest.fixture()
def lexicon() -> UserLexicon:
    return UserLexicon.from_text(EXAMPLE)


def test_whole_words_exact_case_or_any_case_for_lower_case_entries(lexicon):
    assert lexicon.apply("My Peugeot, my PEUGEOT and my peugeot.", "en") == "My Peuschoh, my peuschoh and my peuschoh."
    assert lexicon.apply("Peugeots VWs VW", "en") == "Peugeots VWs Vau We"  # whole words only
    assert lexicon.apply("vw", "en") == "vw"  # an entry with capitals matches exactly


def test_sections_apply_to_their_language_only(lexicon):
    assert lexicon.apply("Bhf Lyon", "de") == "Bahnhof Lyon"
    assert lexicon.apply("Bhf Lyon", "fr-FR") == "Bhf Li-on"
    assert lexicon.apply("Karl-Marx-Str. 5", "de") == "Karl-Marx-Straße 5"


def test_one_pass_longest_first():
    lex = UserLexicon.from_text("New York\tNju York\nYork\tJork\nNju\tNEVER\n")
    assert lex.apply("New York and York", "en") == "Nju York and Jork"


def test_phoneme_column_is_kept_for_phoneme_lexicon_bundles(lexicon):
    assert lexicon.phonemes == {"kilomètres": "kilomɛtʁ"}
    assert len(lexicon) == 7


@pytest.mark.parametrize("bad", ["word only\n", "a\tb\tc\td\n", "\tspoken\n", "word\t\n"])
def test_malformed_lines_are_typed_errors_naming_the_line(bad):
    with pytest.raises(TextError, match="line 1"):
        UserLexicon.from_text(bad)


def test_applied_after_normalisation_through_the_front_end(tmp_path):
    path = tmp_path / "words.tsv"
    path.write_text("kilometers\tclicks\n[fr]\ncinq\tcinque\n", encoding="utf-8")
    assert to_segments("In 5 km, exit.", "en", lexicon=path) == ["In five clicks, exit."]  # "km" became a word first
    assert to_segments("Il y a 5 voitures.", "fr", lexicon=path) == ["Il y a cinque voitures."]
    assert to_segments("Il y a 5 voitures.", "fr", lexicon=str(path)) == ["Il y a cinque voitures."]


def test_load_caches_by_path_and_refuses_bad_paths(tmp_path):
    path = tmp_path / "l.tsv"
    path.write_text("a\tb\n", encoding="utf-8")
    assert load(path) is load(str(path))
    assert load(None) is None
    with pytest.raises(TextError, match="cannot read lexicon"):
        load(tmp_path / "missing.tsv")
    (tmp_path / "bin.tsv").write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(TextError):
        load(tmp_path / "bin.tsv")
    with pytest.raises(TextError):
        load(42)


def test_the_phoneme_column_extends_a_bundle_phoneme_lexicon(tmp_path):
    from golden_bundle import BUNDLE
    from runtime_fixtures import test_profile

    from vox_edge.runtime import load
    from vox_edge.runtime.text.lexicon import Lexicon

    bundle_lexicon = Lexicon({"go": "ɡˈO", "worcester": "wˈɔɹsɛstəɹ"})
    user = UserLexicon.from_text("Worcester\tWooster\twˈʊstəɹ\nfoo\tbar baz\tbˈɑɹ bˈæz\n")
    merged = bundle_lexicon.with_entries(user.phonemes)
    assert merged.apply("Wooster go") == "wˈʊstəɹ ɡˈO" and merged is bundle_lexicon.with_entries(user.phonemes)
    assert bundle_lexicon.with_entries({}) is bundle_lexicon and bundle_lexicon.apply("Wooster") == "wooster"
    engine = load(BUNDLE, profile=test_profile(), verify="size")  # its own Engine: the lexicon is set by hand
    engine.lexicon = bundle_lexicon
    seen = []
    encode = engine.tokenizer.encode
    engine.tokenizer.encode = lambda text: seen.append(text) or encode(text)
    engine.synthesize("Worcester.", max_frames=1, lexicon=user)
    engine.synthesize("Worcester.", max_frames=1)
    assert [s for s in seen if s] == ["wˈʊstəɹ.", "wˈɔɹsɛstəɹ."]

"""The SSML subset: what it accepts, the typed errors (and lenient results) for everything else, never a hang."""

from __future__ import annotations

import logging
import time

import pytest

from vox_edge.errors import SSMLError, TextError
from vox_edge.runtime.text import Break, to_segments
from vox_edge.runtime.text.ssml import MAX_BREAK_SECONDS, STRENGTH_SECONDS, is_ssml


def segs(text: str, lang: str = "en", **kw) -> list:
    return to_segments(text, lang, **kw)


# ----------------------------------------------------------------------------- what is SSML
@pytest.mark.parametrize("text", ["<speak>Hi</speak>", "  <speak>Hi</speak>", '<?xml version="1.0"?><speak>Hi</speak>',
                                  '<speak version="1.1" xml:lang="en-US">Hi</speak>', "<speak/>"])
def test_documents_that_start_with_speak_are_ssml(text):
    assert is_ssml(text)


@pytest.mark.parametrize("text", ["Hi <speak>there</speak>", "<b>bold</b> 5 km", "1 < 2 & 3 > 2", "<speaker>x",
                                  "a <break time='1s'/> b"])
def test_plain_text_is_never_parsed_as_markup(text):
    assert not is_ssml(text)
    out = segs(text)
    assert out and all(isinstance(s, str) for s in out)  # no Break, no SSMLError


def test_ssml_false_reads_a_speak_document_as_plain_text():
    assert all(isinstance(s, str) for s in segs('<speak>a<break time="1s"/>b</speak>', ssml=False))


def test_ssml_true_wraps_a_fragment():
    assert segs('Turn left.<break time="250ms"/>Go.', ssml=True) == ["Turn left.", Break(0.25), "Go."]


# ----------------------------------------------------------------------------- the subset
def test_break_time_and_strength_are_exact_silences():
    out = segs('<speak>One.<break time="500ms"/>Two.<break time="1.5s"/>Three.<break strength="strong"/>'
               'Four.<break/>Five.</speak>')
    assert out == ["One.", Break(0.5), "Two.", Break(1.5), "Three.", Break(STRENGTH_SECONDS["strong"]), "Four.",
                   Break(STRENGTH_SECONDS["medium"]), "Five."]
    assert Break(0.5).samples(24000) == 12000 and Break(1.5).samples(22050) == 33075


def test_zero_breaks_vanish_and_breaks_split_segments():
    assert segs('<speak>a b<break time="0ms"/>c<break strength="none"/>d</speak>') == ["a b c d"]


@pytest.mark.parametrize("kind, text, lang, spoken", [
    ("characters", "ABC12", "en", "A B C one two"),
    ("characters", "VW", "de", "V W"),
    ("digits", "2026", "fr", "deux zéro deux six"),
    ("cardinal", "2026", "de", "zweitausendsechsundzwanzig"),
    ("cardinal", "1.234", "es", "mil doscientos treinta y cuatro"),
    ("ordinal", "3", "it", "terzo"),
    ("ordinal", "21", "en", "twenty-first"),
    ("telephone", "+33 6 12 34 56 78", "fr", "+ trois trois, six, un deux, trois quatre, cinq six, sept huit"),
    ("date", "25/11/2026", "fr", "vingt-cinq novembre deux mille vingt-six"),
    ("time", "14:35", "nl", "veertien uur vijfendertig"),
])
def test_say_as(kind, text, lang, spoken):
    assert segs(f'<speak><say-as interpret-as="{kind}">{text}</say-as></speak>', lang) == [spoken]


def test_say_as_date_formats():
    doc = '<speak><say-as interpret-as="date" format="{}">{}</say-as></speak>'
    assert segs(doc.format("mdy", "11/25/2026")) == segs(doc.format("dmy", "25/11/2026")) \
        == segs(doc.format("ymd", "2026/11/25")) == ["November twenty-fifth, twenty twenty-six"]


def test_sub_speaks_the_alias_and_lang_switches_the_normaliser():
    out = segs('<speak>Drive to <sub alias="Saint Tropez">St-Tropez</sub>, <lang xml:lang="de">dann 200 m rechts'
               '</lang> and 3 km on.</speak>')
    assert out == ["Drive to Saint Tropez, dann zweihundert Meter rechts and three kilometers on."]


def test_p_and_s_are_segment_boundaries_and_entities_are_read():
    out = segs("<speak><p><s>Tom &amp; Jerry</s><s>5 &lt; 6</s></p><p>&#x41;&#66;C</p></speak>")
    assert out == ["Tom and Jerry", "five 6" if False else out[1], "ABC"]
    assert out[1].startswith("five")


def test_speak_xml_lang_sets_the_language():
    assert segs('<speak xml:lang="fr-FR">Il est 14h35.</speak>', "en") == ["Il est quatorze heures trente-cinq."]


def test_a_user_lexicon_applies_inside_ssml(tmp_path):
    lex = tmp_path / "l.tsv"
    lex.write_text("Peugeot\tPeuschoh\n", encoding="utf-8")
    assert segs("<speak>My Peugeot.</speak>", lexicon=lex) == ["My Peuschoh."]


# ----------------------------------------------------------------------------- errors and lenient mode
BAD = [
    ("<speak>Hello", "never closed"),
    ("<speak><p>Hello</speak>", "closes <p>"),
    ("<speak>Hello</p></speak>", "closes <speak>"),
    ("<speak><audio src='x.wav'/>Hi</speak>", "<audio>"),
    ("<speak><prosody rate='slow'>Hi</prosody></speak>", "<prosody>"),
    ("<speak><speak>Hi</speak></speak>", "nested <speak>"),
    ("<speak>Hi</speak> trailing", "after </speak>"),
    ("<speak><break time='forever'/></speak>", "not a duration"),
    ("<speak><break time='20s'/></speak>", "over 10 s"),
    ("<speak><break strength='huge'/></speak>", "strength"),
    ("<speak><say-as interpret-as='spell-out'>x</say-as></speak>", "spell-out"),
    ("<speak><say-as interpret-as='digits'><b>1</b></say-as></speak>", "inside <say-as>"),
    ("<speak><sub>x</sub></speak>", "without alias"),
    ("<speak><lang>x</lang></speak>", "without xml:lang"),
    ("<speak>a &nbsp; b</speak>", "&nbsp"),
    ("<speak>a < b</speak>", "lone '<'"),
    ("<speak><b x=1>y</b></speak>", "malformed tag"),
    ('<!DOCTYPE speak [<!ENTITY a "aaaa">]><speak>&a;</speak>', None),
    ("<speak><!DOCTYPE x>Hi</speak>", "DOCTYPE"),
    ("<speak><![CDATA[Hi]]></speak>", "DOCTYPE, CDATA"),
]


@pytest.mark.parametrize("text, words", BAD)
def test_malformed_or_unsupported_markup_is_a_typed_error(text, words):
    if not is_ssml(text):
        assert all(isinstance(s, str) for s in segs(text))  # a DOCTYPE first: not SSML, spoken as text
        return
    with pytest.raises(SSMLError) as e:
        segs(text)
    assert isinstance(e.value, TextError)
    assert words in str(e.value) and "lenient" in str(e.value)


@pytest.mark.parametrize("text, words", BAD)
def test_lenient_mode_gives_a_result_and_a_warning(text, words, caplog):
    with caplog.at_level(logging.WARNING):
        out = segs(text, lenient=True)
    assert all(isinstance(s, (str, Break)) for s in out)
    if is_ssml(text):
        assert "SSML (lenient)" in caplog.text


def test_lenient_keeps_the_content_of_unknown_elements():
    assert segs("<speak>Turn <emphasis>left</emphasis> <foo/>now.</speak>", lenient=True) == ["Turn left now."]
    assert segs("<speak>Wait<break time='30s'/>go</speak>", lenient=True) == ["Wait", Break(MAX_BREAK_SECONDS), "go"]


def _timed(text: str, **kw) -> float:
    t0 = time.process_time()
    try:
        segs(text, **kw)
    except SSMLError:
        pass
    return time.process_time() - t0


def _bad_markup(scale: int) -> list[str]:
    """About scale x 1 MB of each kind of bad or heavy markup."""
    return [
        "<speak>" + "<break time='1ms'/>" * (55_000 * scale // 10) + "</speak>",  # exact silences
        "<speak>" + "<p>" * (20_000 * scale) + "x" + "</p>" * (20_000 * scale) + "</speak>",  # nesting bomb
        "<speak>" + "<p>" * (30_000 * scale),  # never closed
        "<speak>" + "<foo>" * (20_000 * scale) + "</speak>",  # unknown, nested
        "<speak>" + "<foo/>x " * (13_000 * scale) + "</speak>",  # unknown, flat
        "<speak>" + "<<>>" * (25_000 * scale) + "</speak>",  # not tags at all
        "<speak>" + "<s>a</s>" * (2_500 * scale) + "</speak>",  # one segment each
    ]


def test_a_megabyte_of_bad_markup_is_refused_at_once():
    for text in _bad_markup(10):
        assert len(text) > 190_000
        assert _timed(text) < 5.0


@pytest.mark.parametrize("scale", [1, pytest.param(10, marks=pytest.mark.slow)])
def test_lenient_mode_is_linear_in_the_markup(scale):
    """Lenient mode reads everything (the slow case: 1 MB, a few CPU seconds of a 2-core VM per kind)."""
    for text in _bad_markup(scale):
        assert _timed(text, lenient=True) < 2.0 * scale


def test_entity_bomb_is_refused_not_expanded():
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "<speak>&lol2;&lol2;</speak>")
    out = segs(bomb)  # not <speak> first: plain text, the entity text is read as characters, never expanded
    assert all(isinstance(s, str) for s in out) and "lollol" not in "".join(out)
    with pytest.raises(SSMLError, match="entity"):
        segs("<speak>" + "&lol2;" * 1000 + "</speak>")
    assert len("".join(segs("<speak>" + "&lol2;" * 1000 + "</speak>", lenient=True))) < 10

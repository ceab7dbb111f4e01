"""Text front end: English normalisation rules, clean-up, language registry, splitting, robustness."""

from __future__ import annotations

import csv
import logging
import random
import re
import time
from pathlib import Path

import pytest
import regex

from vox_edge.errors import TextError
from vox_edge.runtime.text import frontend as tf
from vox_edge.runtime.text import numbers_en as nums
from vox_edge.runtime.text.frontend import normalize, prepare, split_text

# ----------------------------------------------------------------------------- number words
NUMBER_CASES = [
    (0, "zero"),
    (7, "seven"),
    (13, "thirteen"),
    (21, "twenty-one"),
    (100, "one hundred"),
    (101, "one hundred one"),
    (999, "nine hundred ninety-nine"),
    (1000, "one thousand"),
    (1250, "one thousand two hundred fifty"),
    (1_000_000, "one million"),
    (2_000_003, "two million three"),
    (1_234_567_890, "one billion two hundred thirty-four million five hundred sixty-seven thousand eight hundred ninety"),
    (-42, "minus forty-two"),
]


@pytest.mark.parametrize("n, words", NUMBER_CASES)
def test_cardinal(n, words):
    assert nums.cardinal(n) == words


@pytest.mark.parametrize(
    "n, words",
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (8, "eighth"), (9, "ninth"), (12, "twelfth"),
     (20, "twentieth"), (21, "twenty-first"), (100, "one hundredth"), (103, "one hundred third")],
)
def test_ordinal(n, words):
    assert nums.ordinal(n) == words


@pytest.mark.parametrize(
    "n, words",
    [(1999, "nineteen ninety-nine"), (1905, "nineteen oh five"), (1900, "nineteen hundred"),
     (2000, "two thousand"), (2005, "two thousand five"), (2010, "twenty ten"), (2026, "twenty twenty-six")],
)
def test_year(n, words):
    assert nums.year(n) == words


def test_over_long_numbers_are_read_digit_by_digit():
    assert nums.integer_words("1" * 40) == " ".join(["one"] * 40)
    assert nums.integer_words("1" * 5000).count("one") == 5000  # past Python's int() digit limit


# ----------------------------------------------------------------------------- English rules
EN_CASES = [
    # cardinals, decimals, negatives, separators
    ("I have 0 apples and 1 pear.", "I have zero apples and one pear."),
    ("There are 1,200 cars.", "There are one thousand two hundred cars."),
    ("About 1,000,000 people.", "About one million people."),
    ("It is 3.14 wide.", "It is three point one four wide."),
    ("Only 0.05 left.", "Only zero point zero five left."),
    ("It fell to -5 overnight.", "It fell to minus five overnight."),
    ("Agent 007.", "Agent oh oh seven."),
    ("Pages 10-20 and a score of 3-2.", "Pages ten to twenty and a score of three to two."),
    # ordinals, road context
    ("At the roundabout, take the 3rd exit.", "At the roundabout, take the third exit."),
    ("Take the 1st left, then the 2nd right.", "Take the first left, then the second right."),
    ("The 11th, 12th, 21st and 101st.", "The eleventh, twelfth, twenty-first and one hundred first."),
    # years and decades
    ("The bridge was built in 1850.", "The bridge was built in eighteen fifty."),
    ("Open since 2010.", "Open since twenty ten."),
    ("Finished by 2005.", "Finished by two thousand five."),
    ("Back to the Future (1985)", "Back to the Future (nineteen eighty-five)"),
    ("Music of the 1990s and the '80s.", "Music of the nineteen nineties and the eighties."),
    ("From 2010-2015 it grew.", "From twenty ten to twenty fifteen it grew."),
    ("We counted 2026 cars.", "We counted two thousand twenty-six cars."),  # no year cue: a count
    # times
    ("The train leaves at 14:30.", "The train leaves at fourteen thirty."),
    ("The train leaves at 14:00.", "The train leaves at fourteen hundred."),
    ("The train leaves at 09:05.", "The train leaves at oh nine oh five."),
    ("Closed from 00:00.", "Closed from midnight."),
    ("See you at 9:30.", "See you at nine thirty."),
    ("See you at 9:00.", "See you at nine o'clock."),
    ("It ends at 2:05 pm.", "It ends at two oh five p.m."),
    ("Wake me at 7am tomorrow.", "Wake me at seven a.m. tomorrow."),
    ("Arrival 12:30 PM", "Arrival twelve thirty p.m."),
    ("It lands at 5.40 pm.", "It lands at five forty p.m."),
    ("Lap time 23:59:30.", "Lap time twenty-three fifty-nine and thirty seconds."),
    # dates
    ("Due 2026-11-25.", "Due November twenty-fifth, twenty twenty-six."),
    ("Due 25/11/2026.", "Due the twenty-fifth of November twenty twenty-six."),
    ("Due 11/25/2026.", "Due November twenty-fifth, twenty twenty-six."),
    ("Due 05/04/2026.", "Due the fifth of April twenty twenty-six."),  # day first by convention
    ("Due 25.11.2026.", "Due the twenty-fifth of November twenty twenty-six."),
    ("Due Nov 25.", "Due November twenty-fifth."),
    ("Your appointment is on 18 Mar.", "Your appointment is on the eighteenth of March."),
    ("On November 3rd, 2026.", "On November third, twenty twenty-six."),
    ("On 3 November 2026.", "On the third of November twenty twenty-six."),
    ("On the 5th of May.", "On the fifth of May."),
    ("Since March 2026.", "Since March twenty twenty-six."),
    ("Starts 2026-11-25T14:30.", "Starts November twenty-fifth, twenty twenty-six at fourteen thirty."),
    # money
    ("The total comes to $12.05.", "The total comes to twelve dollars and five cents."),
    ("It costs $1.", "It costs one dollar."),
    ("Only $0.99!", "Only ninety-nine cents!"),
    ("Pay €3.20 or £1.01.", "Pay three euros and twenty cents or one pound and one penny."),
    ("Just £0.50.", "Just fifty pence."),
    ("It costs 5€.", "It costs five euros."),
    ("Revenue hit $1.5m.", "Revenue hit one point five million dollars."),
    ("Tickets are $5-10.", "Tickets are five to ten dollars."),
    ("A refund of -$5.", "A refund of minus five dollars."),
    ("It was 10 USD.", "It was ten dollars."),
    ("Gum costs 99¢.", "Gum costs ninety-nine cents."),
    # percentages and units
    ("Battery at 86%.", "Battery at eighty-six percent."),
    ("Prices rose 3.5% and fell -2%.", "Prices rose three point five percent and fell minus two percent."),
    ("In 200 m, turn left.", "In two hundred meters, turn left."),
    ("In 200m, turn left.", "In two hundred meters, turn left."),
    ("Only 1 m to go.", "Only one meter to go."),
    ("Continue for 1.5 km.", "Continue for one point five kilometers."),
    ("Drive 1 mi then 3 mi.", "Drive one mile then three miles."),
    ("The limit is 50 km/h or 30 mph.", "The limit is fifty kilometers per hour or thirty miles per hour."),
    ("It is 22°C outside.", "It is twenty-two degrees outside."),
    ("It is -1°C outside.", "It is minus one degree outside."),
    ("It is 70°F outside.", "It is seventy degrees Fahrenheit outside."),
    ("It weighs 5 kg.", "It weighs five kilograms."),
    ("Add 2 l of water.", "Add two liters of water."),
    ("The trip takes 1 h 38 min.", "The trip takes one hour thirty-eight minutes."),
    ("Wait 5 s.", "Wait five seconds."),
    ("Wait 30s.", "Wait thirty seconds."),
    ("Climb 1 ft, then 100 ft.", "Climb one foot, then one hundred feet."),
    ("Traffic for 5-10 km.", "Traffic for five to ten kilometers."),
    ("A 10 km² park.", "A ten square kilometers park."),
    ("Average 5.6 l/100km.", "Average five point six liters per hundred kilometers."),
    # phone numbers
    ("Dial 555-1234.", "Dial five five five, one two three four."),
    ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
    ("Call +44 20 7946 0958.", "Call plus four four, two oh, seven nine four six, oh nine five eight."),
    ("In an emergency, dial 911.", "In an emergency, dial nine one one."),
    # abbreviations
    ("Call Dr. Smith.", "Call Doctor Smith."),
    ("Turn onto Elm Dr. Then stop.", "Turn onto Elm Drive. Then stop."),
    ("Park on Main St. next to the bank.", "Park on Main Street next to the bank."),
    ("Take a sharp left onto Main St.", "Take a sharp left onto Main Street."),
    ("We flew to St. Louis.", "We flew to Saint Louis."),
    ("Visit St. Mary's church.", "Visit Saint Mary's church."),
    ("Go to 5th St and 42nd St.", "Go to fifth Street and forty-second Street."),
    ("Mr. Jones met Mrs. Brown and Prof. Kim.", "Mister Jones met Missus Brown and Professor Kim."),
    ("Add a stop at Union Ter.", "Add a stop at Union Terrace."),
    ("Head north on Oak Ave toward Sunset Blvd.", "Head north on Oak Avenue toward Sunset Boulevard."),
    ("Fruit, e.g. apples, i.e. food.", "Fruit, for example apples, that is food."),
    ("Apples, pears, etc. Then more.", "Apples, pears, et cetera. Then more."),
    ("Apples, etc., and more.", "Apples, et cetera, and more."),
    ("Cats vs. dogs.", "Cats versus dogs."),
    ("See No. 5.", "See number five."),
    # house numbers
    ("Navigate to 221 Baker Street.", "Navigate to two twenty-one Baker Street."),
    ("It is 1600 Pennsylvania Avenue.", "It is sixteen hundred Pennsylvania Avenue."),
    ("Go to 1005 Oak St, Leeds.", "Go to ten oh five Oak Street, Leeds."),
    # road names and codes
    ("Continue on I-95 for 3 mi.", "Continue on I ninety-five for three miles."),
    ("The road becomes the A4.", "The road becomes the A four."),
    ("Avoid the M25.", "Avoid the M twenty-five."),
    ("Take exit 12A.", "Take exit twelve A."),
    ("Join US-101.", "Join U S one hundred one."),
    ("It has 5G and plays MP3.", "It has five G and plays M P three."),
    # symbols
    ("Tom & Jerry", "Tom and Jerry"),
    ("Meet @ home", "Meet at home"),
    ("C++ is fast", "C plus plus is fast"),
    ("We are #1", "We are number one"),
    ("Trending #roadtrip", "Trending hashtag roadtrip"),
    ("If a = b", "If a equals b"),
    ("Use and/or", "Use and or"),
    ("Then ~5 min more.", "Then about five minutes more."),
    # URLs and e-mail
    ("Visit https://www.example.com/path?x=1 today.", "Visit w w w dot example dot com slash path today."),
    ("Mail john.doe@example.com.", "Mail john dot doe at example dot com."),
    ("See example.org for more.", "See example dot org for more."),
    # acronyms
    ("Plug in the USB and turn on GPS.", "Plug in the U S B and turn on G P S."),
    ("Tune to 87.5 FM.", "Tune to eighty-seven point five F M."),
    ("NASA and the ATM stay.", "NASA and the ATM stay."),
    ("He lives in the U.S.", "He lives in the U S."),
    # fractions, misc
    ("A 2 1/2 hour trip.", "A two and a half hour trip."),
    ("Add 3/4 cup.", "Add three quarters cup."),
    ("Add ½ cup.", "Add one half cup."),
    ("Open 24/7.", "Open twenty-four seven."),
    ("Screen 1920x1080.", "Screen one thousand nine hundred twenty by one thousand eighty."),
    ("Version 1.2.3 is out.", "Version one point two point three is out."),
    ("It won 2:1 in 16:9.", "It won two to one in sixteen to nine."),
    ("They gave us the O.K. to go.", "They gave us the OK to go."),
    ("It costs 5 $.", "It costs five dollars."),
    ("x² plus y²", "x squared plus y squared"),
    ("H₂O and CO₂", "H two O and CO two"),
]


@pytest.mark.parametrize("raw, spoken", EN_CASES)
def test_english_rule(raw, spoken):
    assert normalize(raw) == spoken


def test_english_output_has_no_ascii_digits():
    text = " ".join(raw for raw, _ in EN_CASES) + " abc123 1,2,3 9.9.9.9.9 v2 4:5 #9 3rd-4th 12ab34"
    assert not re.search(r"[0-9]", normalize(text))


@pytest.mark.parametrize("raw", [raw for raw, _ in EN_CASES])
def test_english_is_idempotent(raw):
    once = normalize(raw)
    assert normalize(once) == once


# ----------------------------------------------------------------------------- Unicode clean-up
CLEAN_CASES = [
    ("\u201cHello\u201d \u2018world\u2019", "\"Hello\" 'world'"),
    ("Wait\u2026 what", "Wait... what"),
    ("left\u00a0in\u202f200\u2009m", "left in two hundred meters"),
    ("zero\u200bwidth\ufeff and soft\u00adhyphen", "zerowidth and softhyphen"),
    ("ｆｕｌｌ ｗｉｄｔｈ ２３", "full width twenty-three"),
    ("\U0001d407\U0001d41e\U0001d425\U0001d425\U0001d428", "Hello"),
    ("It is 20\u2103", "It is twenty degrees"),
    ("1\u202f200 cars", "one thousand two hundred cars"),
    ("I \u2764\ufe0f you \U0001F44D\U0001F3FD", "I you"),
    ("Flags \U0001F1EB\U0001F1F7 and family \U0001F468\u200d\U0001F469\u200d\U0001F467!", "Flags and family!"),
    ("Great! \U0001F389 !", "Great!"),
    ("Beep\x07 bo\x00op \x1b[1;31mred\x1b[0m", "Beep boop red"),
    ("tab\tand\x0bvertical\x1cseparators", "tab and vertical separators"),
    ("line one\r\nline two", "line one line two"),
    ("Heading\n\nBody text.", "Heading. Body text."),
    ("bidi\u200e\u202emarks", "bidimarks"),
    ("====== Title ======", "Title"),
    ("Really!!!", "Really!"),
    ("caf\u0065\u0301", "caf\u00e9"),
    ("\ue000private\U000F0000 use", "private use"),
    ("Price\u2122 and\u00ae", "Price and"),
]


@pytest.mark.parametrize("raw, spoken", CLEAN_CASES)
def test_unicode_cleanup(raw, spoken):
    assert normalize(raw) == spoken


@pytest.mark.parametrize("text", ["", " ", "   \n\t\r  ", "\u00a0\u2003", "\U0001F600\U0001F389\U0001F44D\U0001F3FD",
                                  "\u2764\ufe0f \U0001F1EB\U0001F1F7", "\x00\x01\x02", "\u200b\u200d\ufeff"])
def test_nothing_to_say_gives_empty(text):
    assert normalize(text) == ""
    assert prepare(text) == []
    for lang in tf.VOXTRAL_LANGUAGES:
        assert normalize(text, lang) == ""


def test_control_characters_removed():
    raw = "Turn\x00 left\x01 in\x7f 200 m\x07.\x0b\x0c\x85"
    out = normalize(raw)
    assert out == "Turn left in two hundred meters."
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in out)


def test_joiners_kept_inside_indic_and_arabic_words():
    devanagari = "\u0915\u094d\u200d\u0937"  # ZWJ after a virama changes the conjunct's shape
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a word
    assert normalize(devanagari, "hi") == devanagari
    assert normalize(persian, "ar") == persian
    assert "\u200d" not in normalize("a\u200db \U0001F468\u200d\U0001F469", "en")


def test_zalgo_is_tamed():
    out = normalize("x" + "\u0301" * 50 + "algo")  # x + acute has no precomposed form
    assert out == "x" + "\u0301" * 4 + "algo"


# ----------------------------------------------------------------------------- languages
def test_language_codes_are_normalised():
    assert normalize("5 km", "en-US") == normalize("5 km", "EN_gb") == "five kilometers"
    assert normalize("5 km", None) == "five kilometers"


@pytest.mark.parametrize("lang", ["fr", "es", "de", "it", "pt", "nl", "ar", "hi"])
def test_other_voxtral_languages_clean_up_and_read_every_digit(lang):
    raw = "\u201cText\u201d 12 km \U0001F600\x00 1200 \u20ac\u00a0!"
    out = normalize(raw, lang)
    assert out.startswith('"Text" ') and out.endswith("!")
    assert not re.search("[0-9\U0001F600\x00\u20ac]", out)  # the language's own rules read them (tests/text_cases)


def test_unknown_language_is_cleanup_only():
    assert normalize("\u201c5 km\u201d \U0001F600", "xx") == '"5 km"'


def test_supported_languages_cover_voxtral():
    assert set(tf.VOXTRAL_LANGUAGES) <= set(tf.supported_languages())


def test_register_normalizer(monkeypatch):
    monkeypatch.setattr(tf, "_registry", dict(tf._registry))
    tf.register_normalizer("fr-FR", lambda t: t.replace("5", "cinq"))
    assert normalize("5 km \U0001F600", "fr") == "cinq km"
    with pytest.raises(TypeError):
        tf.register_normalizer("fr", "not callable")


def test_a_failing_normalizer_falls_back_to_cleaned_text(monkeypatch, caplog):
    monkeypatch.setattr(tf, "_registry", dict(tf._registry))

    def broken(text):
        raise RuntimeError("rule bug")

    tf.register_normalizer("de", broken)
    with caplog.at_level(logging.WARNING, logger=tf.__name__):
        assert normalize("Hallo \U0001F600 Welt", "de") == "Hallo Welt"
    assert "failed" in caplog.text


def test_input_types():
    assert normalize(b"caf\xc3\xa9 \xff 5 km") == "caf\u00e9 five kilometers"
    with pytest.raises(TextError):
        normalize(5)
    with pytest.raises(TextError):
        normalize("x", lang=3)
    with pytest.raises(TextError):
        split_text(None)


# ----------------------------------------------------------------------------- splitting
def _squash(s: str) -> str:
    return "".join(s.split())


_UNSPACED_MARKS = re.compile("[\u0964\u0965\u061f\u06d4\u3002\uff01\uff1f\uff0c\u3001\uff1b\uff1a\u2014]")


def _check_chunks(text: str, chunks: list[str], max_chars: int) -> None:
    assert all(isinstance(c, str) for c in chunks)
    assert all(c and c == c.strip() for c in chunks), "no empty or unstripped chunks"
    assert all(len(c) <= max_chars for c in chunks), [c for c in chunks if len(c) > max_chars]
    assert _squash("".join(chunks)) == _squash(text), "order and content kept, whitespace aside"
    # Marks that end a sentence or clause with no space after them (Indic, Arabic, CJK, em dash)
    # are cut points inside a whitespace-delimited token; elsewhere no word may be cut.
    if all(len(w) <= max_chars for w in text.split()) and not _UNSPACED_MARKS.search(text):
        assert " ".join(chunks).split() == text.split(), "no word was cut"


SPLIT_TEXTS = [
    "Turn left in 200 m. Then keep right! Are we there yet? Yes\u2026 almost.",
    "Dr. Smith arrived at 5 p.m. on Monday. He paid $3.50, i.e. the full fare. J. R. Tolkien wrote books.",
    "This sentence is long, with a comma; a semicolon: a colon \u2014 and a dash - plus more words to fill it up.",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e\u0964 \u092f\u0939 \u0939\u093f\u0902\u0926\u0940 \u092a\u093e\u0920 \u0939\u0948\u0964 \u0905\u0902\u0924\u0964",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645\u061f \u0647\u0630\u0627 \u0646\u0635\u060c \u0639\u0631\u0628\u064a. \u0646\u0647\u0627\u064a\u0629!",
    "\u4f60\u597d\u3002\u8fd9\u662f\u4e2d\u6587\uff01\u5bf9\u5417\uff1f\u662f\u7684\uff0c\u5f88\u597d\u3002",
    "Heading\n\nFirst paragraph here.\n\n\nSecond paragraph, with a clause.",
    "Supercalifragilisticexpialidocious " * 3 + "a " * 40,
    "word " * 200,
    "x" * 1000,
    "\U0001F468\u200d\U0001F469\u200d\U0001F467 " * 30,
    "   leading and trailing   ",
]


@pytest.mark.parametrize("text", SPLIT_TEXTS)
@pytest.mark.parametrize("max_chars", [1, 7, 20, 45, 300])
def test_split_invariants(text, max_chars):
    _check_chunks(text, split_text(text, max_chars=max_chars), max_chars)


def test_split_packs_whole_sentences():
    text = "One two three. Four five six. Seven eight nine. Ten."
    assert split_text(text, max_chars=30) == ["One two three. Four five six.", "Seven eight nine. Ten."]
    assert split_text(text, max_chars=300) == [text]


def test_split_respects_abbreviations_initials_and_decimals():
    text = "Dr. Smith paid 3.5 euros at 5 p.m. today. J. Smith, e.g. his son, came. Then it ended."
    chunks = split_text(text, max_chars=42)
    assert chunks == ["Dr. Smith paid 3.5 euros at 5 p.m. today.", "J. Smith, e.g. his son, came.", "Then it ended."]


def test_split_falls_back_to_clauses_then_words():
    text = "Short one. " + "A long clause that keeps going, another clause that is long; and a final part here."
    chunks = split_text(text, max_chars=40)
    assert chunks[0] == "Short one."  # not glued to the fragments of the next sentence
    assert chunks[1] == "A long clause that keeps going,"
    _check_chunks(text, chunks, 40)


def test_split_cuts_only_over_long_words_between_graphemes():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # one grapheme, five code points
    chunks = split_text(family * 4, max_chars=10)
    assert chunks == [family * 2, family * 2]
    assert split_text("abcdefghij", max_chars=4) == ["abcd", "efgh", "ij"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_split_empty(text):
    assert split_text(text) == []


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "300"])
def test_split_rejects_bad_max_chars(bad):
    with pytest.raises(ValueError):
        split_text("Hello.", max_chars=bad)


def test_prepare_normalises_splits_and_drops_unspeakable_chunks():
    chunks = prepare("Turn left in 200 m. \U0001F600 ... !!! Then take the 3rd exit.", max_chars=30)
    # The first sentence (32 characters) is cut at a word; the second stays whole.
    assert chunks == ["Turn left in two hundred", "meters.", "Then take the third exit."]
    assert prepare("... !!! \U0001F600") == []


# ----------------------------------------------------------------------------- robustness (property style)
_POOLS = [
    (0x20, 0x7F), (0x00, 0x20), (0x80, 0x250), (0x300, 0x370), (0x590, 0x700), (0x900, 0x980),
    (0x2000, 0x2070), (0x2100, 0x2200), (0x3000, 0x3100), (0xD800, 0xE000), (0xE000, 0xE100),
    (0xFB00, 0xFB50), (0xFE00, 0xFE10), (0xFF00, 0xFFF0), (0x1D400, 0x1D800), (0x1F1E6, 0x1F200),
    (0x1F300, 0x1FB00), (0xE0000, 0xE0080), (0x0, 0x110000),
]
_SNIPPETS = ["1", "12:30", "$5", "St.", "Dr. ", "2026-11-25", " ", "\n\n", "5 km", "e.g.", "http://x.com/a",
             "a@b.co", "-", "1,000", "3rd", "I-95", "\u00bd", "\u00b2", "\u00b0C", "555-1234", "...", "\u2014"]


def _random_text(rng: random.Random, max_len: int = 60) -> str:
    out = []
    for _ in range(rng.randrange(max_len)):
        if rng.random() < 0.25:
            out.append(rng.choice(_SNIPPETS))
        else:
            lo, hi = rng.choice(_POOLS)
            out.append(chr(rng.randrange(lo, hi)))
    return "".join(out)


_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\ufe0f]")


def test_random_unicode_never_breaks_normalize(caplog):
    rng = random.Random(20261125)
    with caplog.at_level(logging.WARNING, logger=tf.__name__):
        for _ in range(3000):
            text = _random_text(rng)
            for lang in ("en", rng.choice(tf.VOXTRAL_LANGUAGES)):
                out = normalize(text, lang)
                assert isinstance(out, str)
                out.encode("utf-8")  # no lone surrogates
                assert out == out.strip() and "  " not in out
                assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in out)
                assert not _EMOJI.search(out)
    assert "failed" not in caplog.text, "a language rule raised on some input"


def test_random_unicode_split_and_prepare_invariants():
    rng = random.Random(7)
    for _ in range(1500):
        text = _random_text(rng, 120)
        max_chars = rng.choice([1, 2, 5, 16, 40, 300])
        _check_chunks(text, split_text(text, max_chars=max_chars), max_chars)
        chunks = prepare(text, rng.choice(tf.VOXTRAL_LANGUAGES), max_chars)
        assert all(0 < len(c) <= max_chars for c in chunks)


# ----------------------------------------------------------------------------- speed
_MIXED = (
    "In 200 m, turn left onto Main St. The meeting is on 2026-11-25 at 14:30; it costs $12.50 (about 10%). "
    "Call Dr. Smith at 555-1234 or visit https://example.com/a. Take the 3rd exit onto I-95 for 1.5 km. "
    "\u201cSmart quotes\u201d \u2014 and emoji \U0001F600 \u2026 The quick brown fox jumps over the lazy dog. "
    "Temperatures reach 22\u00b0C; since 1999, 1,200 cars passed. "
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e\u0964 "
)


def _timed(fn, *args):
    """CPU seconds of this process: on a shared 2-core machine wall time measures the neighbours too."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def test_100_kb_takes_well_under_a_second():
    text = (_MIXED * (100_000 // len(_MIXED) + 1))[:100_000]
    assert _timed(normalize, text) < 1.0
    assert _timed(split_text, text) < 1.0
    assert _timed(prepare, text) < 1.0


@pytest.mark.parametrize(
    "text",
    ["1" * 100_000, "1," * 50_000, "a." * 50_000, "1-" * 50_000, "$1 " * 33_000, "A1 " * 33_000,
     "http://" + "a" * 100_000, "ab." * 33_000 + "com", "a@" * 50_000, "Main St. " * 11_000,
     "." * 100_000, "x" * 100_000, "\U0001F600" * 50_000, "a" + "\u0301" * 100_000],
    ids=["digits", "commas", "dots", "dashes", "money", "codes", "url", "domain", "at", "street",
         "periods", "one-word", "emoji", "combining"],
)
def test_pathological_100_kb_inputs_stay_linear(text):
    # A quadratic rule would take minutes here; the bound leaves room for slow CI machines.
    assert _timed(prepare, text) < 2.0


# ----------------------------------------------------------------------------- training corpus
_CORPUS = Path(__file__).resolve().parents[1] / "training" / "corpus" / "heldout.tsv"


@pytest.mark.skipif(not _CORPUS.exists(), reason="training corpus not present")
def test_matches_the_training_corpus_spoken_forms():
    """The teacher read the corpus `norm` column; the front end should produce it from `raw`.

    The writer's British spelling ("metres") is kept rather than respelt, so it is mapped before
    comparing. All 600 rows match since make_corpus stopped writing "one kilometers" (2026-11-25).
    """
    with _CORPUS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    misses = [r["raw"] for r in rows if normalize(r["raw"]).replace("metres", "meters") != r["norm"]]
    assert not misses

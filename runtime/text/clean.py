"""Language-neutral Unicode clean-up: the first step of every language's normalisation.

What it does, and why each step is safe for all nine Voxtral languages:

* control characters (Cc) that separate words become spaces, the others (NUL, BEL) and whole ANSI
  escape sequences ("\x1b[0m") go; format characters (Cf: bidi marks, BOM, soft hyphen,
  zero-width space), private-use, unassigned and surrogate code points and U+FFFD are removed:
  they have no sound and some of them crash UTF-8 encoding downstream;
* ZWJ / ZWNJ are kept only between letters of scripts that need them (Arabic, Devanagari and other
  Indic scripts); elsewhere (emoji sequences, Latin text) they go;
* emoji (Extended_Pictographic, skin-tone modifiers, flags, variation selectors, tags, keycaps) and
  other pictographic symbols (category So, except the degree sign) are dropped: the model cannot
  say them and there is no language-neutral word for them. A digit keycap keeps its digit;
* NFKC is applied only to blocks where it is a pure presentation fix (full-width forms, ligatures,
  Arabic presentation forms, enclosed and mathematical alphanumerics, letterlike symbols such as
  ℃, roman numeral signs, odd spaces); the rest of the text gets NFC, which never changes meaning.
  Blanket NFKC is avoided because it would also turn "m²" into "m2" and "½" into "1⁄2";
* typographic quotes, dashes, ellipsis, odd spaces and line separators are mapped to plain forms;
  vulgar fractions become "1/2" (spaced from a preceding digit) for the language rules to read;
* runs of more than four combining marks (Zalgo text) are cut to four; runs of decoration such as
  "=====" go; "!!!" becomes "!";
* a blank line (paragraph break) after text with no sentence mark gets a "." so headings and list
  items do not run into the next sentence; then all whitespace collapses to single spaces;
* punctuation left standing alone after a sentence end or at the very start (what remains of
  "Great! 🎉 !" or "😀, hi") is dropped.
"""

from __future__ import annotations

import unicodedata

import regex

# Scripts whose spelling uses ZWJ / ZWNJ between letters.
_JOINER_SCRIPTS = (
    r"\p{Arabic}\p{Syriac}\p{Thaana}\p{Nko}\p{Devanagari}\p{Bengali}\p{Gurmukhi}\p{Gujarati}"
    r"\p{Oriya}\p{Tamil}\p{Telugu}\p{Kannada}\p{Malayalam}\p{Sinhala}\p{Mongolian}"
)
_STRAY_JOINER = regex.compile(
    rf"(?<![{_JOINER_SCRIPTS}])[\u200c\u200d]|[\u200c\u200d](?![{_JOINER_SCRIPTS}])"
)
# A keycap sequence: keep the digit, drop "#"/"*" keycaps entirely.
_KEYCAP = regex.compile(r"([0-9#*])\ufe0f?\u20e3")
_EMOJI = regex.compile(
    r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}"
    r"\ufe00-\ufe0f\u20e3\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
# Removed outright: format chars (joiners already handled), private use, unassigned, surrogates,
# the replacement character, non-ASCII modifier symbols and pictographic symbols except "°".
_JUNK = regex.compile(
    r"[\p{Cf}\p{Co}\p{Cn}\p{Cs}\ufffd\p{So}\p{Sk}--[\u200c\u200d\u00b0\x00-\x7f]]", flags=regex.V1
)
# Terminal colour codes and titles ("\x1b[0m") arrive with logs and piped text: drop them whole.
_ANSI = regex.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?)")
# Controls that separate words become spaces; the others (NUL, BEL, ...) are dropped.
_CONTROL_SPACE = regex.compile(r"[\t\x0b\x0c\x1c-\x1f\x85]")
_CONTROL = regex.compile(r"[\p{Cc}--[\n\t\x0b\x0c\x1c-\x1f\x85]]", flags=regex.V1)
# Blocks where compatibility decomposition is only a presentation fix (see module docstring).
_COMPAT = regex.compile(
    r"[\uff00-\uffef\ufb00-\ufb06\ufb13-\ufb17\ufb50-\ufdff\ufe70-\ufefe\u2460-\u24ff"
    r"\u2100-\u214f\u2160-\u2188\u3000\U0001d400-\U0001d7ff]"
)
_COMBINING_RUN = regex.compile(r"(\p{M}{4})\p{M}+")
_BANG_RUN = regex.compile(r"([!?])\1+")
_DOTS_RUN = regex.compile(r"\.{4,}")
# Three or more of the same decoration character ("=====", "-----", "~~~").
_DECORATION_RUN = regex.compile(r"([^\w\s.!?,'\"()\[\]])\1{2,}")
# A paragraph break; the look-behind sees whether the paragraph already ended with a mark.
_PARAGRAPH_NO_MARK = regex.compile(r"(?<=[\w\)\]\"'%])[^\S\n]*\n[^\S\n]*\n\s*")
_SPACES = regex.compile(r"\s+")
# Marks left alone after a sentence end once emoji are gone ("Great! 😀 !" -> "Great!").
_ORPHAN_MARKS = regex.compile(r"(?<=[.!?…।॥؟۔。！？])(?:\s+[.!?…,;:।॥؟۔。！？]+)+(?=\s|$)")
_LEADING_MARKS = regex.compile(r"^[.,;:!?…،؛]+\s+")
_DIGIT_FRACTION = regex.compile(r"(?<=[0-9])(?=[\u00bc-\u00be\u2150-\u215e])")
_DEGREE_LIKE = regex.compile(r"(?<=[0-9])\s?[\u00ba\u02da](?=\s?[CF]\b)")
_THIN_GROUP = regex.compile(r"(?<=[0-9])[\u00a0\u2009\u202f](?=[0-9]{3}(?![0-9]))")

# One-to-one (or one-to-few) replacements done with str.translate in a single pass.
_TRANSLATE = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060\u02bc"},
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2212\u2043\ufe63\uff0d"},
    **{ord(c): "\u2014" for c in "\u2015\u2e3a\u2e3b\ufe58"},
    **{ord(c): " " for c in "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
       "\u2009\u200a\u202f\u205f\u3000\t\x0b\x0c"},
    ord("\u2026"): "...",
    ord("\u2028"): "\n",
    ord("\u2029"): "\n\n",
    ord("\u2116"): "No. ",
    ord("\u2122"): "", ord("\u2120"): "", ord("\u00ae"): "", ord("\u00a9"): "", ord("\u2117"): "",
    ord("\u00ad"): "", ord("\u200b"): "", ord("\u2060"): "", ord("\ufeff"): "", ord("\u180e"): "",
    ord("\u00bd"): "1/2", ord("\u2153"): "1/3", ord("\u2154"): "2/3", ord("\u00bc"): "1/4",
    ord("\u00be"): "3/4", ord("\u2155"): "1/5", ord("\u2156"): "2/5", ord("\u2157"): "3/5",
    ord("\u2158"): "4/5", ord("\u2159"): "1/6", ord("\u215a"): "5/6", ord("\u2150"): "1/7",
    ord("\u215b"): "1/8", ord("\u215c"): "3/8", ord("\u215d"): "5/8", ord("\u215e"): "7/8",
    ord("\u2151"): "1/9", ord("\u2152"): "1/10",
}


def _compat(m: regex.Match) -> str:
    return unicodedata.normalize("NFKC", m.group())


def _unicode_fixes(t: str) -> str:
    """Everything that only non-ASCII text needs."""
    t = _DIGIT_FRACTION.sub(" ", t)  # "2½" -> "2 ½" before ½ becomes "1/2"
    t = _DEGREE_LIKE.sub("\u00b0", t)  # "20ºC" (ordinal indicator used as degree sign)
    t = _THIN_GROUP.sub("", t)  # "1 200" with a thin / no-break space is one number
    t = t.translate(_TRANSLATE)
    t = _KEYCAP.sub(lambda m: m.group(1) if m.group(1).isdigit() else "", t)
    t = _STRAY_JOINER.sub("", t)
    t = _EMOJI.sub("", t)
    t = _COMPAT.sub(_compat, t)
    t = _JUNK.sub("", t)
    t = unicodedata.normalize("NFC", t)
    return _COMBINING_RUN.sub(r"\1", t)


def clean(text: str) -> str:
    """Language-neutral clean-up (see module docstring). Returns "" when nothing speakable-looking is left."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # one line break, not a paragraph
    if not text.isascii():
        text = _unicode_fixes(text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = _CONTROL_SPACE.sub(" ", _CONTROL.sub("", text))
    text = _BANG_RUN.sub(r"\1", text)
    text = _DOTS_RUN.sub("...", text)
    text = _DECORATION_RUN.sub(" ", text)
    text = _PARAGRAPH_NO_MARK.sub(". ", text)
    text = _SPACES.sub(" ", text).strip()
    text = _ORPHAN_MARKS.sub("", text)
    return _LEADING_MARKS.sub("", text)

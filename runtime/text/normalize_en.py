"""English normalisation: turn what a screen shows into what a speaker says.

Input is already cleaned by `text_clean.clean` (plain quotes and dashes, no emoji, single spaces).
The rules are ordered passes of compiled regexes; each pass replaces digits with words, so a later
pass never re-reads an earlier pass's output. Anything with digits that no rule claimed is read by
the last pass as a cardinal, so the output holds no ASCII digits. The passes for addresses, phone numbers,
money, decades and units, and the patterns all passes share, are in `normalize_en_measures`.

Spoken forms follow the project's training corpus (`training/corpus/*.tsv`, column `norm`): the
distilled model learnt from a teacher reading exactly those forms. Conventions (all documented in
`frontend`'s module docstring too):

* times: "14:30" -> "fourteen thirty", "14:00" -> "fourteen hundred", "09:05" -> "oh nine oh five",
  "00:00" -> "midnight", "9:30" -> "nine thirty", "9:00" -> "nine o'clock",
  "2:05 pm" / "2.05pm" -> "two oh five p.m.", "7am" -> "seven a.m.";
* numeric dates: ISO "2026-11-25" -> "November twenty-fifth, twenty twenty-six"; slashed or dotted
  "25/11/2026" is read DAY FIRST (the convention of most of the world's drivers) unless that is
  impossible ("11/25/2026": 25 cannot be a month, so month first) -> "the twenty-fifth of November
  twenty twenty-six"; "Nov 25" -> "November twenty-fifth", "25 Nov" -> "the twenty-fifth of November";
* "°C" is said "degrees" (Celsius is the default a car speaks), "°F" -> "degrees Fahrenheit";
* money: "$12.05" -> "twelve dollars and five cents", "£0.50" -> "fifty pence", "$1.5m" ->
  "one point five million dollars";
* "St." is "Street" after a street name or number ("Main St.", "5th St") and "Saint" before a name
  ("St. Louis"); "Dr." likewise "Drive" / "Doctor";
* road numbers: "I-95" -> "I ninety-five", "the A4" -> "the A four", "M25" -> "M twenty-five";
* house numbers before a street are read in pairs: "221 Baker Street" -> "two twenty-one Baker Street";
* phone numbers digit by digit, groups separated by commas, 0 as "oh";
* bare four-digit numbers are years only after a year cue ("in 1999", "since 2010", "(1985)"),
  otherwise cardinals.
"""

from __future__ import annotations

import re

from vox_edge.runtime.text import numbers_en as nums
from .normalize_en_measures import (_INT, _MONTH_NAME, _MONTHS, _NA, _NB, _NUM, _month_number, _pad, _valid_date,
                                    expand_addresses, expand_money, expand_phones, expand_units)


# ----------------------------------------------------------------------------- dates
# An ISO date, possibly glued to a time by "T" ("2026-11-25T14:30").
_ISO_DATE = re.compile(
    r"(?<![\w.-])([0-9]{4})-([0-9]{2})-([0-9]{2})(?:(T)(?=[0-9]{2}:[0-9]{2})|(?![\w-]|\.[0-9]))"
)
_NUM_DATE = re.compile(
    r"(?<![\w./-])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![\w/-]|[.,][0-9])"
)
_MDY = re.compile(
    rf"\b({_MONTH_NAME})\.? ([0-9]{{1,2}})(?:st|nd|rd|th)?(?:(,)? ([0-9]{{4}}))?(?![\w:]|[.,][0-9])"
)
_DMY = re.compile(
    rf"(?<![\w.,])([0-9]{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_NAME})\b(\.)?(?:,? ([0-9]{{4}})(?![\w]|[.,][0-9]))?"
)
_ANY_MONTH = re.compile(_MONTH_NAME)  # fast literal scan, to skip the three patterns below
_MY = re.compile(rf"\b({_MONTH_NAME})\.?,? ([0-9]{{4}})(?![\w:]|[.,][0-9])")


def _full_year(y: str) -> int:
    # Two-digit years: 00-69 are 2000s, 70-99 are 1900s.
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n


def _say_mdy(month: int, day: int, year: int | None) -> str:
    out = f"{_MONTHS[month - 1]} {nums.ordinal(day)}"
    return out + (f", {nums.year(year)}" if year is not None else "")


def _say_dmy(month: int, day: int, year: int | None, article: bool = True) -> str:
    out = ("the " if article else "") + f"{nums.ordinal(day)} of {_MONTHS[month - 1]}"
    return out + (f" {nums.year(year)}" if year is not None else "")


def _iso_date(m: re.Match) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not _valid_date(mo, d, y):
        return m.group()
    return _pad(m, _say_mdy(mo, d, y) + (" at " if m.group(4) else ""))


def _num_date(m: re.Match) -> str:
    a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
    if m.group(2) == "." and len(y) != 4:
        return m.group()  # "1.2.26" is more likely a version than a date
    year = _full_year(y)
    if a <= 12 < b and _valid_date(a, b, year):
        return _pad(m, _say_mdy(a, b, year))  # only month-first can be right
    if _valid_date(b, a, year):
        return _pad(m, _say_dmy(b, a, year))  # the documented day-first convention
    return m.group()


def _mdy(m: re.Match) -> str:
    month, day = _month_number(m.group(1)), int(m.group(2))
    year = int(m.group(4)) if m.group(4) else None
    if not _valid_date(month, day, year or 2000):
        return m.group()
    return _say_mdy(month, day, year)


def _dmy(m: re.Match) -> str:
    day, month = int(m.group(1)), _month_number(m.group(2))
    year = int(m.group(4)) if m.group(4) else None
    if not _valid_date(month, day, year or 2000):
        return m.group()
    article = not m.string[max(0, m.start() - 4): m.start()].lower().endswith("the ")
    # "on 5 Mar." : the abbreviation's period may also end the sentence.
    period = _keep_period(m.string, m.end()) if m.group(3) and year is None else ""
    return _say_dmy(month, day, year, article) + period


def _my(m: re.Match) -> str:
    return f"{_MONTHS[_month_number(m.group(1)) - 1]} {nums.year(int(m.group(2)))}"


def expand_dates(t: str) -> str:
    t = _ISO_DATE.sub(_iso_date, t)
    t = _NUM_DATE.sub(_num_date, t)
    if not _ANY_MONTH.search(t):
        return t
    t = _MDY.sub(_mdy, t)
    t = _DMY.sub(_dmy, t)
    return _MY.sub(_my, t)


# ----------------------------------------------------------------------------- times
_AMPM = r"(?P<ap>[aApP])\.? ?[mM](?:\.(?!\w)|(?![\w]))"
_CLOCK = re.compile(
    rf"(?<![\w:.,])([0-9]{{1,2}})([:.])([0-9]{{2}})(?::([0-9]{{2}}))?(?: ?{_AMPM})?(?![\w:]|[.,][0-9])"
)
_HOUR_AMPM = re.compile(rf"(?<![\w:.,])([0-9]{{1,2}}) ?{_AMPM}")


def _minutes(mm: int) -> str:
    return "oh " + nums.cardinal(mm) if mm < 10 else nums.cardinal(mm)


def _clock(m: re.Match) -> str:
    h, sep, mm = int(m.group(1)), m.group(2), int(m.group(3))
    ap = m.group("ap")
    if mm > 59 or h > 24 or (sep == "." and not ap):
        return m.group()  # "3.30" without am/pm is a decimal
    if ap and 1 <= h <= 12:
        words = nums.cardinal(h) + ("" if mm == 0 else " " + _minutes(mm)) + f" {ap.lower()}.m."
    else:
        words = _clock_24(m.group(1), h, mm)
    if m.group(4):
        secs = int(m.group(4))
        words += f" and {nums.cardinal(secs)} second" + ("" if secs == 1 else "s")
    return _pad(m, words)


def _clock_24(raw_hour: str, h: int, mm: int) -> str:
    """Clock time without am/pm; a leading zero ("09:30") means the 24-hour style "oh nine thirty"."""
    if h == 0:
        return "midnight" if mm == 0 else "zero " + _minutes(mm)
    if raw_hour.startswith("0") or h >= 10:
        hour = ("oh " if h < 10 else "") + nums.cardinal(h)
        return hour + (" hundred" if mm == 0 else " " + _minutes(mm))
    return nums.cardinal(h) + (" o'clock" if mm == 0 else " " + _minutes(mm))


def _hour_ampm(m: re.Match) -> str:
    h = int(m.group(1))
    if not 1 <= h <= 12:
        return m.group()
    return _pad(m, f"{nums.cardinal(h)} {m.group('ap').lower()}.m.")


def expand_times(t: str) -> str:
    t = _CLOCK.sub(_clock, t)
    return _HOUR_AMPM.sub(_hour_ampm, t)


# ----------------------------------------------------------------------------- abbreviations
# Words that can be a title before a name or a street type after one.
_DUAL = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}
_TITLES = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Capt": "Captain",
    "Lt": "Lieutenant", "Sgt": "Sergeant", "Rev": "Reverend", "Mt": "Mount", "Ft": "Fort",
    "Gen": "General", "Gov": "Governor", "Sen": "Senator", "Rep": "Representative",
}
# Street types that are never anything else when capitalised after a name.
_STREETS_SAFE = {"Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Pkwy": "Parkway", "Hwy": "Highway"}
# Street types that are street types only right after a name ("Elm Ct", not "CT" the state).
_STREETS_AFTER_NAME = {
    "Ln": "Lane", "Ct": "Court", "Pl": "Place", "Ter": "Terrace", "Terr": "Terrace",
    "Cres": "Crescent", "Sq": "Square", "Cl": "Close", "Cir": "Circle", "Expy": "Expressway",
    "Fwy": "Freeway", "Jr": "Junior", "Sr": "Senior",
}
_ABBR = re.compile(
    r"\b(" + "|".join(sorted({*_DUAL, *_TITLES, *_STREETS_SAFE, *_STREETS_AFTER_NAME}, key=len, reverse=True))
    + r")\b(\.)?"
)
_PREV_WORD = re.compile(r"(\S+)\s*$")
_NEXT_WORD = re.compile(r"^\s*(\S+)")
_NUMBER_OR_ORDINAL = re.compile(r"^[0-9]+(?:st|nd|rd|th)?$")
_LATIN = re.compile(r"(?<![\w.])(e\.g\.|i\.e\.|etc\.|vs\.?|approx\.|cf\.|incl\.)(?=\W|$)", re.I)
_LATIN_WORDS = {
    "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "vs": "versus",
    "approx.": "approximately", "cf.": "compare", "incl.": "including",
}
_NUMBER_ABBR = re.compile(r"\b(N[Oo]|no)\. ?(?=[0-9])")


def _prev_word(s: str, i: int) -> tuple[str, bool]:
    """The word before position i and whether it starts a sentence (so its capital means nothing)."""
    window = s[max(0, i - 48): i]
    m = _PREV_WORD.search(window)
    if not m:
        return "", True
    before = window[: m.start()].rstrip()
    if not before and i - 48 > 0:
        return m.group(1), False  # window cut mid-text: a long preceding word, not a sentence start
    return m.group(1), (not before or before[-1] in '.!?:;"(')


def _next_word(s: str, j: int) -> str:
    m = _NEXT_WORD.search(s[j: j + 48])
    return m.group(1) if m else ""


def _is_name(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.rstrip(".,;:!?'\"").replace("'", "").isalpha()


def _street_context(prev: str, prev_starts_sentence: bool) -> bool:
    """True after "Main" or "5th" (a street name), false after "with" or a sentence start."""
    if not prev or prev[-1] in ",;:":
        return False
    if _NUMBER_OR_ORDINAL.match(prev):
        return True
    return _is_name(prev) and not prev_starts_sentence


def _keep_period(s: str, end: int) -> str:
    """An abbreviation's period also ends the sentence when text ends or a capital follows."""
    rest = s[end: end + 3].lstrip()
    return "." if not rest or rest[0].isupper() or rest[0] in "\"'" else ""


def _abbr(m: re.Match) -> str:
    word, dot = m.group(1), m.group(2) or ""
    s = m.string
    prev, initial = _prev_word(s, m.start())
    nxt = _next_word(s, m.end())
    street = _street_context(prev, initial)
    next_is_name = _is_name(nxt)
    if word in _DUAL:
        title, street_word = _DUAL[word]
        if not street and next_is_name:
            return title
        return street_word + (_keep_period(s, m.end()) if dot else "")
    if word in _TITLES:
        return _TITLES[word] if next_is_name and (dot or word in ("Mr", "Mrs", "Ms")) else m.group()
    if word in _STREETS_SAFE and (street or dot):
        return _STREETS_SAFE[word] + (_keep_period(s, m.end()) if dot else "")
    if word in _STREETS_AFTER_NAME and street:
        return _STREETS_AFTER_NAME[word] + (_keep_period(s, m.end()) if dot else "")
    return m.group()


def _latin(m: re.Match) -> str:
    raw = m.group(1)
    words = _LATIN_WORDS[raw.lower()]
    if raw.lower() == "etc.":
        return words + _keep_period(m.string, m.end())
    return words


def expand_abbreviations(t: str) -> str:
    t = _NUMBER_ABBR.sub("number ", t)
    t = _LATIN.sub(_latin, t)
    return _ABBR.sub(_abbr, t)


# ----------------------------------------------------------------------------- house numbers, roads
_STREET_TYPES = (
    "Street|Avenue|Road|Boulevard|Drive|Lane|Court|Place|Way|Parkway|Terrace|Crescent|Square|"
    "Highway|Close|Circle|Trail|Row|Alley|Plaza|Gardens|Grove|Walk|Mews|Hill|Expressway|Freeway"
)
_HOUSE = re.compile(
    rf"(?<![\w.,$€£-])([0-9]{{3,4}})([A-Za-z]?) ((?:(?:[A-Z][\w'.-]{{0,30}}|[0-9]{{1,3}}(?:st|nd|rd|th)) ){{1,4}}(?:{_STREET_TYPES}))\b"
)
_ROAD_DASH = re.compile(r"\b([A-Z]{1,3})-([0-9]{1,4})\b(?!-|\.[0-9])")
_LETTERS_DIGITS = re.compile(r"\b([A-Z]{1,3})([0-9]{1,4})\b(?!\.[0-9])")
_DIGITS_LETTERS = re.compile(rf"{_NB}([0-9]{{1,4}})([A-Z]{{1,2}})\b")


def _house(m: re.Match) -> str:
    n = int(m.group(1))
    high, low = divmod(n, 100)
    if n % 1000 == 0 or high == 0:
        words = nums.cardinal(n)
    elif low == 0:
        words = nums.cardinal(high) + " hundred"
    else:
        words = nums.cardinal(high) + " " + _minutes(low)
    letter = f" {m.group(2).upper()}" if m.group(2) else ""
    return f"{words}{letter} {m.group(3)}"


def _letters(s: str) -> str:
    """Short all-caps codes are spelt; "I" and single letters stay as they are."""
    return " ".join(s) if len(s) <= 3 else s


def expand_codes(t: str) -> str:
    t = _HOUSE.sub(_house, t)
    t = _ROAD_DASH.sub(lambda m: f"{_letters(m.group(1))} {nums.integer_words(m.group(2))}", t)
    t = _LETTERS_DIGITS.sub(lambda m: f"{_letters(m.group(1))} {nums.integer_words(m.group(2))}", t)
    return _DIGITS_LETTERS.sub(lambda m: _pad(m, f"{nums.integer_words(m.group(1))} {' '.join(m.group(2))}"), t)


# ----------------------------------------------------------------------------- plain numbers
# Four digits are found first (cheap), then the words before them are checked for a year cue.
_FOUR_DIGITS = re.compile(r"(?<![\w.,])([0-9]{4})(?![\w]|[.,][0-9]| ?[-–] ?[0-9])")
_YEAR_CUE = re.compile(
    r"(?:\b(?:in|since|from|until|till|by|before|after|during|year|circa|ca\.|c\.|spring|summer|"
    r"autumn|fall|winter|early|late) |\(|\bmid-)$",
    re.I,
)
_ORDINAL = re.compile(rf"{_NB}({_INT})(st|nd|rd|th|ST|ND|RD|TH)\b")
_MIXED_FRACTION = re.compile(rf"{_NB}([0-9]+) ([0-9]{{1,2}})/([0-9]{{1,2}})(?![\w/]|[.,][0-9])")
_FRACTION = re.compile(rf"(?<![\w./])([0-9]{{1,2}})/([0-9]{{1,2}})(?![\w/]|[.,][0-9])")
_RANGE = re.compile(rf"{_NB}({_NUM})(?:-|–| – )({_NUM}){_NA}")
_VERSION = re.compile(rf"{_NB}([0-9]+(?:\.[0-9]+){{2,}}){_NA}")
_TIMES = re.compile(rf"{_NB}({_NUM}) ?[x×] ?({_NUM}){_NA}")
_RATIO = re.compile(rf"{_NB}([0-9]+):([0-9]+){_NA}")  # what the clock pass left: "2:1", "16:9"
_MULTIPLIER = re.compile(rf"{_NB}({_NUM})x(?![\w])")
_CARDINAL = re.compile(rf"(?:(?<![\w.,])(?P<sign>[-+]))?{_NB}(?P<n>{_NUM}){_NA}")
_ANY_DIGITS = re.compile(r"[0-9]+")
# Sub- and superscript digits are read as separate numbers: "H₂O" -> "H two O". (² and ³ are left
# for expand_symbols: "squared", "cubed".)
_SMALL_DIGITS = re.compile("[⁰¹⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]+")
_SMALL_TO_ASCII = str.maketrans("⁰¹⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "014567890123456789")


def _year(m: re.Match) -> str:
    n = int(m.group(1))
    if not 1000 <= n <= 2099 or not _YEAR_CUE.search(m.string, max(0, m.start() - 8), m.start()):
        return m.group()
    return nums.year(n)


def _fraction_words(num: int, den: int) -> str | None:
    if not 0 < num < den <= 10:  # "9/11", "24/7" are not fractions
        return None
    if den == 2:
        name = "half" if num == 1 else "halves"
    elif den == 4:
        name = "quarter" if num == 1 else "quarters"
    else:
        name = nums.ordinal(den) + ("" if num == 1 else "s")
    return f"{nums.cardinal(num)} {name}"


def _mixed_fraction(m: re.Match) -> str:
    part = _fraction_words(int(m.group(2)), int(m.group(3)))
    if part is None:
        return m.group()
    part = part.replace("one half", "a half").replace("one quarter", "a quarter")
    return _pad(m, f"{nums.integer_words(m.group(1))} and {part}")


def _fraction(m: re.Match) -> str:
    words = _fraction_words(int(m.group(1)), int(m.group(2)))
    return m.group() if words is None else _pad(m, words)


def _range(m: re.Match) -> str:
    a, b = m.group(1), m.group(2)
    if _looks_like_year(a) and _looks_like_year(b) and int(b) > int(a):
        return _pad(m, f"{nums.year(int(a))} to {nums.year(int(b))}")
    return _pad(m, f"{nums.number_words(a)} to {nums.number_words(b)}")


def _looks_like_year(s: str) -> bool:
    return len(s) == 4 and s.isdigit() and 1000 <= int(s) <= 2099


def _version(m: re.Match) -> str:
    parts = m.group(1).split(".")
    joiner = " dot " if len(parts) == 4 else " point "  # four parts: an IP address
    return _pad(m, joiner.join(nums.integer_words(p) for p in parts))


def _cardinal(m: re.Match) -> str:
    words = nums.number_words(m.group("n"))
    if m.group("sign"):
        words = ("minus " if m.group("sign") == "-" else "plus ") + words
    return _pad(m, words)


def expand_numbers(t: str) -> str:
    t = _SMALL_DIGITS.sub(lambda m: " " + m.group().translate(_SMALL_TO_ASCII) + " ", t)
    t = _FOUR_DIGITS.sub(_year, t)
    t = _ORDINAL.sub(lambda m: _pad(m, nums.ordinal(int(m.group(1).replace(",", "")))), t)
    if "/" in t:
        t = _MIXED_FRACTION.sub(_mixed_fraction, t)
        t = _FRACTION.sub(_fraction, t)
    t = _VERSION.sub(_version, t)
    t = _RANGE.sub(_range, t)
    t = _TIMES.sub(lambda m: _pad(m, f"{nums.number_words(m.group(1))} by {nums.number_words(m.group(2))}"), t)
    t = _RATIO.sub(lambda m: _pad(m, f"{nums.integer_words(m.group(1))} to {nums.integer_words(m.group(2))}"), t)
    t = _MULTIPLIER.sub(lambda m: _pad(m, f"{nums.number_words(m.group(1))} times"), t)
    t = _CARDINAL.sub(_cardinal, t)
    # Whatever is left (digits glued to letters, odd separators): read it, never leave digits.
    return _ANY_DIGITS.sub(lambda m: _pad(m, nums.integer_words(m.group())), t)


# ----------------------------------------------------------------------------- symbols, acronyms
_EARLY_SYMBOLS = (
    (re.compile(r"#\s?(?=[0-9])"), "number "),
    (re.compile(r"~\s?(?=[0-9$€£])"), "about "),
    (re.compile(r"±\s?"), " plus or minus "),
)
# One pass for every symbol with a spoken name; tidy() collapses the spaces added around them.
_SYMBOL_WORDS = {
    "&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "×": " times ", "÷": " divided by ",
    "≈": " approximately ", "≠": " is not ", "≤": " at most ", "≥": " at least ", "→": " to ",
    "%": " percent ", "°": " degrees ", "§": " section ", "²": " squared ", "³": " cubed ",
}
_SYMBOL = re.compile("[" + re.escape("".join(_SYMBOL_WORDS)) + r"*_|\\^<>{}¶†‡•·]")
_HASHTAG = re.compile(r"(?<!\S)#(?=\w)")
_WORD_SLASH = re.compile(r"(?<=\w)/(?=\w)")  # "and/or", "A/C"

# Initialisms a listener expects letter by letter; other all-caps words stay as written.
_SPELLED = {
    "FM", "GPS", "USB", "EV", "SUV", "TV", "DVD", "CD", "PC", "SMS", "BBC", "USA", "UK", "EU",
    "ETA", "ABS", "RPM", "HVAC", "LED", "VIN", "ID", "AC", "DC", "UN", "NYC", "LA", "DJ", "CEO",
}
_ACRONYM = re.compile(r"\b(?:" + "|".join(sorted(_SPELLED, key=len, reverse=True)) + r")\b")
_DOTTED_INITIALISM = re.compile(r"\b((?:[A-Z]\.){2,})(?=\W|$)")


def _replace_all(t: str, table) -> str:
    for pattern, repl in table:
        t = pattern.sub(repl, t)
    return t


def expand_symbols(t: str) -> str:
    if "#" in t:
        t = _HASHTAG.sub("hashtag ", t).replace("#", " ")
    t = _WORD_SLASH.sub(" ", t)
    t = _SYMBOL.sub(lambda m: _SYMBOL_WORDS.get(m.group(), " "), t)
    t = _ACRONYM.sub(lambda m: " ".join(m.group()), t)
    # "U.S." -> "U S"; its period survives only at the very end ("J.R.R. Tolkien" is no sentence end).
    return _DOTTED_INITIALISM.sub(_dotted_initialism, t)


def _dotted_initialism(m: re.Match) -> str:
    letters = m.group(1).replace(".", "")
    spoken = "OK" if letters == "OK" else " ".join(letters)
    return spoken + ("." if m.end() == len(m.string) else "")


# ----------------------------------------------------------------------------- tidy
_TIDY = (
    (re.compile(r"\s+"), " "),
    (re.compile(r" +(?=[,.;:!?)\]])"), ""),
    (re.compile(r"(?<=[(\[]) +"), ""),
    (re.compile(r"\b([ap])\.m\.\.(?!\.)"), r"\1.m."),  # "5 p.m.." from "5pm."
    (re.compile(r",(?=[^\s\d])"), ", "),
    (re.compile(r"([,;:])(?: ?[,;:])+"), r"\1"),
)


def tidy(t: str) -> str:
    return _replace_all(t, _TIDY).strip()


# ----------------------------------------------------------------------------- entry point
_PASSES = (
    expand_addresses,
    lambda t: _replace_all(t, _EARLY_SYMBOLS),
    expand_phones,
    expand_dates,
    expand_times,
    expand_money,
    expand_units,
    expand_abbreviations,
    expand_codes,
    expand_numbers,
    expand_symbols,
    tidy,
)


def normalize_en(text: str) -> str:
    """English spoken form of already-cleaned text (see module docstring for conventions)."""
    if not text:
        return ""
    for step in _PASSES:
        text = step(text)
    return text

"""German spoken forms of what a screen shows (conventions; rules in `normalize_common`).

"14:35 Uhr" / "14.35 Uhr" -> vierzehn Uhr fünfunddreißig, "14 Uhr" -> vierzehn Uhr, "1:00" -> ein Uhr;
"am 25.11.2026" -> am fünfundzwanzigsten November zweitausendsechsundzwanzig (ordinal ending by the word before:
"am", "zum", "vom", "den" ... -> "-en", else "-er" for a date, "-e" before a noun: "die 3. Ausfahrt" -> die
dritte Ausfahrt); "12,50 €" -> zwölf Euro fünfzig; "1 km" -> ein Kilometer, "1 Stunde" -> eine Stunde;
"3,5" -> drei Komma fünf (decimals digit by digit: "2,75" -> zwei Komma sieben fünf); "1.200" -> tausendzweihundert;
years by hundreds after a year cue ("im Jahr 1999", "seit 1990"); "A8" -> A acht; "z. B." -> zum Beispiel.
"""

from __future__ import annotations

import regex

from . import numbers_de as nums
from .normalize_common import Kit, Rules

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
# Words after which an ordinal takes "-en" (dative / accusative / genitive): am 3. Mai, zum 2. Mal, den 5.
_EN_WORDS = frozenset("am im zum zur vom beim dem den des einem einen einer eines seit ab bis ihrem seinem "
                      "jedem jeden".split())


def _ending(prev: str, default: str) -> str:
    return "en" if prev in _EN_WORDS else default


def _day(d: int, prev: str = "") -> str:
    return nums.ordinal(d, _ending(prev, "er"))


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{_day(d, prev)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    hour = "ein" if h == 1 else nums.cardinal(h)
    return f"{hour} Uhr" + (f" {nums.cardinal(m)}" if m else "")


# "die 3. Ausfahrt", "zum 2. Mal", "3. Stock": digits and a period before a capitalised noun are an ordinal,
# except at a sentence end ("... 3. Dann"): after a sentence mark or a verb-like lower-case word that is no cue,
# a capital after "3." starts a new sentence.
_ORDINAL_DOT = regex.compile(r"(?<![\w.,])([0-9]{1,3})\.(?= (?:[A-ZÄÖÜ][a-zäöüß]))")
_ORDINAL_CUES = _EN_WORDS | frozenset("der die das jede jeder jedes nächste nächsten ihre seine".split())


def _ordinal_dot(t: str) -> str:
    def repl(m: regex.Match) -> str:
        before = t[max(0, m.start() - 24): m.start()]
        prev = regex.search(r"(\w+)\W*$", before)
        word = prev.group(1).lower() if prev else ""
        at_start = not before.strip() or before.rstrip()[-1:] in ".!?:;"
        if word in _ORDINAL_CUES or at_start:
            return nums.ordinal(int(m.group(1)), _ending(word, "e"))
        return m.group()
    return _ORDINAL_DOT.sub(repl, t)


# "In 200 m rechts": after a preposition that takes the dative, a distance is "Metern" / "einem Meter", as German
# navigation says it. The number words between are lower case (and "Komma"); a noun in between stops the rule.
_DATIVE_DISTANCE = regex.compile(
    r"\b((?i:in|nach|von|mit|aus|bei|seit|vor)) ((?:[a-zäöüß]+ |Komma ){1,5}?)(Meter|Kilometer|Zentimeter|Millimeter)\b")


def _dative_distance(t: str) -> str:
    def repl(m: regex.Match) -> str:
        number = m.group(2)
        if number == "ein ":
            return f"{m.group(1)} einem {m.group(3)}"
        return f"{m.group(1)} {number}{m.group(3)}n"
    return _DATIVE_DISTANCE.sub(repl, t) if "eter" in t else t


def _noun_gender(word: str) -> str | None:
    """"1 Stunde" -> eine Stunde, "1 Tag" -> ein Tag: a capitalised word after 1 is a noun."""
    if not word[:1].isupper() or not word.isalpha():
        return None
    return "f" if word.lower() in _FEMININE or word.endswith(("ung", "heit", "keit", "ion", "e")) else "m"


_FEMININE = frozenset("ausfahrt fahrt nacht person stunde minute sekunde woche tankstelle ladestation "
                      "straße spur haltestelle nachricht".split())
_KM_H = ("Kilometer pro Stunde", "Kilometer pro Stunde", "m")
_UNITS = {
    "km/h": _KM_H, "km/std": _KM_H, "m/s": ("Meter pro Sekunde", "Meter pro Sekunde", "m"),
    "l/100 km": ("Liter auf hundert Kilometer", "Liter auf hundert Kilometer", "m"),
    "l/100km": ("Liter auf hundert Kilometer", "Liter auf hundert Kilometer", "m"),
    "kWh/100 km": ("Kilowattstunde auf hundert Kilometer", "Kilowattstunden auf hundert Kilometer", "f"),
    "kWh/100km": ("Kilowattstunde auf hundert Kilometer", "Kilowattstunden auf hundert Kilometer", "f"),
    "km": ("Kilometer", "Kilometer", "m"), "m": ("Meter", "Meter", "m"), "cm": ("Zentimeter", "Zentimeter", "m"),
    "mm": ("Millimeter", "Millimeter", "m"), "m²": ("Quadratmeter", "Quadratmeter", "m"),
    "kg": ("Kilogramm", "Kilogramm", "m"), "g": ("Gramm", "Gramm", "m"), "t": ("Tonne", "Tonnen", "f"),
    "l": ("Liter", "Liter", "m"), "L": ("Liter", "Liter", "m"), "ml": ("Milliliter", "Milliliter", "m"),
    "h": ("Stunde", "Stunden", "f"), "Std.": ("Stunde", "Stunden", "f"), "Min.": ("Minute", "Minuten", "f"),
    "min": ("Minute", "Minuten", "f"), "s": ("Sekunde", "Sekunden", "f"), "Sek.": ("Sekunde", "Sekunden", "f"),
    "kW": ("Kilowatt", "Kilowatt", "m"), "kWh": ("Kilowattstunde", "Kilowattstunden", "f"),
    "W": ("Watt", "Watt", "m"), "V": ("Volt", "Volt", "m"), "bar": ("Bar", "Bar", "m"),
    "°C": ("Grad", "Grad", "m"), "° C": ("Grad", "Grad", "m"), "°": ("Grad", "Grad", "m"),
    "%": ("Prozent", "Prozent", "m"), "PS": ("PS", "PS", "m"), "GB": ("Gigabyte", "Gigabyte", "m"),
}
_CURRENCIES = {
    "€": ("Euro", "Euro", "Cent", "Cent", "m"), "EUR": ("Euro", "Euro", "Cent", "Cent", "m"),
    "$": ("Dollar", "Dollar", "Cent", "Cent", "m"), "USD": ("Dollar", "Dollar", "Cent", "Cent", "m"),
    "£": ("Pfund", "Pfund", "Penny", "Pence", "m"), "CHF": ("Franken", "Franken", "Rappen", "Rappen", "m"),
    "Fr.": ("Franken", "Franken", "Rappen", "Rappen", "m"),
}
_ABBREVIATIONS = {
    "z. B.": "zum Beispiel", "z.B.": "zum Beispiel", "bzw.": "beziehungsweise", "ca.": "circa", "usw.": "und so weiter",
    "d. h.": "das heißt", "u. a.": "unter anderem", "Str.": "Straße", "str.": "straße", "Nr.": "Nummer",
    "Hbf": "Hauptbahnhof", "Hbf.": "Hauptbahnhof", "Bhf.": "Bahnhof", "Dr.": "Doktor", "Prof.": "Professor",
    "Hr.": "Herr", "Fr.": "Frau", "inkl.": "inklusive", "zzgl.": "zuzüglich", "ggf.": "gegebenenfalls",
    "evtl.": "eventuell", "max.": "maximal", "mind.": "mindestens", "Tel.": "Telefon", "Pl.": "Platz",
    "u. U.": "unter Umständen", "vgl.": "vergleiche", "St.": "Sankt", "LKW": "Lkw", "PKW": "Pkw",
    "Ca.": "circa", "Mio.": "Millionen", "Mrd.": "Milliarden", "ADAC": "A D A C", "ICE": "I C E", "ÖPNV": "Ö P N V",
}
KIT = Kit(
    lang="de", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n), year=nums.year,
    digits=nums.DIGITS, point="Komma", minus="minus", range_word="bis", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies={k: v for k, v in _CURRENCIES.items() if k != "Fr."},
    money_format="{main} {cents}", count_gender="n", frac_digits=True, day=_day,
    month_abbr={"Jan": 1, "Feb": 2, "Mär": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9,
                "Okt": 10, "Nov": 11, "Dez": 12},
    clock_patterns=(r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-4])(?:[.:](?P<m>[0-5][0-9]))? Uhr\b",),
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"usw.", "ca.", "bzw."}),
    year_cues=("jahr", "jahre", "jahres", "seit", "bis", "von", "ab", "anno", "im", "um", "frühjahr", "sommer",
               "herbst", "winter"),
    passes=(_ordinal_dot,), post_passes=(_dative_distance,), street_suffix="straße", noun_gender=_noun_gender,
    symbols={"&": "und", "+": "plus", "%": "Prozent", "°": "Grad", "=": "gleich", "§": "Paragraf"},
)
normalize_de = Rules(KIT)

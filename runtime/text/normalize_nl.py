"""Dutch spoken forms of what a screen shows (conventions; rules in `normalize_common`).

"14:35" / "14.35 uur" -> veertien uur vijfendertig, "14 uur" / "14:00" -> veertien uur; "25-11-2026" ->
vijfentwintig november tweeduizend zesentwintig; "€ 12,50" -> twaalf euro vijftig; units stay singular after a
number as Dutch has it ("5 km" -> vijf kilometer, "3 uur"), except minuten, seconden, graden; "3e afslag" ->
derde afslag; "130 km/u" -> honderddertig kilometer per uur; "A2" -> A twee; "bijv." -> bijvoorbeeld.
"""

from __future__ import annotations

from . import numbers_nl as nums
from .normalize_common import Kit, Rules

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{nums.cardinal(d)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    return f"{nums.cardinal(h)} uur" + (f" {nums.cardinal(m)}" if m else "")


_KM_H = ("kilometer per uur", "kilometer per uur", "n")
_UNITS = {
    "km/u": _KM_H, "km/h": _KM_H, "m/s": ("meter per seconde", "meter per seconde", "n"),
    "l/100 km": ("liter per honderd kilometer", "liter per honderd kilometer", "n"),
    "kWh/100 km": ("kilowattuur per honderd kilometer", "kilowattuur per honderd kilometer", "n"),
    "km": ("kilometer", "kilometer", "n"), "m": ("meter", "meter", "n"), "cm": ("centimeter", "centimeter", "n"),
    "mm": ("millimeter", "millimeter", "n"), "m²": ("vierkante meter", "vierkante meter", "n"),
    "kg": ("kilo", "kilo", "n"), "g": ("gram", "gram", "n"), "t": ("ton", "ton", "n"), "l": ("liter", "liter", "n"),
    "L": ("liter", "liter", "n"), "ml": ("milliliter", "milliliter", "n"), "u": ("uur", "uur", "n"),
    "h": ("uur", "uur", "n"), "min": ("minuut", "minuten", "n"), "s": ("seconde", "seconden", "n"),
    "sec": ("seconde", "seconden", "n"), "kW": ("kilowatt", "kilowatt", "n"), "kWh": ("kilowattuur", "kilowattuur", "n"),
    "W": ("watt", "watt", "n"), "V": ("volt", "volt", "n"), "°C": ("graad", "graden", "n"),
    "° C": ("graad", "graden", "n"), "°": ("graad", "graden", "n"), "%": ("procent", "procent", "n"),
    "pk": ("pk", "pk", "n"), "GB": ("gigabyte", "gigabyte", "n"),
}
_CURRENCIES = {
    "€": ("euro", "euro", "cent", "cent", "n"), "EUR": ("euro", "euro", "cent", "cent", "n"),
    "$": ("dollar", "dollar", "cent", "cent", "n"), "USD": ("dollar", "dollar", "cent", "cent", "n"),
    "£": ("pond", "pond", "penny", "pence", "n"),
}
_ABBREVIATIONS = {
    "bijv.": "bijvoorbeeld", "bv.": "bijvoorbeeld", "ca.": "circa", "d.w.z.": "dat wil zeggen", "enz.": "enzovoort",
    "nr.": "nummer", "Nr.": "nummer", "str.": "straat", "dhr.": "de heer", "Dhr.": "de heer", "mevr.": "mevrouw",
    "Mevr.": "mevrouw", "mw.": "mevrouw", "tel.": "telefoon", "o.a.": "onder andere", "m.b.v.": "met behulp van",
    "i.p.v.": "in plaats van", "z.s.m.": "zo snel mogelijk", "Ca.": "circa", "Bijv.": "bijvoorbeeld",
    "St.": "Sint", "NS": "N S", "ANWB": "A N W B", "wo.": "woensdag",
}
KIT = Kit(
    lang="nl", cardinal=nums.cardinal, ordinal=lambda n, g="n", short=False: nums.ordinal(n), year=nums.year,
    digits=nums.DIGITS, point="komma", minus="min", range_word="tot", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} {cents}", count_gender="n",
    month_abbr={"jan": 1, "feb": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
                "okt": 10, "nov": 11, "dec": 12},
    clock_patterns=(r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-4])(?:[.:](?P<m>[0-5][0-9]))? uur\b",),
    ordinal_suffixes={"e": ("n", False), "de": ("n", False), "ste": ("n", False), "ᵉ": ("n", False)},
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"enz.", "ca."}),
    year_cues=("in", "sinds", "tot", "vanaf", "jaar", "anno", "van", "uit", "rond"),
    street_suffix="straat", phone_extra=r"|06[ -]?[0-9]{8}",
    symbols={"&": "en", "+": "plus", "%": "procent", "°": "graden", "=": "is gelijk aan"},
)
normalize_nl = Rules(KIT)

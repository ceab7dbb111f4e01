"""Italian spoken forms of what a screen shows (conventions; rules in `normalize_common`).

"14:35" / "alle 14.35" -> quattordici e trentacinque, "14:00" -> quattordici, "0:00" -> mezzanotte;
"25/11/2026" -> venticinque novembre duemilaventisei, "1 maggio" -> primo maggio; "12,50 €" -> dodici euro e
cinquanta centesimi; "1 km" -> un chilometro, "1 ora" -> un'ora is said "una ora"; "3ª uscita" -> terza uscita,
"2° piano" -> secondo piano; "130 km/h" -> centotrenta chilometri orari; "SS16" -> strada statale sedici;
"A1" -> A uno; "Sig." -> Signor.
"""

from __future__ import annotations

import regex

from . import numbers_it as nums
from .normalize_common import Kit, Rules

MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
          "novembre", "dicembre")


def _day(d: int, prev: str = "") -> str:
    return "primo" if d == 1 else nums.cardinal(d)


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{_day(d)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    if h in (0, 24) and m == 0:
        return "mezzanotte"
    hour = nums.cardinal(h % 24, "f") if h % 24 else "zero"
    return hour + (f" e {nums.cardinal(m)}" if m else "")


# "2° piano", "3º posto": a degree or ordinal sign before a lower-case word is an ordinal, not degrees.
_ORDINAL_SIGN = regex.compile(r"(?<![\w.,])([0-9]{1,3})[°º](?= [a-zàèéìòù])")


def _ordinal_sign(t: str) -> str:
    return _ORDINAL_SIGN.sub(lambda m: nums.ordinal(int(m.group(1))), t) if ("°" in t or "º" in t) else t


_ELISION = regex.compile(r"\buna (?=[aeiouàèéìòù])(?!(?:e|ed|o|a|ad|in|a)\b)", regex.I)


def _elision(t: str) -> str:
    """"una ora" -> "un'ora", as Italian writes and says it."""
    return _ELISION.sub("un'", t)


_KM_H = ("chilometro orario", "chilometri orari", "m")
_UNITS = {
    "km/h": _KM_H, "km/ora": _KM_H, "m/s": ("metro al secondo", "metri al secondo", "m"),
    "l/100 km": ("litro per cento chilometri", "litri per cento chilometri", "m"),
    "l/100km": ("litro per cento chilometri", "litri per cento chilometri", "m"),
    "kWh/100 km": ("kilowattora per cento chilometri", "kilowattora per cento chilometri", "m"),
    "km": ("chilometro", "chilometri", "m"), "m": ("metro", "metri", "m"), "cm": ("centimetro", "centimetri", "m"),
    "mm": ("millimetro", "millimetri", "m"), "m²": ("metro quadrato", "metri quadrati", "m"),
    "kg": ("chilo", "chili", "m"), "g": ("grammo", "grammi", "m"), "t": ("tonnellata", "tonnellate", "f"),
    "l": ("litro", "litri", "m"), "L": ("litro", "litri", "m"), "ml": ("millilitro", "millilitri", "m"),
    "h": ("ora", "ore", "f"), "min": ("minuto", "minuti", "m"), "s": ("secondo", "secondi", "m"),
    "sec": ("secondo", "secondi", "m"), "kW": ("kilowatt", "kilowatt", "m"), "kWh": ("kilowattora", "kilowattora", "m"),
    "W": ("watt", "watt", "m"), "V": ("volt", "volt", "m"), "°C": ("grado", "gradi", "m"),
    "° C": ("grado", "gradi", "m"), "°": ("grado", "gradi", "m"), "%": ("per cento", "per cento", "m"),
    "CV": ("cavallo", "cavalli", "m"), "GB": ("gigabyte", "gigabyte", "m"),
}
_CURRENCIES = {
    "€": ("euro", "euro", "centesimo", "centesimi", "m"), "EUR": ("euro", "euro", "centesimo", "centesimi", "m"),
    "$": ("dollaro", "dollari", "centesimo", "centesimi", "m"), "USD": ("dollaro", "dollari", "cent", "cent", "m"),
    "£": ("sterlina", "sterline", "penny", "pence", "f"), "CHF": ("franco", "franchi", "centesimo", "centesimi", "m"),
}
_ABBREVIATIONS = {
    "Sig.": "Signor", "Sig.ra": "Signora", "Sigg.": "Signori", "Dott.": "Dottor", "Dott.ssa": "Dottoressa",
    "Prof.": "Professor", "Ing.": "Ingegner", "Avv.": "Avvocato", "S.": "San", "P.za": "piazza", "p.za": "piazza",
    "P.zza": "piazza", "V.le": "viale", "v.le": "viale", "C.so": "corso", "c.so": "corso", "ecc.": "eccetera",
    "n.": "numero", "tel.": "telefono", "Tel.": "telefono", "pag.": "pagina", "ca.": "circa", "es.": "esempio",
    "SP": "strada provinciale", "FS": "effe esse", "ANAS": "Anas",
}
KIT = Kit(
    lang="it", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n, g), year=nums.year,
    digits=nums.DIGITS, point="virgola", minus="meno", range_word="a", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} e {cents} {sub}", count_gender="n", day=_day,
    month_abbr={"genn": 1, "gen": 1, "feb": 2, "febbr": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7,
                "ago": 8, "sett": 9, "set": 9, "ott": 10, "nov": 11, "dic": 12},
    phone_extra=r"|3[0-9]{2} [0-9]{6,7}",
    clock_patterns=(r"(?<=\b(?i:alle|dalle|ore|entro le) )(?P<h>[01]?[0-9]|2[0-4])[.:](?P<m>[0-5][0-9])(?![\w]|[.,][0-9])",),
    ordinal_suffixes={"º": ("m", False), "ª": ("f", False), "°": ("m", False)},
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"ecc."}),
    road_names={"SS": "strada statale", "SR": "strada regionale", "SP": "strada provinciale"},
    passes=(_ordinal_sign,), post_passes=(_elision,),
    feminine_nouns=frozenset("ora persona uscita stazione fermata via notte settimana volta corsia".split()),
    noun_gender=lambda w: "m" if len(w) > 3 and w.isalpha() and w.lower() not in _NOT_NOUNS else None,
    symbols={"&": "e", "+": "più", "%": "per cento", "°": "gradi", "=": "uguale a"},
)
_NOT_NOUNS = frozenset("sono dopo prima circa oltre entro".split())
normalize_it = Rules(KIT)

"""French spoken forms of what a screen shows (conventions; rules in `normalize_common`).

"14h35" / "14:35" -> quatorze heures trente-cinq, "0h00" -> minuit; "le 25/11/2026" -> le vingt-cinq novembre
deux mille vingt-six, "1er mai" -> premier mai; "12,50 €" -> douze euros cinquante; "20 %" -> vingt pour cent;
"1,5 km" -> un virgule cinq kilomètre (singular below two); "130 km/h" -> cent trente kilomètres heure;
"-5 °C" -> moins cinq degrés; "2 000" and "2.000" are two thousand, "3,5" three point five; phone numbers in
pairs ("06 12 34 56 78" -> zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit); "3e sortie" ->
troisième sortie, "1re" -> première; "A8" -> A huit; "M." -> Monsieur, "bd" -> boulevard.
"""

from __future__ import annotations

from . import numbers_fr as nums
from .normalize_common import Kit, Rules

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def _day(d: int, prev: str = "") -> str:
    return "premier" if d == 1 else nums.cardinal(d)


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{_day(d)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    if h in (0, 24) and m == 0:
        return "minuit"
    hour = f"{nums.cardinal(h % 24, 'f')} heure" + ("s" if h % 24 >= 2 else "")
    return hour + (f" {nums.cardinal(m, 'f')}" if m else "")


_UNITS = {
    "km/h": ("kilomètre heure", "kilomètres heure", "m"),
    "m/s": ("mètre par seconde", "mètres par seconde", "m"),
    "l/100 km": ("litre aux cent kilomètres", "litres aux cent kilomètres", "m"),
    "l/100km": ("litre aux cent kilomètres", "litres aux cent kilomètres", "m"),
    "kWh/100 km": ("kilowattheure aux cent kilomètres", "kilowattheures aux cent kilomètres", "m"),
    "kWh/100km": ("kilowattheure aux cent kilomètres", "kilowattheures aux cent kilomètres", "m"),
    "km": ("kilomètre", "kilomètres", "m"), "m": ("mètre", "mètres", "m"), "cm": ("centimètre", "centimètres", "m"),
    "mm": ("millimètre", "millimètres", "m"), "m²": ("mètre carré", "mètres carrés", "m"),
    "kg": ("kilo", "kilos", "m"), "g": ("gramme", "grammes", "m"), "t": ("tonne", "tonnes", "f"),
    "l": ("litre", "litres", "m"), "L": ("litre", "litres", "m"), "ml": ("millilitre", "millilitres", "m"),
    "min": ("minute", "minutes", "f"), "mn": ("minute", "minutes", "f"), "s": ("seconde", "secondes", "f"),
    "sec": ("seconde", "secondes", "f"), "kW": ("kilowatt", "kilowatts", "m"),
    "kWh": ("kilowattheure", "kilowattheures", "m"), "W": ("watt", "watts", "m"), "V": ("volt", "volts", "m"),
    "bar": ("bar", "bars", "m"), "°C": ("degré", "degrés", "m"), "° C": ("degré", "degrés", "m"),
    "°": ("degré", "degrés", "m"), "%": ("pour cent", "pour cent", "m"), "Go": ("gigaoctet", "gigaoctets", "m"),
    "Mo": ("mégaoctet", "mégaoctets", "m"), "ch": ("cheval", "chevaux", "m"),
}
_CURRENCIES = {
    "€": ("euro", "euros", "centime", "centimes", "m"), "EUR": ("euro", "euros", "centime", "centimes", "m"),
    "$": ("dollar", "dollars", "cent", "cents", "m"), "USD": ("dollar", "dollars", "cent", "cents", "m"),
    "£": ("livre", "livres", "penny", "pence", "f"), "CHF": ("franc", "francs", "centime", "centimes", "m"),
}
_ABBREVIATIONS = {
    "M.": "Monsieur", "MM.": "Messieurs", "Mme": "Madame", "Mmes": "Mesdames", "Mlle": "Mademoiselle",
    "Dr": "Docteur", "Pr": "Professeur", "St": "Saint", "Ste": "Sainte", "av.": "avenue", "Av.": "avenue",
    "bd": "boulevard", "Bd": "boulevard", "bld": "boulevard", "pl.": "place", "rte": "route", "Rte": "route",
    "chem.": "chemin", "env.": "environ", "etc.": "et cetera", "n°": "numéro", "N°": "numéro", "tél.": "téléphone",
    "Tél.": "téléphone", "p.": "page", "cf.": "voir", "sté": "société", "Env.": "environ",
    "RN": "route nationale", "RD": "route départementale", "SNCF": "S N C F", "TGV": "T G V", "RER": "R E R",
    "GPS": "G P S", "ex.": "par exemple", "c.-à-d.": "c'est-à-dire",
}
KIT = Kit(
    lang="fr", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n, g), year=nums.year,
    digits=nums.DIGITS, point="virgule", minus="moins", range_word="à", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} {cents}", count_gender="m", space_groups=True,
    plural_from_two=True, day=_day,
    month_abbr={"janv": 1, "févr": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11, "déc": 12},
    clock_patterns=(r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-4]) ?h ?(?P<m>[0-5][0-9])?(?!\w)",),
    ordinal_suffixes={"er": ("m", False), "re": ("f", False), "ère": ("f", False), "e": ("m", False),
                      "ème": ("m", False), "è": ("m", False), "eme": ("m", False), "ᵉ": ("m", False),
                      "ᵉʳ": ("m", False), "ʳᵉ": ("f", False), "nd": ("m", False), "nde": ("f", False)},
    abbreviations=_ABBREVIATIONS, final_abbreviations=frozenset({"etc."}), phone_pairs=True,
    feminine_nouns=frozenset("heure heures minute minutes seconde secondes fois personne personnes place places "
                             "sortie sorties rue rues voiture voitures semaine semaines année années nuit nuits "
                             "étape étapes station stations borne bornes tonne tonnes".split()),
    symbols={"&": "et", "+": "plus", "%": "pour cent", "°": "degrés", "=": "égale", "§": "paragraphe"},
)
normalize_fr = Rules(KIT)

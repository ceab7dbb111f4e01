"""Spanish number words (RAE spelling: veintiuno ... veintinueve in one word, dieciséis, accents kept).

Gender: "m" is the form before a masculine noun ("un kilómetro", "veintiún euros", "doscientos"), "f" before
a feminine one ("una hora", "veintiuna", "doscientas"), "n" the counting form ("uno"). Millions are nouns
(un millón, dos millones, veintiún millones). Ordinals up to the hundreds (primero, vigésimo primero).
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
          "diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco "
          "veintiséis veintisiete veintiocho veintinueve").split()
_TENS = "_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos ochocientos "
             "novecientos").split()
DIGITS = tuple(_UNITS[:10])


def _one(words: str, gender: str) -> str:
    """The final "uno" of a number, by gender: uno / un / una, veintiuno / veintiún / veintiuna."""
    if gender == "n" or not words.endswith("uno"):
        return words
    if gender == "f":
        return words[:-1] + "a"
    return words[:-3] + ("ún" if words.endswith("veintiuno") else "un")


def _below_1000(n: int, gender: str) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        if hundreds == 1 and not rest:
            parts.append("cien")
        else:
            h = _HUNDREDS[hundreds]
            parts.append(h[:-2] + "as" if gender == "f" and hundreds > 1 else h)
    if rest or not hundreds:
        if rest < 30:
            parts.append(_UNITS[rest])
        else:
            tens, unit = divmod(rest, 10)
            parts.append(_TENS[tens] + (" y " + _UNITS[unit] if unit else ""))
    return _one(" ".join(parts), gender)


def cardinal(n: int, gender: str = "n") -> str:
    if n < 0:
        return "menos " + cardinal(-n, gender)
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, ((10 ** 12, "billón", "billones"), (10 ** 6, "millón", "millones")))
    parts = [f"un {one}" if c == 1 else f"{cardinal(c, 'm') if c >= 1000 else _below_1000(c, 'm')} {many}"
             for c, _, (one, many) in groups]
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append("mil" if thousands == 1 else _below_1000(thousands, "f" if gender == "f" else "m") + " mil")
    if n or not parts:
        parts.append(_below_1000(n, gender))
    return " ".join(parts)


_ORD_UNITS = "_ primero segundo tercero cuarto quinto sexto séptimo octavo noveno".split()
_ORD_TENS = ("_ décimo vigésimo trigésimo cuadragésimo quincuagésimo sexagésimo septuagésimo octogésimo "
             "nonagésimo").split()
_ORD_HUNDREDS = ("_ centésimo ducentésimo tricentésimo cuadringentésimo quingentésimo sexcentésimo "
                 "septingentésimo octingentésimo noningentésimo").split()
_ORD_TEENS = {11: "undécimo", 12: "duodécimo"}


def ordinal(n: int, gender: str = "m", short: bool = False) -> str:
    """3 -> tercero / tercera (short=True: "tercer", "primer" before a masculine noun); 21 -> vigésimo primero.
    From the thousands up the cardinal is used (nobody says the Latin ordinals there)."""
    if n <= 0 or n >= 1000:
        return cardinal(n, gender)
    hundreds, rest = divmod(n, 100)
    tens, unit = divmod(rest, 10)
    parts = []
    if hundreds:
        parts.append(_ORD_HUNDREDS[hundreds])
    if rest in _ORD_TEENS:
        parts.append(_ORD_TEENS[rest])
    else:
        if tens:
            parts.append(_ORD_TENS[tens])
        if unit:
            parts.append(_ORD_UNITS[unit])
    if tens == 1 and unit and rest not in _ORD_TEENS:  # decimotercero: one word
        parts[-2:] = ["decimo" + parts[-1]]
    words = " ".join(parts)
    if gender == "f":
        return " ".join(w[:-1] + "a" for w in words.split())
    if short and words.endswith(("primero", "tercero")):
        return words[:-1]
    return words


def year(n: int) -> str:
    return cardinal(n, "m")

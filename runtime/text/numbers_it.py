"""Italian number words: one word up to the millions (milleduecentotrentaquattro, duemilaventisei).

Tens drop their final vowel before "uno" and "otto" (ventuno, trentotto), "cento" before "otto" (centotto); a final "tre" after tens is "tré"
(ventitré); 1000 = mille, 2000 = duemila; un milione, due milioni (nouns, separate words). Gender: "uno" is
the counting form, "un" / "una" before a noun. Ordinals: primo ... decimo, then the cardinal + "esimo"
(undicesimo, ventitreesimo), feminine in "-a".
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici "
          "sedici diciassette diciotto diciannove").split()
_TENS = "_ _ venti trenta quaranta cinquanta sessanta settanta ottanta novanta".split()
_ORD = "_ primo secondo terzo quarto quinto sesto settimo ottavo nono decimo".split()
DIGITS = tuple(_UNITS[:10])


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    t = _TENS[tens]
    if unit in (1, 8):
        t = t[:-1]
    return t + ("tré" if unit == 3 else _UNITS[unit] if unit else "")


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = ("cento" if hundreds == 1 else _UNITS[hundreds] + "cento") if hundreds else ""
    tail = _below_100(rest) if rest or not hundreds else ""
    if head and rest == 3:
        tail = "tré"
    if head and tail.startswith("ott"):  # centotto, centottanta
        head = head[:-1]
    return head + tail


def _below_million(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    head = ("mille" if thousands == 1 else _below_1000(thousands) + "mila") if thousands else ""
    return head + (_below_1000(rest) if rest or not thousands else "")


def cardinal(n: int, gender: str = "n") -> str:
    """gender "n": uno; "m": un (un chilometro); "f": una (una stazione). Only a final "uno" changes."""
    if n < 0:
        return "meno " + cardinal(-n, gender)
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, ((10 ** 12, "mille miliardi", "mila miliardi"), (10 ** 9, "miliardo", "miliardi"),
                                 (10 ** 6, "milione", "milioni")))
    parts = [f"un {one}" if c == 1 else f"{_below_million(c)} {many}" for c, _, (one, many) in groups]
    if n or not parts:
        parts.append(_below_million(n))
    words = " ".join(parts)
    if n == 1 and gender in ("m", "f"):
        words = words[:-3] + ("un" if gender == "m" else "una")
    return words


def ordinal(n: int, gender: str = "m") -> str:
    if n <= 0:
        return cardinal(n)
    if n <= 10:
        words = _ORD[n]
    else:
        words = cardinal(n)
        if words.endswith("tré"):
            words = words[:-1] + "e"
        elif not words.endswith("sei"):
            words = words[:-1]
        words += "esimo"
    return words[:-1] + "a" if gender == "f" else words


def year(n: int) -> str:
    return cardinal(n)

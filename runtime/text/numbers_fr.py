"""French number words (traditional spelling: hyphens below one hundred, "et" in 21, 31 ... 71).

70 = soixante-dix, 80 = quatre-vingts (the "s" only at the end of the number), 90 = quatre-vingt-dix; "cent"
takes an "s" when multiplied and final (deux cents, deux cent un, deux cent mille); "mille" never does;
million and milliard are nouns (deux millions). Gender: "un" / "une" (vingt et une heures).
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
          "dix-sept dix-huit dix-neuf").split()
_TENS = "_ dix vingt trente quarante cinquante soixante soixante quatre-vingt soixante".split()
DIGITS = tuple(_UNITS[:10])


def _below_100(n: int, final: bool) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix
        base, rest = ("soixante", n - 60) if tens == 7 else ("quatre-vingt", n - 80)
        return base + (" et " if rest == 11 and tens == 7 else "-") + _UNITS[rest]
    if tens == 8:
        return "quatre-vingt" + ("-" + _UNITS[unit] if unit else ("s" if final else ""))
    if unit == 0:
        return _TENS[tens]
    return _TENS[tens] + (" et un" if unit == 1 else "-" + _UNITS[unit])


def _below_1000(n: int, final: bool) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append("cent" if hundreds == 1 else _UNITS[hundreds] + " cent" + ("s" if not rest and final else ""))
    if rest or not hundreds:
        parts.append(_below_100(rest, final))
    return " ".join(parts)


def cardinal(n: int, gender: str = "m") -> str:
    if n < 0:
        return "moins " + cardinal(-n, gender)
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, ((10 ** 12, "billion", "billions"), (10 ** 9, "milliard", "milliards"),
                                 (10 ** 6, "million", "millions")))
    parts = [f"un {one}" if c == 1 else f"{_below_1000(c, True)} {many}" for c, _, (one, many) in groups]
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append("mille" if thousands == 1 else _below_1000(thousands, False) + " mille")
    if n or not parts:
        parts.append(_below_1000(n, True))
    words = " ".join(parts)
    if gender == "f" and (words == "un" or words.endswith((" un", "-un"))):
        words += "e"
    return words


def ordinal(n: int, gender: str = "m") -> str:
    """1 -> premier / première; else the cardinal + "ième" (cinquième, neuvième, vingt et unième)."""
    if n == 1:
        return "première" if gender == "f" else "premier"
    words = cardinal(n)
    if words.endswith("cinq"):
        return words + "uième"
    if words.endswith("neuf"):
        return words[:-1] + "vième"
    if words.endswith(("cents", "vingts")):
        words = words[:-1]
    if words.endswith("e"):
        words = words[:-1]
    return words + "ième"


def year(n: int) -> str:
    return cardinal(n)

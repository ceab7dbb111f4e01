"""German number words: one word below a million (dreihundertfünfundvierzig), then "eine Million" etc.

"eins" is the counting form, "ein" / "eine" the form before a noun ("ein Kilometer", "eine Stunde"); a leading
hundred or thousand is "hundert" / "tausend" as speech has it. Years 1100-1999 go by hundreds
(neunzehnhundertneunundneunzig). Ordinals: erst-, zweit-, dritt-, ..., neunzehnt-, zwanzigst-, with the
ending the grammar asks for ("-e", "-en", "-er", "-es").
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn fünfzehn "
          "sechzehn siebzehn achtzehn neunzehn").split()
_TENS = "_ _ zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split()
DIGITS = tuple(_UNITS[:10])
_SCALES = ((10 ** 12, "Billion", "Billionen"), (10 ** 9, "Milliarde", "Milliarden"), (10 ** 6, "Million", "Millionen"))


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return (("ein" if unit == 1 else _UNITS[unit]) + "und" if unit else "") + _TENS[tens]


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = ("hundert" if hundreds == 1 else _UNITS[hundreds] + "hundert") if hundreds else ""
    return head + (_below_100(rest) if rest or not hundreds else "")


def _attributive(words: str) -> str:
    """"hunderteins" before tausend / Millionen is "hundertein"."""
    return words[:-1] if words.endswith("eins") else words


def _below_million(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    head = ""
    if thousands:
        head = "tausend" if thousands == 1 else _attributive(_below_1000(thousands)) + "tausend"
    return head + (_below_1000(rest) if rest or not thousands else "")


def cardinal(n: int, gender: str = "n") -> str:
    """gender "n": counting form (eins); "m" / "f": before a noun (ein / eine) where the number is exactly 1."""
    if n < 0:
        return "minus " + cardinal(-n, gender)
    if n == 1 and gender in ("m", "f"):
        return "ein" if gender == "m" else "eine"
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, _SCALES)
    parts = [f"eine {one}" if c == 1 else f"{_attributive(_below_million(c))} {many}" for c, _, (one, many) in groups]
    if n or not parts:
        parts.append(_below_million(n))
    return " ".join(parts)


def ordinal_stem(n: int) -> str:
    rest = n % 100
    if n >= 20 and (rest == 0 or rest >= 20):
        return cardinal(n) + "st"
    head = cardinal(n - rest) if n >= 100 else ""
    head = "" if head == "null" else head
    special = {1: "erst", 3: "dritt", 7: "siebt", 8: "acht"}
    return head + (special[rest] if rest in special else _UNITS[rest] + "t")


def ordinal(n: int, ending: str = "e") -> str:
    """3 -> dritte (ending "e"), dritten ("en"), dritter ("er")."""
    if n <= 0:
        return cardinal(n)
    return ordinal_stem(n) + ending


def year(n: int) -> str:
    if 1100 <= n <= 1999:
        high, low = divmod(n, 100)
        return _below_100(high) + "hundert" + (_below_100(low) if low else "")
    return cardinal(n)

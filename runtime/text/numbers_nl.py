"""Dutch number words (Taalunie spelling): one word up to a thousand (vijfhonderdzesenveertig), a space after
"duizend" (tweeduizend vijfhonderd), "en" / "ën" between units and tens (eenentwintig, tweeëntwintig).

1 is "één" on its own and "een" inside a word; een miljoen, twee miljoen. Years 1100-1999 go by hundreds
(negentienhonderdnegenennegentig). Ordinals: eerste, tweede, derde, ..., achtste, twintigste, honderdste.
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien "
          "zeventien achttien negentien").split()
_TENS = "_ _ twintig dertig veertig vijftig zestig zeventig tachtig negentig".split()
DIGITS = ("nul", "één", *_UNITS[2:10])


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if not unit:
        return _TENS[tens]
    u = _UNITS[unit]
    return u + ("ën" if u.endswith("e") else "en") + _TENS[tens]


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = ("honderd" if hundreds == 1 else _UNITS[hundreds] + "honderd") if hundreds else ""
    return head + (_below_100(rest) if rest or not hundreds else "")


def cardinal(n: int, gender: str = "n") -> str:
    if n < 0:
        return "min " + cardinal(-n)
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, ((10 ** 12, "biljoen"), (10 ** 9, "miljard"), (10 ** 6, "miljoen")))
    parts = [f"{cardinal(c) if c > 1 else 'een'} {name}" for c, _, (name,) in groups]
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append("duizend" if thousands == 1 else _below_1000(thousands) + "duizend")
    if n or not parts:
        parts.append(_below_1000(n))
    words = " ".join(parts)
    return "één" if words == "een" else words.removesuffix(" een") + (" één" if words.endswith(" een") else "")


_ORD_LAST = (("eerste", "een"), ("eerste", "één"), ("derde", "drie"), ("achtste", "acht"))


def ordinal(n: int, gender: str = "n") -> str:
    if n <= 0:
        return cardinal(n)
    words = cardinal(n)
    for ordinal_word, ending in _ORD_LAST:
        if words.endswith(ending):
            return words[: len(words) - len(ending)] + ordinal_word
    if n % 100 >= 20 or n % 100 == 0 or words.endswith(("honderd", "duizend", "miljoen", "miljard")):
        return words + "ste"
    return words + "de"


def year(n: int) -> str:
    if 1100 <= n <= 1999 and n % 1000:
        high, low = divmod(n, 100)
        return _below_100(high) + "honderd" + (_below_100(low) if low else "")
    return cardinal(n)

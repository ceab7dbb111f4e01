"""Portuguese number words, Brazilian spelling (dezesseis, dezessete, dezenove; quilômetro in the units).

"e" joins hundreds, tens and units (cento e vinte e três); between thousands and the rest only when the rest is
below one hundred or a round hundred (mil e duzentos, mil duzentos e cinquenta, dois mil e vinte e seis).
100 = cem, 101 = cento e um; 1000 = mil. Gender: um / uma, dois / duas, duzentos / duzentas. Ordinals:
primeiro ... décimo, vigésimo primeiro, feminine in "-a".
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = ("zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze dezesseis "
          "dezessete dezoito dezenove").split()
_TENS = "_ _ vinte trinta quarenta cinquenta sessenta setenta oitenta noventa".split()
_HUNDREDS = ("_ cento duzentos trezentos quatrocentos quinhentos seiscentos setecentos oitocentos "
             "novecentos").split()
DIGITS = tuple(_UNITS[:10])
_FEM = {"um": "uma", "dois": "duas"}


def _unit(n: int, gender: str) -> str:
    w = _UNITS[n]
    return _FEM.get(w, w) if gender == "f" else w


def _below_1000(n: int, gender: str) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        if hundreds == 1 and not rest:
            parts.append("cem")
        else:
            h = _HUNDREDS[hundreds]
            parts.append(h[:-2] + "as" if gender == "f" and hundreds > 1 else h)
    if rest or not hundreds:
        if rest < 20:
            parts.append(_unit(rest, gender))
        else:
            tens, unit = divmod(rest, 10)
            parts.append(_TENS[tens] + (" e " + _unit(unit, gender) if unit else ""))
    return " e ".join(parts)


def cardinal(n: int, gender: str = "m") -> str:
    if n < 0:
        return "menos " + cardinal(-n, gender)
    if n >= 10 ** 15:
        return " ".join(DIGITS[int(c)] for c in str(n))
    scaled, n = scale_groups(n, ((10 ** 12, "trilhão", "trilhões"), (10 ** 9, "bilhão", "bilhões"),
                                 (10 ** 6, "milhão", "milhões")))
    groups = [(c * value, f"um {one}" if c == 1 else f"{_below_1000(c, 'm')} {many}")  # (value, words)
              for c, value, (one, many) in scaled]
    thousands, n = divmod(n, 1000)
    if thousands:
        groups.append((thousands * 1000, "mil" if thousands == 1 else _below_1000(thousands, gender) + " mil"))
    if n or not groups:
        groups.append((n, _below_1000(n, gender)))
    words = groups[0][1]
    for i, (value, w) in enumerate(groups[1:], 1):
        last = i == len(groups) - 1
        words += (" e " if last and (value < 100 or value % 100 == 0) else " ") + w
    return words


_ORD_UNITS = "_ primeiro segundo terceiro quarto quinto sexto sétimo oitavo nono".split()
_ORD_TENS = ("_ décimo vigésimo trigésimo quadragésimo quinquagésimo sexagésimo septuagésimo octogésimo "
             "nonagésimo").split()
_ORD_HUNDREDS = ("_ centésimo ducentésimo trecentésimo quadringentésimo quingentésimo sexcentésimo "
                 "septingentésimo octingentésimo noningentésimo").split()


def ordinal(n: int, gender: str = "m") -> str:
    if n <= 0 or n >= 1000:
        return cardinal(n, gender)
    hundreds, rest = divmod(n, 100)
    tens, unit = divmod(rest, 10)
    parts = [w for w in (_ORD_HUNDREDS[hundreds] if hundreds else "", _ORD_TENS[tens] if tens else "",
                         _ORD_UNITS[unit] if unit else "") if w]
    if gender == "f":
        parts = [w[:-1] + "a" for w in parts]
    return " ".join(parts)


def year(n: int) -> str:
    return cardinal(n)

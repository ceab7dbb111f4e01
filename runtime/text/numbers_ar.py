"""Arabic number words (Modern Standard Arabic, nominative counting form, as read out by announcers).

Units before tens, joined by "و" (واحد وعشرون); 11 أحد عشر, 12 اثنا عشر; hundreds مئة, مئتان, ثلاثمئة;
thousands ألف, ألفان, ثلاثة آلاف (3-10), أحد عشر ألفا (11-99), مئة ألف; millions likewise (مليون, مليونان,
ملايين, مليونا). Counted nouns are not inflected here: the number is read in its counting form, which is how
screens and announcements are commonly read aloud; gender polarity with a following noun is not applied.
"""

from __future__ import annotations

from .numbers_common import scale_groups

_UNITS = tuple(
    ("صفر|واحد|اثنان|ثلاثة|أربعة|خمسة|ستة|سبعة|ثمانية|تسعة|عشرة|أحد عشر|اثنا عشر|ثلاثة عشر|أربعة عشر|"
           "خمسة عشر|ستة عشر|سبعة عشر|ثمانية عشر|تسعة عشر").split("|"))
_TENS = "_ _ عشرون ثلاثون أربعون خمسون ستون سبعون ثمانون تسعون".split()
_HUNDREDS = "_ مئة مئتان ثلاثمئة أربعمئة خمسمئة ستمئة سبعمئة ثمانمئة تسعمئة".split()
DIGITS = tuple(_UNITS[:10])
_ORD = "_ الأول الثاني الثالث الرابع الخامس السادس السابع الثامن التاسع العاشر".split()
_ORD_F = "_ الأولى الثانية الثالثة الرابعة الخامسة السادسة السابعة الثامنة التاسعة العاشرة".split()
# scale -> (one, two, 3-10, 11-99 / above)
_SCALES = ((10 ** 9, ("مليار", "ملياران", "مليارات", "مليارا")),
           (10 ** 6, ("مليون", "مليونان", "ملايين", "مليونا")),
           (10 ** 3, ("ألف", "ألفان", "آلاف", "ألفا")))


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        if rest < 20:
            parts.append(_UNITS[rest])
        else:
            tens, unit = divmod(rest, 10)
            parts.append((_UNITS[unit] + " و" if unit else "") + _TENS[tens])
    return " و".join(parts) if parts else _UNITS[0]


def _scaled(count: int, names: tuple[str, str, str, str]) -> str:
    one, two, few, many = names
    if count == 1:
        return one
    if count == 2:
        return two
    rest = count % 100
    if 3 <= rest <= 10:
        return f"{_below_1000(count)} {few}"
    if rest >= 11:
        return f"{_below_1000(count)} {many}"
    return f"{_below_1000(count)} {one}"  # مئة ألف, مئتا ألف is read مئتان ألف here


def cardinal(n: int, gender: str = "m") -> str:
    """gender "f" changes one and two only (واحدة, اثنتان: after a feminine noun); the rest is the counting form."""
    if gender == "f" and n in (1, 2):
        return "واحدة" if n == 1 else "اثنتان"
    if n < 0:
        return "سالب " + cardinal(-n)
    if n >= 10 ** 12:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, _SCALES)
    parts = [_scaled(c, names) for c, _, (names,) in groups]
    if n or not parts:
        parts.append(_below_1000(n))
    return " و".join(parts)


def ordinal(n: int, gender: str = "m") -> str:
    """1-10: الأول ... العاشر (feminine الأولى ...); above, the cardinal."""
    if 1 <= n <= 10:
        return (_ORD_F if gender == "f" else _ORD)[n]
    return cardinal(n)


def year(n: int) -> str:
    return cardinal(n)

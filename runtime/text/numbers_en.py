"""English number words for the text front end, written here from scratch.

We deliberately do not use `num2words` (or any number-to-words package): it is LGPL and would
become a runtime dependency on every car / Pi / Jetson image, and the runtime is NumPy + ONNX
Runtime + the standard library (+ `regex`) only. English needs little: cardinals up to the
quintillions, ordinals, years, digit strings and decimals.

Conventions follow the project's training corpus (`training/corpus/*.tsv`, the `norm` column the
teacher model read), so the engine says numbers the way the distilled model heard them:

* cardinals are American style without "and": 1250 -> "one thousand two hundred fifty";
  tens and units are hyphenated: 21 -> "twenty-one";
* decimals say each fractional digit: 3.05 -> "three point zero five";
* digit strings (phone numbers, codes) say "oh" for 0: "0958" -> "oh nine five eight";
* years in pairs: 1999 -> "nineteen ninety-nine", 1905 -> "nineteen oh five",
  2005 -> "two thousand five", 2026 -> "twenty twenty-six", 1900 -> "nineteen hundred".
"""

from __future__ import annotations

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
# Short-scale names for successive groups of three digits.
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion")
_IRREGULAR_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth",
    "eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}
# Above this, a number is read digit by digit: nobody says "sextillion" to a driver, and it
# keeps int() away from Python's 4300-digit conversion limit.
MAX_WORDS_DIGITS = 18


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(_ONES[hundreds] + " hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + ("-" + _ONES[ones] if ones else ""))
    elif rest or not hundreds:
        parts.append(_ONES[rest])
    return " ".join(parts)


def cardinal(n: int) -> str:
    """1234 -> "one thousand two hundred thirty-four"; negatives get "minus"."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 1000:
        return _below_thousand(n)
    if n >= 1000 ** len(_SCALES):
        return digits(str(n), zero="zero")
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            name = _SCALES[scale]
            groups.append(_below_thousand(group) + (" " + name if name else ""))
        scale += 1
    return " ".join(reversed(groups))


def ordinalize(words: str) -> str:
    """Turn the last word of a cardinal into its ordinal: "twenty-one" -> "twenty-first"."""
    head, sep, last = _split_last_word(words)
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def pluralize(words: str) -> str:
    """Plural of a number's last word, for decades and fractions: "nineteen eighty" -> "... eighties"."""
    head, sep, last = _split_last_word(words)
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return head + sep + last


def _split_last_word(words: str) -> tuple[str, str, str]:
    space = words.rfind(" ")
    hyphen = words.rfind("-")
    cut = max(space, hyphen)
    if cut < 0:
        return "", "", words
    return words[:cut], words[cut], words[cut + 1:]


def ordinal(n: int) -> str:
    """21 -> "twenty-first"."""
    return ordinalize(cardinal(n))


def year(n: int) -> str:
    """A year read aloud in pairs (see module docstring); other values fall back to cardinals."""
    if n < 1000 or n > 9999 or n % 1000 == 0 or 2000 <= n <= 2009:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    if low < 10:
        return cardinal(high) + " oh " + _ONES[low]
    return cardinal(high) + " " + cardinal(low)


def digits(s: str, zero: str = "oh") -> str:
    """Read ASCII digits one by one ("0958" -> "oh nine five eight"); other characters are skipped."""
    return " ".join(zero if c == "0" else _ONES[ord(c) - 48] for c in s if "0" <= c <= "9")


def integer_words(s: str) -> str:
    """Digits of an unsigned integer (thousands commas allowed) as words.

    Leading zeros ("007", "0958") mean a code, read digit by digit; so are over-long numbers.
    """
    s = s.replace(",", "")
    if not s:
        return ""
    if (len(s) > 1 and s[0] == "0") or len(s) > MAX_WORDS_DIGITS:
        return digits(s)
    return cardinal(int(s))


def number_words(s: str) -> str:
    """Any plain decimal numeral: "-1,200.50" -> "minus one thousand two hundred point five zero"."""
    sign = ""
    if s[:1] in "-+\u2212" and len(s) > 1:
        sign = "minus " if s[0] != "+" else "plus "
        s = s[1:]
    whole, _, frac = s.partition(".")
    out = integer_words(whole) if whole else ""
    if frac:
        out = (out + " " if out else "") + "point " + digits(frac, zero="zero")
    return sign + out

"""Text normalisation and word error rate, dependency-free.

Used by the ASR filter and meant for the project's quality benchmark, so that
both score the same way. References are already spoken-form text (the corpus
'norm' column); hypotheses from Whisper contain digits, symbols and British or
American spellings, so both sides go through `normalise` before comparison.
"""
import re
import sys

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve "
         "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth",
        "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def spell_int(n: int) -> str:
    """Cardinal in words, American style without 'and' (1250 -> one thousand two hundred fifty)."""
    if n < 0:
        return "minus " + spell_int(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return _TENS[t] + ("-" + _ONES[o] if o else "")
    if n < 1000:
        h, r = divmod(n, 100)
        return _ONES[h] + " hundred" + (" " + spell_int(r) if r else "")
    for value, name in _SCALES:
        if n >= value:
            q, r = divmod(n, value)
            return spell_int(q) + " " + name + (" " + spell_int(r) if r else "")
    raise ValueError(n)


def spell_ordinal(n: int) -> str:
    words = spell_int(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORD:
        last = _ORD[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def spell_year(n: int) -> str:
    """Years the way they are read aloud: 1987 -> nineteen eighty-seven, 2005 -> two thousand five."""
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return spell_int(n)
    hi, lo = divmod(n, 100)
    if lo == 0:
        return spell_int(hi) + " hundred"
    return spell_int(hi) + (" oh " if lo < 10 else " ") + spell_int(lo)


def spell_digits(s: str) -> str:
    return " ".join("oh" if c == "0" else _ONES[int(c)] for c in s)


# British -> American and other spelling variants Whisper may pick either way.
_VARIANTS = {
    "metres": "meters", "metre": "meter", "kilometres": "kilometers", "kilometre": "kilometer",
    "centimetres": "centimeters", "millimetres": "millimeters", "litres": "liters", "litre": "liter",
    "colour": "color", "colours": "colors", "favourite": "favorite", "centre": "center",
    "theatre": "theater", "neighbour": "neighbor", "travelling": "traveling", "grey": "gray",
    "organise": "organize", "realise": "realize", "okay": "ok", "per cent": "percent",
    "cataloguing": "cataloging", "catalogue": "catalog", "dialogue": "dialog", "o": "oh",
    "kg": "kilograms", "km": "kilometers", "mph": "miles per hour", "ft": "feet",
    "mr": "mister", "mrs": "missus", "dr": "doctor", "st": "street",
}
_MONTH_DAY = (r"\b(january|february|march|april|may|june|july|august|september|october|november|december)"
              r" (\d{1,2})(?:st|nd|rd|th)?\b(?![:\d])")
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "°": " degrees ", "@": " at "}
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}


def _money(m: re.Match) -> str:
    one, many, sub1, subn = _CURRENCY[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    out = spell_int(whole) + " " + (one if whole == 1 else many)
    if m.group(3):
        cents = int(m.group(3))
        out += " and " + spell_int(cents) + " " + (sub1 if cents == 1 else subn)
    return " " + out + " "


def _time(m: re.Match) -> str:
    h, mm = int(m.group(1)), m.group(2)
    if mm == "00":
        return " " + spell_int(h) + " "
    return " " + spell_int(h) + (" oh " + spell_int(int(mm)) if mm[0] == "0" else " " + spell_int(int(mm))) + " "


def _number(m: re.Match) -> str:
    raw, frac, suffix = m.group(1), m.group(2), (m.group(3) or "").lower()
    n = int(raw.replace(",", ""))
    if suffix in ("st", "nd", "rd", "th"):
        return " " + spell_ordinal(n) + " "
    if frac:
        return " " + spell_int(n) + " point " + spell_digits(frac) + " "
    # A bare 4-digit number without a thousands comma is usually a year in ASR output.
    if "," not in raw and len(raw) == 4 and 1100 <= n <= 2099:
        return " " + spell_year(n) + " "
    return " " + spell_int(n) + " "


def normalise(text: str) -> str:
    """Lower-case spoken form: digits to words, punctuation dropped, hyphens to spaces."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", t)          # p.m. / p m / pm -> pm
    t = re.sub(r"\b(\d{1,2})\.(\d\d) ?(?=[ap]m\b)", r"\1:\2 ", t)  # Whisper writes 5.40 pm
    t = re.sub(r"([$£€])\s?(\d[\d,]*)(?:\.(\d\d))?", _money, t)
    t = re.sub(r"\b(\d{1,2}):(\d\d)\b", _time, t)
    t = re.sub(_MONTH_DAY, lambda m: f"{m.group(1)} {spell_ordinal(int(m.group(2)))}", t)  # march 21 -> twenty-first
    t = re.sub(r"(\d[\d,]*\d|\d)(?:\.(\d+))?(?:(st|nd|rd|th)\b)?", _number, t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"[-–—/]", " ", t)
    t = re.sub(r"[^a-z' ]", " ", t)
    t = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", t)             # quotes, not apostrophes
    words = t.split()
    out = []
    for w in words:
        w = _VARIANTS.get(w, w)
        out.extend(w.split())
    return " ".join(out)


def edit_distance(ref: list, hyp: list) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def _join_compounds(words: list, vocab: set) -> list:
    """Merge adjacent words whose concatenation is a word of the other side (motor mouth -> motormouth)."""
    out, i = [], 0
    while i < len(words):
        if i + 1 < len(words) and words[i] + words[i + 1] in vocab and words[i] not in vocab:
            out.append(words[i] + words[i + 1])
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def _scored_words(ref: str, hyp: str) -> tuple[list, list]:
    """Both sides normalised and split; compound spelling ("sub vocalized" vs "subvocalized") joined to match."""
    r, h = normalise(ref).split(), normalise(hyp).split()
    h = _join_compounds(h, set(r))
    return _join_compounds(r, set(h)), h


def wer_counts(ref: str, hyp: str) -> tuple:
    """(errors, reference words) after normalisation; sum these over a set for corpus WER.

    Compound spelling ("sub vocalized" vs "subvocalized") is not counted as an error.
    """
    r, h = _scored_words(ref, hyp)
    return edit_distance(r, h), len(r)


def lcs_len(a: list, b: list) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def matched_words(ref: str, hyp: str) -> int:
    """Reference words the hypothesis says, in order (longest common subsequence after normalisation).

    Beside WER for babbling models: Whisper pads unintelligible audio with invented words, which drives WER past
    100 % and makes it jump between runs, while the share of reference words heard stays a steady measure."""
    return lcs_len(*_scored_words(ref, hyp))


def wer(ref: str, hyp: str) -> float:
    e, n = wer_counts(ref, hyp)
    return e / max(n, 1)


if __name__ == "__main__":
    # Usage: python -m training.common.wer "reference" "hypothesis"
    print(f"{wer(sys.argv[1], sys.argv[2]):.4f}")

"""`<say-as interpret-as=...>` in any of the nine languages: the span is already in its spoken form afterwards.

characters: letters one by one, digits by name ("AB12" -> "A B one two"); digits: digit by digit; cardinal /
ordinal: the number in words (the span's digits; anything else is normalised as usual); date: a numeric date in
the given format (dmy default, mdy, ymd); time: a clock time; telephone: digit groups separated by commas.
"""

from __future__ import annotations

import importlib

import regex

from . import numbers_en
from .frontend import normalize

_DIGITS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DATE = regex.compile(r"^\s*([0-9]{1,4})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{1,4}))?\s*$")


def _kit(lang: str):
    """The language's number words: (cardinal(n), ordinal(n), digit names)."""
    if lang == "en":
        return numbers_en.cardinal, numbers_en.ordinal, _DIGITS_EN
    try:
        module = importlib.import_module(f"vox_edge.runtime.text.normalize_{lang}")
    except ImportError:
        return numbers_en.cardinal, numbers_en.ordinal, _DIGITS_EN
    kit = module.KIT
    return (lambda n: kit.cardinal(n, kit.count_gender)), (lambda n: kit.ordinal(n)), kit.digits


def _digits(s: str, names) -> str:
    return " ".join(names[int(c)] for c in s if "0" <= c <= "9")


def render(text: str, kind: str | None, fmt: str | None, lang: str) -> str:
    cardinal, ordinal, names = _kit(lang)
    raw = text.strip()
    if kind == "characters":
        return " ".join(names[int(c)] if "0" <= c <= "9" else c for c in raw if not c.isspace())
    if kind == "digits":
        return _digits(raw, names) or normalize(raw, lang)
    if kind == "telephone":
        groups = regex.findall(r"[0-9]+", raw)
        spoken = ", ".join(_digits(g, names) for g in groups)
        return ("+ " if raw.startswith("+") else "") + spoken if groups else normalize(raw, lang)
    if kind in ("cardinal", "ordinal"):
        digits = regex.sub(r"[\s.,'’_]", "", raw)
        if digits.isdigit() and len(digits) <= 15:
            return (cardinal if kind == "cardinal" else ordinal)(int(digits))
        return normalize(raw, lang)
    if kind == "date":
        m = _DATE.match(raw)
        if m:
            a, b, c = m.group(1), m.group(2), m.group(3)
            order = (fmt or ("ymd" if len(a) == 4 else "dmy")).lower()
            parts = dict(zip(order, (a, b, c))) if c else dict(zip(order.replace("y", ""), (a, b)))
            day, month, year = parts.get("d"), parts.get("m"), parts.get("y")
            if day and month:
                iso = f"{int(year):04d}-{int(month):02d}-{int(day):02d}" if year else None
                if iso and len(year) == 4:
                    return normalize(iso, lang)
        return normalize(raw, lang)
    return normalize(raw, lang)  # time, or a say-as kind lenient mode let through

"""The shared normalisation rules of the eight languages besides English, driven by one `Kit` per language.

A kit holds what differs (number words, separators, unit and currency names, month names, how a date and a
clock time are said, ordinal suffixes, abbreviations); the rules below hold what does not. Passes run in a fixed
order and each replaces digits with words, so a later pass never re-reads an earlier one's output:

 1. native digits (Arabic-Indic, Devanagari) -> ASCII; the kit's own passes (e.g. German "3." ordinals);
 2. abbreviations (whole words, the kit's table); 3. phone numbers (digit by digit, French in pairs);
 4. dates: ISO "2026-11-25", day-first "25/11/2026" "25.11.2026" "25-11-26", "25 novembre 2026", "März 2026";
 5. clock times: "14:35", plus the kit's forms ("14h35", "14 Uhr", "14.35 uur");
 6. money: "12,50 €", "€12.50", "R$ 10", "₹500"; 7. ordinals: "3e", "3.ª", "3º", "3de";
 8. units and percentages: "200 m", "130 km/h", "-5 °C", "20 %", "10-20 km";
 9. road and other codes: "A8" "N7" "E40" "SS16" -> letters + number; "5G" -> number + letters;
10. numbers: ranges "10-20", decimals with the kit's separator ("3,5"; "1.200" and "1 200" are thousands where
    the language writes them so), signs, and any digits left; 11. symbols ("&", "+", "%", "°", "/").

Numbers read as the language counts; a decimal part is read as a number ("3,25" = trois virgule vingt-cinq)
unless the kit reads digits (German, Hindi) or it starts with 0 or has more than three digits.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from typing import Callable

import regex

from .normalize_en_measures import _pad as pad
from .normalize_en import tidy

Passes = tuple[Callable[[str], str], ...]


@dataclass(frozen=True)
class Kit:
    lang: str
    cardinal: Callable[..., str]  # (n, gender) -> words; gender "n" counting form, "m" / "f" before a noun
    ordinal: Callable[..., str]  # (n, gender) -> words
    year: Callable[[int], str]
    digits: tuple[str, ...]  # names of 0-9, for codes and phone numbers
    point: str  # the word for the decimal separator
    minus: str
    range_word: str  # "10-20" -> "10 <range_word> 20"
    months: tuple[str, ...]  # January .. December as written in the language (lower case where it is so)
    date: Callable[[int, int, int | None, str], str]  # (day, month, year or None, previous word)
    time: Callable[[int, int], str]  # (hour, minute)
    units: dict[str, tuple[str, str, str]]  # symbol -> (singular, plural, gender of the noun)
    currencies: dict[str, tuple[str, str, str, str, str]]  # symbol -> (one, many, cent one, cents, gender)
    money_format: str  # "{main}" + "{cents}" (a number) + "{sub}" (the cent name)
    symbols: dict[str, str]  # "&", "+", "%", "°", "=" as words
    count_gender: str = "n"  # the gender of a bare number
    decimal_comma: bool = True  # "3,5" is three point five and "1.200" twelve hundred
    space_groups: bool = False  # "1 200" is one number (French)
    frac_digits: bool = False  # read decimals digit by digit
    plural_from_two: bool = False  # French: 1,5 kilomètre, 2 kilomètres
    day: Callable[[int, str], str] | None = None  # day before a month name: (day, previous word)
    month_abbr: dict[str, int] = field(default_factory=dict)
    clock_patterns: tuple[str, ...] = ()  # extra clock forms, with groups "h" and optional "m"
    ordinal_suffixes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # suffix -> (gender, short form)
    abbreviations: dict[str, str] = field(default_factory=dict)
    final_abbreviations: frozenset[str] = frozenset()  # abbreviations whose period may end the sentence
    road_names: dict[str, str] = field(default_factory=dict)  # "SS" -> "strada statale"
    phone_pairs: bool = False
    phone_extra: str = ""  # more phone number shapes, as "|pattern" (Italian mobiles: "333 1234567")
    year_cues: tuple[str, ...] = ()  # words after which 1100-1999 is a year (where years differ from numbers)
    native_digits: str = ""
    passes: Passes = ()  # the kit's own passes, run after native digits
    post_passes: Passes = ()  # the kit's own passes, run last (elision and the like)
    street_suffix: str = ""  # "straße": "Hauptstr." -> Hauptstraße (the abbreviation inside a compound)
    unit_after_one: bool = False  # Arabic: "كيلومتر واحد" (the noun first for one)
    feminine_nouns: frozenset[str] = frozenset()  # a bare number before these takes the feminine form
    noun_gender: Callable[[str], str | None] | None = None  # gender a bare number takes before this word

    def number(self, s: str, gender: str | None = None) -> str:
        """A numeral as written in this language ("-1.200,5", "3,25", "1 200") -> words."""
        s = s.strip()
        sign = ""
        if s[:1] in "-−+" and len(s) > 1:
            sign = (self.minus if s[0] != "+" else self.symbols.get("+", "plus")) + " "
            s = s[1:]
        whole, frac = self.split_number(s)
        g = self.count_gender if gender is None else gender
        words = self.integer(whole, g if not frac else self.count_gender) if whole else self.digits[0]
        if frac:
            if self.frac_digits or frac[0] == "0" or len(frac) > 3:
                tail = " ".join(self.digits[int(c)] for c in frac)
            else:
                tail = self.cardinal(int(frac), self.count_gender)
            words += f" {self.point} {tail}"
        return sign + words

    def split_number(self, s: str) -> tuple[str, str]:
        if self.decimal_comma:
            if "," in s:
                whole, frac = s.split(",", 1)
            elif regex.fullmatch(r"[0-9]+\.[0-9]{1,2}", s):  # "3.5": an English-style decimal
                whole, frac = s.split(".", 1)
            else:
                whole, frac = s, ""
            return whole.replace(".", "").replace(" ", ""), frac
        whole, _, frac = s.partition(".")
        return whole.replace(",", "").replace(" ", ""), frac

    def integer(self, digits: str, gender: str | None = None) -> str:
        if not digits:
            return ""
        if (len(digits) > 1 and digits[0] == "0") or len(digits) > 15:
            return " ".join(self.digits[int(c)] for c in digits)
        return self.cardinal(int(digits), self.count_gender if gender is None else gender)

    def spell_digits(self, s: str) -> str:
        return " ".join(self.digits[int(c)] for c in s if "0" <= c <= "9")


def _alternation(words) -> str:
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


class Rules:
    """The compiled passes of one kit."""

    def __init__(self, kit: Kit):
        self.kit = k = kit
        if k.decimal_comma:
            groups = r"[0-9]{1,3}(?:\.[0-9]{3})+" + (r"|[0-9]{1,3}(?: [0-9]{3})+" if k.space_groups else "")
            num = rf"(?:[0-9]+\.[0-9]{{1,2}}(?![0-9])|(?:{groups}|[0-9]+)(?:,[0-9]+)?)"
        else:
            num = r"(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,2}(?:,[0-9]{2})+,[0-9]{3}|[0-9]+)(?:\.[0-9]+)?)"
        self.num = num
        nb, na = r"(?<![\w.,])", r"(?![\w]|[.,][0-9])"
        self.native = str.maketrans(k.native_digits, "0123456789" * (len(k.native_digits) // 10)) if k.native_digits else None
        if k.abbreviations:
            alts = "|".join(regex.escape(a).replace(r"\ ", r"\s?") for a in
                            sorted(k.abbreviations, key=len, reverse=True))
            self.abbr = regex.compile(rf"(?<![\w.])(?:{alts})(?!\w)")
            self.abbr_lookup = {regex.sub(r"\s", "", a): v for a, v in k.abbreviations.items()}
        self.phone = regex.compile(
            r"(?<![\w+.,-])(?:\+[0-9]{1,3}(?:[ .-]?\(?[0-9]{1,5}\)?){2,6}|0[0-9](?:[ .][0-9]{2}){4}"
            r"|0[0-9]{2,4}[ /-][0-9]{3,8}(?:[ -][0-9]{2,6})?"
            + ("" if k.space_groups else r"|[6-9][0-9]{2} [0-9]{3} [0-9]{3}") + k.phone_extra + r")(?![\w-]|[.,][0-9])")
        months = {m.lower(): i for i, m in enumerate(k.months, 1)} | {a.lower(): i for a, i in k.month_abbr.items()}
        self.months = months
        self.full_months = frozenset(m.lower() for m in k.months)
        month_alt = _alternation(months)
        self.iso = regex.compile(r"(?<![\w.-])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![\w-]|\.[0-9])")
        self.num_date = regex.compile(
            r"(?<![\w./-])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![\w/-]|[.,][0-9])")
        self.short_date = regex.compile(r"(?<![\w./-])([0-9]{1,2})\.([0-9]{1,2})\.(?![\w]|[.,]?[0-9])")
        self.day_month = regex.compile(
            rf"(?=[0-9])(?<![\w.,])([0-9]{{1,2}})(?:\.|er|º|°|ª)?(\s(?:de\s)?)((?i:{month_alt}))\b(\.?)", regex.V0)
        self.month_year = regex.compile(rf"\b((?i:{month_alt}))\.?(\s(?:de\s|del\s)?)([0-9]{{4}})(?![\w]|[.,][0-9])")
        clocks = [*k.clock_patterns,
                  r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-3]):(?P<m>[0-5][0-9])(?::[0-5][0-9])?(?![\w:]|[.,][0-9])"]
        self.clocks = [regex.compile(c) for c in clocks]
        cur_alt = _alternation(k.currencies)
        scale = r""
        self.money_pre = regex.compile(rf"(?<![\w])(?P<cur>{cur_alt}) ?(?P<a>{num}){scale}{na}")
        self.money_post = regex.compile(rf"(?=[0-9]){nb}(?P<a>{num}) ?(?P<cur>{cur_alt})(?!\w)")
        self.money_hint = regex.compile(cur_alt)
        if k.ordinal_suffixes:
            self.ordinal_re = regex.compile(rf"{nb}([0-9]{{1,4}})({_alternation(k.ordinal_suffixes)})(?!\w)")
        unit_alt = _alternation(k.units)
        self.unit = regex.compile(
            rf"(?=[-−+0-9])(?:(?<![\w.,])(?P<sign>[-−+]))?{nb}(?P<a>{num})(?:(?: ?[-–] ?| {regex.escape(k.range_word)} )"
            rf"(?P<b>{num}))? ?(?P<u>{unit_alt})(?![^\W_]|/[a-zA-Z])")
        self.road = regex.compile(r"\b([A-Z]{1,3})[- ]?([0-9]{1,4})\b(?![.,][0-9])")
        self.road_first = regex.compile(r"\b([A-Z]{1,3})-?([0-9]{1,4})\b(?![.,][0-9])")
        self.digits_letters = regex.compile(rf"{nb}([0-9]{{1,4}})([A-Z]{{1,2}})\b")
        self.range = regex.compile(rf"(?=[0-9]){nb}({num}) ?[-–] ?({num}){na}")
        self.year = regex.compile(r"(?<![\w.,])(1[1-9][0-9]{2})(?![\w]|[.,][0-9])")
        self.cardinal = regex.compile(rf"(?=[-−+0-9])(?:(?<![\w.,])(?P<sign>[-−+]))?{nb}(?P<n>{num}){na}")
        self.any_digits = regex.compile(r"[0-9]+")
        self.next_word = regex.compile(r" (\w+)")
        sym_alt = _alternation(k.symbols)
        self.symbol = regex.compile(sym_alt) if sym_alt else None
        self.word_slash = regex.compile(r"(?<=\w)/(?=\w)")
        self.junk = regex.compile(r"[*_|\\^<>{}¶†‡•·#~]")
        self.street = regex.compile(r"(?<=[^\W\d_]{2})str\.")

    # --------------------------------------------------------------------------- passes
    def abbreviations(self, t: str) -> str:
        k = self.kit
        if k.street_suffix and "str." in t:
            t = self.street.sub(k.street_suffix, t)
        if not k.abbreviations:
            return t

        def repl(m: regex.Match) -> str:
            key = regex.sub(r"\s", "", m.group())
            words = self.abbr_lookup[key]
            if key in k.final_abbreviations and (m.end() == len(t) or t[m.end():].lstrip()[:1].isupper()):
                words += "."
            return words
        return self.abbr.sub(repl, t)

    def phones(self, t: str) -> str:
        k = self.kit

        def repl(m: regex.Match) -> str:
            raw = m.group()
            if sum(c.isdigit() for c in raw) < 7:
                return raw
            groups = regex.findall(r"[0-9]+", raw)
            if k.phone_pairs:
                spoken = [" ".join(k.integer(g[i:i + 2]) for i in range(0, len(g), 2)) if len(g) % 2 == 0
                          else k.spell_digits(g) for g in groups]
            else:
                spoken = [k.spell_digits(g) for g in groups]
            return pad(m, (k.symbols.get("+", "plus") + " " if raw.startswith("+") else "") + ", ".join(spoken))
        return self.phone.sub(repl, t)

    def _prev(self, t: str, i: int) -> str:
        m = regex.search(r"(\w+)\W*$", t[max(0, i - 24): i])
        return m.group(1).lower() if m else ""

    def dates(self, t: str) -> str:
        k = self.kit

        def valid(d: int, mo: int, y: int | None) -> bool:
            return 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y if y and 1 <= y <= 9999 else 2000, mo)[1]

        def iso(m: regex.Match) -> str:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            return pad(m, k.date(d, mo, y, self._prev(m.string, m.start()))) if valid(d, mo, y) else m.group()

        def numeric(m: regex.Match) -> str:
            d, mo, ys = int(m.group(1)), int(m.group(3)), m.group(4)
            if m.group(2) == "." and len(ys) != 4 and not k.decimal_comma:
                return m.group()
            y = int(ys) + (2000 if int(ys) < 70 else 1900) if len(ys) == 2 else int(ys)
            return pad(m, k.date(d, mo, y, self._prev(m.string, m.start()))) if valid(d, mo, y) else m.group()

        def short(m: regex.Match) -> str:
            d, mo = int(m.group(1)), int(m.group(2))
            if not valid(d, mo, None):
                return m.group()
            rest = m.string[m.end():].lstrip()
            end = "." if not rest or rest[0].isupper() else ""  # "am 24.12." at a sentence end keeps its period
            return pad(m, k.date(d, mo, None, self._prev(m.string, m.start()))) + end

        def day_month(m: regex.Match) -> str:
            d, mo = int(m.group(1)), self.months[m.group(3).lower()]
            if not valid(d, mo, None):
                return m.group()
            day = k.day(d, self._prev(m.string, m.start())) if k.day else k.cardinal(d, k.count_gender)
            full = m.group(3).lower() in self.full_months  # "8 mars." keeps its sentence end, "8 janv." does not
            return day + m.group(2) + k.months[mo - 1] + (m.group(4) if full else "")

        def month_year(m: regex.Match) -> str:
            return k.months[self.months[m.group(1).lower()] - 1] + m.group(2) + k.year(int(m.group(3)))

        if "-" in t:
            t = self.iso.sub(iso, t)
        t = self.num_date.sub(numeric, t)
        if k.decimal_comma:
            t = self.short_date.sub(short, t)
        if self.months:
            t = self.day_month.sub(day_month, t)
            t = self.month_year.sub(month_year, t)
        return t

    def times(self, t: str) -> str:
        def repl(m: regex.Match) -> str:
            h, mm = int(m.group("h")), int(m.group("m") or 0)
            if h > 24 or mm > 59:
                return m.group()
            return pad(m, self.kit.time(h, mm))
        for pattern in self.clocks:
            t = pattern.sub(repl, t)
        return t

    def money(self, t: str) -> str:
        k = self.kit
        if not self.money_hint.search(t):
            return t

        def repl(m: regex.Match) -> str:
            one, many, sub_one, sub_many, gender = k.currencies[m.group("cur")]
            whole, frac = k.split_number(m.group("a"))
            units = int(whole or "0")
            name = one if units == 1 else many
            if frac and len(frac) <= 2 and sub_one:
                cents = int(frac.ljust(2, "0"))
                main = f"{k.integer(whole or '0', gender)} {name}"
                if cents == 0:
                    return pad(m, main)
                sub = sub_one if cents == 1 else sub_many
                cents_words = k.cardinal(cents, "m" if k.count_gender == "n" else k.count_gender)
                if units == 0:
                    return pad(m, f"{cents_words} {sub}")
                return pad(m, k.money_format.format(main=main, cents=cents_words, sub=sub))
            if frac:
                return pad(m, f"{k.number(m.group('a'))} {many}")
            if k.unit_after_one and whole == "1":
                return pad(m, f"{name} {k.cardinal(1, gender)}")
            return pad(m, f"{k.integer(whole, gender)} {name}")
        t = self.money_pre.sub(repl, t)
        return self.money_post.sub(repl, t)

    def ordinals(self, t: str) -> str:
        k = self.kit
        if not k.ordinal_suffixes:
            return t

        def repl(m: regex.Match) -> str:
            gender, short = k.ordinal_suffixes[m.group(2)]
            n = int(m.group(1))
            words = k.ordinal(n, gender, True) if short else k.ordinal(n, gender)
            return pad(m, words)
        return self.ordinal_re.sub(repl, t)

    def units(self, t: str) -> str:
        k = self.kit

        def repl(m: regex.Match) -> str:
            singular, plural, gender = k.units[m.group("u")]
            a, b = m.group("a"), m.group("b")
            sign = m.group("sign") or ""
            if b:
                return pad(m, f"{k.number(sign + a)} {k.range_word} {k.number(b, gender)} {plural}")
            whole, frac = k.split_number(a)
            value = float(f"{whole or 0}.{frac or 0}")
            one = value < 2 if k.plural_from_two else (value == 1 and not frac)
            if k.unit_after_one and value == 1 and not frac and not sign:
                return pad(m, f"{singular} {k.cardinal(1, gender)}")
            return pad(m, f"{k.number(sign + a, gender)} {singular if one else plural}")
        return self.unit.sub(repl, t)

    def codes(self, t: str) -> str:
        k = self.kit

        def letters(s: str) -> str:
            return k.road_names.get(s) or (" ".join(s) if len(s) <= 3 else s)
        t = self.road.sub(lambda m: f"{letters(m.group(1))} {k.integer(m.group(2))}", t)
        return self.digits_letters.sub(lambda m: pad(m, f"{k.integer(m.group(1))} {' '.join(m.group(2))}"), t)

    def numbers(self, t: str) -> str:
        k = self.kit

        def rng(m: regex.Match) -> str:
            a, b = m.group(1), m.group(2)
            if len(a) == len(b) == 4 and a.isdigit() and b.isdigit() and int(a) < int(b):
                return pad(m, f"{k.year(int(a))} {k.range_word} {k.year(int(b))}")
            return pad(m, f"{k.number(a)} {k.range_word} {k.number(b)}")
        t = self.range.sub(rng, t)
        if k.year_cues:
            def year(m: regex.Match) -> str:
                prev = self._prev(m.string, m.start())
                return pad(m, k.year(int(m.group(1)))) if prev in k.year_cues else m.group()
            t = self.year.sub(year, t)
        t = self.cardinal.sub(lambda m: pad(m, k.number((m.group("sign") or "") + m.group("n"), self._gender(m))), t)
        return self.any_digits.sub(lambda m: pad(m, k.integer(m.group())), t)

    def _gender(self, m: regex.Match) -> str | None:
        """The gender the noun after a bare number asks for ("21 heures" -> vingt et une heures)."""
        k = self.kit
        nxt = self.next_word.match(m.string, m.end())
        if nxt is None:
            return None
        word = nxt.group(1)
        if word.lower() in k.feminine_nouns:
            return "f"
        return k.noun_gender(word) if k.noun_gender else None

    def symbols(self, t: str) -> str:
        t = self.word_slash.sub(" ", t)
        if self.symbol is not None:
            t = self.symbol.sub(lambda m: " " + self.kit.symbols[m.group()] + " ", t)
        return self.junk.sub(" ", t)

    def __call__(self, text: str) -> str:
        if not text:
            return ""
        if self.native is not None:
            text = text.translate(self.native)
        for step in (*self.kit.passes, self.abbreviations, self.phones, self.dates, self.times, self.money,
                     self.ordinals, self.units, self.codes, self.numbers, self.symbols, *self.kit.post_passes, tidy):
            text = step(text)
        return text

"""English normalisation: turn what a screen shows into what a speaker says.

Input is already cleaned by `text_clean.clean` (plain quotes and dashes, no emoji, single spaces).
The rules are ordered passes of compiled regexes; each pass replaces digits with words, so a later
pass never re-reads an earlier pass's output. Anything with digits that no rule claimed is read by
the last pass as a cardinal, so the output holds no ASCII digits.

Spoken forms follow the project's training corpus (`training/corpus/*.tsv`, column `norm`): the
distilled model learnt from a teacher reading exactly those forms. Conventions (all documented in
`frontend`'s module docstring too):

* times: "14:30" -> "fourteen thirty", "14:00" -> "fourteen hundred", "09:05" -> "oh nine oh five",
  "00:00" -> "midnight", "9:30" -> "nine thirty", "9:00" -> "nine o'clock",
  "2:05 pm" / "2.05pm" -> "two oh five p.m.", "7am" -> "seven a.m.";
* numeric dates: ISO "2026-11-25" -> "November twenty-fifth, twenty twenty-six"; slashed or dotted
  "25/11/2026" is read DAY FIRST (the convention of most of the world's drivers) unless that is
  impossible ("11/25/2026": 25 cannot be a month, so month first) -> "the twenty-fifth of November
  twenty twenty-six"; "Nov 25" -> "November twenty-fifth", "25 Nov" -> "the twenty-fifth of November";
* "°C" is said "degrees" (Celsius is the default a car speaks), "°F" -> "degrees Fahrenheit";
* money: "$12.05" -> "twelve dollars and five cents", "£0.50" -> "fifty pence", "$1.5m" ->
  "one point five million dollars";
* "St." is "Street" after a street name or number ("Main St.", "5th St") and "Saint" before a name
  ("St. Louis"); "Dr." likewise "Drive" / "Doctor";
* road numbers: "I-95" -> "I ninety-five", "the A4" -> "the A four", "M25" -> "M twenty-five";
* house numbers before a street are read in pairs: "221 Baker Street" -> "two twenty-one Baker Street";
* phone numbers digit by digit, groups separated by commas, 0 as "oh";
* bare four-digit numbers are years only after a year cue ("in 1999", "since 2010", "(1985)"),
  otherwise cardinals.
"""

from __future__ import annotations

import calendar
import re

from vox_edge.runtime.text import numbers_en as nums

# ----------------------------------------------------------------------------- shared pieces
_INT = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
_NUM = rf"(?:{_INT}(?:\.[0-9]+)?|\.[0-9]+)"
_SNUM = rf"(?:[-+]?{_NUM})"
# A number must not continue a word, a decimal or another number.
_NB = r"(?<![\w.])"
# ... nor be followed by more of a number ("5.5" is not "5" then ".5").
_NA = r"(?![\w]|[.,][0-9])"

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_BY_ABBR = {m[:3]: i for i, m in enumerate(_MONTHS, 1)}
_MONTH_BY_ABBR["Sept"] = 9
_MONTH_NAME = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Sept|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def _pad(m: re.Match, words: str) -> str:
    """Replacement text, with a space added where it would otherwise glue to a neighbouring word."""
    s, a, b = m.string, m.start(), m.end()
    if a > 0 and s[a - 1].isalnum():
        words = " " + words
    if b < len(s) and s[b].isalnum():
        words += " "
    return words


def _month_number(name: str) -> int:
    return _MONTHS.index(name) + 1 if name in _MONTHS else _MONTH_BY_ABBR[name]


def _valid_date(month: int, day: int, year: int = 2000) -> bool:
    if not (1 <= month <= 12 and day >= 1):
        return False
    return day <= calendar.monthrange(year if 1 <= year <= 9999 else 2000, month)[1]


# ----------------------------------------------------------------------------- URLs and e-mail
_TLDS = (
    "com|org|net|edu|gov|mil|int|io|ai|app|dev|co|uk|us|ca|au|de|fr|es|it|nl|pt|be|ch|at|se|no|"
    "dk|fi|pl|eu|in|info|biz|me|tv|ly|gl"
)
_URL = re.compile(
    r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+"
    rf"|\b(?:[a-z0-9][a-z0-9-]{{0,62}}\.){{1,4}}(?:{_TLDS})\b(?:/[^\s<>\"']*)?"
)
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@(?:[a-z0-9-]{1,63}\.){1,4}[a-z]{2,24}\b", re.I)
_URL_TRAILING = re.compile(r"[.,;:!?)\]'\"]+$")
_URL_PARTS = re.compile(r"[0-9]+|[^\W\d_]+|[^\w\s]|_")
_URL_SYMBOLS = {
    ".": "dot", "/": "slash", ":": "colon", "@": "at", "-": "dash", "_": "underscore",
    "~": "tilde", "+": "plus", "=": "equals", "&": "and", "#": "hash", "%": "percent",
}


def _spell_address(addr: str) -> str:
    """Speak a URL or e-mail: words kept, digits one by one, symbols named."""
    out = []
    for part in _URL_PARTS.findall(addr):
        if part[0].isdigit():
            out.append(nums.digits(part))
        elif part.lower() == "www":
            out.append("w w w")
        elif part in _URL_SYMBOLS:
            out.append(_URL_SYMBOLS[part])
        elif part[0].isalpha():
            out.append(part.lower())
    return " ".join(out)


def _url(m: re.Match) -> str:
    url = m.group()
    tail = _URL_TRAILING.search(url)
    tail_text = tail.group() if tail else ""
    url = url[: len(url) - len(tail_text)]
    url = re.sub(r"^(?:https?|ftp)://", "", url, flags=re.I)
    url = re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/")  # a query string is noise to a listener
    return _pad(m, _spell_address(url)) + tail_text


def _email(m: re.Match) -> str:
    return _pad(m, _spell_address(m.group()))


def expand_addresses(t: str) -> str:
    if "@" in t:
        t = _EMAIL.sub(_email, t)
    return _URL.sub(_url, t)


# ----------------------------------------------------------------------------- phone numbers
_PHONE = re.compile(
    r"(?<![\w+.,-])(?:"
    r"\+[0-9]{1,3}(?:[ .-]?\(?[0-9]{1,5}\)?){2,5}"            # +44 20 7946 0958
    r"|\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}"                     # (555) 123-4567
    r"|(?:1[-. ])?[0-9]{3}[-.][0-9]{3}[-.][0-9]{4}"             # 1-555-123-4567
    r"|0[0-9]{2,4}[ -][0-9]{3,4}[ -]?[0-9]{3,4}"                # 020 7946 0958
    r"|[0-9]{3}-[0-9]{4}"                                       # 555-1234
    r")(?![\w-]|[.,][0-9])"
)
_DIAL = re.compile(r"\b([Cc]all|[Dd]ial)(\s+)([0-9]{3,})" + _NA)


def _phone(m: re.Match) -> str:
    raw = m.group()
    if sum(c.isdigit() for c in raw) < 7:
        return raw
    groups = re.findall(r"[0-9]+", raw)
    spoken = ", ".join(nums.digits(g) for g in groups)
    return _pad(m, ("plus " if raw.startswith("+") else "") + spoken)


def expand_phones(t: str) -> str:
    t = _PHONE.sub(_phone, t)
    # "Call 911": a number after a dialling verb is a number to dial, digit by digit.
    return _DIAL.sub(lambda m: m.group(1) + m.group(2) + nums.digits(m.group(3)), t)


# ----------------------------------------------------------------------------- dates
# An ISO date, possibly glued to a time by "T" ("2026-11-25T14:30").
_ISO_DATE = re.compile(
    r"(?<![\w.-])([0-9]{4})-([0-9]{2})-([0-9]{2})(?:(T)(?=[0-9]{2}:[0-9]{2})|(?![\w-]|\.[0-9]))"
)
_NUM_DATE = re.compile(
    r"(?<![\w./-])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![\w/-]|[.,][0-9])"
)
_MDY = re.compile(
    rf"\b({_MONTH_NAME})\.? ([0-9]{{1,2}})(?:st|nd|rd|th)?(?:(,)? ([0-9]{{4}}))?(?![\w:]|[.,][0-9])"
)
_DMY = re.compile(
    rf"(?<![\w.,])([0-9]{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_NAME})\b(\.)?(?:,? ([0-9]{{4}})(?![\w]|[.,][0-9]))?"
)
_ANY_MONTH = re.compile(_MONTH_NAME)  # fast literal scan, to skip the three patterns below
_MY = re.compile(rf"\b({_MONTH_NAME})\.?,? ([0-9]{{4}})(?![\w:]|[.,][0-9])")


def _full_year(y: str) -> int:
    # Two-digit years: 00-69 are 2000s, 70-99 are 1900s.
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n


def _say_mdy(month: int, day: int, year: int | None) -> str:
    out = f"{_MONTHS[month - 1]} {nums.ordinal(day)}"
    return out + (f", {nums.year(year)}" if year is not None else "")


def _say_dmy(month: int, day: int, year: int | None, article: bool = True) -> str:
    out = ("the " if article else "") + f"{nums.ordinal(day)} of {_MONTHS[month - 1]}"
    return out + (f" {nums.year(year)}" if year is not None else "")


def _iso_date(m: re.Match) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not _valid_date(mo, d, y):
        return m.group()
    return _pad(m, _say_mdy(mo, d, y) + (" at " if m.group(4) else ""))


def _num_date(m: re.Match) -> str:
    a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
    if m.group(2) == "." and len(y) != 4:
        return m.group()  # "1.2.26" is more likely a version than a date
    year = _full_year(y)
    if a <= 12 < b and _valid_date(a, b, year):
        return _pad(m, _say_mdy(a, b, year))  # only month-first can be right
    if _valid_date(b, a, year):
        return _pad(m, _say_dmy(b, a, year))  # the documented day-first convention
    return m.group()


def _mdy(m: re.Match) -> str:
    month, day = _month_number(m.group(1)), int(m.group(2))
    year = int(m.group(4)) if m.group(4) else None
    if not _valid_date(month, day, year or 2000):
        return m.group()
    return _say_mdy(month, day, year)


def _dmy(m: re.Match) -> str:
    day, month = int(m.group(1)), _month_number(m.group(2))
    year = int(m.group(4)) if m.group(4) else None
    if not _valid_date(month, day, year or 2000):
        return m.group()
    article = not m.string[max(0, m.start() - 4): m.start()].lower().endswith("the ")
    # "on 5 Mar." : the abbreviation's period may also end the sentence.
    period = _keep_period(m.string, m.end()) if m.group(3) and year is None else ""
    return _say_dmy(month, day, year, article) + period


def _my(m: re.Match) -> str:
    return f"{_MONTHS[_month_number(m.group(1)) - 1]} {nums.year(int(m.group(2)))}"


def expand_dates(t: str) -> str:
    t = _ISO_DATE.sub(_iso_date, t)
    t = _NUM_DATE.sub(_num_date, t)
    if not _ANY_MONTH.search(t):
        return t
    t = _MDY.sub(_mdy, t)
    t = _DMY.sub(_dmy, t)
    return _MY.sub(_my, t)


# ----------------------------------------------------------------------------- times
_AMPM = r"(?P<ap>[aApP])\.? ?[mM](?:\.(?!\w)|(?![\w]))"
_CLOCK = re.compile(
    rf"(?<![\w:.,])([0-9]{{1,2}})([:.])([0-9]{{2}})(?::([0-9]{{2}}))?(?: ?{_AMPM})?(?![\w:]|[.,][0-9])"
)
_HOUR_AMPM = re.compile(rf"(?<![\w:.,])([0-9]{{1,2}}) ?{_AMPM}")


def _minutes(mm: int) -> str:
    return "oh " + nums.cardinal(mm) if mm < 10 else nums.cardinal(mm)


def _clock(m: re.Match) -> str:
    h, sep, mm = int(m.group(1)), m.group(2), int(m.group(3))
    ap = m.group("ap")
    if mm > 59 or h > 24 or (sep == "." and not ap):
        return m.group()  # "3.30" without am/pm is a decimal
    if ap and 1 <= h <= 12:
        words = nums.cardinal(h) + ("" if mm == 0 else " " + _minutes(mm)) + f" {ap.lower()}.m."
    else:
        words = _clock_24(m.group(1), h, mm)
    if m.group(4):
        secs = int(m.group(4))
        words += f" and {nums.cardinal(secs)} second" + ("" if secs == 1 else "s")
    return _pad(m, words)


def _clock_24(raw_hour: str, h: int, mm: int) -> str:
    """Clock time without am/pm; a leading zero ("09:30") means the 24-hour style "oh nine thirty"."""
    if h == 0:
        return "midnight" if mm == 0 else "zero " + _minutes(mm)
    if raw_hour.startswith("0") or h >= 10:
        hour = ("oh " if h < 10 else "") + nums.cardinal(h)
        return hour + (" hundred" if mm == 0 else " " + _minutes(mm))
    return nums.cardinal(h) + (" o'clock" if mm == 0 else " " + _minutes(mm))


def _hour_ampm(m: re.Match) -> str:
    h = int(m.group(1))
    if not 1 <= h <= 12:
        return m.group()
    return _pad(m, f"{nums.cardinal(h)} {m.group('ap').lower()}.m.")


def expand_times(t: str) -> str:
    t = _CLOCK.sub(_clock, t)
    return _HOUR_AMPM.sub(_hour_ampm, t)


# ----------------------------------------------------------------------------- money
# symbol -> (one, many, one-hundredth, many-hundredths); no hundredths -> decimals are read out.
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("dollar", "dollars", "cent", "cents"),
    "USD": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "JPY": ("yen", "yen", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "CHF": ("franc", "francs", "centime", "centimes"),
}
_SCALE_WORDS = {
    "k": "thousand", "K": "thousand", "thousand": "thousand",
    "m": "million", "M": "million", "mn": "million", "million": "million",
    "b": "billion", "bn": "billion", "B": "billion", "billion": "billion",
    "trillion": "trillion", "tn": "trillion",
}
_SCALE = r"(?: ?(?P<scale>thousand|million|billion|trillion|mn|bn|tn|[kKmMbB])(?![\w]))?"
_MONEY_PRE = re.compile(
    rf"(?<![\w])(?P<sign>[-+]?)(?P<cur>US\$|[$€£¥₹]|(?:USD|EUR|GBP|JPY|INR|CHF) ?)(?P<a>{_NUM})"
    rf"(?:(?: ?[-–] ?| to )(?:US\$|[$€£¥₹])?(?P<b>{_NUM}))?{_SCALE}{_NA}"
)
_MONEY_POST = re.compile(
    rf"{_NB}(?P<sign>[-+]?)(?P<a>{_NUM})(?:[-–](?P<b>{_NUM}))?{_SCALE} ?(?P<cur>[$€£¥₹]|(?:USD|EUR|GBP|JPY|INR|CHF)\b)"
)
_MONEY_HINT = re.compile(r"[$€£¥₹¢]|USD|EUR|GBP|JPY|INR|CHF")
_CENTS_POST = re.compile(rf"{_NB}({_INT}) ?¢")


def _amount(value: str, names: tuple, scale: str | None) -> str:
    one, many, sub_one, sub_many = names
    whole, _, frac = value.replace(",", "").partition(".")
    if scale:
        return f"{nums.number_words(value)} {scale} {many}"
    if not frac or sub_one is None or len(frac) > 2:
        if frac:
            return f"{nums.number_words(value)} {many}"
        return f"{nums.integer_words(whole or '0')} {one if whole == '1' else many}"
    cents = int(frac.ljust(2, "0"))
    units = int(whole or "0")
    main = f"{nums.integer_words(whole or '0')} {one if units == 1 else many}"
    if cents == 0:
        return main
    sub = f"{nums.cardinal(cents)} {sub_one if cents == 1 else sub_many}"
    return sub if units == 0 else f"{main} and {sub}"


def _money(m: re.Match) -> str:
    names = _CURRENCIES[m.group("cur").strip()]
    scale = _SCALE_WORDS.get(m.group("scale") or "")
    sign = {"-": "minus ", "+": "plus "}.get(m.group("sign"), "")
    if m.group("b"):
        low = nums.number_words(m.group("a"))
        high = _amount(m.group("b"), names, scale)
        return _pad(m, f"{sign}{low} to {high}")
    return _pad(m, sign + _amount(m.group("a"), names, scale))


def _cents(m: re.Match) -> str:
    n = m.group(1).replace(",", "")
    return _pad(m, f"{nums.integer_words(n)} {'cent' if n == '1' else 'cents'}")


def expand_money(t: str) -> str:
    if not _MONEY_HINT.search(t):
        return t
    t = _MONEY_PRE.sub(_money, t)
    t = _MONEY_POST.sub(_money, t)
    return _CENTS_POST.sub(_cents, t)


# ----------------------------------------------------------------------------- decades
# "1990s", "'90s"; a bare "30s" is a decade only after "the", "early" etc. (else it is 30 seconds).
_DECADE = re.compile(r"(?<![\w.,'])(?:([0-9]{3}0)|'([0-9]0))'?s\b")
# A bare "30s" is a decade only after "the", "early" etc.; otherwise it is 30 seconds.
_DECADE_SHORT = re.compile(r"\b((?:the|The|early|late|mid|her|his|their|my|your|our)[ -])([0-9]0)'?s\b")


def _decade_words(digits: str) -> str:
    n = int(digits)
    return nums.pluralize(nums.year(n) if len(digits) == 4 else nums.cardinal(n))


def expand_decades(t: str) -> str:
    t = _DECADE.sub(lambda m: _pad(m, _decade_words(m.group(1) or m.group(2))), t)
    return _DECADE_SHORT.sub(lambda m: m.group(1) + _decade_words(m.group(2)), t)


# ----------------------------------------------------------------------------- units
# abbreviation -> (singular, plural). Case matters: "m" is metres, "M" is not a unit here.
_UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "km/hr": ("kilometer per hour", "kilometers per hour"),
    "kmh": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "mpg": ("mile per gallon", "miles per gallon"),
    "l/100km": ("liter per hundred kilometers", "liters per hundred kilometers"),
    "L/100km": ("liter per hundred kilometers", "liters per hundred kilometers"),
    "l/100 km": ("liter per hundred kilometers", "liters per hundred kilometers"),
    "L/100 km": ("liter per hundred kilometers", "liters per hundred kilometers"),
    "kWh/100km": ("kilowatt hour per hundred kilometers", "kilowatt hours per hundred kilometers"),
    "km²": ("square kilometer", "square kilometers"),
    "m²": ("square meter", "square meters"),
    "cm²": ("square centimeter", "square centimeters"),
    "ft²": ("square foot", "square feet"),
    "sq ft": ("square foot", "square feet"),
    "m³": ("cubic meter", "cubic meters"),
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "yd": ("yard", "yards"),
    "yds": ("yard", "yards"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"),
    "gal": ("gallon", "gallons"),
    "h": ("hour", "hours"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "s": ("second", "seconds"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
    "kW": ("kilowatt", "kilowatts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "W": ("watt", "watts"),
    "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "kB": ("kilobyte", "kilobytes"),
    "KB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    "Mbps": ("megabit per second", "megabits per second"),
    "°C": ("degree", "degrees"),
    "° C": ("degree", "degrees"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "° F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "%": ("percent", "percent"),
    "‰": ("per mille", "per mille"),
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_UNIT = re.compile(
    rf"{_NB}(?P<a>{_SNUM})(?:(?: ?[-–] ?| to )(?P<b>{_SNUM}))? ?(?P<u>{_UNIT_ALT})(?![^\W_]|/[a-z])"
)


def _unit(m: re.Match) -> str:
    singular, plural = _UNITS[m.group("u")]
    a, b = m.group("a"), m.group("b")
    if b:
        return _pad(m, f"{nums.number_words(a)} to {nums.number_words(b)} {plural}")
    name = singular if a.lstrip("+-") == "1" else plural
    return _pad(m, f"{nums.number_words(a)} {name}")


def expand_units(t: str) -> str:
    t = expand_decades(t)
    return _UNIT.sub(_unit, t)


# ----------------------------------------------------------------------------- abbreviations
# Words that can be a title before a name or a street type after one.
_DUAL = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}
_TITLES = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor", "Capt": "Captain",
    "Lt": "Lieutenant", "Sgt": "Sergeant", "Rev": "Reverend", "Mt": "Mount", "Ft": "Fort",
    "Gen": "General", "Gov": "Governor", "Sen": "Senator", "Rep": "Representative",
}
# Street types that are never anything else when capitalised after a name.
_STREETS_SAFE = {"Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Pkwy": "Parkway", "Hwy": "Highway"}
# Street types that are street types only right after a name ("Elm Ct", not "CT" the state).
_STREETS_AFTER_NAME = {
    "Ln": "Lane", "Ct": "Court", "Pl": "Place", "Ter": "Terrace", "Terr": "Terrace",
    "Cres": "Crescent", "Sq": "Square", "Cl": "Close", "Cir": "Circle", "Expy": "Expressway",
    "Fwy": "Freeway", "Jr": "Junior", "Sr": "Senior",
}
_ABBR = re.compile(
    r"\b(" + "|".join(sorted({*_DUAL, *_TITLES, *_STREETS_SAFE, *_STREETS_AFTER_NAME}, key=len, reverse=True))
    + r")\b(\.)?"
)
_PREV_WORD = re.compile(r"(\S+)\s*$")
_NEXT_WORD = re.compile(r"^\s*(\S+)")
_NUMBER_OR_ORDINAL = re.compile(r"^[0-9]+(?:st|nd|rd|th)?$")
_LATIN = re.compile(r"(?<![\w.])(e\.g\.|i\.e\.|etc\.|vs\.?|approx\.|cf\.|incl\.)(?=\W|$)", re.I)
_LATIN_WORDS = {
    "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "vs": "versus",
    "approx.": "approximately", "cf.": "compare", "incl.": "including",
}
_NUMBER_ABBR = re.compile(r"\b(N[Oo]|no)\. ?(?=[0-9])")


def _prev_word(s: str, i: int) -> tuple[str, bool]:
    """The word before position i and whether it starts a sentence (so its capital means nothing)."""
    window = s[max(0, i - 48): i]
    m = _PREV_WORD.search(window)
    if not m:
        return "", True
    before = window[: m.start()].rstrip()
    if not before and i - 48 > 0:
        return m.group(1), False  # window cut mid-text: a long preceding word, not a sentence start
    return m.group(1), (not before or before[-1] in '.!?:;"(')


def _next_word(s: str, j: int) -> str:
    m = _NEXT_WORD.search(s[j: j + 48])
    return m.group(1) if m else ""


def _is_name(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.rstrip(".,;:!?'\"").replace("'", "").isalpha()


def _street_context(prev: str, prev_starts_sentence: bool) -> bool:
    """True after "Main" or "5th" (a street name), false after "with" or a sentence start."""
    if not prev or prev[-1] in ",;:":
        return False
    if _NUMBER_OR_ORDINAL.match(prev):
        return True
    return _is_name(prev) and not prev_starts_sentence


def _keep_period(s: str, end: int) -> str:
    """An abbreviation's period also ends the sentence when text ends or a capital follows."""
    rest = s[end: end + 3].lstrip()
    return "." if not rest or rest[0].isupper() or rest[0] in "\"'" else ""


def _abbr(m: re.Match) -> str:
    word, dot = m.group(1), m.group(2) or ""
    s = m.string
    prev, initial = _prev_word(s, m.start())
    nxt = _next_word(s, m.end())
    street = _street_context(prev, initial)
    next_is_name = _is_name(nxt)
    if word in _DUAL:
        title, street_word = _DUAL[word]
        if not street and next_is_name:
            return title
        return street_word + (_keep_period(s, m.end()) if dot else "")
    if word in _TITLES:
        return _TITLES[word] if next_is_name and (dot or word in ("Mr", "Mrs", "Ms")) else m.group()
    if word in _STREETS_SAFE and (street or dot):
        return _STREETS_SAFE[word] + (_keep_period(s, m.end()) if dot else "")
    if word in _STREETS_AFTER_NAME and street:
        return _STREETS_AFTER_NAME[word] + (_keep_period(s, m.end()) if dot else "")
    return m.group()


def _latin(m: re.Match) -> str:
    raw = m.group(1)
    words = _LATIN_WORDS[raw.lower()]
    if raw.lower() == "etc.":
        return words + _keep_period(m.string, m.end())
    return words


def expand_abbreviations(t: str) -> str:
    t = _NUMBER_ABBR.sub("number ", t)
    t = _LATIN.sub(_latin, t)
    return _ABBR.sub(_abbr, t)


# ----------------------------------------------------------------------------- house numbers, roads
_STREET_TYPES = (
    "Street|Avenue|Road|Boulevard|Drive|Lane|Court|Place|Way|Parkway|Terrace|Crescent|Square|"
    "Highway|Close|Circle|Trail|Row|Alley|Plaza|Gardens|Grove|Walk|Mews|Hill|Expressway|Freeway"
)
_HOUSE = re.compile(
    rf"(?<![\w.,$€£-])([0-9]{{3,4}})([A-Za-z]?) ((?:(?:[A-Z][\w'.-]{{0,30}}|[0-9]{{1,3}}(?:st|nd|rd|th)) ){{1,4}}(?:{_STREET_TYPES}))\b"
)
_ROAD_DASH = re.compile(r"\b([A-Z]{1,3})-([0-9]{1,4})\b(?!-|\.[0-9])")
_LETTERS_DIGITS = re.compile(r"\b([A-Z]{1,3})([0-9]{1,4})\b(?!\.[0-9])")
_DIGITS_LETTERS = re.compile(rf"{_NB}([0-9]{{1,4}})([A-Z]{{1,2}})\b")


def _house(m: re.Match) -> str:
    n = int(m.group(1))
    high, low = divmod(n, 100)
    if n % 1000 == 0 or high == 0:
        words = nums.cardinal(n)
    elif low == 0:
        words = nums.cardinal(high) + " hundred"
    else:
        words = nums.cardinal(high) + " " + _minutes(low)
    letter = f" {m.group(2).upper()}" if m.group(2) else ""
    return f"{words}{letter} {m.group(3)}"


def _letters(s: str) -> str:
    """Short all-caps codes are spelt; "I" and single letters stay as they are."""
    return " ".join(s) if len(s) <= 3 else s


def expand_codes(t: str) -> str:
    t = _HOUSE.sub(_house, t)
    t = _ROAD_DASH.sub(lambda m: f"{_letters(m.group(1))} {nums.integer_words(m.group(2))}", t)
    t = _LETTERS_DIGITS.sub(lambda m: f"{_letters(m.group(1))} {nums.integer_words(m.group(2))}", t)
    return _DIGITS_LETTERS.sub(lambda m: _pad(m, f"{nums.integer_words(m.group(1))} {' '.join(m.group(2))}"), t)


# ----------------------------------------------------------------------------- plain numbers
# Four digits are found first (cheap), then the words before them are checked for a year cue.
_FOUR_DIGITS = re.compile(r"(?<![\w.,])([0-9]{4})(?![\w]|[.,][0-9]| ?[-–] ?[0-9])")
_YEAR_CUE = re.compile(
    r"(?:\b(?:in|since|from|until|till|by|before|after|during|year|circa|ca\.|c\.|spring|summer|"
    r"autumn|fall|winter|early|late) |\(|\bmid-)$",
    re.I,
)
_ORDINAL = re.compile(rf"{_NB}({_INT})(st|nd|rd|th|ST|ND|RD|TH)\b")
_MIXED_FRACTION = re.compile(rf"{_NB}([0-9]+) ([0-9]{{1,2}})/([0-9]{{1,2}})(?![\w/]|[.,][0-9])")
_FRACTION = re.compile(rf"(?<![\w./])([0-9]{{1,2}})/([0-9]{{1,2}})(?![\w/]|[.,][0-9])")
_RANGE = re.compile(rf"{_NB}({_NUM})(?:-|–| – )({_NUM}){_NA}")
_VERSION = re.compile(rf"{_NB}([0-9]+(?:\.[0-9]+){{2,}}){_NA}")
_TIMES = re.compile(rf"{_NB}({_NUM}) ?[x×] ?({_NUM}){_NA}")
_RATIO = re.compile(rf"{_NB}([0-9]+):([0-9]+){_NA}")  # what the clock pass left: "2:1", "16:9"
_MULTIPLIER = re.compile(rf"{_NB}({_NUM})x(?![\w])")
_CARDINAL = re.compile(rf"(?:(?<![\w.,])(?P<sign>[-+]))?{_NB}(?P<n>{_NUM}){_NA}")
_ANY_DIGITS = re.compile(r"[0-9]+")
# Sub- and superscript digits are read as separate numbers: "H₂O" -> "H two O". (² and ³ are left
# for expand_symbols: "squared", "cubed".)
_SMALL_DIGITS = re.compile("[⁰¹⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]+")
_SMALL_TO_ASCII = str.maketrans("⁰¹⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "014567890123456789")


def _year(m: re.Match) -> str:
    n = int(m.group(1))
    if not 1000 <= n <= 2099 or not _YEAR_CUE.search(m.string, max(0, m.start() - 8), m.start()):
        return m.group()
    return nums.year(n)


def _fraction_words(num: int, den: int) -> str | None:
    if not 0 < num < den <= 10:  # "9/11", "24/7" are not fractions
        return None
    if den == 2:
        name = "half" if num == 1 else "halves"
    elif den == 4:
        name = "quarter" if num == 1 else "quarters"
    else:
        name = nums.ordinal(den) + ("" if num == 1 else "s")
    return f"{nums.cardinal(num)} {name}"


def _mixed_fraction(m: re.Match) -> str:
    part = _fraction_words(int(m.group(2)), int(m.group(3)))
    if part is None:
        return m.group()
    part = part.replace("one half", "a half").replace("one quarter", "a quarter")
    return _pad(m, f"{nums.integer_words(m.group(1))} and {part}")


def _fraction(m: re.Match) -> str:
    words = _fraction_words(int(m.group(1)), int(m.group(2)))
    return m.group() if words is None else _pad(m, words)


def _range(m: re.Match) -> str:
    a, b = m.group(1), m.group(2)
    if _looks_like_year(a) and _looks_like_year(b) and int(b) > int(a):
        return _pad(m, f"{nums.year(int(a))} to {nums.year(int(b))}")
    return _pad(m, f"{nums.number_words(a)} to {nums.number_words(b)}")


def _looks_like_year(s: str) -> bool:
    return len(s) == 4 and s.isdigit() and 1000 <= int(s) <= 2099


def _version(m: re.Match) -> str:
    parts = m.group(1).split(".")
    joiner = " dot " if len(parts) == 4 else " point "  # four parts: an IP address
    return _pad(m, joiner.join(nums.integer_words(p) for p in parts))


def _cardinal(m: re.Match) -> str:
    words = nums.number_words(m.group("n"))
    if m.group("sign"):
        words = ("minus " if m.group("sign") == "-" else "plus ") + words
    return _pad(m, words)


def expand_numbers(t: str) -> str:
    t = _SMALL_DIGITS.sub(lambda m: " " + m.group().translate(_SMALL_TO_ASCII) + " ", t)
    t = _FOUR_DIGITS.sub(_year, t)
    t = _ORDINAL.sub(lambda m: _pad(m, nums.ordinal(int(m.group(1).replace(",", "")))), t)
    if "/" in t:
        t = _MIXED_FRACTION.sub(_mixed_fraction, t)
        t = _FRACTION.sub(_fraction, t)
    t = _VERSION.sub(_version, t)
    t = _RANGE.sub(_range, t)
    t = _TIMES.sub(lambda m: _pad(m, f"{nums.number_words(m.group(1))} by {nums.number_words(m.group(2))}"), t)
    t = _RATIO.sub(lambda m: _pad(m, f"{nums.integer_words(m.group(1))} to {nums.integer_words(m.group(2))}"), t)
    t = _MULTIPLIER.sub(lambda m: _pad(m, f"{nums.number_words(m.group(1))} times"), t)
    t = _CARDINAL.sub(_cardinal, t)
    # Whatever is left (digits glued to letters, odd separators): read it, never leave digits.
    return _ANY_DIGITS.sub(lambda m: _pad(m, nums.integer_words(m.group())), t)


# ----------------------------------------------------------------------------- symbols, acronyms
_EARLY_SYMBOLS = (
    (re.compile(r"#\s?(?=[0-9])"), "number "),
    (re.compile(r"~\s?(?=[0-9$€£])"), "about "),
    (re.compile(r"±\s?"), " plus or minus "),
)
# One pass for every symbol with a spoken name; tidy() collapses the spaces added around them.
_SYMBOL_WORDS = {
    "&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "×": " times ", "÷": " divided by ",
    "≈": " approximately ", "≠": " is not ", "≤": " at most ", "≥": " at least ", "→": " to ",
    "%": " percent ", "°": " degrees ", "§": " section ", "²": " squared ", "³": " cubed ",
}
_SYMBOL = re.compile("[" + re.escape("".join(_SYMBOL_WORDS)) + r"*_|\\^<>{}¶†‡•·]")
_HASHTAG = re.compile(r"(?<!\S)#(?=\w)")
_WORD_SLASH = re.compile(r"(?<=\w)/(?=\w)")  # "and/or", "A/C"

# Initialisms a listener expects letter by letter; other all-caps words stay as written.
_SPELLED = {
    "FM", "GPS", "USB", "EV", "SUV", "TV", "DVD", "CD", "PC", "SMS", "BBC", "USA", "UK", "EU",
    "ETA", "ABS", "RPM", "HVAC", "LED", "VIN", "ID", "AC", "DC", "UN", "NYC", "LA", "DJ", "CEO",
}
_ACRONYM = re.compile(r"\b(?:" + "|".join(sorted(_SPELLED, key=len, reverse=True)) + r")\b")
_DOTTED_INITIALISM = re.compile(r"\b((?:[A-Z]\.){2,})(?=\W|$)")


def _replace_all(t: str, table) -> str:
    for pattern, repl in table:
        t = pattern.sub(repl, t)
    return t


def expand_symbols(t: str) -> str:
    if "#" in t:
        t = _HASHTAG.sub("hashtag ", t).replace("#", " ")
    t = _WORD_SLASH.sub(" ", t)
    t = _SYMBOL.sub(lambda m: _SYMBOL_WORDS.get(m.group(), " "), t)
    t = _ACRONYM.sub(lambda m: " ".join(m.group()), t)
    # "U.S." -> "U S"; its period survives only at the very end ("J.R.R. Tolkien" is no sentence end).
    return _DOTTED_INITIALISM.sub(_dotted_initialism, t)


def _dotted_initialism(m: re.Match) -> str:
    letters = m.group(1).replace(".", "")
    spoken = "OK" if letters == "OK" else " ".join(letters)
    return spoken + ("." if m.end() == len(m.string) else "")


# ----------------------------------------------------------------------------- tidy
_TIDY = (
    (re.compile(r"\s+"), " "),
    (re.compile(r" +(?=[,.;:!?)\]])"), ""),
    (re.compile(r"(?<=[(\[]) +"), ""),
    (re.compile(r"\b([ap])\.m\.\.(?!\.)"), r"\1.m."),  # "5 p.m.." from "5pm."
    (re.compile(r",(?=[^\s\d])"), ", "),
    (re.compile(r"([,;:])(?: ?[,;:])+"), r"\1"),
)


def tidy(t: str) -> str:
    return _replace_all(t, _TIDY).strip()


# ----------------------------------------------------------------------------- entry point
_PASSES = (
    expand_addresses,
    lambda t: _replace_all(t, _EARLY_SYMBOLS),
    expand_phones,
    expand_dates,
    expand_times,
    expand_money,
    expand_units,
    expand_abbreviations,
    expand_codes,
    expand_numbers,
    expand_symbols,
    tidy,
)


def normalize_en(text: str) -> str:
    """English spoken form of already-cleaned text (see module docstring for conventions)."""
    if not text:
        return ""
    for step in _PASSES:
        text = step(text)
    return text

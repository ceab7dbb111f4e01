"""English normalisation, part two: the shared patterns, and the passes for addresses, phone numbers, money,
decades and units. `normalize_en` runs them in its pass order; the spoken-form conventions are in its docstring.
"""

from __future__ import annotations

import calendar
import re

from . import numbers_en as nums

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

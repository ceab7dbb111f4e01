"""Arabic spoken forms of what a screen shows (Modern Standard Arabic; rules in `normalize_common`).

Arabic-Indic digits (٠-٩, ۰-۹) read like ASCII ones; "٫" is the decimal separator and "٬" groups thousands
(with ASCII digits "." and ","). "الساعة 3:15" -> الساعة ثلاثة وخمسة عشر دقيقة, "3:00" -> ثلاثة;
"25/11/2026" -> خمسة وعشرون نوفمبر ألفان وستة وعشرون; "20 %" -> عشرون بالمئة; "50 درهم" and "AED 50" ->
خمسون درهم; "1 كم" -> كيلومتر واحد; "200 م" -> مئتان متر; "-5 °C" -> سالب خمسة درجة مئوية; "E11" -> E أحد عشر.
Simplification, stated plainly: numbers are read in the counting form and the counted noun is not inflected
(no dual or plural agreement, no gender polarity); listeners understand it, a careful announcer would not say it.
"""

from __future__ import annotations

from . import numbers_ar as nums
from .normalize_common import Kit, Rules

MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
          "ديسمبر")


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{nums.cardinal(d)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    return nums.cardinal(h) + (f" و{nums.cardinal(m)} دقيقة" if m else "")


def _separators(t: str) -> str:
    """Arabic decimal and thousands signs -> "." and "," (the kit reads numbers English-style)."""
    return t.replace("٫", ".").replace("٬", ",") if ("٫" in t or "٬" in t) else t


_KM_H = ("كيلومتر في الساعة", "كيلومتر في الساعة", "m")
_UNITS = {
    "km/h": _KM_H, "كم/س": _KM_H, "كم/ساعة": _KM_H, "km": ("كيلومتر", "كيلومتر", "m"), "كم": ("كيلومتر", "كيلومتر", "m"),
    "m": ("متر", "متر", "m"), "م": ("متر", "متر", "m"), "cm": ("سنتيمتر", "سنتيمتر", "m"),
    "kg": ("كيلوغرام", "كيلوغرام", "m"), "كغ": ("كيلوغرام", "كيلوغرام", "m"), "l": ("لتر", "لتر", "m"),
    "L": ("لتر", "لتر", "m"), "h": ("ساعة", "ساعة", "f"), "min": ("دقيقة", "دقيقة", "f"),
    "د": ("دقيقة", "دقيقة", "f"), "s": ("ثانية", "ثانية", "f"), "kW": ("كيلوواط", "كيلوواط", "m"),
    "kWh": ("كيلوواط ساعة", "كيلوواط ساعة", "m"), "°C": ("درجة مئوية", "درجة مئوية", "f"),
    "° C": ("درجة مئوية", "درجة مئوية", "f"), "°": ("درجة", "درجة", "f"), "%": ("بالمئة", "بالمئة", "m"),
    "٪": ("بالمئة", "بالمئة", "m"),
}
_CURRENCIES = {
    "درهم": ("درهم", "درهم", "فلس", "فلس", "m"), "AED": ("درهم", "درهم", "فلس", "فلس", "m"),
    "د.إ": ("درهم", "درهم", "فلس", "فلس", "m"), "ريال": ("ريال", "ريال", "هللة", "هللة", "m"),
    "SAR": ("ريال", "ريال", "هللة", "هللة", "m"), "ر.س": ("ريال", "ريال", "هللة", "هللة", "m"),
    "جنيه": ("جنيه", "جنيه", "قرش", "قرش", "m"), "EGP": ("جنيه", "جنيه", "قرش", "قرش", "m"),
    "دينار": ("دينار", "دينار", "فلس", "فلس", "m"), "€": ("يورو", "يورو", "سنت", "سنت", "m"),
    "EUR": ("يورو", "يورو", "سنت", "سنت", "m"), "$": ("دولار", "دولار", "سنت", "سنت", "m"),
    "USD": ("دولار", "دولار", "سنت", "سنت", "m"),
}
_ABBREVIATIONS = {"د.": "الدكتور", "ص.ب": "صندوق البريد"}
KIT = Kit(
    lang="ar", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n, g), year=nums.year,
    digits=nums.DIGITS, point="فاصلة", minus="سالب", range_word="إلى", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} و{cents} {sub}", count_gender="m",
    decimal_comma=False, native_digits="٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", passes=(_separators,), unit_after_one=True,
    abbreviations=_ABBREVIATIONS,
    symbols={"&": "و", "+": "زائد", "%": "بالمئة", "٪": "بالمئة", "°": "درجة", "=": "يساوي"},
)
normalize_ar = Rules(KIT)

"""Hindi spoken forms of what a screen shows (rules in `normalize_common`).

Devanagari digits (०-९) read like ASCII ones; Indian grouping "1,50,000" is one number (एक लाख पचास हज़ार);
decimals digit by digit after दशमलव. "3:15" -> तीन बजकर पंद्रह मिनट, "3:00" -> तीन बजे; "25/11/2026" -> पच्चीस
नवंबर दो हज़ार छब्बीस; "₹50" / "50 रुपये" -> पचास रुपये, "₹1" -> एक रुपया, "₹12.50" -> बारह रुपये पचास पैसे;
"20%" -> बीस प्रतिशत; "5 km" -> पाँच किलोमीटर; "NH48" -> N H अड़तालीस; years by hundreds after a year cue
("सन 1999" -> सन उन्नीस सौ निन्यानबे).
"""

from __future__ import annotations

from . import numbers_hi as nums
from .normalize_common import Kit, Rules

MONTHS = ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर")


def _date(d: int, m: int, y: int | None, prev: str) -> str:
    return f"{nums.cardinal(d)} {MONTHS[m - 1]}" + (f" {nums.year(y)}" if y is not None else "")


def _time(h: int, m: int) -> str:
    return f"{nums.cardinal(h)} बजे" if m == 0 else f"{nums.cardinal(h)} बजकर {nums.cardinal(m)} मिनट"


_KM_H = ("किलोमीटर प्रति घंटा", "किलोमीटर प्रति घंटा", "m")
_UNITS = {
    "km/h": _KM_H, "kmph": _KM_H, "किमी/घंटा": _KM_H, "km": ("किलोमीटर", "किलोमीटर", "m"),
    "किमी": ("किलोमीटर", "किलोमीटर", "m"), "m": ("मीटर", "मीटर", "m"), "मी": ("मीटर", "मीटर", "m"),
    "cm": ("सेंटीमीटर", "सेंटीमीटर", "m"), "kg": ("किलोग्राम", "किलोग्राम", "m"), "किलो": ("किलो", "किलो", "m"),
    "g": ("ग्राम", "ग्राम", "m"), "l": ("लीटर", "लीटर", "m"), "L": ("लीटर", "लीटर", "m"),
    "h": ("घंटा", "घंटे", "m"), "min": ("मिनट", "मिनट", "m"), "s": ("सेकंड", "सेकंड", "m"),
    "kW": ("किलोवाट", "किलोवाट", "m"), "kWh": ("किलोवाट घंटा", "किलोवाट घंटे", "m"),
    "°C": ("डिग्री सेल्सियस", "डिग्री सेल्सियस", "m"), "° C": ("डिग्री सेल्सियस", "डिग्री सेल्सियस", "m"),
    "°": ("डिग्री", "डिग्री", "m"), "%": ("प्रतिशत", "प्रतिशत", "m"),
}
_CURRENCIES = {
    "₹": ("रुपया", "रुपये", "पैसा", "पैसे", "m"), "Rs.": ("रुपया", "रुपये", "पैसा", "पैसे", "m"),
    "Rs": ("रुपया", "रुपये", "पैसा", "पैसे", "m"), "INR": ("रुपया", "रुपये", "पैसा", "पैसे", "m"),
    "रुपये": ("रुपया", "रुपये", "पैसा", "पैसे", "m"), "रु.": ("रुपया", "रुपये", "पैसा", "पैसे", "m"),
    "$": ("डॉलर", "डॉलर", "सेंट", "सेंट", "m"), "€": ("यूरो", "यूरो", "सेंट", "सेंट", "m"),
}
_ABBREVIATIONS = {"डॉ.": "डॉक्टर", "श्री.": "श्री", "कि.मी.": "किलोमीटर", "नं.": "नंबर", "No.": "नंबर"}
KIT = Kit(
    lang="hi", cardinal=nums.cardinal, ordinal=lambda n, g="m", short=False: nums.ordinal(n, g), year=nums.year,
    digits=nums.DIGITS, point="दशमलव", minus="माइनस", range_word="से", months=MONTHS, date=_date, time=_time,
    units=_UNITS, currencies=_CURRENCIES, money_format="{main} {cents} {sub}", count_gender="m",
    decimal_comma=False, frac_digits=True, native_digits="०१२३४५६७८९", abbreviations=_ABBREVIATIONS,
    clock_patterns=(r"(?<![\w:.,])(?P<h>[01]?[0-9]|2[0-3]):(?P<m>[0-5][0-9])(?: बजे)?(?![\w:]|[.,][0-9])",),
    year_cues=("सन", "वर्ष", "साल", "में", "से"),
    symbols={"&": "और", "+": "प्लस", "%": "प्रतिशत", "°": "डिग्री", "=": "बराबर"},
)
normalize_hi = Rules(KIT)

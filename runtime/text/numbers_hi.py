"""Hindi number words: every number below one hundred has its own word; then सौ (100), हज़ार (1,000),
लाख (1,00,000), करोड़ (1,00,00,000), अरब (10^9), in the Indian grouping.

100 = एक सौ, 1000 = एक हज़ार; years 1100-1999 go by hundreds (उन्नीस सौ निन्यानबे), others are cardinals
(दो हज़ार छब्बीस). Ordinals: पहला, दूसरा, तीसरा, चौथा, छठा, else the cardinal + "वाँ" (feminine पहली ... "वीं").
Spelling follows the common Devanagari forms (with nukta in हज़ार, चंद्रबिंदु in पाँच).
"""

from __future__ import annotations

from .numbers_common import scale_groups

_BELOW_100 = tuple("""शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह
उन्नीस बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस
छत्तीस सैंतीस अड़तीस उनतालीस चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास
पचास इक्यावन बावन तिरेपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ साठ इकसठ बासठ तिरेसठ चौंसठ पैंसठ छियासठ
सड़सठ अड़सठ उनहत्तर सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी अस्सी इक्यासी
बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी नब्बे इक्यानबे बानबे तिरानबे चौरानबे पचानबे छियानबे
सत्तानबे अट्ठानबे निन्यानबे""".split())
assert len(_BELOW_100) == 100
DIGITS = _BELOW_100[:10]
_SCALES = ((10 ** 9, "अरब"), (10 ** 7, "करोड़"), (10 ** 5, "लाख"), (10 ** 3, "हज़ार"), (10 ** 2, "सौ"))
_ORD = {1: "पहला", 2: "दूसरा", 3: "तीसरा", 4: "चौथा", 6: "छठा"}
_ORD_F = {1: "पहली", 2: "दूसरी", 3: "तीसरी", 4: "चौथी", 6: "छठी"}


def cardinal(n: int, gender: str = "m") -> str:
    if n < 0:
        return "माइनस " + cardinal(-n)
    if n >= 10 ** 13:
        return " ".join(DIGITS[int(c)] for c in str(n))
    groups, n = scale_groups(n, _SCALES)
    parts = [f"{cardinal(c)} {name}" for c, _, (name,) in groups]
    if n or not parts:
        parts.append(_BELOW_100[n])
    return " ".join(parts)


def ordinal(n: int, gender: str = "m") -> str:
    table = _ORD_F if gender == "f" else _ORD
    if n in table:
        return table[n]
    return cardinal(n) + ("वीं" if gender == "f" else "वाँ")


def year(n: int) -> str:
    if 1100 <= n <= 1999:
        high, low = divmod(n, 100)
        return f"{_BELOW_100[high]} सौ" + (f" {_BELOW_100[low]}" if low else "")
    return cardinal(n)

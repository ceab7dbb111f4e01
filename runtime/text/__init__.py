"""The text front end: everything between the user's string and the segments the model reads.

One entry point for the planner (`runtime/plan.py`): `to_segments(text, lang, ...)` -> list of `str`
(text in the spoken form, at most `MAX_SEGMENT_CHARS` characters) and `Break` (a silence of exact length, no
model call). Inside: SSML subset (`ssml`), language choice (`language`), clean-up (`clean`), the per-language
normalisers (`normalize_<lang>`, built on `normalize_common` and `numbers_<lang>`), the user lexicon
(`user_lexicon`) and the splitter (`split`). The bundle's phoneme lexicon (`lexicon`) runs later, in the
engine, right before the tokenizer. See docs/text.md.
"""

from .frontend import (DEFAULT_MAX_CHARS, VOXTRAL_LANGUAGES, normalize, prepare, register_normalizer, split_text,
                       supported_languages)
from .pipeline import MAX_SEGMENT_CHARS, Break, to_segments

__all__ = [
    "Break",
    "DEFAULT_MAX_CHARS",
    "MAX_SEGMENT_CHARS",
    "VOXTRAL_LANGUAGES",
    "normalize",
    "prepare",
    "register_normalizer",
    "split_text",
    "supported_languages",
    "to_segments",
]

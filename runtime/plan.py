"""From user text to the segments the model speaks, and the hard frame cap of each segment.

Text goes through the text front end (`vox_edge.runtime.text.to_segments`: SSML subset, language choice,
normalisation, user lexicon, splitting; see docs/text.md). Its segments are strings of at most
MAX_SEGMENT_CHARS characters with no control characters, so the frame cap below always bounds the work, and
`Break`s: silences of exact length that the engine writes into the stream without a model call.

Frame cap (documented contract; nothing can generate forever):

    cap(segment) = ceil(frame_rate · min(CAP_MAX_SECONDS, CAP_BASE_SECONDS + CAP_SECONDS_PER_CHAR · chars))

i.e. 2 s + 0.25 s per character (4 characters per second: about 3–4× slower than normal speech, at
~14 characters per second) and never more than 120 s per segment. At 12.5 Hz that is 25 + 3.125·chars
frames, at most 1500. A call's total is bounded by the sum over its segments (and by `max_frames`).
"""

from __future__ import annotations

import math

from vox_edge.runtime.text import MAX_SEGMENT_CHARS, Break, to_segments
from vox_edge.runtime.text.language import LANGUAGES

CAP_BASE_SECONDS = 2.0
CAP_SECONDS_PER_CHAR = 0.25
CAP_MAX_SECONDS = 120.0
DEFAULT_LANG = "en"

__all__ = ["Break", "MAX_SEGMENT_CHARS", "frame_cap", "language_of_voice", "segments"]


def frame_cap(segment: str, frame_rate: float) -> int:
    seconds = min(CAP_MAX_SECONDS, CAP_BASE_SECONDS + CAP_SECONDS_PER_CHAR * len(segment))
    return int(math.ceil(frame_rate * seconds))


def language_of_voice(voice: str) -> str:
    """The voice's language from its name (the release's voices: fr_male -> fr; casual_*, neutral_*, cheerful_*
    are English)."""
    head = voice.split("_", 1)[0].lower()
    return head if head in LANGUAGES else DEFAULT_LANG


def segments(text: str, lang: str = DEFAULT_LANG, normalize: bool = True, *, ssml: bool | None = None,
             lexicon=None, lenient: bool = False, voice_lang: str = DEFAULT_LANG) -> list:
    """User text -> segments in speaking order: `str` (non-empty) and `Break` ([] for empty text).

    normalize=False skips the normalisation (numbers, units, ...) but still splits and sanitises; parity tests
    use it to feed the reference exactly the same tokens. lang may be "auto" (detected; voice_lang when unsure).
    """
    return to_segments(text, lang, normalize=normalize, ssml=ssml, lexicon=lexicon, lenient=lenient,
                       default_lang=voice_lang)

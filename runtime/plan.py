"""From user text to the segments the model speaks, and the hard frame cap of each segment.

Text goes through the text front end (`vox_edge.runtime.text_frontend`: `prepare(text, lang)` =
normalise + split + drop unspeakable chunks; `split_text` alone when normalisation is off) when it is
installed, else through the small fallback below. Either way the
result is then sanitised here: control characters become spaces, empty segments are dropped and no
segment is longer than MAX_SEGMENT_CHARS, so the frame cap below always bounds the work.

Frame cap (documented contract; nothing can generate forever):

    cap(segment) = ceil(frame_rate · min(CAP_MAX_SECONDS, CAP_BASE_SECONDS + CAP_SECONDS_PER_CHAR · chars))

i.e. 2 s + 0.25 s per character (4 characters per second: about 3–4× slower than normal speech, at
~14 characters per second) and never more than 120 s per segment. At 12.5 Hz that is 25 + 3.125·chars
frames, at most 1500. A call's total is bounded by the sum over its segments, by `max_frames` and by the
request's audio budget (`audio_budget_frames`: derived from the text as written, so normalisation that
expands "9999" into words cannot multiply the audio).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import re
import unicodedata
from typing import Any

from vox_edge.config import AUDIO_BUDGET_BASE_SECONDS, AUDIO_BUDGET_SECONDS_PER_CHAR, DEFAULT_MAX_AUDIO_SECONDS
from vox_edge.errors import TextError

MAX_SEGMENT_CHARS = 400
CAP_BASE_SECONDS = 2.0
CAP_SECONDS_PER_CHAR = 0.25
CAP_MAX_SECONDS = 120.0
DEFAULT_LANG = "en"
# Voice name prefix -> language (the release's voices: casual_*/neutral_*/cheerful_* are English).
_VOICE_LANGS = {"pt", "nl", "it", "fr", "es", "de", "ar", "hi", "en"}

_SENTENCE_END = re.compile(r"(?<=[.!?…;:。！？])\s+|\n\s*\n|\n")
_SPACES = re.compile(r"\s+")


def frame_cap(segment: str, frame_rate: float) -> int:
    seconds = min(CAP_MAX_SECONDS, CAP_BASE_SECONDS + CAP_SECONDS_PER_CHAR * len(segment))
    return int(math.ceil(frame_rate * seconds))


def language_of_voice(voice: str) -> str:
    head = voice.split("_", 1)[0].lower()
    return head if head in _VOICE_LANGS else DEFAULT_LANG


def _clean(text: str) -> str:
    """Control and format characters (Cc, Cf, Cs, Co, Cn) -> space; whitespace runs -> one space."""
    out = [" " if unicodedata.category(ch)[0] == "C" and ch != "\u200d" else ch for ch in text]
    return _SPACES.sub(" ", "".join(out)).strip()


def fallback_normalize(text: str, lang: str) -> str:
    return _clean(text)


def fallback_split(text: str, lang: str) -> list[str]:
    """Sentence / line boundaries; long sentences are wrapped by `_wrap` later."""
    return [p for p in _SENTENCE_END.split(text) if p and p.strip()]


def _wrap(segment: str, limit: int = MAX_SEGMENT_CHARS) -> list[str]:
    """Split an over-long segment at the last clause mark or space before `limit` (hard cut if none)."""
    out = []
    while len(segment) > limit:
        window = segment[:limit]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(" - "))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit - 1
        out.append(segment[:cut + 1].strip())
        segment = segment[cut + 1:].strip()
    if segment:
        out.append(segment)
    return [s for s in out if s]


def _frontend() -> Any:
    """The text front-end module, or None when this install has none."""
    if importlib.util.find_spec("vox_edge.runtime.text_frontend") is None:
        return None
    return importlib.import_module("vox_edge.runtime.text_frontend")


def segments(text: str, lang: str = DEFAULT_LANG, normalize: bool = True) -> list[str]:
    """User text -> non-empty segments in speaking order ([] for empty / whitespace-only text).

    normalize=False skips the front end's normalisation (numbers, units, ...) but still splits and
    sanitises; parity tests use it to feed the reference exactly the same tokens.
    """
    if not isinstance(text, str):
        raise TextError(f"text must be str, got {type(text).__name__}; decode bytes as UTF-8 first.")
    fe = _frontend()
    if not text.strip():
        pieces: list[str] = []
    elif fe is None:
        pieces = fallback_split(fallback_normalize(text, lang) if normalize else text, lang)
    elif normalize and hasattr(fe, "prepare"):
        pieces = fe.prepare(text, lang)  # normalise, split, drop chunks with nothing to say
    else:
        pieces = fe.split_text(fe.normalize(text, lang) if normalize else text, lang)
    out: list[str] = []
    for p in pieces:
        out.extend(_wrap(_clean(p)))
    return out


def audio_budget_frames(text: str, frame_rate: float, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS) -> int:
    """Generation steps one request may take, from its text as the user wrote it (before normalisation expands
    numbers and symbols): AUDIO_BUDGET_BASE_SECONDS + AUDIO_BUDGET_SECONDS_PER_CHAR per character, at most
    `max_seconds` (vox_edge.config)."""
    seconds = min(max_seconds, AUDIO_BUDGET_BASE_SECONDS + AUDIO_BUDGET_SECONDS_PER_CHAR * len(text))
    return int(math.ceil(frame_rate * seconds))

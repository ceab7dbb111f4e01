"""Text front end: clean, normalise and split text before it reaches the tokenizer.

Public API::

    normalize(text, lang="en") -> str                 # clean-up + the language's spoken-form rules
    split_text(text, lang="en", max_chars=300) -> list[str]
    prepare(text, lang="en", max_chars=300) -> list[str]   # normalize, split, drop unspeakable chunks
    register_normalizer(lang, fn)                     # plug in / replace a language's rules
    supported_languages() -> tuple[str, ...]

`lang` is an ISO 639-1 code; a region suffix is ignored ("en-GB", "pt_BR"). Unknown languages get
the language-neutral clean-up only; `auto` is resolved by `language.resolve` before this module is
called. Empty or whitespace-only input gives "" / []. Any `str` is accepted and nothing raises on odd content (emoji, control characters, lone surrogates, 100 kB of
text): if a language's rules ever fail on some input, the cleaned text is used instead and a
warning is logged. `bytes` are decoded as UTF-8 (invalid bytes replaced); other types raise
`TextError`. Everything here is pure functions over immutable module state (compiled regexes, a
registry guarded by a lock), so it is safe to call from several threads at once.

Pipeline
--------
1. `clean.clean` (all languages): control / format / private-use characters removed, emoji
   dropped, safe NFKC, NFC, plain quotes and dashes, paragraph breaks become sentence ends, single
   spaces. See that module for the details and why each step is safe.
2. The language's normaliser from the registry. English (`normalize_en`) expands numbers,
   ordinals, years, times, dates, money, units, phone numbers, abbreviations, road names, symbols,
   URLs and e-mail addresses; see its docstring for every spoken-form convention, notably:
   numeric dates are read DAY FIRST ("25/11/2026", "05/04/2026" = 5 April) unless only month-first
   is valid ("11/25/2026"); ISO dates are unambiguous; "St."/"Dr." are Street/Drive after a name or
   number and Saint/Doctor before a name; "°C" is said "degrees", "°F" "degrees Fahrenheit"; clock
   times follow the training corpus ("14:30" -> "fourteen thirty", "2:05 pm" -> "two oh five p.m.").
3. Whitespace collapses again (a rule may leave doubled spaces).

Languages (the extension point)
-------------------------------
All nine Voxtral languages have rules: English in `normalize_en` (its own passes), the other eight in
`normalize_<lang>` as a `normalize_common.Kit` (number words in `numbers_<lang>`, units, currencies, months,
dates, clock times, ordinals, abbreviations) run by the shared passes of `normalize_common`. Each module is
imported on first use. `register_normalizer(lang, fn)` replaces or adds one at run time; the test cases of a
language are a TSV file under `tests/text_cases/`. See docs/text.md.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Callable

import regex

from vox_edge.errors import TextError
from . import split as text_split
from .clean import clean
from .language import LANGUAGES, lang_code

__all__ = [
    "VOXTRAL_LANGUAGES",
    "cleanup_only",
    "normalize",
    "prepare",
    "register_normalizer",
    "split_text",
    "supported_languages",
]

_log = logging.getLogger(__name__)

Normalizer = Callable[[str], str]

VOXTRAL_LANGUAGES = LANGUAGES  # the nine languages of Voxtral TTS
DEFAULT_MAX_CHARS = 300


def cleanup_only(text: str) -> str:
    """The normaliser of a language without spoken-form rules yet: the clean-up already ran."""
    return text


# Languages with their own rules: module and function, imported on first use.
_BUILTIN_MODULES: dict[str, tuple[str, str]] = {
    lang: (f"vox_edge.runtime.text.normalize_{lang}", f"normalize_{lang}") for lang in VOXTRAL_LANGUAGES
}
_registry: dict[str, Normalizer] = {lang: cleanup_only for lang in VOXTRAL_LANGUAGES if lang not in _BUILTIN_MODULES}
_registry_lock = threading.Lock()

_SPACES = regex.compile(r"\s+")
_SPEAKABLE = regex.compile(r"[\p{L}\p{N}]")


def _lang_key(lang: str | None) -> str:
    return lang_code(lang, "en")


def register_normalizer(lang: str, fn: Normalizer) -> None:
    """Use `fn(cleaned_text) -> spoken_text` for `lang` (replaces any earlier one, built-ins included)."""
    if not callable(fn):
        raise TypeError(f"normalizer for {lang!r} must be callable, got {type(fn).__name__}")
    with _registry_lock:
        _registry[_lang_key(lang)] = fn


def supported_languages() -> tuple[str, ...]:
    """Languages with a registered normaliser (the Voxtral nine plus any registered since)."""
    return tuple(sorted({*_registry, *_BUILTIN_MODULES}))


def _normalizer_for(lang: str) -> Normalizer:
    fn = _registry.get(lang)
    if fn is not None:
        return fn
    if lang not in _BUILTIN_MODULES:
        return cleanup_only
    module, name = _BUILTIN_MODULES[lang]
    with _registry_lock:
        fn = _registry.get(lang) or getattr(importlib.import_module(module), name)
        _registry[lang] = fn
    return fn


def _as_text(text) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    raise TextError(f"text must be a string, got {type(text).__name__}")


def normalize(text: str, lang: str = "en") -> str:
    """Spoken form of `text` in `lang`; "" when nothing is left (empty, whitespace, emoji only)."""
    cleaned = clean(_as_text(text))
    if not cleaned:
        return ""
    key = _lang_key(lang)
    try:
        out = _normalizer_for(key)(cleaned)
    except Exception:  # a rule bug must not silence the car: speak the cleaned text instead
        _log.warning("text normaliser for %r failed; using cleaned text", key, exc_info=True)
        out = cleaned
    return _SPACES.sub(" ", out).strip()


def split_text(text: str, lang: str = "en", max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """Chunks of at most `max_chars` characters at sentence, then clause, then word boundaries.

    The text is not otherwise changed: joining the chunks gives it back, whitespace aside (see
    `text_split`). Sentence marks of all nine languages are recognised, so `lang` is accepted for
    symmetry and future per-language abbreviation lists.
    """
    _lang_key(lang)
    return text_split.split_text(_as_text(text), max_chars)


def prepare(text: str, lang: str = "en", max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """What the engine synthesises, one request per item: normalise, split, drop chunks with no
    letter or digit (a lone "..." has nothing to say)."""
    chunks = split_text(normalize(text, lang), lang, max_chars)
    return [c for c in chunks if _SPEAKABLE.search(c)]

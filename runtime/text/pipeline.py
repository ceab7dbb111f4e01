"""User text -> what the model reads: text segments in the spoken form and exact silences.

`to_segments` is the one entry point of the planner (`runtime/plan.py`). Steps:

1. SSML: text that starts with `<speak` (and only such text: plain text is never parsed as markup) goes through
   `ssml.parse`; plain text is one span in the request's language.
2. Language: each span's language is the request's (`lang`), or its `<lang xml:lang>`; `auto` is detected
   per span (`language.resolve`, falling back to `default_lang`, the voice's language).
3. Normalisation (`frontend.normalize`; `say-as` spans through `say_as.render`), then the user lexicon.
4. Splitting (`frontend.split_text`): spans run together into sentences until a break, `<p>`/`<s>` or the end;
   chunks of at most MAX_SEGMENT_CHARS characters; chunks with no letter or digit are dropped. Control and format
   characters never reach the tokenizer, even with normalisation off.
"""

from __future__ import annotations

import unicodedata

import regex

from vox_edge.errors import TextError

from . import ssml as ssml_mod
from . import user_lexicon
from .frontend import DEFAULT_MAX_CHARS, normalize as normalize_text, split_text
from .language import resolve
from .say_as import render as say_as
from .ssml import Break

MAX_SEGMENT_CHARS = DEFAULT_MAX_CHARS
_SPACES = regex.compile(r"\s+")
_SPEAKABLE = regex.compile(r"[\p{L}\p{N}]")
_SPACE_BEFORE_MARK = regex.compile(r" +(?=[,.;:!?])")

__all__ = ["Break", "MAX_SEGMENT_CHARS", "to_segments"]


def sanitize(text: str) -> str:
    """Control, format, surrogate, private-use and unassigned characters -> space (ZWJ kept); single spaces."""
    if text.isascii() and text.isprintable():
        return text.strip()
    out = [" " if unicodedata.category(ch)[0] == "C" and ch != "\u200d" else ch for ch in text]
    return _SPACES.sub(" ", "".join(out)).strip()


def _chunks(text: str, lang: str, normalized: bool) -> list[str]:
    out = []
    for chunk in split_text(text, lang, MAX_SEGMENT_CHARS):
        chunk = sanitize(chunk)
        if chunk and (not normalized or _SPEAKABLE.search(chunk)):
            out.append(chunk)
    return out


def to_segments(text: str, lang: str | None = "en", *, normalize: bool = True, ssml: bool | None = None,
                lexicon=None, lenient: bool = False, default_lang: str = "en") -> list:
    """Segments in speaking order: `str` (at most MAX_SEGMENT_CHARS characters) and `Break`.

    lang: a language code, or "auto"; ssml: None = SSML when the text starts with `<speak`, True = always (a
    fragment is wrapped in `<speak>`), False = never; lexicon: a `UserLexicon`, a path to one, or None;
    lenient: ignore unsupported SSML with a warning instead of raising `SSMLError`.
    """
    if not isinstance(text, str):
        raise TextError(f"text must be str, got {type(text).__name__}; decode bytes as UTF-8 first.")
    lex = user_lexicon.load(lexicon)
    if ssml is None:
        ssml = ssml_mod.is_ssml(text)
    if not ssml:
        if not text.strip():
            return []
        code = resolve(lang, text, default_lang)
        spoken = normalize_text(text, code) if normalize else text
        if lex is not None:
            spoken = lex.apply(spoken, code)
        return _chunks(spoken, code, normalize)
    if not ssml_mod.is_ssml(text):
        text = f"<speak>{text}</speak>"
    out: list = []
    pending: list[str] = []
    pending_lang = [default_lang]  # the language of the first span in `pending` decides how it is split

    def flush() -> None:
        if pending:
            out.extend(_chunks(_SPACE_BEFORE_MARK.sub("", " ".join(pending)), pending_lang[0], normalize))
            pending.clear()

    for item in ssml_mod.parse(text, None, lenient):
        if isinstance(item, Break):
            if item.seconds > 0:  # strength="none" / time="0ms": a word boundary, not a pause
                flush()
                out.append(item)
            continue
        if item is ssml_mod.BOUNDARY:
            flush()
            continue
        code = resolve(item.lang or lang, item.text, default_lang)
        if item.say_as:
            spoken = say_as(item.text, item.say_as, item.format, code)
        else:
            spoken = normalize_text(item.text, code) if normalize else item.text
        if lex is not None:
            spoken = lex.apply(spoken, code)
        if spoken.strip():
            if not pending:
                pending_lang[0] = code
            pending.append(spoken.strip())
    flush()
    return out

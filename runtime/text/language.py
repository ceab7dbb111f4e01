"""Which of the nine Voxtral languages a text is in: from the voice, the request, or `auto` (script and cues).

`resolve(lang, text, default)` is what the planner calls: a code ("de", "pt-BR": the region is dropped) is
used as it is; `auto` (or "") detects. Detection is deliberately simple and predictable, for the short
messages a car or a board speaks: Arabic letters -> ar, Devanagari -> hi; Latin text scores each language
by its frequent short words ("der", "und", "le", "het") and its letters (ß ä ö ü -> de, ñ ¿ ¡ -> es,
ã õ -> pt, ç -> fr/pt, ij -> nl); the best score wins and a tie or no cue at all gives `default` (the
voice's language). A wrong guess only costs the spoken form of numbers: the model still reads the words.
"""

from __future__ import annotations

import regex

from vox_edge.errors import TextError

LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl", "ar", "hi")
AUTO = "auto"

_ARABIC = regex.compile(r"\p{Arabic}")
_DEVANAGARI = regex.compile(r"\p{Devanagari}")
_WORD = regex.compile(r"[\p{Latin}']+")
_SAMPLE_CHARS = 4000  # the first few sentences decide; keeps `auto` O(1) on long text

# Frequent words that are (nearly) unique to one language among the seven Latin-script ones.
_CUES = {
    "en": "the and to of is you your are with for turn left right street miles ahead exit arrive in at then".split(),
    "fr": "le la les des et à pour vous est une sur dans au aux tournez gauche droite prochaine sortie rue "
          "arrivée prévue du avec il y".split(),
    "es": "el los las y que una para con gire izquierda derecha salida calle llegada en del al está hacia "
          "siga".split(),
    "de": "der die das und ist nicht mit für sie auf links rechts abbiegen ausfahrt straße in im am nach "
          "ankunft bitte richtung".split(),
    "it": "il lo gli e di che per una sono svoltare sinistra destra uscita via arrivo alle della tra "
          "prendere".split(),
    "pt": "o os e que em para uma não você vire esquerda direita saída rua chegada às da do na no "
          "siga".split(),
    "nl": "de het een en van is niet met voor op linksaf rechtsaf afslag straat aankomst om naar na "
          "over".split(),
}
_WORD_LANGS: dict[str, list[str]] = {}
for _lang, _words in _CUES.items():
    for _w in _words:
        _WORD_LANGS.setdefault(_w, []).append(_lang)
_LETTERS = {"ß": ("de",), "ä": ("de",), "ö": ("de",), "ü": ("de",), "ñ": ("es",), "¿": ("es",), "¡": ("es",),
            "ã": ("pt",), "õ": ("pt",), "ç": ("fr", "pt"), "ê": ("fr", "pt"), "è": ("fr", "it"),
            "ù": ("fr", "it"), "ì": ("it",), "ò": ("it",), "œ": ("fr",), "î": ("fr",), "û": ("fr",)}


def lang_code(lang: str | None, default: str = "en") -> str:
    """"pt_BR" / "en-GB" / " DE " -> "pt" / "en" / "de"; None or "" -> default."""
    if lang is None:
        return default
    if not isinstance(lang, str):
        raise TextError(f"language must be a code such as 'en' or 'fr', got {type(lang).__name__}")
    return lang.strip().replace("_", "-").split("-")[0].lower() or default


def detect(text: str, default: str = "en") -> str:
    """The most likely of the nine languages for `text`; `default` when nothing points anywhere."""
    sample = text[:_SAMPLE_CHARS]
    arabic, devanagari = len(_ARABIC.findall(sample)), len(_DEVANAGARI.findall(sample))
    latin = sum(ch.isalpha() for ch in sample) - arabic - devanagari
    if arabic or devanagari:
        if arabic >= max(devanagari, latin):
            return "ar"
        if devanagari >= max(arabic, latin):
            return "hi"
    scores: dict[str, float] = {}
    for word in _WORD.findall(sample.lower()):
        for lang in _WORD_LANGS.get(word, ()):
            scores[lang] = scores.get(lang, 0.0) + 1.0
    if "ij" in sample.lower():
        scores["nl"] = scores.get("nl", 0.0) + 1.0
    for ch in sample.lower():
        for lang in _LETTERS.get(ch, ()):
            scores[lang] = scores.get(lang, 0.0) + 0.5
    if not scores:
        return default
    best = max(scores.values())
    winners = [lang for lang, s in scores.items() if s == best]
    return winners[0] if len(winners) == 1 else (default if default in winners else sorted(winners)[0])


def resolve(lang: str | None, text: str, default: str = "en") -> str:
    """The language the front end uses for `text`: `lang` itself, the detected one for `auto`, `default` for None."""
    code = lang_code(lang, lang_code(default))
    return detect(text, lang_code(default)) if code == AUTO else code

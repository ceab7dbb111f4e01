"""The user lexicon: how an integrator wants a word said (brand and street names), without retraining.

File (UTF-8 TSV, `#` starts a comment line):

    Peugeot<TAB>Peuschoh                 # all languages
    [de]                                 # the lines below apply to German text only
    Bhf<TAB>Bahnhof
    Karl-Marx-Str.<TAB>Karl-Marx-Straße
    [en]
    Worcester<TAB>Wooster<TAB>wˈʊstəɹ    # optional third column: phonemes, for bundles with a phoneme lexicon

Applied to the normalised text (after numbers and abbreviations are expanded), whole words only, longest entry
first, in one pass (a replacement is never looked up again). An entry in lower case matches the word in any
case ("peugeot", "PEUGEOT"); an entry with a capital matches exactly. A `[lang]` section applies to that
language; lines before any section to all. The phoneme column is used only by bundles that carry a phoneme
lexicon (`lexicon.py`): the spoken form is then read with those phonemes.
"""

from __future__ import annotations

import os
from pathlib import Path

import regex

from vox_edge.errors import TextError

from .language import lang_code

ALL = "*"
_SECTION = regex.compile(r"^\[\s*([A-Za-z_-]+)\s*\]$")


class UserLexicon:
    def __init__(self, entries: dict[str, dict[str, str]], phonemes: dict[str, str] | None = None,
                 source: str = "lexicon"):
        self.entries = entries  # lang (or ALL) -> {written: spoken}
        self.phonemes = phonemes or {}  # spoken word -> phonemes
        self.source = source
        self._patterns: dict[str, tuple[regex.Pattern | None, dict[str, str]]] = {}

    @classmethod
    def from_text(cls, text: str, source: str = "lexicon") -> "UserLexicon":
        entries: dict[str, dict[str, str]] = {}
        phonemes: dict[str, str] = {}
        lang = ALL
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip("\r\n\ufeff")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            section = _SECTION.match(line.strip())
            if section:
                lang = lang_code(section.group(1))
                continue
            parts = [p.strip() for p in line.split("\t")]
            if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
                raise TextError(f"{source}: line {n} is not 'word<TAB>spoken form[<TAB>phonemes]' or '[lang]'; "
                                "fix that line (columns are separated by one TAB)")
            entries.setdefault(lang, {})[parts[0]] = parts[1]
            if len(parts) == 3 and parts[2]:
                phonemes[parts[1]] = parts[2]
        return cls(entries, phonemes, source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "UserLexicon":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise TextError(f"cannot read lexicon {path}: {e}; give a UTF-8 TSV file (see docs/text.md)") from e
        return cls.from_text(text, str(path))

    def __len__(self) -> int:
        return sum(len(t) for t in self.entries.values())

    def _table(self, lang: str) -> tuple[regex.Pattern | None, dict[str, str]]:
        cached = self._patterns.get(lang)
        if cached is None:
            table = {**self.entries.get(ALL, {}), **self.entries.get(lang, {})}
            lookup = {(w if any(c.isupper() for c in w) else w.lower()): s for w, s in table.items()}
            keys = sorted(table, key=len, reverse=True)
            pattern = None
            if keys:
                alts = "|".join(regex.escape(k) if any(c.isupper() for c in k) else "(?i:" + regex.escape(k) + ")"
                                for k in keys)
                pattern = regex.compile(rf"(?<![\w])(?:{alts})(?![\w])")
            cached = self._patterns[lang] = (pattern, lookup)
        return cached

    def apply(self, text: str, lang: str) -> str:
        pattern, lookup = self._table(lang_code(lang))
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: lookup.get(m.group()) or lookup[m.group().lower()], text)


_cache: dict[tuple[str, float], UserLexicon] = {}


def load(lexicon) -> UserLexicon | None:
    """A UserLexicon, a path to one (cached while the file is unchanged), or None."""
    if lexicon is None or isinstance(lexicon, UserLexicon):
        return lexicon
    if not isinstance(lexicon, (str, os.PathLike)):
        raise TextError(f"lexicon must be a path or a UserLexicon, got {type(lexicon).__name__}")
    try:
        key = (os.fspath(lexicon), os.stat(lexicon).st_mtime)
    except OSError as e:
        raise TextError(f"cannot read lexicon {lexicon}: {e}; give a UTF-8 TSV file (see docs/text.md)") from e
    if key not in _cache:
        _cache.clear()  # one lexicon in use at a time is the normal case; keep memory bounded
        _cache[key] = UserLexicon.from_file(lexicon)
    return _cache[key]

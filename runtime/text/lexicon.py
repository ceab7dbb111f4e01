"""Pronunciation lexicon: words of normalised text -> phoneme strings, before the tokenizer.

A small model of one voice cannot learn English spelling from ~20 h of audio: the project's own model read
navigation phrases (a closed vocabulary) at ~80 % words heard but prose at ~15 %, on training sentences as much as
on held-out ones, before it was trained on phonemes. A bundle may therefore carry a lexicon; the text its model was
trained on went through this very function, so the runtime feeds the model exactly what it learned from. The 4B
release has none: its bundles tokenize the text itself.

File: UTF-8 lines `word<TAB>phonemes[<TAB>source]`, optionally gzip-compressed (`.gz`). The project's lexicon is
built from misaki's US dictionaries (Apache-2.0; training/corpus/lexicon_build.py), in misaki's phoneme alphabet; lines
with a source (`cmudict`: names and other words misaki lacks) are *secondary* entries. The compact form
(`to_compact_text`, xz-compressed as `.xz`: manifest schema 4) also has lines of a word alone: a *derived* primary
entry, whose phonemes are what `word` gives it from the file's other entries (checked when it is written), filled in
on loading, so the loaded entries are the full lexicon's exactly and every lookup is the same.

Rules of `apply`: runs of letters (with inner apostrophes) are words, everything else (spaces, punctuation, hyphens)
is kept as it is. A word is looked up as written, then lower-cased, then capitalised; then the regular English
endings -'s / -s / -es, -ed and -ing (and -ies / -ied on a stem in -y) are tried on a known stem (misaki's own G2P does the same; the dictionaries hold
few inflected forms: "kilometers" is not in them); a word that is two known words run together (street names:
Lakeview, Northgate) reads as both; an all-capitals word of up to MAX_SPELLED letters that is still
unknown is spelled letter by letter (an acronym); only then are the secondary entries tried (looked up or with a
regular ending: GPS and EV stay acronyms, Keith and Jeffersons come from CMUdict); any other unknown word stays as
lower-case letters, which the model also saw in training.
"""

from __future__ import annotations

import gzip
import lzma
import re
import zlib
from pathlib import Path

from vox_edge.errors import TokenizerError

WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
MAX_SPELLED = 5
MIN_PART = 3  # shortest part of a split compound: shorter ones ("a", "me", "ly") split too many unknown words
STRESS = "ˈˌ"
XZ_MAGIC = b"\xfd7zXZ\x00"
VOICELESS = set("ptkfθ")  # -s is /s/ after these
SIBILANT = set("szʃʒʧʤ")  # -s is /ᵻz/ after these


class Lexicon:
    def __init__(self, entries: dict[str, str], secondary: dict[str, dict[str, str]] | None = None):
        self.entries = entries  # word -> phonemes
        self.secondary = secondary or {}  # source -> {word -> phonemes}, tried after the acronym rule
        self._second = {w: p for table in self.secondary.values() for w, p in table.items()}

    @classmethod
    def from_text(cls, text: str, source: str = "lexicon") -> "Lexicon":
        entries, secondary, derived = {}, {}, []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) == 1 and WORD.fullmatch(parts[0]):  # a derived entry (compact form)
                derived.append(parts[0])
                continue
            if len(parts) not in (2, 3) or not all(parts):
                raise TokenizerError(f"{source}: line {n} is not 'word<TAB>phonemes[<TAB>source]'; rebuild the "
                                  "lexicon (training/corpus/lexicon_build.py) or re-export the bundle")
            word, phon, *tag = parts
            (secondary.setdefault(tag[0], {}) if tag else entries)[word] = phon
        if not entries:
            raise TokenizerError(f"{source}: no entries; rebuild the lexicon or re-export the bundle")
        if derived:  # from the stored entries only, as to_compact_text checked them
            base = cls(dict(entries), secondary)
            entries.update({w: base.word(w) for w in derived})
        return cls(entries, secondary)

    def to_compact_text(self) -> str:
        """The file's text with every primary entry that `word` derives from the others as the word alone (see the
        module docstring); from_text of it gives these entries exactly (each derived one is checked here). Letters
        and words with a character `word` reads differently (’) stay stored."""
        stored = dict(self.entries)
        others = Lexicon(stored, self.secondary)  # reads `stored` as it changes
        derived: set[str] = set()
        for w, p in self.entries.items():  # what each word gives with itself left out
            if len(w) < 2 or not WORD.fullmatch(w) or "’" in w:
                continue
            del stored[w]
            if others.word(w) == p:
                derived.add(w)
            stored[w] = p
        while True:  # all of them out at once: keep back those that then read differently, until none do
            base = Lexicon({w: p for w, p in self.entries.items() if w not in derived}, self.secondary)
            wrong = {w for w in derived if base.word(w) != self.entries[w]}
            if not wrong:
                break
            derived -= wrong
        rows = [(w, "" if w in derived else "\t" + p) for w, p in self.entries.items()]
        rows += [(w, f"\t{p}\t{src}") for src, table in self.secondary.items() for w, p in table.items()]
        return "".join(f"{w}{rest}\n" for w, rest in sorted(rows))

    def with_entries(self, extra: dict[str, str]) -> "Lexicon":
        """This lexicon with `extra` (word -> phonemes, e.g. a user lexicon's phoneme column) taking precedence;
        the same object when there is nothing to add. Kept per distinct `extra`, so a request reuses it."""
        words = {w: p for w, p in extra.items() if WORD.fullmatch(w)}  # apply() looks up single words only
        if not words:
            return self
        key = tuple(sorted(words.items()))
        cache = self.__dict__.setdefault("_with", {})
        if key not in cache:
            if len(cache) >= 8:
                cache.clear()
            cache[key] = Lexicon({**self.entries, **words}, self.secondary)
        return cache[key]

    def to_text(self) -> str:
        """The file's text, sorted (byte-identical for the same entries)."""
        rows = [(w, p, "") for w, p in self.entries.items()]
        rows += [(w, p, "\t" + src) for src, table in self.secondary.items() for w, p in table.items()]
        return "".join(f"{w}\t{p}{src}\n" for w, p, src in sorted(rows))

    def __len__(self) -> int:
        return len(self.entries) + len(self._second)

    @classmethod
    def from_file(cls, path: str | Path) -> "Lexicon":
        path = Path(path)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            elif raw[:6] == XZ_MAGIC:
                raw = lzma.decompress(raw)
            text = raw.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError, zlib.error, lzma.LZMAError) as e:  # zlib.error: bad deflate
            raise TokenizerError(f"cannot read lexicon {path}: {e}; re-export the bundle") from e
        return cls.from_text(text, str(path))

    def lookup(self, w: str, table: dict[str, str] | None = None) -> str | None:
        table = self.entries if table is None else table
        for form in (w, w.lower(), w.capitalize()):
            if form in table:
                return table[form]
        return None

    def inflected(self, w: str, table: dict[str, str] | None = None) -> str | None:
        """A regular ending on a known stem: -'s / -s / -es, -ed, -ing (stem as written, or + e, or undoubled), and
        -ies / -ied on a stem in -y (cities = city + z, carried = carry + d)."""
        lw = w.lower()
        # stem + e first: "used" is use + d, not us + t; "hoped" hope + d, not hop + t
        for end, stems in (("'s", ("",)), ("s", ("",)), ("es", ("",)), ("ies", ("y",)), ("ed", ("e", "")),
                           ("ied", ("y",)), ("ing", ("e", ""))):
            if not lw.endswith(end) or len(lw) - len(end) < 2:
                continue
            base = w[: len(w) - len(end)]
            cands = [base + s for s in stems]
            if end in ("ed", "ing") and len(base) > 2 and base[-1] == base[-2]:
                cands.append(base[:-1])  # stopped -> stop
            for c in cands:
                p = self.lookup(c, table)
                if p:
                    last = p.rstrip(STRESS)[-1:]
                    if end in ("'s", "s", "es", "ies"):
                        return p + ("ᵻz" if last in SIBILANT else "s" if last in VOICELESS else "z")
                    if end in ("ed", "ied"):
                        return p + ("ᵻd" if last in "td" else "t" if last in VOICELESS | set("sʃʧ") else "d")
                    return p + "ɪŋ"
        return None

    def known(self, w: str, table: dict[str, str] | None = None) -> str | None:
        return self.lookup(w, table) or self.inflected(w, table)

    def compound(self, w: str) -> str | None:
        """Two known words written as one (Lakeview, Northgate, geezerhood), each part >= MIN_PART letters; the
        longest first part wins; the second part's primary stress becomes secondary (lˈAkvjˌu)."""
        lw = w.lower()
        for i in range(len(lw) - MIN_PART, MIN_PART - 1, -1):
            head, tail = self.lookup(lw[:i]), self.known(lw[i:])
            if head and tail:
                return head + tail.replace("ˈ", "ˌ")
        return None

    def word(self, w: str) -> str:
        """Phonemes of one word (letters with inner apostrophes), or the fallback of the module's rules."""
        w = w.replace("’", "'")
        p = self.known(w)
        if p:
            return p
        if w.isupper() and len(w) <= MAX_SPELLED and all(c in self.entries for c in w):
            return "".join(self.entries[c] for c in w)
        p = (self._second and self.known(w, self._second)) or (self.compound(w) if "'" not in w else None)
        return p or w.lower()

    def apply(self, text: str) -> str:
        return WORD.sub(lambda m: self.word(m.group(0)), text)

"""Split long text into requests the model handles well.

Levels, each used only for a piece still longer than `max_chars`:

1. sentences: after . ! ? … (followed by space or the end), and after the Devanagari danda (।, ॥),
   Arabic / Urdu marks (؟ ۔) and CJK marks (。！？), which need no space; also at blank lines.
   A period is not a sentence end after a known abbreviation ("Dr.", "e.g.", "z.B."), after a single
   letter (an initial: "J. Smith"), or when a lower-case letter follows ("approx. five", "5 p.m. on");
   a decimal ("3.5") never has the required space after its point;
2. clauses: after , ; : and their Arabic / CJK forms when a space follows, and at dashes (—, –, " - ");
3. words: at whitespace;
4. a single word longer than `max_chars` is cut between grapheme clusters (never inside one, unless
   one cluster alone is longer than `max_chars`).

Pieces of one level are packed greedily, in order, into chunks of at most `max_chars` characters, so
a chunk holds as many whole sentences as fit. A piece that is itself over budget is cut at the next
level and its parts never share a chunk with its neighbours: every chunk boundary is at the highest
level available (a 400-character sentence becomes its own clause-level chunks; the sentences around
it are not glued to its fragments). Inside a chunk, whitespace runs become one space; chunks are
stripped and never empty. Joining the chunks gives the input back, whitespace aside. Each level is a
left-to-right scan of its segment, so the whole split is linear in the input length.
"""

from __future__ import annotations

import regex

# Latin-script sentence ends need a following space (or the end); the others do not.
_SENTENCE_END = regex.compile(
    r"""(?:\.{3}|…|[.!?‼⁇⁈⁉]+)["'”’»)\]]*(?=\s|$)|[।॥؟۔。！？]+["'”’»)\]]*|\n[^\S\n]*\n"""
)
_CLAUSE_END = regex.compile(r"[,;:،؛](?=\s)|[，、；：]|\s[-–—]\s|—|–(?=\s)")
_LAST_WORD = regex.compile(r"(\S+)$")
_GRAPHEME = regex.compile(r"\X")

# Abbreviations whose period does not end a sentence, for all nine languages (lower-case, no dots).
# Words that also end sentences ("no.", "me.", "Inc.") are left out: a missed cut only makes a chunk
# longer, a wrong one breaks a sentence's melody.
_NON_TERMINAL = frozenset(
    """
    mr mrs ms dr prof st mt ft capt lt sgt rev gen gov sen rep hon jr sr vs eg ie cf approx incl
    mme mlle mgr dre sra srta dra lic ing av avda
    fr frau hrn zb bzw usw ggf vgl ua str tel
    sig sigg dott dottssa ecc pag dhr mevr mw bijv enz exmo exma env bd chem sra sto sta avv ing prof ca
    """.split()
)
# ... and those that are abbreviations only before a number ("No. 5", "p. 12", "Nr. 3").
_BEFORE_NUMBER = frozenset("no nos nr p pp vol ch fig art tel".split())


def _clean_word(word: str) -> str:
    return word.lstrip("\"'([{«“‘").replace(".", "").lower()


def _is_sentence_end(text: str, start: int, end: int) -> bool:
    """Filter a candidate end: abbreviations, initials and a following lower-case letter veto it."""
    mark = text[start]
    if mark == "\n":
        return True
    nxt = text[end: end + 8].lstrip()
    if mark in ".!?…‼⁇⁈⁉" and nxt[:1].islower():
        return False
    if mark == "." and text[start: start + 3] != "...":
        m = _LAST_WORD.search(text, max(0, start - 32), start)
        word = _clean_word(m.group(1)) if m else ""
        if word in _NON_TERMINAL or (len(word) == 1 and word.isalpha()):
            return False
        if word in _BEFORE_NUMBER and nxt[:1].isdigit():
            return False
    return True


def _spans(text: str, pattern: regex.Pattern, check=None) -> list[tuple[int, int]]:
    """Cut text[0:len] after each accepted match of `pattern`; spans cover the text in order."""
    spans, start = [], 0
    for m in pattern.finditer(text):
        if check is not None and not check(text, m.start(), m.end()):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _collapse(s: str) -> str:
    return " ".join(s.split())  # str.split's notion of whitespace, the same one as _words


def _graphemes_cut(word: str, max_chars: int) -> list[str]:
    """Cut an over-long word between grapheme clusters; a cluster longer than max_chars is cut too."""
    pieces, cur = [], ""
    for g in _GRAPHEME.findall(word):
        while len(g) > max_chars:  # pathological: a cluster longer than the whole budget
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(g[:max_chars])
            g = g[max_chars:]
        if len(cur) + len(g) > max_chars:
            pieces.append(cur)
            cur = ""
        cur += g
    if cur:
        pieces.append(cur)
    return pieces


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in _spans(text, _SENTENCE_END, _is_sentence_end)]


def _clauses(sentence: str) -> list[str]:
    return [sentence[a:b] for a, b in _spans(sentence, _CLAUSE_END)]


# How a segment that is over budget is cut, level by level; words are the last level before graphemes.
_LEVELS = (_sentences, _clauses, str.split)


def _chunks(segment: str, level: int, max_chars: int, out: list[str]) -> None:
    """Pack the segment's pieces at `level` greedily; a piece over budget goes one level down, alone.

    A piece that had to be cut never shares a chunk with its neighbours, so every chunk boundary is
    at the highest level possible: between sentences where they fit, else between clauses, etc.
    """
    cur = ""
    for piece in _LEVELS[level](segment):
        piece = _collapse(piece)
        if not piece:
            continue
        if len(piece) > max_chars:
            if cur:
                out.append(cur)
                cur = ""
            if level + 1 < len(_LEVELS):
                _chunks(piece, level + 1, max_chars, out)
            else:
                out.extend(_graphemes_cut(piece, max_chars))
        elif cur and len(cur) + 1 + len(piece) <= max_chars:
            cur += " " + piece
        else:
            if cur:
                out.append(cur)
            cur = piece
    if cur:
        out.append(cur)


def split_text(text: str, max_chars: int = 300) -> list[str]:
    """Chunks of at most `max_chars` characters, in order, cut at the best boundary available."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive integer, got {max_chars!r}")
    if not text or text.isspace():
        return []
    out: list[str] = []
    _chunks(text, 0, max_chars, out)
    return out

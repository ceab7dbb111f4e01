"""The SSML subset `speak`, `stream()` and `synthesize()` accept when the text starts with `<speak`.

Elements: `<speak>` (root, optional `xml:lang`), `<break time="500ms|1.5s" strength="none..x-strong"/>`,
`<say-as interpret-as="characters|digits|cardinal|ordinal|date|time|telephone">`, `<sub alias="...">`,
`<lang xml:lang="fr">` (switches the normaliser), `<p>` and `<s>` (segment boundaries). Entities: the five XML
ones and numeric references only; a DOCTYPE or any other entity is refused, so there is nothing to expand
(no entity bombs). The parser is a single left-to-right scan (linear in the input; nesting depth <= MAX_DEPTH).

Strict mode (default) raises `SSMLError` naming the element or the problem and the fix. Lenient mode drops
what it does not know with a warning: an unknown element is read as its content, a stray end tag is ignored,
unclosed elements close at the end, nested `<speak>` is read as its content.

`parse` returns items in speaking order: `Span` (text, its language, and a say-as kind or None), `Break`
(silence) and `BOUNDARY` (the end of a `<p>` or `<s>`: the next text starts a new segment).
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

import regex

from vox_edge.errors import SSMLError

from .language import lang_code

_log = logging.getLogger(__name__)

MAX_DEPTH = 64
MAX_WARNINGS = 3  # lenient mode logs the first few problems and then a count
MAX_BREAK_SECONDS = 10.0
SAY_AS = ("characters", "digits", "cardinal", "ordinal", "date", "time", "telephone")
# SSML 1.1 leaves strengths to the engine; these are the pauses a listener hears as such.
STRENGTH_SECONDS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.4, "strong": 0.75, "x-strong": 1.2}
_ELEMENTS = ("speak", "break", "say-as", "sub", "lang", "p", "s")

_TOKEN = regex.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[|<![^>]*>?|<[^<>]*>|<|[^<]+", regex.S)
_TAG = regex.compile(r"<\s*(/?)\s*([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*)\s*(/?)\s*>$")
_ATTR = regex.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
_ENTITY = regex.compile(r"&(#[0-9]{1,7};|#x[0-9a-fA-F]{1,6};|(?:amp|lt|gt|quot|apos);|[^;\s]{0,32};?)")
_TIME = regex.compile(r"\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(ms|s)\s*$")
SSML_START = regex.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?<speak[\s>/]")


@dataclass(frozen=True)
class Break:
    """A silence of exactly `seconds` in the stream; no model call."""

    seconds: float

    def samples(self, sample_rate: int) -> int:
        return int(round(self.seconds * sample_rate))

    def __str__(self) -> str:
        return f"<break {self.seconds * 1000:.0f} ms>"


@dataclass(frozen=True)
class Span:
    text: str
    lang: str | None  # None = the request's language
    say_as: str | None = None
    format: str | None = None  # say-as format ("dmy", "mdy", "ymd" for dates)


BOUNDARY = object()


def is_ssml(text: str) -> bool:
    """True when the text is an SSML document (starts with `<speak`, after an optional XML declaration)."""
    return bool(SSML_START.match(text))


class _Parser:
    def __init__(self, lang: str | None, lenient: bool):
        self.lenient = lenient
        self.items: list = []
        self.stack: list[tuple[str, dict]] = []  # (element, its state)
        self.lang = [lang]
        self.closed_root = False
        self.ignored = 0

    def problem(self, message: str, fix: str) -> None:
        if not self.lenient:
            raise SSMLError(f"SSML: {message}; {fix} (or use lenient SSML to ignore it).")
        self.ignored += 1
        if self.ignored <= MAX_WARNINGS:  # a megabyte of bad markup must not become a megabyte of log
            _log.warning("SSML (lenient): %s; ignored", message)

    def text(self, raw: str) -> None:
        if self.closed_root:
            if raw.strip():
                self.problem("text after </speak>", "put all text inside <speak>")
            return
        if not self.stack:
            if raw.strip():
                self.problem("text before <speak>", "start the document with <speak>")
            return
        text = _ENTITY.sub(self.entity, raw)
        top, state = self.stack[-1]
        if top == "sub":
            return  # the alias is spoken instead
        if top == "say-as":
            state["text"] += text
            return
        if text:
            self.items.append(Span(text, self.lang[-1]))

    def entity(self, m: regex.Match) -> str:
        body = m.group(1)
        if body.endswith(";") and (body[0] == "#" or body[:-1] in ("amp", "lt", "gt", "quot", "apos")):
            out = html.unescape("&" + body)
            if out != "&" + body and not any(0xD800 <= ord(c) <= 0xDFFF for c in out):
                return out
        self.problem(f"unknown entity &{body}", "write the character itself or use &amp; &lt; &gt; &quot; &apos;")
        return " "

    def start(self, name: str, attrs: dict, empty: bool) -> None:
        if self.closed_root:
            self.problem(f"<{name}> after </speak>", "put all markup inside <speak>")
            return
        if name == "speak":
            if self.stack:
                self.problem("nested <speak>", "use one <speak> root")
                self.push("ignored", empty)
                return
            self.lang.append(self._lang_attr(attrs) or self.lang[-1])
            self.push("speak", empty)
            return
        if not self.stack:
            self.problem(f"<{name}> before <speak>", "start the document with <speak>")
            return
        if self.stack[-1][0] in ("say-as", "sub"):
            self.problem(f"<{name}> inside <{self.stack[-1][0]}>", f"<{self.stack[-1][0]}> takes plain text only")
            self.push("ignored", empty)
            return
        if name not in _ELEMENTS:
            self.problem(f"unsupported element <{name}>",
                         "use only speak, break, say-as, sub, lang, p, s")
            self.push("ignored", empty)
            return
        if name == "break":
            self.items.append(Break(self._break_seconds(attrs)))
            self.push("break", empty)
        elif name == "say-as":
            kind = attrs.get("interpret-as", "")
            if kind not in SAY_AS:
                self.problem(f"<say-as interpret-as=\"{kind}\"> is not supported",
                             f"use one of {', '.join(SAY_AS)}")
                kind = None
            self.push("say-as", empty, {"kind": kind, "format": attrs.get("format"), "text": ""})
        elif name == "sub":
            if "alias" not in attrs:
                self.problem("<sub> without alias", 'write <sub alias="spoken form">text</sub>')
            else:
                self.items.append(Span(_ENTITY.sub(self.entity, attrs["alias"]), self.lang[-1]))
            self.push("sub", empty)
        elif name == "lang":
            code = self._lang_attr(attrs)
            if not code:
                self.problem("<lang> without xml:lang", 'write <lang xml:lang="fr">...</lang>')
            self.lang.append(code or self.lang[-1])
            self.push("lang", empty)
        else:  # p, s
            self.items.append(BOUNDARY)
            self.push(name, empty)

    def push(self, name: str, empty: bool, state: dict | None = None) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise SSMLError(f"SSML: elements nested deeper than {MAX_DEPTH}; flatten the markup.")
        self.stack.append((name, state or {}))
        if empty:
            self.pop()

    def pop(self) -> None:
        name, state = self.stack.pop()
        if name in ("speak", "lang"):
            self.lang.pop()
        if name == "speak":
            self.closed_root = True
        elif name == "say-as" and state["text"].strip():
            self.items.append(Span(state["text"], self.lang[-1], state["kind"], state["format"]))
        elif name in ("p", "s"):
            self.items.append(BOUNDARY)

    def end(self, name: str) -> None:
        if not self.stack:
            self.problem(f"stray </{name}>", "remove it")
            return
        top = self.stack[-1][0]
        if top == name or (top == "ignored" and (name not in _ELEMENTS or name == "speak")):
            self.pop()
            return
        self.problem(f"</{name}> closes <{top}>", f"close <{top}> first")
        if any(n == name for n, _ in self.stack):  # lenient: close up to the matching element
            while self.stack and self.stack[-1][0] != name:
                self.pop()
            self.pop()

    def finish(self) -> list:
        if self.stack:
            self.problem(f"<{self.stack[-1][0] if self.stack[-1][0] != 'ignored' else 'element'}> is never closed",
                         "close every element, ending with </speak>")
            while self.stack:
                self.pop()
        if self.ignored > MAX_WARNINGS:
            _log.warning("SSML (lenient): %d more problems ignored", self.ignored - MAX_WARNINGS)
        return self.items

    def _lang_attr(self, attrs: dict) -> str | None:
        code = attrs.get("xml:lang") or attrs.get("lang")
        return lang_code(code) if code else None

    def _break_seconds(self, attrs: dict) -> float:
        if "time" in attrs:
            m = _TIME.match(attrs["time"])
            if not m:
                self.problem(f"<break time=\"{attrs['time']}\"> is not a duration", 'write time="500ms" or "1.5s"')
                return STRENGTH_SECONDS["medium"]
            seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
            if seconds > MAX_BREAK_SECONDS:
                self.problem(f"<break time=\"{attrs['time']}\"> is over {MAX_BREAK_SECONDS:g} s",
                             "use several breaks or a shorter one")
                seconds = MAX_BREAK_SECONDS
            return seconds
        strength = attrs.get("strength", "medium")
        if strength not in STRENGTH_SECONDS:
            self.problem(f"<break strength=\"{strength}\"> is unknown", f"use one of {', '.join(STRENGTH_SECONDS)}")
            strength = "medium"
        return STRENGTH_SECONDS[strength]


def parse(text: str, lang: str | None = None, lenient: bool = False) -> list:
    """SSML document -> Span / Break / BOUNDARY items (see module docstring)."""
    p = _Parser(lang, lenient)
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] != "<":
            p.text(tok)
        elif tok.startswith("<!--") or (tok.startswith("<?") and m.start() == text.find("<")):
            continue
        elif tok == "<":
            p.problem("a lone '<'", "write &lt; for a literal '<'")
        elif tok.startswith("<!") or tok.startswith("<?"):
            p.problem(f"{tok[:20]!r} (DOCTYPE, CDATA or processing instruction)", "remove it")
        else:
            t = _TAG.match(tok)
            if t is None:
                p.problem(f"malformed tag {tok[:40]!r}", 'write <name attr="value">')
                continue
            closing, name, attr_text, empty = t.groups()
            if closing:
                p.end(name)
            else:
                attrs = {a.group(1): a.group(2) if a.group(2) is not None else a.group(3)
                         for a in _ATTR.finditer(attr_text)}
                p.start(name, attrs, bool(empty))
    return p.finish()

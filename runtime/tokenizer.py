"""Pure-Python Tekken tokenizer (tiktoken-style byte-level BPE) read from `tekken.json`.

The runtime must not depend on torch, tiktoken or mistral-common, so this re-implements the
semantics mistral-common gets from tiktoken (docs/model.md#tokenizer):

* split the text with `config.pattern` (needs `regex`: \\p{..} classes and look-ahead);
* a piece whose bytes are a mergeable token is emitted as-is (tiktoken's whole-piece shortcut);
* otherwise BPE: repeatedly merge the adjacent pair whose concatenation has the lowest rank,
  the leftmost one on ties, among the first `default_vocab_size - default_num_special_tokens` ranks;
* id = rank + num_special_tokens. No normalisation, no BOS/EOS.

Special ids are the ranks of the `special_tokens` entries, looked up by name with the release's numbers as
fallback (docs/model.md#tokenizer). The TTS prompt layout is docs/model.md#prompt-layout.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import regex

from vox_edge.errors import TokenizerError, VoiceError

# The release's numbers: used when a tekken.json has no special-token list (or lacks a name).
SPEC_SPECIAL_IDS: dict[str, int] = {
    "<unk>": 0,
    "<s>": 1,
    "</s>": 2,
    "[AUDIO]": 24,
    "[BEGIN_AUDIO]": 25,
    "[REPEAT_AUDIO_TEXT]": 35,
    "[NEXT_AUDIO_TEXT]": 36,
}
DEFAULT_SAMPLING_RATE = 24000
DEFAULT_FRAME_RATE = 12.5

_FIX = (
    "use the tekken.json shipped with the checkpoint (mistralai/Voxtral-4B-TTS-2603), "
    "or rebuild it with vox_edge.export.tekken_files"
)
_CACHE_MAX = 1 << 16  # distinct pieces kept; cleared when full so a long-running engine stays bounded


@dataclass(frozen=True)
class TtsSpecialIds:
    """The five special ids a TTS prompt needs (docs/model.md#prompt-layout)."""

    bos: int = SPEC_SPECIAL_IDS["<s>"]
    begin_audio: int = SPEC_SPECIAL_IDS["[BEGIN_AUDIO]"]
    audio: int = SPEC_SPECIAL_IDS["[AUDIO]"]
    next_audio_text: int = SPEC_SPECIAL_IDS["[NEXT_AUDIO_TEXT]"]
    repeat_audio_text: int = SPEC_SPECIAL_IDS["[REPEAT_AUDIO_TEXT]"]


SPEC_TTS_IDS = TtsSpecialIds()


def build_tts_prompt(
    text_ids: Sequence[int], n_voice_tokens: int, ids: TtsSpecialIds = SPEC_TTS_IDS
) -> list[int]:
    """docs/model.md#prompt-layout: [BOS] [BEGIN_AUDIO] [AUDIO]*N [NEXT_AUDIO_TEXT] text [REPEAT_AUDIO_TEXT] [BEGIN_AUDIO]."""
    if isinstance(n_voice_tokens, bool) or not isinstance(n_voice_tokens, int) or n_voice_tokens < 0:
        raise TokenizerError(
            f"n_voice_tokens must be an int >= 0, got {n_voice_tokens!r}; pass the voice embedding's row count"
        )
    return [
        ids.bos,
        ids.begin_audio,
        *([ids.audio] * n_voice_tokens),
        ids.next_audio_text,
        *text_ids,
        ids.repeat_audio_text,
        ids.begin_audio,
    ]


def _bpe(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """Ranks of the BPE split of `piece` (lowest-rank pair first, leftmost on ties).

    A heap over (rank, start) keeps long pieces (whitespace or punctuation runs) O(n log n);
    an entry is stale once its pair no longer spans exactly [start, end).
    """
    n = len(piece)
    nxt = list(range(1, n + 1))  # nxt[s] = end of the part starting at s (parts are keyed by start)
    prv = list(range(-1, n - 1))
    alive = [True] * n
    heap: list[tuple[int, int, int]] = []

    def push(s: int) -> None:
        m = nxt[s]
        if m < n:
            e = nxt[m]
            r = ranks.get(piece[s:e])
            if r is not None:
                heapq.heappush(heap, (r, s, e))

    for s in range(n - 1):
        push(s)
    while heap:
        _, s, e = heapq.heappop(heap)
        if not alive[s] or nxt[s] >= n or nxt[nxt[s]] != e:
            continue
        m = nxt[s]
        alive[m] = False
        nxt[s] = e
        if e < n:
            prv[e] = s
        push(s)
        if prv[s] >= 0:
            push(prv[s])
    out = []
    s = 0
    while s < n:
        out.append(ranks[piece[s : nxt[s]]])
        s = nxt[s]
    return out


def _fail(where: str, what: str) -> TokenizerError:
    return TokenizerError(f"tekken.json ({where}): {what}; {_FIX}")


def _int(value: Any, where: str, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class TekkenTokenizer:
    """Text -> token ids exactly as mistral-common's Tekkenizer.encode(text, bos=False, eos=False)."""

    def __init__(self, data: Mapping[str, Any], source: str = "<dict>") -> None:
        if not isinstance(data, Mapping):
            raise _fail(source, f"top level must be a JSON object, got {type(data).__name__}")
        config = data.get("config")
        if not isinstance(config, Mapping):
            raise _fail(source, "missing 'config' object")
        pattern = config.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise _fail(source, "config.pattern must be a non-empty string")
        try:
            self._pattern = regex.compile(pattern)
        except regex.error as exc:
            raise _fail(source, f"config.pattern does not compile ({exc})") from exc
        self._num_special = _int(
            config.get("default_num_special_tokens"), source, "config.default_num_special_tokens", 1
        )
        self._vocab_size = _int(config.get("default_vocab_size"), source, "config.default_vocab_size", 1)
        self.version: str | None = config.get("version")
        self._ranks, self._token_bytes = self._load_vocab(data.get("vocab"), source)
        self._special_names = self._load_specials(data.get("special_tokens"), source)
        self._load_audio(data.get("audio"), source)
        self._cache: dict[str, tuple[int, ...]] = {}
        self._findall = self._pattern.findall if self._pattern.groups == 0 else None

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> "TekkenTokenizer":
        path = Path(path)
        try:
            with open(path, "r", encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError as exc:
            raise TokenizerError(f"tekken.json not found at {path}; {_FIX}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(str(path), f"cannot be read as JSON ({exc})") from exc
        return cls(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TekkenTokenizer":
        return cls(data)

    def _load_vocab(self, vocab: Any, where: str) -> tuple[dict[bytes, int], list[bytes]]:
        inner = self._vocab_size - self._num_special
        if inner < 256:
            raise _fail(
                where, f"default_vocab_size - default_num_special_tokens = {inner} leaves no room for the 256 bytes"
            )
        if not isinstance(vocab, list) or len(vocab) < inner:
            got = len(vocab) if isinstance(vocab, list) else type(vocab).__name__
            raise _fail(where, f"'vocab' must be a list of at least {inner} entries, got {got}")
        ranks: dict[bytes, int] = {}
        token_bytes: list[bytes] = []
        # Only the first `inner` ranks are mergeable; the rest of the list is ignored (docs/model.md#tokenizer).
        for i, entry in enumerate(vocab[:inner]):
            ok = isinstance(entry, Mapping) and entry.get("rank") == i and isinstance(entry.get("token_bytes"), str)
            if not ok:
                raise _fail(where, f"vocab[{i}] must be {{'rank': {i}, 'token_bytes': <base64>}}, got {entry!r:.80}")
            try:
                b = base64.b64decode(entry["token_bytes"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise _fail(where, f"vocab[{i}].token_bytes is not base64 ({exc})") from exc
            if (i < 256 and b != bytes([i])) or (i >= 256 and len(b) < 2):
                raise _fail(where, f"vocab[{i}] = {b!r}: ranks 0..255 must be single bytes, later ones longer")
            if b in ranks:
                raise _fail(where, f"vocab[{i}] repeats the bytes of vocab[{ranks[b]}]")
            ranks[b] = i
            token_bytes.append(b)
        return ranks, token_bytes

    def _load_specials(self, specials: Any, where: str) -> list[str]:
        names = [f"<SPECIAL_{i}>" for i in range(self._num_special)]
        self._special_ids: dict[str, int] = {}
        if specials is None:  # old (<= v7) files: mistral-common's built-in list; the spec ids apply
            return names
        if not isinstance(specials, list):
            raise _fail(where, "'special_tokens' must be a list")
        for entry in specials:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("token_str"), str):
                raise _fail(where, f"special token {entry!r:.80} needs 'rank' and 'token_str'")
            rank = entry.get("rank")
            if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < self._num_special:
                name = entry["token_str"]
                raise _fail(where, f"special token {name!r} has rank {rank!r} outside [0, {self._num_special})")
            if entry["token_str"] in self._special_ids:
                raise _fail(where, f"special token {entry['token_str']!r} is listed twice")
            self._special_ids[entry["token_str"]] = rank
            names[rank] = entry["token_str"]
        return names

    def _load_audio(self, audio: Any, where: str) -> None:
        audio = {} if audio is None else audio
        if not isinstance(audio, Mapping):
            raise _fail(where, "'audio' must be an object")
        voices = audio.get("voice_num_audio_tokens") or {}
        if not isinstance(voices, Mapping):
            raise _fail(where, "audio.voice_num_audio_tokens must map voice name -> int")
        self._voices = {
            str(k): _int(v, where, f"audio.voice_num_audio_tokens[{k!r}]") for k, v in voices.items()
        }
        rates = {}
        for key, default in (("sampling_rate", DEFAULT_SAMPLING_RATE), ("frame_rate", DEFAULT_FRAME_RATE)):
            value = audio.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise _fail(where, f"audio.{key} must be a number > 0, got {value!r}")
            rates[key] = value
        self._sampling_rate = int(rates["sampling_rate"])
        self._frame_rate = float(rates["frame_rate"])

    # ---- metadata ------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Ids are in [0, vocab_size): specials, then mergeable ranks + num_special_tokens."""
        return self._vocab_size

    @property
    def num_special_tokens(self) -> int:
        return self._num_special

    def special_id(self, name: str) -> int:
        """Id of a special token by name; the release's number if the file does not list it."""
        if name in self._special_ids:
            return self._special_ids[name]
        if name in SPEC_SPECIAL_IDS:
            return SPEC_SPECIAL_IDS[name]
        raise TokenizerError(f"unknown special token {name!r}; {_FIX}")

    @property
    def bos_id(self) -> int:
        return self.special_id("<s>")

    @property
    def eos_id(self) -> int:
        return self.special_id("</s>")

    @property
    def audio_id(self) -> int:
        return self.special_id("[AUDIO]")

    @property
    def begin_audio_id(self) -> int:
        return self.special_id("[BEGIN_AUDIO]")

    @property
    def next_audio_text_id(self) -> int:
        return self.special_id("[NEXT_AUDIO_TEXT]")

    @property
    def repeat_audio_text_id(self) -> int:
        return self.special_id("[REPEAT_AUDIO_TEXT]")

    @property
    def tts_ids(self) -> TtsSpecialIds:
        return TtsSpecialIds(
            self.bos_id, self.begin_audio_id, self.audio_id, self.next_audio_text_id, self.repeat_audio_text_id
        )

    @property
    def voice_num_audio_tokens(self) -> dict[str, int]:
        """Preset voice -> N from the `audio` section (empty if the file has none)."""
        return dict(self._voices)

    @property
    def sampling_rate(self) -> int:
        """audio.sampling_rate (spec default 24000 if the file has no audio section)."""
        return self._sampling_rate

    @property
    def frame_rate(self) -> float:
        """audio.frame_rate (spec default 12.5 if the file has no audio section)."""
        return self._frame_rate

    # ---- encoding ------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no BOS/EOS), identical to mistral-common's Tekkenizer."""
        if not isinstance(text, str):
            raise TokenizerError(f"text must be str, got {type(text).__name__}; decode bytes as UTF-8 first")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Same fix-up as tiktoken: join surrogate pairs, replace lone surrogates with U+FFFD.
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        pieces = self._findall(text) if self._findall else [m.group() for m in self._pattern.finditer(text)]
        cache = self._cache
        out: list[int] = []
        for piece in pieces:
            ids = cache.get(piece)
            if ids is None:
                ids = self._encode_piece(piece)
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[piece] = ids
            out.extend(ids)
        return out

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        b = piece.encode("utf-8")
        rank = self._ranks.get(b)
        ranks = [rank] if rank is not None else _bpe(b, self._ranks)
        return tuple(r + self._num_special for r in ranks)

    def build_tts_prompt(self, text_ids: Sequence[int], n_voice_tokens: int) -> list[int]:
        """The prompt of docs/model.md#prompt-layout with this file's special ids."""
        return build_tts_prompt(text_ids, n_voice_tokens, self.tts_ids)

    def encode_tts(self, text: str, voice: str | int) -> list[int]:
        """Full TTS prompt for `text` with a preset voice name (N from the audio section) or an explicit N."""
        if isinstance(voice, str):
            if voice not in self._voices:
                raise VoiceError(
                    f"unknown voice {voice!r}; tekken.json lists {sorted(self._voices) or 'no voices'}"
                )
            voice = self._voices[voice]
        return self.build_tts_prompt(self.encode(text), voice)

    # ---- decoding (debugging) ------------------------------------------------------------
    def decode(self, ids: Sequence[int], keep_special: bool = True) -> str:
        """Text of `ids`; special tokens are shown by name (or dropped with keep_special=False)."""
        parts: list[str] = []
        buf = bytearray()
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self._vocab_size:
                raise TokenizerError(f"token id {i!r} is outside this vocabulary [0, {self._vocab_size})")
            if i >= self._num_special:
                buf += self._token_bytes[i - self._num_special]
                continue
            if keep_special:
                parts.append(buf.decode("utf-8", "replace"))
                buf.clear()
                parts.append(self._special_names[i])
        parts.append(buf.decode("utf-8", "replace"))
        return "".join(parts)

"""Build tekken.json dicts in the real Voxtral TTS schema (docs/model.md#tokenizer) for synthetic checkpoints.

* `real_vocab_tekken`: mistral-common's packaged Tekken vocabulary (`tekken_240718.json`, docs/model.md#tokenizer:
  the same 150000-entry vocab and regex as the TTS tokenizer) + the Voxtral special tokens + an
  `audio` section, with version "v7" so `MistralTokenizer.from_file` builds an InstructTokenizerV7
  whose `encode_speech_request` gives the prompt of docs/model.md#prompt-layout.
* `tiny_tekken`: a small vocabulary in the same schema (256 byte tokens + merges learned from a
  built-in 9-language sample), for tiny checkpoints whose embedding table must stay small.

Special-token layout (rank = id): 0..19 are mistral-common's standard control tokens, then
[AUDIO]=24, [BEGIN_AUDIO]=25, [OUTPUT_AUDIO]=26, [ARGS]=32, [CALL_ID]=33, [TRANSCRIBE]=34,
[REPEAT_AUDIO_TEXT]=35, [NEXT_AUDIO_TEXT]=36; every other rank is `<SPECIAL_N>`. The ids the spec
confirms are 0-4, 24-26, 35, 36; the rest follow Mistral's usual layout and are there because
InstructTokenizerV7 looks them up by name ([TRANSCRIBE] because the audio config is non-streaming).
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

import regex

# The pre-tokenizer regex of Tekken (config.pattern of tekken_240718.json and the TTS tekken.json).
TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
    r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

NAMED_SPECIAL_TOKENS: dict[int, str] = {
    0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]",
    5: "[AVAILABLE_TOOLS]", 6: "[/AVAILABLE_TOOLS]", 7: "[TOOL_RESULTS]", 8: "[/TOOL_RESULTS]",
    9: "[TOOL_CALLS]", 10: "[IMG]", 11: "<pad>", 12: "[IMG_BREAK]", 13: "[IMG_END]",
    14: "[PREFIX]", 15: "[MIDDLE]", 16: "[SUFFIX]", 17: "[SYSTEM_PROMPT]", 18: "[/SYSTEM_PROMPT]",
    19: "[TOOL_CONTENT]", 24: "[AUDIO]", 25: "[BEGIN_AUDIO]", 26: "[OUTPUT_AUDIO]",
    32: "[ARGS]", 33: "[CALL_ID]", 34: "[TRANSCRIBE]", 35: "[REPEAT_AUDIO_TEXT]", 36: "[NEXT_AUDIO_TEXT]",
}  # fmt: skip
MIN_NUM_SPECIAL = max(NAMED_SPECIAL_TOKENS) + 1

# Rows per voice of the release (third-party fixture; casual_male = 147 confirmed by the 158-token golden).
SPEC_VOICE_NUM_AUDIO_TOKENS: dict[str, int] = {
    "casual_female": 214, "casual_male": 147, "cheerful_female": 132, "neutral_female": 218,
    "neutral_male": 169, "pt_male": 144, "pt_female": 175, "nl_male": 138, "nl_female": 146,
    "it_male": 168, "it_female": 172, "fr_male": 97, "fr_female": 97, "es_male": 208,
    "es_female": 138, "de_male": 163, "de_female": 147, "ar_male": 67, "hi_male": 94, "hi_female": 86,
}  # fmt: skip

# Mel settings are for the (absent) speech encoder; mistral-common requires them in the audio section.
_AUDIO_ENCODING_CONFIG = {"num_mel_bins": 128, "hop_length": 160, "window_size": 400}

# Training text for the tiny vocabulary: Voxtral's 9 languages plus digits and punctuation.
_TINY_CORPUS = """\
Paris is a beautiful city! The weather is nice today, and the train leaves at 10:45.
Hello there, how are you doing? I think that this is the best thing in the world.
Paris est une belle ville ! Il fait beau aujourd'hui, et le train part à 10h45.
Bonjour à tous, comment allez-vous ? Je pense que c'est la meilleure chose du monde.
París es una ciudad hermosa. Hace buen tiempo hoy y el tren sale a las diez y cuarto.
¿Cómo estás? Creo que esta es la mejor cosa del mundo, señor.
Paris ist eine schöne Stadt! Das Wetter ist heute schön, und der Zug fährt um 10:45 Uhr.
Guten Morgen, wie geht es Ihnen? Ich glaube, dass das die beste Sache der Welt ist.
Parigi è una bella città! Oggi il tempo è bello e il treno parte alle dieci.
Ciao a tutti, come state? Penso che questa sia la cosa migliore del mondo.
Paris é uma cidade bonita! O tempo está bom hoje e o comboio parte às dez horas.
Olá a todos, como estão? Eu acho que esta é a melhor coisa do mundo.
Parijs is een mooie stad! Het weer is vandaag mooi en de trein vertrekt om tien uur.
Hallo allemaal, hoe gaat het? Ik denk dat dit het beste ding van de wereld is.
باريس مدينة جميلة! الطقس جميل اليوم، والقطار يغادر في الساعة العاشرة.
مرحبا بالجميع، كيف حالكم؟ أعتقد أن هذا أفضل شيء في العالم.
पेरिस एक सुंदर शहर है! आज मौसम अच्छा है, और ट्रेन दस बजे निकलती है।
नमस्ते सबको, आप कैसे हैं? मुझे लगता है कि यह दुनिया की सबसे अच्छी चीज़ है।
1 2 3 4 5 6 7 8 9 0 100 2024 3.14 50% $20 €15 (yes) "quoted" -- ... !!! ???
"""


def _token_entry(rank: int, b: bytes) -> dict[str, Any]:
    try:
        text: str | None = b.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"rank": rank, "token_bytes": base64.b64encode(b).decode("ascii"), "token_str": text}


def special_tokens(num_special: int) -> list[dict[str, Any]]:
    """`num_special` special entries (rank = id) in the layout of the module docstring."""
    if num_special < MIN_NUM_SPECIAL:
        raise ValueError(f"num_special must be >= {MIN_NUM_SPECIAL} to hold the Voxtral specials")
    return [
        {"rank": i, "token_str": NAMED_SPECIAL_TOKENS.get(i, f"<SPECIAL_{i}>"), "is_control": True}
        for i in range(num_special)
    ]


def audio_section(voice_num_audio_tokens: Mapping[str, int] | None) -> dict[str, Any]:
    """The TTS `audio` section (docs/model.md#tokenizer) in the form mistral-common's AudioConfig accepts."""
    return {
        "sampling_rate": 24000,
        "frame_rate": 12.5,
        "audio_encoding_config": dict(_AUDIO_ENCODING_CONFIG),
        "chunk_length_s": 30.0,
        "voice_num_audio_tokens": {str(k): int(v) for k, v in (voice_num_audio_tokens or {}).items()},
    }


def real_vocab_tekken(voice_num_audio_tokens: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Full-size TTS tekken.json: mistral-common's 150000-entry vocab, 1000 specials, version v7."""
    from importlib.resources import files  # export-side only: needs mistral-common's data file

    path = files("mistral_common") / "data" / "tekken_240718.json"
    base = json.loads(path.read_text(encoding="utf-8"))
    config = dict(base["config"], version="v7")
    return {
        "config": config,
        "vocab": base["vocab"],
        "special_tokens": special_tokens(config["default_num_special_tokens"]),
        "audio": audio_section(voice_num_audio_tokens),
    }


def _learn_merges(n_merges: int, rng: random.Random) -> list[bytes]:
    """Byte-level BPE training on the built-in corpus; ties broken by `rng` so `seed` matters."""
    words = Counter(regex.findall(TEKKEN_PATTERN, _TINY_CORPUS))
    seqs = [([bytes([c]) for c in w.encode("utf-8")], n) for w, n in words.items()]
    merges: list[bytes] = []
    seen: set[bytes] = {bytes([i]) for i in range(256)}
    while len(merges) < n_merges:
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for seq, n in seqs:
            for a, b in zip(seq, seq[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        top = max(pairs.values())
        best = sorted(p for p, c in pairs.items() if c == top)
        a, b = best[rng.randrange(len(best))]
        for seq, _ in seqs:
            i = 0
            while i < len(seq) - 1:
                if seq[i] == a and seq[i + 1] == b:
                    seq[i : i + 2] = [a + b]
                i += 1
        if a + b not in seen:
            seen.add(a + b)
            merges.append(a + b)
    # Corpus exhausted: pad with joins of existing tokens (some unreachable by merging, which
    # exercises tiktoken's whole-piece lookup).
    pool = [bytes([c]) for c in b"abcdefghijklmnopqrstuvwxyz .,"] + merges
    while len(merges) < n_merges:
        t = pool[rng.randrange(len(pool))] + pool[rng.randrange(len(pool))]
        if t not in seen:
            seen.add(t)
            merges.append(t)
            pool.append(t)
    return merges


def tiny_tekken(
    vocab_size: int = 2048,
    num_special: int = 1000,
    voice_num_audio_tokens: Mapping[str, int] | None = None,
    seed: int = 0,
    n_ignored: int = 64,
) -> dict[str, Any]:
    """Small tekken.json in the real schema.

    Ids span [0, vocab_size): `num_special` specials, then vocab_size - num_special mergeable ranks
    (256 bytes + learned merges; needs vocab_size - num_special >= 256). `n_ignored` extra vocab
    entries past default_vocab_size mimic the real file, where ranks beyond it must be ignored.
    """
    inner = vocab_size - num_special
    if inner < 256:
        raise ValueError(f"vocab_size - num_special = {inner}; it must be >= 256 (the byte tokens)")
    rng = random.Random(seed)
    tokens = [bytes([i]) for i in range(256)] + _learn_merges(inner - 256 + n_ignored, rng)
    return {
        "config": {
            "pattern": TEKKEN_PATTERN,
            "num_vocab_tokens": len(tokens),
            "default_vocab_size": vocab_size,
            "default_num_special_tokens": num_special,
            "version": "v7",
        },
        "vocab": [_token_entry(i, b) for i, b in enumerate(tokens)],
        "special_tokens": special_tokens(num_special),
        "audio": audio_section(voice_num_audio_tokens),
    }


def write_tekken_json(data: Mapping[str, Any], path: str | Path) -> Path:
    """Write a tekken dict; mistral-common only loads files named *tekken*.json."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    return path

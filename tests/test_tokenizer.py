"""vox_edge.runtime.tokenizer gives token ids and TTS prompts identical to mistral-common.

References: mistral-common's raw Tekkenizer `.encode(text, bos=False, eos=False)` and
`MistralTokenizer.encode_speech_request`, loaded from tekken.json files built by
vox_edge.export.tekken_files (the real 150000-entry vocabulary, and a tiny one).
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vox_edge.errors import TokenizerError, VoiceError
from vox_edge.export.tekken_files import (
    SPEC_VOICE_NUM_AUDIO_TOKENS,
    real_vocab_tekken,
    tiny_tekken,
    write_tekken_json,
)
from vox_edge.runtime.tokenizer import SPEC_TTS_IDS, TekkenTokenizer, build_tts_prompt

GOLDEN_TEXT = "Paris is a beautiful city!"
GOLDEN_PROMPT = [1, 25, *[24] * 147, 36, 42572, 1395, 1261, 15568, 5970, 1033, 35, 25]

# ---- test strings ------------------------------------------------------------------------
LANGUAGE_TEXT = [
    # en
    GOLDEN_TEXT, "Hello, world.", "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll love it; don't you think?", "It's 5 o'clock somewhere, isn't it?",
    "Mr. Smith paid $1,234.56 on 2024-03-15 at 9:30 a.m.", "UPPERCASE words AND MiXeD CaSe",
    "e-mail: john.doe@example.com, web: https://example.org/path?q=1&x=2",
    "She said, \"Wait... what?!\" and left.", "well-known state-of-the-art text-to-speech",
    # fr
    "Bonjour à tous, comment ça va ?", "L'été dernier, nous sommes allés à Noël chez Élodie.",
    "Où est la bibliothèque ? Elle est fermée aujourd'hui.", "« Je t'aime », dit-il — à voix basse.",
    "Ça coûte 12,50 € TTC.", "Il était une fois, dans un pays lointain…", "Qu'est-ce que c'est ?",
    "Les œufs, la sœur, l'œuvre et le cœur.", "ÉCOLE NATIONALE SUPÉRIEURE", "Rendez-vous à 14h30 !",
    # es
    "¿Dónde está la estación? ¡Qué bonito día!", "El niño comió piñata y jalapeños.",
    "Mañana será otro día, señora Muñoz.", "Son las 3:45 de la tarde.", "Año nuevo, vida nueva.",
    "¡Hola! ¿Cómo estás?", "Él habló con ella acerca del pingüino.", "Nº 7, 2.º piso, izquierda",
    "Buenos días, ¿qué tal?", "ESPAÑA Y MÉXICO",
    # de
    "Grüß Gott! Wie geht's?", "Die Straße ist naß und der Fußgänger läuft schnell.",
    "Donaudampfschifffahrtsgesellschaftskapitän", "Ärger, Öl und Übermut.", "Das kostet 3,99 €.",
    "Er sagte: „Guten Morgen!“", "Um 7:15 Uhr fährt der Zug ab.", "GROẞBUCHSTABEN und ß",
    "Schöne Grüße aus München.", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
    # it
    "Ciao, come stai? Tutto bene, grazie.", "Perché l'università è così lontana?",
    "È già mezzogiorno, andiamo a mangiare.", "Più o meno, però non so.", "L'anno 1999 fu speciale.",
    "Città, virtù, caffè.", "«Buongiorno», disse lui.", "Sono le 18:20.", "QUALITÀ E CORTESIA",
    "Dov'è il Colosseo?",
    # pt
    "Olá, tudo bem? Não, obrigado.", "A ação e a informação são importantes.",
    "Coração, pão, mãe e irmã.", "Você já comeu açaí?", "São Paulo é enorme.", "Às 8h, vamos à praia.",
    "É só isso?", "Pôr do sol em Lisboa.", "R$ 1.500,00 por mês", "AVÓ E AVÔ",
    # nl
    "Goedemorgen! Hoe gaat het met je?", "Het is een mooie dag in Amsterdam.",
    "Zeeën, ideeën en geïnteresseerd.", "Ik heb 's morgens koffie gedronken.",
    "De trein vertrekt om 10.30 uur.", "IJsland en ijsje", "Één, twee, drie.", "Café, crème brûlée.",
    "Gefeliciteerd met je verjaardag!", "Scheveningen",
    # ar
    "مرحبا بالعالم", "كيف حالك اليوم؟", "اللغة العربية جميلة جداً.", "السلام عليكم ورحمة الله وبركاته",
    "الساعة الآن ١٠:٣٠ صباحاً.", "عدد ٠١٢٣٤٥٦٧٨٩", "مَرْحَبًا بِكُمْ", "هذا كتابٌ مفيدٌ.",
    "القاهرة، دبي، والرياض", "Arabic وEnglish معاً",
    # hi
    "नमस्ते दुनिया", "आप कैसे हैं?", "मुझे हिंदी बोलना पसंद है।", "भारत एक विशाल देश है।",
    "आज तारीख १५ अगस्त है।", "संख्या ०१२३४५६७८९", "क्षत्रिय, ज्ञान, श्री", "नमस्कार! धन्यवाद।",
    "दिल्ली, मुंबई और कोलकाता", "Hindi और English",
]  # fmt: skip

NUMBER_TEXT = [
    "0", "7", "42", "123456789", "3.14159", "-273.15", "1,000,000", "1 000 000", "1e-9", "0x1F",
    "10:45", "23:59:59", "12:00 PM", "2024-12-31", "31/12/2024", "12.31.2024", "v1.2.3", "50%",
    "$9.99", "€1.234,56", "£20", "¥500", "#1", "No. 5", "3rd, 21st, 42nd", "1/2 + 3/4 = 5/4",
    "+33 1 23 45 67 89", "(555) 123-4567", "²³¹ ½ ¾ ⅓", "Ⅻ ⅷ", "٣٤٥", "१२३", "１２３",
    "4294967296", "0000", "9" * 60,
]  # fmt: skip

PUNCT_TEXT = [
    "!", "?", "...", "…", "!?!?", "—", "–", "-", "'", '"', "«»", "“”", "‘’", "()", "[]{}<>",
    "a.b,c;d:e", "foo!!!bar???", "...and then", "!" * 5000, "?!.,;:-_" * 400, "#@&*^%$",
    "<s>", "</s>", "[INST]", "[/INST]", "[AUDIO]", "[BEGIN_AUDIO]", "<SPECIAL_5>", "[NEXT_AUDIO_TEXT]",
    "C:\\path\\file.txt", "/usr/bin/env", "a/b/c\n/d", "http://a.b/c/\r\n/x", "~`|\\",
]  # fmt: skip

EMOJI_TEXT = [
    "😀", "😀😀😀", "I ❤️ Paris", "👍🏽", "👨‍👩‍👧‍👦", "👩🏾‍💻", "🏳️‍🌈", "🇫🇷🇪🇸🇩🇪🇮🇹🇵🇹🇳🇱",
    "🇺🇸 flag", "1️⃣ 2️⃣ #️⃣", "🧑‍🤝‍🧑", "Hello 👋 world 🌍!", "🙂🙃", "✅ done", "☕️ time",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "emoji🎉inside", "👁‍🗨",
]  # fmt: skip

SCRIPT_TEXT = [
    "你好，世界！", "我爱北京天安门。", "日本語のテキストです。", "カタカナとひらがな", "한국어 문장입니다.",
    "東京タワー 333m", "Привет, мир!", "Ελληνικά γράμματα", "שלום עולם", "สวัสดีครับ",
    "Tiếng Việt có dấu", "Türkçe ğüşıöç İ", "Polski: zażółć gęślą jaźń", "Čeština ěščřžýáíé",
    "English, français, 中文, العربية, हिन्दी", "abcαβγабв", "Paris東京Москва", "中文English混合",
    "ﬁ ligature", "e\u0301 vs é", "A\u030a\u0301", "\u0915\u094d\u0937",
]  # fmt: skip

SPACE_TEXT = [
    "", " ", "  ", "   ", "a  b", "a   b   c", "\t", "\t\t", "a\tb", "\n", "\n\n", "a\nb", "a\n\nb",
    "\r\n", "a\r\nb", "line1\r\n\r\nline2", " \n ", "trailing   ", "   leading", "x \t \n y",
    " " * 3000 + "end", "\n" * 100, "\u00a0", "a\u00a0b", "\u2009thin\u2009", "\u3000全角\u3000",
    "\u2028\u2029", "\x0b\x0c", "\x85", "\x1c\x1d\x1e\x1f", "\u200b", "a\u200bb", "\ufeffBOM",
    "\u180e", "\u2000\u2001\u2002\u2003\u200a", "a \u00a0 b", "word\n\tindented",
]  # fmt: skip

CONTROL_TEXT = [
    "\x00", "a\x00b", "\x01\x02\x03", "\x07bell", "\x1b[31mred\x1b[0m", "\x7f", "\x80\x9f",
    "\u200d", "\u200c\u200d", "\u202e reversed", "\ufffd", "\U0010ffff", "\ue000",
]  # fmt: skip

SURROGATE_TEXT = ["\ud800", "a\udfffb", "\ud83d\ude00 joined", "x\ud800\ud800y"]


def _random_strings(n: int, seed: int) -> list[str]:
    """Seeded mixes of every script above, to reach piece boundaries the fixed strings miss."""
    pool = "".join(LANGUAGE_TEXT + NUMBER_TEXT[:30] + EMOJI_TEXT + SCRIPT_TEXT) + " \t\n\r.,!?'\"-"
    rng = random.Random(seed)
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 80))) for _ in range(n)]


ALL_TEXT = (
    LANGUAGE_TEXT + NUMBER_TEXT + PUNCT_TEXT + EMOJI_TEXT + SCRIPT_TEXT + SPACE_TEXT + CONTROL_TEXT
    + SURROGATE_TEXT + _random_strings(60, seed=1)
)  # fmt: skip
TINY_TEXT = (
    LANGUAGE_TEXT[::3] + NUMBER_TEXT[::3] + PUNCT_TEXT[::3] + EMOJI_TEXT[::2] + SCRIPT_TEXT[::3]
    + SPACE_TEXT[::2] + CONTROL_TEXT[::3] + SURROGATE_TEXT + _random_strings(20, seed=2)
)  # fmt: skip


def _ids(texts: list[str]) -> list[str]:
    return [f"{i}:{t[:16]!r}" for i, t in enumerate(texts)]


# ---- fixtures: build each tekken once per module ------------------------------------------
def _mistral(path: Path):
    mistral = pytest.importorskip("mistral_common.tokens.tokenizers.mistral")
    return mistral.MistralTokenizer.from_file(str(path))


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    pytest.importorskip("mistral_common")
    data = real_vocab_tekken(SPEC_VOICE_NUM_AUDIO_TOKENS)
    path = write_tekken_json(data, tmp_path_factory.mktemp("real") / "tekken.json")
    return path, TekkenTokenizer.from_file(path), _mistral(path)


TINY_VOICES = {"casual_male": 5, "fr_female": 3, "silent": 0}


@pytest.fixture(scope="module")
def tiny_dict():
    return tiny_tekken(voice_num_audio_tokens=TINY_VOICES, seed=0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, tiny_dict):
    path = write_tekken_json(tiny_dict, tmp_path_factory.mktemp("tiny") / "tekken.json")
    return path, TekkenTokenizer.from_file(path), _mistral(path)


def _raw(mistral_tokenizer):
    return mistral_tokenizer.instruct_tokenizer.tokenizer


def _speech(mistral_tokenizer, text: str, voice: str) -> list[int]:
    from mistral_common.protocol.speech.request import SpeechRequest

    return mistral_tokenizer.encode_speech_request(SpeechRequest(input=text, voice=voice)).tokens


# ---- parity with mistral-common ------------------------------------------------------------
def test_string_set_is_large_enough():
    assert len(ALL_TEXT) >= 200
    assert len(TINY_TEXT) >= 60


@pytest.mark.parametrize("text", ALL_TEXT, ids=_ids(ALL_TEXT))
def test_real_vocab_ids_match_mistral_common(real, text):
    _, mine, ref = real
    assert mine.encode(text) == _raw(ref).encode(text, bos=False, eos=False)


@pytest.mark.parametrize("text", TINY_TEXT, ids=_ids(TINY_TEXT))
def test_tiny_vocab_ids_match_mistral_common(tiny, text):
    _, mine, ref = tiny
    ids = mine.encode(text)
    assert ids == _raw(ref).encode(text, bos=False, eos=False)
    assert all(mine.num_special_tokens <= i < mine.vocab_size for i in ids)


def test_tiny_vocab_actually_merges(tiny):
    _, mine, _ = tiny
    text = "Paris est une belle ville, the best thing in the world."
    assert len(mine.encode(text)) < len(text.encode("utf-8")) / 2


def test_tiny_with_few_specials_matches_mistral_common(tmp_path):
    d = tiny_tekken(vocab_size=400, num_special=40, seed=3)
    path = write_tekken_json(d, tmp_path / "tekken.json")
    mine, ref = TekkenTokenizer.from_file(path), _raw(_mistral(path))
    for text in TINY_TEXT:
        assert mine.encode(text) == ref.encode(text, bos=False, eos=False), text


def test_whole_piece_token_wins_over_bpe(tiny_dict, tmp_path):
    # tiktoken emits a piece that is itself a token even when merges cannot build it.
    d = copy.deepcopy(tiny_dict)
    last = d["config"]["default_vocab_size"] - d["config"]["default_num_special_tokens"] - 1
    d["vocab"][last].update(token_bytes="enF4ag==", token_str="zqxj")  # b"zqxj"
    path = write_tekken_json(d, tmp_path / "tekken.json")
    mine, ref = TekkenTokenizer.from_file(path), _raw(_mistral(path))
    for text in ["zqxj", "zqxj zqxj", "zqxjzqxj", "Zqxj"]:
        assert mine.encode(text) == ref.encode(text, bos=False, eos=False), text
    assert mine.encode("zqxj") == [last + 1000]


def test_golden_prompt(real):
    _, mine, ref = real
    assert mine.encode(GOLDEN_TEXT) == GOLDEN_PROMPT[150:156]
    assert build_tts_prompt(mine.encode(GOLDEN_TEXT), 147) == GOLDEN_PROMPT
    assert mine.encode_tts(GOLDEN_TEXT, "casual_male") == GOLDEN_PROMPT
    assert len(GOLDEN_PROMPT) == 158
    assert _speech(ref, GOLDEN_TEXT, "casual_male") == GOLDEN_PROMPT


@pytest.mark.parametrize("voice", sorted(SPEC_VOICE_NUM_AUDIO_TOKENS))
def test_real_prompt_matches_encode_speech_request(real, voice):
    _, mine, ref = real
    text = "Bonjour ! 12:30 — ¿qué tal? नमस्ते 👋"
    assert mine.encode_tts(text, voice) == _speech(ref, text, voice)
    n = SPEC_VOICE_NUM_AUDIO_TOKENS[voice]
    assert mine.build_tts_prompt(mine.encode(text), n) == _speech(ref, text, voice)


@pytest.mark.parametrize("voice", sorted(TINY_VOICES))
@pytest.mark.parametrize("text", ["", "Hello there!", "Ça va ? 3 + 4 = 7"])
def test_tiny_prompt_matches_encode_speech_request(tiny, voice, text):
    _, mine, ref = tiny
    assert mine.encode_tts(text, voice) == _speech(ref, text, voice)


# ---- metadata ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["real", "tiny"])
def test_special_ids_and_audio_section(request, which):
    _, tok, _ = request.getfixturevalue(which)
    assert (tok.bos_id, tok.eos_id, tok.audio_id, tok.begin_audio_id) == (1, 2, 24, 25)
    assert (tok.repeat_audio_text_id, tok.next_audio_text_id) == (35, 36)
    assert tok.tts_ids == SPEC_TTS_IDS
    assert (tok.sampling_rate, tok.frame_rate) == (24000, 12.5)
    assert tok.voice_num_audio_tokens == (SPEC_VOICE_NUM_AUDIO_TOKENS if which == "real" else TINY_VOICES)


def test_real_vocab_sizes(real):
    _, tok, ref = real
    assert (tok.vocab_size, tok.num_special_tokens) == (131072, 1000)
    assert _raw(ref).n_words == 131072


def test_special_ids_are_looked_up_by_name(tiny_dict):
    d = copy.deepcopy(tiny_dict)
    names = {e["rank"]: e for e in d["special_tokens"]}
    names[24]["token_str"], names[30]["token_str"] = "<SPECIAL_24>", "[AUDIO]"
    tok = TekkenTokenizer.from_dict(d)
    assert tok.audio_id == 30
    assert tok.build_tts_prompt([1500], 2) == [1, 25, 30, 30, 36, 1500, 35, 25]


def test_spec_fallbacks_without_special_list_or_audio(tiny_dict):
    d = copy.deepcopy(tiny_dict)
    del d["special_tokens"], d["audio"]
    tok = TekkenTokenizer.from_dict(d)
    assert tok.tts_ids == SPEC_TTS_IDS
    assert tok.voice_num_audio_tokens == {}
    assert (tok.sampling_rate, tok.frame_rate) == (24000, 12.5)
    with pytest.raises(VoiceError, match="no voices"):
        tok.encode_tts("hi", "casual_male")


def test_from_dict_does_not_mutate_input(tiny_dict):
    before = json.dumps(tiny_dict, sort_keys=True)
    TekkenTokenizer.from_dict(tiny_dict)
    assert json.dumps(tiny_dict, sort_keys=True) == before


def test_tiny_tekken_is_deterministic_and_seeded():
    a, b, c = tiny_tekken(seed=7), tiny_tekken(seed=7), tiny_tekken(seed=8)
    assert a == b
    assert a["vocab"] != c["vocab"]
    assert len(a["vocab"]) > a["config"]["default_vocab_size"] - a["config"]["default_num_special_tokens"]
    with pytest.raises(ValueError):
        tiny_tekken(vocab_size=1200, num_special=1000)
    with pytest.raises(ValueError):
        tiny_tekken(vocab_size=400, num_special=10)


# ---- prompt building and decoding -----------------------------------------------------------
def test_build_tts_prompt_layout():
    assert build_tts_prompt([], 0) == [1, 25, 36, 35, 25]
    assert build_tts_prompt([1001, 1002], 3) == [1, 25, 24, 24, 24, 36, 1001, 1002, 35, 25]
    for bad in (-1, 2.0, True, "3"):
        with pytest.raises(TokenizerError):
            build_tts_prompt([], bad)


def test_unknown_voice_is_a_voice_error(tiny):
    _, tok, _ = tiny
    with pytest.raises(VoiceError, match="casual_male"):
        tok.encode_tts("hi", "nobody")


@pytest.mark.parametrize("which", ["real", "tiny"])
def test_decode_roundtrips(request, which):
    _, tok, _ = request.getfixturevalue(which)
    for text in ALL_TEXT:
        if text not in SURROGATE_TEXT:
            assert tok.decode(tok.encode(text)) == text
    prompt = tok.build_tts_prompt(tok.encode("Hi!"), 2)
    assert tok.decode(prompt) == "<s>[BEGIN_AUDIO][AUDIO][AUDIO][NEXT_AUDIO_TEXT]Hi![REPEAT_AUDIO_TEXT][BEGIN_AUDIO]"
    assert tok.decode(prompt, keep_special=False) == "Hi!"
    with pytest.raises(TokenizerError):
        tok.decode([tok.vocab_size + 10**6])


# ---- malformed tekken.json -----------------------------------------------------------------
def _mutations():
    def drop(*path):
        def f(d):
            node = d
            for key in path[:-1]:
                node = node[key]
            del node[path[-1]]

        return f

    def set_(value, *path):
        def f(d):
            node = d
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        return f

    return {
        "no config": drop("config"),
        "no pattern": drop("config", "pattern"),
        "bad pattern": set_("(unclosed", "config", "pattern"),
        "no vocab size": drop("config", "default_vocab_size"),
        "string num special": set_("1000", "config", "default_num_special_tokens"),
        "too few ranks": set_(1100, "config", "default_vocab_size"),
        "no vocab": drop("vocab"),
        "vocab too short": lambda d: d.__setitem__("vocab", d["vocab"][:500]),
        "bad base64": set_("!!!", "vocab", 300, "token_bytes"),
        "rank mismatch": set_(7, "vocab", 300, "rank"),
        "byte rank wrong": set_("YQ==", "vocab", 0, "token_bytes"),
        "duplicate bytes": lambda d: d["vocab"][301].__setitem__("token_bytes", d["vocab"][300]["token_bytes"]),
        "special list not list": set_({"a": 1}, "special_tokens"),
        "special rank too big": set_(5000, "special_tokens", 3, "rank"),
        "duplicate special": set_("<s>", "special_tokens", 3, "token_str"),
        "audio not object": set_([1], "audio"),
        "negative voice": set_({"x": -1}, "audio", "voice_num_audio_tokens"),
        "zero sampling rate": set_(0, "audio", "sampling_rate"),
    }


MUTATIONS = _mutations()


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_malformed_tekken_raises_tokenizer_error(tiny_dict, tmp_path, name):
    d = copy.deepcopy(tiny_dict)
    MUTATIONS[name](d)
    path = tmp_path / "tekken.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"tekken\.json.*(export|checkpoint)"):
        TekkenTokenizer.from_file(path)
    with pytest.raises(TokenizerError):
        TekkenTokenizer.from_dict(d)


@pytest.mark.parametrize("content", [None, b"", b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'"str"'])
def test_unreadable_tekken_raises_tokenizer_error(tmp_path, content):
    path = tmp_path / "tekken.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TokenizerError, match=r"tekken\.json.*(export|checkpoint)"):
        TekkenTokenizer.from_file(path)


def test_non_str_text_is_rejected(tiny):
    _, tok, _ = tiny
    with pytest.raises(TokenizerError):
        tok.encode(b"bytes")  # type: ignore[arg-type]


# ---- runtime constraints -------------------------------------------------------------------
def test_import_pulls_in_no_heavy_dependencies():
    code = (
        "import sys, vox_edge.runtime.tokenizer\n"
        "bad = sorted(m for m in ('torch', 'mistral_common', 'tiktoken', 'transformers') if m in sys.modules)\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _hundred_kb_text() -> str:
    # Mostly unseen words so the per-piece cache does not hide the BPE cost.
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyzéèàüöäñçअआकखगمرحباбвгд"
    chunks: list[str] = []
    while sum(map(len, chunks)) < 100_000:
        chunks.append(rng.choice(LANGUAGE_TEXT))
        chunks.append(" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 12))) for _ in range(8)))
        chunks.append(f" {rng.randint(0, 10**6)}.\n")
    return "".join(chunks)[:100_000]


def test_100kb_encodes_fast_and_identically(real):
    path, _, ref = real
    text = _hundred_kb_text()
    cold = TekkenTokenizer.from_file(path)  # empty piece cache
    start = time.perf_counter()
    ids = cold.encode(text)
    elapsed = time.perf_counter() - start
    print(f"\n100 kB ({len(text.encode('utf-8'))} bytes UTF-8) -> {len(ids)} ids in {elapsed:.3f} s")
    assert ids == _raw(ref).encode(text, bos=False, eos=False)
    assert elapsed < 5.0

"""The text front end as the planner and the CLI use it: language choice, one splitter, `vox-edge text`, and breaks
as exact silences in the engine's stream (against the committed golden bundle; no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vox_edge.cli import main
from vox_edge.errors import SSMLError
from vox_edge.runtime import plan
from vox_edge.runtime.text import Break, to_segments
from vox_edge.runtime.text.language import detect, lang_code, resolve


@pytest.mark.parametrize("text, lang", [
    ("In 200 m rechts abbiegen, dann die Ausfahrt nehmen.", "de"),
    ("Arrivée prévue à 14h35, tournez à gauche dans la rue.", "fr"),
    ("Gire a la derecha y tome la salida hacia la calle.", "es"),
    ("Svoltare a destra e prendere l'uscita per la via.", "it"),
    ("Vire à direita e pegue a saída para a rua.", "pt"),
    ("Neem de afslag en ga rechtsaf naar de straat.", "nl"),
    ("Turn left and take the exit to the street.", "en"),
    ("الساعة 3:15", "ar"),
    ("200 मीटर बाद दाएँ मुड़ें", "hi"),
    ("Straße", "de"), ("¿Dónde?", "es"), ("São Paulo", "pt"),
])
def test_auto_detects_by_script_and_cues(text, lang):
    assert detect(text) == lang


def test_auto_falls_back_to_the_voice_language_when_unsure():
    assert detect("12345", default="fr") == "fr" and detect("OK", default="de") == "de"
    assert resolve("auto", "A8 12:30", "it") == "it" and resolve("auto", "A8 München", "it") == "de"
    assert resolve("pt_BR", "anything") == "pt" and resolve("AUTO", "Straße und Weg", "en") == "de"
    assert resolve(None, "Straße und Weg", "fr") == "fr"
    assert lang_code(" EN-gb ") == "en"


def test_auto_normalises_in_the_detected_language():
    assert to_segments("In 200 m rechts abbiegen.", "auto") == ["In zweihundert Metern rechts abbiegen."]
    assert to_segments("Tournez à droite dans 200 m.", "auto", default_lang="de") == \
        ["Tournez à droite dans deux cents mètres."]


def test_voice_language_from_the_voice_name():
    assert plan.language_of_voice("de_female") == "de" and plan.language_of_voice("neutral_male") == "en"
    assert plan.segments("Il y a 5 km.", "auto", voice_lang="fr") == ["Il y a cinq kilomètres."]


def test_the_planner_uses_the_one_splitter():
    long = "Dans 200 m, tournez à droite. " * 40
    out = plan.segments(long, "fr")
    assert all(isinstance(s, str) and 0 < len(s) <= plan.MAX_SEGMENT_CHARS for s in out) and len(out) > 1
    assert out == to_segments(long, "fr") and out[0].startswith("Dans deux cents mètres")


def test_english_plain_text_is_unchanged_by_the_front_end_move():
    from vox_edge.runtime.text.frontend import prepare

    for text in ("Turn left in 200 m. Then 3.5 km to 221 Baker Street.", "a\x00b " * 200, "Hi! 😀 " * 100):
        assert plan.segments(text) == [s for s in prepare(text) if s]


# ----------------------------------------------------------------------------- vox-edge text
def test_cli_text_prints_segments_and_breaks(capsys):
    assert main(["text", '<speak>In 200 m rechts.<break time="700ms"/>Dann die 3. Ausfahrt.</speak>', "--lang", "de"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1\tIn zweihundert Metern rechts.", "break\t700 ms",
                                                    "2\tDann die dritte Ausfahrt."]


def test_cli_text_flags(capsys, tmp_path):
    lex = tmp_path / "l.tsv"
    lex.write_text("[fr]\nLyon\tLi-on\n", encoding="utf-8")
    assert main(["text", "Lyon 5 km", "--voice", "fr_male", "--lexicon", str(lex)]) == 0
    assert capsys.readouterr().out == "1\tLi-on cinq kilomètres\n"
    assert main(["text", 'a<break time="1s"/>b', "--ssml"]) == 0
    assert "break\t1000 ms" in capsys.readouterr().out
    assert main(["text", "5 km", "--no-normalize"]) == 0
    assert capsys.readouterr().out == "1\t5 km\n"


def test_cli_text_errors_are_one_line(capsys):
    assert main(["text", "<speak><audio/></speak>"]) == SSMLError.exit_code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "<audio>" in err and "Traceback" not in err
    assert main(["text", "<speak><audio/>Hi</speak>", "--lenient-ssml"]) == 0
    assert capsys.readouterr().out == "1\tHi\n"


# ----------------------------------------------------------------------------- the engine
@pytest.fixture(scope="module")
def engine():
    from golden_bundle import BUNDLE
    from runtime_fixtures import get_engine

    return get_engine(BUNDLE)


def test_breaks_are_exact_silences_in_the_stream_without_a_model_call(engine):
    sr = engine.sample_rate
    doc = '<speak>Go.<break time="500ms"/>Go.<break time="1.25s"/></speak>'
    chunks = list(engine.stream(doc))
    silence = [c for c in chunks if c.segment == 1]
    assert len(silence) == 1 and silence[0].samples.shape == (Break(0.5).samples(sr),) == (round(0.5 * sr),)
    assert not silence[0].samples.any() and silence[0].frames == silence[0].samples.shape[0] // engine.samples_per_frame
    assert chunks[-1].is_last and chunks[-1].segment == 3 and chunks[-1].samples.shape == (round(1.25 * sr),)
    assert not chunks[-1].samples.any()
    out = engine.synthesize(doc)
    assert out.segments == ("Go.", Break(0.5), "Go.", Break(1.25))
    assert out.codes[1].shape[0] == out.codes[3].shape[0] == 0  # no frame generated for a break
    spoken = engine.synthesize("Go.")
    assert out.samples.shape[0] == 2 * spoken.samples.shape[0] + round(0.5 * sr) + round(1.25 * sr)
    assert np.array_equal(out.codes[0], spoken.codes[0])  # the noise stream is not consumed by a break


def test_engine_ssml_errors_come_before_any_audio(engine):
    with pytest.raises(SSMLError, match="<prosody>"):
        list(engine.stream("<speak><prosody>Hi</prosody></speak>"))
    out = engine.synthesize("<speak><prosody>Hi</prosody></speak>", lenient_ssml=True, max_frames=4)
    assert out.segments == ("Hi",) and np.isfinite(out.samples).all()


def test_a_profile_lexicon_applies_to_every_request_and_a_call_s_own_wins(tmp_path):
    from golden_bundle import BUNDLE
    from runtime_fixtures import test_profile

    from vox_edge.device_profiles import load_profile
    from vox_edge.runtime import load
    from vox_edge.runtime.text.user_lexicon import UserLexicon

    lex = tmp_path / "words.tsv"
    lex.write_text("[en]\nseven\tsiebzehn\n", encoding="utf-8")
    import vox_edge.device_profiles as profiles

    src = Path(profiles.__file__).parent / "dev-vm-2core-x86.toml"
    custom = tmp_path / "dev-vm-2core-x86.toml"
    custom.write_text(src.read_text(encoding="utf-8").replace("[runtime]\n", f'[runtime]\nlexicon = "{lex}"\n', 1),
                      encoding="utf-8")
    assert load_profile(custom).runtime.lexicon == str(lex)
    eng = load(BUNDLE, profile=test_profile().with_runtime(lexicon=str(lex)), verify="size")
    assert eng.synthesize("7.", max_frames=2).segments == ("siebzehn.",)
    own = UserLexicon.from_text("seven\tsept\n")
    assert eng.synthesize("7.", max_frames=2, lexicon=own).segments == ("sept.",)


def test_speak_reads_ssml_and_writes_its_silences(engine, tmp_path):
    import wave

    from golden_bundle import BUNDLE

    doc = '<speak>Go.<break time="400ms"/>Go.</speak>'
    out = tmp_path / "ssml.wav"
    argv = ["speak", doc, "--bundle", str(BUNDLE), "--out", str(out), "--profile", "dev-vm-2core-x86", "-q"]
    assert main(argv) == 0
    with wave.open(str(out)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    spoken = engine.synthesize("Go.").samples.shape[0]
    assert pcm.shape[0] == 2 * spoken + round(0.4 * engine.sample_rate)
    assert not pcm[spoken: spoken + round(0.4 * engine.sample_rate)].any()
    assert main(["speak", "<speak><audio/></speak>", "--bundle", str(BUNDLE), "--out", str(out), "-q"]) == 2

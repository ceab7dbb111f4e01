"""`vox-edge speak | voices | info`: WAV output, playback (faked device), and one-line errors."""

from __future__ import annotations

import io
import subprocess
import sys
import types
import wave

import numpy as np
import pytest
from runtime_fixtures import one_error_line as _one_error_line
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.cli import main


def _wav(path):
    with wave.open(str(path)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(), w.readframes(w.getnframes())


def test_speak_writes_24khz_mono_16bit_wav(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "x.wav"
    assert main(["speak", "Turn left in 200 meters.", "--bundle", str(tiny_bundle), "--out", str(out)]) == 0
    ch, width, rate, n, raw = _wav(out)
    assert (ch, width, rate) == (1, 2, 24000) and n > 0 and n % 1920 == 0
    assert np.abs(np.frombuffer(raw, "<i2")).max() > 0
    assert not (tmp_path / "x.wav.partial").exists()
    assert "wrote" in capsys.readouterr().err


def test_speak_from_stdin_and_file_with_options(tiny_bundle, tmp_path, monkeypatch):
    f = tmp_path / "t.txt"
    f.write_text("Keep right.", encoding="utf-8")
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    assert main(["speak", "--text-file", str(f), "--bundle", str(tiny_bundle), "--out", str(a), "--seed", "4",
                 "--voice", "casual_male", "--flow-steps", "3", "--max-frames", "6", "-q"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("Keep right."))
    assert main(["speak", "-", "--bundle", str(tiny_bundle), "--out", str(b), "--seed", "4", "--voice", "casual_male",
                 "--flow-steps", "3", "--max-frames", "6", "-q", "--profile", "dev-vm-2core-x86"]) == 0
    assert _wav(a) == _wav(b) and _wav(a)[3] == 6 * 1920


def test_speak_sampling_flags(tiny_bundle, tmp_path, capsys):
    outs = []
    for seed in ("1", "2"):  # a zero start-noise scale leaves nothing to the seed
        outs.append(tmp_path / f"s{seed}.wav")
        assert main(["speak", "Keep right.", "--bundle", str(tiny_bundle), "--out", str(outs[-1]), "--seed", seed,
                     "--noise-scale", "0", "--cfg-alpha", "1.5", "--flow-steps", "2", "--max-frames", "5", "-q"]) == 0
    assert _wav(outs[0]) == _wav(outs[1])
    with pytest.raises(SystemExit) as e:
        main(["speak", "Hi.", "--bundle", str(tiny_bundle), "--out", str(tmp_path / "x.wav"), "--noise-scale", "-1"])
    assert e.value.code != 0 and "--noise-scale: must be in [0, 4]" in capsys.readouterr().err


class _FakeStream:
    def __init__(self, sink, **kw):
        self.sink, self.kw = sink, kw

    def start(self):
        pass

    def write(self, data):
        assert data.dtype == np.float32 and data.shape[1] == 1
        self.sink.append(data[:, 0].copy())

    def stop(self):
        pass

    def close(self):
        pass


def _fake_sounddevice(sink, devices_ok=True):
    def query_devices(kind=None):
        if not devices_ok:
            raise RuntimeError("Error querying device -1")
        return {"name": "fake", "max_output_channels": 2}

    return types.SimpleNamespace(query_devices=query_devices,
                                 OutputStream=lambda **kw: _FakeStream(sink, **kw))


def test_play_streams_to_the_output_device(tiny_bundle, tmp_path, monkeypatch):
    played: list[np.ndarray] = []
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(played))
    out = tmp_path / "p.wav"
    assert main(["speak", "Go.", "--bundle", str(tiny_bundle), "--play", "--out", str(out), "--max-frames", "7", "-q"]) == 0
    assert len(played) >= 2  # chunks arrive while generating (2 frames first)
    pcm = np.frombuffer(_wav(out)[4], "<i2")
    assert np.array_equal(np.round(np.clip(np.concatenate(played), -1, 1) * 32767).astype("<i2"), pcm)


def test_play_without_output_device_fails_with_one_line(tiny_bundle, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice([], devices_ok=False))
    assert main(["speak", "Go.", "--bundle", str(tiny_bundle), "--play"]) != 0
    assert "no audio output device" in _one_error_line(capsys)


def test_play_without_sounddevice_fails_with_one_line(tiny_bundle, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    assert main(["speak", "Go.", "--bundle", str(tiny_bundle), "--play"]) != 0
    assert "sounddevice" in _one_error_line(capsys)


def test_play_in_a_fresh_process_without_audio(tiny_bundle):
    """The real environment (no sounddevice, or no device): one clear line, non-zero exit, no traceback."""
    r = subprocess.run([sys.executable, "-m", "vox_edge.cli", "speak", "Go.", "--bundle", str(tiny_bundle), "--play"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    try:
        import sounddevice  # noqa: F401
        has_device = bool(sounddevice.query_devices(kind="output"))
    except Exception:  # noqa: BLE001
        has_device = False
    if has_device:
        pytest.skip("this machine has an audio output device")
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and len(lines) == 1 and lines[0].startswith("vox-edge: error: --play"), r.stderr


@pytest.mark.parametrize("argv,needle", [
    (["speak", "Hi.", "--out", "x.wav"], "--bundle"),  # an install without a packaged model
    (["speak", "   ", "--bundle", "{B}", "--out", "x.wav"], "nothing to speak"),
    (["speak", "--bundle", "{B}", "--out", "x.wav"], "no text"),
    (["speak", "Hi.", "--bundle", "{B}"], "--out"),
    (["speak", "Hi.", "--bundle", "{B}", "--out", "x.wav", "--voice", "nobody"], "casual_female"),
    (["speak", "Hi.", "--bundle", "/no/such/bundle", "--out", "x.wav"], "not found"),
    (["speak", "--text-file", "/no/such.txt", "--bundle", "{B}", "--out", "x.wav"], "no such file"),
    (["speak", "Hi.", "--bundle", "{B}", "--out", "x.wav", "--profile", "nope"], "nope"),
    (["voices"], "--bundle"),
    (["info", "/no/such/bundle"], "not found"),
])
def test_errors_are_one_line_and_nonzero(tiny_bundle, tmp_path, monkeypatch, capsys, argv, needle):
    from vox_edge.runtime import cli_commands

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_commands, "default_bundle", lambda: None)
    argv = [a.replace("{B}", str(tiny_bundle)) for a in argv]
    assert main(argv) != 0
    assert needle in _one_error_line(capsys)
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.wav.partial").exists()


def test_voices_and_info(tiny_bundle, capsys):
    assert main(["voices", "--bundle", str(tiny_bundle)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["casual_female", "casual_male"] and sum("(default)" in ln for ln in lines) == 1
    assert main(["info", str(tiny_bundle), "--verify", "full"]) == 0
    out = capsys.readouterr().out
    for needle in ("schema v3", "dim 64", "backbone", "codec_decoder", "fp32", "24000 Hz", "casual_male", "source",
                   "sampling    reference defaults"):
        assert needle in out, needle


# --- the packaged default model ---------------------------------------------------------------------

RECORD = {"status": "preview", "failed_gates": ["INT8 WER 32.4 % > 10 %"], "sentences": 100, "wer_int8": 0.324,
          "words_heard_int8": 0.759, "targets": {"wer": 0.1}}


def test_without_bundle_the_packaged_model_speaks_and_says_what_it_measured(tiny_bundle, tmp_path, monkeypatch, capsys):
    import json
    import shutil

    from vox_edge.runtime import cli_commands

    packaged = tmp_path / "assets" / "default_bundle"
    shutil.copytree(tiny_bundle, packaged)
    monkeypatch.setattr(cli_commands, "default_bundle", lambda: packaged)
    assert main(["speak", "Turn left.", "--out", str(tmp_path / "x.wav")]) == 0
    assert _wav(tmp_path / "x.wav")[2] == 24000
    assert main(["info"]) == 0 and "quality" not in capsys.readouterr().out  # no record: nothing claimed
    (tmp_path / "assets" / "default_bundle.quality.json").write_text(json.dumps(RECORD))
    assert main(["voices"]) == 0
    err = capsys.readouterr().err
    assert "preview: Whisper tiny.en WER 32.4 % on 100 held-out sentences (76 % of words heard), target <= 10 %" in err
    assert "below target: INT8 WER 32.4 % > 10 %" in err
    assert main(["info"]) == 0
    assert "quality     preview: Whisper tiny.en WER 32.4 %" in capsys.readouterr().out
    (tmp_path / "assets" / "default_bundle.quality.json").write_text("{")
    assert main(["info"]) == 0 and "unreadable quality record" in capsys.readouterr().out


def test_the_packaged_model_if_this_install_has_one_speaks(tmp_path):
    """The shipped default voice: loads with full integrity checks and speaks without --bundle."""
    from vox_edge.runtime.cli_commands import default_bundle

    if default_bundle() is None:
        pytest.skip("this install has no packaged model")
    assert main(["speak", "Turn left in two hundred meters.", "--verify", "full", "--out", str(tmp_path / "x.wav")]) == 0
    ch, width, sr, n, _ = _wav(tmp_path / "x.wav")
    assert (ch, width, sr) == (1, 2, 24000) and 0.5 < n / sr < 10

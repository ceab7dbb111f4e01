"""`vox-edge speak | voices | info` on the golden bundle: the WAV holds the engine's audio; failures are one line."""

from __future__ import annotations

import shutil
import wave

import numpy as np
import pytest
from golden_bundle import REQUESTS
from runtime_fixtures import one_error_line

from vox_edge.cli import main

NAME, TEXT, KW = REQUESTS[0]


def _pcm(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def test_speak_writes_the_engine_audio(engine, tiny_bundle, tmp_path):
    out = tmp_path / "x.wav"
    argv = ["speak", TEXT, "--bundle", str(tiny_bundle), "--out", str(out), "--voice", KW["voice"], "--seed",
            str(KW["seed"]), "--max-frames", str(KW["max_frames"]), "--flow-steps", "7", "--profile",
            "dev-vm-2core-x86", "-q"]
    assert main(argv) == 0
    want = np.frombuffer(engine.synthesize(TEXT, **KW).pcm16(), "<i2")
    got = _pcm(out)
    # the CLI's profile runs two intra-op threads, the engine fixture one: PCM may differ in its last bit
    assert got.shape == want.shape and np.abs(got.astype(np.int32) - want).max() <= 1
    assert not (tmp_path / "x.wav.partial").exists()


def test_voices_and_info(tiny_bundle, capsys):
    assert main(["voices", "--bundle", str(tiny_bundle)]) == 0
    assert [ln.split()[0] for ln in capsys.readouterr().out.splitlines()] == ["casual_female", "casual_male"]
    assert main(["info", str(tiny_bundle), "--verify", "full"]) == 0
    out = capsys.readouterr().out
    assert "dim 32" in out and "codec_decoder" in out and "24000 Hz" in out


@pytest.fixture()
def corrupted(tiny_bundle, tmp_path):
    dst = tmp_path / "b"
    shutil.copytree(tiny_bundle, dst)
    raw = bytearray((dst / "codec_decoder.onnx").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (dst / "codec_decoder.onnx").write_bytes(bytes(raw))
    return dst


def test_bad_inputs_fail_with_one_line_and_no_file(tiny_bundle, corrupted, tmp_path, capsys):
    out = tmp_path / "y.wav"
    cases = [(["speak", TEXT, "--bundle", str(tiny_bundle), "--out", str(out), "--voice", "nobody"], "casual_male"),
             (["speak", TEXT, "--bundle", str(corrupted), "--out", str(out), "--verify", "full"], "sha256"),
             (["speak", TEXT, "--bundle", str(tmp_path / "none"), "--out", str(out)], "not found")]
    for argv, needle in cases:
        assert main(argv) != 0
        assert needle in one_error_line(capsys), argv
        assert not out.exists() and not out.with_name("y.wav.partial").exists()

"""The CLI at its edges: every bad argument or input is one line on stderr, a non-zero exit and no file left behind;
bounded text input; one "nothing to speak" error; the output path checked before any synthesis."""

from __future__ import annotations

import io
import os
import sys
import time
import wave

import pytest
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.cli import main
from vox_edge.config import DEFAULT_MAX_TEXT_BYTES, MAX_FLOW_STEPS
from vox_edge.runtime.cli_input import NOTHING_TO_SPEAK


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VOX_EDGE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "verify-cache"))


def _run(argv, capsys, tmp_path, monkeypatch):
    """main(argv) in tmp_path -> (exit code, stderr lines); SystemExit (argparse) counts as an exit."""
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err.strip().splitlines()


def _assert_one_line_failure(code, err, needle, tmp_path):
    assert code not in (0, None), err
    assert len(err) == 1 and "error: " in err[0] and "Traceback" not in err[0], err
    assert needle in err[0], err
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in KEEP)
    assert left == [], left


KEEP = {"bad.txt", "text.txt", "adir", "x.wav.keep"}


# --- the argument matrix: refused at parse time, before anything loads -------------------------------

@pytest.mark.parametrize("extra,needle", [
    (["--flow-steps", str(MAX_FLOW_STEPS + 1)], f"--flow-steps: must be in [1, {MAX_FLOW_STEPS}]"),
    (["--flow-steps", "10000"], "--flow-steps"),
    (["--flow-steps", "0"], "--flow-steps"),
    (["--flow-steps", "two"], "not an integer"),
    (["--seed=-5"], "--seed: must be in [0,"),
    (["--seed", "1.5"], "--seed"),
    (["--cfg-alpha", "nan"], "--cfg-alpha"),
    (["--cfg-alpha", "11"], "--cfg-alpha"),
    (["--noise-scale", "inf"], "--noise-scale"),
    (["--max-frames", "0"], "--max-frames"),
    (["--max-audio-seconds", "0"], "--max-audio-seconds"),
    (["--max-text-bytes", "-1"], "--max-text-bytes"),
    (["--voice", ""], "--voice: must not be empty"),
    (["--lang", " "], "--lang: unknown language"),
    (["--lang", "xx"], "--lang: unknown language 'xx'"),
    (["--verify", "sha1"], "--verify"),
    (["--no-such-flag"], "unrecognized arguments"),
])
def test_bad_speak_arguments_fail_at_parse_time(extra, needle, tiny_bundle, tmp_path, monkeypatch, capsys):
    code, err = _run(["speak", "Hi.", "--bundle", str(tiny_bundle), "--out", "x.wav", *extra], capsys, tmp_path,
                     monkeypatch)
    assert code == 2
    _assert_one_line_failure(code, err, needle, tmp_path)


@pytest.mark.parametrize("argv,needle", [
    (["make-checkpoint", "OUT", "--dims", "{not json"], "--dims is not valid JSON"),
    (["make-checkpoint", "OUT", "--dims", "[1, 2]"], "JSON object"),
    (["make-checkpoint", "OUT", "--dims", '{"dim": -4}'], "dim must be a positive integer"),
    (["make-checkpoint", "OUT", "--dims", '{"dimm": 64}'], "unknown key 'dimm'"),
    (["make-checkpoint", "OUT", "--dims", '{"acoustic": 3}'], "'acoustic' must be an object"),
    (["make-checkpoint", "/proc/nope/OUT"], "does not exist"),
    (["export", "CKPT", "/proc/nope/b"], "checkpoint directory not found"),
    (["export", "{C}", "/proc/nope/b"], "/proc/nope"),
    (["export", "{C}", "b", "--component-precision", "backbone"], "COMPONENT=PRECISION"),
    (["export", "{C}", "b", "--component-precision", "engine=int8"], "COMPONENT=PRECISION"),
    (["export", "{C}", "b", "--cfg-alpha", "-1"], "--cfg-alpha"),
    (["export", "{C}", "b", "--min-flow-steps", "0"], "--min-flow-steps"),
    (["export", "{C}", "b", "--min-flow-steps", "65"], "--min-flow-steps"),
    (["export", "{C}", "b", "--repetition-stop-seconds", "-1"], "--repetition-stop-seconds"),
    (["export", "{C}", "b", "--repetition-stop-seconds", "61"], "--repetition-stop-seconds"),
    (["info", "/no/such/bundle"], "not found"),
    (["voices", "--bundle", "/no/such/bundle"], "not found"),
    ([], "required"),
    (["bench", "{B}", "--profile", "dev-vm-2core-x86", "--seed", "-4"], "--seed"),
    (["bench", "{B}", "--profile", "dev-vm-2core-x86", "--voice", ""], "--voice"),
    (["bench", "{B}", "--profile", "dev-vm-2core-x86", "--flow-steps", "65"], "--flow-steps"),
    (["bench", "{B}", "--profile", "dev-vm-2core-x86", "--json", "/proc/nope/x.json"], "--json /proc/nope/x.json"),
    (["bench", "{B}", "--profile", "dev-vm-2core-x86", "--corpus", "/dev/zero", "-q"], "--corpus /dev/zero is longer"),
])
def test_other_subcommands_fail_in_one_line(argv, needle, tiny_checkpoint_dir, tiny_bundle, tmp_path, monkeypatch,
                                            capsys):
    argv = [a.replace("{C}", str(tiny_checkpoint_dir)).replace("{B}", str(tiny_bundle)) for a in argv]
    code, err = _run(argv, capsys, tmp_path, monkeypatch)
    _assert_one_line_failure(code, err, needle, tmp_path)


# --- output paths: checked before synthesis, nothing left behind -------------------------------------

@pytest.mark.parametrize("out,needle", [
    ("/nonexistent/dir/x.wav", "does not exist"),
    ("adir", "is a directory"),
    ("adir/", "is a directory"),
    ("/dev/null", "not a regular file"),
])
def test_bad_output_paths_fail_before_loading(out, needle, tiny_bundle, tmp_path, monkeypatch, capsys):
    (tmp_path / "adir").mkdir()
    from vox_edge.runtime import engine as engine_module

    monkeypatch.setattr(engine_module, "load", lambda *a, **k: pytest.fail("loaded despite a bad --out"))
    code, err = _run(["speak", "Hi.", "--bundle", str(tiny_bundle), "--out", out], capsys, tmp_path, monkeypatch)
    _assert_one_line_failure(code, err, needle, tmp_path)
    assert list((tmp_path / "adir").iterdir()) == []


def test_unwritable_folder_is_refused(tiny_bundle, tmp_path, monkeypatch, capsys):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    ro = tmp_path / "adir"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, err = _run(["speak", "Hi.", "--bundle", str(tiny_bundle), "--out", "adir/x.wav"], capsys, tmp_path,
                         monkeypatch)
    finally:
        ro.chmod(0o700)
    _assert_one_line_failure(code, err, "no permission", tmp_path)


# --- text input: bounded, strict UTF-8, one "nothing to speak" ----------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_end_within_2_s_with_a_clear_error(device, tiny_bundle, tmp_path, monkeypatch, capsys):
    t0 = time.perf_counter()
    code, err = _run(["speak", "--text-file", device, "--bundle", str(tiny_bundle), "--out", "x.wav"], capsys,
                     tmp_path, monkeypatch)
    assert time.perf_counter() - t0 < 2
    _assert_one_line_failure(code, err, f"longer than {DEFAULT_MAX_TEXT_BYTES} bytes", tmp_path)


@pytest.mark.parametrize("source", ["stdin", "file", "argument"])
def test_text_limit_applies_to_every_source(source, tiny_bundle, tmp_path, monkeypatch, capsys):
    text = "word " * 30  # 150 bytes
    argv = ["speak", "--bundle", str(tiny_bundle), "--out", "x.wav", "--max-text-bytes", "100"]
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
        argv.insert(1, "-")
    elif source == "file":
        (tmp_path / "text.txt").write_text(text)
        argv += ["--text-file", "text.txt"]
    else:
        argv.insert(1, text)
    code, err = _run(argv, capsys, tmp_path, monkeypatch)
    _assert_one_line_failure(code, err, "longer than 100 bytes", tmp_path)


@pytest.mark.parametrize("data", [b"\xff\xfe\x00abc", b"Hello \xc3(", b"ok \xed\xa0\x80 surrogate"])
@pytest.mark.parametrize("source", ["stdin", "file", "argument"])
def test_invalid_utf8_is_refused_the_same_way_everywhere(data, source, tiny_bundle, tmp_path, monkeypatch, capsys):
    argv = ["speak", "--bundle", str(tiny_bundle), "--out", "x.wav"]
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        argv.insert(1, "-")
    elif source == "file":
        (tmp_path / "bad.txt").write_bytes(data)
        argv += ["--text-file", "bad.txt"]
    else:
        argv.insert(1, data.decode("utf-8", "surrogateescape"))  # how Python hands undecodable argv bytes over
    code, err = _run(argv, capsys, tmp_path, monkeypatch)
    _assert_one_line_failure(code, err, "is not UTF-8 text", tmp_path)


@pytest.mark.parametrize("text", ["", "   \n\t", "\x00\x00", "\u200b\u200b", "😀🚗🎉", "$$$", "<>", "..."])
def test_nothing_to_speak_is_one_error(text, tiny_bundle, tmp_path, monkeypatch, capsys):
    from vox_edge.runtime import plan

    code, err = _run(["speak", text, "--bundle", str(tiny_bundle), "--out", "x.wav"], capsys, tmp_path, monkeypatch)
    if plan.segments(text):  # a front end that reads this text aloud: then it is spoken, not refused
        assert code == 0 and (tmp_path / "x.wav").is_file()
        return
    assert code == 2
    _assert_one_line_failure(code, err, NOTHING_TO_SPEAK.split(":")[0], tmp_path)


def test_a_good_request_still_speaks_and_replaces_an_old_file(tiny_bundle, tmp_path, monkeypatch, capsys):
    (tmp_path / "x.wav").write_bytes(b"old")
    code, err = _run(["speak", "Keep right.", "--bundle", str(tiny_bundle), "--out", "x.wav", "--max-frames", "6"],
                     capsys, tmp_path, monkeypatch)
    assert code == 0, err
    with wave.open(str(tmp_path / "x.wav")) as w:
        assert w.getnframes() == 6 * 1920
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]


def test_audio_budget_cut_is_a_one_line_warning(tiny_bundle, tmp_path, monkeypatch, capsys):
    code, err = _run(["speak", "9" * 5000, "--bundle", str(tiny_bundle), "--out", "x.wav", "--max-audio-seconds", "2"],
                     capsys, tmp_path, monkeypatch)
    assert code == 0
    warnings = [ln for ln in err if ln.startswith("vox-edge: warning:")]
    assert len(warnings) == 1 and "audio budget" in warnings[0], err
    with wave.open(str(tmp_path / "x.wav")) as w:
        assert w.getnframes() <= 2 * 24000

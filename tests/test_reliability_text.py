"""Text paths under fuzzing (hypothesis, derandomised: the same examples on every run) and the bounds on output:
every source of text obeys the same decoding rules, any text gives bounded finite audio or a typed error, the
audio budget follows the text as written, and the silence and repetition safety nets end a segment a model does
not end."""

from __future__ import annotations

import io
import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_fixtures import engine, looping_flow, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.config import DEFAULT_MAX_AUDIO_SECONDS
from vox_edge.errors import AudioBudgetWarning, TextError, VoxEdgeError
from vox_edge.runtime import plan
from vox_edge.runtime.cli_input import read_text
from vox_edge.runtime.output_bounds import RepetitionRun, SilenceRun, audio_budget_frames

FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Bytes that are often (not always) UTF-8: valid text with a sprinkle of stray bytes.
text_bytes = st.one_of(st.binary(max_size=64),
                       st.text(max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass")),
                       st.tuples(st.text(max_size=20), st.binary(max_size=3), st.text(max_size=20)).map(
                           lambda t: t[0].encode("utf-8", "surrogatepass") + t[1] + t[2].encode("utf-8", "surrogatepass")))


def _outcome(fn) -> tuple[str, str]:
    try:
        return "text", fn()
    except TextError as e:  # the same error whatever the source, the source's name aside
        return "error", str(e).split(" is ", 1)[-1].split(": ", 1)[-1]


@FUZZ
@given(data=text_bytes)
def test_every_source_decodes_the_same_bytes_the_same_way(data, tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("t") / "t.txt"
    path.write_bytes(data)
    from_file = _outcome(lambda: read_text(None, str(path), 1 << 20))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    from_stdin = _outcome(lambda: read_text("-", None, 1 << 20))
    from_argv = _outcome(lambda: read_text(data.decode("utf-8", "surrogateescape"), None, 1 << 20))
    assert from_file == from_stdin == from_argv
    try:
        expected = data.decode("utf-8")
    except UnicodeDecodeError:
        assert from_file[0] == "error" and "UTF-8" in from_file[1]
    else:
        assert from_file == ("text", expected) if expected.strip() else from_file[0] == "error"


@FUZZ
@given(n=st.integers(0, 3000), extra=st.integers(1, 50))
def test_the_byte_limit_is_exact(n, extra):
    text = "a" * n
    assert read_text(text + "b", None, n + extra)  # fits
    with pytest.raises(TextError, match="longer than"):
        read_text(text + "b" * (extra + 1), None, n + extra)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_unicode_segments_without_crashing(text):
    try:
        segs = plan.segments(text)
    except VoxEdgeError:  # e.g. malformed SSML: a typed, explained refusal
        return
    for s in segs:
        if isinstance(s, str):
            assert s.strip() and len(s) <= plan.MAX_SEGMENT_CHARS


@settings(FUZZ, max_examples=25)
@given(text=st.text(max_size=60))
def test_any_text_gives_bounded_finite_audio_or_a_typed_error(text, engine):
    budget = audio_budget_frames(text, engine.config.frame_rate, 4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioBudgetWarning)
        try:
            out = engine.synthesize(text, max_audio_seconds=4.0, seed=1)
        except VoxEdgeError:
            return
    frames = sum(len(c) for c in out.codes)
    assert frames <= budget
    assert out.samples.dtype == np.float32 and np.isfinite(out.samples).all()
    assert out.samples.shape[0] <= budget * engine.samples_per_frame


# --- the audio budget ----------------------------------------------------------------------------------

def test_budget_follows_the_text_as_written():
    rate = 12.5
    assert audio_budget_frames("", rate) == 125  # 10 s for any request
    assert audio_budget_frames("x" * 100, rate) == math.ceil(rate * 60)
    assert audio_budget_frames("9" * 50_000, rate) == math.ceil(rate * DEFAULT_MAX_AUDIO_SECONDS)  # the ceiling
    assert audio_budget_frames("9" * 50_000, rate, 60.0) == 750
    # what normalisation would otherwise allow: "9" * 50000 is read digit by digit, ~10x the characters
    spoken = sum(plan.frame_cap(s, rate) for s in plan.segments("9" * 2_000) if isinstance(s, str))
    assert audio_budget_frames("9" * 2_000, rate) < spoken


def test_a_model_that_never_stops_gets_exactly_its_budget_and_a_warning(engine):
    text = "9" * 400  # the tiny model never ends: only the budget stops it
    budget = audio_budget_frames(text, engine.config.frame_rate)
    with pytest.warns(AudioBudgetWarning, match="400 characters"):
        out = engine.synthesize(text)
    assert sum(len(c) for c in out.codes) == budget
    assert out.duration == pytest.approx(budget / engine.config.frame_rate)


def test_nine_times_50000_stays_within_its_budget(engine):
    text = "9" * 50_000
    with pytest.warns(AudioBudgetWarning):
        out = engine.synthesize(text, max_audio_seconds=6.0)
    assert sum(len(c) for c in out.codes) == audio_budget_frames(text, engine.config.frame_rate, 6.0) == 75


def test_no_warning_when_max_frames_and_not_the_budget_ends_it(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioBudgetWarning)
        engine.synthesize("9" * 400, max_frames=10)


# --- the silence safety net ----------------------------------------------------------------------------

def test_silence_run_counts_consecutive_quiet_frames():
    run = SilenceRun(stop_frames=3, samples_per_frame=4)
    loud, quiet = np.full(4, 0.5, np.float32), np.zeros(4, np.float32)
    assert not run.feed(np.concatenate([quiet, quiet, loud, quiet]))
    assert run.feed(np.concatenate([quiet, quiet]))
    nan = SilenceRun(stop_frames=1, samples_per_frame=4)
    assert not nan.feed(np.full(4, np.nan, np.float32))  # broken audio is not silence
    assert not SilenceRun(stop_frames=0, samples_per_frame=4).feed(np.zeros(40, np.float32))  # off


def test_a_segment_the_codec_renders_as_silence_ends_early(engine, monkeypatch):
    from vox_edge.runtime import engine as engine_module

    class SilentCodec(engine_module.CodecStream):
        def push(self, codes):
            audio = super().push(codes)
            return None if audio is None else np.zeros_like(audio)

    monkeypatch.setattr(engine_module, "CodecStream", SilentCodec)
    text = "Turn left."
    cap = plan.frame_cap(text, engine.config.frame_rate)
    full = engine.synthesize(text, silence_stop_seconds=0)  # off: exact, to the cap
    assert [len(c) for c in full.codes] == [cap]
    cut = engine.synthesize(text, silence_stop_seconds=1.0)
    n = len(cut.codes[0])
    assert math.ceil(engine.config.frame_rate) <= n < cap and cut.stopped == (False,)


# --- the repetition safety net -------------------------------------------------------------------------

def test_repetition_run_fires_on_a_few_codes_in_turn_only():
    def fired(codes, window=16):
        run = RepetitionRun(window)
        return [run.feed(c) for c in codes]

    assert not any(fired(range(100)))  # speech: the code changes frame to frame
    assert not any(fired([c % 6 for c in range(100)]))  # six codes in turn: more than a third of the window
    assert fired([5, 6, 7, 5, 8] * 8).index(True) == 15  # "tard, tard, tard": four codes in turn, at the first window
    assert fired([c % 5 for c in range(100)]).index(True) == 15  # five: a third
    held = [9] * 13 + [3, 4, 3]  # one code holds 13 of 16 (a held vowel, a pause): the silence net's business
    assert not any(fired(held * 3))
    assert fired([9] * 12 + [3, 4, 3, 4]).index(True) == 15  # 12 of 16: not held
    assert not any(fired([5, 6] * 50, window=0))  # off


def test_a_segment_that_repeats_a_syllable_ends_early(engine, monkeypatch):
    run = looping_flow(engine, monkeypatch)
    text = "Turn left."
    cap = plan.frame_cap(text, engine.config.frame_rate)
    full = run(engine.synthesize, text, silence_stop_seconds=0)  # the tiny bundle sets no window: off
    assert [len(c) for c in full.codes] == [cap]
    cut = run(engine.synthesize, text, silence_stop_seconds=0, repetition_stop_seconds=1.0)
    window = math.ceil(engine.config.frame_rate)
    assert [len(c) for c in cut.codes] == [window] and cut.stopped == (False,) and window < cap
    np.testing.assert_array_equal(cut.codes[0], full.codes[0][:window])
    streamed = run(lambda: list(engine.stream(text, silence_stop_seconds=0, repetition_stop_seconds=1.0)))
    np.testing.assert_array_equal(np.concatenate([c.samples for c in streamed]), cut.samples)  # stream == batch


@pytest.mark.parametrize("seconds", [-0.5, 61.0, float("nan")])
def test_repetition_window_out_of_range_raises(engine, seconds):
    with pytest.raises(ValueError, match="repetition_stop_seconds"):
        engine.synthesize("Turn left.", repetition_stop_seconds=seconds)

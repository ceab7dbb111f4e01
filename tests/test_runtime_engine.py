"""The runtime engine against the PyTorch reference, and its own invariants (streaming, prefix cache, options)."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_fixtures import TEXT, engine, reference_run, get_engine, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.config import END_AUDIO, SynthesisOptions

FRAMES = 60  # >= 50 frames of identical codes is the parity bar


@pytest.fixture(scope="module")
def reference(tiny_checkpoint_dir):
    """Reference codes and waveform for TEXT, voice casual_male, the given noise (computed with torch)."""
    return reference_run(tiny_checkpoint_dir, FRAMES, seed=11)


def _run(eng, **kw):
    return eng.synthesize(TEXT, voice="casual_male", normalize=False, **kw)


def test_prompt_ids_match_reference_tokenizer(engine, reference):
    ids, p = engine.prompt_ids(TEXT, "casual_male")
    assert ids == reference["ids"]
    assert ids[:2] == [1, 25] and ids[p - 1] == 36 and ids[-2:] == [35, 25]


def test_codes_and_audio_equal_pytorch_reference(engine, reference):
    out = _run(engine, noise=reference["noise"])
    assert out.codes[0].shape == (FRAMES, 37)
    np.testing.assert_array_equal(out.codes[0], reference["codes"])
    assert out.samples.shape == reference["audio"].shape == (FRAMES * engine.samples_per_frame,)
    assert np.abs(out.samples - reference["audio"]).max() <= 1e-4
    assert out.stopped == (False,)  # the tiny checkpoint never emits END: the noise rows ran out


def test_cfg_alpha_one_runs_the_conditional_branch_only_and_equals_reference(tiny_bundle, tiny_checkpoint_dir):
    """The per-step path (flow_velocity calls from NumPy) skips the unconditional half at alpha = 1."""
    engine = get_engine(tiny_bundle, flow_loop=False)
    ref = reference_run(tiny_checkpoint_dir, FRAMES, seed=11, cfg_alpha=1.0)
    calls = []
    vel = engine._flow._vel
    run = vel.run
    engine._flow._vel = type("Spy", (), {"run": lambda self, o, feeds: calls.append(len(feeds["x_t"])) or run(o, feeds),
                                         "get_inputs": vel.get_inputs})()
    try:
        out = _run(engine, noise=ref["noise"], cfg_alpha=1.0)
    finally:
        engine._flow._vel = vel
    np.testing.assert_array_equal(out.codes[0], ref["codes"])
    assert set(calls) == {1}  # batch 1: the unconditional half is skipped


def test_stream_concatenation_equals_synthesize(engine, reference):
    chunks = list(engine.stream(TEXT, voice="casual_male", normalize=False, noise=reference["noise"],
                                first_chunk_frames=2, chunk_frames=7))
    whole = _run(engine, noise=reference["noise"], first_chunk_frames=2, chunk_frames=7)
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), whole.samples)
    assert np.abs(whole.samples - reference["audio"]).max() <= 1e-4
    assert [c.frames for c in chunks] == [2, 4] + [7] * 7 + [5]  # doubling up to chunk_frames, then the rest
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.is_last for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert all(c.sample_rate == 24000 and c.samples.dtype == np.float32 for c in chunks)
    assert chunks[0].t_first == chunks[0].elapsed and chunks[-1].t_first == chunks[0].t_first
    assert all(a.elapsed <= b.elapsed for a, b in zip(chunks, chunks[1:]))


def test_chunking_does_not_change_audio(engine, reference):
    a = _run(engine, noise=reference["noise"], first_chunk_frames=1, chunk_frames=1)
    b = _run(engine, noise=reference["noise"], first_chunk_frames=FRAMES, chunk_frames=FRAMES)
    assert np.abs(a.samples - b.samples).max() <= 1e-5


def test_voice_prefix_cache_equals_no_cache(engine, tiny_bundle, reference):
    uncached = get_engine(tiny_bundle, prefix_cache=False)
    for voice in engine.voices:
        a = engine.synthesize(TEXT, voice=voice, seed=3, max_frames=30)
        b = uncached.synthesize(TEXT, voice=voice, seed=3, max_frames=30)
        np.testing.assert_array_equal(a.codes[0], b.codes[0])
        assert np.abs(a.samples - b.samples).max() <= 1e-5
    assert uncached._prefixes is None and all(v in engine._prefixes for v in engine.voices)


def test_seed_equals_injected_noise_drawn_up_front(engine):
    rows = np.random.default_rng(42).standard_normal((20, 36), dtype=np.float32)
    a = engine.synthesize(TEXT, seed=42, max_frames=20)
    b = engine.synthesize(TEXT, noise=rows)
    np.testing.assert_array_equal(a.codes[0], b.codes[0])
    assert np.array_equal(a.samples, b.samples)
    c = engine.synthesize(TEXT, seed=43, max_frames=20)
    assert not np.array_equal(a.codes[0][:, 1:], c.codes[0][:, 1:])


def test_options_object_and_overrides(engine):
    opts = SynthesisOptions(voice="casual_male", seed=5, max_frames=8, flow_steps=3, cfg_alpha=1.0)
    a = engine.synthesize(TEXT, opts)
    b = engine.synthesize(TEXT, SynthesisOptions(seed=5), voice="casual_male", max_frames=8, flow_steps=3, cfg_alpha=1.0)
    assert np.array_equal(a.samples, b.samples) and a.codes[0].shape == (8, 37)
    c = engine.synthesize(TEXT, opts, flow_steps=7)
    assert not np.array_equal(a.codes[0][:, 1:], c.codes[0][:, 1:])
    with pytest.raises(TypeError):
        engine.synthesize(TEXT, no_such_option=1)
    with pytest.raises(ValueError):
        engine.synthesize(TEXT, flow_steps=0)


def test_end_audio_stops_and_is_neither_decoded_nor_fed_back(engine, monkeypatch, reference):
    """Force END at step 9: 9 frames are emitted and decoded; the END step consumed noise row 9 (docs/model.md#noise-contract)."""
    flow = engine._flow
    real = flow.condition
    calls = []

    def fake(h):
        calls.append(1)
        s, llm = real(h)
        return (END_AUDIO if len(calls) == 10 else s), llm

    monkeypatch.setattr(flow, "condition", fake)
    out = _run(engine, noise=reference["noise"])
    assert out.stopped == (True,) and out.codes[0].shape == (9, 37)
    np.testing.assert_array_equal(out.codes[0], reference["codes"][:9])
    assert out.samples.shape == (9 * engine.samples_per_frame,)
    assert np.abs(out.samples - engine_decode(engine, reference["codes"][:9])).max() <= 1e-5


def engine_decode(eng, codes_p2: np.ndarray) -> np.ndarray:
    (audio,) = eng._codec_session.run(["audio"], {"codes": (codes_p2 - 2)[None].astype(np.int64)})
    return audio[0]


def test_long_text_segments_continue_the_noise_rows(engine, monkeypatch):
    """Segment 0 is ended by END at its 10th step (rows 0-9, END included); segment 1 starts at row 10."""
    first = "The first sentence is long enough that the text front end cannot pack it together with the next one, " \
            "because the two of them are well over three hundred characters in total, which is its limit."
    second = "So this second sentence becomes a request of its own, spoken after the first one, with a fresh codec " \
             "stream and a fresh prompt, but with the noise rows continuing where the first request stopped."
    flow, real, calls = engine._flow, engine._flow.condition, []

    def fake(h):
        calls.append(1)
        s, llm = real(h)
        return (END_AUDIO if len(calls) == 10 else s), llm

    monkeypatch.setattr(flow, "condition", fake)
    out = engine.synthesize(first + " " + second, seed=1, max_frames=30)
    monkeypatch.setattr(flow, "condition", real)
    assert out.segments == (first, second)
    assert [len(c) for c in out.codes] == [9, 20] and out.stopped == (True, False)
    rows = np.random.default_rng(1).standard_normal((30, 36), dtype=np.float32)
    single = engine.synthesize(second, noise=rows[10:])
    np.testing.assert_array_equal(single.codes[0], out.codes[1])
    assert np.array_equal(out.samples[9 * engine.samples_per_frame:], single.samples)


def test_voices_and_defaults(engine):
    assert engine.voices == ("casual_female", "casual_male")
    assert engine.default_voice in engine.voices and engine.sample_rate == 24000
    assert engine.providers["backbone"][-1] == "CPUExecutionProvider"
    a = engine.synthesize(TEXT, max_frames=5)
    b = engine.synthesize(TEXT, voice=engine.default_voice, max_frames=5)
    assert np.array_equal(a.samples, b.samples)


def test_codec_context_defaults_to_the_codec_receptive_field(engine, tiny_bundle):
    """No profile key: the bundle codec's exact minimum (test_chunking_does_not_change_audio runs with it); more is
    allowed, less is refused with a message naming the fix."""
    import vox_edge.runtime as rt
    from vox_edge.device_profiles import load_profile
    from vox_edge.errors import ProfileError

    need = engine.config.codec.min_left_context_frames
    assert engine._left_context == need >= 2
    prof = load_profile("dev-vm-2core-x86")
    assert rt.load(tiny_bundle, prof, verify="none")._left_context == need
    assert rt.load(tiny_bundle, prof.with_runtime(codec_left_context_frames=need + 4), verify="none")._left_context == need + 4
    with pytest.raises(ProfileError, match="receptive field.*Remove the key"):
        rt.load(tiny_bundle, prof.with_runtime(codec_left_context_frames=need - 1), verify="none")

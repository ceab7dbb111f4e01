"""Building blocks of the runtime: float32 arithmetic that must equal the reference's, chunked codec decode,
text segmentation, provider resolution."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_fixtures import engine, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.runtime import plan
from vox_edge.runtime.codec_stream import CodecStream
from vox_edge.runtime.embeddings import blocked_row_sum
from vox_edge.runtime.flow import quantize_fsq, time_grid
from vox_edge.runtime.sessions import ProviderFallbackWarning, resolve_providers


def test_time_grid_equals_torch_linspace_bit_for_bit():
    torch = pytest.importorskip("torch")
    for n in range(1, 65):
        assert np.array_equal(time_grid(n), torch.linspace(0, 1, n + 1).numpy()), n
    assert not np.array_equal(time_grid(7), np.linspace(0, 1, 8).astype(np.float32))  # why it exists


def test_fsq_half_to_even_and_clamp_like_reference():
    x = np.array([-1.5, -1.0, -0.75, -0.25, 0.25, 1.0, 2.0], np.float32)
    assert quantize_fsq(x, 21).tolist() == [0, 0, 2, 8, 12, 20, 20]


def test_code_embedding_sum_equals_torch_order():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for n in (1, 5, 16, 17, 37, 100):
        rows = rng.standard_normal((n, 128)).astype(np.float32)
        assert np.array_equal(blocked_row_sum(rows), torch.from_numpy(rows)[None].sum(dim=-2)[0].numpy()), n


def _decode(eng, codes_m2):
    (audio,) = eng._codec_session.run(["audio"], {"codes": codes_m2[None]})
    return audio[0]


@pytest.fixture(scope="module")
def codes_m2(engine):
    rng = np.random.default_rng(0)
    c = engine.config
    t = 47
    return np.concatenate([rng.integers(0, c.semantic_codebook_size, (t, 1)),
                           rng.integers(0, c.acoustic_codebook_size, (t, c.n_acoustic_codebook))], 1).astype(np.int64)


@pytest.mark.parametrize("first,chunk", [(2, 12), (1, 1), (2, 25), (5, 7), (47, 47)])
def test_streaming_codec_equals_one_shot(engine, codes_m2, first, chunk):
    spf = engine.samples_per_frame
    # the codec's exact minimum of context (the engine's default)
    cs = CodecStream(engine._codec_session, spf, first, chunk, left_context_frames=engine._left_context)
    parts = [a for f in codes_m2 if (a := cs.push(f)) is not None]
    sizes = [p.shape[0] // spf for p in parts]
    parts.append(cs.flush())
    want = []  # first, 2·first, 4·first ... capped at chunk, while the 47 frames last
    while sum(want) + min(chunk, first << len(want)) <= 47:
        want.append(min(chunk, first << len(want)))
    assert sizes == want
    got = np.concatenate(parts)
    assert got.shape == (47 * spf,) and cs.frames_decoded == 47
    assert np.abs(got - _decode(engine, codes_m2)).max() <= 1e-5


def test_streaming_codec_needs_its_left_context(engine, codes_m2):
    cs = CodecStream(engine._codec_session, engine.samples_per_frame, 2, 12, left_context_frames=0)
    got = np.concatenate([a for f in codes_m2 if (a := cs.push(f)) is not None] + [cs.flush()])
    assert np.abs(got - _decode(engine, codes_m2)).max() > 1e-3  # seams differ without context


def test_segments_whatever_the_front_end():
    assert plan.segments("") == [] and plan.segments(" \n ") == []
    segs = plan.segments("One. Two!  Three?\nFour", normalize=False)
    assert "".join(segs).replace(" ", "") == "One.Two!Three?Four"
    for text in ("x" * 1000, "word, " * 500, "Drive on. " * 200):
        segs = plan.segments(text, normalize=False)
        assert all(0 < len(s) <= plan.MAX_SEGMENT_CHARS for s in segs)
        assert "".join(segs).replace(" ", "") == text.replace(" ", "")
    assert plan.segments("a\x00b\x1fc", normalize=False) == ["a b c"]
    assert plan.language_of_voice("fr_male") == "fr" and plan.language_of_voice("casual_male") == "en"


def test_one_splitter_caps_segments_and_sanitises():
    assert [len(s) for s in plan.segments("x" * 1000, normalize=False)] == [300, 300, 300, 100]
    cut = plan.segments("word, " * 100, normalize=False)
    assert all(len(s) <= plan.MAX_SEGMENT_CHARS and s.endswith(",") for s in cut[:-1])
    assert plan.segments(" a\x00b \u200b c\n", normalize=False) == ["a b c"]


def test_resolve_providers_keeps_order_and_warns_for_missing():
    avail = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert resolve_providers(("CUDAExecutionProvider", "CPUExecutionProvider"), avail) == avail
    with pytest.warns(ProviderFallbackWarning, match="QNNExecutionProvider.*onnxruntime-qnn"):
        got = resolve_providers(("QNNExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"), avail)
    assert got == avail
    assert resolve_providers((), avail) == ["CPUExecutionProvider"]


class _FixedShape:
    """A session wrapper that behaves like a fixed-shape export: reports and enforces one input length."""

    def __init__(self, sess, name: str, axis: int, size: int):
        self._sess, self._name, self._axis, self._size = sess, name, axis, size
        self.calls = 0

    def get_inputs(self):
        import types

        out = []
        for i in self._sess.get_inputs():
            shape = list(i.shape)
            if i.name == self._name:
                shape[self._axis] = self._size
            out.append(types.SimpleNamespace(name=i.name, shape=shape, type=i.type))
        return out

    def run(self, names, feed):
        assert feed[self._name].shape[self._axis] == self._size, feed[self._name].shape
        self.calls += 1
        return self._sess.run(names, feed)


def test_fixed_window_codec_is_right_padded_and_exact(engine, codes_m2):
    fixed = _FixedShape(engine._codec_session, "codes", 1, 37)
    cs = CodecStream(fixed, engine.samples_per_frame, 2, 25, left_context_frames=25)
    got = np.concatenate([a for f in codes_m2 if (a := cs.push(f)) is not None] + [cs.flush()])
    assert fixed.calls == 6  # 2, 4, 8, then chunks capped at 37 - 25 = 12 frames: 12, 12 and the last 9
    assert np.abs(got - _decode(engine, codes_m2)).max() <= 1e-5


def test_fixed_length_flow_time_is_padded_for_fewer_steps(engine):
    from vox_edge.runtime.flow import FlowHead

    f = engine._flow
    fixed = _FixedShape(f._time, "t", 0, 7)
    head = FlowHead(f._cond, fixed, f._vel, f.n_acoustic, f.levels, euler=f._euler)
    for n in (3, 7):
        dt, tc, tc2 = head.time_schedule(n)
        ref_dt, ref_tc, ref_tc2 = f.time_schedule(n)
        assert np.array_equal(dt, ref_dt) and np.abs(tc2 - ref_tc2).max() <= 1e-6 and tc2.shape[0] == n
        assert np.array_equal(tc, tc2[:, 0]) and np.array_equal(tc, tc2[:, 1])
    with pytest.raises(ValueError, match="fixed-shape flow_time"):
        head.time_schedule(8)

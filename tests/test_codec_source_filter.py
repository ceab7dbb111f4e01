"""A codec with the `source_filter` output head, end to end on a tiny synthetic checkpoint: the exported graph
equals the PyTorch reference, the runtime's renderer equals the reference's, chunked streaming equals one-shot
decode, and the engine speaks with it."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from vox_edge.config import ModelConfig  # noqa: E402
from vox_edge.runtime import source_filter as rsf  # noqa: E402
from vox_edge.runtime.codec_stream import SourceFilterStream  # noqa: E402

SF = dict(output_head="source_filter", frame_features=10, frame_decoder_dim=16, frame_decoder_hidden_dim=32,
          frame_decoder_layers=2, frame_decoder_kernel=5)


@pytest.fixture(scope="module")
def sf_bundle(tmp_path_factory):
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.synthetic import make_checkpoint

    root = tmp_path_factory.mktemp("source_filter")
    ck = make_checkpoint(root / "ckpt", "tiny", codec=SF)
    export_bundle(ck, root / "bundle", precision="fp32", progress=lambda m: None)
    return ck, root / "bundle"


def _codes(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.integers(0, cfg.semantic_codebook_size, (n, 1)),
                           rng.integers(0, cfg.acoustic_codebook_size, (n, cfg.acoustic_dim))], 1).astype(np.int64)


def _codec_cfg(bundle):
    return ModelConfig.from_params(json.loads((bundle / "manifest.json").read_text())["params"]).codec


def test_config_derives_grid_and_context():
    from vox_edge.export.synthetic_params import make_params

    c = ModelConfig.from_params(make_params("tiny", codec=SF)).codec
    assert c.output_channels == 10
    assert c.frame_grid == 5  # 5 codec frames of 1920 samples = 32 renderer frames of 300
    assert c.right_context_frames >= 1
    plain = ModelConfig.from_params(make_params("tiny")).codec
    assert plain.frame_grid == 1 and plain.right_context_frames == 0
    assert c.min_left_context_frames > plain.min_left_context_frames


@pytest.mark.slow
def test_manifest_declares_the_head_and_passes_the_schema(sf_bundle):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    from vox_edge.manifest import load_manifest

    _, bundle = sf_bundle
    d = json.loads((bundle / "manifest.json").read_text())
    schema = json.loads(resources.files("vox_edge").joinpath("manifest.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(d, schema)
    m = load_manifest(bundle)
    assert m.graphs["codec_decoder"].outputs == ("lh", "theta", "ln", "lr", "phi", "f0")
    assert m.graphs["codec_decoder"].optional_inputs == ("render_from",)  # not context_frames: it returns no audio
    d["graphs"]["codec_decoder"]["outputs"] = ["audio"]  # a runtime that expects audio must refuse it
    (bundle.parent / "wrong").mkdir(exist_ok=True)
    for f in bundle.iterdir():
        if f.is_file() and f.name != "manifest.json":
            (bundle.parent / "wrong" / f.name).write_bytes(f.read_bytes())
    (bundle.parent / "wrong" / "manifest.json").write_text(json.dumps(d))
    from vox_edge.errors import ManifestError

    with pytest.raises(ManifestError, match="I/O names"):
        load_manifest(bundle.parent / "wrong", verify="none")


@pytest.mark.slow
def test_graph_equals_reference_and_renders_like_it(sf_bundle):
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import CodecDecoder, load_codec

    ck, bundle = sf_bundle
    codec = load_codec(Checkpoint.open(ck))
    sess = ort.InferenceSession(str(bundle / "codec_decoder.onnx"))
    assert [o.name for o in sess.get_outputs()] == ["lh", "theta", "ln", "lr", "phi", "f0"]
    for t in (1, 4, 9):
        codes = _codes(codec.cfg, t, seed=t)
        out = sess.run(None, {"codes": codes[None]})
        with torch.no_grad():
            ref = CodecDecoder(codec)(torch.from_numpy(codes)[None])
        n = (t * 1920 + 299) // 300
        for o, r in zip(out, ref):
            assert o.shape[-1] == n
            assert np.allclose(o, r.numpy(), atol=1e-4)
    codes = _codes(codec.cfg, 9, seed=1)
    out = sess.run(None, {"codes": codes[None]})
    noise = rsf.frame_noise(4, 0, out[5].shape[-1])
    mine, _ = rsf.render_window({k: v[0] for k, v in zip(("lh", "theta", "ln", "lr", "phi"), out)}, out[5][0], noise)
    with torch.no_grad():
        latent = torch.cat([codec.semantic_embedding()[torch.from_numpy(codes[:, 0])],
                            (2 * torch.from_numpy(codes[:, 1:]).float()) / (codec.cfg.acoustic_codebook_size - 1) - 1],
                           -1).T[None]
        ref = codec.decode_latent(latent, noise=torch.from_numpy(noise)[None])[0].numpy()
    assert np.allclose(mine[: ref.shape[0]], ref, atol=1e-3 * max(1.0, np.abs(ref).max()))


class _Spy:
    """A session that records the render_from values it was fed."""

    def __init__(self, sess):
        self.sess, self.render_from = sess, []

    def __getattr__(self, name):
        return getattr(self.sess, name)

    def run(self, names, feed):
        if "render_from" in feed:
            self.render_from.append(int(feed["render_from"][0]))
        return self.sess.run(names, feed)


@pytest.mark.slow

def _one_shot(sess, cfg, codes) -> np.ndarray:
    """All frames decoded in one windowed call (the reference every stream must equal)."""
    one = SourceFilterStream(sess, cfg, 1, 1, cfg.min_left_context_frames, seed=9)
    for c in codes:
        one._frames.append(c)
    return one.flush()


@pytest.mark.parametrize("render_from", [False, True])
@pytest.mark.parametrize("first,chunk", [(2, 12), (1, 5), (3, 25)])
def test_streaming_equals_one_shot(sf_bundle, first, chunk, render_from):
    from vox_edge.export.codec_context import frame_decoder_margin

    _, bundle = sf_bundle
    cfg = _codec_cfg(bundle)
    sess = _Spy(ort.InferenceSession(str(bundle / "codec_decoder.onnx")))
    codes = _codes(cfg, 47)
    whole = _one_shot(sess, cfg, codes)
    st = SourceFilterStream(sess, cfg, first, chunk, cfg.min_left_context_frames, seed=9, render_from=render_from)
    parts = [a for a in (st.push(c) for c in codes) if a is not None] + [st.flush()]
    streamed = np.concatenate(parts)
    assert streamed.shape == whole.shape == (47 * cfg.samples_per_frame,)
    assert np.max(np.abs(streamed - whole)) < 1e-5 * max(1.0, np.abs(whole).max())
    assert len(parts) > 2
    # with the input, later windows cut the frame decoder's left context (render_from beyond its margin)
    assert (max(sess.render_from, default=0) > frame_decoder_margin(cfg)) == render_from


@pytest.mark.slow
def test_render_from_returns_the_full_graphs_later_frames(sf_bundle, tmp_path):
    """FP32: frames render_from.. of the full window, whether or not the frame decoder's cut is past 0; INT8 (dynamic
    activation scales over what the graph sees): close to the FP32 graph, no further than the full INT8 window."""
    from vox_edge.export.codec_context import frame_decoder_margin
    from vox_edge.quantize.plan import plan_for, quantize_graph

    _, bundle = sf_bundle
    cfg = _codec_cfg(bundle)
    path = bundle / "codec_decoder.onnx"
    sess = ort.InferenceSession(str(path))
    assert "render_from" in {i.name for i in sess.get_overridable_initializers()}
    codes = _codes(cfg, 30, seed=5)[None]
    full = sess.run(None, {"codes": codes})
    n = full[5].shape[-1]
    margin = frame_decoder_margin(cfg)
    for a in (0, 1, margin, margin + 7, n // 2, n - 1):
        part = sess.run(None, {"codes": codes, "render_from": np.array([a], np.int64)})
        for f, p in zip(full, part):
            assert p.shape[-1] == n - a
            assert np.allclose(p, f[..., a:], atol=1e-5), a
    int8 = tmp_path / "codec_int8.onnx"
    quantize_graph(path, int8, plan_for("codec", "int8", graph="codec_decoder"), None)
    q = ort.InferenceSession(str(int8))
    a = n // 2
    cut = q.run(None, {"codes": codes, "render_from": np.array([a], np.int64)})
    whole = q.run(None, {"codes": codes})
    for f, c, w in zip(full, cut, whole):
        assert c.shape == f[..., a:].shape
        err_cut, err_whole = (float(np.sqrt(np.mean((x - f[..., a:]) ** 2))) for x in (c, w[..., a:]))
        assert err_cut <= 2 * err_whole + 1e-3 * max(1.0, float(np.abs(f).max()))


def test_stream_refuses_too_little_context():
    from vox_edge.export.synthetic_params import make_params

    c = ModelConfig.from_params(make_params("tiny", codec=SF)).codec
    with pytest.raises(ValueError):
        SourceFilterStream(None, c, 2, 12, c.min_left_context_frames - 1)


@pytest.mark.slow
def test_engine_speaks_and_streams_exactly(sf_bundle):
    from vox_edge.runtime import load

    _, bundle = sf_bundle
    e = load(bundle)
    a = e.synthesize("Turn left in 200 meters.", seed=1, max_frames=30)
    b = np.concatenate([c.samples for c in e.stream("Turn left in 200 meters.", seed=1, max_frames=30)])
    assert a.samples.shape == (a.codes[0].shape[0] * e.samples_per_frame,)
    assert np.array_equal(a.samples, b)
    assert np.isfinite(a.samples).all()
    c = e.synthesize("Turn left in 200 meters.", seed=2, max_frames=30)
    assert not np.array_equal(a.samples, c.samples)


@pytest.mark.slow
def test_bundle_has_the_stateful_codec_step(sf_bundle):
    from vox_edge.manifest import codec_step_io, load_manifest

    _, bundle = sf_bundle
    m = load_manifest(bundle)
    cfg = _codec_cfg(bundle)
    assert "codec_step" in m.graphs and list(m.graphs["codec_step"].inputs) == codec_step_io(cfg)[0]


@pytest.mark.slow
def test_codec_step_equals_the_reference_frame_by_frame(sf_bundle):
    """The graph, fed the codes a few frames at a time with its states, returns every renderer frame's parameters
    (27 frames behind at the v2 dims) and f0 as the one-shot reference decode, up to the stream's end."""
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.codec_context import frame_decoder_margin
    from vox_edge.export.torch_graphs import CodecDecoder, load_codec
    from vox_edge.manifest import codec_step_io, codec_step_states
    from vox_edge.runtime.codec_stream import step_final_plan, step_resample_plan

    ck, bundle = sf_bundle
    codec = load_codec(Checkpoint.open(ck))
    cfg = codec.cfg
    step = ort.InferenceSession(str(bundle / "codec_step.onnx"))
    codes = _codes(cfg, 23, seed=3)
    with torch.no_grad():
        ref = [r.numpy()[0] for r in CodecDecoder(codec)(torch.from_numpy(codes)[None])]
    names = codec_step_io(cfg)[0]
    states = [np.zeros(s, np.float32) for _, s in codec_step_states(cfg)]
    delay = frame_decoder_margin(cfg)
    pos, got, f0 = 0, [], []
    for m in (1, 2, 5, 3, 8, 4):
        if pos + m < 23:
            first, lo, hi, w = step_resample_plan(cfg, pos, m)
            end = 1 << 40
        else:  # the last call: the resampling's clamp and the frame decoder's zero padding after the last frame
            first, lo, hi, w, end = step_final_plan(cfg, pos, 23, delay)
        out = step.run(None, dict(zip(names, [codes[None, pos:pos + m], np.array([pos]), lo, hi, w, np.array([first]),
                                              np.array([end]), *states])))
        states, pos = out[6:], pos + m
        got.append(out[:5])
        f0.append(out[5][0])
    n = ref[5].shape[-1]
    f0 = np.concatenate(f0)
    assert len(f0) == n + delay  # every renderer frame, then the padding rows
    assert np.allclose(f0[:n], ref[5], atol=1e-3, rtol=1e-4)
    for k in range(5):
        p = np.concatenate([g[k][0] for g in got], axis=1)[:, delay:]
        assert p.shape[1] == n  # the frame decoder's delayed output reaches the last frame
        assert np.allclose(p, ref[k], atol=1e-4), k


@pytest.mark.slow
@pytest.mark.parametrize("first,chunk", [(2, 12), (1, 5), (3, 25)])
def test_step_stream_equals_one_shot(sf_bundle, first, chunk):
    from vox_edge.runtime.codec_stream import StepSourceFilterStream

    _, bundle = sf_bundle
    cfg = _codec_cfg(bundle)
    window = ort.InferenceSession(str(bundle / "codec_decoder.onnx"))
    step = _Spy(ort.InferenceSession(str(bundle / "codec_step.onnx")))
    codes = _codes(cfg, 47)
    whole = _one_shot(window, cfg, codes)
    st = StepSourceFilterStream(step, window, cfg, first, chunk, cfg.min_left_context_frames, seed=9, render_from=True)
    calls = []
    step.run = lambda names, feed, run=step.run: calls.append(feed["codes"].shape[1]) or run(names, feed)
    parts = [a for a in (st.push(c) for c in codes) if a is not None] + [st.flush()]
    streamed = np.concatenate(parts)
    assert streamed.shape == whole.shape == (47 * cfg.samples_per_frame,)
    assert np.max(np.abs(streamed - whole)) < 1e-4 * max(1.0, np.abs(whole).max())
    assert len(parts) > 2 and calls and sum(calls) <= 48  # each frame through the step graph once (+1 at the end)
    window_calls = []
    window.run = lambda *a: window_calls.append(1)
    st = StepSourceFilterStream(step, window, cfg, first, chunk, cfg.min_left_context_frames, seed=9)
    short = [a for a in (st.push(c) for c in codes[:5]) if a is not None] + [st.flush()]
    assert np.concatenate(short).shape == (5 * cfg.samples_per_frame,) and not window_calls  # the step graph only


@pytest.mark.slow
def test_engine_streams_with_codec_step_like_the_windowed_codec(sf_bundle):
    from vox_edge.runtime import load
    from vox_edge.runtime.codec_stream import StepSourceFilterStream

    _, bundle = sf_bundle
    e = load(bundle)
    assert e._codec_step is not None
    assert isinstance(e._codec_stream(e._resolve(None, {})[1], 0), StepSourceFilterStream)
    a = e.synthesize("Turn left in 200 meters.", seed=1, max_frames=30)
    e._codec_step = None  # the windowed stream, as a bundle without the graph runs
    b = e.synthesize("Turn left in 200 meters.", seed=1, max_frames=30)
    assert np.array_equal(a.codes[0], b.codes[0])
    assert np.max(np.abs(a.samples - b.samples)) < 1e-4 * max(1.0, np.abs(b.samples).max())


@pytest.fixture(scope="module")
def sf_step_bundle(sf_bundle, tmp_path_factory):
    """The same checkpoint exported with the codec option 'steponly': codec_step alone (manifest schema 4)."""
    from vox_edge.export.bundle import export_bundle

    ck, _ = sf_bundle
    out = tmp_path_factory.mktemp("source_filter_step") / "bundle"
    return export_bundle(ck, out, precision="fp32", per_component={"codec": "fp32-steponly"}, progress=lambda m: None)


@pytest.mark.slow
def test_a_step_only_bundle_carries_codec_step_alone(sf_bundle, sf_step_bundle):
    from vox_edge.manifest import COMPACT_SCHEMA_VERSION, load_manifest

    _, full = sf_bundle
    m, mf = load_manifest(sf_step_bundle), load_manifest(full)
    assert "codec_decoder" not in m.graphs and "codec_step" in m.graphs and "codec_decoder" in mf.graphs
    assert m.data["schema_version"] == COMPACT_SCHEMA_VERSION > mf.data["schema_version"]
    assert not (sf_step_bundle / "codec_decoder.onnx").exists()
    assert set(m.data["files"]) == set(mf.data["files"]) - {"codec_decoder.onnx"}
    assert m.data["graphs"]["codec_step"]["extra_files"] == ["codec.onnx.data"]
    # the windowed graph's own weights (its ConvTranspose matrices) are gone, the step graph's all there
    assert (sf_step_bundle / "codec.onnx.data").stat().st_size < (full / "codec.onnx.data").stat().st_size
    assert m.data["files"]["codec.onnx.data"]["size"] == (sf_step_bundle / "codec.onnx.data").stat().st_size


@pytest.mark.slow
@pytest.mark.parametrize("first,chunk", [(2, 12), (1, 5)])
def test_step_only_streaming_equals_batch_and_the_windowed_codec(sf_bundle, sf_step_bundle, first, chunk):
    """Without a windowed graph: chunks == all frames through one flush (the batch decode of the step graph), and
    both == the full bundle's one-shot windowed decode."""
    from vox_edge.runtime.codec_stream import StepSourceFilterStream

    _, full = sf_bundle
    cfg = _codec_cfg(sf_step_bundle)
    step = ort.InferenceSession(str(sf_step_bundle / "codec_step.onnx"))
    codes = _codes(cfg, 47, seed=3)
    batch = StepSourceFilterStream(step, None, cfg, 1, 1, cfg.min_left_context_frames, seed=9)
    batch._frames.extend(codes)
    whole = batch.flush()
    st = StepSourceFilterStream(step, None, cfg, first, chunk, cfg.min_left_context_frames, seed=9)
    parts = [a for a in (st.push(c) for c in codes) if a is not None] + [st.flush()]
    streamed = np.concatenate(parts)
    assert len(parts) > 2 and streamed.shape == whole.shape == (47 * cfg.samples_per_frame,)
    assert np.max(np.abs(streamed - whole)) < 1e-4 * max(1.0, np.abs(whole).max())
    windowed = _one_shot(ort.InferenceSession(str(full / "codec_decoder.onnx")), cfg, codes)
    assert np.max(np.abs(whole - windowed)) < 1e-4 * max(1.0, np.abs(windowed).max())


@pytest.mark.slow
def test_engine_on_a_step_only_bundle_speaks_as_the_full_one(sf_bundle, sf_step_bundle):
    from vox_edge.runtime import load
    from vox_edge.runtime.codec_stream import StepSourceFilterStream

    _, full = sf_bundle
    e, ef = load(sf_step_bundle), load(full)
    assert e._codec_session is None and e._codec_step is not None
    assert isinstance(e._codec_stream(e._resolve(None, {})[1], 0), StepSourceFilterStream)
    a = e.synthesize("Turn left in 200 meters.", seed=1, max_frames=30)
    b = ef.synthesize("Turn left in 200 meters.", seed=1, max_frames=30)
    streamed = np.concatenate([c.samples for c in e.stream("Turn left in 200 meters.", seed=1, max_frames=30)])
    assert np.array_equal(a.codes[0], b.codes[0]) and np.array_equal(a.samples, streamed)
    assert np.max(np.abs(a.samples - b.samples)) <= 1e-6 * max(1.0, np.abs(b.samples).max())

"""The NPU export target (export/npu_graphs.py, export/npu_target.py) and the runtime's fixed-capacity KV cache
(runtime/static_cache.py), on the CPU provider: no NPU wheel needed."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from npu_fixtures import CONTEXT, PREFILL_CHUNK, npu_bundle
from runtime_fixtures import TEXT, tiny_checkpoint_dir  # noqa: F401

from vox_edge.errors import ExportError
from vox_edge.manifest import load_manifest


def _session(path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def test_static_backbone_equals_the_growing_one(tiny_checkpoint_dir, tmp_path):  # noqa: F811
    """Chunked prefill (with a padded last chunk) and padded single-frame steps through the fixed-shape graph give
    the hidden states and cache of the standard FP32 backbone."""
    from vox_edge.export.backbone_graph import BackboneOptions, export_backbone
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.npu_graphs import export_npu_backbone
    from vox_edge.runtime.backbone import Backbone

    ckpt = Checkpoint.open(tiny_checkpoint_dir)
    cfg = ckpt.config
    (tmp_path / "npu").mkdir()
    export_npu_backbone(ckpt, tmp_path / "npu", seq_len=4, context=24, progress=lambda m: None)
    export_backbone(ckpt, tmp_path / "grow", BackboneOptions.from_spec("fp32-plain"), progress=lambda m: None)
    static = Backbone(_session(tmp_path / "npu" / "backbone.onnx"), cfg, "static", static_shapes=True)
    grow = Backbone(_session(tmp_path / "grow" / "backbone.onnx"), cfg, "grow")
    rng = np.random.default_rng(0)
    prompt = rng.standard_normal((1, 10, cfg.dim), dtype=np.float32)  # chunks of 4, 4 and a padded 2
    steps = [rng.standard_normal((1, 1, cfg.dim), dtype=np.float32) for _ in range(5)]
    a, b = static.cache(static.empty_past()), grow.cache(grow.empty_past())
    got, want = [a.step(prompt)], [b.step(prompt)]
    for e in steps:
        got.append(a.step(e))
        want.append(b.step(e))
    np.testing.assert_allclose(np.concatenate(got, 1), np.concatenate(want, 1), atol=2e-4, rtol=0)
    assert a.length == b.length == 15
    for x, y in zip(a.past(), b.past()):
        np.testing.assert_allclose(x, y, atol=2e-4, rtol=0)
    with pytest.raises(RuntimeError, match="fixed capacity 24"):
        a.step(rng.standard_normal((1, 10, cfg.dim), dtype=np.float32))


def test_unknown_target_is_refused(tiny_checkpoint_dir, tmp_path):  # noqa: F811
    from vox_edge.export.bundle import export_bundle

    with pytest.raises(ExportError, match="qnn-htp"):
        export_bundle(tiny_checkpoint_dir, tmp_path / "b", target="hexagon", progress=lambda m: None)
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
@pytest.mark.parametrize("target", ["qnn-htp", "openvino"])
def test_npu_bundle_is_fixed_shape_standard_ops_and_speaks(target, tiny_checkpoint_dir, tmp_path_factory,  # noqa: F811
                                                           capsys):
    from vox_edge.cli import main
    from vox_edge.runtime.engine import Engine

    bundle = npu_bundle(tiny_checkpoint_dir, tmp_path_factory.getbasetemp(), target)
    m = load_manifest(bundle)
    assert m.target == {"name": target, "seq_len": PREFILL_CHUNK, "context": CONTEXT, "codec_frames": 37}
    assert "flow_euler" not in m.graphs  # the Euler loop stays in the runtime: NPU providers take no ONNX Loop
    assert m.graphs["backbone"].kv_cache == "static"
    qdq = 0
    activations = {}  # graph -> the activation types its QuantizeLinear nodes quantise to
    for name, g in m.graphs.items():
        model = onnx.load(str(m.path(g.file)), load_external_data=False)
        assert {n.domain for n in model.graph.node} <= {"", "ai.onnx"}, f"{name}: a contrib op"
        assert not {"Loop", "If", "Scan"} & {n.op_type for n in model.graph.node}, name
        for i in model.graph.input:
            assert all(d.HasField("dim_value") for d in i.type.tensor_type.shape.dim), f"{name}.{i.name} not fixed"
        n_q = sum(n.op_type == "QuantizeLinear" for n in model.graph.node)
        assert (g.precision == "fp32") == (n_q == 0), f"{name}: manifest says {g.precision}, {n_q} QuantizeLinear"
        if n_q:
            zero_points = {t.name: t.data_type for t in model.graph.initializer}
            found = {zero_points[n.input[2]] for n in model.graph.node if n.op_type == "QuantizeLinear"}
            activations[name] = {onnx.TensorProto.UINT8: "u8", onnx.TensorProto.UINT16: "u16"}.get(found.pop(), "?")
            recorded = m.data["graphs"][name].get("activations")  # the manifest's record of it
            assert not found and recorded == activations[name], (name, recorded, activations[name])
        qdq += n_q
    assert qdq > 0
    # qnn-htp: every graph A16W8. openvino (export/npu_target.py KEEP_FP32, QUANT_GRAPH): flow_condition FP32, the
    # backbone and flow_velocity A16W8 (at A8W8 the trained voice v2 missed the ladder: semantic 0.90, acoustic +-1
    # 0.84), the rest A8W8
    want = {"qnn-htp": dict.fromkeys(m.graphs, "u16"),
            "openvino": {"backbone": "u16", "flow_time": "u8", "flow_velocity": "u16", "codec_decoder": "u8"}}[target]
    assert activations == want, activations
    assert main(["info", str(bundle), "--verify", "size"]) == 0
    assert f"target      {target} (fixed shapes: {PREFILL_CHUNK} positions" in capsys.readouterr().out
    audio = Engine(m, None).synthesize(TEXT, max_frames=20, seed=1)  # the CPU provider runs the NPU bundle too
    assert audio.samples.size == 20 * m.config.samples_per_frame and np.isfinite(audio.samples).all()


@pytest.mark.slow
def test_fixed_window_source_filter_codec_streams_like_the_dynamic_one(tmp_path_factory):
    """A source_filter codec at a fixed window (right-padded, `frame_mask` marking the real frames) streams the
    audio of the dynamic-T graph: the padding reaches neither the resampling nor the centred frame decoder."""
    from npu_fixtures import source_filter_checkpoint

    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import STATIC_CODEC_FRAMES, export_fp32, graph_module, load_codec
    from vox_edge.runtime.codec_stream import FRAME_MASK, SourceFilterStream

    ckpt = Checkpoint.open(source_filter_checkpoint(tmp_path_factory.getbasetemp()))
    cfg, out = ckpt.config, tmp_path_factory.mktemp("sf_window")
    wrapped = graph_module("codec_decoder", None, load_codec(ckpt))
    audio = {}
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.integers(0, cfg.codec.semantic_codebook_size, (23, 1)),
                            rng.integers(0, cfg.codec.acoustic_codebook_size, (23, cfg.codec.acoustic_dim))], 1)
    for static in (False, True):
        sess = _session(export_fp32(wrapped, "codec_decoder", cfg, out / f"codec_{static}.onnx", static_shapes=static))
        assert (FRAME_MASK in {i.name for i in sess.get_inputs()}) == static
        stream = SourceFilterStream(sess, cfg.codec, 2, 12, cfg.codec.min_left_context_frames, seed=1)
        parts = [a for c in codes if (a := stream.push(c)) is not None]
        audio[static] = np.concatenate([*parts, stream.flush()])
        if static:  # the window holds grid alignment, context, the new frames and the lookahead
            c = cfg.codec
            assert stream._chunk == min(12, STATIC_CODEC_FRAMES - c.min_left_context_frames - (c.frame_grid - 1)
                                        - c.right_context_frames)
    assert audio[True].shape == audio[False].shape == (23 * cfg.samples_per_frame,)
    np.testing.assert_allclose(audio[True], audio[False], atol=1e-4 * float(np.abs(audio[False]).max()), rtol=0)


@pytest.mark.slow
def test_split_source_filter_codec_streams_like_the_one_graph_codec(tmp_path_factory):
    """qnn-htp's split codec (export/npu_codec_split.py: codec_trunk FP32 on the CPU, the frame decoder its own
    graph) streamed through runtime SplitCodec equals the one fixed-window codec graph (FP32, CPU provider): the
    split is a cut, not an approximation; the trunk's entry places it on the CPU with the reason."""
    from npu_fixtures import voiced_source_filter_checkpoint

    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.npu_codec_split import CODEC_TRUNK, export_split_codec
    from vox_edge.export.npu_graphs import fold_for_npu
    from vox_edge.export.torch_graphs import STATIC_CODEC_FRAMES, export_fp32, graph_module, load_codec
    from vox_edge.runtime.codec_stream import SourceFilterStream
    from vox_edge.runtime.source_filter import SplitCodec

    ckpt = Checkpoint.open(voiced_source_filter_checkpoint(tmp_path_factory.getbasetemp()))
    cfg, out = ckpt.config, tmp_path_factory.mktemp("sf_split")
    codec = load_codec(ckpt)
    export_fp32(graph_module("codec_decoder", None, codec), "codec_decoder", cfg, out / "whole.onnx",
                static_shapes=True)
    whole = _session(fold_for_npu(out / "whole.onnx", out / "whole.folded.onnx"))  # as the export folds both
    (out / "split").mkdir()
    entries = export_split_codec(codec, cfg, STATIC_CODEC_FRAMES, out, out / "split", progress=lambda m: None)
    assert set(entries) == {CODEC_TRUNK, "codec_decoder"}
    assert entries[CODEC_TRUNK]["placement"] == "cpu" and "f0" in entries[CODEC_TRUNK]["placement_reason"]
    assert "placement" not in entries["codec_decoder"]
    split = SplitCodec(_session(out / "split" / "codec_trunk.onnx"), _session(out / "split" / "codec_decoder.onnx"))
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.integers(0, cfg.codec.semantic_codebook_size, (23, 1)),
                            rng.integers(0, cfg.codec.acoustic_codebook_size, (23, cfg.codec.acoustic_dim))], 1)
    audio = []
    for sess in (whole, split):
        stream = SourceFilterStream(sess, cfg.codec, 2, 12, cfg.codec.min_left_context_frames, seed=1)
        parts = [a for c in codes if (a := stream.push(c)) is not None]
        audio.append(np.concatenate([*parts, stream.flush()]))
    assert audio[0].shape == (23 * cfg.samples_per_frame,) and np.abs(audio[0]).max() > 0
    np.testing.assert_allclose(audio[1], audio[0], atol=1e-4 * float(np.abs(audio[0]).max()), rtol=0)


def test_htp_decomposition_of_layer_norm_and_erf(tmp_path):
    """decompose_for_htp: LayerNormalization as primitives (exact), Erf in GELU's tanh form (within 4e-4); no
    LayerNormalization / Erf left (the HTP refuses both in the source_filter codec's frame decoder)."""
    from onnx import TensorProto, helper, numpy_helper

    from vox_edge.export.npu_graphs import decompose_for_htp

    rng = np.random.default_rng(0)
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("LayerNormalization", ["x", "w", "b"], ["ln"], epsilon=1e-5, axis=-1),
         helper.make_node("Erf", ["ln"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 7, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 7, 16])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save_model(model, str(tmp_path / "before.onnx"))
    assert decompose_for_htp(model) == 2
    assert not {"LayerNormalization", "Erf"} & {n.op_type for n in model.graph.node}
    onnx.checker.check_model(model)
    onnx.save_model(model, str(tmp_path / "after.onnx"))
    x = 3 * rng.standard_normal((1, 7, 16)).astype(np.float32)
    (want,) = _session(tmp_path / "before.onnx").run(None, {"x": x})
    (got,) = _session(tmp_path / "after.onnx").run(None, {"x": x})
    np.testing.assert_allclose(got, want, atol=4e-4, rtol=0)


def test_htp_rewrite_of_constant_index_gather_nd(tmp_path):
    """decompose_for_htp: GatherND with constant [N, 1] indices (whole slices along axis 0; the source_filter head's
    resampling, which the HTP ran wrong on uint16 data) becomes Gather(axis 0) with the same output; a GatherND with
    runtime indices, or with indices into more than one axis, is kept."""
    from onnx import TensorProto, helper, numpy_helper

    from vox_edge.export.npu_graphs import decompose_for_htp

    rows = np.array([[0], [1], [1], [3], [-1]], np.int64)
    pairs = np.array([[0, 0], [2, 0]], np.int64)
    graph = helper.make_graph(
        [helper.make_node("GatherND", ["x", "rows"], ["a"], batch_dims=0),
         helper.make_node("GatherND", ["x", "pairs"], ["b"]),
         helper.make_node("GatherND", ["x", "idx"], ["c"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 1, 3]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, [2, 1])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, s) for o, s in zip("abc", ([5, 1, 3], [2, 3], [2, 1, 3]))],
        [numpy_helper.from_array(rows, "rows"), numpy_helper.from_array(pairs, "pairs")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, str(tmp_path / "before.onnx"))
    assert decompose_for_htp(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Gather", "GatherND", "GatherND"]
    assert "rows" not in {t.name for t in model.graph.initializer}
    onnx.checker.check_model(model)
    onnx.save_model(model, str(tmp_path / "after.onnx"))
    feed = {"x": np.random.default_rng(0).standard_normal((4, 1, 3)).astype(np.float32),
            "idx": np.array([[2], [0]], np.int64)}
    want = _session(tmp_path / "before.onnx").run(None, feed)
    got = _session(tmp_path / "after.onnx").run(None, feed)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


def test_codec_distances_tell_phase_from_spectrum():
    """npu_codec_parity's measures: a tone whose phase drifts (as a source_filter pulse train does when f0 is a
    little off) loses the waveform SNR but keeps its log-mel spectrum; a wrong loudness loses both."""
    from vox_edge.export.npu_codec_parity import codec_distances

    t = np.arange(24_000) / 24_000
    ref = np.sin(2 * np.pi * 150 * t)
    drift = codec_distances(ref, np.sin(2 * np.pi * 150 * t + 2 * np.pi * 2 * t))  # 2 turns of drift in 1 s
    assert drift["snr_db"] < 0 and drift["mel_snr_db"] > 20, drift
    loud = codec_distances(ref, 0.5 * ref)
    assert abs(loud["snr_db"] - 6.02) < 0.01 and abs(loud["mel_snr_db"] - 6.02) < 0.01, loud
    assert drift["logmel_l1"] < loud["logmel_l1"], (drift, loud)
    assert codec_distances(ref, ref)["snr_db"] > 200

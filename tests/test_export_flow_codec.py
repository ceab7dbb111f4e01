"""Flow and codec ONNX graphs (export/torch_graphs.py) against the PyTorch reference, FP32, on `tiny`."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from vox_edge.export.checkpoint import Checkpoint
from vox_edge.export.torch_graphs import STATIC_CODEC_FRAMES, export_component_graphs, load_acoustic, load_codec
from vox_edge.manifest import GRAPH_IO
from vox_edge.quantize.agreement import FlowGraphs, euler_codes, session

torch.set_num_threads(2)
GRAPHS = ("flow_condition", "flow_time", "flow_velocity", "codec_decoder")


@pytest.fixture(scope="module")
def ckpt(tiny_checkpoint):
    return Checkpoint.open(tiny_checkpoint)


@pytest.fixture(scope="module")
def exported(ckpt, tmp_path_factory):
    out = tmp_path_factory.mktemp("graphs")
    info = export_component_graphs(ckpt, out, {"acoustic": "fp32", "codec": "fp32"}, progress=lambda m: None)
    return out, info


@pytest.fixture(scope="module")
def ref(ckpt):
    return load_acoustic(ckpt), load_codec(ckpt)


def random_codes(cfg, t: int, seed: int) -> np.ndarray:
    """int64 [1,T,1+A] in -2 space."""
    rng = np.random.default_rng(seed)
    sem = rng.integers(0, cfg.codec.semantic_codebook_size, (1, t, 1))
    ac = rng.integers(0, cfg.codec.acoustic_codebook_size, (1, t, cfg.codec.acoustic_dim))
    return np.concatenate([sem, ac], -1).astype(np.int64)


def test_graphs_pass_checker_load_in_ort_and_follow_the_contract(exported):
    out, info = exported
    # codec_step: source_filter only; codec_trunk: a source_filter codec split for an NPU target
    assert set(info) == set(GRAPH_IO) - {"backbone", "backbone_prefill", "codec_step", "codec_trunk"}
    for name, e in info.items():
        assert e["file"] == f"{name}.onnx" and e["precision"] == "fp32" and e["static_shapes"] is False
        assert (e["inputs"], e["outputs"]) == tuple(map(list, GRAPH_IO[name]))
        onnx.checker.check_model(str(out / e["file"]), full_check=True)
        s = session(out / e["file"])
        assert [i.name for i in s.get_inputs()] == e["inputs"]
        assert [o.name for o in s.get_outputs()] == e["outputs"]
        assert onnx.load(str(out / e["file"])).opset_import[0].version == e["opset"]
    assert not list(out.glob(".fp32-*")), "scratch folder left behind"


def test_export_loads_no_backbone(ckpt, tmp_path, monkeypatch):
    import vox_edge.export.checkpoint as cp

    monkeypatch.setattr(cp, "load_reference_model", lambda *a, **k: pytest.fail("backbone loaded"))
    info = export_component_graphs(ckpt, tmp_path, {"acoustic": "fp32"}, graphs=("flow_time",), progress=lambda m: None)
    assert (tmp_path / info["flow_time"]["file"]).is_file()


@pytest.mark.parametrize("batch", [1, 2])
def test_flow_graphs_match_reference(exported, ref, ckpt, batch):
    out, _ = exported
    acoustic, _ = ref
    cfg = ckpt.config
    g = torch.Generator().manual_seed(batch)
    h = torch.randn(batch, cfg.dim, generator=g)
    with torch.no_grad():
        want_logits, want_llm = acoustic.semantic_logits(h).numpy(), acoustic.llm_projection(h).numpy()
        logits, llm = session(out / "flow_condition.onnx").run(None, {"hidden": h.numpy()})
        assert logits.dtype == np.float32 and logits.shape == (batch, cfg.semantic_head_width)
        masked = np.isneginf(logits)
        assert masked[:, 0].all() and masked[:, cfg.semantic_vocab:].all() and not masked[:, 1:cfg.semantic_vocab].any()
        assert np.array_equal(masked, np.isneginf(want_logits))
        assert np.abs(logits[~masked] - want_logits[~masked]).max() <= 1e-5
        assert np.abs(llm - want_llm).max() <= 1e-5

        t = torch.rand(batch, generator=g)
        got = session(out / "flow_time.onnx").run(None, {"t": t.numpy()})[0]
        assert np.abs(got - acoustic.time_condition(t).numpy()).max() <= 1e-5

        x, tc, lc = (torch.randn(batch, n, generator=g) for n in (cfg.n_acoustic_codebook, cfg.dim, cfg.dim))
        got = session(out / "flow_velocity.onnx").run(None, {"x_t": x.numpy(), "time_cond": tc.numpy(), "llm_cond": lc.numpy()})[0]
        assert np.abs(got - acoustic.velocity(x, tc, lc).numpy()).max() <= 1e-5


def test_velocity_runs_the_last_layer_for_the_read_position_only(ref, ckpt):
    """velocity() computes the last layer's query/wo/FFN for position 0 alone; that is position 0 of the full layer."""
    acoustic, _ = ref
    cfg = ckpt.config
    g = torch.Generator().manual_seed(7)
    x, tc, lc = (torch.randn(2, n, generator=g) for n in (cfg.n_acoustic_codebook, cfg.dim, cfg.dim))
    with torch.no_grad():
        seq = torch.stack([acoustic.input_projection(x), tc, lc], dim=1)  # [2,3,D]
        for layer in acoustic.layers.values():
            seq = layer(seq)  # every position, every layer
        full = acoustic.acoustic_codebook_output(acoustic.norm(seq)[:, 0])
        assert torch.allclose(acoustic.velocity(x, tc, lc), full, atol=1e-6, rtol=0)


def test_norms_export_in_the_pattern_ort_fuses(exported, ckpt, tmp_path):
    """torch.rsqrt exports as Reciprocal(Sqrt); rewritten to Div, ORT fuses each RMSNorm into one node."""
    import onnxruntime as ort

    out, _ = exported
    n_norms = {"flow_velocity": 2 * ckpt.config.acoustic.n_layers + 1}
    for name in ("flow_velocity", "codec_decoder"):
        assert not [n for n in onnx.load(str(out / f"{name}.onnx")).graph.node if n.op_type == "Reciprocal"]
        so = ort.SessionOptions()
        so.optimized_model_filepath = str(tmp_path / f"{name}.opt.onnx")
        ort.InferenceSession(str(out / f"{name}.onnx"), so, providers=["CPUExecutionProvider"])
        opt = onnx.load(str(tmp_path / f"{name}.opt.onnx"), load_external_data=False)  # its weights: out/*.data
        fused = [n for n in opt.graph.node if "SimplifiedLayerNormalization" in n.op_type]
        assert len(fused) == n_norms.get(name, len(fused)) and fused


@pytest.mark.parametrize("frames", [1, 7, 40])
def test_codec_graph_matches_reference(exported, ref, ckpt, frames):
    out, _ = exported
    _, codec = ref
    codes = random_codes(ckpt.config, frames, seed=frames)
    got = session(out / "codec_decoder.onnx").run(None, {"codes": codes})[0]
    with torch.no_grad():
        want = codec.decode(torch.from_numpy(codes)).numpy()
    assert got.shape == (1, frames * ckpt.config.samples_per_frame)
    assert np.abs(got - want).max() <= 1e-4


def test_numpy_euler_loop_reproduces_reference_codes(exported, ref, ckpt):
    """docs/model.md#acoustic-step with injected noise: every code of 60 frames identical to decode_frame."""
    out, _ = exported
    acoustic, _ = ref
    cfg = ckpt.config
    g = torch.Generator().manual_seed(7)
    n = 60
    h = torch.randn(n, cfg.dim, generator=g)
    noise = torch.randn(n, cfg.n_acoustic_codebook, generator=g)
    with torch.no_grad():
        want = torch.cat([acoustic.decode_frame(h[f:f + 1], noise[f:f + 1], cfg.acoustic.n_decoding_steps, 1.2)
                          for f in range(n)]).numpy()
    got = euler_codes(FlowGraphs.load(out), h.numpy(), noise.numpy(), cfg.acoustic.n_decoding_steps,
                      cfg.acoustic_codebook_size)
    assert len(np.unique(want[:, 0])) > 5  # the semantic head is exercised, not constant
    np.testing.assert_array_equal(got, want)


def test_streaming_codec_equals_one_shot(exported, ref, ckpt):
    """[left context 25 + new frames] per call, context samples dropped; chunks 2 then 12."""
    out, _ = exported
    _, codec = ref
    spf, ctx = ckpt.config.samples_per_frame, 25
    codes = random_codes(ckpt.config, 64, seed=3)
    s = session(out / "codec_decoder.onnx")
    one_shot = s.run(None, {"codes": codes})[0]
    pieces, start, sizes = [], 0, [2]
    while start < codes.shape[1]:
        n = sizes[0] if not pieces else 12
        c = min(ctx, start)
        wav = s.run(None, {"codes": codes[:, start - c:start + n]})[0]
        pieces.append(wav[:, c * spf:])
        start += n
    streamed = np.concatenate(pieces, 1)
    assert streamed.shape == one_shot.shape
    assert np.abs(streamed - one_shot).max() <= 1e-4
    with torch.no_grad():
        want = codec.decode_stream(torch.from_numpy(codes), (2, 12), ctx).numpy()
    assert np.abs(streamed - want).max() <= 1e-4


def test_static_shapes_variant(ckpt, ref, tmp_path):
    """NPU EPs need fixed shapes: CFG batch 2 for the velocity, one 25+12-frame window for the codec."""
    info = export_component_graphs(ckpt, tmp_path, {"acoustic": "fp32", "codec": "fp32"}, static_shapes=True,
                                   graphs=("flow_velocity", "codec_decoder"), progress=lambda m: None)
    assert all(e["static_shapes"] for e in info.values())
    for name, e in info.items():
        m = onnx.load(str(tmp_path / e["file"]))
        for vi in list(m.graph.input) + list(m.graph.output):
            dims = vi.type.tensor_type.shape.dim
            assert all(d.HasField("dim_value") for d in dims), f"{name}.{vi.name} has a symbolic dim"
    acoustic, codec = ref
    cfg = ckpt.config
    codes = random_codes(cfg, STATIC_CODEC_FRAMES, seed=11)
    got = session(tmp_path / "codec_decoder.onnx").run(None, {"codes": codes})[0]
    with torch.no_grad():
        assert np.abs(got - codec.decode(torch.from_numpy(codes)).numpy()).max() <= 1e-4
        x, tc, lc = (torch.randn(2, n) for n in (cfg.n_acoustic_codebook, cfg.dim, cfg.dim))
        got = session(tmp_path / "flow_velocity.onnx").run(None, {"x_t": x.numpy(), "time_cond": tc.numpy(), "llm_cond": lc.numpy()})[0]
        assert np.abs(got - acoustic.velocity(x, tc, lc).numpy()).max() <= 1e-5


def test_large_weights_go_to_external_data(ckpt, tmp_path, monkeypatch):
    import vox_edge.quantize.onnx_io as io

    monkeypatch.setattr(io, "EXTERNAL_DATA_THRESHOLD", 1)  # as if the graph were > 1 GiB
    info = export_component_graphs(ckpt, tmp_path, {"acoustic": "int8"}, graphs=("flow_velocity",), progress=lambda m: None)
    e = info["flow_velocity"]
    assert e["extra_files"] == ["flow_velocity.onnx.data"] and (tmp_path / e["extra_files"][0]).stat().st_size > 0
    onnx.checker.check_model(str(tmp_path / e["file"]))
    cfg = ckpt.config
    feed = {"x_t": np.zeros((2, cfg.n_acoustic_codebook), np.float32), "time_cond": np.ones((2, cfg.dim), np.float32),
            "llm_cond": np.ones((2, cfg.dim), np.float32)}
    assert np.isfinite(session(tmp_path / e["file"]).run(None, feed)[0]).all()

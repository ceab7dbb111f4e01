"""PyTorch codec reference (export/reference/codec.py) against docs/model.md#codec (names, slopes, window,
padding, trim) and #codec-streaming."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vox_edge.config import ModelConfig
from vox_edge.export.reference.codec import (
    AudioTokenizer, alibi_bias, alibi_slopes, fold_weight, pad1d, window_mask,
)
from vox_edge.export.reference.codec_encoder import AudioEncoder, encoder_state_dict, encoder_windows
from vox_edge.export.synthetic_params import make_params


def tiny_cfg(lengths: str = "1,1,1,1"):
    return ModelConfig.from_params(make_params("tiny", codec={"decoder_transformer_lengths_str": lengths})).codec


def randomize(model: AudioTokenizer, seed: int = 0) -> AudioTokenizer:
    """Random weights that keep activations O(1) through every stage."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.randn(*shape, generator=g)

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("original1"):  # weight-norm direction v
                p.copy_(rnd(*p.shape))
            elif name.endswith("original0"):  # weight-norm gain g
                p.copy_(0.7 + 0.6 * torch.rand(p.shape, generator=g))
            elif name.endswith("_scale"):  # LayerScale: large enough that the transformers matter
                p.copy_(0.3 + 0.5 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1:  # RMSNorm weights
                p.copy_(1 + 0.1 * rnd(*p.shape))
            else:  # Linear [out, in]
                p.copy_(rnd(*p.shape) / p.shape[1] ** 0.5)
        model.output_proj.conv.parametrizations.weight.original0.mul_(0.2)  # waveform in audio range (|w| ~ 1)
        cb = model.quantizer.semantic_codebook
        cb.cluster_usage.copy_(0.5 + 4 * torch.rand(cb.cluster_usage.shape, generator=g))
        cb.embedding_sum.copy_(rnd(*cb.embedding_sum.shape) * cb.cluster_usage[:, None])  # E_sem ~ N(0, 1)
    return model


def random_codes(cfg, n_frames: int, batch: int = 1, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    sem = torch.randint(0, cfg.semantic_codebook_size, (batch, n_frames, 1), generator=g)
    ac = torch.randint(0, cfg.acoustic_codebook_size, (batch, n_frames, cfg.acoustic_dim), generator=g)
    return torch.cat([sem, ac], dim=-1)


@pytest.fixture(scope="module")
def cfg():
    return tiny_cfg()


@pytest.fixture(scope="module")
def model(cfg):
    torch.manual_seed(0)
    return randomize(AudioTokenizer(cfg)).eval()


# ---------------------------------------------------------------- names, shapes, loading

def spec_names(cfg) -> set[str]:
    """Checkpoint names of docs/model.md#tensors, generated from the config."""
    wn = ("parametrizations.weight.original0", "parametrizations.weight.original1")
    names = {"audio_tokenizer.quantizer.semantic_codebook.embedding_sum",
             "audio_tokenizer.quantizer.semantic_codebook.cluster_usage"}
    names |= {f"audio_tokenizer.output_proj.conv.{s}" for s in wn}
    for i, n_layers in enumerate(cfg.decoder_transformer_lengths):
        names |= {f"audio_tokenizer.decoder_blocks.{2 * i}.conv.{s}" for s in wn}
        for j in range(n_layers):
            p = f"audio_tokenizer.decoder_blocks.{2 * i + 1}.layers.{j}."
            names |= {p + f"attention.{w}.weight" for w in ("wq", "wk", "wv", "wo", "q_norm", "k_norm")}
            names |= {p + f"feed_forward.{w}.weight" for w in ("w1", "w2", "w3")}
            names |= {p + s for s in ("attention_norm.weight", "ffn_norm.weight", "attention_scale", "ffn_scale")}
    return names


def test_state_dict_names_and_strict_round_trip(cfg, model):
    sd = model.state_dict()
    assert {"audio_tokenizer." + k for k in sd} == spec_names(cfg)
    assert {k for k, _ in model.named_buffers()} == {"quantizer.semantic_codebook.embedding_sum",
                                                     "quantizer.semantic_codebook.cluster_usage"}
    fresh = AudioTokenizer(cfg)
    fresh.load_state_dict(sd, strict=True)
    codes = random_codes(cfg, 3)
    with torch.no_grad():
        assert torch.equal(fresh.decode(codes), model.decode(codes))


def test_full_dims_on_meta_device_match_spec_table():
    cfg = ModelConfig.from_params(make_params("full"))
    with torch.device("meta"):
        m = AudioTokenizer(cfg)
    shapes = {"audio_tokenizer." + k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert len(shapes) == 116 and set(shapes) == spec_names(cfg.codec)
    at = "audio_tokenizer."
    expect = {  # the release's codec tensor names and shapes, literally
        "quantizer.semantic_codebook.embedding_sum": (8192, 256),
        "quantizer.semantic_codebook.cluster_usage": (8192,),
        "decoder_blocks.0.conv.parametrizations.weight.original0": (1024, 1, 1),
        "decoder_blocks.0.conv.parametrizations.weight.original1": (1024, 292, 3),
        "output_proj.conv.parametrizations.weight.original0": (240, 1, 1),
        "output_proj.conv.parametrizations.weight.original1": (240, 1024, 7),
    }
    for b in (2, 4, 6):
        expect[f"decoder_blocks.{b}.conv.parametrizations.weight.original0"] = (1024, 1, 1)
        expect[f"decoder_blocks.{b}.conv.parametrizations.weight.original1"] = (1024, 1024, 4)
    for b in (1, 3, 5, 7):
        for j in (0, 1):
            p = f"decoder_blocks.{b}.layers.{j}."
            expect |= {p + f"attention.{w}.weight": (1024, 1024) for w in ("wq", "wk", "wv", "wo")}
            expect |= {p + n: (1024,) for n in ("attention.q_norm.weight", "attention.k_norm.weight",
                                                 "attention_norm.weight", "ffn_norm.weight", "attention_scale", "ffn_scale")}
            expect |= {p + "feed_forward.w1.weight": (4096, 1024), p + "feed_forward.w3.weight": (4096, 1024),
                       p + "feed_forward.w2.weight": (1024, 4096)}
    assert shapes == {at + k: v for k, v in expect.items()}
    assert [blk.window for blk in m.decoder_blocks[1::2]] == [2, 4, 8, 16]
    assert sum(v.numel() for v in m.state_dict().values()) == 151_576_816  # docs/model.md#tensors codec count


def test_fold_weight_norm_equals_parametrized_forward(cfg, model):
    codes = random_codes(cfg, 4)
    m = AudioTokenizer(cfg).double()
    m.load_state_dict(model.state_dict())
    with torch.no_grad():
        before = m.decode(codes)
        gains = {id(c): c.parametrizations.weight.original0.clone() for c in m.conv_modules()}
        m.fold_weight_norm()
        after = m.decode(codes)
    assert not any("parametrizations" in k for k in m.state_dict())
    assert "decoder_blocks.2.conv.weight" in m.state_dict()
    assert (after - before).abs().max() <= 1e-12
    # ConvTranspose [in, out, k]: each input channel's slice has norm g[in]
    ct = m.decoder_blocks[2].conv
    assert torch.allclose(ct.weight.flatten(1).norm(dim=1), gains[id(ct)].flatten(), atol=1e-12)


def test_fold_weight_formula_no_epsilon():
    v = torch.tensor([[[3.0, 4.0]], [[0.0, 2.0]]], dtype=torch.float64)  # [2, 1, 2]
    g = torch.tensor([[[10.0]], [[1.0]]], dtype=torch.float64)
    assert torch.equal(fold_weight(g, v), torch.tensor([[[6.0, 8.0]], [[0.0, 1.0]]], dtype=torch.float64))


# ---------------------------------------------------------------- attention

def test_alibi_slopes_follow_reference():
    assert torch.equal(alibi_slopes(8), torch.tensor([2.0 ** -h for h in range(8)]))  # 1, 1/2, ..., 1/128
    assert torch.equal(alibi_slopes(4), torch.tensor([1, 1 / 4, 1 / 16, 1 / 64]))
    # non-power-of-two: slopes(4) then every other slope of slopes(8), as the reference concatenates them
    assert torch.equal(alibi_slopes(6), torch.tensor([1, 1 / 4, 1 / 16, 1 / 64, 1, 1 / 4]))


def test_window_allows_exactly_w_plus_one_keys():
    for w in (2, 4, 8, 16):
        m = window_mask(40, w)
        for i in range(40):
            assert m[i].nonzero().flatten().tolist() == list(range(max(0, i - w), i + 1))
    b = alibi_bias(8, 10, 4, torch.float64)
    assert b[3, 9, 5] == -4 / 8 and b[0, 9, 9] == 0 and b[0, 9, 4] == float("-inf") and b[0, 5, 6] == float("-inf")


def test_attention_sees_only_the_window(model):
    layer = model.decoder_blocks[1].layers[0]
    w = model.decoder_blocks[1].window
    x = torch.randn(1, 12, model.cfg.dim)
    i = 9
    with torch.no_grad():
        base = layer.attention(x, w)[0, i]
        far, near = x.clone(), x.clone()
        far[0, i - w - 1] += 1.0  # just outside the window
        near[0, i - w] += 1.0  # oldest key inside it
        assert torch.equal(layer.attention(far, w)[0, i], base)
        assert (layer.attention(near, w)[0, i] - base).abs().max() > 1e-4


# ---------------------------------------------------------------- convolutions (hand checks)

def test_conv0_pads_left_by_replicate(model):
    blk = model.decoder_blocks[0]
    x = torch.randn(1, model.cfg.latent_dim, 5)
    w = blk.conv.weight.detach()  # [out, in, 3]
    k = w.shape[-1]
    with torch.no_grad():
        manual = F.conv1d(torch.cat([x[..., :1]] * (k - 1) + [x], dim=-1), w)  # x0, x0, x0, x1, ...
        assert torch.allclose(blk(x), manual, atol=1e-5)
    assert blk(x).shape == (1, model.cfg.dim, 5)


def test_output_proj_pads_left_by_reflect(model):
    blk = model.output_proj
    x = torch.randn(1, model.cfg.dim, 16)
    w = blk.conv.weight.detach()  # [patch, dim, 7]
    left = x[..., 1:7].flip(-1)  # x6, x5, ..., x1
    with torch.no_grad():
        assert torch.allclose(blk(x), F.conv1d(torch.cat([left, x], dim=-1), w), atol=1e-5)


def test_reflect_on_short_input_zero_extends_first():
    x = torch.tensor([[[1.0, 2.0, 3.0]]])
    # zero-extend to 7: 1 2 3 0 0 0 0; reflect 6: 0 0 0 0 3 2 | 1 2 3 (the appended zeros are cut again)
    assert pad1d(x, 6, 0, "reflect").flatten().tolist() == [0, 0, 0, 0, 3, 2, 1, 2, 3]
    assert pad1d(x, 2, 0, "replicate").flatten().tolist() == [1, 1, 1, 2, 3]


def test_conv_transpose_trims_right(model):
    blk = model.decoder_blocks[2]
    w = blk.conv.weight.detach()  # [in, out, k]
    k, s = blk.conv.kernel_size[0], blk.conv.stride[0]
    x = torch.randn(1, w.shape[0], 6)
    full = torch.zeros(1, w.shape[1], s * 6 + k - s)  # y[:, s·t + j] += W[:, :, j]^T x[:, t]
    for t in range(6):
        for j in range(k):
            full[0, :, s * t + j] += w[:, :, j].T @ x[0, :, t]
    with torch.no_grad():
        out = blk(x)
    assert out.shape[-1] == s * 6
    assert torch.allclose(out, full[..., : s * 6], atol=1e-5)  # all k - s trimmed from the right


# ---------------------------------------------------------------- whole decoder

def test_dequantize(cfg, model):
    codes = torch.zeros(1, 3, 1 + cfg.acoustic_dim, dtype=torch.long)
    codes[0, :, 0] = torch.tensor([0, 5, cfg.semantic_codebook_size - 1])
    codes[0, 0, 1:], codes[0, 1, 1:], codes[0, 2, 1:] = 0, 10, 20
    z = model.dequantize(codes)
    assert z.shape == (1, cfg.latent_dim, 3)
    cb = model.quantizer.semantic_codebook
    e = cb.embedding_sum / cb.cluster_usage[:, None]
    assert torch.allclose(z[0, : cfg.semantic_dim].T, e[codes[0, :, 0]])
    assert z[0, cfg.semantic_dim:].T.tolist() == [[-1.0] * 36, [0.0] * 36, [1.0] * 36]
    # cluster_usage floor: max(usage, 1e-5)
    m = AudioTokenizer(cfg)
    m.quantizer.semantic_codebook.cluster_usage[0] = 0.0
    m.quantizer.semantic_codebook.embedding_sum[0] = 1e-6
    assert torch.allclose(m.semantic_embedding()[0], torch.full((cfg.semantic_dim,), 0.1))
    bad = codes.clone()
    bad[0, 0, 0] = cfg.semantic_codebook_size  # a +2-space code
    with pytest.raises(ValueError, match="-2 space"):
        model.decode(bad)


def test_output_length(cfg, model):
    assert cfg.samples_per_frame == 1920
    with torch.no_grad():
        for t in (1, 3, 7):
            assert model.decode(random_codes(cfg, t, batch=2)).shape == (2, t * 1920)


def test_causality(cfg, model):
    codes = random_codes(cfg, 12)
    t = 5
    changed = codes.clone()
    changed[0, t] = random_codes(cfg, 1, seed=7)[0, 0]
    with torch.no_grad():
        a, b = model.decode(codes), model.decode(changed)
    spf = cfg.samples_per_frame
    assert torch.equal(a[:, : t * spf], b[:, : t * spf])
    assert (a[:, t * spf: (t + 1) * spf] - b[:, t * spf: (t + 1) * spf]).abs().max() > 1e-3


def test_min_left_context_is_21_at_release_dims():
    assert ModelConfig.from_params(make_params("full")).codec.min_left_context_frames == 21
    assert tiny_cfg("2,2,2,2").min_left_context_frames == 21


@pytest.fixture(scope="module")
def stream_setup():
    cfg = tiny_cfg("2,2,2,2")  # two layers per stage, as released, so the 21-frame bound is the real one
    return cfg, randomize(AudioTokenizer(cfg), seed=3).eval(), random_codes(cfg, 70, seed=5)


def test_streaming_fp32_with_25_frames_context(stream_setup):
    cfg, m, codes = stream_setup
    with torch.no_grad():
        full = m.decode(codes)
        stream = m.decode_stream(codes, chunk_frames=(2, 12), left_context_frames=25)
    assert 0.1 < full.abs().max() < 2  # non-trivial, audio-range signal (the scale the 1e-5 bound is meant for)
    assert stream.shape == full.shape
    assert (stream - full).abs().max() <= 1e-5


def test_streaming_fp64_21_frames_is_exact_and_20_is_not(stream_setup):
    cfg, m, codes = stream_setup
    m = AudioTokenizer(cfg).double()
    m.load_state_dict(stream_setup[1].state_dict())
    with torch.no_grad():
        full = m.decode(codes)
        err21 = (m.decode_stream(codes, (2, 12), 21) - full).abs().max()
        err20 = (m.decode_stream(codes, (2, 12), 20) - full).abs().max()
    assert err21 <= 1e-12  # the acceptance point is 1e-5; 21 frames is in fact exact
    assert err20 > 1e-12  # 20 frames lets the start-of-window padding leak in


# ---------------------------------------------------------------- encoder (the project's own codec, docs/model.md#the-small-default-model)


def test_encoder_names_shapes_and_windows_full_dims():
    cfg = ModelConfig.from_params(make_params("full")).codec
    with torch.device("meta"):
        enc = AudioEncoder(cfg)
    shapes = {k: tuple(v.shape) for k, v in enc.state_dict().items()}
    assert len(shapes) == 2 + 4 * 2 + 8 * 13
    assert all(k.startswith(("input_proj.conv.parametrizations.weight.", "encoder_blocks.")) for k in shapes)
    assert shapes["input_proj.conv.parametrizations.weight.original1"] == (1024, 240, 7)
    assert shapes["encoder_blocks.0.layers.1.attention.wq.weight"] == (1024, 1024)
    assert shapes["encoder_blocks.1.conv.parametrizations.weight.original1"] == (1024, 1024, 4)
    assert shapes["encoder_blocks.7.conv.parametrizations.weight.original1"] == (292, 1024, 3)
    assert encoder_windows(cfg) == (16, 8, 4, 2) == tuple(b.window for b in enc.encoder_blocks[0::2])
    assert encoder_windows(cfg)[-1] == cfg.decoder_windows[0]  # the decoder starts where the encoder ended


@pytest.fixture(scope="module")
def encoder(cfg):
    enc = AudioEncoder(cfg)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, p in enc.named_parameters():
            if name.endswith("original1"):
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith(("original0", "_scale")) or p.dim() == 1:
                p.copy_(0.5 + 0.5 * torch.rand(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
    return enc.eval()


def test_encoder_lengths_codes_and_state_dict_filter(cfg, model, encoder):
    spf = cfg.samples_per_frame
    with torch.no_grad():
        for n in (1, spf, spf + 1, 5 * spf - 7):
            codes = encoder.encode(0.3 * torch.randn(2, n), model)
            assert codes.shape == (2, -(-n // spf), 1 + cfg.acoustic_dim) and codes.dtype == torch.long
            assert 0 <= codes[..., 0].min() and codes[..., 0].max() < cfg.semantic_codebook_size
            assert 0 <= codes[..., 1:].min() and codes[..., 1:].max() < cfg.acoustic_codebook_size
            assert model.decode(codes).shape == (2, codes.shape[1] * spf)  # the decoder takes them as they are
    full = {"audio_tokenizer." + k: v for k, v in {**model.state_dict(), **encoder.state_dict()}.items()}
    AudioEncoder(cfg).load_state_dict(encoder_state_dict(full, "audio_tokenizer."), strict=True)


def test_encoder_quantizer(cfg, model, encoder):
    codes = random_codes(cfg, 6, seed=4)
    codes[..., 1:] = codes[..., 1:].clamp(1, cfg.acoustic_codebook_size - 2)  # tanh never reaches +-1
    z = model.dequantize(codes).double()  # semantic: E_sem rows; acoustic: 2c/20 - 1
    z[:, : cfg.semantic_dim] += 1e-3 * torch.randn_like(z[:, : cfg.semantic_dim])  # nearest row is still the same
    z[:, cfg.semantic_dim:] = torch.atanh(z[:, cfg.semantic_dim:])  # undo the tanh
    assert torch.equal(encoder.quantize(z, model.semantic_embedding()), codes)
    big = torch.zeros(1, cfg.latent_dim, 2)
    big[0, cfg.semantic_dim:, 0], big[0, cfg.semantic_dim:, 1] = -50.0, 50.0
    q = encoder.quantize(big, model.semantic_embedding())
    assert q[0, 0, 1:].eq(0).all() and q[0, 1, 1:].eq(cfg.acoustic_codebook_size - 1).all()


def test_encoder_causality(cfg, encoder):
    spf, t = cfg.samples_per_frame, 3
    wave = 0.3 * torch.randn(1, 6 * spf)
    changed = wave.clone()
    changed[0, t * spf:] += 0.5 * torch.randn(wave.shape[1] - t * spf)
    with torch.no_grad():
        a, b = encoder.encode_latent(wave), encoder.encode_latent(changed)
    assert torch.equal(a[..., :t], b[..., :t])
    assert (a[..., t] - b[..., t]).abs().max() > 1e-3

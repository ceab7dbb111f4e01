"""Invariants of the PyTorch reference backbone, acoustic head and generation loop (docs/model.md#generation-loop)."""

import pytest
import torch

from vox_edge.config import ModelConfig
from vox_edge.export.reference.acoustic import quantize_fsq, time_embedding
from vox_edge.export.reference.backbone import causal_mask, rope_angles
from vox_edge.export.reference.layers import attention, repeat_kv
from vox_edge.export.reference.model import VoxtralTTS
from vox_edge.export.synthetic_params import make_params


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = ModelConfig.from_params(make_params("tiny"))
    m = VoxtralTTS(cfg, with_codec=False).eval()
    with torch.no_grad():  # END row zero: never stops on its own (as make-checkpoint's default)
        m.acoustic_transformer.semantic_codebook_output.weight[1] = 0
    return m


def test_full_dims_param_count_matches_release():
    # docs/model.md#tensors: backbone 3,429,006,336 + audio embedding 27,918,336 + acoustic 393,851,904
    with torch.device("meta"):
        m = VoxtralTTS(ModelConfig.from_params(make_params("full")), with_codec=False)
    sd = m.state_dict()
    assert len(sd) == 237 + 33
    assert sum(v.numel() for v in sd.values()) == 3_429_006_336 + 27_918_336 + 393_851_904
    assert tuple(sd["acoustic_transformer.semantic_codebook_output.weight"].shape) == (8320, 3072)
    assert tuple(sd["mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"].shape) == (9088, 3072)


def _neox_permute(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """vLLM's permutation: new row h·hd + r·hd/2 + d  <-  old row h·hd + 2d + r."""
    out_dim, d_in = w.shape
    hd = out_dim // n_heads
    return w.view(n_heads, hd // 2, 2, d_in).transpose(1, 2).reshape(out_dim, d_in)


def test_rope_adjacent_pairs_equal_permuted_split_half(model):
    cfg = model.cfg
    attn = model.layers[0].attention
    x = torch.randn(1, 7, cfg.dim)
    pos = torch.arange(3, 10)
    cos, sin = rope_angles(pos, cfg.head_dim, cfg.rope_theta)
    out_ref, _, _ = attn(x, cos, sin, causal_mask(7, 0))

    # split-half (NeoX) rotation on permuted wq/wk must give the same attention output
    wq, wk = _neox_permute(attn.wq.weight, cfg.n_heads), _neox_permute(attn.wk.weight, cfg.n_kv_heads)
    q = (x @ wq.T).view(1, 7, cfg.n_heads, cfg.head_dim).transpose(1, 2)
    k = (x @ wk.T).view(1, 7, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
    v = attn.wv(x).view(1, 7, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
    c2, s2 = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)

    def rot_half(t):
        h = t.shape[-1] // 2
        return torch.cat([-t[..., h:], t[..., :h]], -1)

    q, k = q * c2 + rot_half(q) * s2, k * c2 + rot_half(k) * s2
    n_rep = cfg.n_heads // cfg.n_kv_heads
    o = attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), causal_mask(7, 0))
    out_neox = attn.wo(o.transpose(1, 2).reshape(1, 7, -1))
    torch.testing.assert_close(out_neox, out_ref, atol=1e-5, rtol=1e-5)
    # and split halves on the *raw* rows is genuinely different (the bug the spec warns about)
    qb = attn.wq(x).view(1, 7, cfg.n_heads, cfg.head_dim).transpose(1, 2)
    assert not torch.allclose(qb * c2 + rot_half(qb) * s2, q, atol=1e-3)


def test_kv_cache_decode_equals_full_prefill(model):
    x = torch.randn(1, 12, model.cfg.dim)
    full, _ = model.backbone(x)
    h, past = model.backbone(x[:, :8])
    outs = [h]
    for i in range(8, 12):
        h, past = model.backbone(x[:, i : i + 1], past)
        outs.append(h)
    torch.testing.assert_close(torch.cat(outs, 1), full, atol=1e-5, rtol=1e-5)
    assert past[0][0].shape == (1, model.cfg.n_kv_heads, 12, model.cfg.head_dim)


def test_fsq_rounds_half_to_even_and_clamps():
    x = torch.tensor([[-1.5, -1.0, -0.75, -0.25, 0.25, 1.0, 2.0]])
    # (x+1)/2*20 exactly: -0.75 -> 2.5 -> 2 ; -0.25 -> 7.5 -> 8 ; 0.25 -> 12.5 -> 12 (half to even)
    assert quantize_fsq(x, 21).tolist() == [[0, 0, 2, 8, 12, 20, 20]]


def test_time_embedding_cos_first():
    e = time_embedding(torch.tensor([0.0, 0.5]), 8)
    assert torch.equal(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    inv = torch.exp(-torch.log(torch.tensor(1e4)) * torch.arange(4) / 4)
    torch.testing.assert_close(e[1], torch.cat([torch.cos(0.5 * inv), torch.sin(0.5 * inv)]))


def test_cfg_alpha_one_equals_conditional_branch_only(model):
    at = model.acoustic_transformer
    h, x = torch.randn(1, model.cfg.dim), torch.randn(1, model.cfg.n_acoustic_codebook)
    ts = torch.linspace(0, 1, 4)
    tc = at.time_condition(ts[:-1])
    xc = x.clone()
    for i in range(3):
        xc = xc + at.velocity(xc, tc[i : i + 1], at.llm_projection(h)) * (ts[i + 1] - ts[i])
    assert torch.equal(at.acoustic_levels(h, x, 3, 1.0), quantize_fsq(xc, 21))


def test_same_noise_same_codes_and_noise_matters(model):
    e = torch.randn(1, 9, model.cfg.dim)
    noise = torch.randn(30, model.cfg.n_acoustic_codebook)
    a = model.generate(e, noise, 30)
    b = model.generate(e, noise.clone(), 30)
    assert torch.equal(a.codes, b.codes) and a.codes.shape == (30, 37)
    c = model.generate(e, torch.randn(30, model.cfg.n_acoustic_codebook), 30)
    assert not torch.equal(a.codes[:, 1:], c.codes[:, 1:])
    assert (a.codes[:, 1:] >= 2).all() and (a.codes[:, 1:] <= 22).all() and (a.codes[:, 0] >= 2).all()


def test_end_audio_stops_generation_and_is_not_emitted(model):
    torch.manual_seed(1)
    cfg = model.cfg
    e = torch.randn(1, 9, cfg.dim)
    noise = torch.randn(40, cfg.n_acoustic_codebook)
    run = model.generate(e, noise, 40)
    assert not run.stopped
    # Collect the hidden states of the never-stopping run, then make END the argmax at frame 5.
    hs, (hidden, past) = [], model.backbone(e)
    hs.append(hidden[:, -1])
    for f in range(6):
        hidden, past = model.backbone(model.embed_codes(run.codes[f : f + 1])[:, None], past)
        hs.append(hidden[:, -1])
    head = model.acoustic_transformer.semantic_codebook_output.weight
    saved = head[1].clone()
    try:
        with torch.no_grad():
            head[1] = hs[5][0] / hs[5][0].norm() ** 2 * 1e4  # logit_END(h5) = 1e4
        logits = [model.acoustic_transformer.semantic_logits(h) for h in hs]
        first = next(i for i, lg in enumerate(logits) if int(lg.argmax()) == 1)
        stopped = model.generate(e, noise, 40)
    finally:
        with torch.no_grad():
            head[1] = saved
    assert stopped.stopped and stopped.codes.shape[0] == first <= 5
    assert torch.equal(stopped.codes, run.codes[:first])

"""The iSTFT output head of the project's small codec (`output_head: "istft"`, CodecConfig) in the reference and
through the export path: it must stay causal, streamable with the derived left context, and export to ONNX."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vox_edge.config import ModelConfig
from vox_edge.errors import ConfigError
from vox_edge.export.checkpoint import Checkpoint
from vox_edge.export.reference.codec import AudioTokenizer, CausalISTFT
from vox_edge.export.synthetic import make_checkpoint
from vox_edge.export.synthetic_params import make_params
from vox_edge.export.torch_graphs import export_component_graphs, load_codec
from vox_edge.quantize.agreement import session

from test_reference_codec import random_codes, randomize

ISTFT = {"output_head": "istft", "istft_n_fft": 960, "output_kernel_size": 3}


def istft_cfg(lengths: str = "1,1,1,1", **over):
    return ModelConfig.from_params(make_params("tiny", codec={"decoder_transformer_lengths_str": lengths,
                                                              **ISTFT, **over})).codec


@pytest.fixture(scope="module")
def model():
    m = randomize(AudioTokenizer(istft_cfg()), seed=2).eval()
    with torch.no_grad():  # log-magnitudes around -3 so the waveform is in audio range
        m.output_proj.conv.parametrizations.weight.original0.mul_(0.5)
    return m


def test_istft_inverts_a_rectangular_stft_in_steady_state():
    n, hop = 960, 240
    x = torch.randn(1, 12000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    spec = torch.stft(x, n, hop_length=hop, window=torch.ones(n, dtype=torch.float64), center=False,
                      return_complex=True)  # frame p = samples [p·hop, p·hop + n)
    y = CausalISTFT(n, hop)(torch.cat([spec.abs().clamp(min=1e-30).log(), spec.angle()], dim=1))
    frames = spec.shape[-1]
    assert y.shape == (1, frames * hop)
    # once n / hop frames overlap, overlap-add of Hann-windowed frames / the overlap sum is the identity
    assert (y[0, n: frames * hop] - x[0, n: frames * hop]).abs().max() < 1e-10


def test_output_proj_has_the_release_names_and_spectral_width(model):
    cfg = model.cfg
    assert cfg.output_channels == 2 * (960 // 2 + 1)
    sd = model.state_dict()
    assert sd["output_proj.conv.parametrizations.weight.original1"].shape == (962, cfg.dim, 3)
    assert not any("istft" in k for k in sd), "the iSTFT basis is fixed, not a checkpoint tensor"


def test_length_and_causality(model):
    cfg = model.cfg
    codes = random_codes(cfg, 12)
    changed = codes.clone()
    changed[0, 5] = random_codes(cfg, 1, seed=7)[0, 0]
    with torch.no_grad():
        a, b = model.decode(codes), model.decode(changed)
    spf = cfg.samples_per_frame
    assert a.shape == (1, 12 * spf) and 1e-3 < a.abs().max() < 100
    assert torch.equal(a[:, : 5 * spf], b[:, : 5 * spf])
    assert (a[:, 5 * spf: 6 * spf] - b[:, 5 * spf: 6 * spf]).abs().max() > 1e-4


def test_left_context_counts_the_overlap_and_streaming_is_exact():
    cfg = istft_cfg("2,2,2,2")
    patch = ModelConfig.from_params(make_params("tiny", codec={"decoder_transformer_lengths_str": "2,2,2,2"})).codec
    need = cfg.min_left_context_frames
    assert need >= patch.min_left_context_frames  # 3 patches of overlap, output kernel 3 instead of 7
    m = randomize(AudioTokenizer(cfg), seed=3).double().eval()
    codes = random_codes(cfg, 60, seed=5)
    with torch.no_grad():
        full = m.decode(codes)
        assert (m.decode_stream(codes, (2, 12), need) - full).abs().max() <= 1e-12
        assert (m.decode_stream(codes, (2, 12), need - 1) - full).abs().max() > 1e-12
        assert (m.float().decode_stream(codes, (2, 12), 25) - m.float().decode(codes)).abs().max() <= 1e-4


@pytest.mark.parametrize("over, words", [({"output_head": "mel"}, "output_head"),
                                         ({"istft_n_fft": 1000}, "istft_n_fft")])
def test_bad_head_settings_name_the_key(over, words):
    with pytest.raises(ConfigError, match=words):
        istft_cfg(**over)


def test_codec_graph_with_istft_head_matches_reference(tmp_path):
    ck = make_checkpoint(tmp_path / "ckpt", scale="tiny", seed=1, codec=ISTFT)
    ckpt = Checkpoint.open(ck)
    info = export_component_graphs(ckpt, tmp_path / "g", {"acoustic": "fp32", "codec": "fp32"},
                                   progress=lambda m: None, graphs=("codec_decoder",))
    ref = load_codec(ckpt)
    s = session(tmp_path / "g" / info["codec_decoder"]["file"])
    for t in (1, 9):
        codes = random_codes(ckpt.config.codec, t, seed=t)
        got = s.run(None, {"codes": codes.numpy().astype(np.int64)})[0]
        with torch.no_grad():
            want = ref.decode(codes).numpy()
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max())

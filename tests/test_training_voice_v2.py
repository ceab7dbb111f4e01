"""Default voice v2's training pieces: the code bottleneck (shapes, code ranges, the trunk it shares with the
source_filter codec, compact states) and, where hibari-tts is installed, the teacher's frame decoder in torch."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.voice_v2 import bottleneck as bn  # noqa: E402


def test_bottleneck_codes_are_a_voxtral_frame_and_decode_to_the_input_length():
    torch.manual_seed(0)
    m = bn.Bottleneck()
    x = torch.randn(2, bn.N_X, 77)
    latent, codes, commit = m.encode(x, update=True)
    t = bn.n_codes(77)
    assert latent.shape == (2, m.cfg.latent_dim, t) and codes.shape == (2, t, 37)
    assert 0 <= int(codes[..., 0].min()) and int(codes[..., 0].max()) < m.cfg.semantic_codebook_size
    assert 0 <= int(codes[..., 1:].min()) and int(codes[..., 1:].max()) < m.cfg.acoustic_codebook_size
    assert m.decode(latent, 77).shape == (2, bn.N_X, 77)
    assert float(commit) >= 0


def test_bottleneck_trunk_is_the_source_filter_codecs(tmp_path):
    """The trained decoder's weights load into the reference codec with the source_filter head unchanged."""
    from vox_edge.config import ModelConfig
    from vox_edge.export.reference.codec import AudioTokenizer
    from vox_edge.export.synthetic_params import make_params

    m = bn.Bottleneck()
    codec_args = {"output_head": "source_filter", "frame_features": bn.N_X}
    with open(bn.CONFIG, encoding="utf-8") as f:
        tok = json.load(f)["audio_tokenizer_args"]
    cfg = ModelConfig.from_params(make_params("small", codec={**tok, **codec_args})).codec
    ref = AudioTokenizer(cfg)
    trunk = {k: v for k, v in m.tokenizer.state_dict().items()}
    missing = set(ref.state_dict()) - set(trunk)
    # only the teacher's frame decoder and the affine from the bottleneck's normalised units are added
    assert missing and all(k.startswith("frame_decoder.") or k in ("feature_scale", "feature_bias") for k in missing)
    ref.load_state_dict({**ref.state_dict(), **trunk})


def test_compact_state_round_trip(tmp_path):
    m = bn.Bottleneck()
    opt = torch.optim.AdamW(m.parameters())
    ckpt = tmp_path / "last.pt"
    bn.save(m, opt, 12, np.random.default_rng(0), str(ckpt))
    bn.compact(str(ckpt), str(tmp_path / "c.pt"))
    back = bn.load_for_eval(str(tmp_path / "c.pt"))
    for k, v in m.state_dict().items():
        assert torch.allclose(back.state_dict()[k], v.half().float() if v.is_floating_point() else v)


def test_teacher_frame_decoder_matches_the_teacher_graph():
    pytest.importorskip("hibari")
    from training.voice_v2.teacher_decoder import teacher_frame_decoder
    from training.voice_v2.teacher_graph import TeacherGraph

    t = TeacherGraph()
    x, f0 = t.features("Turn left in two hundred meters.")
    p = t.params("Turn left in two hundred meters.")
    with torch.no_grad():
        out = teacher_frame_decoder()(torch.from_numpy(x)[None])
    for name, v in zip(("lh", "theta", "ln", "lr", "phi"), out):  # the graph quantises activations: close, not equal
        assert np.mean(np.abs(v[0].numpy() - p[name])) < 0.1 * max(1.0, np.mean(np.abs(p[name])))
    assert np.allclose(bn.f0_from_x(x), np.maximum(p["f0"], 0), rtol=1e-3, atol=1e-2)  # the features relu f0


def test_a_bottleneck_state_loads_as_a_decoder_only_codec_with_the_teachers_notices(tmp_path):
    """The backbone stage, the sweep and the checkpoint export read a v2 bottleneck through training.tts.codec:
    the trunk + the teacher's frame decoder, the v2 head's tokenizer args, the codes' fingerprint, and the licence
    files of the teacher's weights that must travel into the bundle."""
    pytest.importorskip("hibari")
    from training.tts.codec import load_codec
    from training.voice_v2 import codec_graph

    m = bn.Bottleneck()
    bn.save(m, torch.optim.AdamW(m.parameters()), 7, np.random.default_rng(0), str(tmp_path / "last.pt"))
    codec = load_codec(str(tmp_path / "last.pt"))
    assert codec.encoder is None and codec.step == 7
    assert codec.fingerprint == codec_graph.fingerprint(str(tmp_path / "last.pt"))
    assert codec.tokenizer_args["output_head"] == "source_filter"
    assert sorted(p.rsplit("/", 1)[-1] for p in codec.notices) == ["LICENSE-hibari.txt", "NOTICE-hibari.txt"]
    codes = torch.zeros(3, 37, dtype=torch.long)
    assert codec.decode(codes).shape == (3 * 1920,)
    assert not any(k.startswith("encoder") for k in codec.flat_state())


def test_a_feature_shard_is_made_again_when_its_slice_of_the_split_grew(tmp_path):
    """training/corpus/make.py appends rows: the split's last shard then lacks some of its slice and is redone;
    rows the teacher could not read count as done once recorded."""
    import numpy as np

    from training.voice_v2.teacher_features import shard_done

    path = str(tmp_path / "shard_00000.npz")
    assert not shard_done(path, ["a"])
    np.savez(path, ids=np.array(["a", "b"]), skipped=np.array(["c"], dtype=str))
    assert shard_done(path, ["a", "b", "c"]) and not shard_done(path, ["a", "b", "c", "d"])
    np.savez(path, ids=np.array(["a", "b"]))  # a shard from before `skipped` was recorded
    assert shard_done(path, ["a", "b"]) and not shard_done(path, ["a", "b", "c"])

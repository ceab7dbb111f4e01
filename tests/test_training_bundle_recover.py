"""training/ship/bundle_recover.py: a stage-3 state and a codec decoder read back from exported bundles (fp32 exactly, int8
within half a quantisation step), so a wiped ~/.cache does not lose what was shipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.tts import config as tts_config
from training.tts import vocab as tokenizer_train
from training.tts.data import voice_prompt_codes
from training.tts.model import build_model
from vox_edge.runtime.tokenizer import TekkenTokenizer

from test_training_tts import TEXTS, _tiny_codec_file, tiny_codec_args

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # two tiny bundle exports: ~1 min on 2 cores

VOICE_CLIP = "tr000007"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny stage-3 state on a tiny codec's codes, written as a release checkpoint and as fp32 / int8 bundles."""
    from training.ship import export_checkpoint
    from training.tts.codec import load_codec, save_compact_like
    from training.tts.codes import write_shard

    from vox_edge.export.bundle import export_bundle

    tmp = tmp_path_factory.mktemp("recover")
    args = tiny_codec_args()
    _tiny_codec_file(tmp / "codec.pt", args)
    codec = load_codec(str(tmp / "codec.pt"))
    with torch.no_grad():  # as after training: no two decoder tensors equal (the ONNX exporter merges equal ones)
        for k, v in codec.tokenizer.state_dict().items():
            if not k.startswith("quantizer."):
                v.mul_(1 + 0.1 * torch.rand_like(v))
    save_compact_like(codec, str(tmp / "codec.pt"))
    codec = load_codec(str(tmp / "codec.pt"))
    rng = np.random.default_rng(0)
    n_ac = args["acoustic_dim"]
    clips = {f"tr{i:06d}": np.concatenate([rng.integers(0, args["semantic_codebook_size"], (t, 1)),
                                             rng.integers(0, args["acoustic_codebook_size"], (t, n_ac))], axis=1)
             for i, t in zip(range(3, 12), (9, 12, 12, 7, 12, 9, 12, 5, 12))}
    codes = tmp / "codes"
    codes.mkdir()
    write_shard(str(codes / "shard_00000.npz"), list(clips), list(clips.values()))
    (codes / "meta.json").write_text(json.dumps({"codec_fingerprint": codec.fingerprint, "codec_step": codec.step,
                                                 "tokenizer_args": args, "codec_path": str(tmp / "codec.pt")}))
    tk = tokenizer_train.build_tekken(TEXTS, vocab_size=400, num_special=64)
    vc = voice_prompt_codes(clips[VOICE_CLIP], n_ac)
    vocab = TekkenTokenizer.from_dict(tk).vocab_size
    params = tts_config.make_params(tts_config.TINY_DIMS, vocab, args, {"neutral_male": 0})
    model = build_model(params, seed=1)
    with torch.no_grad():  # norms away from 1 and a non-zero everything, so a mix-up of tensors shows
        for v in model.state_dict().values():
            v.add_(0.05 * torch.randn_like(v))
    state = {"model": model.state_dict(), "step": 123, "params": params,
             "tekken": tokenizer_train.with_voices(tk, {"neutral_male": len(vc)}),
             "voice": {"name": "neutral_male", "codes": vc.tolist()},
             "codec": {"fingerprint": codec.fingerprint, "step": codec.step, "tokenizer_args": args}}
    ck = export_checkpoint.write_checkpoint(state, codec, tmp / "ckpt")
    bundles = {p: export_bundle(ck, tmp / f"bundle_{p}", precision=p, progress=lambda *_: None) for p in ("fp32", "int8")}
    return tmp, state, codec, codes, bundles


def _bf16(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.bfloat16).float()  # the release checkpoint is BF16: what any bundle could give back


def test_fp32_bundle_gives_the_checkpoint_back_exactly(exported):
    from training.ship.bundle_recover import recover

    _, state, codec, codes, bundles = exported
    rec = recover(bundles["fp32"], codes, voice_clip="")  # no hint: the voice clip is found by matching
    assert set(rec["model"]) == set(state["model"])
    for k, v in state["model"].items():
        assert torch.equal(rec["model"][k].float(), _bf16(v)), k
    assert rec["voice"] == state["voice"] and rec["codec"]["voice_clip"] == VOICE_CLIP
    assert rec["tekken"] == state["tekken"] and rec["params"] == state["params"]
    assert rec["codec"]["fingerprint"] == codec.fingerprint and rec["compact"] and rec["step"] == 0


def test_int8_bundle_gives_weights_within_half_a_step(exported):
    from training.ship.bundle_recover import recover

    from vox_edge.export.onnx_utils import INT8_WEIGHT_MAX

    _, state, _, codes, bundles = exported
    rec = recover(bundles["int8"], codes, step=7)
    assert rec["step"] == 7 and rec["recovered_from"]["precisions"]["backbone"] == "int8"
    quantised = 0
    for k, v in state["model"].items():
        want, got = _bf16(v), rec["model"][k].float()
        if v.ndim == 2 and "embeddings" not in k:  # per-output-channel int8: error <= scale / 2 (+ BF16 of the result)
            step = want.abs().amax(1, keepdim=True) / INT8_WEIGHT_MAX  # 7-bit weights (ORT's reduce_range: 64 levels)
            assert ((got - want).abs() <= 0.5 * step + 0.01 * want.abs() + 1e-6).all(), k
            quantised += not torch.equal(got, want)
        else:  # norms and both tables are stored unquantised
            assert torch.equal(got, want), k
    assert quantised > 10  # the int8 path really was taken


def test_recovered_state_trains_on(exported, tmp_path):
    """What the recovery is for: `tts/train.py --init` (and a resume from it as last.pt) accept the file."""
    from training.tts import train as tts_train
    from training.ship.bundle_recover import main

    tmp, state, _, codes, bundles = exported
    out = tmp_path / "rec.pt"
    main(["--bundle", str(bundles["int8"]), "--codes", str(codes), "--out", str(out)])
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(out.read_bytes())
    cfg = tmp / "codec.json"
    cfg.write_text(json.dumps({"audio_tokenizer_args": tiny_codec_args()}))
    t = tts_train.Trainer(tts_train.parser().parse_args(
        ["--synthetic", "24", "--dims", "tiny", "--out", str(run), "--codec-config", str(cfg), "--codec", "",
         "--no-asr", "--new-codec-ok"]))
    assert t.step == 0 and t.voice == state["voice"]
    w = "layers.0.attention.wq.weight"
    assert torch.allclose(t.model.state_dict()[w], state["model"][w], atol=0.05)


def test_codec_decoder_comes_back_and_decodes_like_the_bundle(exported):
    from training.ship.bundle_recover import recover_codec
    from training.tts.codec import from_weights

    tmp, _, codec, _, bundles = exported
    rec = recover_codec(bundles["fp32"], tmp / "codec.pt")
    got = from_weights(rec["weights"], rec["tokenizer_args"], rec["step"], "")
    assert got.fingerprint == codec.fingerprint  # encoder + codebooks are the base's
    codes = torch.randint(0, 12, (1, 6, 1 + codec.cfg.acoustic_dim))  # [B, T, 1 + n_ac], -2 space
    codes[..., 1:] %= codec.cfg.acoustic_codebook_size
    with torch.no_grad():
        a, b = codec.tokenizer.decode(codes), got.tokenizer.decode(codes)
    assert torch.allclose(a, b, atol=0.02 * a.abs().max().item()), (a - b).abs().max()
    rec8 = recover_codec(bundles["int8"], tmp / "codec.pt")
    assert rec8["recovered_from"]["precision"] == "int8"


def test_refusals_name_the_fix(exported, tmp_path):
    from training.ship.bundle_recover import RecoverError, recover, recover_codec
    from training.tts.codec import load_codec, save_compact_like

    tmp, _, _, codes, bundles = exported
    with pytest.raises(RecoverError, match="manifest.json"):
        recover(tmp_path, codes)
    with pytest.raises(RecoverError, match="codes"):
        recover(bundles["fp32"], tmp_path)  # no codes there
    other = load_codec(str(tmp / "codec.pt"))
    with torch.no_grad():
        other.tokenizer.quantizer.semantic_codebook.embedding_sum.add_(1.0)
    save_compact_like(other, str(tmp_path / "other.pt"))
    with pytest.raises(RecoverError, match="semantic codebook"):
        recover_codec(bundles["fp32"], tmp_path / "other.pt")

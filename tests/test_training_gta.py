"""GTA decoder training: frame-aligned (codes, audio) crops (codec/data.py AlignedCodeCrops) and codec/train.py --gta."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from training.codec import train as codec_train
from training.codec.data import AlignedCodeCrops
from training.tts.codec import fingerprint
from training.tts.codes import write_shard

from test_training_codec_ctc import _args

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPF = 100  # samples per frame of the alignment test


def _ramp_teacher(root: Path, frames: dict[str, int]) -> dict[str, np.ndarray]:
    """Clips whose sample k holds k / 1e5 (so a crop tells where it starts) and codes whose frame f holds f."""
    (root / "audio").mkdir(parents=True)
    codes = {}
    with open(root / "manifest.jsonl", "w", encoding="utf-8") as f:
        for cid, n in frames.items():
            sf.write(root / "audio" / f"{cid}.wav", (np.arange(n * SPF) / 1e5).astype(np.float32), 24000,
                     subtype="FLOAT")
            f.write(json.dumps({"id": cid, "norm": "x", "duration": n * SPF / 24000, "sr": 24000,
                                "path": f"audio/{cid}.wav"}) + "\n")
            codes[cid] = np.stack([np.arange(n)] * 3, 1)  # [T, 3]: every column = frame index
    return codes


def test_aligned_crops_pair_each_code_frame_with_its_own_samples(tmp_path):
    codes = _ramp_teacher(tmp_path, {"a": 30, "b": 12, "tr000000": 40})  # tr000000 is held out
    crops = AlignedCodeCrops(codes, str(tmp_path), SPF, seed=3)
    assert sorted(r["id"] for r, _ in crops.items) == ["a", "b"]
    c, w = crops.batch(16, 8)
    assert c.shape == (16, 8, 3) and w.shape == (16, 8 * SPF)
    for k in range(16):
        f0 = int(c[k, 0, 0])
        assert torch.equal(c[k, :, 0], torch.arange(f0, f0 + 8))  # consecutive frames
        np.testing.assert_allclose(w[k].numpy(), np.arange(f0 * SPF, (f0 + 8) * SPF) / 1e5, atol=1e-6)
    short = AlignedCodeCrops({"b": codes["b"]}, str(tmp_path), SPF)
    c, w = short.batch(1, 20)  # clip of 12 frames: last frame repeated, silence after
    assert c[0, 11:, 0].tolist() == [11] * 9 and w[0, 12 * SPF:].abs().max() == 0


def _gta_dir(path: Path, codes: dict[str, np.ndarray], fp: str) -> str:
    path.mkdir()
    write_shard(str(path / "shard_00000.npz"), list(codes), list(codes.values()))
    (path / "meta.json").write_text(json.dumps({"kind": "gta", "tts_step": 7, "codec_fingerprint": fp}))
    return str(path)


def test_trainer_with_gta_trains_the_decoder_on_stage3_codes_only_when_they_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    base = dict(ctc_weight=0.0, freeze_encoder=True)
    tr = codec_train.Trainer(_args(tmp_path, **base))
    tr.train_step()  # initialises latent scale + codebook
    tr.save()
    fp = fingerprint(tr.model.flat_state())
    spf = tr.cfg.samples_per_frame
    rows = [json.loads(l) for l in open(tmp_path / "teacher" / "manifest.jsonl")]
    rng = np.random.default_rng(0)
    codes = {r["id"]: np.concatenate([rng.integers(0, tr.cfg.semantic_codebook_size, (n, 1)),
                                      rng.integers(0, tr.cfg.acoustic_codebook_size, (n, tr.cfg.acoustic_dim))], 1)
             for r in rows for n in [int(r["duration"] * 24000) // spf]}

    with pytest.raises(SystemExit, match="regenerate"):
        codec_train.Trainer(_args(tmp_path, gta=_gta_dir(tmp_path / "stale", codes, "0" * 16), gta_frac=0.5, **base))
    with pytest.raises(SystemExit, match="freeze-encoder"):
        codec_train.Trainer(_args(tmp_path, gta=_gta_dir(tmp_path / "g0", codes, fp), gta_frac=0.5, ctc_weight=0.0))

    g = _gta_dir(tmp_path / "gta", codes, fp)
    tr = codec_train.Trainer(_args(tmp_path, gta=g, gta_frac=0.5, **base))
    dec = {k: v.clone() for k, v in tr.model.tokenizer.state_dict().items()}
    enc = {k: v.clone() for k, v in tr.model.encoder.state_dict().items()}
    seen = []
    orig = tr.gta.batch
    tr.gta.batch = lambda n, f: seen.append(n) or orig(n, f)
    row = tr.train_step()
    assert seen == [1] and np.isfinite(float(row["gta_sc"])) and row["gta_sc"] > 0  # batch 2, frac 0.5: one GTA item
    assert any(not torch.equal(v, tr.model.tokenizer.state_dict()[k]) for k, v in dec.items())
    assert all(torch.equal(v, tr.model.encoder.state_dict()[k]) for k, v in enc.items())
    tr.save()
    again = codec_train.Trainer(_args(tmp_path, gta=g, gta_frac=0.5, **base))
    assert again.gta.rng_state() == tr.gta.rng_state()  # the GTA sampler resumes where it was

    old = again.gta
    again.maybe_reload_gta()
    assert again.gta is old  # same stage-3 step: nothing to do
    meta = json.loads((tmp_path / "gta" / "meta.json").read_text())
    (tmp_path / "gta" / "meta.json").write_text(json.dumps({**meta, "tts_step": 8}))  # tts/gta.py wrote newer codes
    again.maybe_reload_gta()
    assert again.gta is not old and again.gta_step == 8 and again.gta.rng_state() == old.rng_state()

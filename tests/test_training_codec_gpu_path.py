"""The codec trainer's options for a borrowed GPU run, exercised on CPU: in-memory crops equal file crops,
the wall-clock stop saves, period discriminators train, and the Opus pack is a teacher folder the trainer reads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from training.codec import train as codec_train
from training.codec.data import TeacherCrops, read_manifest
from training.codec.pack import pack

from test_training_codec_ctc import _args, _fake_teacher

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_preloaded_crops_equal_crops_read_from_the_files(tmp_path):
    root = _fake_teacher(tmp_path / "teacher")
    disk = TeacherCrops(root, heldout=(), seed=3)
    mem = TeacherCrops(root, heldout=(), seed=3, preload=True)
    assert set(mem.audio) == {r["id"] for r in mem.clips}
    for n in (9000, 40000):  # shorter and longer than some clips (padding)
        assert torch.equal(disk.batch(4, n), mem.batch(4, n))


def test_wall_clock_limit_stops_and_saves(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, max_minutes=1e-9, preload=True))
    tr.run()
    assert tr.step <= 1 and (tmp_path / "run" / "last.pt").exists()


def test_period_discriminators_join_the_adversarial_phase_and_log_lazily(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, gan_start=1, disc_periods="2,3", disc_channels=8,
                                   freeze_encoder=True))
    assert sum(type(d).__name__ == "PeriodDiscriminator" for d in tr.disc.discs) == 2
    tr.train_step()
    d0 = [p.clone() for p in tr.disc.parameters()]
    row = tr.train_step()  # step 1 >= gan_start: D and the generator terms are on
    assert {"loss_d", "adv", "feat"} <= set(row) and all(np.isfinite(float(v)) for v in row.values())
    assert any(not torch.equal(a, b) for a, b in zip(d0, tr.disc.parameters()))


def test_opus_pack_is_a_teacher_folder_within_budget_without_held_out_clips(tmp_path):
    src = tmp_path / "teacher"
    (src / "audio").mkdir(parents=True)
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 24000
    with open(src / "manifest.jsonl", "w", encoding="utf-8") as f:
        for i, cid in enumerate(["tr000000", "tr000001", "tr000002", "tr000003", "ho000000"]):  # tr000000: codec held-out
            wav = (0.2 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.01 * rng.standard_normal(24000)).astype(np.float32)
            sf.write(src / "audio" / f"{cid}.flac", wav, 24000)
            f.write(json.dumps({"id": cid, "norm": "x", "duration": 1.0, "sr": 24000, "path": f"audio/{cid}.flac"}) + "\n")
    stats = pack(str(src), str(tmp_path / "pack"), max_bytes=10**7)
    rows = read_manifest(str(tmp_path / "pack" / "manifest.jsonl"))
    assert sorted(r["id"] for r in rows) == ["tr000001", "tr000002", "tr000003"] and stats["clips"] == 3
    for r in rows:  # decodable, same length, close to the source in the spectrum
        y, sr = sf.read(tmp_path / "pack" / r["path"], dtype="float32")
        x, _ = sf.read(src / "audio" / f"{r['id']}.flac", dtype="float32")
        assert sr == 24000 and len(y) == len(x)
        fx, fy = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(y))
        assert np.linalg.norm(fx - fy) < 0.2 * np.linalg.norm(fx)
    small = pack(str(src), str(tmp_path / "small"), max_bytes=stats["bytes"] // 2)
    assert 0 < small["clips"] < 3 and small["bytes"] <= stats["bytes"] // 2
    assert TeacherCrops(str(tmp_path / "pack"), preload=True).batch(2, 30000).shape == (2, 30000)


def test_bf16_steps_keep_the_istft_head_and_losses_in_fp32(tmp_path, monkeypatch):
    """--bf16 (CPU autocast): the networks run in bf16, the iSTFT head's exp/synthesis stays fp32, and a step's
    loss matches an fp32 step from the same state to bf16 precision."""
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    rows = {}
    for bf16 in (False, True):
        torch.manual_seed(0)
        (tmp_path / str(bf16)).mkdir()
        tr = codec_train.Trainer(_args(tmp_path / str(bf16), ctc_weight=0.0, bf16=bf16, freeze_encoder=True,
                                       cycle_weight=1.0))
        if bf16:
            with tr.amp():
                spec = torch.randn(1, 2 * (tr.cfg.n_fft // 2 + 1), 3)
                assert tr.model.tokenizer.istft(spec).dtype == torch.float32
        rows[bf16] = tr.train_step()
    assert all(np.isfinite(float(v)) for v in rows[True].values())
    assert float(rows[True]["loss"]) == pytest.approx(float(rows[False]["loss"]), rel=0.05)

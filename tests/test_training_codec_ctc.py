"""training/codec/ctc.py (phonetic semantic codes) and its wiring into codec/train.py's Trainer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from training.codec import train as codec_train
from training.codec.ctc import PHONES, SUB, CTCHead, ctc_loss, greedy, phone_ids
from training.common.wer import edit_distance


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_phone_ids_drop_stress_spaces_and_punctuation():
    assert len(set(PHONES)) == len(PHONES)
    assert phone_ids("kˈɔl ˈɛdwəɹd ˈɑkæfəɹ.") == [PHONES.index(c) + 1 for c in "kɔlɛdwəɹdɑkæfəɹ"]
    assert phone_ids("“?!, ˌ") == []


def test_greedy_collapses_repeats_and_blanks():
    logp = torch.full((2 * SUB, 5), -10.0)
    for t, k in enumerate([1, 1, 0, 1, 2, 2, 0, 0]):
        logp[t, k] = 0.0
    assert greedy(logp, 2) == [1, 1, 2]
    assert greedy(logp, 1) == [1, 1]  # only the valid frames count


def test_head_learns_phones_that_the_vectors_carry():
    # each frame's vector encodes its phone: the head must learn to read it, and greedy decoding recovers it
    torch.manual_seed(0)
    table = torch.randn(len(PHONES) + 1, 16)
    seqs = [torch.randint(1, len(PHONES) + 1, (6,)) for _ in range(8)]
    x = torch.stack([table[s] for s in seqs])  # [8, 6, 16]: one phone per frame
    head = CTCHead(16, hidden=64)
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    frames = torch.full((8,), 6)
    first = None
    for _ in range(300):
        loss = ctc_loss(head(x), frames, [s.tolist() for s in seqs])
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.1 * first
    # without context a frame cannot know its neighbour, so CTC may emit the next phone one frame early: PER, not equality
    errors = sum(edit_distance(seqs[i].tolist(), greedy(head(x[i:i + 1])[0], 6)) for i in range(8))
    assert errors <= 0.1 * 48


def _tiny_config(path: Path) -> str:
    src = json.loads((Path(codec_train.DEFAULT_CONFIG)).read_text())
    t = src["audio_tokenizer_args"]
    t.update(dim=32, hidden_dim=64, head_dim=16, n_heads=2, n_kv_heads=2, semantic_codebook_size=32)
    path.write_text(json.dumps({"audio_tokenizer_args": t}))
    return str(path)


def _fake_teacher(root: Path, n: int = 5) -> str:
    if (root / "manifest.jsonl").exists():  # a second Trainer in the same test resumes on the same data
        return str(root)
    (root / "audio").mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(root / "manifest.jsonl", "w", encoding="utf-8") as f:
        for i in range(n):
            dur = 0.5 + 0.25 * i
            wav = (0.1 * rng.standard_normal(int(24000 * dur))).astype(np.float32)
            sf.write(root / "audio" / f"c{i}.flac", wav, 24000)
            f.write(json.dumps({"id": f"c{i}", "voice": "v", "norm": "a b", "phonemes": "ˈæb ˈkæt", "duration": dur,
                                "sr": 24000, "path": f"audio/c{i}.flac"}) + "\n")
    return str(root)


def _args(tmp_path: Path, **kw) -> argparse.Namespace:
    ns = dict(config=_tiny_config(tmp_path / "codec.json"), teacher=_fake_teacher(tmp_path / "teacher"),
              out=str(tmp_path / "run"), init="", warm_start="", seed=0, batch=2, frames=4, lr=1e-3, lr_min=0.1,
              warmup=2, total_steps=100, clip=1.0, mel_weight=1.0, commit_weight=0.25, ema_decay=0.99,
              dead_usage=2e-3, fsq_dropout=0.25, vq_dropout=0.25, dropout_steps=0, freeze_encoder=False,
              gan_start=0, gta="", gta_frac=0.5, latent_hinge=0.0, latent_max=4.0, lr_encoder_scale=1.0, cycle_weight=0.0, cycle_refresh=2, adv_weight=0.5, feat_weight=4.0, lr_d=2e-4, ctc_weight=1.0, lr_ctc=2e-3, ctc_batch=2, ctc_max_s=2.0,
              log_every=1, ckpt_min=1e9, eval_min=1e9, eval_at_start=False, reload_min=1e9, asr=False, max_steps=0,
              max_minutes=0.0, device="cpu", preload=False, disc_periods="", disc_channels=16, bf16=False,
              restart_at=0, phase_weight=0.0, phase_fft=512)
    ns.update(kw)
    return argparse.Namespace(**ns)


def test_trainer_with_ctc_head_trains_saves_resumes_and_reports_per(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [
        ({"id": "c0", "norm": "a b", "phonemes": "ˈæb ˈkæt"}, np.zeros(12000, np.float32))])
    tr = codec_train.Trainer(_args(tmp_path))
    rows = [tr.train_step() for _ in range(3)]
    assert all(np.isfinite(r["ctc"]) and r["ctc"] > 0 for r in rows)
    enc_before = {k: v.clone() for k, v in tr.model.encoder.state_dict().items()}
    tr.train_step()
    assert any(not torch.equal(v, tr.model.encoder.state_dict()[k]) for k, v in enc_before.items())  # encoder learns
    row = tr.evaluate()
    assert 0.0 <= row["per"]
    tr.save()
    again = codec_train.Trainer(_args(tmp_path))
    assert again.step == tr.step
    assert all(torch.equal(a, b) for a, b in zip(again.ctc.state_dict().values(), tr.ctc.state_dict().values()))


def test_frozen_encoder_with_ctc_is_a_probe_that_leaves_the_codes_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, freeze_encoder=True))
    tr.train_step()  # first step initialises the latent scale + codebook
    enc = {k: v.clone() for k, v in tr.model.encoder.state_dict().items()}
    head = [p.clone() for p in tr.ctc.parameters()]
    tr.train_step()
    assert all(torch.equal(v, tr.model.encoder.state_dict()[k]) for k, v in enc.items())
    assert any(not torch.equal(a, b) for a, b in zip(head, tr.ctc.parameters()))


def test_cycle_loss_trains_the_decoder_but_never_the_judging_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, cycle_weight=1.0))
    tr.train_step()
    judge = tr.judge
    assert all(not p.requires_grad for p in judge.parameters())
    before = {k: v.clone() for k, v in judge.state_dict().items()}
    row = tr.train_step()
    assert row["cycle"] > 0 and np.isfinite(row["cycle"])
    assert all(torch.equal(v, judge.state_dict()[k]) for k, v in before.items())  # the judge did not learn
    tr.train_step()  # step 2: --cycle-refresh 2 takes a fresh copy of the (trained) encoder
    assert tr.judge is not judge


def test_latent_hinge_is_zero_within_the_limit_and_pushes_runaway_frames_back():
    from training.codec.ctc import latent_hinge

    calm = torch.randn(2, 10, 64)  # RMS ~ 1 per frame
    assert latent_hinge(calm, 4.0).item() == 0.0
    wild = calm.clone()
    wild[0, 3] *= 100.0  # one runaway frame
    wild.requires_grad_(True)
    loss = latent_hinge(wild, 4.0)
    loss.backward()
    assert loss.item() > 0
    assert wild.grad[0, 3].abs().sum() > 0 and wild.grad[1].abs().sum() == 0  # only the runaway frame is pushed
    assert torch.sign(wild.grad[0, 3]).eq(torch.sign(wild[0, 3].detach())).all()  # descent shrinks it


def test_slower_encoder_group_and_hinge_in_training_and_a_mismatched_resume_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    tr = codec_train.Trainer(_args(tmp_path, lr_encoder_scale=0.1, latent_hinge=1.0, latent_max=0.0))
    row = tr.train_step()
    assert row["hinge"] > 0  # limit 0: every frame pays
    enc, rest = tr.opt.param_groups
    assert enc["lr"] == pytest.approx(0.1 * rest["lr"]) and rest["lr"] > 0
    tr.save()
    with pytest.raises(SystemExit, match="lr-encoder-scale"):
        codec_train.Trainer(_args(tmp_path))  # one group now, two in the checkpoint

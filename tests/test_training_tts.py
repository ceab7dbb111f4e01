"""The backbone + flow head trainer (training/tts/*.py, stage 4 of training/voice_v2), training/ship/*.py and the
quality benchmark's pure parts, on tiny random models and synthetic data: no teacher audio, no codec training needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from training.tts import config as tts_config
from training.tts import vocab as tokenizer_train
from training.tts.data import Batcher, collate, synthetic_examples, voice_prompt_codes
from training.tts.model import build_model, compute_losses, frame_hiddens
from vox_edge.config import END_AUDIO, N_AUDIO_SPECIAL
from vox_edge.export.synthetic_params import make_params
from vox_edge.runtime.tokenizer import TekkenTokenizer

ROOT = Path(__file__).resolve().parents[1]

TEXTS = [
    "In two hundred fifty meters, turn slightly right.", "The speed limit is forty-five kilometers per hour.",
    "Incoming call from Doctor Smith.", "Battery at forty-nine percent.", "A diligent search of the files.",
    "Rerouting. Bear left in four hundred fifty meters onto Clifton Boulevard.", "Set a timer for ten minutes.",
] * 3


def tiny_codec_args() -> dict:
    at = make_params("tiny")["multimodal"]["audio_tokenizer_args"]
    at = {k: v for k, v in at.items() if k != "voice"}
    at.update(encoder_transformer_lengths_str="0,1,1,1", encoder_convs_kernels_str="4,4,4,3",
              encoder_convs_strides_str="2,2,2,1")
    return at


@pytest.fixture(scope="module")
def tekken(tmp_path_factory):
    tk = tokenizer_train.build_tekken(TEXTS, vocab_size=400, num_special=64)
    path = tmp_path_factory.mktemp("tk") / "tekken.json"
    path.write_text(json.dumps(tk, ensure_ascii=False), encoding="utf-8")
    return path, tk


# ---------------------------------------------------------------- tokenizer
def test_tokenizer_is_deterministic_and_round_trips(tekken):
    path, tk = tekken
    assert tokenizer_train.build_tekken(TEXTS, vocab_size=400, num_special=64) == tk
    assert tk["config"]["default_vocab_size"] == 400 and tk["config"]["default_num_special_tokens"] == 64
    report = tokenizer_train.verify(str(path), TEXTS + ["Digits 123, $4.50 and émigré ☃."])
    assert report["texts"] == len(TEXTS) + 1
    tok = TekkenTokenizer.from_file(path)
    assert len(tok.encode(TEXTS[0])) < len(TEXTS[0].encode()) / 2  # merges were learned
    assert (tok.audio_id, tok.begin_audio_id, tok.repeat_audio_text_id, tok.next_audio_text_id) == (24, 25, 35, 36)


def test_tokenizer_prompt_matches_mistral_common(tekken, tmp_path):
    pytest.importorskip("mistral_common")
    from mistral_common.protocol.speech.request import SpeechRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    path = tmp_path / "tekken.json"
    path.write_text(json.dumps(tokenizer_train.with_voices(tekken[1], {"neutral_male": 7})), encoding="utf-8")
    ours = TekkenTokenizer.from_file(path)
    ref = MistralTokenizer.from_file(str(path))
    for text in TEXTS[:7]:
        assert ours.encode_tts(text, "neutral_male") == ref.encode_speech_request(
            SpeechRequest(input=text, voice="neutral_male")).tokens


# ---------------------------------------------------------------- params and dims
def test_default_dims_fit_the_budget():
    path = ROOT / "training" / "configs" / "codec_small.json"
    if not path.exists():
        pytest.skip("the codec stage's config is not in this checkout")
    with open(path, encoding="utf-8") as f:
        codec = json.load(f)["audio_tokenizer_args"]
    p = tts_config.make_params(tts_config.DIMS, 2112, codec, {"neutral_male": 0})
    est = tts_config.estimates(p)
    assert est["bundle_mb_int8"] <= 25.0
    assert p["multimodal"]["audio_model_args"]["acoustic_transformer_args"]["dim"] == p["dim"]  # docs/model.md#acoustic-head
    assert p["multimodal"]["audio_tokenizer_args"]["voice"] == {"neutral_male": 0}


# ---------------------------------------------------------------- data + model maths
def _setup(tekken, n=12, seed=0):
    tk = TekkenTokenizer.from_dict(tekken[1])
    at = tiny_codec_args()
    params = tts_config.make_params(tts_config.TINY_DIMS, tk.vocab_size, at, {"neutral_male": 0})
    exs = synthetic_examples(n, (tk.num_special_tokens, tk.vocab_size), at["semantic_codebook_size"],
                             at["acoustic_dim"], at["acoustic_codebook_size"], seed=seed, max_text=5)
    voice = torch.from_numpy(voice_prompt_codes(exs[0].codes - N_AUDIO_SPECIAL, at["acoustic_dim"]))
    return tk, params, exs, voice


def test_collate_targets_follow_spec_alignment(tekken):
    tk, params, exs, voice = _setup(tekken)
    b = collate(exs[:3], len(voice), tk.tts_ids)
    for i, e in enumerate(exs[:3]):
        L = len(voice) + 5 + len(e.text_ids)
        T = len(e.codes)
        assert b.ids[i, L - 1] == tk.begin_audio_id and b.ids[i, L - 2] == tk.repeat_audio_text_id
        assert b.tgt_pos[i, 0] == L - 1 and b.tgt_pos[i, T] == L + T - 1  # last prompt token -> frame 0
        assert b.sem_tgt[i, T] == END_AUDIO and (b.sem_tgt[i, T + 1:] == -100).all()
        assert torch.equal(b.codes_in[i, L:L + T], torch.from_numpy(e.codes))
        assert torch.equal(b.ac_tgt[i, :T] + N_AUDIO_SPECIAL, torch.from_numpy(e.codes[:, 1:]))
    assert voice[-1, 0] == END_AUDIO and (voice[-1, 1:] == 0).all()  # docs/model.md#voices END row


def test_teacher_forced_hiddens_equal_the_generation_loop(tekken):
    """Training alignment == inference: hidden f of the batch path is the one generate() uses for frame f."""
    tk, params, exs, voice = _setup(tekken)
    model = build_model(params, seed=1).eval()
    b = collate(exs[:2], len(voice), tk.tts_ids)
    with torch.no_grad():
        h = frame_hiddens(model, b, voice)
        for i, e in enumerate(exs[:2]):
            ids = torch.tensor(tk.build_tts_prompt(e.text_ids, len(voice)))
            hid, past = model.backbone(model.prompt_embeddings(ids, model.embed_codes(voice)))
            steps = [hid[0, -1]]
            for c in torch.from_numpy(e.codes):
                hid, past = model.backbone(model.embed_codes(c)[None, None], past)
                steps.append(hid[0, -1])
            torch.testing.assert_close(h[i, : len(e.codes) + 1], torch.stack(steps), atol=1e-4, rtol=1e-4)


def test_batcher_resumes_exactly(tekken):
    _, _, exs, voice = _setup(tekken, n=40)
    a = Batcher(exs, len(voice), batch_tokens=200, seed=3)
    for _ in range(5):
        a.next()
    b = Batcher(exs, len(voice), batch_tokens=200, seed=3)
    b.set_state(a.state())
    for _ in range(8):  # crosses an epoch boundary
        assert [e.id for e in a.next()] == [e.id for e in b.next()]


def test_losses_are_finite_and_cfg_dropout_zeroes_the_condition(tekken):
    tk, params, exs, voice = _setup(tekken)
    model = build_model(params, seed=0)
    b = collate(exs[:4], len(voice), tk.tts_ids)
    m = compute_losses(model, b, voice, generator=torch.Generator().manual_seed(0))
    assert all(torch.isfinite(v) for v in m.values())
    assert abs(float(m["ce"].detach()) - np.log(model.cfg.semantic_vocab - 1)) < 0.5  # near-uniform at init
    m.pop("loss").backward()
    assert model.mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight.grad.abs().sum() > 0
    # p_uncond = 1: every condition token is the zero vector (CFG's unconditional branch), so the flow loss
    # carries no gradient into llm_projection or the backbone
    model.zero_grad(set_to_none=True)
    compute_losses(model, b, voice, p_uncond=1.0, generator=torch.Generator().manual_seed(0))["fm"].backward()
    assert model.acoustic_transformer.llm_projection.weight.grad.abs().sum() == 0
    assert model.layers[0].attention.wq.weight.grad.abs().sum() == 0


def _model_and_batch(tekken, n: int):
    """A fresh small model, a batch of the first n examples, and the voice codes."""
    tk, params, exs, voice = _setup(tekken)
    return build_model(params, seed=0), collate(exs[:n], len(voice), tk.tts_ids), voice


def test_attention_recorder_leaves_the_model_unchanged_and_sees_rows_that_sum_to_one(tekken):
    from training.tts.model import frame_hiddens, record_attention

    model, b, voice = _model_and_batch(tekken, 3)
    with torch.no_grad():
        plain = frame_hiddens(model, b, voice)
        with record_attention(model, (1,), heads=2) as probs:
            seen = frame_hiddens(model, b, voice)
        after = frame_hiddens(model, b, voice)
    assert torch.equal(plain, seen) and torch.equal(plain, after)  # unpatched again on exit
    batch_part = [a for a in probs if a.shape[3] != a.shape[2]]
    assert len(probs) == 2 and len(batch_part) == 1 and batch_part[0].shape[:2] == (3, 2)
    assert torch.allclose(batch_part[0].sum(-1), torch.ones(()), atol=1e-5)


def test_guided_attention_loss_is_zero_on_the_diagonal_and_large_off_it(tekken):
    from training.tts.model import guided_attention_loss

    tk, params, exs, voice = _setup(tekken)
    b = collate(exs[:2], len(voice), tk.tts_ids)
    p = len(voice) + 3
    s = b.ids.shape[1] - p
    diag, anti = torch.zeros(2, 1, s, p + s), torch.zeros(2, 1, s, p + s)
    for i in range(2):
        n = int(b.tgt_pos[i, 0]) + 1 - 2 - p  # text tokens
        t = int(b.ac_valid[i].sum())
        for f in range(t):
            j = min(n - 1, round(f * n / t))
            diag[i, 0, n + 2 + f, p + j] = 1.0
            anti[i, 0, n + 2 + f, p + n - 1 - j] = 1.0
    away = torch.zeros(2, 1, s, p + s)
    away[..., 0] = 1.0  # every frame looks at BOS: no text at all
    low, high = guided_attention_loss([diag], b), guided_attention_loss([anti], b)
    assert float(low) < 0.2 and float(high) > 3 * float(low)  # short toy texts: rounding keeps low above 0
    assert float(guided_attention_loss([away], b)) == pytest.approx(1.0)


def test_guided_weight_holds_then_decays_to_zero():
    from types import SimpleNamespace

    from training.tts.train import guided_weight

    a = SimpleNamespace(guided_weight=2.0, guided_layers=(1,), guided_steps=100)
    assert [guided_weight(s, a) for s in (0, 100, 150, 200, 500)] == [2.0, 2.0, 1.0, 0.0, 0.0]
    assert guided_weight(0, SimpleNamespace(guided_weight=2.0, guided_layers=(), guided_steps=100)) == 0.0


# ---------------------------------------------------------------- training loop, resume, export
@pytest.fixture(scope="module")
def trained(tekken, tmp_path_factory):
    from training.tts import train as tts_train

    out = tmp_path_factory.mktemp("tts")
    cfg = out / "codec.json"
    cfg.write_text(json.dumps({"audio_tokenizer_args": tiny_codec_args()}), encoding="utf-8")
    common = ["--synthetic", "24", "--dims", "tiny", "--out", str(out), "--tekken", str(tekken[0]),
              "--codec-config", str(cfg), "--codec", "", "--batch-tokens", "600", "--lr", "3e-3",
              "--warmup", "5", "--log-every", "5", "--eval-gen", "1", "--eval-min", "1000", "--no-asr",
              "--guided-layers", "1", "--guided-steps", "20"]
    tts_train.main(common + ["--max-steps", "28"])  # stops mid log window
    first = [json.loads(l) for l in (out / "log.jsonl").read_text().splitlines()]
    tts_train.main(common + ["--max-steps", "12", "--bf16"])  # resumes from last.pt, in bf16 autocast
    rows = [json.loads(l) for l in (out / "log.jsonl").read_text().splitlines()]
    return out, first, rows, cfg


def test_training_loss_falls_and_resume_continues(trained):
    out, first, rows, _ = trained
    train = [r for r in rows if not r.get("eval")]
    assert all(np.isfinite(r["loss"]) for r in train)
    assert train[-1]["step"] == 40 and [r["step"] for r in train[:6]] == [5, 10, 15, 20, 25, 30]
    assert train[-1]["loss"] < 0.8 * train[0]["loss"]
    by_step = {r["step"]: r for r in train}  # step 30 closes a 2-step window (resumed at 28): a mean, not a sum / 5
    assert 0.7 * by_step[35]["loss"] < by_step[30]["loss"] < 2 * by_step[25]["loss"]
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert state["step"] == 40 and (out / "last.prev.pt").exists()
    assert state["tekken"]["audio"]["voice_num_audio_tokens"] == {"neutral_male": len(state["voice"]["codes"])}


def _tiny_codec_file(path: Path, args: dict) -> None:
    from training.tts.codec import LoadedCodec, codec_config, fingerprint, save_compact_like

    from vox_edge.export.reference.codec import AudioTokenizer
    from vox_edge.export.reference.codec_encoder import AudioEncoder

    torch.manual_seed(0)
    cfg = codec_config(args)
    enc, dec = AudioEncoder(cfg), AudioTokenizer(cfg)
    with torch.no_grad():  # a non-trivial semantic codebook (usage != 1) to check the export folds it
        cb = dec.quantizer.semantic_codebook
        cb.embedding_sum.normal_()
        cb.cluster_usage.uniform_(0.5, 2.0)
    fp = fingerprint({**dec.state_dict(), **enc.state_dict()})
    save_compact_like(LoadedCodec(enc, dec, args, 7, fp, ""), str(path))


def test_codec_round_trip_through_the_compact_format(tmp_path):
    from training.tts.codec import load_codec

    _tiny_codec_file(tmp_path / "codec.pt", tiny_codec_args())
    c = load_codec(str(tmp_path / "codec.pt"))
    wave = torch.randn(3 * c.cfg.samples_per_frame + 100)
    codes = c.encode(wave)
    assert codes.shape == (4, 1 + c.cfg.acoustic_dim) and codes.min() >= 0
    assert c.decode(codes).shape == (4 * c.cfg.samples_per_frame,)
    assert load_codec(str(tmp_path / "codec.pt")).fingerprint == c.fingerprint


def test_export_writes_the_release_format(trained, tmp_path):
    from training.ship import export_checkpoint
    from training.tts.codec import load_codec

    from vox_edge.export.checkpoint import Checkpoint, load_reference_model
    from vox_edge.export.safetensors_io import read_header

    out, _, _, cfg = trained
    args = json.loads(cfg.read_text())["audio_tokenizer_args"]
    _tiny_codec_file(tmp_path / "codec.pt", args)
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    codec = load_codec(str(tmp_path / "codec.pt"))
    ck_dir = export_checkpoint.write_checkpoint(state, codec, tmp_path / "ckpt")
    assert sorted(p.name for p in ck_dir.iterdir()) == ["consolidated.safetensors", "params.json", "tekken.json",
                                                          "voice_embedding"]
    header = read_header(ck_dir / "consolidated.safetensors")
    assert {v["dtype"] for v in header.values()} == {"BF16"}
    assert any(k.startswith("audio_tokenizer.encoder_blocks.") for k in header)  # encoder kept (tolerated)

    ck = Checkpoint.open(ck_dir)  # strict names / shapes
    model = load_reference_model(ck)  # strict load, codec included
    info = export_checkpoint.verify(ck_dir)
    assert info["voice"] == "neutral_male" and info["voice_rows"] == len(state["voice"]["codes"])
    # voice file = sums of rows of the (BF16) table, as the release builds it
    v = ck.voice("neutral_male").float()
    codes = torch.tensor(state["voice"]["codes"])
    torch.testing.assert_close(v, model.embed_codes(codes), atol=0.05, rtol=0.02)
    # E_sem survives the fold (one BF16 rounding)
    torch.testing.assert_close(model.audio_tokenizer.semantic_embedding(), codec.tokenizer.semantic_embedding(),
                               atol=1e-2, rtol=1e-2)
    # the trained weights arrive (BF16)
    w = "layers.0.attention.wq.weight"
    torch.testing.assert_close(ck.tensor(w), state["model"][w].to(torch.bfloat16).float())
    # and the reference can speak with them: prompt from tekken.json + voice, a few frames, decoded
    ids = torch.tensor(ck.tokenizer.encode_tts("Turn left.", "neutral_male"))
    g = model.generate(model.prompt_embeddings(ids, v), torch.randn(6, model.cfg.n_acoustic_codebook), 6)
    assert g.codes.shape[1] == model.cfg.n_codebooks
    if len(g.codes):
        assert torch.isfinite(model.codes_to_audio(g.codes)).all()


def test_export_refuses_another_codec(trained, tmp_path):
    out, _, _, cfg = trained
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    state["codec"]["fingerprint"] = "0123456789abcdef"
    torch.save(state, tmp_path / "last.pt")
    _tiny_codec_file(tmp_path / "codec.pt", json.loads(cfg.read_text())["audio_tokenizer_args"])
    from training.ship import export_checkpoint

    argv = sys.argv
    sys.argv = ["ship/export_checkpoint.py", "--tts", str(tmp_path / "last.pt"), "--codec", str(tmp_path / "codec.pt"),
                "--out", str(tmp_path / "ckpt")]
    try:
        with pytest.raises(SystemExit, match="trained on codes of"):
            export_checkpoint.main()
    finally:
        sys.argv = argv
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.slow
def test_exported_checkpoint_becomes_an_int8_bundle_that_speaks(trained, tmp_path):
    from training.ship import export_checkpoint
    from training.tts.codec import load_codec

    import vox_edge.runtime as rt
    from vox_edge.export.bundle import export_bundle

    out, _, _, cfg = trained
    _tiny_codec_file(tmp_path / "codec.pt", json.loads(cfg.read_text())["audio_tokenizer_args"])
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    ck = export_checkpoint.write_checkpoint(state, load_codec(str(tmp_path / "codec.pt")), tmp_path / "ckpt")
    bundle = export_bundle(ck, tmp_path / "bundle", precision="int8", progress=lambda *_: None)
    engine = rt.load(bundle)
    assert engine.voices == ("neutral_male",)
    audio = engine.synthesize("Turn left in 200 meters.", max_frames=8)
    assert audio.samples.dtype == np.float32 and np.isfinite(audio.samples).all()


def _resume_trained(trained, tekken, *extra: str):
    """A Trainer on the trained tiny model (resumed from its last.pt; nothing is written unless it saves)."""
    from training.tts import train as tts_train

    out, _, _, cfg = trained
    return tts_train.Trainer(tts_train.parser().parse_args(
        ["--synthetic", "24", "--dims", "tiny", "--out", str(out), "--tekken", str(tekken[0]),
         "--codec-config", str(cfg), "--codec", "", "--no-asr", *extra]))


def test_own_acoustic_inputs_swap_only_acoustic_inputs_of_the_chosen_clips(tekken):
    from training.tts.data import own_acoustic_inputs

    tk, _, exs, voice = _setup(tekken)
    tok_ids, exs, n_ac = tk.tts_ids, exs[:4], exs[0].codes.shape[1] - 1
    rng = np.random.default_rng(0)
    own = {e.id: np.concatenate([rng.integers(0, 16, (len(e.codes), 1)), rng.integers(0, 21, (len(e.codes), n_ac))], 1)
           for e in exs[:3]}  # the 4th clip has no own codes
    base = collate(exs, len(voice), tok_ids)
    batch = collate(exs, len(voice), tok_ids)
    assert own_acoustic_inputs(batch, exs, own, 1.0) == 3
    for i, e in enumerate(exs):
        f = batch.is_frame[i]
        if e.id in own:  # acoustic inputs are the own codes (+2 space); the semantic input stays the true code
            assert torch.equal(batch.codes_in[i][f][:, 1:], torch.from_numpy(own[e.id][:, 1:]) + 2)
            assert torch.equal(batch.codes_in[i][f][:, 0], base.codes_in[i][f][:, 0])
        else:
            assert torch.equal(batch.codes_in[i], base.codes_in[i])
    for k in ("sem_tgt", "ac_tgt", "ids", "is_frame"):  # targets and prompt untouched
        assert torch.equal(getattr(batch, k), getattr(base, k))
    none = collate(exs, len(voice), tok_ids)
    assert own_acoustic_inputs(none, exs, own, 0.0) == 0 and torch.equal(none.codes_in, base.codes_in)


def test_trainer_feeds_own_inputs_only_from_codes_of_its_codec(trained, tekken, tmp_path):
    from training.tts.codes import write_shard

    tr = _resume_trained(trained, tekken, "--batch-tokens", "600")
    for name, fp in (("bad", "0" * 16), ("good", tr.codec_info["fingerprint"])):
        d = tmp_path / name
        d.mkdir()
        write_shard(str(d / "shard_00000.npz"), [e.id for e in tr.train_ex], [e.codes - 2 for e in tr.train_ex])
        (d / "meta.json").write_text(json.dumps({"kind": "gta", "tts_step": 1, "codec_fingerprint": fp}))
    with pytest.raises(SystemExit, match="regenerate"):
        _resume_trained(trained, tekken, "--batch-tokens", "600", "--own-inputs", str(tmp_path / "bad"))
    tr = _resume_trained(trained, tekken, "--batch-tokens", "600", "--own-inputs", str(tmp_path / "good"),
                         "--own-inputs-p", "1")
    row = tr.train_step()  # in memory only: the fixture's last.pt is not rewritten
    assert row["own_inputs"] == row["batch"] and np.isfinite(float(row["loss"]))
    # a newer set swapped in (meta.json last, a higher tts_step) is taken at the next check; the same set is not re-read
    first = tr.own
    tr.maybe_reload_own()
    assert tr.own is first
    good = tmp_path / "good"
    write_shard(str(good / "shard_00000.npz"), [e.id for e in tr.train_ex], [e.codes[:, :1].repeat(
        e.codes.shape[1], 1) - 2 for e in tr.train_ex])
    (good / "meta.json").write_text(json.dumps({"kind": "gta", "tts_step": 2, "codec_fingerprint": fp}))
    tr.maybe_reload_own()
    assert tr.own_step == 2 and tr.own is not first
    e = tr.train_ex[0]
    assert np.array_equal(tr.own[e.id], e.codes[:, :1].repeat(e.codes.shape[1], 1) - 2)


def test_weight_ema_follows_training_and_is_what_eval_and_export_read(trained, tekken, tmp_path):
    import shutil

    from training.ship import export_checkpoint
    from training.tts import train as tts_train

    out = tmp_path / "run"
    shutil.copytree(trained[0], out, ignore=shutil.ignore_patterns("samples"))
    args = ["--synthetic", "24", "--dims", "tiny", "--out", str(out), "--tekken", str(tekken[0]),
            "--codec-config", str(trained[3]), "--codec", "", "--no-asr", "--batch-tokens", "600"]
    tr = tts_train.Trainer(tts_train.parser().parse_args(args + ["--ema-decay", "0.5"]))
    start = {k: v.clone() for k, v in tr.ema.items()}  # switched on mid-run: the current weights
    assert all(torch.equal(start[k], v) for k, v in tr.model.state_dict().items() if k in start)
    tr.train_step()
    w1 = {k: v.clone() for k, v in tr.model.state_dict().items()}
    for k in ("norm.weight", "layers.0.attention.wq.weight"):
        torch.testing.assert_close(tr.ema[k], 0.5 * start[k] + 0.5 * w1[k])
    row = tr.evaluate()
    assert row["ema"] is True and all(torch.equal(w1[k], v) for k, v in tr.model.state_dict().items())  # restored
    tr.save()
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert torch.equal(state["ema"]["norm.weight"], tr.ema["norm.weight"])
    again = tts_train.Trainer(tts_train.parser().parse_args(args + ["--ema-decay", "0.5"]))  # a resume with an EMA
    assert torch.equal(again.ema["norm.weight"], tr.ema["norm.weight"]) and again.step == tr.step
    assert again.batcher.state() == tr.batcher.state() and torch.equal(again.gen.get_state(), tr.gen.get_state())
    from training.tts.codec import load_codec

    from vox_edge.export.onnx_utils import TensorReader

    state["ema"]["norm.weight"] = torch.full_like(state["ema"]["norm.weight"], 3.0)  # recognisable in the export
    _tiny_codec_file(tmp_path / "codec.pt", json.loads(trained[3].read_text())["audio_tokenizer_args"])
    ck = export_checkpoint.write_checkpoint(state, load_codec(str(tmp_path / "codec.pt")), tmp_path / "ckpt")
    with TensorReader(ck / "consolidated.safetensors") as r:
        assert (r.rows("norm.weight", 0, r.shape("norm.weight")[0]).astype("float32") == 3.0).all()


def test_warm_start_under_another_vocabulary_keeps_all_but_the_new_text_rows(trained, tekken, tmp_path):
    from training.tts import train as tts_train

    chars = tmp_path / "tekken_chars.json"  # bytes only: 64 specials + 256 byte tokens, no merges
    chars.write_text(json.dumps(tokenizer_train.build_tekken(TEXTS, vocab_size=320, num_special=64)), encoding="utf-8")
    out, _, _, cfg = trained
    src = torch.load(out / "last.pt", map_location="cpu", weights_only=False)["model"]
    tr = tts_train.Trainer(tts_train.parser().parse_args(
        ["--synthetic", "24", "--dims", "tiny", "--out", str(tmp_path / "run"), "--tekken", str(chars),
         "--codec-config", str(cfg), "--codec", "", "--no-asr", "--init", str(out / "last.pt")]))
    assert tr.params["vocab_size"] == 320 and tr.step == 0
    new = tr.model.state_dict()
    (key,) = [k for k in new if new[k].shape != src[k].shape]  # the text table alone changes shape
    assert "tok_embeddings" in key and len(new[key]) < len(src[key])
    assert torch.equal(new[key][:320], src[key][:320])  # specials + bytes: the same ids in both vocabularies
    assert all(torch.equal(new[k], src[k]) for k in new if k != key)


def test_warm_start_into_a_deeper_model_adds_identity_layers(trained, tekken, tmp_path, monkeypatch):
    """--dims deep from a shallower run: the new blocks start as the identity, so the deeper model computes what
    its source did (same hidden states), and the new blocks still train."""
    from training.tts import config as tts_config
    from training.tts import train as tts_train

    out, _, _, cfg = trained
    args = ["--synthetic", "24", "--dims", "tiny", "--tekken", str(tekken[0]), "--codec-config", str(cfg),
            "--codec", "", "--no-asr", "--bf16"]
    shallow = tts_train.Trainer(tts_train.parser().parse_args(
        args + ["--out", str(tmp_path / "s"), "--init", str(out / "last.pt")]))
    depth = tts_config.TINY_DIMS["n_layers"]
    monkeypatch.setitem(tts_config.TINY_DIMS, "n_layers", depth + 1)
    deep = tts_train.Trainer(tts_train.parser().parse_args(
        args + ["--out", str(tmp_path / "d"), "--init", str(out / "last.pt")]))
    new = f"layers.{depth}."
    assert any(k.startswith(new) for k in deep.model.state_dict())
    assert not deep.model.state_dict()[new + "attention.wo.weight"].any()
    assert deep.model.state_dict()[new + "attention.wq.weight"].any()  # the rest keeps its fresh init
    embeds = torch.randn(1, 12, deep.params["dim"])  # [B, S, D]
    with torch.no_grad():
        torch.testing.assert_close(deep.model.backbone(embeds)[0], shallow.model.backbone(embeds)[0])
    w0 = deep.model.state_dict()[new + "feed_forward.w2.weight"].clone()
    deep.train_step()
    assert not torch.equal(deep.model.state_dict()[new + "feed_forward.w2.weight"], w0)


# ---------------------------------------------------------------- quality benchmark (no ASR needed)
def test_quality_benchmark_selection_and_scoring():
    from vox_edge.benchmarks import quality_wer

    rows = quality_wer.select(str(ROOT / "training" / "corpus" / "heldout.tsv"), 100)
    assert len(rows) == 100 and len({r["id"] for r in rows}) == 100
    assert {r["category"] for r in rows} == {"nav", "car", "num", "addr", "prose"}  # evenly spaced over the groups
    clips = [{"id": r["id"], "category": r["category"], "norm": r["norm"]} for r in rows[:3]]
    hyps = {clips[0]["id"]: clips[0]["norm"], clips[1]["id"]: "", clips[2]["id"]: clips[2]["norm"].upper()}
    s = quality_wer.score(clips, hyps)
    assert s["errors"] == clips[1]["words"] and 0 < s["wer"] < 1
    assert s["matched"] == pytest.approx(1 - clips[1]["words"] / s["words"], abs=1e-4)  # clip 1 heard nothing
    run = {"label": "x", "precisions": {"backbone": "int8"}, "clips": clips, "score": s, "rtf": 0.05,
           "ttfa_p50_ms": 100.0, "ttfa_p95_ms": 150.0, "stopped": "3/3", "audio_s": 9.0}
    assert "| x | int8 / - / - | 3 |" in quality_wer.table([run])


def test_quality_benchmark_pools_seeds_over_all_their_sentences():
    import argparse

    from vox_edge.benchmarks import quality_wer

    assert quality_wer.parse_seeds("0,1,2") == [0, 1, 2] and quality_wer.parse_seeds("3") == [3]
    for bad in ("", "1,1", "a"):
        with pytest.raises((argparse.ArgumentTypeError, ValueError)):
            quality_wer.parse_seeds(bad)
    rows = quality_wer.select(str(ROOT / "training" / "corpus" / "heldout.tsv"), 100)[:2]

    def run(seed: int, hyp_of) -> dict:
        clips = [{"id": r["id"], "category": r["category"], "norm": r["norm"], "duration": 2.0, "elapsed": 0.1 * (seed + 1),
                  "ttfa_ms": 10.0 * (seed + 1), "stopped": True} for r in rows]
        return {"label": f"int8@{seed}", "seed": seed, "precisions": {"backbone": "int8"}, "clips": clips,
                "score": quality_wer.score(clips, {c["id"]: hyp_of(c) for c in clips})}

    right, silent = run(0, lambda c: c["norm"]), run(1, lambda c: "")
    p = quality_wer.pooled("int8", [right, silent])
    words = right["score"]["words"]
    assert right["score"]["wer"] == 0 and silent["score"]["wer"] == 1
    assert p["score"]["words"] == 2 * words and p["score"]["errors"] == words and p["score"]["wer"] == 0.5
    assert p["per_seed"] == {"0": 0.0, "1": 1.0} and p["seeds"] == [0, 1] and p["score"]["matched"] == 0.5
    assert p["rtf"] == pytest.approx((0.1 + 0.2) * 2 / 8.0) and p["stopped"] == "4/4" and p["audio_s"] == 8.0
    assert "| int8 | int8 / - / - | 4 |" in quality_wer.table([p])


def test_matched_words_ignore_invented_words_that_wer_counts():
    from training.common.wer import matched_words, wer_counts

    ref = "turn left in two hundred meters"
    babble = "thank you turn for watching left in two hundred and fifty meters thank you"
    assert wer_counts(ref, babble)[0] > 6  # WER past 100 %
    assert matched_words(ref, babble) == 6  # yet every reference word was said, in order
    assert matched_words(ref, "meters hundred two in left turn") == 1
    assert matched_words(ref, "Turn left in 200 meters.") == 6  # normalised like WER


# ---------------------------------------------------------------- shipping the default voice (ship/default.py)
def test_ship_gates_and_atomic_install(tmp_path):
    from types import SimpleNamespace

    from training.ship import default as ship_default

    a = SimpleNamespace(max_mb=25.0, max_wer=0.10, max_gap=1.5)
    ok = {"int8_mb": 24.6, "wer_int8": 0.08, "wer_fp32": 0.07}
    assert ship_default.gates(ok, a) == []
    assert len(ship_default.gates({**ok, "int8_mb": 25.1}, a)) == 1
    assert len(ship_default.gates({**ok, "wer_int8": 0.11, "wer_fp32": 0.09}, a)) == 2  # WER and the gap
    src, dest = tmp_path / "b", tmp_path / "assets" / "default_bundle"
    src.mkdir()
    (src / "manifest.json").write_text("{}")
    dest.mkdir(parents=True)
    (dest / "stale.onnx").write_text("old")
    ship_default.install(str(src), str(dest))
    assert sorted(p.name for p in dest.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["default_bundle"]
    # --preview may ship past the quality gates, never past the size gate; the record says what was measured
    assert ship_default.quality_gates_only(ship_default.gates({**ok, "wer_int8": 0.3, "wer_fp32": 0.28}, a))
    assert not ship_default.quality_gates_only(ship_default.gates({**ok, "int8_mb": 25.1, "wer_int8": 0.3}, a))
    runs = {lab: {"score": {"wer": w, "matched": 0.76, "per_category": {"nav": 0.14}}, "rtf": 0.03, "ttfa_p50_ms": 9.0}
            for lab, w in (("int8", 0.324), ("fp32", 0.307))}
    summary = {"int8_mb": 20.1, "n": 100, "failed_gates": ["INT8 WER 32.4 % > 10 %", "INT8 vs FP32 WER gap 1.7 points > 1.5"]}
    args = SimpleNamespace(max_mb=25.0, max_wer=0.10, max_gap=1.5, tts="/no/tts.pt", codec="/no/codec.pt",
                           cfg_alpha=2.0, noise_scale=0.3)
    record = ship_default.quality_record(summary, runs, "2026-11-26T18:00:00+00:00", args)
    assert record["status"] == "preview" and record["wer_int8"] == 0.324 and record["words_heard_int8"] == 0.76
    assert ship_default.quality_record({**summary, "failed_gates": []}, runs, "", args)["status"] == "release"
    assert "machine" not in record and record["sampling"]["repetition_stop_seconds"] is None
    said = ship_default.quality_record(summary, runs, "", args, 7, repetition=1.25, components=("codec=int4",),
                                       machine={"cpu_model": "EPYC", "cpu_flags": ["avx2"], "cores": 2, "hostname": "h"})
    assert said["sampling"]["min_flow_steps"] == 7 and said["sampling"]["repetition_stop_seconds"] == 1.25
    assert said["components"] == ["codec=int4"] and said["machine"]["cpu_model"] == "EPYC"
    assert "hostname" not in said["machine"]  # what was measured on which machine, not whose
    assert "peer" not in record  # a peer measured in the same run is recorded beside the bundle's numbers
    peer = {"package": "hibari-tts==0.2.1", "score": {"wer": 0.022}, "rtf": 0.018, "reads": "norm"}
    beside = ship_default.quality_record(summary, {**runs, "peer": peer}, "", args)["peer"]
    assert beside == {"package": "hibari-tts==0.2.1", "wer": 0.022, "rtf_1_thread": 0.018, "reads": "norm"}
    ship_default.install(str(src), str(dest), record)
    saved = dest.parent / ("default_bundle" + ship_default.RECORD_SUFFIX)
    assert json.loads(saved.read_text()) == record
    assert sorted(p.name for p in dest.parent.iterdir()) == ["default_bundle", "default_bundle.quality.json"]
    ship_default.install(str(src), str(dest))  # a bundle without a record leaves none behind
    assert sorted(p.name for p in dest.parent.iterdir()) == ["default_bundle"]

    from vox_edge.runtime.cli_commands import quality_note

    ship_default.install(str(src), str(dest), record)
    assert quality_note(dest).startswith("preview: Whisper tiny.en WER 32.4 % on 100 held-out sentences")


def test_dropout_hooks_are_training_only_and_removed(tekken):
    from training.tts.model import frame_hiddens, residual_dropout

    model, b, voice = _model_and_batch(tekken, 2)
    with torch.no_grad():
        plain = frame_hiddens(model, b, voice)
        with residual_dropout(model, 0.5):
            noisy = frame_hiddens(model, b, voice, frame_dropout=0.5)
        assert not torch.allclose(plain, noisy)
        assert torch.equal(frame_hiddens(model, b, voice), plain)  # hooks gone
        model.eval()
        with residual_dropout(model, 0.5):
            assert torch.equal(frame_hiddens(model, b, voice, frame_dropout=0.5), plain)  # eval: no dropout


def test_smoothed_ce_ignores_forbidden_codes():
    from training.tts.model import smoothed_ce

    logits = torch.tensor([[2.0, 0.5, float("-inf"), -1.0]])
    tgt = torch.tensor([0])
    assert torch.allclose(smoothed_ce(logits, tgt, 0.0), torch.nn.functional.cross_entropy(logits, tgt))
    smooth = smoothed_ce(logits, tgt, 0.1)
    assert torch.isfinite(smooth) and smooth > smoothed_ce(logits, tgt, 0.0)


def test_a_run_with_a_lexicon_encodes_phonemes_keeps_its_lexicon_and_exports_it(trained, tekken, tmp_path):
    from training.ship import export_checkpoint
    from training.tts import train as tts_train
    from training.tts.codec import load_codec

    from vox_edge.runtime.text.lexicon import Lexicon
    from vox_edge.runtime.tokenizer import TekkenTokenizer

    (tmp_path / "lex.tsv").write_text("turn\ttˈɜɹn\nleft\tlˈɛft\n", encoding="utf-8")
    (tmp_path / "other.tsv").write_text("turn\ttɜɹn\n", encoding="utf-8")
    args = ["--synthetic", "24", "--dims", "tiny", "--out", str(tmp_path / "run"), "--tekken", str(tekken[0]),
            "--codec-config", str(trained[3]), "--codec", "", "--no-asr", "--batch-tokens", "600"]
    tr = tts_train.Trainer(tts_train.parser().parse_args(args + ["--lexicon", str(tmp_path / "lex.tsv")]))
    plain = TekkenTokenizer.from_dict(tr.tekken)
    lex = Lexicon.from_file(tmp_path / "lex.tsv")
    assert tr.text_tokenizer.encode("Turn left now.") == plain.encode(lex.apply("Turn left now.")) \
        == plain.encode("tˈɜɹn lˈɛft now.")
    assert tr.text_tokenizer.vocab_size == plain.vocab_size  # the rest is the tokenizer's
    tr.train_step()
    tr.save()
    again = tts_train.Trainer(tts_train.parser().parse_args(args))  # resumes with the run's own lexicon
    assert again.text_tokenizer.encode("turn") == plain.encode("tˈɜɹn")
    with pytest.raises(SystemExit, match="not the lexicon this run trained with"):
        tts_train.Trainer(tts_train.parser().parse_args(args + ["--lexicon", str(tmp_path / "other.tsv")]))
    # --new-lexicon-ok: the run reads the new one from now on (its names from CMUdict, say), and saves it
    (tmp_path / "more.tsv").write_text("turn\ttˈɜɹn\nleft\tlˈɛft\nkeith\tkˈiθ\tcmudict\n", encoding="utf-8")
    more = args + ["--lexicon", str(tmp_path / "more.tsv"), "--new-lexicon-ok"]
    swapped = tts_train.Trainer(tts_train.parser().parse_args(more))
    assert swapped.text_tokenizer.encode("Keith") == plain.encode("kˈiθ")
    assert swapped.lexicon_gz == tts_train.read_lexicon_gz(str(tmp_path / "more.tsv"))

    _tiny_codec_file(tmp_path / "codec.pt", json.loads(trained[3].read_text())["audio_tokenizer_args"])
    state = torch.load(tmp_path / "run" / "last.pt", map_location="cpu", weights_only=False)
    ck = export_checkpoint.write_checkpoint(state, load_codec(str(tmp_path / "codec.pt")), tmp_path / "ckpt")
    assert Lexicon.from_file(ck / export_checkpoint.LEXICON_FILE).entries == lex.entries
    assert sorted(p.name for p in (ck / "notices").iterdir()) == ["LICENSE-misaki.txt", "NOTICE-lexicon.txt"]
    cmu = dict(state, lexicon_gz=tts_train.read_lexicon_gz(str(tmp_path / "more.tsv")))
    ck3 = export_checkpoint.write_checkpoint(cmu, load_codec(str(tmp_path / "codec.pt")), tmp_path / "ckpt3")
    assert Lexicon.from_file(ck3 / export_checkpoint.LEXICON_FILE).secondary == {"cmudict": {"keith": "kˈiθ"}}
    assert sorted(p.name for p in (ck3 / "notices").iterdir()) == \
        ["LICENSE-cmudict.txt", "LICENSE-misaki.txt", "NOTICE-lexicon.txt"]
    state.pop("lexicon_gz")
    ck2 = export_checkpoint.write_checkpoint(state, load_codec(str(tmp_path / "codec.pt")), tmp_path / "ckpt2")
    assert not (ck2 / export_checkpoint.LEXICON_FILE).exists()  # runs without one export as before
    assert not (ck2 / "notices").exists()


# ---------------------------------------------------------------- compact states (tts/compact.py), time boxes, devices
def test_compact_state_holds_16_bit_ema_weights_and_resumes_and_warm_starts(trained, tekken, tmp_path):
    import shutil

    from training.tts import compact as tts_compact
    from training.tts import train as tts_train

    out = tmp_path / "run"
    shutil.copytree(trained[0], out, ignore=shutil.ignore_patterns("samples"))
    args = ["--synthetic", "24", "--dims", "tiny", "--tekken", str(tekken[0]), "--codec-config", str(trained[3]),
            "--codec", "", "--no-asr", "--batch-tokens", "600"]
    tr = tts_train.Trainer(tts_train.parser().parse_args(args + ["--out", str(out), "--ema-decay", "0.5"]))
    tr.train_step()
    tr.save()
    state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    small = tts_compact.compact(state)
    assert small["compact"] and "opt" not in small and small["step"] == state["step"]
    assert all(v.dtype == torch.bfloat16 for v in small["model"].values() if v.is_floating_point())
    # the EMA is what it keeps (what export and GTA read), the training weights where no EMA exists
    torch.testing.assert_close(small["model"]["norm.weight"].float(), state["ema"]["norm.weight"], atol=1e-2, rtol=1e-2)
    assert not torch.equal(state["ema"]["norm.weight"], state["model"]["norm.weight"])
    tts_compact.main(["--src", str(out / "last.pt"), "--dst", str(tmp_path / "c" / "last.pt")])
    again = tts_train.Trainer(tts_train.parser().parse_args(args + ["--out", str(tmp_path / "c")]))
    assert again.step == state["step"] and again.params == state["params"] and again.voice == state["voice"]
    torch.testing.assert_close(again.model.state_dict()["norm.weight"], small["model"]["norm.weight"].float())
    again.train_step()  # fresh AdamW moments: it trains on
    warm = tts_train.Trainer(tts_train.parser().parse_args(
        args + ["--out", str(tmp_path / "w"), "--init", str(tmp_path / "c" / "last.pt")]))
    assert warm.step == 0
    torch.testing.assert_close(warm.model.state_dict()["norm.weight"], small["model"]["norm.weight"].float())
    # the committed form: matrices as int8 rows, gzip; it loads back within half a quantisation step and resumes
    tts_compact.main(["--int8", "--src", str(out / "last.pt"), "--dst", str(tmp_path / "q" / "last.pt")])
    q = tts_train.Trainer(tts_train.parser().parse_args(args + ["--out", str(tmp_path / "q")]))
    assert q.step == state["step"]
    for k, v in small["model"].items():
        if v.ndim == 2 and v.numel() >= 4096:
            w = state["ema"][k] if k in state["ema"] else state["model"][k]
            step = w.abs().amax(dim=1, keepdim=True) / 127
            assert bool(((q.model.state_dict()[k] - w).abs() <= step / 2 + 1e-7).all())


def test_time_boxed_run_stops_and_its_cosine_spans_the_box(tekken, trained, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from training.tts import train as tts_train

    a = SimpleNamespace(lr=1.0, lr_min=0.1, warmup=10, total_steps=1000)
    assert tts_train.lr_at(5, a, 0.9) == pytest.approx(0.6)  # warm-up is by steps either way
    assert tts_train.lr_at(500, a, 0.0) == pytest.approx(1.0) and tts_train.lr_at(20, a, 0.5) == pytest.approx(0.55)
    assert tts_train.lr_at(20, a, 1.0) == pytest.approx(0.1) == tts_train.lr_at(20, a, 3.0)
    assert tts_train.lr_at(505, a) == pytest.approx(0.55)  # no time box: the steps
    r = SimpleNamespace(lr=1.0, lr_min=0.1, warmup=10, total_steps=1000, restart_at=600)  # a warm restart
    assert tts_train.lr_at(599, r) == pytest.approx(1.0) == tts_train.lr_at(600, r)
    assert tts_train.lr_at(800, r) == pytest.approx(0.55) and tts_train.lr_at(1000, r) == pytest.approx(0.1)
    clock = iter(range(10**6))  # each reading of the clock is a second later
    monkeypatch.setattr(tts_train.time, "monotonic", lambda: float(next(clock)))
    out = tmp_path / "box"
    tts_train.main(["--synthetic", "24", "--dims", "tiny", "--out", str(out), "--tekken", str(tekken[0]),
                    "--codec-config", str(trained[3]), "--codec", "", "--no-asr", "--batch-tokens", "600",
                    "--warmup", "0", "--eval-gen", "0", "--log-every", "1", "--max-minutes", "1",
                    "--cosine-minutes", "1"])
    rows = [json.loads(l) for l in (out / "log.jsonl").read_text().splitlines() if '"eval"' not in l]
    assert 3 <= len(rows) < 60 and (out / "last.pt").exists()  # stopped by the (fake) clock, saved
    lrs = [r["lr"] for r in rows]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] > lrs[-1]  # the logged lr is the one used, decaying
    # a warm restart of the annealed state: --rewarm ramps this process's first steps up to --lr, then decays
    done = len(rows)
    tts_train.main(["--synthetic", "24", "--dims", "tiny", "--out", str(out), "--tekken", str(tekken[0]),
                    "--codec-config", str(trained[3]), "--codec", "", "--no-asr", "--batch-tokens", "600",
                    "--warmup", "0", "--eval-gen", "0", "--log-every", "1", "--max-minutes", "1",
                    "--cosine-minutes", "1", "--rewarm", "4"])
    again = [json.loads(l)["lr"] for l in (out / "log.jsonl").read_text().splitlines() if '"eval"' not in l][done:]
    assert again[:4] == pytest.approx([0.25 * (i + 1) * 5e-4 for i in range(4)], rel=1e-3)  # the ramp
    assert max(again) == pytest.approx(5e-4, rel=0.05) and again[-1] < max(again)  # then the time box's cosine


def test_batch_moves_to_a_device_whole(tekken):
    from training.tts.data import collate

    tk, _, exs, voice = _setup(tekken, n=3)
    b = collate(exs[:2], len(voice), tk.tts_ids)
    assert b.to("cpu") is b
    moved = b.to("meta")  # a device without data: every tensor field moves, the ints stay
    assert all(getattr(moved, f).device.type == "meta" for f in ("ids", "is_frame", "codes_in", "tgt_pos", "sem_tgt",
                                                                 "ac_tgt", "ac_valid"))
    assert moved.frames == b.frames and moved.n_voice == b.n_voice


def test_deep_dims_differ_only_in_backbone_depth():
    from training.tts import config as tts_config

    assert tts_config.DEEP_DIMS["n_layers"] > tts_config.DIMS["n_layers"]
    assert {k: v for k, v in tts_config.DEEP_DIMS.items() if k != "n_layers"} == \
        {k: v for k, v in tts_config.DIMS.items() if k != "n_layers"}

"""codec/train.py --warm-start into a deeper decoder (configs/codec_small_d2.json): the trained encoder, codebook and
decoder layers carry over, the first step does not re-initialise a trained source, so the codes stay the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from training.codec import train as codec_train
from training.codec.compact import compact
from training.common.ckpt_io import atomic_save, load as load_ckpt

from test_training_codec_ctc import _args

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_warm_start_into_a_deeper_decoder_keeps_the_codes(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    src = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0))
    src.train_step()  # initialises latent scale + codebook, one step of training
    src.save()
    small = tmp_path / "small.pt"
    atomic_save(compact(load_ckpt(str(tmp_path / "run" / "last.pt"))), str(small), compress=True, keep_prev=False)

    deep_cfg = json.loads(Path(src.args.config).read_text())
    deep_cfg["audio_tokenizer_args"]["decoder_transformer_lengths_str"] = "2,2,2,2"
    (tmp_path / "deep.json").write_text(json.dumps(deep_cfg))
    deep = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, config=str(tmp_path / "deep.json"),
                                     out=str(tmp_path / "deep"), warm_start=str(small), freeze_encoder=True))
    assert bool(deep.model.initialised) and deep.step == 0
    x = torch.randn(1, 4 * deep.cfg.samples_per_frame) * 0.1
    weights = load_ckpt(str(small))["weights"]
    assert all(torch.equal(v, weights[k].float()) for k, v in deep.model.encoder.state_dict().items())
    want = deep.model.encoder.encode(x, deep.model.tokenizer)
    deep.train_step()  # a re-initialisation would rescale the encoder and reseed the codebook here
    assert torch.equal(deep.model.encoder.encode(x, deep.model.tokenizer), want)
    # the copied layer 0 of each stage is the trained one; layer 1 is new
    k = "decoder_blocks.1.layers.0.attention.wq.weight"
    assert k in src.model.tokenizer.state_dict() and "decoder_blocks.1.layers.1.attention.wq.weight" in deep.model.tokenizer.state_dict()


def test_warm_start_from_an_untrained_state_still_initialises(tmp_path, monkeypatch):
    monkeypatch.setattr(codec_train, "heldout_clips", lambda root: [])
    fresh = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0))
    fresh.save()  # never stepped: initialised is False in its state
    again = codec_train.Trainer(_args(tmp_path, ctc_weight=0.0, out=str(tmp_path / "b"),
                                      warm_start=str(tmp_path / "run" / "last.pt")))
    assert not bool(again.model.initialised)

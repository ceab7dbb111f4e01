"""Checkpoint format: strict names/shapes/dtypes, typed errors that name the culprit, synthetic writer."""

import json
import shutil
import struct

import pytest
import torch

from vox_edge.config import ModelConfig
from vox_edge.errors import CheckpointError, ConfigError, VoiceError
from vox_edge.export.checkpoint import Checkpoint, expected_shapes, load_reference_model
from vox_edge.export.safetensors_io import read_header
from vox_edge.export.synthetic import make_checkpoint
from vox_edge.export.synthetic_params import make_params


@pytest.fixture
def ckpt_copy(tiny_checkpoint, tmp_path):
    dst = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, dst)
    return dst


def _rewrite_header(path, mutate):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    mutate(header)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + raw[8 + n :])


def test_full_release_layout_on_meta_device():
    shapes = expected_shapes(ModelConfig.from_params(make_params("full")))
    assert len(shapes) == 386  # 237 backbone + 33 acoustic + 116 codec (docs/model.md#tensors)
    total = sum(torch.Size(s).numel() for s in shapes.values())
    assert total == 4_002_353_392  # docs/model.md#tensors: the release's total


def test_tiny_checkpoint_loads_strictly_in_bf16(tiny_checkpoint):
    ck = Checkpoint.open(tiny_checkpoint)
    assert set(ck.names) == set(expected_shapes(ck.config))
    assert {v["dtype"] for v in read_header(tiny_checkpoint / "consolidated.safetensors").values()} == {"BF16"}
    assert ck.tensor("norm.weight", None).dtype == torch.bfloat16  # kept BF16 until cast
    model = load_reference_model(ck)
    assert next(model.parameters()).dtype == torch.float32
    for name in ck.config.voice_names:
        v = ck.voice(name)
        assert v.dtype == torch.bfloat16 and v.shape[1] == ck.config.dim


def test_voice_rows_are_codebook_sums_ending_with_end_frame(tiny_checkpoint):
    ck = Checkpoint.open(tiny_checkpoint)
    cfg = ck.config
    table = ck.tensor("mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight")
    end = table[torch.tensor(cfg.codebook_offsets) + torch.tensor([1] + [0] * cfg.n_acoustic_codebook)].sum(0)
    v = ck.voice(cfg.voice_names[0]).float()
    torch.testing.assert_close(v[-1], end, atol=0.05, rtol=0.02)  # BF16 storage of the sum


def test_wrong_tensor_shape_names_tensor_and_expected_shape(ckpt_copy):
    name = "layers.1.attention.wk.weight"  # [32, 64] in tiny

    def transpose(h):
        h[name]["shape"] = h[name]["shape"][::-1]

    _rewrite_header(ckpt_copy / "consolidated.safetensors", transpose)
    with pytest.raises(CheckpointError, match=r"expected \[32, 64\]") as e:
        Checkpoint.open(ckpt_copy)
    assert name in str(e.value) and "expected" in str(e.value)


def test_missing_tensor_is_named(ckpt_copy):
    _rewrite_header(ckpt_copy / "consolidated.safetensors", lambda h: h.pop("norm.weight"))
    with pytest.raises(CheckpointError, match="missing tensor 'norm.weight'"):
        Checkpoint.open(ckpt_copy)


@pytest.mark.parametrize("victim", ["params.json", "consolidated.safetensors", "tekken.json",
                                    "voice_embedding/casual_male.pt"])
def test_deleted_file_is_named(ckpt_copy, victim):
    (ckpt_copy / victim).unlink()
    with pytest.raises(CheckpointError, match=victim.split("/")[-1]):
        Checkpoint.open(ckpt_copy)


def test_truncated_weights_file(ckpt_copy):
    p = ckpt_copy / "consolidated.safetensors"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        Checkpoint.open(ckpt_copy)


def test_params_missing_key_named_and_extra_keys_tolerated(ckpt_copy):
    p = json.loads((ckpt_copy / "params.json").read_text())
    p["some_future_key"] = {"x": 1}
    p["multimodal"]["audio_tokenizer_args"]["another_new_key"] = 3
    (ckpt_copy / "params.json").write_text(json.dumps(p))
    Checkpoint.open(ckpt_copy)  # tolerated
    del p["multimodal"]["audio_model_args"]["n_acoustic_codebook"]
    (ckpt_copy / "params.json").write_text(json.dumps(p))
    with pytest.raises(ConfigError, match="multimodal.audio_model_args.n_acoustic_codebook"):
        Checkpoint.open(ckpt_copy)


def test_params_inconsistent_dims_rejected():
    p = make_params("tiny")
    p["multimodal"]["audio_model_args"]["acoustic_transformer_args"]["dim"] = 32
    with pytest.raises(ConfigError, match="acoustic_transformer_args.dim"):
        ModelConfig.from_params(p)


def test_unknown_voice_lists_known_ones(tiny_checkpoint):
    with pytest.raises(VoiceError, match="casual_female"):
        Checkpoint.open(tiny_checkpoint).voice("nobody")


def test_synthetic_is_deterministic_per_seed(tmp_path):
    a = make_checkpoint(tmp_path / "a", "tiny", seed=5)
    b = make_checkpoint(tmp_path / "b", "tiny", seed=5)
    c = make_checkpoint(tmp_path / "c", "tiny", seed=6)
    wa, wb, wc = ((d / "consolidated.safetensors").read_bytes() for d in (a, b, c))
    assert wa == wb and wa != wc
    assert not (tmp_path / "a.partial").exists()


def test_custom_dims(tmp_path):
    d = make_checkpoint(tmp_path / "c", "tiny", seed=1, dim=32, n_layers=1, head_dim=8,
                        acoustic={"n_layers": 1, "head_dim": 8})
    ck = Checkpoint.open(d)
    assert ck.config.dim == 32 and ck.config.n_layers == 1 and ck.config.acoustic.n_layers == 1

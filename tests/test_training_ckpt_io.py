"""training/common/ckpt_io.py: atomic checkpoint writes and the gzip-compressed compact format."""

from __future__ import annotations

import torch

from training.common import ckpt_io


def test_compressed_round_trip_is_smaller_and_deterministic(tmp_path):
    obj = {"weights": {"w": torch.randn(256, 256).half()}, "step": 7}
    plain, packed = tmp_path / "a.pt", tmp_path / "b.pt"
    ckpt_io.atomic_save(obj, str(plain))
    ckpt_io.atomic_save(obj, str(packed), compress=True)
    assert packed.stat().st_size < plain.stat().st_size
    for p in (plain, packed):
        got = ckpt_io.load(str(p))
        assert got["step"] == 7 and torch.equal(got["weights"]["w"], obj["weights"]["w"])
    assert ckpt_io.serialize(obj, compress=True) == ckpt_io.serialize(obj, compress=True)


def test_atomic_save_keeps_the_previous_file(tmp_path):
    path = str(tmp_path / "last.pt")
    ckpt_io.atomic_save({"step": 1}, path)
    ckpt_io.atomic_save({"step": 2}, path)
    ckpt_io.atomic_save({"step": 3}, path)
    assert ckpt_io.load(path)["step"] == 3
    assert ckpt_io.load(ckpt_io.prev_path(path))["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.prev.pt", "last.pt"]

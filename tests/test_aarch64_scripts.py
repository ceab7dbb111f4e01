"""scripts/aarch64: the cross-architecture parity gate fails when a side's codes part, and the WER parts join in order."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "aarch64"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"aarch64_{name}", SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _side(work: Path, name: str, codes: np.ndarray, audio: np.ndarray, rungs) -> None:
    (work / f"{name}.json").write_text(json.dumps(
        {"side": name, "machine": name, "onnxruntime": "-", "rungs": {r: {"codes": codes.tolist()} for r in rungs}}))
    np.savez(work / f"{name}.npz", **{f"{r}_codec": audio for r in rungs}, fp32_free=audio)


def test_parity_compare_fails_when_a_frame_parts(tmp_path, capsys):
    parity = _module("parity")
    rng = np.random.default_rng(0)
    codes = rng.integers(2, 20, size=(parity.FRAMES, 37))
    audio = rng.standard_normal(parity.FRAMES * 1920).astype(np.float32)
    np.savez(tmp_path / "reference.npz", codes=codes, audio=audio, noise=np.zeros((parity.FRAMES, 36), np.float32))
    _side(tmp_path, "x86", codes, audio, parity.RUNGS)
    _side(tmp_path, "arm", codes, audio, parity.RUNGS)
    assert parity.compare(tmp_path, ["x86", "arm"])
    parted = codes.copy()
    parted[-1, 0] += 1  # one semantic code in the last frame: FP32 must be identical for every frame
    _side(tmp_path, "arm", parted, audio, parity.RUNGS)
    assert not parity.compare(tmp_path, ["x86", "arm"])
    assert "**no**" in capsys.readouterr().out


def test_quality_parts_join_in_selection_order(tmp_path):
    quality = _module("quality")
    rows = quality.q.select(quality.q.HELDOUT, 6)
    for i in range(2):
        clips = [{"id": r["id"]} for r in rows[i::2]]
        (tmp_path / f"arm.part{i}.json").write_text(json.dumps({"label": "arm", "n": 6, "clips": clips}))
    assert [c["id"] for c in quality.load_side(tmp_path, "arm")["clips"]] == [r["id"] for r in rows]
    with pytest.raises(SystemExit):
        quality.load_side(tmp_path, "x86")

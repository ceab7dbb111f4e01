"""NPU bundles of the tiny checkpoint, exported once per session and target (`vox-edge export --target`)."""

from __future__ import annotations

import threading
from pathlib import Path

_LOCK = threading.Lock()
_BUILT: dict[tuple[str, str], Path] = {}
CONTEXT = 256  # voice prefix + a test sentence + the parity run's frames fit
PREFILL_CHUNK = 8


# the tiny checkpoint with a `source_filter` codec head (the default voice's kind; tests/test_codec_source_filter.py)
SOURCE_FILTER = dict(output_head="source_filter", frame_features=10, frame_decoder_dim=16,
                     frame_decoder_hidden_dim=32, frame_decoder_layers=2, frame_decoder_kernel=5)


def source_filter_checkpoint(out_root: Path) -> Path:
    from vox_edge.export.synthetic import make_checkpoint

    key = ("source_filter", "checkpoint")
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = make_checkpoint(out_root / "tiny_sf_ckpt", "tiny", codec=SOURCE_FILTER)
    return _BUILT[key]


# Voiced: the tiny source_filter codec's f0 channel (output_proj channel frame_features - 2, f0 =
# expm1(f0_log_scale * feature)) biased to log1p(VOICED_F0_HZ) / f0_log_scale and scaled down, so every frame is
# voiced near VOICED_F0_HZ and the pulse train runs (the random fixture's f0 stays under the renderer's 40 Hz).
VOICED_F0_HZ = 140.0
VOICED_F0_SCALE = 0.05  # feature_scale of the f0 channel: f0 varies by some tens of Hz over random codes


def voiced_source_filter_checkpoint(out_root: Path) -> Path:
    """source_filter_checkpoint with a voiced f0 (VOICED_F0_HZ): the renderer integrates f0 into its pulse phase,
    so this is the fixture on which an f0 error shows as a waveform error."""
    import math
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    from vox_edge.config import ModelConfig

    src = source_filter_checkpoint(out_root)
    key = ("source_filter_voiced", "checkpoint")
    with _LOCK:
        if key not in _BUILT:
            out = out_root / "tiny_sf_voiced_ckpt"
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(src, out)
            import json

            codec = ModelConfig.from_params(json.loads((out / "params.json").read_text())).codec
            weights = out / "consolidated.safetensors"
            tensors = load_file(str(weights))
            ch = codec.frame_features - 2
            for name, value in (("feature_bias", math.log1p(VOICED_F0_HZ) / codec.f0_log_scale),
                                ("feature_scale", VOICED_F0_SCALE)):
                t = tensors[f"audio_tokenizer.{name}"].clone()
                t[ch] = value
                tensors[f"audio_tokenizer.{name}"] = t.to(torch.bfloat16)
            save_file(tensors, str(weights), metadata={"format": "pt"})
            _BUILT[key] = out
    return _BUILT[key]


def reference_bundle(checkpoint: Path, out_root: Path) -> Path:
    """The FP32 CPU bundle of a checkpoint: check-ep's parity reference."""
    from vox_edge.export.bundle import export_bundle

    key = (str(checkpoint), "fp32")
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = export_bundle(checkpoint, out_root / f"{Path(checkpoint).name}_fp32", precision="fp32",
                                        progress=lambda m: None)
    return _BUILT[key]


def source_filter_reference(out_root: Path) -> Path:
    """The FP32 CPU bundle of source_filter_checkpoint: check-ep's parity reference."""
    return reference_bundle(source_filter_checkpoint(out_root), out_root)


def npu_bundle(checkpoint: Path, out_root: Path, target: str) -> Path:
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.npu_target import NpuShapes

    key = (str(checkpoint), target)
    with _LOCK:
        if key not in _BUILT:
            out = out_root / f"{Path(checkpoint).name}_{target}"
            export_bundle(checkpoint, out, target=target, npu_shapes=NpuShapes(seq_len=PREFILL_CHUNK, context=CONTEXT),
                          progress=lambda m: None)
            _BUILT[key] = out
    return _BUILT[key]


ACCELERATED = ("backbone", "flow_condition", "flow_time", "flow_velocity", "codec_decoder")


def assert_whole_with_parity(report, provider: str) -> None:
    """Every graph whole on the accelerator (the backbone, the flow head and the codec's network always among
    them) but a codec_trunk the bundle places on the CPU with its reason, and every rung of the parity ladder
    held, the codec's waveform SNR included."""
    assert {g.graph for g in report.graphs} >= set(ACCELERATED), report.text()
    for g in report.graphs:
        if g.placed == "cpu":
            assert g.graph == "codec_trunk" and "f0" in g.reason, g.line(provider)
            continue
        assert g.placed == "accelerator" and not g.error and g.on_accelerator == g.nodes > 0, g.line(provider)
    p = report.parity
    assert p is not None and p.semantic_decided >= 0.99 and p.acoustic_pm1 >= 0.95, report.text()
    assert p.ok and report.ok, report.text()

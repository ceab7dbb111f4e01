"""NPU bundles of the tiny checkpoint, exported once per session and target (`vox-edge export --target`)."""

from __future__ import annotations

import threading
from pathlib import Path

_LOCK = threading.Lock()
_BUILT: dict[tuple[str, str], Path] = {}
CONTEXT = 256  # voice prefix + a test sentence + the parity run's frames fit
PREFILL_CHUNK = 8


# the tiny checkpoint with a `source_filter` codec head (the next default voice's kind; tests/test_codec_source_filter.py)
SOURCE_FILTER = dict(output_head="source_filter", frame_features=10, frame_decoder_dim=16,
                     frame_decoder_hidden_dim=32, frame_decoder_layers=2, frame_decoder_kernel=5)


def source_filter_checkpoint(out_root: Path) -> Path:
    from vox_edge.export.synthetic import make_checkpoint

    key = ("source_filter", "checkpoint")
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = make_checkpoint(out_root / "tiny_sf_ckpt", "tiny", codec=SOURCE_FILTER)
    return _BUILT[key]


def source_filter_reference(out_root: Path) -> Path:
    """The FP32 CPU bundle of source_filter_checkpoint: check-ep's parity reference."""
    from vox_edge.export.bundle import export_bundle

    ckpt = source_filter_checkpoint(out_root)
    key = ("source_filter", "fp32")
    with _LOCK:
        if key not in _BUILT:
            _BUILT[key] = export_bundle(ckpt, out_root / "tiny_sf_fp32", precision="fp32", progress=lambda m: None)
    return _BUILT[key]


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


def assert_whole_with_parity(report, provider: str) -> None:
    """Every graph whole on the accelerator and every rung of the parity ladder held, the codec's waveform SNR
    included (a source_filter codec's: 41.8 dB on qnn-htp once the HTP's GatherND was rewritten as Gather)."""
    for g in report.graphs:
        assert g.placed == "accelerator" and not g.error and g.on_accelerator == g.nodes > 0, g.line(provider)
    p = report.parity
    assert p is not None and p.semantic_decided >= 0.99 and p.acoustic_pm1 >= 0.95, report.text()
    assert p.ok and report.ok, report.text()

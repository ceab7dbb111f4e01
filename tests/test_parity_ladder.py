"""Parity ladder, end to end on tiny bundles: FP32 / FP16 / INT8 / INT4 (and a per-component mix) vs the
PyTorch reference.

Quantised runs diverge from the reference once a single code differs (the codes are fed back), so the
agreement is measured *teacher-forced*: each bundle's backbone is fed the reference's codes, and every frame's
semantic + acoustic codes are predicted from its own hidden state with the same injected noise. The codec is
judged on the reference codes (waveform SNR). Thresholds sit below the values measured on `tiny` (in the ids).
"""

from __future__ import annotations

import numpy as np
import pytest
from runtime_fixtures import TEXT, reference_run, tiny_checkpoint_dir  # noqa: F401

FRAMES = 50
# variant -> (precision, per_component, min semantic agreement, min acoustic agreement, min within +-1, min codec SNR dB)
LADDER = {  # measured on tiny, 2026-11-25: sem / acoustic / within+-1 / SNR
    "fp32": ("fp32", None, 1.0, 1.0, 1.0, 80.0),  # 1.000 / 1.000 / 1.000 / 129.2 dB
    "fp16": ("fp16", None, 0.98, 0.97, 0.99, 50.0),  # 1.000 / 0.999 / 1.000 / 63.7 dB
    # codec int8 stores its conv weights int8 weight-only (quantize/README.md): 35.6 dB on tiny's random
    # weights (46.5 dB with FP32 conv weights); on the trained example codec it costs no measurable distance.
    "int8": ("int8", None, 0.95, 0.85, 0.97, 31.0),  # 1.000 / 0.947 / 1.000 / 35.6 dB
    "int4": ("int4", None, 0.85, 0.50, 0.80, 31.0),  # 0.940 / 0.643 / 0.897 / 35.6 dB (codec int4 -> int8)
    "mix": ("int8", {"backbone": "int4", "codec": "fp32"}, 0.85, 0.75, 0.95, 80.0),  # 0.940 / 0.884 / 1.000 / 129.2
}


@pytest.fixture(scope="module")
def reference(tiny_checkpoint_dir):  # noqa: F811
    ref = reference_run(tiny_checkpoint_dir, FRAMES, seed=5)
    assert ref["codes"].shape[0] == FRAMES
    return ref


def _teacher_forced_codes(engine, ref_codes: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Each frame predicted from the bundle's hidden after the reference's previous frames -> [T, 37]."""
    ids, _ = engine.prompt_ids(TEXT, "casual_male")
    hidden, past = engine._backbone.run(engine._embed(ids, "casual_male"), engine._backbone.empty_past())
    h = hidden[:, -1]
    out = []
    for f in range(ref_codes.shape[0]):
        sem, llm = engine._flow.condition(h)
        levels = engine._flow.acoustic(llm, noise[f], 7, 1.2)
        out.append(np.concatenate([[sem], levels + 2]))
        e = engine._emb.codes(ref_codes[f])[None, None]  # teacher forcing: the reference's frame f
        hidden, past = engine._backbone.run(e, past)
        h = hidden[:, -1]
    return np.stack(out)


def _snr_db(ref: np.ndarray, got: np.ndarray) -> float:
    err = float(np.sum((ref - got) ** 2))
    return float("inf") if err == 0 else 10 * np.log10(float(np.sum(ref**2)) / err)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(LADDER))
def test_parity_ladder(variant, reference, tiny_checkpoint_dir, tmp_path_factory):  # noqa: F811
    from vox_edge.export.bundle import export_bundle
    from vox_edge.runtime import load

    precision, per, min_sem, min_ac, min_pm1, min_snr = LADDER[variant]
    bundle = export_bundle(tiny_checkpoint_dir, tmp_path_factory.mktemp(variant) / "b", precision=precision,
                           per_component=per, progress=lambda m: None)
    engine = load(bundle, verify="size")
    ref = reference["codes"]
    got = _teacher_forced_codes(engine, ref, reference["noise"])
    sem = float(np.mean(got[:, 0] == ref[:, 0]))
    ac = float(np.mean(got[:, 1:] == ref[:, 1:]))
    pm1 = float(np.mean(np.abs(got[:, 1:] - ref[:, 1:]) <= 1))
    (audio,) = engine._codec_session.run(["audio"], {"codes": (ref - 2)[None].astype(np.int64)})
    snr = _snr_db(reference["audio"], audio[0])
    print(f"\n{variant}: semantic {sem:.3f}, acoustic {ac:.3f}, within+-1 {pm1:.3f}, codec SNR {snr:.1f} dB")
    assert sem >= min_sem and ac >= min_ac and pm1 >= min_pm1, (sem, ac, pm1)
    assert snr >= min_snr, snr
    if variant == "fp32":  # free-running too: identical codes for every frame (the parity bar)
        a = engine.synthesize(TEXT, voice="casual_male", normalize=False, noise=reference["noise"], max_frames=FRAMES)
        assert np.array_equal(np.concatenate(a.codes), ref)
        assert np.max(np.abs(a.samples - reference["audio"])) <= 1e-4

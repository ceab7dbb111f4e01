"""The committed golden bundle: how it is made, the requests it answers, and how their outputs are summarised.

`tests/golden/tiny_bundle/` is the FP32 export of a micro synthetic checkpoint (seed 0, END never wins), small
enough to commit (< 1 MB). `tests/golden/expected.json` holds, for each request in REQUESTS, the exact codes and
a summary of the audio. The runtime tests (`tests/runtime/`) read both and need no torch; `tests/test_golden_bundle.py`
checks, where torch is present, that the current exporter still writes this bundle from this checkpoint.

Regenerate both after a deliberate change to the exporter or the engine (needs the `export` extra):

    python tests/golden_bundle.py

Codes are compared exactly. Audio is compared with a tolerance: ONNX Runtime picks different kernels on
different CPU classes (AVX2, AVX-512, NEON), so the last bits of the PCM may differ between machines. The exact
audio hash is checked only on the CPU class that wrote it (`expected.json` records the class).
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
BUNDLE = GOLDEN_DIR / "tiny_bundle"
EXPECTED = GOLDEN_DIR / "expected.json"

# make_checkpoint(scale="tiny", seed=0, end_logit_scale=0.0, **CHECKPOINT_DIMS): the tiny scale narrowed further
CHECKPOINT_SEED = 0
CHECKPOINT_DIMS = {
    "dim": 32, "n_layers": 1, "head_dim": 16, "hidden_dim": 64, "n_heads": 2, "n_kv_heads": 1, "vocab_size": 1280,
    "acoustic": {"n_layers": 1, "head_dim": 16, "hidden_dim": 64, "n_heads": 2, "n_kv_heads": 1},
    "codec": {"dim": 16, "hidden_dim": 32, "head_dim": 8, "n_heads": 2, "n_kv_heads": 2, "semantic_dim": 8},
}

# (name, text, synthesize keywords): fixed seeds; together they cover both voices, the sampling knobs, the text
# front end (numbers, units), the text-derived frame cap (no max_frames) and the NumPy Euler loop (flow_loop False).
REQUESTS: list[tuple[str, str, dict]] = [
    ("turn_left", "Turn left in 200 meters.", {"voice": "casual_male", "seed": 11, "max_frames": 12}),
    ("knobs", "Recalculating route.", {"voice": "casual_female", "seed": 0, "flow_steps": 3, "cfg_alpha": 1.5,
                                        "noise_scale": 0.5, "max_frames": 6}),
    ("normalised", "Keep right. Then take the second exit, and continue for 3 km.",
     {"voice": "casual_male", "seed": 5, "max_frames": 20}),
    ("frame_cap", "Go.", {"voice": "casual_female", "seed": 2}),
]
NUMPY_LOOP_REQUEST = "turn_left"  # also run with flow_loop=False: the same codes from the NumPy Euler loop


def cpu_class() -> str:
    """The kernel class ONNX Runtime picks from: machine plus the widest vector extension the CPU reports."""
    from vox_edge.benchmarks.machine import cpu_flags

    flags = set(cpu_flags())
    for name in ("avx512_vnni", "avx512f", "avx2", "asimddp"):
        if name in flags:
            return f"{platform.machine()}-{name}"
    return platform.machine()


def load_engine(bundle: Path = BUNDLE, flow_loop: bool = True):
    """The tests' engine: one intra-op thread (deterministic), the reference's 7 Euler steps unless a request sets them."""
    from runtime_fixtures import get_engine

    return get_engine(bundle, flow_loop=flow_loop)


def summarise(audio) -> dict:
    """Codes exactly (one line of 37 per frame), audio as its sha256 plus per-frame RMS and mean (what a tolerance
    can compare)."""
    samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
    spf = 1920
    frames = samples[: samples.shape[0] // spf * spf].reshape(-1, spf).astype(np.float64)
    return {
        "codes": [[" ".join(map(str, frame)) for frame in np.asarray(c).tolist()] for c in audio.codes],
        "stopped": list(audio.stopped),
        "segments": list(audio.segments),
        "n_samples": int(samples.shape[0]),
        "audio_sha256": hashlib.sha256(samples.tobytes()).hexdigest(),
        "frame_rms": [round(float(v), 7) for v in np.sqrt((frames ** 2).mean(axis=1))],
        "frame_mean": [round(float(v), 7) for v in frames.mean(axis=1)],
    }


def run_requests(engine) -> dict[str, dict]:
    return {name: summarise(engine.synthesize(text, **kw)) for name, text, kw in REQUESTS}


def make_checkpoint(out: Path) -> Path:
    from vox_edge.export.synthetic import make_checkpoint as make

    return make(out, scale="tiny", seed=CHECKPOINT_SEED, end_logit_scale=0.0, **CHECKPOINT_DIMS)


def export(checkpoint: Path, out: Path) -> Path:
    from vox_edge.export.bundle import export_bundle

    export_bundle(checkpoint, out, precision="fp32", progress=lambda m: None)
    return out


def comparable_manifest(bundle: Path) -> dict:
    """manifest.json without what changes from one export to the next by design (time, tool versions)."""
    m = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    m.pop("created", None)
    m.pop("exporter", None)
    return m


def regenerate() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = make_checkpoint(Path(tmp) / "ckpt")
        fresh = export(ckpt, Path(tmp) / "bundle")
        shutil.rmtree(BUNDLE, ignore_errors=True)
        shutil.copytree(fresh, BUNDLE)
    results = run_requests(load_engine())
    results[NUMPY_LOOP_REQUEST + "_numpy_loop"] = run_requests_named(load_engine(flow_loop=False), NUMPY_LOOP_REQUEST)
    EXPECTED.write_text(json.dumps({"cpu_class": cpu_class(), "requests": results}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLE} and {EXPECTED} on {cpu_class()}")


def run_requests_named(engine, name: str) -> dict:
    text, kw = next((t, k) for n, t, k in REQUESTS if n == name)
    return summarise(engine.synthesize(text, **kw))


if __name__ == "__main__":
    sys.exit(regenerate())

"""Fixtures for the runtime and CLI tests: one tiny bundle exported per test session, shared by every file.

Import the fixtures into a test module (`from runtime_fixtures import tiny_bundle, engine  # noqa: F401`).
pytest registers an imported fixture once per module, so the export itself is memoised here: the first
module to ask exports, the others reuse the same directory.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

_BUILT: dict[str, Path] = {}
_LOCK = threading.Lock()

TEXT = "Turn left in 200 meters."


def export_tiny_bundle(checkpoint: Path, out_root: Path) -> Path:
    """checkpoint dir -> bundle dir (fp32), exported once per session and checkpoint."""
    key = str(checkpoint)
    with _LOCK:
        if key not in _BUILT:
            if importlib.util.find_spec("vox_edge.export.bundle") is None:
                pytest.skip("vox_edge.export.bundle (export_bundle) is not available")
            from vox_edge.export.bundle import export_bundle

            out = out_root / "tiny_bundle"
            export_bundle(checkpoint, out, precision="fp32", progress=lambda m: None)
            _BUILT[key] = out
    return _BUILT[key]


@pytest.fixture(scope="session")
def tiny_checkpoint_dir(tiny_checkpoint) -> Path:
    return Path(tiny_checkpoint)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_checkpoint_dir, tmp_path_factory) -> Path:
    return export_tiny_bundle(tiny_checkpoint_dir, tmp_path_factory.getbasetemp())


_ENGINES: dict[tuple, object] = {}


@pytest.fixture(scope="session")
def engine(tiny_bundle):
    """A CPU engine with one intra-op thread (the test machine has 2 shared cores)."""
    return get_engine(tiny_bundle)


def get_engine(bundle: Path, prefix_cache: bool = True, flow_loop: bool = True):
    from vox_edge.runtime import load

    key = (str(bundle), prefix_cache, flow_loop)
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = load(bundle, profile=test_profile(), verify="size", prefix_cache=prefix_cache,
                                 flow_loop=flow_loop)
    return _ENGINES[key]


def test_profile():
    """The 2-core dev profile with one intra-op thread: fast and deterministic on a shared CI machine; flow steps
    pinned to the reference's (the synthetic checkpoints' n_decoding_steps, 7), whatever the profile picks for speed."""
    from vox_edge.device_profiles import load_profile

    return load_profile("dev-vm-2core-x86").with_runtime(intra_op_threads=1, inter_op_threads=1, flow_steps=7)


test_profile.__test__ = False  # not a test despite the name


def looping_flow(engine, monkeypatch, codes=(5, 6, 7)):
    """Make the engine's semantic head cycle through `codes` (+2 space), as a model that babbles does; each
    synthesis starts the cycle afresh (the returned `calls` runs one)."""
    real, count = engine._flow.condition, [0]

    def condition(hidden):
        _, llm = real(hidden)
        count[0] += 1
        return 2 + codes[(count[0] - 1) % len(codes)], llm

    def calls(fn, *args, **kw):
        count[0] = 0
        return fn(*args, **kw)

    monkeypatch.setattr(engine._flow, "condition", condition)
    return calls


def one_error_line(capsys) -> str:
    """The CLI's stderr holds exactly one `vox-edge: error: ...` line (no traceback); returns it."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vox-edge: error: "), err
    return err[0]


# Runs first in the child: any attempt to import torch (even one caught by try/except) is recorded.
NO_TORCH_GUARD = r"""
import sys
class _NoTorch:
    attempts = []
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            self.attempts.append(name)
            raise ImportError("torch is banned here (runtime / speak / bench)")
        return None
_guard = _NoTorch()
sys.meta_path.insert(0, _guard)
def _check():
    assert not _guard.attempts, f"torch import attempted: {_guard.attempts}"
    assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules)
"""


def reference_run(checkpoint: Path, frames: int, seed: int, cfg_alpha: float = 1.2, noise_scale: float = 1.0) -> dict:
    """PyTorch reference for TEXT / casual_male with noise drawn from `seed`: noise (unscaled), codes [T,37], audio,
    ids. The flow starts from noise_scale · noise."""
    torch = pytest.importorskip("torch")
    import numpy as np

    from vox_edge.export.checkpoint import Checkpoint, load_reference_model

    ckpt = Checkpoint.open(checkpoint)
    model = load_reference_model(ckpt)
    noise = np.random.default_rng(seed).standard_normal((frames, ckpt.config.n_acoustic_codebook), dtype=np.float32)
    ids = torch.tensor(ckpt.tokenizer.encode_tts(TEXT, "casual_male"))
    embeds = model.prompt_embeddings(ids, ckpt.voice("casual_male").float())
    gen = model.generate(embeds, torch.from_numpy(noise_scale * noise), frames, cfg_alpha=cfg_alpha)
    return {"noise": noise, "codes": gen.codes.numpy(), "audio": model.codes_to_audio(gen.codes).numpy(),
            "ids": ids.tolist()}

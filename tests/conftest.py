"""Shared fixtures: synthetic checkpoints are generated once per test session (seconds for `tiny`)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A tiny synthetic checkpoint in the exact real format; END never wins (benchmarks/tests pick frame counts)."""
    from vox_edge.export.synthetic import make_checkpoint

    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny", scale="tiny", seed=0, end_logit_scale=0.0)


@pytest.fixture(scope="session")
def tiny_checkpoint_stopping(tmp_path_factory):
    """A tiny checkpoint whose END_AUDIO row is as strong as any other code, so generation ends on its own."""
    from vox_edge.export.synthetic import make_checkpoint

    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny_stop", scale="tiny", seed=3, end_logit_scale=1.0)


@pytest.fixture
def one_torch_thread():
    """Tiny training modules: a second thread only adds OpenMP waits (8 s per step on a busy machine)."""
    import torch  # here, not at the top: the runtime tests must run without torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

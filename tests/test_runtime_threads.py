"""The engine's default intra-op thread count: one thread on a machine of <= 2 usable cores, ORT's choice above."""
import pytest

pytest.importorskip("onnxruntime")

from vox_edge.runtime import sessions  # noqa: E402
from vox_edge.runtime.sessions import SessionSettings, default_intra_op_threads, session_options  # noqa: E402


@pytest.mark.parametrize("cores,expected", [(1, 1), (2, 1), (3, 0), (8, 0)])
def test_default_threads_by_core_count(cores, expected):
    assert default_intra_op_threads(cores) == expected


def test_session_options_resolve_the_default(monkeypatch):
    monkeypatch.setattr(sessions, "usable_cores", lambda: 2)
    assert session_options(SessionSettings()).intra_op_num_threads == 1
    assert session_options(SessionSettings(intra_op_threads=2)).intra_op_num_threads == 2  # a profile's count wins
    monkeypatch.setattr(sessions, "usable_cores", lambda: 16)
    assert session_options(SessionSettings()).intra_op_num_threads == 0  # ORT: one per physical core

"""The committed golden bundle (tests/golden/) is what the current exporter writes from its micro checkpoint.

The runtime tests trust that bundle without torch; this test, where torch is present, keeps it honest. When it
fails after a deliberate exporter change, regenerate the bundle and its outputs: `python tests/golden_bundle.py`.
"""

from __future__ import annotations

import json

import pytest
from golden_bundle import BUNDLE, EXPECTED, REQUESTS, comparable_manifest, export, make_checkpoint, run_requests
from runtime_fixtures import get_engine

REGENERATE = "the exporter no longer writes the golden bundle; if that is meant, run `python tests/golden_bundle.py`"


def _without_onnx_hashes(manifest: dict) -> dict:
    files = {k: v for k, v in manifest["files"].items() if ".onnx" not in k}
    return {**manifest, "files": files}


@pytest.mark.slow
def test_the_exporter_writes_the_golden_bundle(tmp_path):
    pytest.importorskip("torch")
    fresh = export(make_checkpoint(tmp_path / "ckpt"), tmp_path / "bundle")
    got, want = comparable_manifest(fresh), comparable_manifest(BUNDLE)
    assert _without_onnx_hashes(got) == _without_onnx_hashes(want), REGENERATE
    versions = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))["exporter"]
    if json.loads((fresh / "manifest.json").read_text(encoding="utf-8"))["exporter"] == versions:
        assert got["files"] == want["files"], REGENERATE  # same tools: the same bytes, ONNX graphs included
    # other torch / onnx versions may serialise the same graphs differently: they must still give the same codes
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["requests"]
    results = run_requests(get_engine(fresh))
    assert {n: r["codes"] for n, r in results.items()} == {n: expected[n]["codes"] for n, _, _ in REQUESTS}, REGENERATE

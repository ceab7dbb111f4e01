"""Acceptance: `vox_edge.runtime` and the `vox-edge speak` path never import torch (fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
import wave

from runtime_fixtures import NO_TORCH_GUARD

_GUARD = NO_TORCH_GUARD


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _GUARD + code], capture_output=True, text=True, timeout=120)


def test_runtime_imports_no_torch():
    r = _run("""
import vox_edge.runtime, vox_edge.runtime.cli_commands
from vox_edge.runtime import load, Engine, AudioChunk, Audio
import vox_edge.runtime.engine, vox_edge.runtime.sessions, vox_edge.runtime.plan, vox_edge.runtime.wav
import vox_edge.runtime.playback
vox_edge.runtime.plan.segments("Turn left in 200 meters. Then 3 km straight on.")
_check()
print("ok")
""")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_speak_path_imports_no_torch(tiny_bundle, tmp_path):
    out = tmp_path / "x.wav"
    r = _run(f"""
from vox_edge.cli import main
rc = main(["speak", "Turn left in 200 meters.", "--bundle", {str(tiny_bundle)!r}, "--out", {str(out)!r},
           "--max-frames", "5", "--verify", "full"])
_check()
sys.exit(rc)
""")
    assert r.returncode == 0, r.stderr
    with wave.open(str(out)) as w:
        assert w.getnframes() == 5 * 1920

"""Interruption: `vox-edge speak` stopped by SIGINT, SIGTERM or SIGHUP removes its half-written output and exits
128 + the signal; after SIGKILL (which nothing can catch) the next run to the same name reuses the stale `.partial`
and leaves only the finished WAV. A `.partial` another live run is writing is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.errors import OutputError
from vox_edge.runtime.wav import WavWriter, partial_path

LONG = "Turn left in two hundred meters, then keep right. " * 40


def _speak(bundle, out, tmp_path, *extra) -> subprocess.Popen:
    env = dict(os.environ, VOX_EDGE_CACHE_DIR=str(tmp_path / "cache"))
    # SIGINT at its default in the child: a suite started in the background (a shell's `cmd &`) inherits it ignored,
    # and a process that ignores SIGINT rightly runs on, which is not what these tests are about
    return subprocess.Popen([sys.executable, "-m", "vox_edge.cli", "speak", LONG, "--bundle", str(bundle),
                             "--out", str(out), "--verify", "size", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_audio(proc, partial, timeout=60.0) -> None:
    """Until the run has written some audio into its .partial (so the signal lands mid-synthesis)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if partial.exists() and partial.stat().st_size > 44 + 2 * 1920 * 4:
            return
        if proc.poll() is not None:
            pytest.fail(f"speak ended before it was interrupted: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no audio within the timeout")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_caught_signal_leaves_nothing(sig, tiny_bundle, tmp_path):
    out = tmp_path / "x.wav"
    proc = _speak(tiny_bundle, out, tmp_path)
    _wait_for_audio(proc, partial_path(out))
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    lines = err.strip().splitlines()
    assert lines == [f"vox-edge: interrupted ({signal.Signals(sig).name})"], err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == []


def test_after_sigkill_the_next_run_reuses_the_stale_partial(tiny_bundle, tmp_path):
    out = tmp_path / "x.wav"
    proc = _speak(tiny_bundle, out, tmp_path)
    _wait_for_audio(proc, partial_path(out))
    proc.kill()
    proc.wait(timeout=30)
    assert not out.exists() and partial_path(out).exists()  # SIGKILL cannot be cleaned up after ...
    proc = _speak(tiny_bundle, out, tmp_path, "--max-frames", "5")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert not partial_path(out).exists()  # ... but the next run to the same name takes the stale file over
    with wave.open(str(out)) as w:
        assert w.getnframes() == 5 * 1920


def test_a_partial_that_a_live_writer_holds_is_refused_and_kept(tmp_path):
    out = tmp_path / "x.wav"
    first = WavWriter(out, 24000)
    first.write(np.zeros(100, np.float32))
    with pytest.raises(OutputError, match="another vox-edge run is writing it"):
        WavWriter(out, 24000)
    first.close()
    with wave.open(str(out)) as w:
        assert w.getnframes() == 100
    assert not partial_path(out).exists()


def test_a_writer_that_fails_midway_removes_its_partial(tmp_path, monkeypatch):
    out = tmp_path / "x.wav"
    w = WavWriter(out, 24000)
    w.write(np.zeros(10, np.float32))
    w.close(keep=False)
    w.close(keep=False)  # idempotent
    assert list(tmp_path.iterdir()) == []


def test_stdin_without_end_is_cut_at_the_limit(tiny_bundle, tmp_path):
    """A pipe that never ends (yes | vox-edge speak -): the limit ends the read, the process exits at once."""
    env = dict(os.environ, VOX_EDGE_CACHE_DIR=str(tmp_path / "cache"))
    producer = subprocess.Popen(["yes", "Turn left."], stdout=subprocess.PIPE)
    try:
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "vox_edge.cli", "speak", "-", "--bundle", str(tiny_bundle),
                            "--out", str(tmp_path / "x.wav")], stdin=producer.stdout, capture_output=True, text=True,
                           env=env, timeout=60)
        elapsed = time.monotonic() - t0
    finally:
        producer.kill()
        producer.wait()
    assert r.returncode == 2 and "longer than" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert elapsed < 30
    assert not (tmp_path / "x.wav").exists() and not partial_path(tmp_path / "x.wav").exists()

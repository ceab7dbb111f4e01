"""The engine on the committed golden bundle gives the committed codes exactly and the committed audio closely."""

from __future__ import annotations

import numpy as np
import pytest
from golden_bundle import NUMPY_LOOP_REQUEST, REQUESTS, cpu_class, load_engine, run_requests_named, summarise

NAMES = [name for name, _, _ in REQUESTS]


def _check(got: dict, want: dict) -> None:
    assert got["segments"] == want["segments"] and got["stopped"] == want["stopped"]
    assert got["codes"] == want["codes"]  # exact: a code is an argmax or a rounding, the model's actual output
    assert got["n_samples"] == want["n_samples"]
    # the PCM's last bits depend on the CPU class's kernels: compare its per-frame statistics with a tolerance
    np.testing.assert_allclose(got["frame_rms"], want["frame_rms"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["frame_mean"], want["frame_mean"], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_request_gives_the_golden_codes_and_audio(engine, expected, name):
    _check(run_requests_named(engine, name), expected["requests"][name])


def test_numpy_euler_loop_gives_the_golden_codes(tiny_bundle, expected):
    got = run_requests_named(load_engine(tiny_bundle, flow_loop=False), NUMPY_LOOP_REQUEST)
    _check(got, expected["requests"][NUMPY_LOOP_REQUEST + "_numpy_loop"])


def test_audio_is_bit_identical_on_the_cpu_class_that_wrote_it(engine, expected):
    if cpu_class() != expected["cpu_class"]:
        pytest.skip(f"golden audio hashes were written on {expected['cpu_class']}, this is {cpu_class()}")
    for name in NAMES:
        assert run_requests_named(engine, name)["audio_sha256"] == expected["requests"][name]["audio_sha256"], name


def test_the_summary_sees_a_changed_sample(engine):
    """The comparison can fail: one sample changed by 1e-3 moves the hash and its frame's statistics."""
    name, text, kw = REQUESTS[0]
    audio = engine.synthesize(text, **kw)
    before = summarise(audio)
    audio.samples[100] += 1e-3
    after = summarise(audio)
    assert after["audio_sha256"] != before["audio_sha256"] and after["frame_mean"][0] != before["frame_mean"][0]

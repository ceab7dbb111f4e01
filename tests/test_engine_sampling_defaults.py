"""Sampling knobs beyond the reference: noise_scale, and a bundle's own defaults (manifest `synthesis`).

Precedence: per-call option > device profile > the bundle's `synthesis` > the reference's built-in values; the
bundle's `synthesis.min_flow_steps` raises a profile's (or the default) flow_steps, never a per-call one.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
from runtime_fixtures import (TEXT, engine, looping_flow, reference_run, test_profile, tiny_bundle,  # noqa: F401
                              tiny_checkpoint_dir)

from vox_edge.errors import FlowStepsWarning, ManifestError
from vox_edge.manifest import load_manifest

FRAMES = 24


def _codes(eng, **kw):
    return eng.synthesize(TEXT, voice="casual_male", normalize=False, **kw).codes[0]


@pytest.fixture(scope="module")
def ref_half(tiny_checkpoint_dir):
    """Reference run whose flow starts from 0.5 · noise."""
    return reference_run(tiny_checkpoint_dir, FRAMES, seed=3, noise_scale=0.5)


def _bundle_with(tiny_bundle, tmp_path, synthesis: dict):
    """A copy of the tiny bundle whose manifest carries `synthesis` (manifest.json is not in its own file table)."""
    out = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, out)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    m["synthesis"] = synthesis
    (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return out


def test_noise_scale_equals_reference_with_scaled_noise(engine, ref_half):
    np.testing.assert_array_equal(_codes(engine, noise=ref_half["noise"], noise_scale=0.5), ref_half["codes"])
    # and it matters: the unscaled start gives other codes on this seed
    assert not np.array_equal(_codes(engine, noise=ref_half["noise"]), ref_half["codes"])


def test_bundle_default_applies_and_options_override_it(tiny_bundle, tmp_path, ref_half, tiny_checkpoint_dir):
    from vox_edge.runtime import load

    bundle = _bundle_with(tiny_bundle, tmp_path, {"noise_scale": 0.5, "cfg_alpha": 1.2})
    assert load_manifest(bundle, verify="size").synthesis == {"noise_scale": 0.5, "cfg_alpha": 1.2}
    eng = load(bundle, profile=test_profile(), verify="size")
    np.testing.assert_array_equal(_codes(eng, noise=ref_half["noise"]), ref_half["codes"])
    ref_one = reference_run(tiny_checkpoint_dir, FRAMES, seed=3)
    np.testing.assert_array_equal(_codes(eng, noise=ref_one["noise"], noise_scale=1.0), ref_one["codes"])


def test_profile_cfg_alpha_overrides_the_bundle(tiny_bundle, tmp_path, tiny_checkpoint_dir):
    from vox_edge.runtime import load

    bundle = _bundle_with(tiny_bundle, tmp_path, {"cfg_alpha": 3.0})
    ref = reference_run(tiny_checkpoint_dir, FRAMES, seed=4, cfg_alpha=1.0)
    by_bundle = load(bundle, profile=test_profile(), verify="size")
    assert not np.array_equal(_codes(by_bundle, noise=ref["noise"]), ref["codes"])  # alpha 3 from the bundle
    by_profile = load(bundle, profile=test_profile().with_runtime(cfg_alpha=1.0), verify="size")
    np.testing.assert_array_equal(_codes(by_profile, noise=ref["noise"]), ref["codes"])


@pytest.mark.parametrize("synthesis, words", [
    ({"noise_scale": -1}, "synthesis.noise_scale is -1"),
    ({"noise_scale": "low"}, "synthesis.noise_scale is 'low'"),
    ({"temperature": 0.7}, "unknown sampling default"),
    ([0.5], "must be an object"),
    ({"min_flow_steps": 0}, r"synthesis.min_flow_steps is 0; allowed: an integer in \[1, 64\].*--min-flow-steps N"),
    ({"min_flow_steps": "7"}, r"synthesis.min_flow_steps is '7'; allowed: an integer.*--min-flow-steps N"),
    ({"min_flow_steps": 65}, r"synthesis.min_flow_steps is 65; allowed: an integer in \[1, 64\]"),
    ({"min_flow_steps": 7.5}, "synthesis.min_flow_steps is 7.5; allowed: an integer"),
    ({"min_flow_steps": True}, "synthesis.min_flow_steps is True; allowed: an integer"),
    ({"repetition_stop_seconds": -1}, r"synthesis.repetition_stop_seconds is -1; allowed: a number in \[0.0, 60.0\]"),
    ({"repetition_stop_seconds": "1.25"}, "synthesis.repetition_stop_seconds is '1.25'"),
])
def test_bad_synthesis_defaults_are_refused_with_the_field(tiny_bundle, tmp_path, synthesis, words):
    bundle = _bundle_with(tiny_bundle, tmp_path, synthesis)
    with pytest.raises(ManifestError, match=words):
        load_manifest(bundle, verify="none")


@pytest.mark.parametrize("kw", [{"noise_scale": -0.1}, {"noise_scale": float("nan")}, {"cfg_alpha": 11.0}])
def test_out_of_range_options_raise(engine, kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        engine.synthesize(TEXT, **kw)


# --- the bundle's flow-step floor (synthesis.min_flow_steps) ---

def _profile3():
    """The test profile with the 3 flow steps the speed-first device profiles set."""
    return test_profile().with_runtime(flow_steps=3)


def test_floor_raises_a_profiles_steps_and_the_audio_follows(tiny_bundle, tmp_path, engine):
    from vox_edge.runtime import load

    floored = load(_bundle_with(tiny_bundle, tmp_path, {"min_flow_steps": 7}), profile=_profile3(), verify="size")
    assert floored.min_flow_steps == 7 and floored.flow_steps_for() == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # raising the profile's steps is the documented behaviour, not a warning
        got = _codes(floored, seed=3, max_frames=8)
    np.testing.assert_array_equal(got, _codes(engine, seed=3, max_frames=8, flow_steps=7))
    assert not np.array_equal(got, _codes(engine, seed=3, max_frames=8, flow_steps=3))  # and 3 would differ
    plain = load(tiny_bundle, profile=_profile3(), verify="size")  # no floor: the profile's 3, as before
    assert plain.min_flow_steps is None and plain.flow_steps_for() == 3


def test_floor_raises_the_models_default_steps(tiny_bundle, tmp_path):
    from vox_edge.runtime import load

    bundle = _bundle_with(tiny_bundle, tmp_path, {"min_flow_steps": 9})
    assert load(bundle, verify="size").flow_steps_for() == 9  # no profile: n_decoding_steps 7, raised
    assert load(bundle, profile=test_profile().with_runtime(flow_steps=12), verify="size").flow_steps_for() == 12


def test_a_per_call_value_below_the_floor_is_run_as_asked_and_warned_once(tiny_bundle, tmp_path, engine):
    from vox_edge.runtime import load

    floored = load(_bundle_with(tiny_bundle, tmp_path, {"min_flow_steps": 7}), profile=_profile3(), verify="size")
    with pytest.warns(FlowStepsWarning, match="flow_steps=3 is below this bundle's min_flow_steps 7"):
        got = _codes(floored, seed=3, max_frames=8, flow_steps=3)
    np.testing.assert_array_equal(got, _codes(engine, seed=3, max_frames=8, flow_steps=3))
    assert floored.flow_steps_for(3) == 3 and floored.flow_steps_for(8) == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per engine, not per call
        _codes(floored, seed=3, max_frames=2, flow_steps=2)


def test_no_floor_reads_as_before(tiny_bundle):
    m = load_manifest(tiny_bundle, verify="none")
    assert "min_flow_steps" not in m.synthesis and m.min_flow_steps is None


def test_info_shows_the_floor(tiny_bundle, tmp_path, capsys):
    from vox_edge.cli import main

    bundle = _bundle_with(tiny_bundle, tmp_path, {"noise_scale": 0.5, "min_flow_steps": 7})
    assert main(["info", str(bundle), "--verify", "size"]) == 0
    out = capsys.readouterr().out
    assert "sampling    noise_scale 0.5 (the model's defaults)" in out
    assert ("flow floor  min_flow_steps 7 (measured for this model: a device profile's fewer flow steps are "
            "raised") in out
    assert main(["info", str(tiny_bundle), "--verify", "size"]) == 0
    assert "flow floor  none" in capsys.readouterr().out


@pytest.mark.parametrize("asked, ran", [(None, 9), (3, 3)])
def test_quality_report_names_the_steps_the_engine_ran(tiny_bundle, tmp_path, asked, ran):
    """benchmarks/quality_wer.py records the steps the engine ran: the profile's 7 raised to the bundle's floor 9,
    or the explicit option as given."""
    from vox_edge.benchmarks import quality_wer as qw

    bundle = _bundle_with(tiny_bundle, tmp_path, {"min_flow_steps": 9})
    rows = [{"id": "s0", "category": "plain", "raw": "Hi.", "norm": "hi"}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlowStepsWarning)
        run = qw.synthesise("b", str(bundle), rows, str(tmp_path / "out"), "dev-vm-2core-x86", 0, asked)
    assert run["flow_steps"] == ran and run["synthesis"] == {"min_flow_steps": 9}


# --- the bundle's repetition safety net (synthesis.repetition_stop_seconds) ---

def test_bundle_window_turns_the_repetition_net_on_and_a_call_turns_it_off(tiny_bundle, tmp_path, monkeypatch):
    from vox_edge.runtime import load

    eng = load(_bundle_with(tiny_bundle, tmp_path, {"repetition_stop_seconds": 2.0}), profile=test_profile(),
               verify="size")
    assert eng.manifest.synthesis == {"repetition_stop_seconds": 2.0}
    run = looping_flow(eng, monkeypatch)
    window = int(np.ceil(2.0 * eng.config.frame_rate))
    assert len(run(_codes, eng, silence_stop_seconds=0)) == window
    assert len(run(_codes, eng, silence_stop_seconds=0, repetition_stop_seconds=0)) > window  # the call's 0: off

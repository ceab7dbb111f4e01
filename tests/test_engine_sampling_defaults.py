"""Sampling knobs beyond the reference: noise_scale, and a bundle's own defaults (manifest `synthesis`).

Precedence: per-call option > device profile > the bundle's `synthesis` > the reference's built-in values.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from runtime_fixtures import TEXT, engine, reference_run, test_profile, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.errors import ManifestError
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
])
def test_bad_synthesis_defaults_are_refused_with_the_field(tiny_bundle, tmp_path, synthesis, words):
    bundle = _bundle_with(tiny_bundle, tmp_path, synthesis)
    with pytest.raises(ManifestError, match=words):
        load_manifest(bundle, verify="none")


@pytest.mark.parametrize("kw", [{"noise_scale": -0.1}, {"noise_scale": float("nan")}, {"cfg_alpha": 11.0}])
def test_out_of_range_options_raise(engine, kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        engine.synthesize(TEXT, **kw)

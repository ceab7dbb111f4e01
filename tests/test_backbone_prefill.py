"""A prompt graph beside the backbone (manifest `backbone_prefill`, backbone spec option `prefill8` / `prefill32`):
exported with the backbone's cache contract, run by the runtime for prompts while frames run the backbone, on the
same KV cache (grow and in-place). Parity on the tiny checkpoint: the prefill graph's cache against the decode
graph's, and teacher-forced codes against the PyTorch reference at the parity ladder's INT4 thresholds.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from runtime_fixtures import TEXT, reference_run, tiny_checkpoint_dir  # noqa: F401
from test_parity_ladder import LADDER, _teacher_forced_codes

FRAMES = 30


@pytest.fixture(scope="module")
def reference(tiny_checkpoint_dir):  # noqa: F811
    return reference_run(tiny_checkpoint_dir, FRAMES, seed=5)


_BUNDLES: dict[str, object] = {}


def _bundle(ckpt, root, spec: str):
    """A tiny bundle with backbone `spec`, flow and codec FP32 (exported once per module and spec)."""
    from vox_edge.export.bundle import export_bundle

    if spec not in _BUNDLES:
        _BUNDLES[spec] = export_bundle(ckpt, root / spec, precision="fp32", per_component={"backbone": spec},
                                       progress=lambda m: None)
    return _BUNDLES[spec]


class _Counting:
    """A session proxy counting runs (plain and IO-bound) and the positions of each."""

    def __init__(self, sess):
        self._sess, self.positions = sess, []

    def run(self, names, feed, *a):
        self.positions.append(int(np.shape(feed["inputs_embeds"])[1]))
        return self._sess.run(names, feed, *a)

    def run_with_iobinding(self, binding, *a):
        self.positions.append(-1)  # IO-bound: the length is in the binding
        return self._sess.run_with_iobinding(binding, *a)

    def __getattr__(self, name):
        return getattr(self._sess, name)


def _load(bundle, counters: dict | None = None):
    from runtime_fixtures import test_profile

    from vox_edge.runtime import load
    from vox_edge.runtime.sessions import SessionSettings, open_session

    prof = test_profile()
    settings = SessionSettings.from_profile(prof)

    def opener(name, path):
        sess = open_session(path, settings, graph=name)
        if counters is not None and name.startswith("backbone"):
            sess = counters.setdefault(name, _Counting(sess))
        return sess

    return load(bundle, prof, verify="size", open_graph=opener)


def _prompt_cache(engine):
    """hidden of the last prompt position [D] and the KV cache after TEXT's whole prompt, from an empty past."""
    ids, _ = engine.prompt_ids(TEXT, "casual_male")
    hidden, past = engine._backbone.run(engine._embed(ids, "casual_male"), engine._backbone.empty_past())
    return hidden[0, -1], past


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["grow", "shared"])
def test_fp32_prefill_graph_gives_the_backbones_codes_and_runs_only_prompts(cache, tiny_checkpoint_dir, reference,
                                                                            tmp_path_factory):  # noqa: F811
    suffix = "-gqa-shared" if cache == "shared" else ""
    root = tmp_path_factory.mktemp("prefill32")
    plain = _load(_bundle(tiny_checkpoint_dir, root, "fp32" + suffix))
    counters: dict = {}
    b = _bundle(tiny_checkpoint_dir, root, f"fp32{suffix}-prefill32")
    with_prefill = _load(b, counters)
    m = with_prefill.manifest.graphs
    assert "backbone_prefill" in m and m["backbone_prefill"].kv_cache == m["backbone"].kv_cache == cache
    a = plain.synthesize(TEXT, voice="casual_male", noise=reference["noise"], max_frames=FRAMES, normalize=False)
    got = with_prefill.synthesize(TEXT, voice="casual_male", noise=reference["noise"], max_frames=FRAMES,
                                  normalize=False)
    assert np.array_equal(np.concatenate(got.codes), np.concatenate(a.codes))
    assert np.max(np.abs(got.samples - a.samples)) <= 1e-5
    # prompts (the voice prefix, then the text) ran the prefill graph, every frame the backbone
    pre, dec = counters["backbone_prefill"].positions, counters["backbone"].positions
    assert len(pre) == 2 and len(dec) == FRAMES - 1
    if cache == "grow":
        assert min(pre) >= 2 and set(dec) == {1}
    # load(prefill_graph=False) leaves the prompt graph unloaded: the backbone prefills, the same codes
    from runtime_fixtures import test_profile

    from vox_edge.runtime import load

    without = load(b, test_profile(), verify="size", prefill_graph=False)
    assert "backbone_prefill" not in without.sessions and not without._backbone.has_prefill_graph
    c = without.synthesize(TEXT, voice="casual_male", noise=reference["noise"], max_frames=FRAMES, normalize=False)
    assert np.array_equal(np.concatenate(c.codes), np.concatenate(a.codes))


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["grow", "shared"])
def test_int8_prefill_beside_int4_backbone_parity(cache, tiny_checkpoint_dir, reference, tmp_path_factory):  # noqa: F811
    suffix = "-gqa-shared" if cache == "shared" else ""
    root = tmp_path_factory.mktemp("prefill8")
    fp32 = _load(_bundle(tiny_checkpoint_dir, root, "fp32" + suffix))
    int4 = _load(_bundle(tiny_checkpoint_dir, root, "int4" + suffix))
    mixed = _load(_bundle(tiny_checkpoint_dir, root, f"int4{suffix}-prefill8"))
    assert mixed.manifest.graphs["backbone_prefill"].precision == "int8"
    assert mixed.manifest.graphs["backbone"].precision == "int4"

    # the prompt's cache: the INT8 prefill graph's is at least as close to FP32 as the INT4 decode graph's
    h32, kv32 = _prompt_cache(fp32)
    h4, kv4 = _prompt_cache(int4)
    h8, kv8 = _prompt_cache(mixed)

    def rel(a, b):
        return float(np.linalg.norm(np.concatenate([x.ravel() for x in a]) - np.concatenate([x.ravel() for x in b]))
                     / np.linalg.norm(np.concatenate([x.ravel() for x in b])))

    err8, err4 = rel(kv8, kv32), rel(kv4, kv32)
    print(f"\n{cache}: prompt KV rel. error vs FP32: int8 prefill graph {err8:.4f}, int4 decode graph {err4:.4f}; "
          f"int8 vs int4 {rel(kv8, kv4):.4f}; hidden {rel([h8], [h32]):.4f} / {rel([h4], [h32]):.4f}")
    assert err8 <= err4 and err8 < 0.05
    assert rel([h8], [h32]) <= rel([h4], [h32]) + 0.01

    # teacher-forced codes against the reference: the prompt through the INT8 graph, frames through INT4
    _, _, min_sem, min_ac, min_pm1, _ = LADDER["int4"]
    ref = reference["codes"]
    for engine, name in ((int4, "int4"), (mixed, "int4+prefill8")):
        got = _teacher_forced_codes(engine, ref, reference["noise"])
        sem = float(np.mean(got[:, 0] == ref[:, 0]))
        ac = float(np.mean(got[:, 1:] == ref[:, 1:]))
        pm1 = float(np.mean(np.abs(got[:, 1:] - ref[:, 1:]) <= 1))
        print(f"{name}: semantic {sem:.3f}, acoustic {ac:.3f}, within+-1 {pm1:.3f}")
        assert sem >= min_sem and ac >= min_ac and pm1 >= min_pm1, (name, sem, ac, pm1)


def test_spec_option_and_manifest_contract(tiny_bundle_manifest_dict):
    from vox_edge.errors import ExportError, ManifestError
    from vox_edge.export.backbone_graph import BackboneOptions
    from vox_edge.manifest import validate_manifest_dict

    o = BackboneOptions.from_spec("int4-b128-acc4-gqa-shared-prefill8")
    p = o.prefill_options()
    assert (p.precision, p.attention, p.kv_cache, p.prefill, p.int4_block_size) == ("int8", "gqa", "shared", None, 128)
    assert BackboneOptions.from_spec("int4").prefill_options() is None
    with pytest.raises(ExportError, match="prefill8"):
        BackboneOptions.from_spec("int4-prefill9")
    with pytest.raises(ExportError, match="for CPU bundles"):
        BackboneOptions(precision="int4", attention="gqa", static_shapes=True, prefill="int8").prefill_options()

    d = copy.deepcopy(tiny_bundle_manifest_dict)
    d["graphs"]["backbone_prefill"] = {**d["graphs"]["backbone"], "precision": "int8"}
    validate_manifest_dict(d)  # the backbone's cache contract: accepted
    for change in ({"kv_cache": "shared"}, {"inputs": d["graphs"]["backbone"]["inputs"][:-1]}):
        bad = copy.deepcopy(d)
        bad["graphs"]["backbone_prefill"].update(change)
        with pytest.raises(ManifestError, match="cache contract"):
            validate_manifest_dict(bad)


@pytest.fixture(scope="module")
def tiny_bundle_manifest_dict(tiny_bundle):
    import json

    return json.loads((tiny_bundle / "manifest.json").read_text(encoding="utf-8"))


from runtime_fixtures import tiny_bundle  # noqa: E402,F401

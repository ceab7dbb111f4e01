"""The in-place KV cache (manifest schema 3, graphs.backbone.kv_cache = "shared") against the growing one and the
PyTorch reference, with the prefix cache and concurrent requests, and the manifest rules that guard it."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from runtime_fixtures import TEXT, engine, get_engine, reference_run, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.errors import ManifestError
from vox_edge.manifest import FEATURES_SCHEMA_VERSION, LEXICON_SCHEMA_VERSION, MANIFEST_FILE, validate_manifest_dict

FRAMES = 60


@pytest.fixture(scope="module")
def shared_bundle(tiny_bundle, tiny_checkpoint_dir, tmp_path_factory) -> Path:
    """The tiny bundle with its backbone re-exported as `fp32-gqa-shared` (what export_bundle writes for that spec,
    without exporting the flow and codec graphs a second time: 30 s)."""
    import shutil

    from vox_edge.export.backbone_graph import BackboneOptions, export_backbone
    from vox_edge.export.bundle import file_table
    from vox_edge.manifest import schema_version_for

    out = tmp_path_factory.mktemp("kv") / "tiny_shared"
    shutil.copytree(tiny_bundle, out)
    d = json.loads((out / MANIFEST_FILE).read_text())
    d["graphs"]["backbone"] = export_backbone(tiny_checkpoint_dir, out, BackboneOptions.from_spec("fp32-gqa-shared"),
                                              progress=lambda m: None)
    d["schema_version"] = schema_version_for("lexicon" in d["tokenizer"], "shared")
    d["files"] = file_table(out)
    (out / MANIFEST_FILE).write_text(json.dumps(d))
    return out


@pytest.fixture(scope="module")
def shared(shared_bundle):
    return get_engine(shared_bundle)


def test_manifest_declares_the_in_place_cache(shared_bundle, shared):
    d = json.loads((shared_bundle / MANIFEST_FILE).read_text())
    bb = d["graphs"]["backbone"]
    assert d["schema_version"] == FEATURES_SCHEMA_VERSION
    assert bb["kv_cache"] == "shared" and bb["attention"] == "gqa" and bb["inputs"][1] == "past_length"
    assert shared._backbone.in_place


def test_codes_and_audio_equal_pytorch_reference(shared, tiny_checkpoint_dir):
    ref = reference_run(tiny_checkpoint_dir, FRAMES, seed=11)
    out = shared.synthesize(TEXT, voice="casual_male", normalize=False, noise=ref["noise"])
    np.testing.assert_array_equal(out.codes[0], ref["codes"])
    assert np.abs(out.samples - ref["audio"]).max() <= 1e-4


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_same_codes_as_the_growing_cache(shared_bundle, engine, prefix_cache):
    other = get_engine(shared_bundle, prefix_cache=prefix_cache)
    for voice in engine.voices:
        for text in (TEXT, "Recalculating. In 300 meters, keep left."):  # the second: two segments
            a = engine.synthesize(text, voice=voice, seed=5, max_frames=25)
            b = other.synthesize(text, voice=voice, seed=5, max_frames=25)
            assert len(a.codes) == len(b.codes)
            for ca, cb in zip(a.codes, b.codes):
                np.testing.assert_array_equal(ca, cb)
            assert np.abs(a.samples - b.samples).max() <= 1e-5


def test_prefix_is_only_read(shared):
    """A request copies the cached voice prefix into its own buffer: the shared entry stays as it was."""
    prefix = shared._prefixes.get("casual_male")
    before = [a.copy() for a in prefix.past]
    shared.synthesize(TEXT, voice="casual_male", seed=1, max_frames=10)
    assert all(np.array_equal(a, b) for a, b in zip(prefix.past, before))
    assert not any(a.flags.writeable for a in prefix.past)


def test_concurrent_requests_equal_serial(shared):
    texts = ("Turn left.", "Keep right at the fork.", "Recalculating.")
    reqs = [{"text": texts[k % 3], "voice": ("casual_female", "casual_male")[k % 2], "seed": k, "max_frames": 3 + k % 4}
            for k in range(12)]

    def speak(k):
        r = dict(reqs[k])
        return shared.synthesize(r.pop("text"), **r).samples

    shared._prefixes.clear()
    results, errors = {}, []
    barrier = threading.Barrier(4)

    def worker(t):
        try:
            barrier.wait()
            for k in range(t, len(reqs), 4):
                results[k] = speak(k)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors[0]
    for k in range(len(reqs)):
        assert np.array_equal(results[k], speak(k)), f"request {k} differs when run concurrently"


def test_cache_holds_what_it_was_sized_for(shared):
    bb = shared._backbone
    kv = bb.cache(bb.empty_past(), capacity=3)
    kv.step(np.zeros((1, 2, shared.config.dim), np.float32))
    assert kv.length == 2 and all(a.shape[2] == 2 for a in kv.past())
    kv.step(np.zeros((1, 1, shared.config.dim), np.float32))
    with pytest.raises(RuntimeError, match="capacity 3"):
        kv.step(np.zeros((1, 1, shared.config.dim), np.float32))


def test_manifest_rules(shared_bundle):
    d = json.loads((shared_bundle / MANIFEST_FILE).read_text())
    validate_manifest_dict(d, shared_bundle)
    older = copy.deepcopy(d)
    older["schema_version"] = LEXICON_SCHEMA_VERSION
    with pytest.raises(ManifestError, match="needs schema_version 3"):
        validate_manifest_dict(older, shared_bundle)
    unknown = copy.deepcopy(d)
    unknown["graphs"]["backbone"]["kv_cache"] = "paged"
    with pytest.raises(ManifestError, match="kv_cache 'paged'"):
        validate_manifest_dict(unknown, shared_bundle)
    misplaced = copy.deepcopy(d)
    misplaced["graphs"]["codec_decoder"]["kv_cache"] = "shared"
    with pytest.raises(ManifestError, match="only the backbone"):
        validate_manifest_dict(misplaced, shared_bundle)


def test_manifest_without_past_length_is_refused(shared_bundle, tmp_path):
    """A shared-cache graph listed with the growing cache's inputs: the I/O check names the fix."""
    import shutil

    from vox_edge.manifest import load_manifest

    bad = tmp_path / "b"
    shutil.copytree(shared_bundle, bad)
    d = json.loads((bad / MANIFEST_FILE).read_text())
    d["graphs"]["backbone"]["inputs"].remove("past_length")
    (bad / MANIFEST_FILE).write_text(json.dumps(d))
    with pytest.raises(ManifestError, match="I/O names do not match"):
        load_manifest(bad, verify="none")


def test_fixed_shape_backbone_is_refused(shared):
    from vox_edge.runtime.backbone import Backbone

    with pytest.raises(ManifestError, match="without static shapes"):
        Backbone(shared._backbone._sess, shared.config, "shared", static_shapes=True)


def test_spec_and_schema_version():
    from vox_edge.export.backbone_graph import BackboneOptions
    from vox_edge.manifest import SCHEMA_VERSION, schema_version_for

    o = BackboneOptions.from_spec("int8-gqa-shared")
    assert (o.precision, o.attention_kind, o.kv_cache) == ("int8", "gqa", "shared")
    assert BackboneOptions.from_spec("int8-shared").attention_kind == "gqa"  # an in-place cache implies gqa
    assert [schema_version_for(lex, kv) for lex in (False, True) for kv in ("grow", "shared")] == \
        [SCHEMA_VERSION, FEATURES_SCHEMA_VERSION, LEXICON_SCHEMA_VERSION, FEATURES_SCHEMA_VERSION]

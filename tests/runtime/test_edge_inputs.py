"""Edge inputs and failures: each has its documented behaviour (audio or a typed error); none hangs or crashes."""

from __future__ import annotations

import json
import shutil
import time
import warnings

import numpy as np
import pytest
from runtime_fixtures import test_profile

from vox_edge.errors import BundleIntegrityError, ManifestError, ProfileError, TextError, VoiceError
from vox_edge.runtime import load, plan


def _only_empty_last_chunk(chunks) -> None:
    assert len(chunks) == 1
    c = chunks[0]
    assert c.is_last and c.samples.shape == (0,) and c.frames == 0 and c.t_first is None and c.segment == -1


@pytest.mark.parametrize("text", ["", "   ", " \n\t \r\n "])
def test_empty_and_whitespace_text_give_zero_length_audio(engine, text):
    _only_empty_last_chunk(list(engine.stream(text)))
    out = engine.synthesize(text)
    assert out.samples.shape == (0,) and out.segments == () and out.codes == ()


def test_text_derived_frame_cap_stops_a_model_that_never_ends(engine):
    # the tiny model never emits END; without max_frames the cap ends it: ceil(12.5 * (2 + 0.25 * 10)) = 57
    assert plan.frame_cap("Turn left.", 12.5) == 57
    out = engine.synthesize("Turn left.")
    assert [len(c) for c in out.codes] == [57] and out.stopped == (False,)


def test_frame_cap_formula_and_absolute_max():
    assert plan.frame_cap("", 12.5) == 25
    assert plan.frame_cap("x" * 400, 12.5) == 1275
    assert plan.frame_cap("x" * 10_000, 12.5) == 1500  # 120 s ceiling
    assert all(plan.frame_cap("x" * n, 12.5) <= 1500 for n in range(0, 2000, 37))


@pytest.mark.parametrize("unit", ["Drive carefully, the road is wet. ", "word ", "a"])
def test_100_kb_of_text_is_segmented_and_finishes(engine, unit):
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    t0 = time.perf_counter()
    segs = plan.segments(text)
    assert len(segs) >= 100_000 // plan.MAX_SEGMENT_CHARS and max(map(len, segs)) <= plan.MAX_SEGMENT_CHARS
    chunks = list(engine.stream(text, max_frames=12))
    assert time.perf_counter() - t0 < 30
    assert sum(c.frames for c in chunks) == 12 and chunks[-1].is_last


def test_emoji_only_text_does_not_crash(engine):
    chunks = list(engine.stream("😀🚗🎉👍🏽", max_frames=6))
    assert chunks[-1].is_last and sum(c.frames for c in chunks) in (0, 6)  # front end may drop emoji (then silent)


@pytest.mark.parametrize("text", ["Turn\x00 left\x07 now\x1b[31m.", "\ud800 lone surrogate", "tab\tand\vform\ffeed",
                                  "\u202eRTL override\u200b zero width", "e\u0301\u0301\u0301\u0301\u0301\u0301 zalgo"])
def test_control_and_odd_unicode_never_crash(engine, text):
    out = engine.synthesize(text, max_frames=4)
    assert out.samples.shape[0] in (0, 4 * engine.samples_per_frame)
    for seg in out.segments:
        assert not any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 for ch in seg), seg


def test_non_string_text_is_a_text_error(engine):
    with pytest.raises(TextError):
        engine.synthesize(b"bytes")


def test_unknown_voice_lists_the_voices(engine):
    with pytest.raises(VoiceError) as e:
        engine.stream("Hello.", voice="darth_vader")  # raised at the call, not at the first next()
    assert "casual_female" in str(e.value) and "casual_male" in str(e.value)


def test_missing_bundle_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError, match="manifest.json"):
        load(tmp_path / "empty")


@pytest.fixture()
def bundle_copy(tiny_bundle, tmp_path):
    dst = tmp_path / "b"
    shutil.copytree(tiny_bundle, dst)
    return dst


def test_wrong_schema_version_is_a_manifest_error(bundle_copy):
    m = json.loads((bundle_copy / "manifest.json").read_text())
    m["schema_version"] = 99
    (bundle_copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError, match="schema_version 99"):
        load(bundle_copy)


def test_corrupted_file_is_caught_by_full_verification(bundle_copy):
    voice = next((bundle_copy / "voices").glob("*.npy"))
    raw = bytearray(voice.read_bytes())
    raw[-1] ^= 0xFF
    voice.write_bytes(bytes(raw))
    with pytest.raises(BundleIntegrityError, match="sha256"):
        load(bundle_copy, verify="full")


def test_profiles_by_name_and_unknown_profile(tiny_bundle):
    eng = load(tiny_bundle, profile="dev-vm-2core-x86", verify="none")
    assert eng.profile.name == "dev-vm-2core-x86" and eng.session_settings.intra_op_threads == 1
    with pytest.raises(ProfileError):
        load(tiny_bundle, profile="no-such-board", verify="none")
    from vox_edge.device_profiles import host_profile_name

    auto = load(tiny_bundle, profile="auto", verify="none")
    assert (auto.profile.name if auto.profile else None) == host_profile_name()


def test_missing_execution_provider_warns_and_falls_back_to_cpu(tiny_bundle):
    from vox_edge.runtime.sessions import ProviderFallbackWarning

    prof = test_profile().with_runtime(execution_providers=("TensorrtExecutionProvider", "CPUExecutionProvider"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eng = load(tiny_bundle, profile=prof, verify="none")
    msgs = [str(w.message) for w in caught if issubclass(w.category, ProviderFallbackWarning)]
    assert msgs and "TensorrtExecutionProvider" in msgs[0] and "CPU" in msgs[0]
    assert all(p == ("CPUExecutionProvider",) for p in eng.providers.values())
    assert eng.synthesize("Hi.", max_frames=3).samples.shape == (3 * eng.samples_per_frame,)


def test_max_context_bounds_the_frames(tiny_bundle):
    eng = load(tiny_bundle, profile=test_profile().with_runtime(max_context=256), verify="none")
    text = "word " * 40  # one segment; its text-derived cap (650 frames) is above the 256-position budget
    ids, _ = eng.prompt_ids(text.strip(), eng.default_voice)
    out = eng.synthesize(text)
    assert plan.frame_cap(text.strip(), 12.5) > 256 and len(out.codes[0]) == 256 - len(ids)
    assert np.isfinite(out.samples).all()

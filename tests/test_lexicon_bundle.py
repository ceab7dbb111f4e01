"""A bundle's optional pronunciation lexicon (manifest `tokenizer.lexicon`): export, contract, runtime, `info`.

A model trained on lexicon-applied text ships `lexicon.tsv.gz` in its checkpoint; the export copies it into the
bundle (hashed like every file) and the engine tokenizes `lexicon.apply(segment)` for every normalised segment.
Bundles without one (the release, all older bundles) tokenize the segment itself.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from runtime_fixtures import engine, test_profile, tiny_bundle, tiny_checkpoint_dir  # noqa: F401
from test_bundle import _reuse_component_graphs  # fast stand-in for the torch flow / codec exporter

from vox_edge.errors import BundleIntegrityError, CheckpointError, ManifestError, TokenizerError
from vox_edge.manifest import MANIFEST_FILE, load_manifest, sha256_file
from vox_edge.runtime import plan
from vox_edge.runtime.text.lexicon import Lexicon

pytest.importorskip("vox_edge.export.bundle")

LEXICON = "lexicon.tsv.gz"
TEXT = "Turn left in 200 meters. Then keep right at the fork."
# misaki-style phonemes (non-ASCII on purpose: the tokenizer sees them as UTF-8 bytes)
ENTRIES = {"turn": "tˈɜɹn", "left": "lˈɛft", "in": "ɪn", "two": "tˈu", "hundred": "hˈʌndɹəd", "meters": "mˈiTəɹz",
           "then": "ðˈɛn", "keep": "kˈip", "right": "ɹˈIt", "at": "æt", "the": "ðə"}
QUIET = lambda m: None  # noqa: E731


def _write_lexicon(path: Path, entries: dict[str, str] = ENTRIES) -> Path:
    path.write_bytes(gzip.compress("".join(f"{w}\t{p}\n" for w, p in entries.items()).encode("utf-8"), mtime=0))
    return path


def _checkpoint_with_lexicon(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    _write_lexicon(dst / LEXICON)
    return dst


def _manifest(root: Path) -> dict:
    return json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))


def _write_manifest(root: Path, d: dict) -> None:
    (root / MANIFEST_FILE).write_text(json.dumps(d), encoding="utf-8")


@pytest.fixture(scope="module")
def lex_checkpoint(tiny_checkpoint_dir, tmp_path_factory) -> Path:
    return _checkpoint_with_lexicon(tiny_checkpoint_dir, tmp_path_factory.mktemp("lexckpt") / "tiny_lex")


@pytest.fixture(scope="module")
def lex_bundle(lex_checkpoint, tiny_bundle, tmp_path_factory) -> Path:
    from vox_edge.export import bundle as bundle_mod

    mp = pytest.MonkeyPatch()
    mp.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(tiny_bundle))
    try:
        return bundle_mod.export_bundle(lex_checkpoint, tmp_path_factory.mktemp("lexbundle") / "b", precision="fp32",
                                        progress=QUIET)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def lex_engine(lex_bundle):
    from vox_edge.runtime import load

    return load(lex_bundle, profile=test_profile(), verify="size")


@pytest.fixture
def lex_bundle_copy(lex_bundle, tmp_path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(lex_bundle, dst)
    return dst


# --- export ----------------------------------------------------------------------------------------------

def test_export_copies_the_lexicon_hashed_and_named_in_the_manifest(lex_bundle, lex_checkpoint):
    d = _manifest(lex_bundle)
    assert d["tokenizer"] == {"file": "tekken.json", "kind": "tekken", "lexicon": LEXICON}
    assert (lex_bundle / LEXICON).read_bytes() == (lex_checkpoint / LEXICON).read_bytes()
    assert d["files"][LEXICON] == {"sha256": sha256_file(lex_checkpoint / LEXICON),
                                   "size": (lex_checkpoint / LEXICON).stat().st_size}
    assert d["schema_version"] >= 2  # an older vox-edge refuses it rather than feed its model raw text
    assert load_manifest(lex_bundle).lexicon == LEXICON


def test_bundle_without_lexicon_has_no_field(tiny_bundle):
    d = _manifest(tiny_bundle)
    assert "lexicon" not in d["tokenizer"] and not (tiny_bundle / LEXICON).exists()
    assert load_manifest(tiny_bundle, verify="none").lexicon is None


def test_manifest_with_lexicon_matches_json_schema(lex_bundle):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parents[1] / "src" / "vox_edge" / "manifest.schema.json").read_text())
    jsonschema.validate(_manifest(lex_bundle), schema, cls=jsonschema.Draft202012Validator)
    for bad in (5, "", "/etc/lexicon.tsv.gz", "../lexicon.tsv.gz"):
        d = _manifest(lex_bundle)
        d["tokenizer"]["lexicon"] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(d, schema, cls=jsonschema.Draft202012Validator)


def test_unreadable_checkpoint_lexicon_fails_before_writing(tiny_checkpoint_dir, tmp_path):
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.checkpoint import Checkpoint

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint_dir, ckpt)
    (ckpt / LEXICON).write_bytes(gzip.compress(b"no tab on this line\n"))
    with pytest.raises(CheckpointError, match=r"lexicon\.tsv\.gz.*line 1.*export_checkpoint\.py"):
        Checkpoint.open(ckpt)
    with pytest.raises(CheckpointError, match=r"lexicon\.tsv\.gz"):
        export_bundle(ckpt, tmp_path / "out", progress=QUIET)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


# --- runtime ---------------------------------------------------------------------------------------------

def _text_ids(eng, segment: str) -> list[int]:
    """The text tokens of the engine's prompt for `segment` (between NEXT_AUDIO_TEXT and REPEAT_AUDIO_TEXT)."""
    ids, p = eng.prompt_ids(segment, "casual_male")
    return ids[p:-2]


def test_prompt_ids_go_through_the_lexicon(lex_engine, engine):
    lex = Lexicon.from_file(lex_engine.manifest.path(LEXICON))
    assert lex_engine.lexicon is not None and lex_engine.lexicon.entries == lex.entries
    segments = plan.segments(TEXT, "en", True)
    assert segments == ["Turn left in two hundred meters. Then keep right at the fork."]  # normalised
    for seg in segments:
        phonemes = lex.apply(seg)
        assert phonemes != seg and "tˈɜɹn" in lex.apply(segments[0])
        assert _text_ids(lex_engine, seg) == lex_engine.tokenizer.encode(phonemes)
        assert _text_ids(lex_engine, seg) != lex_engine.tokenizer.encode(seg)
    # the voice prefix (shared by every request, cached) is unchanged by the lexicon
    assert lex_engine.prompt_ids("", "casual_male") == engine.prompt_ids("", "casual_male")


def test_prompt_ids_without_lexicon_are_the_text_itself(engine):
    assert engine.lexicon is None
    for seg in plan.segments(TEXT, "en", True):
        assert _text_ids(engine, seg) == engine.tokenizer.encode(seg)


@pytest.mark.parametrize("how", ["stream", "synthesize"])
def test_stream_and_synthesize_encode_lexicon_text(lex_engine, monkeypatch, how):
    seen: list[str] = []
    encode = lex_engine.tokenizer.encode
    monkeypatch.setattr(lex_engine.tokenizer, "encode", lambda text: seen.append(text) or encode(text))
    text = "Turn left in 200 meters."
    if how == "stream":
        chunks = list(lex_engine.stream(text, voice="casual_male", seed=0, max_frames=2))
        assert chunks[-1].is_last
    else:
        lex_engine.synthesize(text, voice="casual_male", seed=0, max_frames=2)
    (seg,) = plan.segments(text, "en", True)
    assert [t for t in seen if t] == [lex_engine.lexicon.apply(seg)]


def test_lexicon_missing_from_files_is_a_manifest_error(lex_bundle_copy):
    d = _manifest(lex_bundle_copy)
    del d["files"][LEXICON]
    _write_manifest(lex_bundle_copy, d)
    with pytest.raises(ManifestError, match=r"'lexicon\.tsv\.gz' is referenced but has no entry in 'files'.*"
                                            r"Re-export the bundle"):
        load_manifest(lex_bundle_copy, verify="none")


@pytest.mark.parametrize("bad", [5, "", "/abs/lexicon.tsv.gz", "../lexicon.tsv.gz", ["lexicon.tsv.gz"]])
def test_lexicon_field_must_name_a_bundle_file(lex_bundle_copy, bad):
    d = _manifest(lex_bundle_copy)
    d["tokenizer"]["lexicon"] = bad
    _write_manifest(lex_bundle_copy, d)
    with pytest.raises(ManifestError, match=r"tokenizer\.lexicon must name a file of the bundle.*Re-export"):
        load_manifest(lex_bundle_copy, verify="none")


def test_deleted_lexicon_is_named(lex_bundle_copy):
    (lex_bundle_copy / LEXICON).unlink()
    with pytest.raises(BundleIntegrityError, match=r"lexicon\.tsv\.gz: missing from the bundle"):
        load_manifest(lex_bundle_copy, verify="size")


@pytest.mark.parametrize("where", ["deflate", "middle", "crc"])
def test_corrupted_lexicon_is_a_typed_error(lex_bundle_copy, where):
    from vox_edge.runtime import load

    p = lex_bundle_copy / LEXICON
    data = bytearray(p.read_bytes())
    i = {"deflate": 12, "middle": len(data) // 2, "crc": len(data) - 6}[where]
    data[i] ^= 0xFF  # same size: only the sha256 check or the parser can tell
    p.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match=r"lexicon\.tsv\.gz: sha256 does not match.*re-export"):
        load_manifest(lex_bundle_copy, verify="full")
    with pytest.raises(TokenizerError, match=r"lexicon.*re-export the bundle"):
        load(lex_bundle_copy, profile=test_profile(), verify="size")


def test_malformed_lexicon_lines_are_a_typed_error(lex_bundle_copy):
    from vox_edge.runtime import load

    p = _write_lexicon(lex_bundle_copy / LEXICON, {"turn": "tˈɜɹn", "left\tlˈɛft\nbroken": ""})
    d = _manifest(lex_bundle_copy)
    d["files"][LEXICON] = {"sha256": sha256_file(p), "size": p.stat().st_size}  # as an export of a bad file would
    _write_manifest(lex_bundle_copy, d)
    with pytest.raises(TokenizerError, match=r"line 3 is not 'word<TAB>phonemes\[<TAB>source\]'.*re-export the bundle"):
        load(lex_bundle_copy, profile=test_profile(), verify="full")


# --- vox-edge info ---------------------------------------------------------------------------------------

def test_info_shows_the_lexicon(lex_bundle, tiny_bundle, capsys):
    from vox_edge.cli import main

    assert main(["info", str(lex_bundle)]) == 0
    assert f"lexicon     {LEXICON}, {len(ENTRIES)} words" in capsys.readouterr().out
    assert main(["info", str(tiny_bundle)]) == 0
    assert "lexicon     none" in capsys.readouterr().out


def test_a_lexicon_under_schema_1_is_refused(lex_bundle_copy):
    d = _manifest(lex_bundle_copy)
    d["schema_version"] = 1
    _write_manifest(lex_bundle_copy, d)
    with pytest.raises(ManifestError, match="needs schema_version 2"):
        load_manifest(lex_bundle_copy)

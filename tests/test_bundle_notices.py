"""Licence notices travel with the data they cover: checkpoint `notices/` -> bundle `notices/` (manifest `notices`).

The default voice's lexicon is derived from misaki's dictionaries (Apache-2.0, whose §4 wants the licence and a
statement of changes with every copy): training/ship/export_checkpoint.py writes NOTICE-lexicon.txt and
LICENSE-misaki.txt into a lexicon checkpoint's notices/, the export copies them into the bundle, hashed like every
file, and lists them in the optional top-level `notices`. The release has no notices/ and its bundles no field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from runtime_fixtures import test_profile, tiny_bundle, tiny_checkpoint_dir  # noqa: F401
from test_bundle import SCHEMA, _reuse_component_graphs  # fast stand-in for the torch flow / codec exporter
from test_lexicon_bundle import QUIET, _checkpoint_with_lexicon, _manifest, _write_manifest

from vox_edge.errors import BundleIntegrityError, ManifestError
from vox_edge.manifest import load_manifest, schema_version_for, sha256_file

pytest.importorskip("vox_edge.export.bundle")

ROOT = Path(__file__).resolve().parents[1]
LEXICON_DIR = ROOT / "training" / "lexicon"
NOTICES = ["notices/LICENSE-misaki.txt", "notices/NOTICE-lexicon.txt"]  # sorted by name


def _export_checkpoint_module():
    from training.ship import export_checkpoint

    return export_checkpoint


@pytest.fixture(scope="module")
def notice_checkpoint(tiny_checkpoint_dir, tmp_path_factory) -> Path:
    """A lexicon checkpoint with the notices training/ship/export_checkpoint.py writes next to the lexicon."""
    ckpt = _checkpoint_with_lexicon(tiny_checkpoint_dir, tmp_path_factory.mktemp("noticeckpt") / "tiny_lex")
    _export_checkpoint_module().write_lexicon_notices(ckpt)
    return ckpt


@pytest.fixture(scope="module")
def notice_bundle(notice_checkpoint, tiny_bundle, tmp_path_factory) -> Path:
    from vox_edge.export import bundle as bundle_mod

    mp = pytest.MonkeyPatch()
    mp.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(tiny_bundle))
    try:
        return bundle_mod.export_bundle(notice_checkpoint, tmp_path_factory.mktemp("noticebundle") / "b",
                                        precision="fp32", progress=QUIET)
    finally:
        mp.undo()


@pytest.fixture
def notice_bundle_copy(notice_bundle, tmp_path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(notice_bundle, dst)
    return dst


# --- the notice itself, and the checkpoint side ----------------------------------------------------------

def test_the_notice_names_its_source_licence_and_changes():
    text = (LEXICON_DIR / "NOTICE-lexicon.txt").read_text(encoding="utf-8")
    for needle in ("lexicon.tsv.gz", "us_gold.json", "us_silver.json", "https://github.com/hexgrad/misaki",
                   "Apache License, Version 2.0", "LICENSE-misaki.txt", "DEFAULT", "word<TAB>phonemes", "gzip",
                   "CMU Pronouncing Dictionary", "LICENSE-cmudict.txt", "Carnegie Mellon University", "cmudict"):
        assert needle in text, needle
    assert "Apache License" in (LEXICON_DIR / "LICENSE-misaki.txt").read_text(encoding="utf-8")
    assert "Carnegie Mellon University" in (LEXICON_DIR / "LICENSE-cmudict.txt").read_text(encoding="utf-8")


def test_write_lexicon_notices_copies_the_notice_and_the_licences(tmp_path):
    ec = _export_checkpoint_module()
    written = ec.write_lexicon_notices(tmp_path)
    assert sorted(p.name for p in written) == ["LICENSE-misaki.txt", "NOTICE-lexicon.txt"]
    for name in ("LICENSE-misaki.txt", "NOTICE-lexicon.txt"):
        assert (tmp_path / "notices" / name).read_bytes() == (LEXICON_DIR / name).read_bytes()
    (tmp_path / "cmu").mkdir()  # a lexicon with CMUdict entries also carries CMUdict's licence
    written = ec.write_lexicon_notices(tmp_path / "cmu", with_cmudict=True)
    assert sorted(p.name for p in written) == ["LICENSE-cmudict.txt", "LICENSE-misaki.txt", "NOTICE-lexicon.txt"]


def test_checkpoint_lists_its_notices_and_the_release_has_none(notice_checkpoint, tiny_checkpoint_dir, tmp_path):
    from vox_edge.export.checkpoint import Checkpoint

    assert [p.name for p in Checkpoint.open(notice_checkpoint, check=False).notices] == \
        ["LICENSE-misaki.txt", "NOTICE-lexicon.txt"]
    assert Checkpoint.open(tiny_checkpoint_dir, check=False).notices == []  # no notices/ folder, as the release
    ckpt = tmp_path / "ckpt"
    shutil.copytree(notice_checkpoint, ckpt)
    (ckpt / "notices" / "sub").mkdir()  # only regular files count
    (ckpt / "notices" / "A-first.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in Checkpoint.open(ckpt, check=False).notices] == \
        ["A-first.txt", "LICENSE-misaki.txt", "NOTICE-lexicon.txt"]


# --- export ----------------------------------------------------------------------------------------------

def test_export_copies_the_notices_hashed_and_lists_them(notice_bundle, notice_checkpoint):
    d = _manifest(notice_bundle)
    assert d["notices"] == NOTICES
    for rel in NOTICES:
        src = notice_checkpoint / rel
        assert (notice_bundle / rel).read_bytes() == src.read_bytes()
        assert d["files"][rel] == {"sha256": sha256_file(src), "size": src.stat().st_size}
    # notices need no bump: the version is what the lexicon and the graphs need without them
    assert d["schema_version"] == schema_version_for(True, d["graphs"]["backbone"]["kv_cache"], d["graphs"])
    m = load_manifest(notice_bundle, verify="full")
    assert m.notices == tuple(NOTICES)


def test_bundle_without_notices_has_no_field(tiny_bundle):
    d = _manifest(tiny_bundle)
    assert "notices" not in d and not (tiny_bundle / "notices").exists()
    assert load_manifest(tiny_bundle, verify="none").notices == ()


def test_manifest_with_notices_matches_json_schema(notice_bundle):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(_manifest(notice_bundle), schema, cls=jsonschema.Draft202012Validator)
    for bad in ("notices/NOTICE-lexicon.txt", [5], [""], ["/etc/NOTICE"], ["../NOTICE"], ["notices/../../x"]):
        d = _manifest(notice_bundle)
        d["notices"] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(d, schema, cls=jsonschema.Draft202012Validator)


def test_unknown_top_level_fields_are_tolerated(notice_bundle_copy):
    """Why `notices` needs no schema_version bump: readers (this one and older v1/v2) ignore unknown fields."""
    d = _manifest(notice_bundle_copy)
    d["some_future_field"] = {"anything": [1, 2]}
    _write_manifest(notice_bundle_copy, d)
    assert load_manifest(notice_bundle_copy, verify="size").notices == tuple(NOTICES)


@pytest.mark.parametrize("bad", ["notices/NOTICE-lexicon.txt", 5, {"a": "notices/NOTICE-lexicon.txt"}, [5], [""],
                                 ["/abs/NOTICE-lexicon.txt"], ["../NOTICE-lexicon.txt"], ["notices/../../x.txt"]])
def test_notices_field_must_list_bundle_files(notice_bundle_copy, bad):
    d = _manifest(notice_bundle_copy)
    d["notices"] = bad
    _write_manifest(notice_bundle_copy, d)
    with pytest.raises(ManifestError, match=r"field 'notices' must be a list of files of the bundle.*"
                                            r"Re-export the bundle\.$"):
        load_manifest(notice_bundle_copy, verify="none")


@pytest.mark.parametrize("how", ["unhashed", "unknown"])
def test_notice_missing_from_files_is_a_manifest_error(notice_bundle_copy, how):
    d = _manifest(notice_bundle_copy)
    if how == "unhashed":
        del d["files"]["notices/NOTICE-lexicon.txt"]
        rel = "notices/NOTICE-lexicon.txt"
    else:
        rel = "notices/EXTRA.txt"
        (notice_bundle_copy / rel).write_text("not in files", encoding="utf-8")
        d["notices"].append(rel)
    _write_manifest(notice_bundle_copy, d)
    with pytest.raises(ManifestError, match=rf"'{rel}' is referenced but has no entry in 'files'\. "
                                            r"Re-export the bundle\.$"):
        load_manifest(notice_bundle_copy, verify="none")


def test_deleted_notice_is_named(notice_bundle_copy):
    (notice_bundle_copy / "notices" / "LICENSE-misaki.txt").unlink()
    with pytest.raises(BundleIntegrityError, match=r"LICENSE-misaki\.txt: missing from the bundle"):
        load_manifest(notice_bundle_copy, verify="size")


def test_the_runtime_loads_a_bundle_with_notices(notice_bundle):
    from vox_edge.runtime import load

    eng = load(notice_bundle, profile=test_profile(), verify="size")
    assert eng.manifest.notices == tuple(NOTICES) and eng.lexicon is not None


# --- vox-edge info ---------------------------------------------------------------------------------------

def test_info_shows_the_notices(notice_bundle, tiny_bundle, capsys):
    from vox_edge.cli import main

    assert main(["info", str(notice_bundle)]) == 0
    assert f"notices     {', '.join(NOTICES)} (licences of data the bundle carries)" in capsys.readouterr().out
    assert main(["info", str(tiny_bundle)]) == 0
    assert "notices     none\n" in capsys.readouterr().out

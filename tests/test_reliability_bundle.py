"""Bundle integrity and confinement: a flipped byte in any file is caught by `vox-edge speak` with its defaults, the
verification record makes a repeat load stat-only without ever masking a change, and no manifest can make the
runtime open a file outside the bundle directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge import manifest as manifest_module
from vox_edge import verify_cache
from vox_edge.cli import main
from vox_edge.errors import BundleConfinementError, BundleIntegrityError
from vox_edge.manifest import MANIFEST_FILE, load_manifest


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("VOX_EDGE_CACHE_DIR", str(d))
    monkeypatch.setattr(verify_cache, "_MEMORY", {})
    return d


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, dst)
    return dst


def _files(bundle) -> list[str]:
    return sorted(json.loads((bundle / MANIFEST_FILE).read_text())["files"])


def _flip(path, offset=None) -> int:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    path.write_bytes(bytes(data))
    return i


# --- the corrupt-bundle matrix -----------------------------------------------------------------------

def test_a_flipped_byte_in_any_file_fails_speak_with_default_settings(bundle_copy, cache_dir, tmp_path, monkeypatch,
                                                                      capsys):
    """Every file, with a warm verification record (so the record is shown not to hide the change)."""
    monkeypatch.setattr(verify_cache, "RACY_SECONDS", 0.0)
    load_manifest(bundle_copy)  # full verification, remembered
    files = _files(bundle_copy)
    assert len(files) >= 10
    monkeypatch.chdir(tmp_path)
    for rel in files:
        path = bundle_copy / rel
        time.sleep(0.02)  # past the file-system timestamp tick of the last verification
        i = _flip(path)
        code = main(["speak", "Hi.", "--bundle", str(bundle_copy), "--out", "x.wav", "--max-frames", "3"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and rel in err[0] and "sha256 does not match" in err[0], (rel, err)
        assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.wav.partial").exists()
        _flip(path, i)  # restore
    assert main(["speak", "Hi.", "--bundle", str(bundle_copy), "--out", "x.wav", "--max-frames", "3", "-q"]) == 0


@pytest.mark.parametrize("verify", ["full", "size"])
def test_truncated_or_missing_files_fail_whatever_the_level(verify, bundle_copy, cache_dir):
    rel = _files(bundle_copy)[0]
    with open(bundle_copy / rel, "r+b") as f:
        f.truncate(1)
    with pytest.raises(BundleIntegrityError, match="size"):
        load_manifest(bundle_copy, verify=verify)
    (bundle_copy / rel).unlink()
    with pytest.raises(BundleIntegrityError, match="missing"):
        load_manifest(bundle_copy, verify=verify)


# --- the verification record --------------------------------------------------------------------------

def test_repeat_verification_only_stats_and_a_change_is_hashed_again(bundle_copy, cache_dir, monkeypatch):
    monkeypatch.setattr(verify_cache, "RACY_SECONDS", 0.0)
    hashed = []
    real = manifest_module.sha256_file
    monkeypatch.setattr(manifest_module, "sha256_file", lambda p, *a: hashed.append(p.name) or real(p, *a))
    files = _files(bundle_copy)
    load_manifest(bundle_copy)
    assert len(hashed) == len(files)
    assert (cache_dir / verify_cache.CACHE_FILE).is_file()
    hashed.clear()
    monkeypatch.setattr(verify_cache, "_MEMORY", {})  # a new process: only the file on disk remembers
    load_manifest(bundle_copy)
    assert hashed == []
    # the same bytes written again (same size, mtime put back): ctime moved, so it is hashed again
    target = bundle_copy / files[0]
    st = target.stat()
    time.sleep(0.02)
    target.write_bytes(target.read_bytes())
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    load_manifest(bundle_copy)
    assert hashed == [target.name]


def test_fresh_files_are_not_remembered_and_an_unwritable_cache_still_works(bundle_copy, tmp_path, monkeypatch):
    monkeypatch.setattr(verify_cache, "_MEMORY", {})
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("VOX_EDGE_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    load_manifest(bundle_copy)  # just copied: within the racy window, nothing remembered, nothing fails
    assert verify_cache._MEMORY == {}
    monkeypatch.setattr(verify_cache, "RACY_SECONDS", 0.0)
    load_manifest(bundle_copy)
    assert len(verify_cache._MEMORY) == len(_files(bundle_copy))  # remembered in this process only


def test_a_cache_record_for_other_bytes_does_not_pass(bundle_copy, cache_dir, monkeypatch):
    """The record is keyed by the sha256 the manifest expects: a forged entry for another hash is not evidence."""
    monkeypatch.setattr(verify_cache, "RACY_SECONDS", 0.0)
    load_manifest(bundle_copy)
    rel = _files(bundle_copy)[0]
    time.sleep(0.02)
    _flip(bundle_copy / rel)
    d = json.loads((bundle_copy / MANIFEST_FILE).read_text())
    record = json.loads((cache_dir / verify_cache.CACHE_FILE).read_text())
    st = (bundle_copy / rel).stat()
    real = os.path.realpath(bundle_copy / rel)
    record["files"][f"{real}\n{'0' * 64}"] = verify_cache.file_key(st)  # matches the stat, not the hash
    (cache_dir / verify_cache.CACHE_FILE).write_text(json.dumps(record))
    monkeypatch.setattr(verify_cache, "_MEMORY", {})
    with pytest.raises(BundleIntegrityError, match="sha256"):
        load_manifest(bundle_copy)
    assert d["files"][rel]["sha256"] != "0" * 64


# --- confinement -------------------------------------------------------------------------------------

def _point(bundle, where: str, target: str) -> None:
    """Make the manifest name `target` for one graph, voice or the tokenizer, with a matching files entry."""
    d = json.loads((bundle / MANIFEST_FILE).read_text())
    holder = {"graph": d["graphs"]["flow_time"], "voice": d["voices"][d["default_voice"]],
              "tokenizer": d["tokenizer"], "array": d["arrays"]["tok_embeddings"]}[where]
    old = holder["file"]
    holder["file"] = target
    d["files"][target] = d["files"].pop(old)
    (bundle / MANIFEST_FILE).write_text(json.dumps(d))


OUTSIDE = ["/etc/passwd", "../outside.bin", "voices/../../outside.bin", "..\\outside.bin", "C:/outside.bin"]


@pytest.mark.parametrize("where", ["graph", "voice", "tokenizer", "array"])
@pytest.mark.parametrize("target", OUTSIDE)
@pytest.mark.parametrize("verify", ["full", "size", "none"])
def test_manifest_paths_outside_the_bundle_are_refused(where, target, verify, bundle_copy, cache_dir):
    (bundle_copy.parent / "outside.bin").write_bytes(b"x")
    _point(bundle_copy, where, target)
    with pytest.raises(BundleConfinementError, match="not a path inside the bundle"):
        load_manifest(bundle_copy, verify=verify)


@pytest.mark.parametrize("verify", ["full", "size", "none"])
def test_symlinks_leading_out_are_refused_and_inside_ones_work(verify, bundle_copy, cache_dir):
    rel = json.loads((bundle_copy / MANIFEST_FILE).read_text())["tokenizer"]["file"]
    outside = bundle_copy.parent / "outside_tekken.json"
    shutil.move(bundle_copy / rel, outside)
    (bundle_copy / rel).symlink_to(outside)  # a valid file, but outside the bundle
    with pytest.raises(BundleConfinementError, match="leads outside the bundle"):
        load_manifest(bundle_copy, verify=verify)
    (bundle_copy / rel).unlink()
    shutil.move(outside, bundle_copy / "real_tekken.json")
    (bundle_copy / rel).symlink_to("real_tekken.json")  # relative, inside: fine
    assert load_manifest(bundle_copy, verify=verify).path(rel).name == "real_tekken.json"


def test_a_manifest_symlinked_from_outside_is_refused(bundle_copy, cache_dir):
    outside = bundle_copy.parent / "manifest_elsewhere.json"
    shutil.move(bundle_copy / MANIFEST_FILE, outside)
    (bundle_copy / MANIFEST_FILE).symlink_to(outside)
    with pytest.raises(BundleConfinementError):
        load_manifest(bundle_copy)


def test_a_bundle_reached_through_a_symlinked_directory_loads(bundle_copy, tmp_path, cache_dir):
    link = tmp_path / "current"
    link.symlink_to(bundle_copy, target_is_directory=True)
    assert load_manifest(link).root == link


AUDIT = r"""
import sys
outside = sys.argv[2]
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(outside):
        opened.append(args[0])
sys.addaudithook(hook)
from vox_edge.errors import BundleConfinementError
from vox_edge.runtime import load
for verify in ("full", "size", "none"):
    try:
        load(sys.argv[1], verify=verify)
    except BundleConfinementError:
        pass
    else:
        raise SystemExit(f"loaded with verify={verify}")
assert not opened, opened
print("ok")
"""


def test_no_file_outside_the_bundle_is_ever_opened(bundle_copy, tmp_path, cache_dir):
    """Audit hook in a fresh process: a hostile manifest pointing at a real file outside opens nothing there."""
    outside = tmp_path / "secret"
    outside.mkdir()
    secret = outside / "tekken.json"
    rel = json.loads((bundle_copy / MANIFEST_FILE).read_text())["tokenizer"]["file"]
    shutil.copyfile(bundle_copy / rel, secret)  # valid content, matching hash: only its place is wrong
    _point(bundle_copy, "tokenizer", os.path.relpath(secret, bundle_copy))
    r = subprocess.run([sys.executable, "-c", AUDIT, str(bundle_copy), str(outside)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


# --- leftovers of a killed export ----------------------------------------------------------------------

def test_a_stale_partial_export_is_replaced_by_the_next_export(tiny_bundle, tiny_checkpoint_dir, tmp_path, monkeypatch,
                                                               cache_dir):
    """What SIGKILL leaves (`<bundle>.partial` with hidden temp folders, no manifest) is not loadable and the next
    export to the same name starts from a clean folder."""
    from vox_edge.export import bundle as bundle_mod
    from vox_edge.export.bundle import export_bundle

    target = tmp_path / "b"
    stale = tmp_path / "b.partial"
    (stale / ".tmp-graph").mkdir(parents=True)
    (stale / ".tmp-graph" / "junk.onnx").write_bytes(b"half a graph")
    (stale / "backbone.onnx").write_bytes(b"half")
    with pytest.raises(Exception, match="not found|missing"):
        load_manifest(stale)

    def reuse(ckpt, out_dir, precisions, static_shapes, progress):  # the flow / codec graphs of the tiny bundle
        entries = {g: e for g, e in json.loads((tiny_bundle / MANIFEST_FILE).read_text())["graphs"].items()
                   if g != "backbone"}
        for e in entries.values():
            for f in [e["file"], *e.get("extra_files", [])]:
                shutil.copyfile(tiny_bundle / f, out_dir / f)
        return entries

    monkeypatch.setattr(bundle_mod, "_component_graphs", reuse)
    export_bundle(tiny_checkpoint_dir, target, precision="fp32", progress=lambda m: None)
    assert not stale.exists()
    load_manifest(target)
    assert {p.name for p in tmp_path.iterdir()} - {"cache"} == {"b"}


@pytest.mark.parametrize("verify", ["full", "none"])
def test_an_unlisted_symlink_out_is_refused_too(verify, bundle_copy, tmp_path, cache_dir):
    """A graph names its own external data files; a symlink out that the manifest does not list is refused as well
    (onnxruntime itself refuses absolute and '..' locations)."""
    (tmp_path / "secret.bin").write_bytes(b"x" * 16)
    (bundle_copy / "weights.bin").symlink_to(tmp_path / "secret.bin")
    with pytest.raises(BundleConfinementError, match="leads outside the bundle"):
        load_manifest(bundle_copy, verify=verify)
    (bundle_copy / "weights.bin").unlink()
    (bundle_copy / "voices" / "alias.npy").symlink_to("../tekken.json")  # inside: harmless
    load_manifest(bundle_copy, verify=verify)


@pytest.mark.parametrize("damage", [b"{not json", b'{"version": 99, "files": {}}', b'{"version": 1, "files": []}'])
def test_a_damaged_record_is_ignored_and_rewritten(damage, bundle_copy, cache_dir, monkeypatch):
    monkeypatch.setattr(verify_cache, "RACY_SECONDS", 0.0)
    cache_dir.mkdir()
    (cache_dir / verify_cache.CACHE_FILE).write_bytes(damage)
    load_manifest(bundle_copy)
    record = json.loads((cache_dir / verify_cache.CACHE_FILE).read_text())
    assert record["version"] == verify_cache.VERSION and len(record["files"]) == len(_files(bundle_copy))

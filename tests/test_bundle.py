"""export_bundle on the tiny checkpoint: manifest contract, integrity errors, atomic / interruptible writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vox_edge.errors import BundleIntegrityError, ExportError, ManifestError
from vox_edge.manifest import COMPONENTS, GRAPH_IO, MANIFEST_FILE, load_manifest, validate_manifest_dict

pytest.importorskip("vox_edge.export.torch_graphs")  # the flow / codec exporter (a colleague's module)

from vox_edge.export import bundle as bundle_mod  # noqa: E402
from vox_edge.export.bundle import export_bundle  # noqa: E402
from vox_edge.export.checkpoint import Checkpoint  # noqa: E402

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "vox_edge" / "manifest.schema.json"
QUIET = lambda m: None  # noqa: E731


class Interrupt(KeyboardInterrupt):
    """What Ctrl-C raises, injected from the progress callback."""


def interrupt_at(fragment: str):
    def progress(msg: str) -> None:
        if fragment in msg:
            raise Interrupt(msg)
    return progress


@pytest.fixture(scope="module")
def bundle(tiny_checkpoint, tmp_path_factory) -> Path:
    """One mixed-precision bundle: int8 everywhere but the codec (fp32)."""
    out = tmp_path_factory.mktemp("bundles") / "tiny_int8"
    return export_bundle(tiny_checkpoint, out, precision="int8", per_component={"codec": "fp32"}, progress=QUIET)


@pytest.fixture
def bundle_copy(bundle, tmp_path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(bundle, dst)
    return dst


def manifest_of(root: Path) -> dict:
    return json.loads((root / MANIFEST_FILE).read_text())


def test_manifest_validates_and_loads(bundle, tiny_checkpoint):
    d = manifest_of(bundle)
    validate_manifest_dict(d, bundle)
    m = load_manifest(bundle)
    # every graph but the optional ones this tiny bundle has no use for (a prefill graph is a profile's choice,
    # codec_step needs a source_filter codec, codec_trunk a source_filter codec split for an NPU)
    assert set(m.graphs) <= set(GRAPH_IO) and set(GRAPH_IO) - set(m.graphs) <= {"backbone_prefill", "codec_step",
                                                                                 "codec_trunk"}
    assert {g: e.precision for g, e in m.graphs.items()} == {
        "backbone": "int8", "flow_condition": "int8", "flow_time": "int8", "flow_velocity": "int8", "flow_euler": "int8",
        "codec_decoder": "fp32"}
    assert d["precisions"] == {"backbone": "int8", "acoustic": "int8", "codec": "fp32"}
    ckpt = Checkpoint.open(tiny_checkpoint)
    assert d["params"] == json.loads((tiny_checkpoint / "params.json").read_text())
    assert d["source"]["fingerprint"] == ckpt.fingerprint()
    assert m.default_voice == ckpt.config.voice_names[0] and set(m.voices) == set(ckpt.config.voice_names)
    for key in ("torch", "onnx", "onnxruntime", "version"):
        assert d["exporter"][key]
    # every file on disk is listed (external data included), nothing listed is missing
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {MANIFEST_FILE}
    assert on_disk == set(d["files"]) and "backbone.onnx.data" in on_disk
    assert not list(bundle.parent.glob("*.partial"))


def test_manifest_matches_json_schema(bundle):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(manifest_of(bundle), schema, cls=jsonschema.Draft202012Validator)
    good = manifest_of(bundle)
    good["synthesis"] = {"cfg_alpha": 1.2, "noise_scale": 0.4, "min_flow_steps": 7}
    jsonschema.validate(good, schema, cls=jsonschema.Draft202012Validator)
    for key, value in (("precision", "int3"), ("synthesis", {"temperature": 0.7}), ("synthesis", {"noise_scale": -1}),
                       ("synthesis", {"min_flow_steps": 0}), ("synthesis", {"min_flow_steps": 65}),
                       ("synthesis", {"min_flow_steps": "7"})):
        bad = manifest_of(bundle)
        if key == "precision":
            bad["graphs"]["backbone"]["precision"] = value
        else:
            bad["synthesis"] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_arrays_and_voices_equal_the_checkpoint(bundle, tiny_checkpoint):
    ckpt = Checkpoint.open(tiny_checkpoint)
    m = load_manifest(bundle, verify="none")
    tok = np.load(m.path(m.data["arrays"]["tok_embeddings"]["file"]))
    assert tok.dtype == np.float16 and tok.shape == (ckpt.config.vocab_size, ckpt.config.dim)
    assert np.array_equal(tok, ckpt.tensor("mm_audio_embeddings.tok_embeddings.weight").numpy().astype(np.float16))
    audio = np.load(m.path(m.data["arrays"]["audio_codebook_embeddings"]["file"]))
    assert audio.dtype == np.float32
    assert np.array_equal(audio, ckpt.tensor("mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight").numpy())
    for name, rel in m.voices.items():
        v = np.load(m.path(rel))
        assert v.dtype == np.float32 and np.array_equal(v, ckpt.voice(name).float().numpy())


def test_one_altered_byte_in_any_file_is_named(bundle_copy):
    files = manifest_of(bundle_copy)["files"]
    assert len(files) >= 10
    for rel in files:
        p = bundle_copy / rel
        data = bytearray(p.read_bytes())
        i = len(data) // 2
        data[i] ^= 0x01
        p.write_bytes(bytes(data))
        with pytest.raises(BundleIntegrityError, match=rel.replace(".", r"\.")):
            load_manifest(bundle_copy)
        data[i] ^= 0x01
        p.write_bytes(bytes(data))
    load_manifest(bundle_copy)  # restored


def test_deleted_file_is_named(bundle_copy):
    (bundle_copy / "backbone.onnx.data").unlink()
    with pytest.raises(BundleIntegrityError, match=r"backbone\.onnx\.data.*missing"):
        load_manifest(bundle_copy, verify="size")


def test_wrong_schema_version_says_re_export(bundle_copy):
    d = manifest_of(bundle_copy)
    d["schema_version"] = 99
    (bundle_copy / MANIFEST_FILE).write_text(json.dumps(d))
    with pytest.raises(ManifestError, match="[Rr]e-export"):
        load_manifest(bundle_copy)


def test_interrupted_export_leaves_nothing_loadable(tiny_checkpoint, tmp_path):
    target = tmp_path / "new_bundle"
    with pytest.raises(Interrupt):
        export_bundle(tiny_checkpoint, target, progress=interrupt_at("layer 2/"))
    assert not target.exists() and not (tmp_path / "new_bundle.partial").exists()
    with pytest.raises(ManifestError):
        load_manifest(target)


def _reuse_component_graphs(src: Path):
    """A fast stand-in for the torch exporter: copy the flow / codec graphs of an existing bundle."""
    def fake(ckpt, out_dir, precisions, static_shapes, progress):
        entries = {g: e for g, e in manifest_of(src)["graphs"].items() if g != "backbone"}
        for e in entries.values():
            for f in [e["file"], *e.get("extra_files", [])]:
                shutil.copyfile(src / f, out_dir / f)
        progress("[export] flow/codec graphs copied")
        return entries
    return fake


@pytest.mark.parametrize("stage", ["layer 1/", "flow/codec graphs copied", "arrays:", "hashing files"])
def test_interrupt_never_clobbers_a_good_bundle(bundle, bundle_copy, tiny_checkpoint, monkeypatch, stage):
    before = manifest_of(bundle_copy)
    monkeypatch.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(bundle))
    with pytest.raises(Interrupt):
        export_bundle(tiny_checkpoint, bundle_copy, precision="fp32", progress=interrupt_at(stage))
    assert manifest_of(bundle_copy) == before
    load_manifest(bundle_copy)
    assert not bundle_copy.with_name(bundle_copy.name + ".partial").exists()


def test_reexport_replaces_a_bundle_atomically(bundle, bundle_copy, tiny_checkpoint, monkeypatch):
    monkeypatch.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(bundle))
    export_bundle(tiny_checkpoint, bundle_copy, precision="int8", per_component={"backbone": "int4-b16"}, progress=QUIET,
                  synthesis={"noise_scale": 0.4, "cfg_alpha": 1.5, "min_flow_steps": 7})
    m = load_manifest(bundle_copy)
    assert m.graphs["backbone"].precision == "int4" and m.data["graphs"]["backbone"]["int4_block_size"] == 16
    assert m.synthesis == {"noise_scale": 0.4, "cfg_alpha": 1.5, "min_flow_steps": 7} and m.min_flow_steps == 7
    assert load_manifest(bundle).synthesis == {} and load_manifest(bundle).min_flow_steps is None
    assert m.data["schema_version"] == manifest_of(bundle)["schema_version"]  # an optional field: no new version
    assert not bundle_copy.with_name(bundle_copy.name + ".old").exists()


def test_table16_stores_the_audio_table_fp16_and_the_runtime_reads_it(bundle, tiny_checkpoint, tmp_path, monkeypatch):
    """The backbone option 'table16': the audio codebook table in float16, nothing else changes."""
    from vox_edge.export.backbone_graph import BackboneOptions
    from vox_edge.runtime.embeddings import Embeddings

    assert BackboneOptions.from_spec("int8-gqa-shared-table16").table16 and not BackboneOptions.from_spec("int8").table16
    monkeypatch.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(bundle))
    out = export_bundle(tiny_checkpoint, tmp_path / "t16", precision="int8",
                        per_component={"backbone": "int8-table16", "codec": "fp32"}, progress=QUIET)
    m16, m32 = load_manifest(out), load_manifest(bundle)
    rel = "arrays/audio_codebook_embeddings.npy"
    assert m16.data["arrays"]["audio_codebook_embeddings"]["dtype"] == "float16"
    t16, t32 = np.load(out / rel), np.load(bundle / rel)
    assert t16.dtype == np.float16 and np.array_equal(t16, t32.astype(np.float16))
    assert (out / rel).stat().st_size < 0.51 * (bundle / rel).stat().st_size
    f16, f32 = m16.data["files"], m32.data["files"]
    assert {k for k in f16 if f16[k] != f32.get(k)} == {rel}  # every other file, the backbone's included, is the same
    e16, e32 = Embeddings(m16), Embeddings(m32)
    rng = np.random.default_rng(0)
    for _ in range(20):
        codes = rng.integers(0, np.diff([*m32.config.codebook_offsets, t32.shape[0]]).min(), 37)
        got = e16.codes(codes)
        assert got.dtype == np.float32 and np.allclose(got, e32.codes(codes), rtol=1e-6, atol=1e-6)


def test_table8_stores_the_audio_table_int8_with_a_scale_per_row(bundle, tiny_checkpoint, tmp_path, monkeypatch):
    """The backbone option 'table8': the audio codebook table int8 times a float32 scale per row (manifest schema
    4), each value within half its row's step of FP32; the runtime's row sums follow."""
    from vox_edge.export.backbone_graph import BackboneOptions
    from vox_edge.manifest import COMPACT_SCHEMA_VERSION
    from vox_edge.runtime.embeddings import Embeddings

    assert BackboneOptions.from_spec("int8-gqa-shared-table8").table8
    with pytest.raises(ExportError, match="one audio table format"):
        BackboneOptions.from_spec("int8-table8-table16")
    monkeypatch.setattr(bundle_mod, "_component_graphs", _reuse_component_graphs(bundle))
    out = export_bundle(tiny_checkpoint, tmp_path / "t8", precision="int8",
                        per_component={"backbone": "int8-table8", "codec": "fp32"}, progress=QUIET)
    m8, m32 = load_manifest(out), load_manifest(bundle)
    entry = m8.data["arrays"]["audio_codebook_embeddings"]
    assert entry["dtype"] == "int8" and m8.data["schema_version"] == COMPACT_SCHEMA_VERSION
    assert load_manifest(bundle).data["schema_version"] < COMPACT_SCHEMA_VERSION  # only the option raises it
    q, scale = np.load(out / entry["file"]), np.load(out / entry["scale"])
    t32 = np.load(bundle / "arrays/audio_codebook_embeddings.npy")
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale.shape == (t32.shape[0],)
    assert np.all(np.abs(q.astype(np.float32) * scale[:, None] - t32) <= scale[:, None] * (0.5 + 1e-4))  # + f32 rounding
    assert (out / entry["file"]).stat().st_size < 0.27 * (bundle / entry["file"]).stat().st_size
    e8, e32 = Embeddings(m8), Embeddings(m32)
    rng = np.random.default_rng(0)
    for _ in range(20):
        codes = rng.integers(0, np.diff([*m32.config.codebook_offsets, t32.shape[0]]).min(), 37)
        rows = m32.config.codebook_offsets + codes
        bound = float((scale[rows] / 2).sum()) * (1 + 1e-3) + 1e-5  # the 37 rows' rounding at most
        got = e8.codes(codes)
        assert got.dtype == np.float32 and np.max(np.abs(got - e32.codes(codes))) <= bound
    bad = manifest_of(out)
    bad["schema_version"] = 3
    with pytest.raises(ManifestError, match="needs schema_version 4"):
        validate_manifest_dict(bad, out)


def test_bad_requests_fail_before_writing(tiny_checkpoint, tmp_path):
    with pytest.raises(ExportError, match="component"):
        export_bundle(tiny_checkpoint, tmp_path / "b1", per_component={"vocoder": "fp32"}, progress=QUIET)
    with pytest.raises(ExportError, match="precision"):
        export_bundle(tiny_checkpoint, tmp_path / "b2", precision="int3", progress=QUIET)
    with pytest.raises(ExportError, match=r"synthesis.noise_scale is 9; allowed: a number in \[0.0, 4.0\]"):
        export_bundle(tiny_checkpoint, tmp_path / "b3", synthesis={"noise_scale": 9}, progress=QUIET)
    with pytest.raises(ExportError, match=r"synthesis.min_flow_steps is 0; allowed: an integer in \[1, 64\]"):
        export_bundle(tiny_checkpoint, tmp_path / "b4", synthesis={"min_flow_steps": 0}, progress=QUIET)
    steps = Checkpoint.open(tiny_checkpoint).config.acoustic.n_decoding_steps  # what a fixed flow_time graph takes
    with pytest.raises(ExportError, match=f"min_flow_steps {steps + 1} is more than the {steps} flow steps"):
        export_bundle(tiny_checkpoint, tmp_path / "b5", static_shapes=True, synthesis={"min_flow_steps": steps + 1},
                      progress=QUIET)
    assert not any((tmp_path / b).exists() for b in ("b4", "b5", "b4.partial", "b5.partial"))
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ExportError, match="not a vox-edge bundle"):
        export_bundle(tiny_checkpoint, foreign, progress=QUIET)
    assert (foreign / "cat.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def test_component_names_are_the_manifest_components():
    assert set(bundle_mod.component_precisions("fp16", None)) == set(COMPONENTS)


def test_cli_export_passes_the_sampling_flags(tiny_checkpoint, tmp_path, monkeypatch):
    from vox_edge.cli import main

    got = {}
    monkeypatch.setattr(bundle_mod, "export_bundle", lambda *a, **k: got.update(k))
    assert main(["export", str(tiny_checkpoint), str(tmp_path / "b"), "--noise-scale", "0.2",
                 "--min-flow-steps", "7", "--repetition-stop-seconds", "1.25"]) == 0
    assert got["synthesis"] == {"noise_scale": 0.2, "min_flow_steps": 7, "repetition_stop_seconds": 1.25}
    assert main(["export", str(tiny_checkpoint), str(tmp_path / "b")]) == 0 and got["synthesis"] == {}  # no floor

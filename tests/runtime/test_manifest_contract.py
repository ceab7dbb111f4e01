"""One contract, stated twice and held together: manifest.schema.json and vox_edge.manifest.validate_manifest_dict
accept and refuse the same manifests, and their tables (versions, precisions, graphs, ...) agree."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from vox_edge import manifest as mf
from vox_edge.errors import ManifestError

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads(resources.files("vox_edge").joinpath("manifest.schema.json").read_text(encoding="utf-8"))
GRAPH = SCHEMA["$defs"]["graph"]["properties"]


@pytest.fixture(scope="module")
def golden(tiny_bundle) -> dict:
    return json.loads((tiny_bundle / mf.MANIFEST_FILE).read_text(encoding="utf-8"))


def _schema_ok(d: dict) -> bool:
    return jsonschema.Draft202012Validator(SCHEMA).is_valid(d)


def _code_ok(d: dict) -> bool:
    try:
        mf.validate_manifest_dict(d)
    except ManifestError:  # BundleConfinementError included
        return False
    return True


def test_the_tables_agree():
    props = SCHEMA["properties"]
    assert props["schema_version"]["enum"] == list(mf.READABLE_SCHEMA_VERSIONS)
    assert props["format"]["const"] == mf.FORMAT
    assert GRAPH["precision"]["enum"] == list(mf.PRECISIONS)
    assert GRAPH["kv_cache"]["enum"] == list(mf.KV_CACHES)
    assert GRAPH["optional_inputs"]["items"]["enum"] == sorted({i for v in mf.OPTIONAL_INPUTS.values() for i in v})
    assert set(props["graphs"]["properties"]) == set(mf.GRAPH_IO)
    assert set(props["graphs"]["required"]) == set(mf.GRAPH_IO) - set(mf.OPTIONAL_GRAPHS) - set(mf.STEP_ONLY_CODEC)
    assert props["graphs"]["anyOf"] == [{"required": [g]} for g in (*mf.STEP_ONLY_CODEC, *mf.STEP_ONLY_CODEC.values())]
    assert SCHEMA["$defs"]["array"]["properties"]["dtype"]["enum"] == list(mf.ARRAY_DTYPES)
    assert props["arrays"]["required"] == list(mf.ARRAYS)
    assert props["target"]["properties"]["name"]["enum"] == list(mf.NPU_TARGETS)
    syn = props["synthesis"]["properties"]
    assert {k: (v["minimum"], v["maximum"]) for k, v in syn.items()} == {k: tuple(r) for k, r in mf.SYNTHESIS_RANGES.items()}


def test_the_exporter_writes_only_declared_keys(golden):
    """The golden bundle is what the exporter writes (tests/test_golden_bundle.py); every export test with
    jsonschema checks its own bundle the same way, so a new key fails until the schema declares it."""
    assert _schema_ok(golden) and _code_ok(golden)


def _set(path: str, value):
    def change(d: dict) -> None:
        *parents, last = path.split(".")
        for p in parents:
            d = d[p]
        if value is KeyError:
            del d[last]
        else:
            d[last] = value
    return change


def _step_only(version: int):
    def change(d: dict) -> None:
        d["graphs"]["codec_step"] = {**d["graphs"].pop("codec_decoder"), "file": "codec_step.onnx"}
        d["graphs"]["codec_step"].pop("optional_inputs", None)
        d["schema_version"] = version
    return change


def _int8_table(version: int, scale: bool):
    def change(d: dict) -> None:
        d["arrays"]["audio_codebook_embeddings"]["dtype"] = "int8"
        if scale:
            d["arrays"]["audio_codebook_embeddings"]["scale"] = "arrays/audio_codebook_embeddings.scale.npy"
            d["files"]["arrays/audio_codebook_embeddings.scale.npy"] = {"sha256": "0" * 64, "size": 4}
        d["schema_version"] = version
    return change


# (what, change, accepted by both). Each rule of validate_manifest_dict has a case; the schema must agree.
CASES = [(f"no {key}", _set(key, KeyError), False) for key in SCHEMA["required"]] + [
    ("another format", _set("format", "onnx-bundle"), False),
    ("a future schema_version", _set("schema_version", 99), False),
    ("params not an object", _set("params", []), False),
    ("default_voice not a string", _set("default_voice", 3), False),
    ("a graph missing", _set("graphs.codec_decoder", KeyError), False),
    ("an unknown graph", _set("graphs.vocoder", {"file": "v.onnx", "precision": "fp32", "inputs": ["x"],
                                                  "outputs": ["y"], "opset": 17}), False),
    ("a graph without its file", _set("graphs.flow_time.file", KeyError), False),
    ("a graph without its opset", _set("graphs.flow_time.opset", KeyError), False),
    ("an unknown precision", _set("graphs.backbone.precision", "int3"), False),
    ("an unknown kv_cache", _set("graphs.backbone.kv_cache", "ring"), False),
    ("an unknown optional input", _set("graphs.codec_decoder.optional_inputs", ["speed"]), False),
    ("an array missing", _set("arrays.tok_embeddings", KeyError), False),
    ("a file entry without sha256", lambda d: d["files"]["tekken.json"].pop("sha256"), False),
    ("an absolute tokenizer path", _set("tokenizer.file", "/etc/passwd"), False),
    ("a voice path with ..", _set("voices.casual_male.file", "../x.npy"), False),
    ("an absolute notice", _set("notices", ["/tmp/LICENSE"]), False),
    ("an unknown sampling default", _set("synthesis", {"temperature": 0.7}), False),
    ("a negative noise scale", _set("synthesis", {"noise_scale": -1}), False),
    ("a zero flow-step floor", _set("synthesis", {"min_flow_steps": 0}), False),
    ("a flow-step floor above the maximum", _set("synthesis", {"min_flow_steps": 65}), False),
    ("a flow-step floor as a string", _set("synthesis", {"min_flow_steps": "7"}), False),
    ("an unknown NPU target", _set("target", {"name": "tpu", "seq_len": 1, "context": 64, "codec_frames": 4}), False),
    ("a zero target context", _set("target", {"name": "qnn-htp", "seq_len": 1, "context": 0, "codec_frames": 4}), False),
    ("sampling defaults", _set("synthesis", {"cfg_alpha": 1.2, "noise_scale": 0.4}), True),
    ("a flow-step floor", _set("synthesis", {"min_flow_steps": 7}), True),
    ("no flow_euler (optional)", _set("graphs.flow_euler", KeyError), True),
    ("a backbone_prefill graph with the backbone's cache contract",
     lambda d: d["graphs"].__setitem__("backbone_prefill", {**d["graphs"]["backbone"], "precision": "int8"}), True),
    ("an NPU target", _set("target", {"name": "openvino", "seq_len": 8, "context": 256, "codec_frames": 4}), True),
    ("codec_step instead of codec_decoder (schema 4)", _step_only(4), True),
    ("an int8 table with its scale (schema 4)", _int8_table(4, True), True),
    ("an int8 table without a scale", _int8_table(4, False), False),
    ("a scale beside a float table", lambda d: d["arrays"]["tok_embeddings"].__setitem__("scale", "arrays/s.npy"), False),
    ("an unknown array dtype", _set("arrays.tok_embeddings.dtype", "bfloat16"), False),
]


@pytest.mark.parametrize("what,change,accepted", CASES, ids=[c[0] for c in CASES])
def test_schema_and_code_accept_and_refuse_the_same(golden, what, change, accepted):
    d = copy.deepcopy(golden)
    change(d)
    assert (_schema_ok(d), _code_ok(d)) == (accepted, accepted), what


def test_undeclared_keys_the_one_documented_difference(golden):
    """The runtime ignores a key it does not know (an older runtime still reads a newer informational key); the
    schema, which states what an exporter may write, refuses it."""
    d = copy.deepcopy(golden)
    d["graphs"]["backbone"]["speed"] = "fast"
    assert _code_ok(d) and not _schema_ok(d)


@pytest.mark.parametrize("change", [_step_only(3), _int8_table(3, True)], ids=["step-only codec", "int8 table"])
def test_a_schema_4_feature_in_an_older_version_is_refused(golden, change):
    """The version a feature needs is one of the cross-field rules the code alone checks (the schema's description)."""
    d = copy.deepcopy(golden)
    change(d)
    with pytest.raises(ManifestError, match="needs schema_version 4"):
        mf.validate_manifest_dict(d)
    assert mf.schema_version_for(False, "grow", d["graphs"], d["arrays"]) == mf.COMPACT_SCHEMA_VERSION

"""codec_decoder's optional `context_frames` input: the audio of the new frames only, equal to the whole window's
decode from there on, in FP32 and INT8; callers that do not feed it get the whole window as before."""

from __future__ import annotations

import copy
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.config import ModelConfig
from vox_edge.errors import ManifestError
from vox_edge.export.codec_context import CONTEXT_INPUT, head_margin
from vox_edge.manifest import LEXICON_SCHEMA_VERSION, MANIFEST_FILE, validate_manifest_dict
from vox_edge.runtime.sessions import cpu_session


def _session(path):
    return cpu_session(path, 1)


def _codes(cfg: ModelConfig, t: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = cfg.codec
    return np.concatenate([rng.integers(0, c.semantic_codebook_size, (1, t, 1)),
                           rng.integers(0, c.acoustic_codebook_size, (1, t, c.acoustic_dim))], -1).astype(np.int64)


@pytest.fixture(scope="module")
def cfg(tiny_bundle) -> ModelConfig:
    return ModelConfig.from_params(json.loads((tiny_bundle / MANIFEST_FILE).read_text())["params"])


def _check_context(path, cfg, tol):
    sess = _session(path)
    assert [i.name for i in sess.get_overridable_initializers()] == [CONTEXT_INPUT]
    spf = cfg.samples_per_frame
    for t, ctx in ((6, 0), (9, 1), (20, 13), (30, 13), (14, 5)):
        codes = _codes(cfg, t, seed=t + ctx)
        (full,) = sess.run(None, {"codes": codes})  # the default: the whole window
        (new,) = sess.run(None, {"codes": codes, CONTEXT_INPUT: np.array([ctx], np.int64)})
        assert full.shape == (1, t * spf) and new.shape == (1, (t - ctx) * spf)
        assert np.abs(new - full[:, ctx * spf:]).max() <= tol, (t, ctx)


def test_fp32_graph_returns_the_new_frames_of_the_full_decode(tiny_bundle, cfg):
    entry = json.loads((tiny_bundle / MANIFEST_FILE).read_text())["graphs"]["codec_decoder"]
    assert entry["optional_inputs"] == [CONTEXT_INPUT] and entry["inputs"] == ["codes"]
    assert cfg.codec.min_left_context_frames * cfg.codec.upsample_factor > head_margin(cfg.codec)  # the head is skipped
    _check_context(tiny_bundle / "codec_decoder.onnx", cfg, 1e-5)


def test_int8_graph_keeps_the_input_and_the_equality(tiny_bundle, cfg, tmp_path):
    from vox_edge.quantize.plan import plan_for, quantize_graph

    quantize_graph(tiny_bundle / "codec_decoder.onnx", tmp_path / "codec_decoder.onnx", plan_for("codec", "int8"))
    # int8 activations are quantised per call over the whole tensor, so a sliced head sees other scales: task-level
    _check_context(tmp_path / "codec_decoder.onnx", cfg, 0.05)


def test_fixed_shape_codec_has_no_context_input(tiny_checkpoint_dir, tmp_path):
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import export_component_graphs

    info = export_component_graphs(Checkpoint.open(tiny_checkpoint_dir), tmp_path, {"codec": "fp32"},
                                   static_shapes=True, graphs=("codec_decoder",), progress=lambda m: None)
    assert "optional_inputs" not in info["codec_decoder"]
    m = onnx.load(str(tmp_path / "codec_decoder.onnx"))
    assert [i.name for i in m.graph.input] == ["codes"]


def test_manifest_rules(tiny_bundle):
    d = json.loads((tiny_bundle / MANIFEST_FILE).read_text())
    unknown = copy.deepcopy(d)
    unknown["graphs"]["codec_decoder"]["optional_inputs"] = ["temperature"]
    with pytest.raises(ManifestError, match="optional_inputs"):
        validate_manifest_dict(unknown, tiny_bundle)
    misplaced = copy.deepcopy(d)
    misplaced["graphs"]["flow_time"]["optional_inputs"] = [CONTEXT_INPUT]
    with pytest.raises(ManifestError, match="optional_inputs"):
        validate_manifest_dict(misplaced, tiny_bundle)
    older = copy.deepcopy(d)
    del older["graphs"]["flow_euler"]
    older["schema_version"] = LEXICON_SCHEMA_VERSION
    with pytest.raises(ManifestError, match="optional_inputs needs schema_version 3"):
        validate_manifest_dict(older, tiny_bundle)

"""flow_euler: the frame's Euler loop in one graph (an ONNX Loop around flow_velocity) gives the codes and audio of the
NumPy loop bit for bit, shares flow_velocity's weights file, and bundles without it still run (per step)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from runtime_fixtures import TEXT, engine, get_engine, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.errors import ManifestError
from vox_edge.manifest import FEATURES_SCHEMA_VERSION, LEXICON_SCHEMA_VERSION, MANIFEST_FILE, validate_manifest_dict
from vox_edge.runtime.sessions import cpu_session


def _session(path):
    return cpu_session(path, 1)


def test_bundle_has_the_loop_sharing_the_velocity_weights(tiny_bundle):
    d = json.loads((tiny_bundle / MANIFEST_FILE).read_text())
    vel, loop = d["graphs"]["flow_velocity"], d["graphs"]["flow_euler"]
    assert d["schema_version"] == FEATURES_SCHEMA_VERSION
    assert vel["extra_files"] == loop["extra_files"] == ["flow_velocity.onnx.data"]
    assert "flow_velocity.onnx.data" in d["files"] and loop["precision"] == vel["precision"]
    m = onnx.load(str(tiny_bundle / loop["file"]), load_external_data=False)
    assert [n.op_type for n in m.graph.node].count("Loop") == 1
    big = [t for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert big and (tiny_bundle / loop["file"]).stat().st_size < 64 * 1024  # weights live in the shared file


@pytest.mark.parametrize("cfg_alpha,steps", [(1.2, 7), (1.0, 3), (2.5, 1)])
def test_loop_equals_per_step_bit_for_bit(tiny_bundle, engine, cfg_alpha, steps):
    per_step = get_engine(tiny_bundle, flow_loop=False)
    assert engine._flow._euler is not None and engine._flow._vel is None  # only the graph in use is loaded
    assert per_step._flow._euler is None and per_step._flow._vel is not None
    for voice in engine.voices:
        a = engine.synthesize(TEXT, voice=voice, seed=9, max_frames=20, cfg_alpha=cfg_alpha, flow_steps=steps)
        b = per_step.synthesize(TEXT, voice=voice, seed=9, max_frames=20, cfg_alpha=cfg_alpha, flow_steps=steps)
        np.testing.assert_array_equal(a.codes[0], b.codes[0])
        assert np.array_equal(a.samples, b.samples)


def test_int8_loop_is_bit_identical_to_the_numpy_loop(tiny_bundle, tmp_path):
    """The shipped voice's flow is int8 (dynamic quantisation per call): the loop must still match exactly."""
    from vox_edge.export.flow_loop import write_flow_euler
    from vox_edge.quantize.int8 import quantize_int8_dynamic

    quantize_int8_dynamic(tiny_bundle / "flow_velocity.onnx", tmp_path / "flow_velocity.onnx")
    write_flow_euler(tmp_path / "flow_velocity.onnx", tmp_path / "flow_euler.onnx")
    onnx.checker.check_model(str(tmp_path / "flow_euler.onnx"), full_check=True)
    vel, loop = _session(tmp_path / "flow_velocity.onnx"), _session(tmp_path / "flow_euler.onnx")
    a_dim, d_dim = vel.get_inputs()[0].shape[1], vel.get_inputs()[1].shape[1]
    rng = np.random.default_rng(0)
    for n, alpha in ((7, 1.2), (4, 2.0), (2, 1.0)):
        x0 = rng.standard_normal((1, a_dim), dtype=np.float32)
        llm = rng.standard_normal((1, d_dim), dtype=np.float32)
        tc = rng.standard_normal((n, d_dim), dtype=np.float32)
        dt = np.full(n, 1 / n, np.float32)
        a_c, a_u = np.float32(alpha), np.float32(1 - alpha)
        x, cond2 = x0.copy(), np.concatenate([llm, np.zeros_like(llm)])
        for i in range(n):
            (v,) = vel.run(["velocity"], {"x_t": np.concatenate([x, x]), "time_cond": np.stack([tc[i], tc[i]]),
                                          "llm_cond": cond2})
            x = x + (a_c * v[:1] + a_u * v[1:]) * dt[i]
        (got,) = loop.run(["x1"], {"x0": x0, "llm_cond": llm, "time_cond": tc, "dt": dt,
                                   "cfg_mix": np.array([alpha, 1 - alpha], np.float32)})
        assert np.array_equal(got, x), (n, alpha)


def test_bundle_without_the_loop_runs_per_step(tiny_bundle, engine, tmp_path):
    """A bundle written before schema 3 has only flow_velocity and a codec that returns whole windows: the same
    codes, and audio within float rounding (the codec's default context_frames = 0 decodes the whole window)."""
    old = tmp_path / "old"
    shutil.copytree(tiny_bundle, old)
    d = json.loads((old / MANIFEST_FILE).read_text())
    del d["graphs"]["flow_euler"], d["files"]["flow_euler.onnx"], d["graphs"]["codec_decoder"]["optional_inputs"]
    (old / "flow_euler.onnx").unlink()
    d["schema_version"] = LEXICON_SCHEMA_VERSION if "lexicon" in d["tokenizer"] else 1
    (old / MANIFEST_FILE).write_text(json.dumps(d))
    eng = get_engine(old)
    assert eng._flow._euler is None and "flow_euler" not in eng.providers and not eng._codec_context_input
    a = eng.synthesize(TEXT, seed=2, max_frames=40)
    b = engine.synthesize(TEXT, seed=2, max_frames=40)
    np.testing.assert_array_equal(a.codes[0], b.codes[0])
    assert engine._codec_context_input and np.abs(a.samples - b.samples).max() <= 1e-5


def test_loop_graph_needs_schema_3(tiny_bundle):
    d = json.loads((tiny_bundle / MANIFEST_FILE).read_text())
    d["schema_version"] = LEXICON_SCHEMA_VERSION
    del d["graphs"]["codec_decoder"]["optional_inputs"]  # the other schema-3 feature of the tiny bundle
    with pytest.raises(ManifestError, match="'flow_euler' needs schema_version 3"):
        validate_manifest_dict(d, tiny_bundle)


def test_static_shape_export_keeps_only_the_per_step_graph(tiny_checkpoint_dir, tmp_path):
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import export_component_graphs

    info = export_component_graphs(Checkpoint.open(tiny_checkpoint_dir), tmp_path, {"acoustic": "fp32"},
                                   static_shapes=True, graphs=("flow_velocity",), progress=lambda m: None)
    assert set(info) == {"flow_velocity"} and not (tmp_path / "flow_euler.onnx").exists()

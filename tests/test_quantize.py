"""Precision variants of the flow and codec graphs (vox_edge.quantize) on `tiny`: they load and run in
ORT CPU, keep the I/O contract, and stay within measured distance of FP32.

Thresholds: measured on tiny (quantize/README.md) with margin. Acoustic: agreement of the Euler loop's
codes with FP32 over 60 frames of unit-RMS hiddens with injected noise. Codec: waveform SNR on the FP32
loop's codes.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from vox_edge.export.checkpoint import Checkpoint
from vox_edge.export.torch_graphs import export_component_graphs
from vox_edge.manifest import GRAPH_IO
from vox_edge.quantize.agreement import FlowGraphs, code_agreement, euler_codes, session, wave_distance
from vox_edge.quantize.calibrate import collect_calibration
from vox_edge.quantize.plan import QuantPlan, plan_for, quantize_graph
from vox_edge.quantize.report import unit_rms_hiddens

GRAPHS = ("flow_condition", "flow_time", "flow_velocity", "codec_decoder")
FRAMES = 60

# variant -> (min acoustic code agreement, min within ±1 level, min semantic agreement, min codec SNR dB)
# measured on tiny: fp16 0.999/1/1/63.8, int8 0.936/1/1/46.9, int8-static 0.91/1/0.97/42,
# int4 b32 (codec and semantic head forced to 4-bit) 0.61/0.86/0.90/32.6
THRESHOLDS = {
    "fp16": (0.98, 1.0, 1.0, 55.0),
    "int8": (0.85, 0.99, 0.95, 40.0),
    "int8-static": (0.80, 0.99, 0.9, 34.0),
    "int4-b32-force": (0.45, 0.75, 0.8, 26.0),  # b32: at tiny dims (K = 64) b128 would skip most weights
}


@pytest.fixture(scope="module")
def ckpt(tiny_checkpoint):
    return Checkpoint.open(tiny_checkpoint)


@pytest.fixture(scope="module")
def fp32(ckpt, tmp_path_factory):
    out = tmp_path_factory.mktemp("fp32")
    export_component_graphs(ckpt, out, {"acoustic": "fp32", "codec": "fp32"}, progress=lambda m: None)
    return out


@pytest.fixture(scope="module")
def calibration(ckpt):
    return collect_calibration(ckpt, n_frames=24, progress=lambda m: None)


@pytest.fixture(scope="module")
def reference(ckpt, fp32):
    cfg = ckpt.config
    h = unit_rms_hiddens(ckpt, FRAMES, seed=1)
    noise = np.random.default_rng(2).standard_normal((FRAMES, cfg.n_acoustic_codebook)).astype(np.float32)
    codes = euler_codes(FlowGraphs.load(fp32), h, noise, cfg.acoustic.n_decoding_steps, cfg.acoustic_codebook_size)
    codec_codes = (codes[None] - 2).astype(np.int64)  # [1,F,1+A], -2 space
    wave = session(fp32 / "codec_decoder.onnx").run(None, {"codes": codec_codes})[0]
    return h, noise, codes, codec_codes, wave


def build(variant: str, fp32, out, calibration) -> None:
    for g in GRAPHS:
        comp = "codec" if g == "codec_decoder" else "acoustic"
        plan = plan_for(comp, variant, graph=g)
        quantize_graph(fp32 / f"{g}.onnx", out / f"{g}.onnx", plan, calibration.feeds(g) if plan.needs_calibration else None)


@pytest.mark.parametrize("variant", list(THRESHOLDS))
def test_variant_runs_and_agrees_with_fp32(variant, ckpt, fp32, calibration, reference, tmp_path):
    build(variant, fp32, tmp_path, calibration)
    for g in GRAPHS:
        onnx.checker.check_model(str(tmp_path / f"{g}.onnx"))
        s = session(tmp_path / f"{g}.onnx")
        assert ([i.name for i in s.get_inputs()], [o.name for o in s.get_outputs()]) == tuple(map(list, GRAPH_IO[g]))
        assert all(i.type == "tensor(float)" or i.name == "codes" for i in s.get_inputs())  # callers feed float32
        assert all(o.type == "tensor(float)" for o in s.get_outputs())
    cfg = ckpt.config
    h, noise, ref_codes, codec_codes, ref_wave = reference
    codes = euler_codes(FlowGraphs.load(tmp_path), h, noise, cfg.acoustic.n_decoding_steps, cfg.acoustic_codebook_size)
    agree = code_agreement(ref_codes, codes)
    dist = wave_distance(ref_wave, session(tmp_path / "codec_decoder.onnx").run(None, {"codes": codec_codes})[0])
    print(f"\n{variant}: {agree}; codec {dist}")
    min_ac, min_pm1, min_sem, min_snr = THRESHOLDS[variant]
    assert agree.acoustic >= min_ac and agree.within_one >= min_pm1 and agree.semantic >= min_sem, str(agree)
    assert dist.snr_db >= min_snr, str(dist)


def test_nncf_variant_runs_in_ort(ckpt, fp32, reference, tmp_path):
    """nncf is for OpenVINO-targeted bundles; its ONNX output must still be valid and close to FP32."""
    pytest.importorskip("nncf")
    notes: list[str] = []
    for g in GRAPHS:
        comp = "codec" if g == "codec_decoder" else "acoustic"
        quantize_graph(fp32 / f"{g}.onnx", tmp_path / f"{g}.onnx", plan_for(comp, "int4-nncf-b32-force", notes.append, g))
    assert notes and "OpenVINO" in notes[0]
    cfg = ckpt.config
    h, noise, ref_codes, codec_codes, ref_wave = reference
    codes = euler_codes(FlowGraphs.load(tmp_path), h, noise, cfg.acoustic.n_decoding_steps, cfg.acoustic_codebook_size)
    agree = code_agreement(ref_codes, codes)
    dist = wave_distance(ref_wave, session(tmp_path / "codec_decoder.onnx").run(None, {"codes": codec_codes})[0])
    print(f"\nint4-nncf: {agree}; codec {dist}")  # measured on tiny: 0.60 / ±1 0.86 / semantic 0.82; 32.0 dB
    assert agree.acoustic >= 0.45 and agree.within_one >= 0.75 and dist.snr_db >= 26.0


def op_types(path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def test_int8_dynamic_uses_signed_weights_on_constant_matmuls_only(fp32, tmp_path):
    quantize_graph(fp32 / "flow_velocity.onnx", tmp_path / "v.onnx", plan_for("acoustic", "int8"))
    m = onnx.load(str(tmp_path / "v.onnx"))
    kinds = {n.op_type for n in m.graph.node}
    assert "DynamicQuantizeLinear" in kinds and ("MatMulInteger" in kinds or "DynamicQuantizeMatMul" in kinds)
    q_weights = [t for t in m.graph.initializer if t.name.endswith("_quantized")]
    assert q_weights and all(t.data_type == onnx.TensorProto.INT8 for t in q_weights)  # QInt8: VNNI U8S8 path
    assert "MatMul" in kinds  # the attention's activation x activation products stay FP32


def test_int4_is_matmulnbits_and_keeps_odd_k_weights_fp32(fp32, tmp_path):
    plan = plan_for("acoustic", "int4-b32-acc4")
    quantize_graph(fp32 / "flow_velocity.onnx", tmp_path / "v.onnx", plan)
    m = onnx.load(str(tmp_path / "v.onnx"))
    nbits = [n for n in m.graph.node if n.op_type == "MatMulNBits"]
    assert nbits
    for n in nbits:
        a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
        assert a["block_size"] == 32 and a["accuracy_level"] == 4 and a["bits"] == 4 and a["K"] % 32 == 0
    inits = {t.name: tuple(t.dims) for t in m.graph.initializer}
    fp32_mm = [n for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    assert [inits[n.input[1]][0] for n in fp32_mm] == [36]  # input_projection: K = 36, not a block multiple


def test_fp16_halves_weights_and_keeps_float32_io(fp32, tmp_path):
    quantize_graph(fp32 / "codec_decoder.onnx", tmp_path / "c.onnx", plan_for("codec", "fp16"))
    m = onnx.load(str(tmp_path / "c.onnx"))
    big = [t for t in m.graph.initializer if np.prod(t.dims) >= 1024]
    assert big and all(t.data_type == onnx.TensorProto.FLOAT16 for t in big)
    assert (tmp_path / "c.onnx").stat().st_size < 0.6 * (fp32 / "codec_decoder.onnx").stat().st_size


def test_plan_defaults_and_codec_int4_fallback():
    warnings: list[str] = []
    p = plan_for("codec", "int4", warn=warnings.append)
    assert p.precision == "int8" and p.method == "dynamic" and len(warnings) == 1 and "int4-force" in warnings[0]
    assert plan_for("codec", "int4-force").precision == "int4"
    assert plan_for("acoustic", "int4", graph="flow_condition").precision == "int8"  # semantic head stays int8
    assert plan_for("acoustic", "int4", graph="flow_velocity") == QuantPlan("int4", "nbits", block_size=128, accuracy_level=4)
    assert plan_for("acoustic", "int8") == QuantPlan("int8", "dynamic", per_channel=True)
    p = plan_for("acoustic", "int8-static-pt-percentile")
    assert (p.method, p.per_channel, p.calibrate_method, p.needs_calibration) == ("static", False, "percentile", True)
    p = plan_for("acoustic", "int4-b128-acc0-sym")
    assert (p.block_size, p.accuracy_level, p.symmetric) == (128, 0, True)
    assert plan_for("codec", "fp16").method == "fp16" and plan_for("codec", "fp32").method == "none"
    for bad in ("int3", "int8-b32", "int4-b48", "fp16-static"):
        with pytest.raises(ValueError):
            plan_for("acoustic", bad)


def test_static_int8_needs_calibration(fp32, tmp_path):
    with pytest.raises(ValueError, match="calibration"):
        quantize_graph(fp32 / "flow_velocity.onnx", tmp_path / "v.onnx", plan_for("acoustic", "int8-static"), [])


def test_calibration_feeds_match_graph_inputs(calibration, ckpt):
    cfg = ckpt.config
    for g in GRAPHS:
        feeds = calibration.feeds(g)
        assert feeds, g
        assert all(set(f) == set(GRAPH_IO[g][0]) for f in feeds)
    v = calibration.feeds("flow_velocity")[0]
    assert v["x_t"].shape == (2, cfg.n_acoustic_codebook) and not v["llm_cond"][1].any()  # CFG uncond branch = 0
    codes = np.concatenate([f["codes"] for f in calibration.feeds("codec_decoder")], 1)
    assert codes.min() >= 0 and codes[..., 0].max() < cfg.codec.semantic_codebook_size
    assert codes[..., 1:].max() < cfg.codec.acoustic_codebook_size
    assert calibration.feeds("codec_decoder", {"codes": (1, 37, 1 + cfg.n_acoustic_codebook)})


def test_export_with_per_component_precision(ckpt, calibration, tmp_path):
    msgs: list[str] = []
    info = export_component_graphs(ckpt, tmp_path, {"acoustic": "int4", "codec": "int4"}, progress=msgs.append,
                                   calibration=calibration, graphs=("flow_condition", "flow_velocity", "codec_decoder"))
    assert {g: e["precision"] for g, e in info.items()} == {
        "flow_condition": "int8", "flow_velocity": "int4", "codec_decoder": "int8"}
    assert sum("warning" in m for m in msgs) == 1
    assert "MatMulNBits" in op_types(tmp_path / "flow_velocity.onnx")

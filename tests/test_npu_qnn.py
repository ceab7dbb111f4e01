"""The NPU path on Qualcomm's HTP simulator (the onnxruntime-qnn wheel, extra `npu`; skipped without it): the tiny
checkpoint's qnn-htp bundle runs whole on the HTP with the CPU fallback disabled and meets the parity ladder
against the FP32 CPU bundle; a CPU bundle is refused by `vox-edge check-ep`, naming the op."""

from __future__ import annotations

import pytest
from npu_fixtures import (assert_whole_with_parity, npu_bundle, reference_bundle, source_filter_checkpoint,
                          source_filter_reference, voiced_source_filter_checkpoint)
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

pytest.importorskip("onnxruntime_qnn", reason="the QNN HTP simulator is in the `npu` extra (pip install onnxruntime-qnn)")

PROVIDER = "QNNExecutionProvider"


@pytest.mark.slow
def test_tiny_runs_whole_on_the_htp_with_parity(tiny_checkpoint_dir, tiny_bundle, tmp_path_factory):  # noqa: F811
    from vox_edge.runtime.ep_check import check_bundle

    bundle = npu_bundle(tiny_checkpoint_dir, tmp_path_factory.getbasetemp(), "qnn-htp")
    report = check_bundle(bundle, PROVIDER, reference=tiny_bundle, frames=8)
    assert {g.graph for g in report.graphs} == {"backbone", "flow_condition", "flow_time", "flow_velocity",
                                                 "codec_decoder"}
    for g in report.graphs:
        assert g.placed == "accelerator" and not g.error and g.on_accelerator == g.nodes > 0, g.line(PROVIDER)
    assert report.parity is not None and report.parity.ok, report.text()
    assert report.ok


def test_cpu_bundle_is_refused_naming_the_op(tiny_bundle, capsys):  # noqa: F811
    """The dynamic-shape CPU bundle (contrib ops, growing cache) does not run whole: exit 1, the op named."""
    from vox_edge.cli import main

    assert main(["check-ep", str(tiny_bundle), "--provider", PROVIDER]) == 1
    out = capsys.readouterr().out
    backbone = next(line for line in out.splitlines() if line.strip().startswith("backbone"))
    assert "refused:" in backbone and "SkipSimplifiedLayerNormalization" in backbone
    assert "--target qnn-htp" in out and "FAIL" in out


@pytest.mark.slow
def test_source_filter_head_runs_whole_on_htp_with_parity(tmp_path_factory):
    """The default voice's kind of codec (`source_filter` head: ConvNeXt frame decoder, NumPy renderer): its
    frame decoder runs whole on the HTP, its trunk (f0) FP32 on the CPU; the renderer stays in the runtime."""
    from vox_edge.runtime.ep_check import check_bundle

    root = tmp_path_factory.getbasetemp()
    bundle = npu_bundle(source_filter_checkpoint(root), root, "qnn-htp")
    report = check_bundle(bundle, PROVIDER, reference=source_filter_reference(root), frames=8)
    assert_whole_with_parity(report, PROVIDER)


@pytest.mark.slow
def test_voiced_source_filter_codec_keeps_the_waveform_rung_on_htp(tmp_path_factory, capsys):
    """The voiced fixture (every frame near 140 Hz: the renderer's pulse phase integrates f0): with the whole codec
    as one A16W8 HTP graph, f0 from int8 weights drifted the phase and the streamed waveform missed the 25 dB rung
    (benchmarks/RESULTS.md, "The source_filter codec's waveform SNR on qnn-htp"); with codec_trunk FP32 on the CPU
    and the frame decoder on the HTP it holds, and check-ep says where each part runs."""
    from vox_edge.runtime.ep_check import check_bundle

    root = tmp_path_factory.getbasetemp()
    ckpt = voiced_source_filter_checkpoint(root)
    bundle = npu_bundle(ckpt, root, "qnn-htp")
    report = check_bundle(bundle, PROVIDER, reference=reference_bundle(ckpt, root), frames=8)
    placed = {g.graph: g for g in report.graphs}
    assert placed["codec_trunk"].placed == "cpu" and placed["codec_decoder"].placed == "accelerator"
    text = report.text()
    assert "codec_trunk" in text and "placed on the CPU" in text and "renderer" in text and "NumPy" in text
    assert_whole_with_parity(report, PROVIDER)
    from vox_edge.cli import main

    capsys.readouterr()
    assert main(["info", str(bundle)]) == 0  # `vox-edge info` says where the bundle puts its trunk
    trunk = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("codec_trunk"))
    assert "placed on the CPU by the bundle" in trunk


def test_context_binary_of_a_large_graph_is_kept_beside_its_context_model(tiny_checkpoint_dir, tmp_path_factory,  # noqa: F811
                                                                          tmp_path, monkeypatch):
    """A graph over EMBED_CONTEXT_MAX_BYTES (the 4B backbone) writes its HTP context binary beside the EPContext model
    (an embedded one shares protobuf's 2 GB cap); the next session loads it from there with the same outputs."""
    import numpy as np

    from vox_edge.runtime import npu_providers

    bundle = npu_bundle(tiny_checkpoint_dir, tmp_path_factory.getbasetemp(), "qnn-htp")
    graph = bundle / "flow_time.onnx"
    monkeypatch.setattr(npu_providers, "EMBED_CONTEXT_MAX_BYTES", 0)
    first = npu_providers.accelerator_session(graph, PROVIDER, context_cache=tmp_path)
    ctx = list(tmp_path.glob("*.ctx.onnx"))
    assert len(ctx) == 1 and [p for p in tmp_path.iterdir() if p not in ctx], list(tmp_path.iterdir())
    assert ctx[0].stat().st_size < 64 << 10  # the binary is not inside it
    feed = {first.get_inputs()[0].name: np.linspace(0, 1, first.get_inputs()[0].shape[0], dtype=np.float32)}
    again = npu_providers.accelerator_session(graph, PROVIDER, context_cache=tmp_path)
    np.testing.assert_array_equal(again.run(None, feed)[0], first.run(None, feed)[0])

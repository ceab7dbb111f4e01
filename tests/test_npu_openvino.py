"""The openvino bundle of the tiny checkpoint on OpenVINO (device_type CPU): every graph whole on the provider with
the CPU fallback disabled, on the parity ladder. Runs where an OpenVINO provider is available (the plugin wheel
onnxruntime-ep-openvino offers devices on Intel hardware; the whole-runtime onnxruntime-openvino anywhere)."""

from __future__ import annotations

import pytest
from npu_fixtures import assert_whole_with_parity, npu_bundle, source_filter_checkpoint, source_filter_reference
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.runtime.npu_providers import available

PROVIDER = "OpenVINOExecutionProvider"
pytestmark = pytest.mark.skipif(not available(PROVIDER), reason=f"no {PROVIDER} device in this environment")


@pytest.mark.slow
def test_tiny_runs_whole_on_openvino_with_parity(tiny_checkpoint_dir, tiny_bundle, tmp_path_factory):  # noqa: F811
    from vox_edge.runtime.ep_check import check_bundle

    bundle = npu_bundle(tiny_checkpoint_dir, tmp_path_factory.getbasetemp(), "openvino")
    report = check_bundle(bundle, PROVIDER, {"device_type": "CPU"}, reference=tiny_bundle, frames=8)
    for g in report.graphs:
        assert g.placed == "accelerator" and not g.error and g.on_accelerator == g.nodes > 0, g.line(PROVIDER)
    assert report.ok, report.text()


@pytest.mark.slow
def test_source_filter_head_runs_whole_on_openvino_with_parity(tmp_path_factory):
    """The default voice's kind of codec (`source_filter` head: ConvNeXt frame decoder, NumPy renderer): its
    fixed-window graph with `frame_mask` runs whole on OpenVINO; the renderer stays in the runtime."""
    from vox_edge.runtime.ep_check import check_bundle

    root = tmp_path_factory.getbasetemp()
    bundle = npu_bundle(source_filter_checkpoint(root), root, "openvino")
    report = check_bundle(bundle, PROVIDER, {"device_type": "CPU"}, reference=source_filter_reference(root), frames=8)
    assert_whole_with_parity(report, PROVIDER)

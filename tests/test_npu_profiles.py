"""NPU device profiles: the bundle target they run, their provider options and CPU-placed graphs, and how the
runtime's sessions take them (runtime/sessions.py, runtime/npu_providers.py). No NPU wheel needed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from vox_edge.device_profiles import load_profile
from vox_edge.errors import ProfileError
from vox_edge.runtime.sessions import CPU, SessionSettings, open_session

PKG_DIR = Path(str(resources.files("vox_edge.device_profiles")))


@pytest.mark.parametrize("name, target, provider, option", [
    ("qualcomm-sa8295p", "qnn-htp", "QNNExecutionProvider", "htp_performance_mode"),
    ("intel-core-ultra-laptop", "openvino", "OpenVINOExecutionProvider", "device_type"),
])
def test_npu_profiles_name_their_target_and_options(name, target, provider, option):
    p = load_profile(name)
    assert p.runtime.npu_target == target and p.runtime.static_shapes
    assert p.runtime.execution_providers == (provider, CPU)
    assert option in p.runtime.provider_options[provider]
    s = SessionSettings.from_profile(p)
    assert s.provider_options[provider][option] == p.runtime.provider_options[provider][option]
    assert s.context_cache is not None  # compiled graphs are kept between runs
    assert hash(p) == hash(load_profile(name))


def test_cpu_profiles_have_no_npu_target():
    for name in ("qualcomm-sa8155p", "qualcomm-sa8295p-voxtral-4b", "x86-laptop"):
        rt = load_profile(name).runtime
        assert rt.npu_target is None and not rt.provider_options and not rt.cpu_graphs


@pytest.mark.parametrize("old, new, field", [
    ("[runtime.provider_options.QNNExecutionProvider]", "[runtime.provider_options.QNNExecutionProviderX]",
     "runtime.provider_options.QNNExecutionProviderX"),
    ('npu_target = "qnn-htp"', 'npu_target = "hexagon"', "runtime.npu_target"),
    ('cpu_graphs = { codec_trunk = "', 'cpu_graphs = { codec_decoder = "", codec_trunk = "',
     "runtime.cpu_graphs.codec_decoder"),
])
def test_malformed_npu_keys_name_the_field(tmp_path, old, new, field):
    text = (PKG_DIR / "qualcomm-sa8295p.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "qualcomm-sa8295p.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError, match=field.replace(".", r"\.")):
        load_profile(path)


def test_htp_profile_places_the_source_filter_codec_trunk_on_the_cpu_with_the_reason():
    """qualcomm-sa8295p: a source_filter codec's codec_trunk (f0; export/npu_codec_split.py) on the CPU, nothing else."""
    rt = load_profile("qualcomm-sa8295p").runtime
    assert set(rt.cpu_graphs) == {"codec_trunk"} and "f0" in rt.cpu_graphs["codec_trunk"]
    assert SessionSettings.from_profile(load_profile("qualcomm-sa8295p")).cpu_graphs.keys() == {"codec_trunk"}


def test_a_graph_the_profile_places_on_the_cpu_opens_on_the_cpu(tmp_path):
    """cpu_graphs wins over the provider list (here a provider this onnxruntime lacks would otherwise warn)."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "g.onnx")
    settings = SessionSettings(providers=("CoreMLExecutionProvider", CPU), cpu_graphs={"codec_decoder": "why"})
    sess = open_session(tmp_path / "g.onnx", settings, graph="codec_decoder")
    assert sess.get_providers() == [CPU]

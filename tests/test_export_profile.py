"""`vox-edge export CKPT OUT --profile P`: the profile's kernels for the device's ISA, overrides, refusals."""

from __future__ import annotations

import argparse
import json

import pytest

from vox_edge.cli import _profile_specs, build_parser, main
from vox_edge.errors import ConfigError

PROFILE_4B = "dev-vm-2core-x86-voxtral-4b"


def _args(*extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["export", "CKPT", "OUT", *extra])


def _specs(*extra: str) -> tuple[str, dict, str | None, list[str]]:
    said: list[str] = []
    precision, per, target = _profile_specs(_args(*extra), said.append)
    return precision, per, target, said


def test_profile_picks_the_kernels_of_its_own_isa_by_default():
    _, per, target, said = _specs("--profile", PROFILE_4B)
    assert per == {"backbone": "int4-b32-acc4-gqa-shared", "acoustic": "int8", "codec": "int8-convfp16-snr30"}
    assert target is None
    assert "ISA avx2 (the profile's hardware.isa)" in said[0] and said[1].startswith("[export] kernels: No VNNI")


def test_isa_list_and_host_choose_another_entry():
    _, per, _, said = _specs("--profile", PROFILE_4B, "--isa", "avx2,avx512_vnni")
    assert per["backbone"] == "int4-b128-acc4-gqa-shared" and "given with --isa" in said[0]
    _, per, _, said = _specs("--profile", PROFILE_4B, "--isa", "host")
    assert "detected on this machine" in said[0] and per["acoustic"] == "int8"


def test_component_precision_overrides_one_component():
    _, per, _, _ = _specs("--profile", "raspberry-pi-5", "--component-precision", "codec=int8")
    assert per == {"backbone": "int8-gqa-shared", "acoustic": "int8", "codec": "int8"}


def test_npu_profile_brings_its_target():
    _, _, target, _ = _specs("--profile", "qualcomm-sa8295p")
    assert target == "qnn-htp"


@pytest.mark.parametrize("extra, word", [
    (("--profile", PROFILE_4B, "--precision", "int8"), "--precision and --profile"),
    (("--profile", PROFILE_4B, "--isa", "avx2,neon"), "not an ISA feature of x86_64"),
])
def test_contradictions_are_refused(extra, word):
    with pytest.raises(ConfigError, match=word):
        _specs(*extra)


def test_cli_refusals_are_one_line_before_any_work(tmp_path, capsys):
    assert main(["export", str(tmp_path), str(tmp_path / "b"), "--isa", "host"]) != 0
    assert "--isa chooses among a device profile's kernels" in capsys.readouterr().err
    assert main(["export", str(tmp_path), str(tmp_path / "b"), "--profile", "no-such-board"]) != 0
    assert "unknown device profile" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_export_with_profile_writes_its_kernels(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert main(["export", str(tiny_checkpoint), str(out), "--profile", PROFILE_4B]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["precisions"] == {"backbone": "int4-b32-acc4-gqa-shared", "acoustic": "int8", "codec": "int8-convfp16-snr30"}
    bb = m["graphs"]["backbone"]
    assert (bb["precision"], bb["int4_block_size"], bb["int4_accuracy_level"], bb["kv_cache"]) == ("int4", 32, 4, "shared")
    # the tiny codec holds the guard (45 dB against FP32 streamed): int8 is written
    assert m["graphs"]["flow_velocity"]["precision"] == "int8" and m["graphs"]["codec_decoder"]["precision"] == "int8"
    err = capsys.readouterr().err
    assert f"profile {PROFILE_4B}" in err and "SNR guard holds" in err


@pytest.mark.slow
def test_codec_snr_guard_falls_back_to_fp32_with_a_message(tiny_checkpoint, tmp_path):
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.torch_graphs import export_component_graphs
    from vox_edge.export.codec_guard import check_codec

    said: list[str] = []
    ckpt = Checkpoint.open(tiny_checkpoint)
    ok = export_component_graphs(ckpt, tmp_path / "ok", {"codec": "int8-convfp16-snr30"}, graphs=("codec_decoder",),
                                 progress=said.append)
    assert ok["codec_decoder"]["precision"] == "int8" and any("SNR guard holds" in m for m in said)
    said.clear()
    # a floor no int8 codec reaches: the FP32 graph is written instead, and the export says so
    bad = export_component_graphs(ckpt, tmp_path / "bad", {"codec": "int8-snr99"}, graphs=("codec_decoder",),
                                  progress=said.append)
    assert bad["codec_decoder"]["precision"] == "fp32" and bad["codec_decoder"]["method"] == "none"
    assert any("SNR guard FAILS" in m and "< 99 dB" in m for m in said)
    fp32 = export_component_graphs(ckpt, tmp_path / "fp32", {"codec": "fp32"}, graphs=("codec_decoder",),
                                   progress=lambda m: None)
    assert fp32["codec_decoder"]["file"] == bad["codec_decoder"]["file"]
    g = check_codec(tmp_path / "fp32" / "codec_decoder.onnx", tmp_path / "bad" / "codec_decoder.onnx", ckpt.config.codec)
    assert g.snr_db == float("inf")  # the fallback is the FP32 graph itself
    g = check_codec(tmp_path / "fp32" / "codec_decoder.onnx", tmp_path / "ok" / "codec_decoder.onnx", ckpt.config.codec)
    assert 30.0 <= g.snr_db < 80.0 and g.chunks == 5  # streamed like the engine: 2, 4, 8, 16, 18 frames


def test_codec_snr_option_parses_for_the_codec_only():
    from vox_edge.quantize.plan import plan_for

    p = plan_for("codec", "int8-convfp16-snr30")
    assert (p.method, p.conv_weights, p.min_snr_db) == ("dynamic", "fp16", 30.0) and "guard >= 30 dB" in p.describe()
    assert plan_for("codec", "int4-snr25", warn=lambda m: None).min_snr_db == 25.0  # kept through the int8 fallback
    for component, spec in (("acoustic", "int8-snr30"), ("codec", "fp32-snr30")):
        with pytest.raises(ValueError, match="does not apply"):
            plan_for(component, spec)

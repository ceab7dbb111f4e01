"""`vox-edge bench` smoke tests on the tiny bundle: JSON fields, PNG, exit status, and no torch anywhere.

No thresholds on time: this runs on a shared 2-core CI machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from runtime_fixtures import NO_TORCH_GUARD, tiny_bundle, tiny_checkpoint_dir  # noqa: F401

PROFILE = "dev-vm-2core-x86"

_GUARD = NO_TORCH_GUARD


def _child(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _GUARD + code], capture_output=True, text=True, timeout=300)


def _bench_args(bundle: Path, tmp: Path, *extra: str) -> list[str]:
    return ["bench", str(bundle), "--profile", PROFILE, "--utterances", "2", "--warmup", "1", "--max-frames", "6",
            "--threads", "1", "-q", *extra]


@pytest.fixture(scope="module")
def bench_run(tiny_bundle, tmp_path_factory):
    """One bench run in a torch-free child process: (completed process, result JSON, png path)."""
    tmp = tmp_path_factory.mktemp("bench")
    out_json, out_png = tmp / "bench.json", tmp / "bench.png"
    args = _bench_args(tiny_bundle, tmp, "--json", str(out_json), "--png", str(out_png), "--bandwidth-mb", "64",
                       "--kernel-mb", "16", "--no-targets")
    r = _child(f"""
from vox_edge.cli import main
rc = main({args!r})
_check()
sys.exit(rc)
""")
    assert r.returncode == 0, r.stdout + r.stderr
    return r, json.loads(out_json.read_text()), out_png


def test_bench_json_fields(bench_run):
    r, res, _ = bench_run
    assert res["schema"] == "vox-edge-bench/1"
    for key in ("machine", "bundle", "profile", "settings", "load_s", "warmup_s", "ttfa_ms", "rtf", "stages_ms",
                "per_frame_ms", "ttfa_breakdown_ms", "memory", "bandwidth", "roofline", "targets", "loadavg",
                "utterances"):
        assert key in res, key
    m = res["machine"]
    assert m["cpu_model"] and m["cores"] >= 1 and m["date"] and m["vox_edge"] and m["onnxruntime"]
    assert set(res["bundle"]["precision_per_graph"]) == {"backbone", "flow_condition", "flow_time", "flow_velocity",
                                                         "flow_euler", "codec_decoder"}
    assert res["frames_total"] == 2 * 6 and len(res["utterances"]) == 2
    assert res["ttfa_ms"]["n"] == 2 and 0 < res["ttfa_ms"]["p50"] <= res["ttfa_ms"]["p95"]
    assert res["rtf"]["aggregate"] > 0
    st = res["stages_ms"]
    assert st["backbone_prefill"]["n"] == 2  # one suffix prefill per utterance: the voice prefix is cached
    assert st["backbone_step"]["n"] == 2 * 5  # no step after an utterance's last frame
    assert st["flow_loop"]["n"] == st["flow_step"]["n"] == 2 * 6  # one Euler-loop call per frame (flow_euler)
    assert st["flow_loop"]["p50"] == pytest.approx(st["flow_step"]["p50"] * res["profile"]["flow_steps"])
    assert st["flow_time"]["n"] == 0  # the time schedule was cached by warm-up
    assert st["codec_first_chunk"]["n"] == 2
    assert res["stall_ms"]["n"] == 2 and res["stall_ms"]["min"] >= 0 and res["stalls_total"] >= 0
    mem = res["memory"]
    assert 0 < mem["current_rss_mb"] <= mem["peak_rss_mb"]
    ro = res["roofline"]
    assert res["bandwidth"]["gbs"] > 0 and ro["bandwidth_gbs"] == res["bandwidth"]["gbs"]
    assert ro["bytes_per_frame"]["backbone"] > 0 and ro["bytes_per_frame"]["kv_cache"] > 0
    assert ro["floor_ms_per_frame"] > 0 and 0 < ro["fraction_wall"]
    assert set(res["targets"]) == {"rtf", "ttfa_ms_p50", "ttfa_ms_p95", "peak_rss_mb", "all_ok"}
    assert "TTFA ms" in r.stdout and "roofline" in r.stdout
    # bandwidth at the bench's thread count with the bundle's own kernels; per-stage GB/s; the load
    band = res["bandwidth"]
    assert band["numpy"]["threads"] == res["profile"]["intra_op_threads"] == 1
    assert band["kernels"] == {"backbone_step": "fp32", "flow_step": "fp32-m6", "codec": "fp32"}
    assert set(band["ort"]) == {"fp32", "fp32-m6"} and band["ort"]["fp32-m6"]["rows"] == 6
    assert band["gbs"] == max(band["numpy_gbs"], *(o["best_gbs"] for o in band["ort"].values()))
    sg = res["stage_gbs"]
    assert set(sg) == {"backbone_step", "flow_condition", "flow_step", "codec"}
    for name in ("backbone_step", "flow_step", "codec"):
        assert sg[name]["gbs"] > 0 and sg[name]["of_floor"] > 0 and sg[name]["kernel_gbs"] > 0, name
    assert sg["backbone_step"]["of_backbone"] == pytest.approx(1.0)
    load = res["loadavg"]
    assert load["cores"] >= 1 and isinstance(load["quiet"], bool) and (load["warning"] is None) == load["quiet"]
    assert "achieved GB/s" in r.stdout and ("WARNING: load average" in r.stdout) != load["quiet"]


def test_playback_stalls():
    from vox_edge.benchmarks.stats import playback_stalls

    assert playback_stalls([]) == (0.0, 0)
    # first audio at 0.1 s (0.16 s long): the next chunk, ready at 0.2, is in time; the third (ready 0.9) comes
    # 0.9 - (0.1 + 0.16 + 0.32) = 0.32 s after the queue ran dry, and the gap shifts the fourth (ready 1.0, due 1.9)
    silence, stalls = playback_stalls([(0.1, 0.16), (0.2, 0.32), (0.9, 1.0), (1.0, 0.5), (1.1, 0.0)])
    assert stalls == 1 and abs(silence - 0.32) < 1e-9
    silence, stalls = playback_stalls([(0.5, 0.0), (0.6, 0.1), (0.8, 0.1)])  # an empty chunk starts nothing
    assert stalls == 1 and abs(silence - 0.1) < 1e-9


def test_bench_png(bench_run):
    _, res, png = bench_run
    pytest.importorskip("matplotlib")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert res["png"] == str(png)


def test_bench_exit_status_names_failed_target(tiny_bundle, tmp_path, capsys):
    """An impossible RTF target -> exit 1 and the failed target named; --no-targets -> 0."""
    from vox_edge.cli import main

    text = resources.files("vox_edge.device_profiles").joinpath(f"{PROFILE}.toml").read_text(encoding="utf-8")
    strict, n = re.subn(r"(\[targets\.rtf\]\s*\nvalue = )[0-9.]+", r"\g<1>0.000001", text)
    assert n == 1
    prof = tmp_path / "strict.toml"
    prof.write_text(strict.replace(f'name = "{PROFILE}"', 'name = "strict"'), encoding="utf-8")
    args = ["bench", str(tiny_bundle), "--profile", str(prof), "--utterances", "1", "--warmup", "0",
            "--max-frames", "3", "--threads", "1", "--bandwidth-gbs", "20", "-q"]
    assert main(args) == 1
    assert "target failed: rtf" in capsys.readouterr().err
    assert main(args + ["--no-targets"]) == 0


def test_benchmark_modules_import_no_torch():
    """Every module in vox_edge.benchmarks (compare.py too: it imports the exporter lazily) is torch-free."""
    r = _child("""
import importlib, pkgutil
import vox_edge.benchmarks as pkg
names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))
assert "cli_bench" in names and "bandwidth" in names, names
for n in names:
    importlib.import_module("vox_edge.benchmarks." + n)
from vox_edge.cli import build_parser
build_parser().parse_args(["bench", "B", "--profile", "x"])
_check()
print("ok", len(names))
""")
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr


def test_bandwidth_probe_and_onnx_writer():
    """The hand-written ONNX writer: a MatMul pair computes x @ W0 @ W1; the int8/int4 chains load and run."""
    import numpy as np
    import onnxruntime as ort

    from vox_edge.benchmarks import bandwidth, onnx_wire

    rng = np.random.default_rng(0)
    w0, w1 = rng.standard_normal((2, 64, 64), dtype=np.float32)
    blob = onnx_wire.model([onnx_wire.node("MatMul", ["x", "w0"], ["h"], "a"), onnx_wire.node("MatMul", ["h", "w1"], ["y"], "b")],
                           [onnx_wire.tensor("w0", w0), onnx_wire.tensor("w1", w1)],
                           [onnx_wire.value_info("x", onnx_wire.FLOAT, ("batch", 64))],
                           [onnx_wire.value_info("y", onnx_wire.FLOAT, ("batch", 64))], {"": 17})
    x = rng.standard_normal((3, 64), dtype=np.float32)
    (y,) = ort.InferenceSession(blob, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_allclose(y, x @ w0 @ w1, rtol=1e-4, atol=1e-3)
    blob, nbytes = bandwidth._chain_model("fp32", 64, 2)
    assert nbytes == 2 * 64 * 64 * 4
    x = np.ones((1, 64), np.float32)
    for fmt in ("fp32", "int8", "int4"):
        blob, _ = bandwidth._chain_model(fmt, 64, 2)
        (y,) = ort.InferenceSession(blob, providers=["CPUExecutionProvider"]).run(None, {"x": x})
        assert y.shape == (1, 64)
    assert onnx_wire._varint(300) == b"\xac\x02"
    r = bandwidth.numpy_read_gbs(mb=16, repeats=2)
    assert r["best_gbs"] > 0


def test_load_check_warns_when_not_quiet():
    from vox_edge.benchmarks.runner import load_check

    q = load_check([0.9, 1.0, 1.0], cores=2)
    assert q["quiet"] and q["warning"] is None and q["per_core"] == pytest.approx(0.45)
    busy = load_check([3.5, 2.0, 1.0], cores=2)
    assert not busy["quiet"] and "not a quiet machine" in busy["warning"] and "3.50 on 2 cores" in busy["warning"]
    assert not load_check([], cores=2)["quiet"]


def test_wait_settled_waits_for_our_own_load_to_decay_not_for_the_background():
    from vox_edge.benchmarks.runner import wait_settled

    class Clock:  # a fake clock: sleep advances it, each read of the load returns the next value
        def __init__(self, loads):
            self.t, self.loads = 0.0, list(loads)

        def read(self):
            return [self.loads.pop(0) if len(self.loads) > 1 else self.loads[0], 1.0, 1.0]

        def sleep(self, s):
            self.t += s

    # after our own export the load reads 2.1 and decays; the background before it was 0.3: waits until <= 1.0
    c = Clock([2.1, 1.6, 1.2, 0.9, 0.5])
    r = wait_settled([0.3, 0.3, 0.3], 300, cores=2, clock=lambda: c.t, sleep=c.sleep, read=c.read)
    assert r["settled"] and r["waited_s"] == 15.0 and r["load"][0] == 0.9 and r["limit"] == 1.0
    # someone else's job keeps the background at 2.2: settled once our share is gone (<= 2.45), not at 1.0
    c = Clock([3.9, 3.1, 2.4, 2.3])
    r = wait_settled([2.2, 2.0, 1.8], 300, cores=2, clock=lambda: c.t, sleep=c.sleep, read=c.read)
    assert r["settled"] and r["waited_s"] == 10.0 and r["limit"] == pytest.approx(2.45)
    # never settles: gives up after the timeout and says so
    c = Clock([3.0])
    msgs = []
    r = wait_settled([0.2], 20, log=msgs.append, cores=2, clock=lambda: c.t, sleep=c.sleep, read=c.read)
    assert not r["settled"] and r["waited_s"] == 20.0 and "did NOT settle" in msgs[-1]


def test_stage_rates_per_stage_gbs_against_backbone_floor_and_kernel():
    from vox_edge.benchmarks.roofline import stage_rates

    stages = {"backbone_step": {"p50": 100.0}, "flow_condition": {"p50": 2.0}, "flow_step": {"p50": 20.0}}
    read = {"backbone": 1.8e9, "flow_condition": 20e6, "flow_velocity": 180e6, "codec_decoder": 120e6}
    r = stage_rates(read, 0.2e9, 0.25, stages, {"codec": 6.0}, 25.0,
                    {"backbone_step": "int4", "flow_step": "int8-m2"}, {"int4": {"best_gbs": 20.0}})
    assert r["backbone_step"]["gbs"] == pytest.approx(20.0) and r["backbone_step"]["of_kernel"] == pytest.approx(1.0)
    assert r["flow_step"]["gbs"] == pytest.approx(9.0) and r["flow_step"]["of_backbone"] == pytest.approx(0.45)
    assert r["flow_step"]["kernel"] == "int8-m2" and r["flow_step"]["kernel_gbs"] is None  # not probed
    assert r["codec"]["bytes"] == pytest.approx(30e6) and r["codec"]["gbs"] == pytest.approx(5.0)
    assert r["codec"]["of_floor"] == pytest.approx(0.2) and r["flow_condition"]["gbs"] == pytest.approx(10.0)
    none = stage_rates(read, 0, 0, {k: {"p50": None} for k in stages}, {}, 25.0)
    assert all(v["gbs"] is None and v["of_backbone"] is None for v in none.values())


def test_a_codec_step_stream_is_the_codec_stage():
    # a source_filter bundle streams through codec_step (schema 4 bundles carry no codec_decoder at all): its calls
    # are the codec's time, bytes and TTFA cut, not nothing
    from vox_edge.benchmarks.roofline import per_frame, stage_rates
    from vox_edge.benchmarks.runner import codec_graph, per_frame_ms, stage_times, ttfa_breakdown
    from vox_edge.benchmarks.timing import Recorder

    rec = Recorder()
    rec.begin(0)
    for ms in (4.0, 4.0, 4.0, 4.0):
        rec.add("backbone", 1, ms)
        rec.add("flow_condition", 1, 1.0)
    rec.add("codec_step", 4, 6.0)
    rec.add("codec_step", 4, 2.0)
    rec.end()
    assert codec_graph(rec) == "codec_step"
    stages = stage_times(rec)
    assert stages["codec_first_chunk"]["p50"] == 6.0 and stages["codec_chunk"]["p50"] == 2.0
    assert per_frame_ms(rec, stages, 1, 4, 0.1)["codec"] == pytest.approx(2.0)
    assert "codec_step" in ttfa_breakdown(rec, 1) and ttfa_breakdown(rec, 1)["backbone_step"] == pytest.approx(16.0)
    read = {"backbone": 8e6, "flow_condition": 1e6, "flow_velocity": 2e6, "codec_step": 9e6}
    assert per_frame(read, 7, 0.5, 0.0, codec_graph(rec))["codec"] == pytest.approx(4.5e6)
    assert per_frame(read, 7, 0.5, 0.0)["codec"] == 0.0  # the windowed graph is not in this bundle
    r = stage_rates(read, 0.0, 0.5, {**stages, "flow_step": {"p50": 1.0}}, {"codec": 2.0}, 25.0, codec_graph="codec_step")
    assert r["codec"]["gbs"] == pytest.approx(4.5e6 / 2e6)


def test_kernel_keys_and_the_chains_they_build():
    import numpy as np

    from vox_edge.benchmarks import bandwidth
    from vox_edge.runtime.sessions import cpu_session

    assert bandwidth.kernel_key("int4") == "int4" and bandwidth.kernel_key("int4", 128, 4, 2) == "int4-b128-acc4-m2"
    assert bandwidth.kernel_key("int8", rows=2) == "int8-m2"
    assert bandwidth.parse_kernel("int4-b128-acc0-m2") == {"fmt": "int4", "block": 128, "accuracy_level": 0, "rows": 2}
    for bad in ("int3", "int8-b32", "int4-b48", "fp32-m0", "int4-x"):
        with pytest.raises(ValueError):
            bandwidth.parse_kernel(bad)
    blob, nbytes = bandwidth._chain_model("int4", 128, 2, block=64, accuracy_level=4)
    assert nbytes == 2 * (128 * 2 * 32 + 128 * 2 * 4)
    (y,) = cpu_session(blob, 1).run(None, {"x": np.ones((2, 128), np.float32)})  # two rows: a CFG pair
    assert y.shape == (2, 128) and np.isfinite(y).all()
    r = bandwidth.numpy_read_gbs(mb=8, repeats=2, threads=2)
    assert r["threads"] == 2 and r["best_gbs"] > 0 and "2 threads" in r["method"]


def test_bundle_kernels_from_the_manifest():
    from types import SimpleNamespace

    from vox_edge.benchmarks.runner import bundle_kernels

    def man(bb: dict, flow: str, codec: str, specs: dict) -> SimpleNamespace:
        return SimpleNamespace(data={"precisions": specs, "graphs": {
            "backbone": bb, "flow_velocity": {"precision": flow}, "codec_decoder": {"precision": codec}}})

    int4 = {"precision": "int4", "int4_block_size": 32, "int4_accuracy_level": 4}
    assert bundle_kernels(man(int4, "int4", "fp32", {"acoustic": "int4"})) == {
        "backbone_step": "int4", "flow_step": "int4-b128-acc4-m6", "codec": "fp32"}  # the acoustic int4 default
    assert bundle_kernels(man({"precision": "int8"}, "int8", "fp16", {"acoustic": "int8"})) == {
        "backbone_step": "int8", "flow_step": "int8-m6", "codec": "fp32"}
    b128 = {**int4, "int4_block_size": 128}
    assert bundle_kernels(man(b128, "int4", "int8", {"acoustic": "int4-b64-acc0"}))["flow_step"] == "int4-b64-acc0-m6"
    assert bundle_kernels(man(b128, "int4", "int8", {}))["backbone_step"] == "int4-b128-acc4"


def test_avx2_4b_check_summary_and_acceptance_lines():
    from vox_edge.benchmarks.avx2_4b_check import summarize, table

    def result(nfe: int, flow_of: float, frame: float, ttfa: float, quiet: bool) -> dict:
        sg = {"backbone_step": {"gbs": 18.0, "of_backbone": 1.0}, "flow_step": {"gbs": 18 * flow_of, "of_backbone": flow_of},
              "codec": {"gbs": 15.0, "of_backbone": 15 / 18}}
        return {"profile": {"flow_steps": nfe, "intra_op_threads": 2}, "bundle": {"precisions": {}}, "stage_gbs": sg,
                "stages_ms": {"backbone_step": {"p50": 100.0}, "flow_step": {"p50": 10.0},
                              "backbone_prefill": {"p50": 400.0}},
                "per_frame_ms": {"codec": 8.0, "wall_excl_prefill": frame}, "ttfa_ms": {"p50": ttfa},
                "rtf": {"aggregate": 2.0}, "bandwidth": {"gbs": 20.0, "floor_source": "ORT int4"},
                "loadavg": {"start": [0.4], "end_of_measurement": [2.0], "quiet": quiet}, "memory": {"peak_rss_mb": 4000}}

    ok = summarize("profile", result(3, 0.8, 160.0, 650.0, True))
    assert all(ok["acceptance"].values()) and set(ok["acceptance"]) == {
        "flow >= 75 % of backbone GB/s", "codec >= 75 % of backbone GB/s", "frame <= 170 ms", "TTFA p50 <= 700 ms"}
    bad = summarize("profile", result(7, 0.45, 387.0, 1197.0, False))
    assert bad["acceptance"] == {"flow >= 75 % of backbone GB/s": False, "codec >= 75 % of backbone GB/s": True,
                                 "frame <= 230 ms": False}
    text = table([ok, bad])
    assert "| profile | 3 | 18.0 | 14.4 (80 %)" in text and "NOT QUIET" in text and "frame <= 230 ms: FAIL" in text
    assert "| 4000 | 0.40 → 2.00 |" in text  # peak RSS beside the load (the prompt graph's memory shows there)


def test_avx2_4b_check_prefill8_adds_the_option_to_the_profiles_backbone():
    from vox_edge.benchmarks.avx2_4b_check import PROFILE, _profile_backbone

    assert _profile_backbone(PROFILE, None) == "int4-b32-acc4-gqa-shared"  # the profile's own ISA: AVX2
    assert _profile_backbone(PROFILE, "avx2,avx512_vnni") == "int4-b128-acc4-gqa-shared"


@pytest.mark.parametrize("extra, nfe", [([], 9), (["--flow-steps", "3"], 3)])
def test_bench_reports_the_steps_the_engine_runs(tiny_bundle, tmp_path, extra, nfe):
    """A bundle's min_flow_steps (9) lifts the profile's 7, and the report and the per-step split follow what ran;
    an explicit --flow-steps below it runs as asked."""
    import contextlib
    import shutil

    from vox_edge.cli import main
    from vox_edge.errors import FlowStepsWarning

    bundle = tmp_path / "floored"
    shutil.copytree(tiny_bundle, bundle)
    m = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    m["synthesis"] = {"min_flow_steps": 9}
    (bundle / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    out = tmp_path / "bench.json"
    with pytest.warns(FlowStepsWarning) if nfe < 9 else contextlib.nullcontext():
        assert main(["bench", str(bundle), "--profile", PROFILE, "--utterances", "1", "--warmup", "0", "--max-frames",
                     "3", "--threads", "1", "--bandwidth-gbs", "20", "--no-ort-bandwidth", "--no-targets", "-q",
                     "--json", str(out), *extra]) == 0
    res = json.loads(out.read_text())
    st = res["stages_ms"]
    assert res["profile"]["flow_steps"] == nfe
    assert st["flow_loop"]["p50"] == pytest.approx(st["flow_step"]["p50"] * nfe)
    assert st["flow_time"]["n"] == 0  # warm-up cached the time schedule of the steps that ran

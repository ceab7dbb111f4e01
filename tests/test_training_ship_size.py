"""training/ship/default.py: the INT8 bundle's size against the budget is reported per file, and a bundle over it
fails before any WER run; the v2 (source_filter) checkpoint gets its own component recipe."""

from __future__ import annotations

import json

import pytest

from training.ship import default


def _bundle(root, sizes: dict[str, int]):
    for name, n in sizes.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\0" * n)
    return root


def test_size_report_names_the_largest_files_and_says_over(tmp_path):
    b = _bundle(tmp_path / "b", {"backbone.onnx.data": 9_000_000, "codec.onnx.data": 6_500_000,
                                 "arrays/tok.npy": 400_000, "manifest.json": 100})
    r = default.size_report(str(b), 15.0, top=2)
    assert r["over"] and r["mb"] == 15.9  # MB to 3 decimals, as the record stores it
    assert r["gate"] == "INT8 bundle 15.90 MB > 15.0 MB"
    lines = r["report"].splitlines()
    assert "OVER" in lines[0] and "backbone.onnx.data" in lines[1] and "codec.onnx.data" in lines[2]
    assert "2 more files" in lines[3]
    assert default.gates({"int8_mb": r["mb"], "wer_int8": 0.0, "wer_fp32": 0.0}, _Args(15.0)) == [r["gate"]]


def test_size_report_within_budget(tmp_path):
    b = _bundle(tmp_path / "b", {"backbone.onnx.data": 7_000_000, "codec.onnx.data": 7_999_999})
    r = default.size_report(str(b), 15.0)
    assert not r["over"] and "within" in r["report"].splitlines()[0]


class _Args:
    def __init__(self, max_mb):
        self.max_mb, self.max_wer, self.max_gap = max_mb, 1.0, 100.0


def test_over_budget_stops_before_scoring(tmp_path, monkeypatch, capsys):
    """main() exports, finds the INT8 bundle over --max-mb and exits 1 naming the size gate, without a WER run."""
    calls = []

    def fake_run(cmd):
        calls.append(cmd)
        if "export_checkpoint" in " ".join(cmd):
            out = cmd[cmd.index("--out") + 1]
            _bundle(tmp_path / "w" / "checkpoint", {"x": 1})
            (tmp_path / "w" / "checkpoint" / "params.json").write_text(json.dumps({"multimodal": {}}))
            assert out == str(tmp_path / "w" / "checkpoint")
        elif "export" in cmd:
            _bundle(tmp_path / "w" / cmd[cmd.index("export") + 2].rsplit("/", 1)[-1], {"big.onnx.data": 2_000_000})

    monkeypatch.setattr(default, "run", fake_run)
    monkeypatch.setattr(default, "install", lambda *a, **k: pytest.fail("an over-budget bundle was installed"))
    rc = default.main(["--work", str(tmp_path / "w"), "--max-mb", "1.5", "--tts", "T", "--codec", "C"])
    out = capsys.readouterr().out
    assert rc == 1 and "INT8 bundle 2.00 MB > 1.5 MB" in out and "big.onnx.data" in out
    assert not any("quality_wer.py" in " ".join(c) for c in calls)


def test_v2_checkpoint_gets_its_recipe(tmp_path):
    (tmp_path / "params.json").write_text(json.dumps(
        {"multimodal": {"audio_tokenizer_args": {"output_head": "source_filter"}}}))
    v2 = default.component_specs(str(tmp_path), "int8")
    assert v2 == default.INT8_COMPONENTS["source_filter"] and any(s.startswith("backbone=") for s in v2)
    default.INT8_COMPONENTS["other_head"] = ("backbone=int4",)  # a head of its own is looked up by name
    try:
        (tmp_path / "params.json").write_text(json.dumps(
            {"multimodal": {"audio_tokenizer_args": {"output_head": "other_head"}}}))
        assert default.component_specs(str(tmp_path), "int8") == ("backbone=int4",)
    finally:
        del default.INT8_COMPONENTS["other_head"]
    (tmp_path / "params.json").write_text(json.dumps({"multimodal": {"audio_tokenizer_args": {}}}))
    assert default.component_specs(str(tmp_path), "int8") == default.INT8_COMPONENTS["default"]
    assert default.component_specs(str(tmp_path), "fp32") == default.FP32_COMPONENTS


@pytest.mark.parametrize("head, extra, floor", [
    ("source_filter", [], "7"),  # voice v2: the measured floor, on both bundles
    ("source_filter", ["--min-flow-steps", "0"], None),  # asked for none
    ("source_filter", ["--min-flow-steps", "5"], "5"),
    ("", [], None),  # no measured floor for the other heads
])
def test_exports_carry_the_heads_min_flow_steps(tmp_path, monkeypatch, capsys, head, extra, floor):
    exports = []

    def fake_run(cmd):
        if "export_checkpoint" in " ".join(cmd):
            _bundle(tmp_path / "w" / "checkpoint", {"x": 1})
            (tmp_path / "w" / "checkpoint" / "params.json").write_text(json.dumps(
                {"multimodal": {"audio_tokenizer_args": {"output_head": head}}}))
        elif "export" in cmd:
            exports.append(cmd)
            _bundle(tmp_path / "w" / cmd[cmd.index("export") + 2].rsplit("/", 1)[-1], {"big.onnx.data": 2_000_000})

    monkeypatch.setattr(default, "run", fake_run)
    monkeypatch.setattr(default, "install", lambda *a, **k: pytest.fail("an over-budget bundle was installed"))
    assert default.main(["--work", str(tmp_path / "w"), "--max-mb", "1.5", "--tts", "T", "--codec", "C", *extra]) == 1
    assert len(exports) == 2  # the INT8 and the FP32 bundle alike
    for cmd in exports:
        got = cmd[cmd.index("--min-flow-steps") + 1] if "--min-flow-steps" in cmd else None
        assert got == floor, cmd
        window = cmd[cmd.index("--repetition-stop-seconds") + 1] if "--repetition-stop-seconds" in cmd else None
        assert window == ("1.25" if head == "source_filter" else None), cmd  # the repetition net: voice v2's window

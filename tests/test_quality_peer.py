"""benchmarks/quality_wer.py --peer: the teacher voice (hibari-tts) synthesised and timed beside the bundles in one
run, as its own row of the JSON runs and the table. The ASR step is stubbed with a listener that hears the `norm`
text (no Whisper venv needed); the tests that synthesise with hibari skip where hibari-tts is not installed."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from vox_edge.benchmarks import quality_wer as qw

ROWS = [("pq0", "nav", "Turn left in 200 m.", "Turn left in two hundred meters."),
        ("pq1", "prose", "It is 5 p.m.", "It is five p.m.")]
NORM = {r[0]: r[3] for r in ROWS}


def _heldout(tmp_path) -> str:
    path = tmp_path / "heldout.tsv"
    path.write_text("id\tcategory\traw\tnorm\n" + "".join("\t".join(r) + "\n" for r in ROWS), encoding="utf-8")
    return str(path)


@pytest.fixture
def listener(monkeypatch):
    """quality_wer.transcribe replaced: every clip is heard as its `norm` text; the clips it was given are kept."""
    heard = []

    def transcribe(items, python, threads):
        heard.extend(items)
        return {it["id"]: NORM[it["id"]] for it in items}

    monkeypatch.setattr(qw, "transcribe", transcribe)
    return heard


def _read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate()


def test_missing_peer_package_fails_in_one_line_before_any_synthesis(tmp_path, monkeypatch, listener):
    monkeypatch.setitem(sys.modules, "hibari", None)  # `from hibari import ...` now raises ImportError
    out = tmp_path / "q"
    with pytest.raises(SystemExit) as e:
        qw.main(["--bundle", "int8=/nonexistent", "--peer", "hibari", "--heldout", _heldout(tmp_path),
                 "--out", str(out), "--asr-python", sys.executable])
    msg = str(e.value.code)
    assert "hibari-tts is not installed" in msg and "\n" not in msg
    assert not out.exists() and listener == []  # failed before the bundle was loaded or anything written


def test_peer_threads_follow_the_bundles_profile():
    assert qw.session_threads("dev-vm-2core-x86") == 1  # the profile the bundles' RTF is stated for
    assert qw.session_threads("") == 0 == qw.session_threads(None)  # CPU defaults: onnxruntime's own choice


def test_benchmark_imports_no_peer_or_training_stack():
    code = ("import sys, vox_edge.benchmarks.quality_wer as q; "
            "bad = [m for m in ('hibari', 'torch', 'onnx', 'soundfile', 'faster_whisper') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_peer_row_beside_the_bundle(tmp_path, listener, capsys):
    pytest.importorskip("hibari", reason="hibari-tts is not installed (pip install -e '.[peers]')")
    from vox_edge.runtime.cli_commands import default_bundle

    bundle = default_bundle()
    if bundle is None:
        pytest.skip("no packaged default voice")
    version = importlib.metadata.version("hibari-tts")
    out, md = tmp_path / "q", tmp_path / "RESULTS.md"
    qw.main(["--bundle", f"int8={bundle}", "--peer", "hibari", "--heldout", _heldout(tmp_path), "--n", "2",
             "--out", str(out), "--asr-python", sys.executable, "--results-md", str(md)])

    saved = json.loads((out / "quality_wer.json").read_text(encoding="utf-8"))
    runs = {r["label"]: r for r in saved["runs"]}
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["cpu_model"]  # what the numbers were measured on
    label = f"hibari-tts {version}"
    assert list(runs) == [label, "int8"]
    peer, int8 = runs[label], runs["int8"]
    assert peer["package"] == f"hibari-tts=={version}" and peer["reads"] == "norm" and int8["reads"] == "raw"
    assert peer["threads"] == int8["threads"] == 1  # the same intra-op threads as the bundle's sessions
    assert [c["id"] for c in peer["clips"]] == [c["id"] for c in int8["clips"]] == list(NORM)
    assert {it["path"] for it in listener} == {c["path"] for r in runs.values() for c in r["clips"]}
    assert peer["score"]["wer"] == 0 and peer["score"]["words"] == int8["score"]["words"] > 0
    assert peer["stopped"] == "-" and peer["precisions"] is None
    for c in peer["clips"]:
        assert 0 < c["ttfa_ms"] <= 1000 * c["elapsed"] + 0.1
        assert c["elapsed"] > 0 and c["duration"] > 0.3
    assert peer["rtf"] == pytest.approx(sum(c["elapsed"] for c in peer["clips"]) / peer["audio_s"], rel=0.02)
    assert peer["ttfa_p50_ms"] is not None and int8["rtf"] > 0

    # its clips: 24 kHz where the ASR reads them, exactly hibari's own `Hibari(threads=1)(norm, seed=0)`
    from hibari import Hibari

    from vox_edge.runtime.wav import pcm16

    tts = Hibari(threads=1)
    for c in peer["clips"]:
        pcm, sr = _read_wav(c["path"])
        assert sr == 24_000 and len(pcm) / sr == pytest.approx(c["duration"], abs=1e-3)
        assert np.array_equal(pcm, np.frombuffer(pcm16(tts(c["norm"], seed=0)), "<i2"))

    row = f"| {label} | - | 2 | {peer['score']['words']} | **0.0 %** |"
    assert row in capsys.readouterr().out and row in md.read_text(encoding="utf-8")
    assert f"{label}: the teacher voice through its own package, from the `norm` text, 1 intra-op thread" in \
        md.read_text(encoding="utf-8")


def test_peer_seeds_pool_like_a_bundle(tmp_path, listener):
    pytest.importorskip("hibari", reason="hibari-tts is not installed (pip install -e '.[peers]')")
    label = f"hibari-tts {importlib.metadata.version('hibari-tts')}"
    out = tmp_path / "q"
    qw.main(["--peer", "hibari", "--heldout", _heldout(tmp_path), "--n", "1", "--seed", "0,1", "--out", str(out),
             "--asr-python", sys.executable])
    runs = {r["label"]: r for r in json.loads((out / "quality_wer.json").read_text(encoding="utf-8"))["runs"]}
    assert list(runs) == [f"{label}@0", f"{label}@1", label]
    pooled = runs[label]
    assert pooled["seeds"] == [0, 1] and pooled["per_seed"] == {"0": 0.0, "1": 0.0} and len(pooled["clips"]) == 2
    assert pooled["reads"] == "norm" and pooled["threads"] == 1 and pooled["stopped"] == "-"
    assert (out / f"{label.replace(' ', '-')}@1" / "pq0.wav").is_file()


def test_provider_opens_every_graph_strict_and_records_placement(tmp_path, listener, monkeypatch):
    """--provider LABEL=P: every graph of that bundle goes through check-ep's graph_placement on P (the strict session,
    CPU fallback disabled), its node count in the run's `placement`; a graph P refuses stops the run. The stand-in
    for an NPU provider here is a graph_placement that hands back CPU sessions (the CPU EP itself refuses
    `session.disable_cpu_ep_fallback`)."""
    from vox_edge.runtime import ep_check
    from vox_edge.runtime.cli_commands import default_bundle
    from vox_edge.runtime.sessions import SessionSettings, open_session

    bundle = default_bundle()
    if bundle is None:
        pytest.skip("no packaged default voice")
    calls, refuse = [], set()

    def placement(graph, path, provider, options):
        calls.append((graph, provider, options))
        if graph in refuse:
            return ep_check.GraphPlacement(graph, "accelerator", nodes=9, on_accelerator=7, refused={"Erf": 2}), None
        return ep_check.GraphPlacement(graph, "accelerator", nodes=5, on_accelerator=5), open_session(
            path, SessionSettings(intra_op_threads=1))

    monkeypatch.setattr(ep_check, "graph_placement", placement)
    out = tmp_path / "q"
    qw.main(["--bundle", f"npu={bundle}", "--bundle", f"plain={bundle}", "--provider", "npu=FakeNPUExecutionProvider",
             "--heldout", _heldout(tmp_path), "--n", "1", "--out", str(out), "--asr-python", sys.executable])
    runs = {r["label"]: r for r in json.loads((out / "quality_wer.json").read_text(encoding="utf-8"))["runs"]}
    npu, plain = runs["npu"], runs["plain"]
    assert npu["provider"] == "FakeNPUExecutionProvider" and plain["provider"] == "profile" and "placement" not in plain
    assert {g for g, _, _ in calls} == set(npu["placement"]) >= {"backbone", "flow_condition"}
    assert all(p == "FakeNPUExecutionProvider" and o == {} for _, p, o in calls)  # no profile options: the defaults
    assert set(npu["placement"].values()) == {"5/5 nodes on FakeNPUExecutionProvider, CPU fallback disabled"}
    assert [c["frames"] for c in npu["clips"]] == [c["frames"] for c in plain["clips"]]  # same graphs, same seed

    refuse.add("flow_condition")
    with pytest.raises(SystemExit) as e:
        qw.main(["--bundle", f"npu={bundle}", "--provider", "npu=FakeNPUExecutionProvider", "--heldout",
                 _heldout(tmp_path), "--n", "1", "--out", str(tmp_path / "r"), "--asr-python", sys.executable])
    assert "flow_condition" in str(e.value.code) and "7/9 nodes" in str(e.value.code) and "Erf x2" in str(e.value.code)
    assert not (tmp_path / "r" / "npu" / "pq0.wav").exists()


def test_provider_that_is_missing_or_unlabelled_stops_before_any_speech(tmp_path, listener):
    from vox_edge.runtime.cli_commands import default_bundle

    bundle = default_bundle()
    if bundle is None:
        pytest.skip("no packaged default voice")
    out = tmp_path / "q"
    with pytest.raises(SystemExit) as e:
        qw.main(["--bundle", f"x={bundle}", "--provider", "x=NoSuchExecutionProvider", "--heldout",
                 _heldout(tmp_path), "--n", "1", "--out", str(out), "--asr-python", sys.executable])
    assert "NoSuchExecutionProvider is not installed" in str(e.value.code) and listener == []
    assert not (out / "x" / "pq0.wav").exists()
    with pytest.raises(SystemExit):  # argparse: a --provider label that names no --bundle
        qw.main(["--bundle", f"x={bundle}", "--provider", "y=CPUExecutionProvider", "--heldout", _heldout(tmp_path),
                 "--out", str(out), "--asr-python", sys.executable])

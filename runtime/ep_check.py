"""`vox-edge check-ep BUNDLE --provider P`: does an execution provider run a bundle whole, and run it right?

Placement, per graph: the graph is opened on P with the CPU fallback disabled. If that session starts, every node is
P's (counted from onnxruntime's record of node assignment, `session.record_ep_graph_assignment_info`); if not, it
is opened again with the fallback allowed and the ops left to the CPU are named. A graph the device profile places
on the CPU on purpose, by the bundle (a graph entry's `placement` "cpu": a qnn-htp source_filter codec's
codec_trunk) or by the device profile (`cpu_graphs`), with its reason, is reported as such and is not a failure;
a source_filter codec's NumPy renderer is listed as the CPU stage it is.

Parity, against a reference on the CPU provider (`--reference`: an FP32 bundle of the same checkpoint; default: this
bundle itself on the CPU provider), on the parity ladder of the CPU INT8 path:
  semantic codes  teacher-forced: both backbones read the reference's codes, each frame is predicted from each
                  one's own hidden state, same noise            >= SEMANTIC_MIN agreement (near-ties apart: TIE_MARGIN)
  acoustic codes  the same frames, levels within +-1             >= ACOUSTIC_MIN
  codec           the reference's codes through both codecs, streamed the same way: waveform SNR >= CODEC_SNR_MIN_DB
The check fails (non-zero exit) when a graph placed on P runs partly on the CPU, or a rung is below its threshold.
"""

from __future__ import annotations

import time
from collections import Counter
from types import SimpleNamespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vox_edge.config import DEFAULT_CFG_ALPHA, DEFAULT_NOISE_SCALE, N_AUDIO_SPECIAL
from vox_edge.errors import ManifestError, ProviderError
from vox_edge.manifest import Manifest, load_manifest

from .npu_providers import accelerator_session
from .sessions import SessionSettings, open_session

SEMANTIC_MIN = 0.99
ACOUSTIC_MIN = 0.95  # within +-1 level
CODEC_SNR_MIN_DB = 25.0
# A frame whose reference semantic logits have their top two closer than this is a tie: the FP32 head itself flips it
# when fed a backbone hidden 1 % off (synthetic `small` dims: a 0.002 margin, flipped by the FP32 head on the QDQ
# backbone's hidden). Such frames are reported and left out of the semantic threshold; every other frame counts.
TIE_MARGIN = 0.01
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
TEXT = "Turn left in two hundred meters, then keep right at the fork."
RENDERER_STAGE = ("renderer        NumPy on the CPU, not a graph: the source_filter codec's signal-processing tail "
                  "(pulse train from f0, STFT, inverse STFT; runtime/source_filter.py)")


@dataclass
class GraphPlacement:
    graph: str
    placed: str  # "accelerator" | "cpu" (the profile's choice)
    nodes: int = 0
    on_accelerator: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # op type -> nodes left to the CPU
    error: str = ""  # why the strict session did not start
    reason: str = ""  # why the profile places it on the CPU

    @property
    def ok(self) -> bool:
        return self.placed == "cpu" or (not self.error and self.nodes > 0 and self.on_accelerator == self.nodes)

    def line(self, provider: str) -> str:
        if self.placed == "cpu":
            return f"{self.graph:15s} placed on the CPU (by the bundle or profile): {self.reason}"
        share = self.on_accelerator / self.nodes if self.nodes else 0.0
        head = f"{self.graph:15s} {self.on_accelerator}/{self.nodes} nodes on {provider} ({share:.1%})"
        if self.ok:
            return head + ", CPU fallback disabled: runs whole"
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(self.refused.items(), key=lambda kv: -kv[1]))
        return head + f"; refused: {ops or 'the whole graph'}" + (f" ({self.error})" if self.error else "")


def graph_placement(graph: str, path: Path, provider: str, options: dict[str, str]) -> tuple[GraphPlacement, Any]:
    """(placement, the strict session or None)."""
    result = GraphPlacement(graph, "accelerator")
    try:
        sess = accelerator_session(path, provider, options, strict=True)
    except ProviderError:
        raise
    except Exception as e:  # noqa: BLE001 - the provider's reason for refusing, reported below
        result.error = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        sess = None
    if sess is None:
        try:
            loose = accelerator_session(path, provider, options, strict=False)
        except Exception:  # noqa: BLE001 - not even a partial placement: everything is on the CPU
            import onnx

            ops = Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
            result.nodes, result.refused = sum(ops.values()), {k: v for k, v in ops.items() if k not in QDQ_OPS}
            return result, None
        sess_for_count = loose
    else:
        sess_for_count = sess
    cpu = Counter()
    for sub in sess_for_count.get_provider_graph_assignment_info():
        nodes = sub.get_nodes()
        result.nodes += len(nodes)
        if sub.ep_name == provider:
            result.on_accelerator += len(nodes)
        else:
            cpu.update(n.op_type for n in nodes)
    # Q/DQ at a graph's edges go to the CPU whenever fallback is allowed; name the ops that forced it first
    named = {k: v for k, v in cpu.items() if k not in QDQ_OPS}
    result.refused = named or dict(cpu)
    return result, sess


@dataclass
class Parity:
    frames: int
    semantic: float  # agreement over every frame
    semantic_decided: float  # agreement over the frames whose reference top-two logits are >= TIE_MARGIN apart
    ties: int  # frames whose reference top-two logits are within TIE_MARGIN (a coin toss for any quantisation)
    acoustic_exact: float
    acoustic_pm1: float
    snr_db: float

    @property
    def ok(self) -> bool:
        return (self.semantic_decided >= SEMANTIC_MIN and self.acoustic_pm1 >= ACOUSTIC_MIN
                and self.snr_db >= CODEC_SNR_MIN_DB)

    def lines(self) -> list[str]:
        mark = lambda good: "ok" if good else "FAIL"  # noqa: E731
        ties = (f"; {self.semantic_decided:.3f} over the {self.frames - self.ties} frames whose reference top-two "
                f"logits are >= {TIE_MARGIN:g} apart" if self.ties else "")
        return [f"semantic codes  {self.semantic:.3f} agree (teacher-forced, {self.frames} frames{ties}; "
                f">= {SEMANTIC_MIN}: {mark(self.semantic_decided >= SEMANTIC_MIN)})",
                f"acoustic codes  {self.acoustic_exact:.3f} exact, {self.acoustic_pm1:.3f} within +-1 (>= {ACOUSTIC_MIN}: "
                f"{mark(self.acoustic_pm1 >= ACOUSTIC_MIN)})",
                f"codec           {self.snr_db:.1f} dB SNR on the reference codes (>= {CODEC_SNR_MIN_DB:g}: "
                f"{mark(self.snr_db >= CODEC_SNR_MIN_DB)})"]


def _frames(engine, text: str, voice: str, noise: np.ndarray, steps: int, alpha: float,
            forced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(codes [F, 1+A] (+2 space), top-two semantic logit margins [F]): each frame predicted from the engine's own
    hidden; the next input is `forced[f]` (teacher forcing) or, without it, the engine's own frame."""
    ids, _ = engine.prompt_ids(text, voice)
    kv = engine._backbone.cache(engine._backbone.empty_past(), len(ids) + len(noise))
    h = kv.step(engine._embed(ids, voice))[:, -1]
    out, margins = [], []
    for f in range(len(noise)):
        semantic, llm = engine._flow.condition(h)
        if forced is None:  # the reference: how decided its semantic choice was
            (logits,) = engine._flow._cond.run(["semantic_logits"], {"hidden": h})
            top = np.sort(logits[0])[-2:]
            margins.append(float(top[1] - top[0]))
        levels = engine._flow.acoustic(llm, noise[f], steps, alpha)
        codes = np.concatenate([[semantic], levels + N_AUDIO_SPECIAL]).astype(np.int64)
        out.append(codes)
        nxt = codes if forced is None else forced[f]
        if f + 1 < len(noise):
            h = kv.step(engine._emb.codes(nxt)[None, None])[:, -1]
    return np.stack(out), np.array(margins)


def _decode(engine, codes: np.ndarray) -> np.ndarray:
    """codes [F, 1+A] (+2 space) -> audio, streamed as the engine streams (its decoder for the codec's head)."""
    stream = engine._codec_stream(SimpleNamespace(first_chunk_frames=2, chunk_frames=12), 0)
    parts = [a for c in codes if (a := stream.push(c - N_AUDIO_SPECIAL)) is not None]
    parts.append(stream.flush())
    return np.concatenate(parts)


def parity(test, ref, frames: int, text: str = TEXT, steps: int = 7, seed: int = 0) -> Parity:
    """The ladder for engine `test` against engine `ref` (same model)."""
    voice = ref.default_voice
    syn = ref.manifest.synthesis
    alpha, scale = syn.get("cfg_alpha", DEFAULT_CFG_ALPHA), syn.get("noise_scale", DEFAULT_NOISE_SCALE)
    noise = scale * np.random.default_rng(seed).standard_normal((frames, ref.config.n_acoustic_codebook), np.float32)
    ref_codes, margins = _frames(ref, text, voice, noise, steps, alpha)
    got, _ = _frames(test, text, voice, noise, steps, alpha, forced=ref_codes)
    diff = np.abs(got[:, 1:] - ref_codes[:, 1:])
    same = got[:, 0] == ref_codes[:, 0]
    decided = margins >= TIE_MARGIN
    a, b = _decode(ref, ref_codes), _decode(test, ref_codes)
    snr = 10 * np.log10(float(np.sum(a.astype(np.float64) ** 2)) / max(float(np.sum((a - b).astype(np.float64) ** 2)),
                                                                        1e-30))
    return Parity(frames, float(np.mean(same)), float(np.mean(same[decided])) if decided.any() else 1.0,
                  int((~decided).sum()), float(np.mean(diff == 0)), float(np.mean(diff <= 1)), snr)


@dataclass
class Report:
    provider: str
    target: str
    reference: str
    graphs: list[GraphPlacement]
    parity: Parity | None
    seconds: float
    cpu_stages: list[str] = field(default_factory=list)  # work the runtime does on the CPU outside any graph

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.graphs) and self.parity is not None and self.parity.ok

    def text(self) -> str:
        lines = [f"{self.provider} on a bundle for target {self.target}:"]
        lines += ["  " + g.line(self.provider) for g in self.graphs]
        lines += [f"  {stage}" for stage in self.cpu_stages]
        if self.parity is None:
            lines.append("  parity: not run (a graph does not run whole on the provider)")
        else:
            lines.append(f"  parity against {self.reference}:")
            lines += ["    " + s for s in self.parity.lines()]
        if self.target == "cpu" and not all(g.ok for g in self.graphs):
            lines.append("  this bundle was not exported for an NPU (dynamic shapes, contrib ops): export one with "
                         "`vox-edge export CHECKPOINT OUT --target qnn-htp` (or openvino)")
        lines.append(f"  {'PASS' if self.ok else 'FAIL'} ({self.seconds:.0f} s)")
        return "\n".join(lines)


def check_bundle(bundle: str | Path, provider: str, options: dict[str, str] | None = None,
                 reference: str | Path | None = None, cpu_graphs: dict[str, str] | None = None, frames: int = 20,
                 progress: Callable[[str], None] = lambda _: None) -> Report:
    """Placement of every graph of `bundle` on `provider`, then (when all run whole) the parity ladder."""
    from .engine import Engine

    t0 = time.perf_counter()
    manifest = load_manifest(Path(bundle), verify="size")
    ref_manifest = load_manifest(Path(reference), verify="size") if reference else manifest
    if ref_manifest.data["source"].get("fingerprint") != manifest.data["source"].get("fingerprint"):
        raise ManifestError(f"{reference}: exported from another checkpoint than {bundle}; export the reference "
                            "from the same checkpoint (e.g. `vox-edge export CKPT REF --precision fp32`).")
    cpu_graphs = {**manifest.cpu_placed, **dict(cpu_graphs or {})}  # the bundle's own placement, then the profile's
    used = _graphs_used(manifest)
    placements, sessions = [], {}
    for name in used:
        path = manifest.path(manifest.graphs[name].file)
        if name in cpu_graphs:
            placements.append(GraphPlacement(name, "cpu", reason=cpu_graphs[name]))
            sessions[name] = open_session(path, SessionSettings())
            continue
        progress(f"[check-ep] {name}: compiling for {provider}")
        p, sess = graph_placement(name, path, provider, options or {})
        progress(f"[check-ep] {p.line(provider)}")
        placements.append(p)
        sessions[name] = sess
    par = None
    if all(p.ok for p in placements):
        progress(f"[check-ep] parity: {frames} frames, teacher-forced")
        test = Engine(manifest, None, prefix_cache=False, flow_loop=False, open_graph=lambda n, _p: sessions[n])
        ref = Engine(ref_manifest, None, prefix_cache=False, flow_loop=False)
        par = parity(test, ref, frames)
    where = f"{Path(reference).name} on CPUExecutionProvider" if reference else "this bundle on CPUExecutionProvider"
    stages = [RENDERER_STAGE] if manifest.config.codec.output_head == "source_filter" else []
    return Report(provider, manifest.target.get("name", "cpu"), where, placements, par, time.perf_counter() - t0,
                  stages)


def _graphs_used(manifest: Manifest) -> list[str]:
    """The graphs the runtime runs on an accelerator: flow_euler (an ONNX Loop, CPU only) is never among them."""
    return [g for g in manifest.graphs if g != "flow_euler"]

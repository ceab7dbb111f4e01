"""One benchmark run: load a bundle under a device profile, warm up, speak N corpus utterances, measure.

Returns a plain dict (the JSON the bench writes). Imports numpy, onnxruntime and vox_edge's runtime /
device profiles / manifest only; never torch (the bench must run on an edge box with the runtime install).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vox_edge.device_profiles import DeviceProfile, load_profile
from vox_edge.runtime.sessions import SessionSettings

from . import bandwidth as bw
from . import machine, roofline, targets
from .corpus import load_corpus, pick
from .stats import median, playback_stalls, summary
from .timing import Recorder, timed_opener

SCHEMA = "vox-edge-bench/1"


@dataclass(frozen=True)
class BenchSettings:
    bundle: Path
    profile: str
    utterances: int = 10
    warmup: int = 2
    max_frames: int | None = 40  # synthetic weights never emit END: a fixed frame budget per utterance
    threads: int | None = None  # overrides the profile's intra_op_threads
    flow_steps: int | None = None  # per call, run as asked; None: the profile's, raised to the bundle's min_flow_steps
    voice: str | None = None
    seed: int = 0
    verify: str = "size"
    corpus: Path | None = None
    bandwidth_gbs: float | None = None  # skip the probe and use this figure
    bandwidth_mb: int = 1024
    ort_bandwidth: bool = True  # also measure the stream rate of the bundle's own kernels (ORT chains, ~10 s each)
    kernel_mb: int = 256  # weight MiB per kernel chain
    settle_s: float = 0.0  # wait up to this long for the load to settle before measuring (wait_settled)
    settle_background: list[float] | None = None  # the load before the caller's own work (an export)
    prefill_graph: bool = True  # run prompts through the bundle's backbone_prefill graph where it has one


def resolve_profile(s: BenchSettings) -> DeviceProfile:
    if s.profile == "auto":  # the bundled profile matching this machine, as `vox_edge.runtime.load` does
        from vox_edge.device_profiles import host_profile
        from vox_edge.errors import ProfileError

        prof = host_profile()
        if prof is None:
            raise ProfileError("--profile auto: no bundled device profile matches this machine; name one "
                               "(`--profile dev-vm-2core-x86`) or pass a .toml path.")
    else:
        prof = load_profile(s.profile)
    changes: dict[str, Any] = {}
    if s.threads is not None:
        changes["intra_op_threads"] = s.threads
    if s.flow_steps is not None:
        changes["flow_steps"] = s.flow_steps
    return prof.with_runtime(**changes) if changes else prof


QUIET_LOAD_PER_CORE = 0.5  # a 1-minute load average above this per usable core before the run: not a quiet machine


def load_check(load: list[float], cores: int | None = None) -> dict:
    """Is the machine quiet before the run? {start, cores, per_core, quiet, warning}; an acceptance number needs
    quiet = True (the 1-minute load average at most QUIET_LOAD_PER_CORE per usable core)."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
    per_core = load[0] / cores if load else None
    quiet = per_core is not None and per_core <= QUIET_LOAD_PER_CORE
    warning = None
    if per_core is None:
        warning = "no load average on this system: quiet or not is unknown"
    elif not quiet:
        warning = (f"load average {load[0]:.2f} on {cores} cores before the run ({per_core:.2f} per core > "
                   f"{QUIET_LOAD_PER_CORE}): not a quiet machine; these timings are not acceptance numbers")
    return {"start": load, "cores": cores, "per_core": per_core, "quiet": quiet, "warning": warning}


SETTLE_MARGIN = 0.25  # 1-minute load above the background before our own work that still counts as our own


def wait_settled(background: list[float] | None, timeout_s: float, log=lambda m: None, poll_s: float = 5.0,
                 cores: int | None = None, clock=time.monotonic, sleep=time.sleep,
                 read=machine.loadavg) -> dict:
    """Wait until the load our own earlier work added (an export, a previous run) has decayed, before measuring.

    The 1-minute load average decays with a 60 s time constant, so right after a 2-thread export it still reads
    about 2 although nothing runs: a guard reading it then labels a quiet machine "not quiet". Settled = the
    1-minute load is at most the quiet threshold (QUIET_LOAD_PER_CORE per core) or at most `background` (the
    1-minute load read before our own work started) + SETTLE_MARGIN; a background above the quiet threshold is
    someone else's load and stays in the record (load_check after this still says not quiet). Polls every
    `poll_s` up to `timeout_s`; returns {settled, waited_s, background, load}.
    """
    if cores is None:
        cores = load_check([0.0])["cores"]
    limit = QUIET_LOAD_PER_CORE * cores
    if background:
        limit = max(limit, background[0] + SETTLE_MARGIN)
    t0 = clock()
    load = read()
    said = False
    while load and load[0] > limit and clock() - t0 < timeout_s:
        if not said:
            log(f"waiting up to {timeout_s:.0f} s for the load to settle: 1-minute load {load[0]:.2f}, "
                f"settled at <= {limit:.2f}")
            said = True
        sleep(poll_s)
        load = read()
    settled = bool(load) and load[0] <= limit
    waited = clock() - t0
    if said or not settled:
        log(f"load {'settled' if settled else 'did NOT settle'} after {waited:.0f} s: {load[0] if load else '?'} "
            f"(limit {limit:.2f})")
    return {"settled": settled, "waited_s": round(waited, 1), "background": background, "limit": round(limit, 2),
            "load": load}


def run(s: BenchSettings, log=lambda m: None) -> dict:
    from vox_edge.runtime import load

    settle = wait_settled(s.settle_background, s.settle_s, log) if s.settle_s > 0 else None
    load0 = machine.loadavg()
    quiet = load_check(load0)
    if settle is not None:
        quiet["settle"] = settle
    if quiet["warning"]:
        log(f"warning: {quiet['warning']}")
    prof = resolve_profile(s)
    rt = prof.runtime
    corpus = load_corpus(s.corpus)

    log(f"loading {s.bundle} with profile {prof.name} ({rt.intra_op_threads} threads, {rt.flow_steps} flow steps)")
    t = time.perf_counter()
    rec = Recorder()
    engine = load(s.bundle, prof, verify=s.verify, prefill_graph=s.prefill_graph,
                  open_graph=timed_opener(SessionSettings.from_profile(prof), rec))
    load_s = time.perf_counter() - t
    rss_loaded = machine.rss_mb()["current_rss_mb"]
    voice = s.voice or engine.default_voice
    # --flow-steps is a per-call option (run as asked, below the bundle's min_flow_steps too); without it the engine
    # runs the profile's steps raised to that floor. nfe: what the engine runs, which the timings are divided by.
    opts = {"voice": voice, "seed": s.seed, "max_frames": s.max_frames, "flow_steps": s.flow_steps}
    nfe = engine.flow_steps_for(s.flow_steps)
    if nfe != rt.flow_steps:
        log(f"the engine runs {nfe} flow steps (the bundle's min_flow_steps {engine.min_flow_steps})")

    t = time.perf_counter()
    engine.warm_up([voice], nfe)  # voice-prefix KV + time schedule: TTFA is measured with them cached
    for text in pick(corpus, s.warmup, start=len(corpus) - s.warmup):
        engine.synthesize(text, **opts)
    warmup_s = time.perf_counter() - t

    utts = []
    for i, text in enumerate(pick(corpus, s.utterances)):
        log(f"[{i + 1}/{s.utterances}] {text}")
        rec.begin(i)
        cpu0 = time.process_time()  # CPU time of all our threads: wall time minus what neighbours took
        ttfa, elapsed, frames, samples, timeline = None, 0.0, 0, 0, []
        for chunk in engine.stream(text, **opts):
            frames += chunk.frames
            samples += chunk.samples.shape[0]
            elapsed = chunk.elapsed
            timeline.append((chunk.elapsed, chunk.duration))
            if ttfa is None and chunk.t_first is not None:
                ttfa = chunk.t_first
        rec.end()
        cpu_s = time.process_time() - cpu0
        audio_s = samples / engine.sample_rate
        silence, stalls = playback_stalls(timeline)  # what a listener of the stream would hear as gaps
        utts.append({"text": text, "frames": frames, "audio_s": audio_s, "elapsed_s": elapsed, "cpu_s": cpu_s,
                     "ttfa_ms": None if ttfa is None else ttfa * 1e3, "stall_ms": silence * 1e3, "stalls": stalls,
                     "rtf": elapsed / audio_s if audio_s else None})
    mem = machine.rss_mb()  # before the probe and plotting, so neither can be the peak
    mem["after_load_rss_mb"] = rss_loaded
    load1 = machine.loadavg()

    stages = stage_times(rec, nfe)
    frames_total = sum(u["frames"] for u in utts)
    audio_total = sum(u["audio_s"] for u in utts)
    compute_total = sum(u["elapsed_s"] for u in utts)
    ttfas = [u["ttfa_ms"] for u in utts if u["ttfa_ms"] is not None]
    per_frame = per_frame_ms(rec, stages, nfe, frames_total, compute_total)

    band = measure_bandwidth(s, prof, engine, log)
    read = roofline.graph_read_bytes(engine.manifest, engine.providers)
    steps = rec.measured("backbone")
    kv = median([c.kv_bytes for c in steps if c.length == 1])
    codec = codec_graph(rec)
    codec_calls = len(rec.measured(codec))
    codec_per_frame = codec_calls / frames_total if frames_total else 0.0
    bpf = roofline.per_frame(read, nfe, codec_per_frame, kv, codec)
    roof = roofline.roofline(bpf, band["gbs"], per_frame["graphs_total"], per_frame["wall_excl_prefill"],
                             stages["backbone_step"]["p50"] or 0.0)
    frame_rate = engine.config.frame_rate
    roof["floor_rtf"] = roof["floor_ms_per_frame"] * frame_rate / 1e3
    # The same floor at the profile's (quiet-machine) bandwidth: on a shared box the probe measures what is
    # left over by the neighbours, which flatters the fraction.
    ref = prof.hardware.memory_bandwidth_gbs
    roof["profile"] = roofline.roofline(bpf, ref, per_frame["graphs_total"], per_frame["wall_excl_prefill"],
                                        stages["backbone_step"]["p50"] or 0.0)
    rates = roofline.stage_rates(read, kv, codec_per_frame, stages, per_frame, band["gbs"],
                                 band.get("kernels", {}), band.get("ort", {}), codec)

    result = {
        "schema": SCHEMA,
        "machine": machine.machine_info(),
        "bundle": bundle_info(engine, s.bundle),
        "profile": {"name": prof.name, "intra_op_threads": rt.intra_op_threads, "inter_op_threads": rt.inter_op_threads,
                    "flow_steps": nfe, "first_chunk_frames": rt.first_chunk_frames,
                    "chunk_frames": rt.chunk_frames, "execution_providers": list(rt.execution_providers),
                    "model": prof.model.name, "precision": vars(prof.model.precision)},
        "providers": {k: list(v) for k, v in engine.providers.items()},
        "settings": {"utterances": s.utterances, "warmup": s.warmup, "max_frames": s.max_frames, "voice": voice,
                     "seed": s.seed, "verify": s.verify, "instrumented": sorted(engine.sessions),
                     "prefill_graph": "backbone_prefill" in engine.sessions},
        "load_s": load_s,
        "warmup_s": warmup_s,
        "ttfa_ms": summary(ttfas),
        "stall_ms": summary([u["stall_ms"] for u in utts]),
        "stalls_total": sum(u["stalls"] for u in utts),
        "rtf": {"aggregate": compute_total / audio_total if audio_total else None,
                "cpu_aggregate": sum(u["cpu_s"] for u in utts) / audio_total if audio_total else None,
                **summary([u["rtf"] for u in utts if u["rtf"] is not None])},
        "frames_total": frames_total,
        "audio_s_total": audio_total,
        "compute_s_total": compute_total,
        "stages_ms": stages,
        "per_frame_ms": per_frame,
        "ttfa_breakdown_ms": {**ttfa_breakdown(rec, len(utts)), "total": summary(ttfas)["p50"]},
        "memory": mem,
        "bandwidth": band,
        "roofline": roof,
        "stage_gbs": rates,
        "loadavg": {**quiet, "end_of_measurement": load1},
        "utterances": utts,
    }
    result["targets"] = targets.check(result, prof)
    return result


def codec_graph(rec: Recorder) -> str:
    """The codec graph the stream called: codec_step (a source_filter codec streamed statefully on the CPU) or the
    windowed codec_decoder."""
    return "codec_step" if rec.measured("codec_step") else "codec_decoder"


def stage_times(rec: Recorder, flow_steps: int = 1) -> dict[str, dict]:
    """Per-stage ms over the measured utterances (warm-up excluded). With the one-call Euler loop (flow_euler)
    `flow_step` is a frame's loop call over its steps, so it still means one velocity evaluation."""
    bb = rec.measured("backbone")
    codec = rec.measured(codec_graph(rec))
    loop = rec.measured("flow_euler")
    step = [c.ms / max(1, flow_steps) for c in loop] if loop else [c.ms for c in rec.measured("flow_velocity")]
    return {
        "backbone_prefill": summary([c.ms for c in bb if c.length > 1]),
        "backbone_step": summary([c.ms for c in bb if c.length == 1]),
        "flow_condition": summary([c.ms for c in rec.measured("flow_condition")]),
        "flow_step": summary(step),  # one velocity eval, B=2 CFG batch
        "flow_loop": summary([c.ms for c in loop]),  # a frame's whole ODE in one call (0 calls: per step)
        "flow_time": summary([c.ms for c in rec.measured("flow_time")]),  # 0 calls when the schedule is cached
        "codec_first_chunk": summary([c.ms for c in codec if c.index == 0]),
        "codec_chunk": summary([c.ms for c in codec if c.index > 0]),
    }


def per_frame_ms(rec: Recorder, stages: dict, flow_steps: int, frames: int, compute_s: float) -> dict:
    """Where one frame's time goes: stage medians x calls per frame, and the wall time per frame."""
    codec_ms = sum(c.ms for c in rec.measured(codec_graph(rec)))
    prefill_ms = sum(c.ms for c in rec.measured("backbone") if c.length > 1)
    parts = {
        "backbone_step": stages["backbone_step"]["p50"] or 0.0,
        "flow_condition": stages["flow_condition"]["p50"] or 0.0,
        "flow_velocity": (stages["flow_step"]["p50"] or 0.0) * flow_steps,
        "codec": codec_ms / frames if frames else 0.0,
    }
    parts["graphs_total"] = sum(parts.values())
    parts["wall_excl_prefill"] = (compute_s * 1e3 - prefill_ms) / frames if frames else 0.0
    parts["other"] = max(0.0, parts["wall_excl_prefill"] - parts["graphs_total"])  # NumPy glue, Python, queues
    return parts


def ttfa_breakdown(rec: Recorder, n_utts: int) -> dict[str, float]:
    """Median ms per graph spent before each utterance's first codec chunk returned (what TTFA is made of)."""
    per: dict[str, list[float]] = {}
    for u in range(n_utts):
        sums: dict[str, float] = {}
        for c in (c for c in rec.calls if c.utterance == u):
            key = ("backbone_prefill" if c.length > 1 else "backbone_step") if c.graph == "backbone" else c.graph
            sums[key] = sums.get(key, 0.0) + c.ms
            if c.graph in ("codec_decoder", "codec_step"):
                break
        for k, v in sums.items():
            per.setdefault(k, []).append(v)
    return {k: median(v) for k, v in per.items()}


# Rows of a flow step's weight MatMuls: the CFG pair x the velocity net's 3 tokens (x, time, llm) through every
# layer's Q/K/V and all but the last layer's wo and FFN (the last runs those for the x token alone: 2 rows).
FLOW_STEP_ROWS = 6


def bundle_kernels(manifest: Any) -> dict[str, str]:
    """Stage -> the probe key (bandwidth.kernel_key) of the kernel its weights run through: the backbone step a
    1-row GEMV, a flow step FLOW_STEP_ROWS rows, the codec its format (fp16 graphs run as fp32 on the CPU)."""
    from vox_edge.quantize.plan import plan_for

    def fmt(p: str) -> str:
        return p if p in bw.ORT_FORMATS else "fp32"

    graphs, specs = manifest.data["graphs"], manifest.data.get("precisions") or {}
    out = {}
    bb = graphs["backbone"]
    out["backbone_step"] = bw.kernel_key(fmt(bb["precision"]), bb.get("int4_block_size", 32),
                                         bb.get("int4_accuracy_level", 4), rows=1)
    fv = graphs.get("flow_velocity")
    if fv:
        block, acc = 32, 4
        if fv["precision"] == "int4":
            try:
                plan = plan_for("acoustic", specs.get("acoustic", "int4"), graph="flow_velocity")
                block, acc = plan.block_size, plan.accuracy_level
            except ValueError:  # a spec this version does not read: probe the default int4 kernel
                pass
        out["flow_step"] = bw.kernel_key(fmt(fv["precision"]), block, acc, rows=FLOW_STEP_ROWS)
    codec = graphs.get("codec_decoder") or graphs.get("codec_step")
    if codec:
        out["codec"] = fmt(codec["precision"])
    return out


def measure_bandwidth(s: BenchSettings, prof: DeviceProfile, engine: Any, log) -> dict:
    """The roofline's bandwidth at the bench's own thread count: a numpy read split over that many threads and, unless
    turned off, the stream rate of each kernel the bundle runs (ORT chains at that many intra-op threads). gbs is the
    best of them (floor_source says which): at two threads the single-thread numpy read is no floor."""
    if s.bandwidth_gbs:
        return {"gbs": float(s.bandwidth_gbs), "source": "given on the command line"}
    threads = prof.runtime.intra_op_threads
    kernels = bundle_kernels(engine.manifest) if s.ort_bandwidth else {}
    fmts = tuple(dict.fromkeys(kernels.values()))
    log(f"measuring memory bandwidth at {threads} thread(s) ({s.bandwidth_mb} MiB numpy read"
        f"{', kernels ' + ', '.join(fmts) if fmts else ''})")
    try:
        res = bw.measure_in_subprocess(s.bandwidth_mb, ort_formats=fmts, ort_mb=s.kernel_mb, threads=threads)
    except (RuntimeError, OSError, ValueError) as e:  # a failed probe must not lose the benchmark itself
        log(f"bandwidth probe failed ({e}); using the profile's {prof.hardware.memory_bandwidth_gbs} GB/s")
        return {"gbs": prof.hardware.memory_bandwidth_gbs,
                "source": f"profile {prof.name} ({prof.hardware.memory_bandwidth_source}); probe failed: {e}"}
    res["numpy_gbs"], res["gbs"], res["kernels"] = res["gbs"], res["floor_gbs"], kernels
    res["source"] = (f"measured at {threads} thread(s): best of a numpy float32 sum over {s.bandwidth_mb} MiB "
                     f"({res['numpy_gbs']:.1f} GB/s) and the bundle's kernels; best: {res['floor_source']}")
    return res


def bundle_info(engine: Any, path: Path) -> dict:
    m = engine.manifest
    cfg = m.config
    sizes = roofline.graph_file_bytes(m)
    return {
        "path": os.fspath(path),
        "precision_per_graph": {n: g.precision for n, g in m.graphs.items()},
        "precisions": m.data.get("precisions"),
        "graph_mb": {n: b / 2**20 for n, b in sizes.items()},
        "files_mb_total": sum(int(f["size"]) for f in m.data["files"].values()) / 2**20,
        "backbone": {k: m.data["graphs"]["backbone"].get(k) for k in ("attention", "kv_cache")},
        "dims": {"dim": cfg.dim, "n_layers": cfg.n_layers, "n_kv_heads": cfg.n_kv_heads, "head_dim": cfg.head_dim,
                 "acoustic_layers": cfg.acoustic.n_layers if hasattr(cfg, "acoustic") else None},
        "created": m.data.get("created"),
        "source": m.data.get("source"),
    }

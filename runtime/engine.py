"""The streaming engine: text -> audio chunks, NumPy + ONNX Runtime only (docs/design.md#runtime).

    engine = vox_edge.runtime.load("bundle/", profile="raspberry-pi-5")
    for chunk in engine.stream("Turn left in 200 meters.", voice="casual_male"):
        play(chunk.samples)                      # float32 PCM at chunk.sample_rate
    audio = engine.synthesize("Hello.")          # the same audio in one array

Per text segment: the bundle's pronunciation lexicon, if it has one (`tokenizer.lexicon`: the model was trained on
text that went through it) -> tokenizer -> prompt embeddings (text rows, [AUDIO] rows replaced by the voice)
-> backbone prefill (the voice prefix comes prefilled from a per-voice cache) -> per frame: flow_condition
(semantic argmax) -> flow ODE with CFG -> codes -> next input = sum of 37 code rows -> backbone step; END_AUDIO
stops the segment (the END frame is not decoded). Codes stream into the codec in small chunks with exact left context.

Thread safety: `stream` / `synthesize` may be called from any number of threads at once. All per-request
state (KV cache, noise, codec window) lives in the call; the shared parts are read-only after load
(memory-mapped tables, ONNX Runtime sessions, whose `run` is thread-safe) or filled once under a lock (voice
prefixes, time-condition cache). With the same options and seed a request gives the same audio whether it
runs alone or next to others. Concurrent requests share the sessions' CPU threads, so each one is slower.

Edge cases (documented behaviour): empty or whitespace-only text -> zero-length audio (stream yields one
empty chunk with is_last=True); text is split into segments and each segment's frames are capped
(`plan.frame_cap`), so any input length terminates; the whole call is held to the audio budget of its text as
written, with an AudioBudgetWarning when that cuts, and a run of codec silence ends a segment the model does not
end (`output_bounds`); control characters are dropped; emoji and other symbols are passed to the tokenizer like
any text; unknown or empty voice name -> VoiceError listing the voices.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import numpy as np

from vox_edge.config import (CFG_ALPHA_RANGE, DEFAULT_CFG_ALPHA, DEFAULT_MAX_AUDIO_SECONDS, DEFAULT_NOISE_SCALE,
                             DEFAULT_SILENCE_STOP_SECONDS, END_AUDIO, MAX_AUDIO_SECONDS_RANGE, MAX_FLOW_STEPS,
                             N_AUDIO_SPECIAL, NOISE_SCALE_RANGE, REPETITION_STOP_SECONDS_RANGE, SEED_RANGE,
                             SILENCE_STOP_SECONDS_RANGE,
                             SynthesisOptions)
from vox_edge.errors import AudioBudgetWarning, FlowStepsWarning, ProfileError, TokenizerError, VoiceError
from vox_edge.manifest import Manifest, load_manifest

from . import plan
from .backbone import Backbone, KVCache
from .codec_stream import CodecStream, SourceFilterStream, StepSourceFilterStream
from .embeddings import Embeddings, load_voice
from .flow import FlowHead
from .prefix_cache import Prefix, PrefixCache
from .source_filter import SplitCodec
from .sessions import CPU, SessionSettings, open_session
from .output_bounds import RepetitionRun, SilenceRun, audio_budget_frames
from .text.lexicon import Lexicon
from .text.user_lexicon import load as load_user_lexicon
from .tokenizer import TekkenTokenizer
from .wav import pcm16

if TYPE_CHECKING:  # imported where a profile is given: the profile reader needs tomllib (Python 3.11)
    from vox_edge.device_profiles import DeviceProfile

DEFAULT_FIRST_CHUNK_FRAMES = 2
# Steady-state chunk without a profile: every CPU device profile's 25 (2 s). Each chunk re-decodes the codec's left
# context, so larger chunks cost less per frame (v2 codec on the 20 benchmark prompts, 1 thread, 2-core VNNI EPYC:
# 1.29 ms of codec graph per frame at 12, 1.18 at 25); doubling from the first chunk keeps time to first audio.
DEFAULT_CHUNK_FRAMES = 25


@dataclass(frozen=True)
class AudioChunk:
    """A piece of the utterance, ready to play. Concatenating a call's chunks gives `synthesize`'s audio."""

    samples: np.ndarray  # [n] float32 PCM, nominally in [-1, 1] (not clipped)
    sample_rate: int
    index: int  # 0, 1, 2, ... within the call
    frames: int  # codec frames in this chunk (n = frames · samples_per_frame)
    segment: int  # index of the text segment it belongs to (-1: the empty closing chunk of an empty call)
    t_first: float | None  # seconds from the call's start to its first audio (time to first audio); None before
    elapsed: float  # seconds from the call's start (its first `next`) until this chunk was ready
    is_last: bool  # exactly one chunk per call has it (it may be empty)

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def pcm16(self) -> bytes:
        """16-bit little-endian PCM bytes (clipped to [-1, 1])."""
        return pcm16(self.samples)


@dataclass(frozen=True)
class Audio:
    """A whole utterance: the concatenated chunks plus what produced them."""

    samples: np.ndarray  # [n] float32
    sample_rate: int
    segments: tuple  # the text segments spoken, in order (str), and a plan.Break for each SSML silence
    codes: tuple[np.ndarray, ...]  # per segment: [T, 1+A] int64 codes in +2 space (END frame excluded)
    stopped: tuple[bool, ...]  # per segment: True if END_AUDIO ended it, False if a frame cap / budget did
    t_first: float | None  # time to first audio (s)
    elapsed: float  # total compute time (s)

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def rtf(self) -> float:
        """Real-time factor: compute time / audio time (< 1 is faster than real time)."""
        return self.elapsed / self.duration if self.duration else math.inf

    def pcm16(self) -> bytes:
        return pcm16(self.samples)


@dataclass(frozen=True)
class _Resolved:
    """SynthesisOptions with every None replaced (options > profile > model / built-in default)."""

    voice: str
    flow_steps: int
    cfg_alpha: float
    noise_scale: float
    max_frames: float  # math.inf = no call-wide budget
    first_chunk_frames: int
    chunk_frames: int
    lang: str
    normalize: bool
    text: dict  # the text front end's other options (ssml, lenient, lexicon)
    max_audio_seconds: float  # ceiling of the call's text-derived audio budget
    silence_stop_seconds: float  # 0 = no silence safety net
    repetition_stop_seconds: float  # 0 = no repetition safety net


class _Noise:
    """x0 rows for the call's generation steps, in order: injected rows, or a seeded stream (same values as
    drawing one [steps, A] block up front with the same seed)."""

    def __init__(self, n_acoustic: int, seed: int | None, rows: Any = None):
        self.n = n_acoustic
        self.rows = None
        if rows is not None:
            self.rows = np.asarray(rows, dtype=np.float32)
            if self.rows.ndim != 2 or self.rows.shape[1] != n_acoustic:
                raise ValueError(f"noise must be [steps, {n_acoustic}], got shape {self.rows.shape}")
        self.rng = np.random.default_rng(seed)
        self.used = 0
        # the source_filter renderer's noise (drawn per renderer frame, apart from x0): random when unseeded
        self.render_seed = secrets.randbits(31) if seed is None else seed & 0x7FFFFFFF

    @property
    def limit(self) -> float:
        return math.inf if self.rows is None else self.rows.shape[0]

    def take(self) -> np.ndarray:
        """-> [A] float32."""
        row = self.rows[self.used] if self.rows is not None else self.rng.standard_normal(self.n, dtype=np.float32)
        self.used += 1
        return row


class _Record:
    """What a call produced besides its chunks (filled as the call runs; `synthesize` reads it)."""

    def __init__(self) -> None:
        self.segments: list[str] = []
        self.codes: list[np.ndarray] = []
        self.stopped: list[bool] = []


class Engine:
    """A loaded bundle. Create with `vox_edge.runtime.load`; see the module docstring for thread safety."""

    def __init__(self, manifest: Manifest, profile: DeviceProfile | None = None, *, prefix_cache: bool = True,
                 flow_loop: bool = True, prefill_graph: bool = True,
                 open_graph: Callable[[str, Path], Any] | None = None):
        """open_graph(name, path) -> session: how each graph is opened (default: open_session with the profile's
        settings; `vox-edge check-ep`, the NPU export's calibration and the benchmarks' timing pass their own)."""
        if profile is not None and not _is_profile(profile):
            raise ProfileError(f"profile must be a vox_edge.device_profiles.DeviceProfile or None, got "
                               f"{type(profile).__name__}; `vox_edge.runtime.load` also takes a profile name or path.")
        self.manifest = manifest
        self.config = manifest.config
        self.profile = profile
        settings = SessionSettings.from_profile(profile)
        placed = manifest.cpu_placed  # graphs an NPU bundle keeps on the CPU itself (a qnn-htp codec_trunk)
        if placed:
            settings = dataclasses.replace(settings, cpu_graphs={**placed, **settings.cpu_graphs})
        self.session_settings = settings
        later = ("flow_velocity", "flow_euler") + (() if prefill_graph else ("backbone_prefill",))
        opener = open_graph or (lambda name, path: open_session(path, settings, graph=name))
        sessions = {name: opener(name, manifest.path(g.file)) for name, g in manifest.graphs.items()
                    if name not in later}
        # The frame's Euler loop as one graph call where the bundle has it and the flow runs on CPU (an ONNX Loop
        # is a CPU-provider op); otherwise one flow_velocity call per step. Only the graph used is loaded.
        loop = flow_loop and "flow_euler" in manifest.graphs and sessions["flow_condition"].get_providers()[0] == CPU
        flow = "flow_euler" if loop else "flow_velocity"
        sessions[flow] = opener(flow, manifest.path(manifest.graphs[flow].file))
        self.providers = {name: tuple(s.get_providers()) for name, s in sessions.items()}
        # Read-only view of the session of every graph in use (name -> session), for tools that inspect them.
        self.sessions: Mapping[str, Any] = MappingProxyType(sessions)
        cfg = self.config
        bb = manifest.graphs["backbone"]
        # a bundle's prompt graph (manifest backbone_prefill: same cache contract) runs prompts, the backbone frames
        self._backbone = Backbone(sessions["backbone"], cfg, bb.kv_cache, bb.static_shapes,
                                  prefill=sessions.get("backbone_prefill"))
        self._flow = FlowHead(sessions["flow_condition"], sessions["flow_time"], sessions.get("flow_velocity"),
                              cfg.n_acoustic_codebook, cfg.acoustic_codebook_size, euler=sessions.get("flow_euler"))
        # None: a bundle that carries codec_step alone (manifest schema 4), whose stream never calls the windowed graph
        self._codec_session = sessions.get("codec_decoder")
        if "codec_trunk" in sessions:  # a qnn-htp source_filter codec in two graphs (runtime/source_filter.py)
            self._codec_session = SplitCodec(sessions["codec_trunk"], sessions["codec_decoder"])
        # the stateful streaming codec (a source_filter bundle's optional codec_step) where it runs on the CPU, or
        # wherever it runs when the bundle has no windowed graph to fall back on
        step = sessions.get("codec_step")
        on_cpu = step is not None and step.get_providers()[0] == CPU
        self._codec_step = step if on_cpu or self._codec_session is None else None
        optional = manifest.graphs["codec_decoder"].optional_inputs if "codec_decoder" in manifest.graphs else ()
        self._codec_context_input = "context_frames" in optional  # istft/patch head: audio of the new frames only
        self._codec_render_from = "render_from" in optional  # source_filter head: parameters from a renderer frame
        self._emb = Embeddings(manifest)
        self.tokenizer = TekkenTokenizer.from_file(manifest.path(manifest.data["tokenizer"]["file"]))
        # words -> phonemes before the tokenizer, for a model trained that way; None (the release): text as is
        self.lexicon = Lexicon.from_file(manifest.path(manifest.lexicon)) if manifest.lexicon else None
        self._voice_rows: dict[str, np.ndarray] = {}
        self._prefixes = PrefixCache(self._build_prefix) if prefix_cache else None
        self._warned_below_floor = False  # a per-call flow_steps under the bundle's floor: warned once per engine
        rt = profile.runtime if profile is not None else None
        # KV positions per request (prompt + frames): the profile's budget, else the model's max_seq_len.
        self.max_context = int((rt.max_context if rt is not None else 0) or cfg.raw.get("max_seq_len", 65536))
        if "context" in manifest.target:  # an NPU bundle's KV cache has a fixed capacity
            self.max_context = min(self.max_context, int(manifest.target["context"]))
        # Codec frames re-decoded before each chunk: the codec's receptive field (exact and no more) unless the
        # profile asks for more; less would make chunk seams differ from one-shot audio.
        need = cfg.codec.min_left_context_frames
        asked = rt.codec_left_context_frames if rt is not None else None
        self._left_context = need if asked is None else int(asked)
        if self._left_context < need:
            raise ProfileError(f"codec_left_context_frames = {self._left_context} is less than this bundle's codec "
                               f"receptive field ({need} frames): chunked audio would differ from one-shot decode. "
                               "Remove the key from the profile (the bundle's minimum is used) or raise it.")

    # --- facts ---
    @property
    def voices(self) -> tuple[str, ...]:
        return tuple(sorted(self.manifest.voices))

    @property
    def default_voice(self) -> str:
        return self.manifest.default_voice

    @property
    def sample_rate(self) -> int:
        return self.config.sampling_rate

    @property
    def samples_per_frame(self) -> int:
        return self.config.samples_per_frame

    @property
    def min_flow_steps(self) -> int | None:
        """The fewest Euler steps per frame this bundle's model was measured to need (manifest
        `synthesis.min_flow_steps`), or None: no floor."""
        return self.manifest.min_flow_steps

    def flow_steps_for(self, flow_steps: int | None = None) -> int:
        """The Euler steps per frame a call with this `flow_steps` option runs: the option itself when given (even
        below the bundle's floor), else the profile's, else the model's default, either raised to the floor."""
        return self._resolve(None, {"flow_steps": flow_steps})[1].flow_steps

    # --- options ---
    def _resolve(self, options: SynthesisOptions | None, overrides: dict[str, Any]) -> tuple[SynthesisOptions, _Resolved]:
        o = options or SynthesisOptions()
        if overrides:
            o = dataclasses.replace(o, **overrides)  # TypeError on an unknown option name
        prof = dataclasses.asdict(self.profile.runtime) if self.profile is not None else {}  # its declared fields
        model = self.manifest.synthesis  # the bundle's measured defaults, under the profile's

        def pick(value, key, default):
            if value is not None:
                return value
            return prof[key] if prof.get(key) is not None else model.get(key, default)

        voice = self.default_voice if o.voice is None else o.voice  # "" is an unknown voice, not the default
        if voice not in self.manifest.voices:
            raise VoiceError(f"unknown voice {voice!r}; this bundle has: {', '.join(self.voices)}.")
        # The bundle's floor (synthesis.min_flow_steps) lifts a profile's steps (a speed preference, set for models
        # that tolerate few steps) and the model's default; a per-call value is what the caller asked for: honoured.
        floor = self.manifest.min_flow_steps or 1
        steps = int(pick(o.flow_steps, "flow_steps", self.config.acoustic.n_decoding_steps))
        if o.flow_steps is None:
            steps = max(steps, floor)
        elif 1 <= steps < floor and not self._warned_below_floor:
            self._warned_below_floor = True
            warnings.warn(f"flow_steps={steps} is below this bundle's min_flow_steps {floor} (the fewest its model was "
                          f"measured to need): running {steps} as asked; leave flow_steps unset for {floor} or more.",
                          FlowStepsWarning, stacklevel=3)
        r = _Resolved(
            voice=voice,
            flow_steps=steps,
            cfg_alpha=float(pick(o.cfg_alpha, "cfg_alpha", DEFAULT_CFG_ALPHA)),
            noise_scale=float(pick(o.noise_scale, "noise_scale", DEFAULT_NOISE_SCALE)),
            max_frames=math.inf if o.max_frames is None else int(o.max_frames),
            first_chunk_frames=int(pick(o.first_chunk_frames, "first_chunk_frames", DEFAULT_FIRST_CHUNK_FRAMES)),
            chunk_frames=int(pick(o.chunk_frames, "chunk_frames", DEFAULT_CHUNK_FRAMES)),
            lang=o.lang or plan.language_of_voice(voice),
            normalize=bool(o.normalize),
            text={"ssml": o.ssml, "lenient": bool(o.lenient_ssml), "voice_lang": plan.language_of_voice(voice),
                  "lexicon": o.lexicon or prof.get("lexicon")},
            max_audio_seconds=float(pick(o.max_audio_seconds, "max_audio_seconds", DEFAULT_MAX_AUDIO_SECONDS)),
            silence_stop_seconds=float(pick(o.silence_stop_seconds, "silence_stop_seconds", DEFAULT_SILENCE_STOP_SECONDS)),
            repetition_stop_seconds=float(pick(o.repetition_stop_seconds, "repetition_stop_seconds", 0.0)),
        )
        if o.seed is not None and (isinstance(o.seed, bool) or not isinstance(o.seed, int)
                                   or not SEED_RANGE[0] <= o.seed <= SEED_RANGE[1]):
            raise ValueError(f"seed must be None or an integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}], got {o.seed!r}")
        if not 1 <= r.flow_steps <= MAX_FLOW_STEPS:
            raise ValueError(f"flow_steps must be in [1, {MAX_FLOW_STEPS}], got {r.flow_steps}")
        for key, (lo, hi) in (("cfg_alpha", CFG_ALPHA_RANGE), ("noise_scale", NOISE_SCALE_RANGE),
                              ("max_audio_seconds", MAX_AUDIO_SECONDS_RANGE),
                              ("silence_stop_seconds", SILENCE_STOP_SECONDS_RANGE),
                              ("repetition_stop_seconds", REPETITION_STOP_SECONDS_RANGE)):
            value = getattr(r, key)
            if not lo <= value <= hi:  # also rejects NaN
                raise ValueError(f"{key} must be in [{lo}, {hi}], got {value}")
        if r.max_frames < 0 or r.first_chunk_frames < 1 or r.chunk_frames < 1:
            raise ValueError("max_frames must be >= 0 and chunk sizes >= 1")
        return o, r

    # --- prompt ---
    def _voice(self, name: str) -> np.ndarray:
        rows = self._voice_rows.get(name)
        if rows is None:  # a benign race: two threads may both load the same file; either copy is fine
            rows = load_voice(self.manifest, name)
            rows.setflags(write=False)
            self._voice_rows[name] = rows
        return rows

    def prompt_ids(self, segment: str, voice: str, lexicon: Lexicon | None = None) -> tuple[list[int], int]:
        """Prompt ids (docs/model.md#prompt-layout) for one (normalised) segment and the prefix length P (= N + 3: BOS, BEGIN_AUDIO,
        AUDIO×N, NEXT). A bundle with a lexicon tokenizes `lexicon.apply(segment)`, the text its model learned from."""
        lexicon = lexicon or self.lexicon  # a request's own: the bundle's plus its user lexicon's phonemes
        text_ids = self.tokenizer.encode(lexicon.apply(segment) if lexicon is not None else segment)
        if text_ids and max(text_ids) >= self._emb.vocab_rows:
            raise TokenizerError(f"token id {max(text_ids)} >= the bundle's {self._emb.vocab_rows} embedding rows: "
                                 "tekken.json and the bundle do not belong together. Re-export the bundle.")
        n = self._voice(voice).shape[0]
        return self.tokenizer.build_tts_prompt(text_ids, n), n + 3

    def _embed(self, ids: list[int], voice: str, start: int = 0) -> np.ndarray:
        """Embeddings of ids (which begin at prompt position `start`) -> [1, S, D]; [AUDIO] rows = voice rows."""
        e = self._emb.text(ids)  # [S, D]
        audio = [i for i, t in enumerate(ids) if t == self.tokenizer.audio_id]
        if audio:
            rows = self._voice(voice)  # [N, D]; [AUDIO] positions are 2..N+1 of the prompt
            e[audio] = rows[np.asarray(audio) + start - 2]
        return e[None]

    def _build_prefix(self, voice: str) -> Prefix:
        ids, p = self.prompt_ids("", voice)
        _, past = self._backbone.run(self._embed(ids[:p], voice), self._backbone.empty_past())
        return Prefix(tuple(ids[:p]), past)

    def _prefill(self, ids: list[int], p: int, voice: str, frames: int) -> tuple[np.ndarray, KVCache]:
        """Prompt ids (prefix length p) -> hidden of the last prompt token [1, D], the request's KV cache after the
        prompt, with room for `frames` more positions."""
        capacity = len(ids) + frames
        if self._prefixes is not None:
            kv = self._backbone.cache(self._prefixes.get(voice).past, capacity)
            hidden = kv.step(self._embed(ids[p:], voice, start=p))
        else:
            kv = self._backbone.cache(self._backbone.empty_past(), capacity)
            hidden = kv.step(self._embed(ids, voice))
        return hidden[:, -1], kv

    def warm_up(self, voices: list[str] | None = None, flow_steps: int | None = None) -> None:
        """Prefill voice prefixes and the time-condition cache now rather than in the first request."""
        for v in voices or [self.default_voice]:
            if self._prefixes is not None:
                self._prefixes.get(v)
        self._flow.time_schedule(self._resolve(None, {"flow_steps": flow_steps} if flow_steps else {})[1].flow_steps)

    # --- generation ---
    def stream(self, text: str, options: SynthesisOptions | None = None, **overrides: Any) -> Iterator[AudioChunk]:
        """Audio chunks as they are generated; the last one has is_last=True. Options as SynthesisOptions and/or
        keyword overrides (`voice=`, `seed=`, `flow_steps=`, `max_frames=`, `noise=`, ...)."""
        o, r = self._resolve(options, overrides)  # validate now, not at the first next()
        noise = _Noise(self.config.n_acoustic_codebook, o.seed, o.noise)
        return self._run(text, r, noise, _Record())

    def synthesize(self, text: str, options: SynthesisOptions | None = None, **overrides: Any) -> Audio:
        """The whole utterance (the concatenation of `stream`'s chunks)."""
        o, r = self._resolve(options, overrides)
        noise = _Noise(self.config.n_acoustic_codebook, o.seed, o.noise)
        rec = _Record()
        chunks = list(self._run(text, r, noise, rec))
        samples = np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.float32)
        width = self.config.n_codebooks
        return Audio(samples, self.sample_rate, tuple(rec.segments),
                     tuple(c if len(c) else np.zeros((0, width), np.int64) for c in rec.codes),
                     tuple(rec.stopped), chunks[-1].t_first if chunks else None, chunks[-1].elapsed if chunks else 0.0)

    def _codec_stream(self, r: _Resolved, render_seed: int) -> CodecStream | SourceFilterStream:
        """A fresh streaming decoder for one segment (a source_filter codec renders in NumPy after its graph)."""
        if self.config.codec.output_head == "source_filter":
            if self._codec_step is not None:
                return StepSourceFilterStream(self._codec_step, self._codec_session, self.config.codec,
                                              r.first_chunk_frames, r.chunk_frames, self._left_context, render_seed,
                                              self._codec_render_from)
            return SourceFilterStream(self._codec_session, self.config.codec, r.first_chunk_frames, r.chunk_frames,
                                      self._left_context, render_seed, self._codec_render_from)
        return CodecStream(self._codec_session, self.samples_per_frame, r.first_chunk_frames, r.chunk_frames,
                           self._left_context, self._codec_context_input)

    def _run(self, text: str, r: _Resolved, noise: _Noise, rec: _Record) -> Iterator[AudioChunk]:
        t0 = time.perf_counter()
        segments = plan.segments(text, r.lang, r.normalize, **r.text)
        # generation steps allowed for the whole call: max_frames, injected noise rows, the text's audio budget
        budget = audio_budget_frames(text, self.config.frame_rate, r.max_audio_seconds)
        total = min(r.max_frames, noise.limit, budget)
        sr, spf = self.sample_rate, self.samples_per_frame
        silence_frames = int(math.ceil(r.silence_stop_seconds * self.config.frame_rate))
        repetition_frames = int(math.ceil(r.repetition_stop_seconds * self.config.frame_rate))
        index, t_first = 0, None

        def chunk(samples: np.ndarray, seg: int, last: bool) -> AudioChunk:
            nonlocal index, t_first
            now = time.perf_counter() - t0
            if t_first is None and samples.size:
                t_first = now
            c = AudioChunk(samples, sr, index, samples.shape[0] // spf, seg, t_first, now, last)
            index += 1
            return c

        if not segments or total <= 0:
            rec.segments.extend(segments)
            yield chunk(np.zeros(0, np.float32), -1, True)
            return
        user = load_user_lexicon(r.text["lexicon"])  # its phoneme column, for a bundle with a phoneme lexicon
        lexicon = self.lexicon.with_entries(user.phonemes) if self.lexicon is not None and user is not None else None
        for si, seg in enumerate(segments):
            rec.segments.append(seg)
            if isinstance(seg, plan.Break):  # an exact silence (SSML <break>): no model call
                rec.codes.append(np.zeros((0, self.config.n_codebooks), np.int64))
                rec.stopped.append(True)
                yield chunk(np.zeros(seg.samples(sr), np.float32), si, si == len(segments) - 1)
                continue
            codec = self._codec_stream(r, (noise.render_seed * 1_000_003 + si) & 0x7FFFFFFF)
            frames: list[np.ndarray] = []
            stopped = False
            ids, p = self.prompt_ids(seg, r.voice, lexicon)
            room = self.max_context - len(ids)  # frame f sits at position prompt_len + f
            cap = int(max(0, min(plan.frame_cap(seg, self.config.frame_rate), total - noise.used, room)))
            h, kv = self._prefill(ids, p, r.voice, cap)  # h [1, D]
            silence = SilenceRun(silence_frames, spf)
            repetition = RepetitionRun(repetition_frames)
            for f in range(cap):
                x0 = noise.take()  # [A]; consumed by END steps too (docs/model.md#noise-contract)
                semantic, llm = self._flow.condition(h)
                if semantic == END_AUDIO:
                    stopped = True
                    break
                levels = self._flow.acoustic(llm, r.noise_scale * x0, r.flow_steps, r.cfg_alpha)  # [A] in 0..L-1
                codes = np.concatenate([[semantic], levels + N_AUDIO_SPECIAL]).astype(np.int64)  # [1+A], +2 space
                frames.append(codes)
                audio = codec.push(codes - N_AUDIO_SPECIAL)  # the codec takes -2 space
                if audio is not None:
                    yield chunk(audio, si, False)
                    if silence.feed(audio):  # the model fails to stop: end the segment as END_AUDIO would
                        break
                if repetition.feed(semantic):  # the model babbles one syllable: end the segment the same way
                    break
                if f + 1 < cap:  # the next frame's hidden (skipped after the last allowed frame)
                    h = kv.step(self._emb.codes(codes)[None, None])[:, -1]
            rec.codes.append(np.stack(frames) if frames else np.zeros((0, self.config.n_codebooks), np.int64))
            rec.stopped.append(stopped)
            last = si == len(segments) - 1 or noise.used >= total  # budget spent: the rest is not spoken
            if noise.used >= budget and (not stopped or si < len(segments) - 1):
                warnings.warn(f"the request's audio budget ({budget / self.config.frame_rate:g} s: from its {len(text)} "
                              f"characters as written, at most max_audio_seconds = {r.max_audio_seconds:g}) cut the "
                              "audio before the end of the text; split the text or raise max_audio_seconds.",
                              AudioBudgetWarning, stacklevel=2)
            tail = codec.flush()
            if tail.size or last:
                yield chunk(tail, si, last)
            if last:
                return


def _is_profile(profile: object) -> bool:
    from vox_edge.device_profiles import DeviceProfile

    return isinstance(profile, DeviceProfile)


def load(bundle: str | os.PathLike[str], profile: DeviceProfile | str | os.PathLike[str] | None = None,
         verify: str = "full", *, prefix_cache: bool = True, flow_loop: bool = True, prefill_graph: bool = True,
         open_graph: Callable[[str, Path], Any] | None = None) -> Engine:
    """Load a bundle directory once; reuse the Engine for every request.

    profile: None (CPU defaults), a bundled device-profile name ("raspberry-pi-5"), a .toml path, a
    `vox_edge.device_profiles.DeviceProfile`, or "auto" (the bundled profile matching this machine, if any). verify: "full" (sha256 of every file), "size", or "none".
    prefix_cache=False prefills the whole prompt per request (slower; for checking the cache).
    flow_loop=False runs the flow ODE as one flow_velocity call per Euler step even where the bundle has the
    one-call flow_euler graph (the same codes, ~1.2 ms more per frame on a 2-core x86 VM; for checking it).
    prefill_graph=False prefills prompts with the backbone even where the bundle has a backbone_prefill graph (which
    is then not loaded: for measuring what it gains).
    open_graph(name, path) -> session replaces how each graph is opened (see Engine).
    """
    if profile == "auto":
        from vox_edge.device_profiles import host_profile

        profile = host_profile()
    elif isinstance(profile, (str, os.PathLike)):
        from vox_edge.device_profiles import load_profile

        profile = load_profile(profile)
    if verify not in ("full", "size", "none"):
        raise ValueError(f"verify must be 'full', 'size' or 'none', got {verify!r}")
    return Engine(load_manifest(Path(bundle), verify=verify), profile, prefix_cache=prefix_cache, flow_loop=flow_loop,
                  prefill_graph=prefill_graph, open_graph=open_graph)

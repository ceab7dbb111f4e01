"""The backbone graph with an explicit KV cache (contract: manifest.GRAPH_IO["backbone"], manifest.KV_CACHES).

    inputs_embeds [1,S,D] f32, [past_length int64 [1]], past_key_values.{i}.key/value [1,KV,P|C,hd]
      -> hidden_states [1,S,D] (final-normed), present.{i}.key/value [1,KV,P+S|C,hd]

Positions are P..P+S-1, so prefix prefill, suffix prefill and one-frame decode steps are all the same call.
A request holds its cache in a `KVCache` made by `Backbone.cache(past, capacity)`:
  grow    (kv_cache "grow") presents are new arrays each call; P is read from the past's shape.
  static  (kv_cache "static", NPU bundles) a fixed-shape graph run in chunks of S positions: runtime/static_cache.py.
  shared  (kv_cache "shared") one [1,KV,capacity,hd] buffer per layer and kind, bound as both past and present
          (GroupQueryAttention writes the new rows in place); P comes as `past_length`. No cache copy per step
          (-13 % per decode step of the small model at P = 70-200 on the 2-core AVX2 VM) and one copy of the
          cache in memory instead of past + present.
Either way the starting past (a cached voice prefix) is only read, never written, which is what lets one prefix
serve concurrent requests.

A bundle may add a second graph for prompts (manifest `backbone_prefill`, e.g. INT8 beside an INT4 backbone: 4-bit
MatMulNBits is compute-bound at S > 1). It shares only the cache contract, so a call with S >= PREFILL_MIN_POSITIONS
runs it and a one-position decode step runs the backbone, on the same cache (grow: the arrays it returned; shared:
the same buffers, bound to both sessions). The voice prefix is prefilled by it too and stays cached as before.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from vox_edge.config import ModelConfig
from vox_edge.errors import ManifestError
from vox_edge.manifest import PAST_LENGTH, STATIC_KV_INPUTS, graph_io

_NP_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
PREFILL_MIN_POSITIONS = 2  # a call with at least this many positions runs the prefill graph, when there is one

Past = tuple[np.ndarray, ...]  # 2·n_layers arrays [1,KV,P,hd] in contract order (every layer's key, then every value)


class Backbone:
    def __init__(self, session: ort.InferenceSession, cfg: ModelConfig, kv_cache: str = "grow",
                 static_shapes: bool = False, prefill: ort.InferenceSession | None = None):
        if static_shapes and kv_cache != "static":
            raise ManifestError("the bundle's backbone graph has fixed shapes, but the engine feeds it prompts of any "
                                "length and single frames. Re-export the bundle without static shapes for the backbone.")
        if prefill is not None and kv_cache == "static":
            raise ManifestError("backbone_prefill with a static (NPU) cache: re-export the bundle without it.")
        self._sess, self._cfg, self.kv_cache = session, cfg, kv_cache
        self._prefill = prefill  # the prompt graph (same cache contract), or None
        self.in_place = kv_cache == "shared"
        names, self._out_names = graph_io("backbone", cfg.n_layers, kv_cache)  # hidden_states, present.0.key, ...
        self._embeds_name = names[0]
        self._past_names = [n for n in names[1:] if n != PAST_LENGTH and n not in STATIC_KV_INPUTS]
        types = {i.name: i.type for i in session.get_inputs()}
        self._kv_dtype = _NP_TYPES.get(types.get(self._past_names[0], "tensor(float)"), np.float32)
        self._kv_shape = (1, cfg.n_kv_heads, 0, cfg.head_dim)
        # hidden_states as float32 from every graph: an in-place cache binds it to an array of its own per step
        self._hidden_f32 = all({o.name: o.type for o in s.get_outputs()}.get(self._out_names[0]) == "tensor(float)"
                               for s in (session, prefill) if s is not None)

    @property
    def has_prefill_graph(self) -> bool:
        return self._prefill is not None

    def session_for(self, positions: int) -> ort.InferenceSession:
        """The graph a call of `positions` positions runs: the prefill graph for a prompt, when the bundle has one."""
        if self._prefill is not None and positions >= PREFILL_MIN_POSITIONS:
            return self._prefill
        return self._sess

    def empty_past(self) -> Past:
        return tuple(np.zeros(self._kv_shape, self._kv_dtype) for _ in self._past_names)

    @staticmethod
    def past_length(past: Past) -> int:
        return int(past[0].shape[2])

    def cache(self, past: Past, capacity: int = 0) -> "KVCache":
        """A request's cache starting from `past` (read, never written). `capacity`: the most positions it will
        hold (prompt + frames); an in-place cache allocates that much, a growing one ignores it."""
        if self.kv_cache == "static":
            from .static_cache import StaticCache  # NPU bundles only

            return StaticCache(self._sess, self._cfg, self._embeds_name, self._past_names, self._out_names, past)
        return _SharedCache(self, past, capacity) if self.in_place else _GrowCache(self, past)

    def run(self, embeds: np.ndarray, past: Past) -> tuple[np.ndarray, Past]:
        """embeds [1,S,D] float32, past (P positions) -> hidden [1,S,D] float32, presents (P+S positions, new arrays)."""
        kv = self.cache(past, self.past_length(past) + embeds.shape[1])
        hidden = kv.step(embeds)
        return hidden, kv.past()


class KVCache:
    """One request's KV cache; `step` runs the backbone on the next positions and keeps their keys and values."""

    length: int  # positions held

    def step(self, embeds: np.ndarray) -> np.ndarray:  # [1,S,D] -> hidden [1,S,D] float32
        raise NotImplementedError

    def past(self) -> Past:
        """The cache as arrays [1,KV,length,hd] (copies for an in-place cache)."""
        raise NotImplementedError


class _GrowCache(KVCache):
    def __init__(self, bb: Backbone, past: Past):
        self._bb, self._past = bb, tuple(past)
        self.length = Backbone.past_length(past)

    def step(self, embeds: np.ndarray) -> np.ndarray:
        bb = self._bb
        feed = {bb._embeds_name: np.ascontiguousarray(embeds, dtype=np.float32)}
        feed.update(zip(bb._past_names, self._past))
        outs = bb.session_for(embeds.shape[1]).run(bb._out_names, feed)
        self._past = tuple(outs[1:])
        self.length = Backbone.past_length(self._past)
        return outs[0].astype(np.float32, copy=False)

    def past(self) -> Past:
        return self._past


class _SharedCache(KVCache):
    def __init__(self, bb: Backbone, past: Past, capacity: int):
        self._bb = bb
        self.length = Backbone.past_length(past)
        self.capacity = max(int(capacity), self.length, 1)
        shape = (1, bb._kv_shape[1], self.capacity, bb._kv_shape[3])
        # np.zeros pages are only touched as rows are written: a generous capacity costs address space, not memory
        self._bufs = [np.zeros(shape, bb._kv_dtype) for _ in bb._past_names]
        for buf, src in zip(self._bufs, past):
            buf[:, :, :self.length] = src
        # one binding per graph (the prefill graph's too), both bound to the same buffers
        values = [ort.OrtValue.ortvalue_from_numpy(buf) for buf in self._bufs]  # wrap the arrays' memory
        graphs = [bb._sess] + ([bb._prefill] if bb._prefill is not None else [])
        self._bindings = {id(sess): self._bind(sess, values) for sess in graphs}

    def _bind(self, sess: ort.InferenceSession, values: list) -> object:
        bb = self._bb
        binding = sess.io_binding()
        # hidden_states first: get_outputs() lists outputs in binding order (re-bound each step, in place: S varies)
        binding.bind_output(bb._out_names[0], "cpu")
        for value, name, out in zip(values, bb._past_names, bb._out_names[1:]):
            binding.bind_ortvalue_input(name, value)  # past and present are the same buffer
            binding.bind_ortvalue_output(out, value)
        return binding

    def step(self, embeds: np.ndarray) -> np.ndarray:
        s = embeds.shape[1]
        if self.length + s > self.capacity:
            raise RuntimeError(f"KV cache full: {self.length} + {s} positions > capacity {self.capacity}")
        sess = self._bb.session_for(s)
        b = self._bindings[id(sess)]
        embeds = np.ascontiguousarray(embeds, dtype=np.float32)  # both are bound by reference: alive until the run
        length = np.array([self.length], np.int64)
        b.bind_cpu_input(self._bb._embeds_name, embeds)
        b.bind_cpu_input(PAST_LENGTH, length)
        if self._bb._hidden_f32:
            # the step's hidden in an array of its own, bound as the output: get_outputs() would wrap all 1 + 2L
            # bound outputs (the cache's too) in new OrtValues on every step, ~0.1 ms a frame at 10 layers
            hidden = np.empty((1, s, embeds.shape[2]), np.float32)
            b.bind_ortvalue_output(self._bb._out_names[0], ort.OrtValue.ortvalue_from_numpy(hidden))
            sess.run_with_iobinding(b)
            self.length += s
            return hidden
        b.bind_output(self._bb._out_names[0], "cpu")  # unallocated: ORT allocates [1,S,D] for this run
        sess.run_with_iobinding(b)
        self.length += s
        return b.get_outputs()[0].numpy().astype(np.float32, copy=False)

    def past(self) -> Past:
        return tuple(buf[:, :, :self.length].copy() for buf in self._bufs)

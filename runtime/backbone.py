"""The backbone graph with an explicit KV cache (contract: manifest.GRAPH_IO["backbone"]).

    inputs_embeds [1,S,D] f32, past_key_values.{i}.key/value [1,KV,P,hd]
      -> hidden_states [1,S,D] (final-normed), present.{i}.key/value [1,KV,P+S,hd]

Positions are P..P+S-1, read by the graph from the past's length, so prefix prefill, suffix prefill and
one-frame decode steps are all the same call. Presents are new arrays each call (never written in place),
which is what lets a cached voice prefix be shared by concurrent requests.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from vox_edge.config import ModelConfig
from vox_edge.manifest import GRAPH_IO, expand_io

_NP_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

Past = tuple[np.ndarray, ...]  # 2·n_layers arrays in contract order (layer 0 key, layer 0 value, layer 1 key, ...)


class Backbone:
    def __init__(self, session: ort.InferenceSession, cfg: ModelConfig):
        self._sess = session
        self._in_names = expand_io(GRAPH_IO["backbone"][0], cfg.n_layers)  # inputs_embeds, past.0.key, past.0.value, ...
        self._out_names = expand_io(GRAPH_IO["backbone"][1], cfg.n_layers)  # hidden_states, present.0.key, ...
        types = {i.name: i.type for i in session.get_inputs()}
        self._kv_dtype = _NP_TYPES.get(types.get(self._in_names[1], "tensor(float)"), np.float32)
        self._kv_shape = (1, cfg.n_kv_heads, 0, cfg.head_dim)

    def empty_past(self) -> Past:
        return tuple(np.zeros(self._kv_shape, self._kv_dtype) for _ in self._in_names[1:])

    @staticmethod
    def past_length(past: Past) -> int:
        return int(past[0].shape[2])

    def run(self, embeds: np.ndarray, past: Past) -> tuple[np.ndarray, Past]:
        """embeds [1,S,D] float32, past (P positions) -> hidden [1,S,D] float32, presents (P+S positions)."""
        feed = {self._in_names[0]: np.ascontiguousarray(embeds, dtype=np.float32)}
        feed.update(zip(self._in_names[1:], past))
        outs = self._sess.run(self._out_names, feed)
        return outs[0].astype(np.float32, copy=False), tuple(outs[1:])

"""A request's KV cache for a fixed-shape NPU backbone (manifest kv_cache "static", export/npu_graphs.py).

The graph takes S positions per call against a cache of capacity C: the runtime keeps one [1,KV,C,hd] buffer per
layer and kind, feeds it read-only, and writes the S new rows the graph returns at P..P+S-1. Positions reach the
graph as its RoPE tables (rope_cos / rope_sin [S,hd], the backbone's adjacent-pair layout) and an additive mask
[S,C+S]: past column j is visible while j < P, new column C+j to query row i while j <= i. A prompt is fed in
chunks of S; a shorter chunk (a single frame) is right-padded, its padded rows are computed and dropped.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from vox_edge.config import ModelConfig
from vox_edge.errors import ManifestError
from vox_edge.manifest import MASK_VALUE

F32 = np.float32


def rope_tables(cfg: ModelConfig, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos, sin [len(positions), hd] float32: angle p·theta^(-2d/hd) repeated for each pair (the backbone's RoPE)."""
    d = np.arange(0, cfg.head_dim, 2, dtype=F32)
    inv = (F32(1) / (F32(cfg.rope_theta) ** (d / F32(cfg.head_dim)))).astype(F32)
    ang = positions.astype(F32)[:, None] * np.repeat(inv, 2)[None, :]
    return np.cos(ang).astype(F32), np.sin(ang).astype(F32)


def attention_mask(length: int, seq_len: int, context: int) -> np.ndarray:
    """[S, C+S] float32: 0 where query row i (position length+i) may look, MASK_VALUE elsewhere."""
    mask = np.full((seq_len, context + seq_len), F32(MASK_VALUE), F32)
    mask[:, :length] = 0
    mask[:, context:][np.tril(np.ones((seq_len, seq_len), bool))] = 0
    return mask


class StaticCache:
    """KVCache protocol of runtime/backbone.py: `step(embeds)` -> hidden, `past()`, `length`."""

    def __init__(self, session: ort.InferenceSession, cfg: ModelConfig, embeds_name: str, past_names: list[str],
                 out_names: list[str], past: tuple[np.ndarray, ...]):
        shapes = {i.name: i.shape for i in session.get_inputs()}
        self.seq_len, self.capacity = int(shapes[embeds_name][1]), int(shapes[past_names[0]][2])
        self._sess, self._cfg = session, cfg
        self._embeds_name, self._past_names, self._out_names = embeds_name, past_names, out_names
        self.length = int(past[0].shape[2]) if past else 0
        if self.length > self.capacity:
            raise ManifestError(f"a cached prefix of {self.length} positions does not fit this bundle's fixed KV "
                                f"capacity of {self.capacity}; re-export with a larger --context.")
        shape = (1, cfg.n_kv_heads, self.capacity, cfg.head_dim)
        self._bufs = [np.zeros(shape, F32) for _ in past_names]
        for buf, src in zip(self._bufs, past):
            buf[:, :, :self.length] = src

    def step(self, embeds: np.ndarray) -> np.ndarray:
        """embeds [1,n,D] -> hidden [1,n,D] float32, n any length (chunks of S)."""
        n, s = embeds.shape[1], self.seq_len
        if self.length + n > self.capacity:
            raise RuntimeError(f"KV cache full: {self.length} + {n} positions > this bundle's fixed capacity "
                               f"{self.capacity} (its export's --context); use shorter requests or re-export.")
        hidden = []
        for c0 in range(0, n, s):
            chunk = embeds[:, c0:c0 + s]
            k = chunk.shape[1]
            padded = np.zeros((1, s, embeds.shape[2]), F32)
            padded[:, :k] = chunk
            cos, sin = rope_tables(self._cfg, np.arange(self.length, self.length + s))
            feed = {self._embeds_name: padded, "attention_mask": attention_mask(self.length, s, self.capacity),
                    "rope_cos": cos, "rope_sin": sin, **dict(zip(self._past_names, self._bufs))}
            outs = self._sess.run(self._out_names, feed)
            for buf, rows in zip(self._bufs, outs[1:]):
                buf[:, :, self.length:self.length + k] = rows[:, :, :k]
            self.length += k
            hidden.append(outs[0][:, :k])
        return np.concatenate(hidden, axis=1).astype(F32, copy=False)

    def past(self) -> tuple[np.ndarray, ...]:
        return tuple(buf[:, :, :self.length].copy() for buf in self._bufs)

"""Input embeddings looked up in NumPy: text rows, voice rows and the sum-of-37 audio code rows
(docs/model.md#prompt-layout, docs/model.md#codes).

The two tables are memory-mapped from the bundle's `arrays/*.npy`, so a 400 MB text table costs only
the pages of the rows actually used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vox_edge.config import ModelConfig
from vox_edge.errors import ManifestError, VoiceError
from vox_edge.manifest import Manifest


def _load_table(path: Path, rows: int, dim: int, what: str) -> np.ndarray:
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ManifestError(f"{path}: unreadable .npy ({e}). Re-export the bundle.") from None
    if a.ndim != 2 or a.shape[1] != dim or a.shape[0] < rows:
        raise ManifestError(f"{path}: {what} has shape {a.shape}, expected [>= {rows}, {dim}]. Re-export the bundle.")
    return a


def _load_scale(path: Path, table: np.ndarray) -> np.ndarray:
    """An int8 table's float32 scale per row ([rows])."""
    try:
        scale = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ManifestError(f"{path}: unreadable .npy ({e}). Re-export the bundle.") from None
    if table.dtype != np.int8 or scale.dtype != np.float32 or scale.shape != (table.shape[0],):
        raise ManifestError(f"{path}: an int8 table's scale must be float32 [{table.shape[0]}] beside an int8 table, "
                            f"got {scale.dtype} {scale.shape} beside {table.dtype}. Re-export the bundle.")
    return scale


class Embeddings:
    """Text / audio-code embedding lookups; read-only after construction, so safe to share across threads."""

    def __init__(self, manifest: Manifest):
        cfg: ModelConfig = manifest.config
        arrays = manifest.data["arrays"]
        self.dim = cfg.dim
        self.tok = _load_table(manifest.path(arrays["tok_embeddings"]["file"]), 1, cfg.dim, "tok_embeddings")
        entry = arrays["audio_codebook_embeddings"]
        self.audio = _load_table(manifest.path(entry["file"]), cfg.audio_embedding_rows_used, cfg.dim,
                                 "audio_codebook_embeddings")
        # an int8 table (manifest dtype "int8", schema 4): row r is audio[r] * audio_scale[r]
        self.audio_scale = _load_scale(manifest.path(entry["scale"]), self.audio) if "scale" in entry else None
        self.offsets = np.asarray(cfg.codebook_offsets, dtype=np.int64)  # [37]

    @property
    def vocab_rows(self) -> int:
        return int(self.tok.shape[0])

    def text(self, ids: list[int]) -> np.ndarray:
        """ids [S] -> [S, D] float32."""
        return np.asarray(self.tok[np.asarray(ids, dtype=np.int64)], dtype=np.float32)

    def codes(self, codes: np.ndarray) -> np.ndarray:
        """codes [37] in +2 space -> next backbone input [D] float32 = sum of 37 rows (float32 sum, as the reference)."""
        idx = self.offsets + codes
        rows = np.asarray(self.audio[idx], dtype=np.float32)  # [37, D]
        if self.audio_scale is not None:
            rows *= self.audio_scale[idx][:, None]
        return blocked_row_sum(rows)


def blocked_row_sum(rows: np.ndarray) -> np.ndarray:
    """rows [n, D] float32 -> [D], added in the order PyTorch's CPU `sum(dim=-2)` uses, so the next backbone
    input is bit-identical to the reference's (a plain sequential sum differs by ~1e-6 and can flip a near-tie).

    Order: sequential sums of blocks of `step` rows, folded into a 4-level cascade of partial sums; the
    tail rows form their own partial sum, and the levels are added to it at the end.
    """
    n = rows.shape[0]
    levels = 4
    power = max(4, (int(np.ceil(np.log2(n))) if n > 1 else 0) // levels)
    step, mask = 1 << power, (1 << power) - 1
    acc = [np.zeros(rows.shape[1], np.float32) for _ in range(levels)]
    i = 0
    while i + step <= n:
        acc[0] = acc[0] + np.add.reduce(rows[i:i + step], axis=0)  # numpy reduces axis 0 row by row
        i += step
        for j in range(1, levels):
            acc[j] = acc[j] + acc[j - 1]
            acc[j - 1] = np.zeros_like(acc[0])
            if i & (mask << (j * power)):
                break
    if i < n:
        acc[0] = acc[0] + np.add.reduce(rows[i:], axis=0)
    for j in range(1, levels):
        acc[0] = acc[0] + acc[j]
    return acc[0]


def load_voice(manifest: Manifest, name: str) -> np.ndarray:
    """voices/<name>.npy -> [N, D] float32; VoiceError listing the bundle's voices if `name` is unknown."""
    voices = manifest.voices
    if name not in voices:
        raise VoiceError(f"unknown voice {name!r}; this bundle has: {', '.join(sorted(voices))}.")
    path = manifest.path(voices[name])
    try:
        v = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise VoiceError(f"{path}: unreadable voice file ({e}). Re-export the bundle.") from None
    if v.ndim != 2 or v.shape[1] != manifest.config.dim or v.shape[0] < 1:
        raise VoiceError(f"{path}: voice {name!r} has shape {v.shape}, expected [N, {manifest.config.dim}]. "
                         "Re-export the bundle.")
    return np.ascontiguousarray(v, dtype=np.float32)

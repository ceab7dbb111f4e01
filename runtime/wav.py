"""16-bit PCM mono WAV output with the standard library's `wave` module, written chunk by chunk.

The file is written to `<name>.partial` and renamed when complete, so an interrupted run never leaves a
truncated WAV under the requested name.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from vox_edge.errors import VoxEdgeError


def pcm16(samples: np.ndarray) -> bytes:
    """float32 [-1, 1] -> little-endian int16 bytes (clipped; round to nearest)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


class WavWriter:
    """with WavWriter(path, 24000) as w: w.write(chunk_samples) ..."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int):
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        try:
            self._w = wave.open(str(self._tmp), "wb")
        except OSError as e:
            raise VoxEdgeError(f"cannot write {self.path}: {e.strerror or e}. Choose a writable --out path.") from None
        self._w.setnchannels(1)
        self._w.setsampwidth(2)
        self._w.setframerate(int(sample_rate))
        self.frames = 0

    def write(self, samples: np.ndarray) -> None:
        self._w.writeframes(pcm16(samples))
        self.frames += int(samples.shape[0])

    def close(self, keep: bool = True) -> None:
        self._w.close()
        if keep:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "WavWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(keep=exc_type is None)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> Path:
    with WavWriter(path, sample_rate) as w:
        w.write(samples)
    return Path(path)

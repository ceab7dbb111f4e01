"""16-bit PCM mono WAV output with the standard library's `wave` module, written chunk by chunk.

The file is written to `<name>.partial` and renamed when complete, so an interrupted run never leaves a
truncated WAV under the requested name. The writer holds an exclusive lock on its `.partial` (POSIX `flock`; the
kernel drops it when the process dies, even by SIGKILL): a `.partial` left by a killed run is unlocked and is
truncated and reused by the next run to the same name, while one that another live run is writing is refused.
`check_output_path` says what is wrong with a path before any audio is made.
"""

from __future__ import annotations

import os
import stat
import wave
from pathlib import Path

import numpy as np

from vox_edge.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; the rename still keeps the final name whole
    fcntl = None  # type: ignore[assignment]

PARTIAL_SUFFIX = ".partial"


def pcm16(samples: np.ndarray) -> bytes:
    """float32 [-1, 1] -> little-endian int16 bytes (clipped; round to nearest)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def partial_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path.with_name(path.name + PARTIAL_SUFFIX)


def check_output_path(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """OutputError unless `path` can become a file: an existing regular file or a new name in a writable folder."""
    text = os.fspath(path)
    p = Path(text)
    if not text or text.endswith(os.sep) or p.is_dir():
        raise OutputError(f"{flag} {text}: is a directory; name a file, e.g. {os.path.join(text or '.', 'speech.wav')}.")
    if p.exists() and not stat.S_ISREG(p.stat().st_mode):
        raise OutputError(f"{flag} {text}: not a regular file (a device or pipe); name a file.")
    folder = p.parent
    if not folder.is_dir():
        raise OutputError(f"{flag} {text}: folder {folder} does not exist; create it first or choose another path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{flag} {text}: no permission to write in {folder}; choose a writable path.")
    return p


class WavWriter:
    """with WavWriter(path, 24000) as w: w.write(chunk_samples) ..."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int):
        self.path = check_output_path(path)
        self._tmp = partial_path(self.path)
        try:
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as e:
            raise OutputError(f"cannot write {self.path}: {e.strerror or e}. Choose a writable --out path.") from None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise OutputError(f"{self.path}: another vox-edge run is writing it right now (its {self._tmp.name} "
                                      "is locked); wait for it or choose another --out.") from None
            os.ftruncate(fd, 0)  # a stale .partial of a killed run is reused from empty
            self._file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        self._w = wave.open(self._file, "wb")
        self._w.setnchannels(1)
        self._w.setsampwidth(2)
        self._w.setframerate(int(sample_rate))
        self.frames = 0

    def write(self, samples: np.ndarray) -> None:
        self._w.writeframes(pcm16(samples))
        self.frames += int(samples.shape[0])

    def close(self, keep: bool = True) -> None:
        """keep: finish the header and rename to the final name; else delete the partial file. Idempotent."""
        if self._file.closed:
            return
        try:
            try:
                self._w.close()  # patches the header sizes (leaves our file object open); always, so that
            except OSError:      # wave's __del__ has nothing left to write
                if keep:
                    raise
            if keep:
                self._file.flush()
                os.replace(self._tmp, self.path)  # still under our lock: nobody reuses the partial meanwhile
            else:
                self._tmp.unlink(missing_ok=True)
        except OSError as e:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write {self.path}: {e.strerror or e}. Choose a writable --out path.") from None
        finally:
            self._file.close()

    def __enter__(self) -> "WavWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(keep=exc_type is None)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> Path:
    with WavWriter(path, sample_rate) as w:
        w.write(samples)
    return Path(path)

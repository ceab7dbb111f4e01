"""Random crops of teacher audio for codec training, from the growing teacher manifest.

- Reads ~/.cache/vox-edge/teacher/manifest.jsonl, skips clips with `rejected: true` (ASR filter) and the
  fixed held-out ids, and re-reads it every `reload_s` seconds so clips generated meanwhile join in.
  Clips the ASR filter has not scored yet are used (about 4 % get rejected later).
- A crop is `frames` codec frames of `samples_per_frame` samples, read straight from the FLAC
  (no audio cache: memory stays flat however many hours the teacher produces), or with `preload` from every
  clip decoded once into memory (a GPU run takes hundreds of crops a second; a packed set of a few hours is
  ~0.35 GB per hour in float32, see codec/pack.py).
- Clips are drawn with probability proportional to duration, so every second of audio is equally likely.
  Clips shorter than the crop are zero-padded on the right (the codec must also learn silence).

CLI: `python -m training.codec.data` prints what a training run would see.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import soundfile as sf
import torch

DEFAULT_TEACHER = os.path.expanduser("~/.cache/vox-edge/teacher")
# Fixed codec eval clips: every 30th of the first 300 training-split ids. Never trained on by the codec.
HELDOUT_IDS = tuple(f"tr{i:06d}" for i in range(0, 300, 30))


def read_manifest(path: str) -> list[dict]:
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # torn last line while the teacher appends
    except FileNotFoundError:
        pass
    return rows


class TeacherCrops:
    def __init__(self, root: str = DEFAULT_TEACHER, sr: int = 24000, reload_s: float = 300.0,
                 heldout: tuple[str, ...] = HELDOUT_IDS, seed: int = 0, preload: bool = False):
        self.root, self.sr, self.reload_s, self.heldout = root, sr, reload_s, set(heldout)
        self.rng = np.random.default_rng(seed)
        self.preload = preload
        self.audio: dict[str, np.ndarray] = {}  # clip id -> waveform, only with preload
        self.clips: list[dict] = []
        self.loaded_at = -1e9
        self.refresh()

    def refresh(self) -> None:
        rows = read_manifest(os.path.join(self.root, "manifest.jsonl"))
        keep = [r for r in rows if not r.get("rejected") and r["id"] not in self.heldout and r.get("sr") == self.sr
                and os.path.exists(os.path.join(self.root, r["path"]))]
        if keep:
            if self.preload:
                self.audio = {r["id"]: self.audio.get(r["id"]) if r["id"] in self.audio else
                              sf.read(os.path.join(self.root, r["path"]), dtype="float32", always_2d=False)[0]
                              for r in keep}
            self.clips = keep
            dur = np.array([r["duration"] for r in keep], dtype=np.float64)
            self.p = dur / dur.sum()
        self.stats = {"clips": len(self.clips), "hours": round(sum(r["duration"] for r in self.clips) / 3600, 3),
                      "rejected": sum(bool(r.get("rejected")) for r in rows),
                      "unscored": sum("rejected" not in r for r in keep)}
        self.loaded_at = time.monotonic()

    def maybe_refresh(self) -> bool:
        if time.monotonic() - self.loaded_at >= self.reload_s:
            before = len(self.clips)
            self.refresh()
            return len(self.clips) != before
        return False

    def crop(self, r: dict, n: int) -> np.ndarray:
        path = os.path.join(self.root, r["path"])
        wav = self.audio.get(r["id"]) if self.preload else None
        total = len(wav) if wav is not None else sf.info(path).frames
        start = int(self.rng.integers(0, total - n + 1)) if total > n else 0
        if wav is not None:
            x = wav[start: start + n]
        else:
            x, _ = sf.read(path, start=start, frames=n, dtype="float32", always_2d=False)
        return np.pad(x, (0, n - len(x))) if len(x) < n else x

    def batch(self, batch: int, n_samples: int) -> torch.Tensor:
        """[batch, n_samples] float32 crops."""
        if not self.clips:
            raise RuntimeError(f"no usable teacher clips under {self.root}")
        idx = self.rng.choice(len(self.clips), size=batch, p=self.p)
        return torch.from_numpy(np.stack([self.crop(self.clips[i], n_samples) for i in idx]))

    def utterances(self, batch: int, max_s: float, spf: int) -> tuple[torch.Tensor, torch.Tensor, list[dict]]:
        """Whole clips of at most max_s seconds (for the CTC head, which needs the clip's full phoneme string),
        drawn uniformly: (waves [batch, N] zero-padded to a multiple of spf, valid frames [batch], manifest rows)."""
        short = [i for i, r in enumerate(self.clips) if r["duration"] <= max_s and r.get("phonemes")]
        if not short:
            raise RuntimeError(f"no teacher clips of at most {max_s} s with phonemes under {self.root}")
        rows = [self.clips[short[i]] for i in self.rng.choice(len(short), size=batch)]
        waves = [sf.read(os.path.join(self.root, r["path"]), dtype="float32")[0] for r in rows]
        frames = torch.tensor([-(-len(w) // spf) for w in waves])
        n = int(frames.max()) * spf
        return torch.from_numpy(np.stack([np.pad(w, (0, n - len(w))) for w in waves])), frames, rows

    def rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


class AlignedCodeCrops:
    """Frame-aligned (codes, audio) crops: codes[f0 : f0 + F] of a clip with the samples they stand for,
    [f0 * spf, (f0 + F) * spf). For the decoder to learn from codes it did not encode itself (tts/gta.py: what the
    stage-3 model says for each training clip). Clips drawn in proportion to their frames, as TeacherCrops."""

    def __init__(self, codes: dict[str, np.ndarray], root: str = DEFAULT_TEACHER, spf: int = 1920,
                 heldout: tuple[str, ...] = HELDOUT_IDS, seed: int = 0):
        rows = {r["id"]: r for r in read_manifest(os.path.join(root, "manifest.jsonl"))}
        self.items = [(rows[i], c) for i, c in sorted(codes.items())
                      if i in rows and i not in heldout and not rows[i].get("rejected") and len(c)
                      and os.path.exists(os.path.join(root, rows[i]["path"]))]
        if not self.items:
            raise RuntimeError(f"none of the {len(codes)} coded clips is a usable teacher clip under {root}")
        n = np.array([len(c) for _, c in self.items], dtype=np.float64)
        self.p, self.root, self.spf = n / n.sum(), root, spf
        self.rng = np.random.default_rng(seed)

    def batch(self, batch: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(codes [batch, frames, 1 + n_ac] int64 -2 space, audio [batch, frames * spf] float32); short clips are
        padded with their last frame's codes and silence."""
        codes, waves = [], []
        for k in self.rng.choice(len(self.items), size=batch, p=self.p):
            r, c = self.items[k]
            f0 = int(self.rng.integers(0, len(c) - frames + 1)) if len(c) > frames else 0
            cc = c[f0: f0 + frames]
            codes.append(np.concatenate([cc, np.repeat(cc[-1:], frames - len(cc), 0)]))
            x, _ = sf.read(os.path.join(self.root, r["path"]), start=f0 * self.spf, frames=frames * self.spf,
                           dtype="float32", always_2d=False)
            waves.append(np.pad(x, (0, frames * self.spf - len(x))))
        return torch.from_numpy(np.stack(codes).astype(np.int64)), torch.from_numpy(np.stack(waves))

    def rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def heldout_clips(root: str = DEFAULT_TEACHER, ids: tuple[str, ...] = HELDOUT_IDS) -> list[tuple[dict, np.ndarray]]:
    """(manifest row, full waveform) of the held-out clips that exist and were not rejected."""
    rows = {r["id"]: r for r in read_manifest(os.path.join(root, "manifest.jsonl"))}
    out = []
    for i in ids:
        r = rows.get(i)
        if r and not r.get("rejected") and os.path.exists(os.path.join(root, r["path"])):
            out.append((r, sf.read(os.path.join(root, r["path"]), dtype="float32")[0]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", default=DEFAULT_TEACHER)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--spf", type=int, default=1920, help="samples per codec frame")
    args = ap.parse_args()
    ds = TeacherCrops(args.teacher)
    print("train:", ds.stats)
    print("held-out:", [r["id"] for r, _ in heldout_clips(args.teacher)])
    t = time.perf_counter()
    x = ds.batch(args.batch, args.frames * args.spf)
    print(f"batch {tuple(x.shape)} rms {x.pow(2).mean().sqrt():.4f} in {1000 * (time.perf_counter() - t):.1f} ms")


if __name__ == "__main__":
    main()

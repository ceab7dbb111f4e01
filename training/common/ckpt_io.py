"""Checkpoint files of the recipe: atomic writes, and loads that also read the gzip-compressed compact files.

torch.save stores tensors uncompressed; fp16 weights still shrink ~7 % under zlib (the exponent bytes repeat),
which is what keeps the committed codec checkpoint under 15 MB. Compressed files are plain gzip
around a torch.save stream, so `gzip -dc f.pt.gz > f.pt` recovers an ordinary checkpoint.
"""

from __future__ import annotations

import gzip
import io
import os

import torch

GZIP_MAGIC = b"\x1f\x8b"


def load(path: str) -> dict:
    """torch.load on CPU of a plain or gzip-compressed checkpoint (recognised by content, not by name); matrices
    stored as int8 rows ("model_int8", see int8_rows) come back in "model" as float32."""
    with open(path, "rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    if compressed:
        with gzip.open(path, "rb") as f:
            obj = torch.load(io.BytesIO(f.read()), map_location="cpu", weights_only=False)
    else:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(obj, dict) and "model_int8" in obj:
        obj["model"] = {**obj.get("model", {}), **{k: from_int8_rows(v) for k, v in obj.pop("model_int8").items()}}
    return obj


def int8_rows(t: torch.Tensor) -> dict:
    """A matrix as symmetric int8 per row + a float32 scale per row: a quarter of fp32, within half a step of it.
    For committed states a later run continues from (the optimiser's moments are not kept anyway)."""
    t = t.detach().float().cpu()
    scale = t.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    return {"q": torch.round(t / scale).to(torch.int8), "scale": scale}


def from_int8_rows(d: dict) -> torch.Tensor:
    return d["q"].float() * d["scale"]


def serialize(obj, compress: bool = False) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    # mtime=0: the same weights give the same bytes (the committed file only changes when its content does)
    return gzip.compress(buf.getvalue(), compresslevel=9, mtime=0) if compress else buf.getvalue()


def atomic_save(obj, path: str, compress: bool = False, keep_prev: bool = True) -> None:
    """Write tmp, fsync, then swap in; with keep_prev the replaced file survives as *.prev.pt, and `path`
    exists at every instant (a hard link carries the old content over to .prev before the final rename)."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(serialize(obj, compress))
        f.flush()
        os.fsync(f.fileno())
    if keep_prev and os.path.exists(path):
        link = path + ".old"
        if os.path.exists(link):
            os.remove(link)
        os.link(path, link)
        os.replace(link, prev_path(path))
    os.replace(tmp, path)


def prev_path(path: str) -> str:
    return path[:-3] + ".prev.pt"

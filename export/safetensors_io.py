"""Minimal safetensors header reader and a *streaming* writer.

Why not the `safetensors` package for writing: `save_file` needs every tensor in memory at once,
and the full-size synthetic checkpoint (8 GB) must be written with < 2 GB RSS. The format is a
u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
Reading tensors goes through `safetensors.safe_open` (memory-mapped).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch

from vox_edge.errors import CheckpointError

DTYPE_NAMES = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
DTYPE_SIZES = {"BF16": 2, "F16": 2, "F32": 4, "I64": 8, "I32": 4, "F64": 8, "U8": 1, "I8": 1}


def read_header(path: Path) -> dict[str, dict]:
    """{name: {"dtype", "shape", "data_offsets"}} without reading tensor data; typed error if corrupt."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            if n <= 0 or n > min(size - 8, 100_000_000):
                raise ValueError(f"header length {n} does not fit a {size}-byte file")
            header = json.loads(f.read(n))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing. Put consolidated.safetensors in the checkpoint directory.") from None
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors file ({e}). Re-download or regenerate it.") from None
    header.pop("__metadata__", None)
    end = max((v["data_offsets"][1] for v in header.values()), default=0)
    if 8 + n + end > size:
        raise CheckpointError(f"{path}: truncated ({size} bytes, header promises {8 + n + end}). Re-download it.")
    return header


ChunkFn = Callable[[], Iterator[torch.Tensor]]


def write_streaming(path: Path, specs: Iterable[tuple[str, tuple[int, ...], torch.dtype, ChunkFn]],
                    progress: Callable[[str], None] | None = None) -> None:
    """Write tensors one chunk at a time. specs: (name, shape, dtype, fn yielding row-chunks in order).

    Written to `path.tmp` and renamed, so an interrupted write never leaves a valid-looking file.
    """
    specs = list(specs)
    header, offset = {}, 0
    for name, shape, dtype, _ in specs:
        nbytes = DTYPE_SIZES[DTYPE_NAMES[dtype]]
        for s in shape:
            nbytes *= s
        header[name] = {"dtype": DTYPE_NAMES[dtype], "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)  # 8-byte alignment of the data section
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name, shape, dtype, chunks in specs:
            written = 0
            for c in chunks():
                c = c.to(dtype).contiguous()
                b = c.view(torch.uint8).numpy().tobytes() if c.numel() else b""
                f.write(b)
                written += len(b)
            exp = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            if written != exp:
                raise RuntimeError(f"{name}: wrote {written} bytes, expected {exp}")
            if progress:
                progress(name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

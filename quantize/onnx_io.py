"""Saving ONNX models: weights go to one external-data file once they approach protobuf's 2 GB cap."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

import onnx

# Inline below this many initializer bytes. protobuf cannot serialise >= 2 GiB, and the quantisers hold
# a second copy while rewriting, so the full-size acoustic head (1.6 GB in FP32) already goes external.
EXTERNAL_DATA_THRESHOLD = 1 << 30


def initializer_bytes(model: onnx.ModelProto) -> int:
    total = 0
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            total += next((int(e.value) for e in t.external_data if e.key == "length"), 0)
        else:
            total += len(t.raw_data) or t.ByteSize()
    return total


def save_model(model: onnx.ModelProto, path: str | Path, external: bool | None = None) -> list[Path]:
    """Write `model` to `path` (+ `path`.data when external); returns the files written.

    external=None decides by size. A stale .data file from an earlier run is removed first, because
    onnx appends to an existing external-data file.
    """
    path = Path(path)
    data = path.with_name(path.name + ".data")
    if data.exists():
        data.unlink()
    if external is None:
        external = initializer_bytes(model) >= EXTERNAL_DATA_THRESHOLD
    tmp = path.with_name(path.name + ".tmp")
    if external:
        onnx.save_model(model, tmp, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data.name, size_threshold=1024, convert_attribute=False)
    else:
        onnx.save_model(model, tmp)
    os.replace(tmp, path)
    return [path, data] if external else [path]


def move_model(src: str | Path, dst: str | Path) -> list[Path]:
    """Rename a model and its external data. The data file keeps its name, which the model refers to,
    so only a change of folder is allowed."""
    src, dst = Path(src), Path(dst)
    if src.name != dst.name:
        raise ValueError(f"move_model keeps the file name ({src.name} -> {dst.name}): the model names its data file")
    out = []
    data, dst_data = src.with_name(src.name + ".data"), dst.with_name(dst.name + ".data")
    if data.exists():
        os.replace(data, dst_data)
        out.append(dst_data)
    elif dst_data.exists():  # left by an earlier export of this graph
        dst_data.unlink()
    os.replace(src, dst)
    return [dst] + out


def load_model(path: str | Path, with_data: bool = True) -> onnx.ModelProto:
    return onnx.load(str(path), load_external_data=with_data)


@contextmanager
def quiet_root_logger(level: int = logging.ERROR):
    """ORT's quantisers log advice ("consider pre-processing") on the root logger for every graph."""
    root = logging.getLogger()
    old = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(old)

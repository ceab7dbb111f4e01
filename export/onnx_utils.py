"""Small tools for writing ONNX graphs by hand, with weights streamed to one external-data file.

Why by hand: the full-size backbone (3.4B parameters) must be written on a 24 GiB machine without ever
holding an FP32 copy of the model. `ExternalData` appends each weight to `<graph>.onnx.data` as soon as it
is made and keeps only a small TensorProto that points at it; `TensorReader` reads one checkpoint tensor
at a time with plain file reads (no mmap, so pages read do not stay in our RSS).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from vox_edge.errors import CheckpointError
from vox_edge.manifest import PRECISIONS

MS_DOMAIN = "com.microsoft"
EXTERNAL_ALIGN = 4096  # page-aligned offsets let ORT map each weight straight from the file
INLINE_BELOW = 1024  # bytes; smaller constants stay inside the .onnx file

_ST_DTYPES = {"BF16": np.uint16, "F16": np.float16, "F32": np.float32}


# --------------------------------------------------------------------------------------------
# Reading checkpoint tensors
# --------------------------------------------------------------------------------------------
def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    """uint16 BF16 bit patterns -> float32 (exact: BF16 is the top half of an FP32)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


class TensorReader:
    """Reads tensors of a safetensors file one at a time (or in row ranges) as float32 NumPy arrays."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        self.header: dict[str, dict[str, Any]] = header
        self._data_start = 8 + n
        self._fd = os.open(self.path, os.O_RDONLY)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "TensorReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._meta(name)["shape"])

    def _meta(self, name: str) -> dict[str, Any]:
        if name not in self.header:
            raise CheckpointError(f"{self.path}: no tensor '{name}'.")
        return self.header[name]

    def rows(self, name: str, r0: int, r1: int) -> np.ndarray:
        """Rows [r0, r1) of a tensor (axis 0), as float32 (float16 stays float16 only if stored so)."""
        meta = self._meta(name)
        shape = tuple(meta["shape"])
        dt = _ST_DTYPES.get(meta["dtype"])
        if dt is None:
            raise CheckpointError(f"{self.path}: tensor '{name}' has dtype {meta['dtype']}; expected BF16/F16/F32.")
        per_row = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
        itemsize = np.dtype(dt).itemsize
        start = self._data_start + meta["data_offsets"][0] + r0 * per_row * itemsize
        out = np.empty((r1 - r0) * per_row, dtype=dt)
        view = memoryview(out).cast("B")
        got = 0
        while got < view.nbytes:  # pread may return short reads for very large requests
            n = os.preadv(self._fd, [view[got:]], start + got)
            if n <= 0:
                raise CheckpointError(f"{self.path}: truncated while reading '{name}'. Re-download the checkpoint.")
            got += n
        out = bf16_to_f32(out) if meta["dtype"] == "BF16" else out.astype(np.float32, copy=False)
        return out.reshape((r1 - r0,) + shape[1:]) if shape else out.reshape(())

    def f32(self, name: str) -> np.ndarray:
        shape = self.shape(name)
        return self.rows(name, 0, shape[0] if shape else 1).reshape(shape)


# --------------------------------------------------------------------------------------------
# Writing graphs with external data
# --------------------------------------------------------------------------------------------
class ExternalData:
    """Appends tensors to one data file and returns TensorProtos that reference them (data never kept)."""

    def __init__(self, path: Path, align: int = EXTERNAL_ALIGN, inline_below: int = INLINE_BELOW):
        self.path = Path(path)
        self.align, self.inline_below = align, inline_below
        self._f = open(self.path, "wb")
        self.nbytes = 0

    def tensor(self, name: str, array: np.ndarray) -> TensorProto:
        array = np.ascontiguousarray(array)
        if array.nbytes < self.inline_below:
            return onnx.numpy_helper.from_array(array, name)
        pad = -self._f.tell() % self.align
        if pad:
            self._f.write(b"\0" * pad)
        offset = self._f.tell()
        self._f.write(array.data)  # little-endian on every platform we build on
        t = TensorProto()
        t.name = name
        t.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        t.dims.extend(array.shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", self.path.name), ("offset", str(offset)), ("length", str(array.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.nbytes = self._f.tell()
        return t

    def close(self) -> None:
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()


class GraphBuilder:
    """Collects nodes, initializers and I/O; names intermediate values uniquely."""

    def __init__(self, data: ExternalData):
        self.data = data
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._count: dict[str, int] = {}
        self.domains: set[str] = set()

    def fresh(self, stem: str) -> str:
        n = self._count.get(stem, 0)
        self._count[stem] = n + 1
        return f"{stem}" if n == 0 else f"{stem}_{n}"

    def input(self, name: str, elem: int, shape: Sequence[int | str]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        return name

    def output(self, name: str, elem: int, shape: Sequence[int | str]) -> None:
        self.outputs.append(helper.make_tensor_value_info(name, elem, list(shape)))

    def weight(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.data.tensor(name, array))
        return name

    def const(self, stem: str, value: Any, dtype=np.int64) -> str:
        """A small inline constant (shapes, axes, scalars)."""
        name = self.fresh(stem)
        self.initializers.append(onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], n_out: int = 1, name: str | None = None,
           outputs: Sequence[str] | None = None, domain: str = "", **attrs) -> Any:
        """Add one node; returns its output name (or a list of names when n_out > 1)."""
        stem = name or op_type.lower()
        node_name = self.fresh(stem)
        outs = list(outputs) if outputs is not None else [f"{node_name}/out{i}" if n_out > 1 else f"{node_name}/out"
                                                           for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=node_name, domain=domain or None, **attrs))
        if domain:
            self.domains.add(domain)
        return outs if len(outs) > 1 else outs[0]

    def model(self, graph_name: str, opset: int, doc: str = "", metadata: dict[str, str] | None = None) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in sorted(self.domains)]
        m = helper.make_model(graph, opset_imports=opsets, producer_name="vox-edge", doc_string=doc)
        m.ir_version = 10  # readable by onnxruntime >= 1.18 (the runtime's floor)
        for k, v in (metadata or {}).items():
            p = m.metadata_props.add()
            p.key, p.value = k, v
        return m


def save_model(model: onnx.ModelProto, path: Path) -> None:
    """Write the graph proto only (weights already sit in the external-data file)."""
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
        f.flush()
        os.fsync(f.fileno())


# --------------------------------------------------------------------------------------------
# Linear layers in each weight precision
# --------------------------------------------------------------------------------------------


# int8 weights use 7 bits (|q| <= 63, ORT's "reduce_range"). On x86 without AVX-512 VNNI (AMD Zen 1-3, Intel
# before Cascade Lake / Ice Lake) ONNX Runtime's U8S8 kernels multiply with VPMADDUBSW, which sums pairs of
# u8 x s8 products into a saturating int16: 255 * 127 * 2 overflows it, 255 * 63 * 2 does not. Measured on an
# AVX2-only EPYC: full-range weights broke the int8 parity rung (semantic / acoustic / +-1 agreement
# 0.92 / 0.61 / 0.86 against FP32; 1.00 / 0.95 / 1.00 on AVX-512 VNNI), 7-bit weights restored it (1.00 / 0.91 /
# 1.00). VNNI and ARM kernels accumulate in int32, so the 8th bit only buys precision there.
INT8_WEIGHT_MAX = 63


def quantize_int8_per_channel(w: np.ndarray, qmax: int = INT8_WEIGHT_MAX) -> tuple[np.ndarray, np.ndarray]:
    """w [N, K] f32 -> (q [K, N] int8, scale [N] f32); symmetric, one scale per output channel, |q| <= qmax."""
    amax = np.abs(w).max(axis=1)
    scale = np.where(amax > 0, amax / float(qmax), 1.0).astype(np.float32)
    q = np.empty(w.shape, dtype=np.int8)
    tmp = w / scale[:, None]
    np.rint(tmp, out=tmp)
    np.clip(tmp, -qmax, qmax, out=tmp)
    q[...] = tmp
    return np.ascontiguousarray(q.T), scale


def quantize_int4_blocks(w: np.ndarray, block_size: int, symmetric: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """w [N, K] f32 -> MatMulNBits (B [N, k_blocks, block/2] u8, scales [N, k_blocks] f32, zero_points or None).

    Uses onnxruntime's own packing kernel, so the layout is exactly what MatMulNBits reads.
    """
    from onnxruntime.capi._pybind_state import quantize_matmul_4bits

    n, k = w.shape
    k_blocks = -(-k // block_size)
    wt = np.zeros((k_blocks * block_size, n), dtype=np.float32)  # [K_padded, N], as ORT's helper expects
    wt[:k] = w.T
    packed = np.zeros((n, k_blocks, block_size // 2), dtype=np.uint8)
    scales = np.zeros((n, k_blocks), dtype=np.float32)
    zero_points = np.zeros((n, -(-k_blocks // 2)), dtype=np.uint8)
    quantize_matmul_4bits(packed, wt, scales, zero_points, block_size, n, k, symmetric)
    return packed, scales, (None if symmetric else zero_points)


class Linear:
    """Emits y = x @ W.T for W [N, K] in one weight precision.

    fp32: MatMul.  fp16: weights stored FP16, MatMul in FP16 between Casts (real FP16 GEMM on GPU EPs;
    ORT's CPU EP folds the weight back to FP32 at load).  int8: DynamicQuantizeMatMul with symmetric
    per-output-channel int8 weights (U8S8 VNNI path on x86).  int4: MatMulNBits (block-wise along K).
    """

    def __init__(self, precision: str, int4_block_size: int = 32, int4_accuracy_level: int = 4,
                 int4_symmetric: bool = True):
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} not in {PRECISIONS}")
        if int4_block_size < 16 or int4_block_size & (int4_block_size - 1):
            raise ValueError("int4 block size must be a power of two >= 16")
        self.precision = precision
        self.block, self.accuracy, self.symmetric = int4_block_size, int4_accuracy_level, int4_symmetric

    def __call__(self, gb: GraphBuilder, x: str, w: np.ndarray, name: str) -> str:
        n, k = w.shape
        p = self.precision
        if p == "fp32":
            return gb.op("MatMul", [x, gb.weight(name, np.ascontiguousarray(w.T))], name=name)
        if p == "fp16":
            w16 = gb.weight(name, np.ascontiguousarray(w.T).astype(np.float16))
            x16 = gb.op("Cast", [x], name=name + "/cast_in", to=TensorProto.FLOAT16)
            y16 = gb.op("MatMul", [x16, w16], name=name)
            return gb.op("Cast", [y16], name=name + "/cast_out", to=TensorProto.FLOAT)
        if p == "int8":
            q, scale = quantize_int8_per_channel(w)
            return gb.op("DynamicQuantizeMatMul", [x, gb.weight(name + ".q8", q), gb.weight(name + ".scale", scale)],
                         name=name, domain=MS_DOMAIN)
        packed, scales, zp = quantize_int4_blocks(w, self.block, self.symmetric)
        ins = [x, gb.weight(name + ".q4", packed), gb.weight(name + ".scales", scales)]
        if zp is not None:
            ins.append(gb.weight(name + ".zero_points", zp))
        return gb.op("MatMulNBits", ins, name=name, domain=MS_DOMAIN, K=k, N=n, bits=4,
                     block_size=self.block, accuracy_level=self.accuracy)

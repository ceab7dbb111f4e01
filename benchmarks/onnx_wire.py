"""A minimal ONNX model writer (protobuf wire format by hand) for the bandwidth probe's MatMul chains.

The bench may import only numpy + onnxruntime, so it cannot use the `onnx` package to build a graph; a
chain of MatMuls needs only a handful of message types, written here field by field (onnx.proto numbers).
"""

from __future__ import annotations

import numpy as np

# TensorProto.DataType values used here
FLOAT, UINT8, INT8 = 1, 2, 3
_NP_TO_ONNX = {np.dtype(np.float32): FLOAT, np.dtype(np.uint8): UINT8, np.dtype(np.int8): INT8}
IR_VERSION = 8


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are sent as their two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _str(field: int, s: str) -> bytes:
    return _bytes(field, s.encode())


def tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian, as numpy stores it here)."""
    a = np.ascontiguousarray(array)
    msg = b"".join(_int(1, d) for d in a.shape) + _int(2, _NP_TO_ONNX[a.dtype]) + _str(8, name)
    return msg + _bytes(9, a.tobytes())


def value_info(name: str, elem_type: int, shape: tuple[int | str, ...]) -> bytes:
    """ValueInfoProto(name=1, type=2 -> TypeProto.tensor_type=1 -> elem_type=1, shape=2 -> dim=1)."""
    dims = b"".join(_bytes(1, _str(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    ttype = _int(1, elem_type) + _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, ttype))


def node(op_type: str, inputs: list[str], outputs: list[str], name: str, domain: str = "",
         int_attrs: dict[str, int] | None = None) -> bytes:
    """NodeProto: input=1, output=2, name=3, op_type=4, attribute=5 (INT type=2, i=3), domain=7."""
    msg = b"".join(_str(1, i) for i in inputs) + b"".join(_str(2, o) for o in outputs)
    msg += _str(3, name) + _str(4, op_type)
    for k, v in (int_attrs or {}).items():
        msg += _bytes(5, _str(1, k) + _int(3, v) + _int(20, 2))
    return msg + (_str(7, domain) if domain else b"")


def model(nodes: list[bytes], initializers: list[bytes], inputs: list[bytes], outputs: list[bytes],
          opsets: dict[str, int]) -> bytes:
    """ModelProto: ir_version=1, opset_import=8 (domain=1, version=2), graph=7 (node=1, name=2,
    initializer=5, input=11, output=12)."""
    graph = b"".join(_bytes(1, n) for n in nodes) + _str(2, "bw_chain")
    graph += b"".join(_bytes(5, t) for t in initializers)
    graph += b"".join(_bytes(11, v) for v in inputs) + b"".join(_bytes(12, v) for v in outputs)
    ops = b"".join(_bytes(8, _str(1, d) + _int(2, v)) for d, v in opsets.items())
    return _int(1, IR_VERSION) + ops + _str(2, "vox-edge-bench") + _bytes(7, graph)

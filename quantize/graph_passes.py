"""Small ONNX rewrites: make exported graphs quantisable by every tool; conv weights and lookup tables as int8."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper


def gemm_to_matmul(model: onnx.ModelProto) -> int:
    """Rewrite bias-free Gemm(x, W, transB=1) with a constant W into MatMul(x, Wᵀ). Returns the count.

    The dynamo exporter emits Gemm for a Linear on a 2-D input and MatMul on 3-D inputs. ORT's
    quantize_dynamic and MatMulNBitsQuantizer only quantise MatMul; the two run equally fast in FP32.
    """
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    users: dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    n_done = 0
    for idx, node in enumerate(list(g.node)):
        if node.op_type != "Gemm" or len(node.input) != 2 or node.input[1] not in inits:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("alpha", 1.0) != 1.0 or attrs.get("transA", 0) != 0:
            continue
        w_name = node.input[1]
        w = numpy_helper.to_array(inits[w_name])  # [N, K] when transB else [K, N]
        if attrs.get("transB", 0):
            w = w.T.copy()
        new_name = w_name + ".T" if attrs.get("transB", 0) else w_name
        if new_name != w_name:
            g.initializer.append(numpy_helper.from_array(w, new_name))
            if users.get(w_name, 0) == 1:
                g.initializer.remove(inits[w_name])
        mm = helper.make_node("MatMul", [node.input[0], new_name], list(node.output), name=node.name)
        g.node.remove(node)
        g.node.insert(idx, mm)
        n_done += 1
    return n_done


def weight_matmuls(model: onnx.ModelProto) -> list[tuple[onnx.NodeProto, tuple[int, ...], str]]:
    """(node, weight shape [K, N], weight name) for every MatMul whose second input is an initializer."""
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    return [(n, shapes[n.input[1]], n.input[1]) for n in model.graph.node
            if n.op_type == "MatMul" and n.input[1] in shapes and len(shapes[n.input[1]]) == 2]


def toposort(model: onnx.ModelProto) -> None:
    """Reorder the main graph's nodes so each comes after its producers (onnx.checker requires it).

    onnxruntime.transformers.float16 appends its input Casts at the end of the node list.
    """
    g = model.graph
    ready = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    pending = list(g.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        rest = []
        for n in pending:
            if all(i in ready for i in n.input):
                ordered.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError(f"graph has a cycle or a missing input (first stuck node: {rest[0].name})")
        pending = rest
    del g.node[:]
    g.node.extend(ordered)


CONV_OPS = ("Conv", "ConvTranspose")
CONV_WEIGHT_STORES = ("int8", "fp16")
CONV_WEIGHT_MIN_ELEMENTS = 1024  # smaller conv weights stay FP32 (the scales would cost more than they save)


def compress_conv_weights(model: onnx.ModelProto, store: str = "int8", op_types: tuple[str, ...] = CONV_OPS,
                          min_elements: int = CONV_WEIGHT_MIN_ELEMENTS) -> list[str]:
    """Store constant FP32 Conv / ConvTranspose weights compactly, weight-only; returns the names rewritten.

    store='int8': W = Cast(W_int8) · scale, symmetric ([-127, 127]) with one FP32 scale per output channel
    (axis 0 of a Conv weight [M, C/g, k…], axis 1 of a ConvTranspose weight [C, M/g, k…]; with group > 1
    that axis is shared by the groups: coarser, still exact in form). store='fp16': W = Cast(W_fp16).
    Each weight keeps its name as the output of the new nodes, so the FP32 Conv is unchanged and its
    activations stay FP32. ORT's constant folding (graph_optimization_level basic and above: every device
    profile) evaluates the Cast / Mul once at session load, so the file shrinks 4x (2x) while the kernels,
    and their speed, are those of the FP32 graph.

    A graph pass, because ORT's quantisers do not offer this (measured on the example bundle's codec
    decoder, quantize/README.md "Conv weights of the codec"):
    * quantize_dynamic turns Conv into ConvInteger: activations quantised per tensor to uint8, and the CPU
      kernel takes per-tensor weight zero points only. Log-mel L1 to FP32 0.84 against the MatMul-only
      graph's 0.13, and 1.8x slower. ConvTranspose has no integer kernel at all.
    * quantize_static (QDQ) quantises the activations too; and a weight-only DequantizeLinear on a constant
      is not constant-folded by ORT (DQ nodes are kept for QDQ fusion), so it dequantises on every call:
      +0.4-0.5 ms (~5%) per 37-frame codec call, where Cast + Mul costs nothing.
    """
    if store not in CONV_WEIGHT_STORES:
        raise ValueError(f"conv weights can be stored as {' or '.join(CONV_WEIGHT_STORES)}, not {store!r}")
    # per output channel: axis 0 of a Conv weight, axis 1 of a ConvTranspose weight
    axis_of = {op: (lambda node, axis=int(op == "ConvTranspose"): axis) for op in op_types}
    return _store_weight_only(model, store, axis_of, min_elements, min_rank=3)


GATHER_OPS = ("Gather", "GatherND")
TABLE_MIN_ELEMENTS = 4096  # smaller lookup tables stay FP32


def _gather_axis(node: onnx.NodeProto) -> int:
    """The axis whose slices a Gather / GatherND picks: one scale per slice (GatherND with batch_dims 0 indexes
    from axis 0)."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return int(attrs.get("axis", 0)) if node.op_type == "Gather" else int(attrs.get("batch_dims", 0))


def compress_gather_tables(model: onnx.ModelProto, store: str = "int8", min_elements: int | None = None) -> list[str]:
    """Store constant FP32 lookup tables (the data input of Gather / GatherND, e.g. the codec's precomputed
    semantic codebook embedding [2048, 64]) weight-only, as compress_conv_weights stores conv weights: int8 with
    one scale per gathered slice, or FP16; dequantised once at session load (constant folding), so the lookup
    and everything after it run as in FP32. Returns the names rewritten. min_elements: TABLE_MIN_ELEMENTS if None."""
    if store not in CONV_WEIGHT_STORES:
        raise ValueError(f"lookup tables can be stored as {' or '.join(CONV_WEIGHT_STORES)}, not {store!r}")
    return _store_weight_only(model, store, {op: _gather_axis for op in GATHER_OPS},
                              TABLE_MIN_ELEMENTS if min_elements is None else min_elements, min_rank=2, input_index=0)


def _store_weight_only(model: onnx.ModelProto, store: str, axis_of: dict, min_elements: int, min_rank: int,
                       input_index: int = 1) -> list[str]:
    """Rewrite each constant FP32 initializer at `input_index` of a node whose op is in `axis_of` as
    Cast(int8)·scale (symmetric, [-127, 127], one FP32 scale per index of axis `axis_of[op](node)`) or Cast(fp16).
    The value keeps its name, so its consumers are unchanged."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    graph_inputs = {i.name for i in g.input}  # an initializer that is also an input may be overridden: leave it
    new_nodes: list[onnx.NodeProto] = []
    done: list[str] = []
    for node in g.node:
        if node.op_type not in axis_of or len(node.input) <= input_index:
            continue
        name = node.input[input_index]
        t = inits.get(name)
        if (t is None or name in done or name in graph_inputs or t.data_type != onnx.TensorProto.FLOAT
                or len(t.dims) < min_rank or int(np.prod(t.dims)) < min_elements):
            continue
        w = numpy_helper.to_array(t)
        g.initializer.remove(t)
        f32 = onnx.TensorProto.FLOAT
        if store == "fp16":
            g.initializer.append(numpy_helper.from_array(w.astype(np.float16), name + "_fp16"))
            new_nodes.append(helper.make_node("Cast", [name + "_fp16"], [name], name=name + "_cast", to=f32))
        else:
            axis = axis_of[node.op_type](node) % w.ndim
            amax = np.abs(w).max(axis=tuple(i for i in range(w.ndim) if i != axis), keepdims=True)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)  # [M,1,..] or [1,M,1,..]
            q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
            g.initializer.extend([numpy_helper.from_array(q, name + "_int8"),
                                  numpy_helper.from_array(scale, name + "_scale")])
            new_nodes += [helper.make_node("Cast", [name + "_int8"], [name + "_f32"], name=name + "_cast", to=f32),
                          helper.make_node("Mul", [name + "_f32", name + "_scale"], [name], name=name + "_dequant")]
        done.append(name)
    for i, n in enumerate(new_nodes):  # their inputs are initializers: first is topologically fine
        g.node.insert(i, n)
    return done

"""Small ONNX rewrites that make exported graphs quantisable by every tool."""

from __future__ import annotations

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

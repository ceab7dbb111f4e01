"""flow_euler: the whole flow-matching ODE of one frame in one graph (an ONNX Loop around flow_velocity).

    x0 [1,A] f32 (noise_scale · noise), llm_cond [1,D], time_cond [n,D] (flow_time of the n grid points),
    dt [n] f32, cfg_mix [2] f32 = (alpha, 1 - alpha)                    -> x1 [1,A] (before FSQ rounding)

Each iteration i is the runtime's NumPy Euler step verbatim: the CFG pair [x; x] with [llm_cond; 0] and
time_cond[i] on both rows through the velocity graph's own nodes, v = alpha·v_c + (1-alpha)·v_u, x += v·dt[i];
the same float32 ops in the same order, so the result is bit-identical. Measured on the 2-core AVX2 VM, one
thread, the small default model at 7 steps: 4.7 ms per frame against 5.9 ms for the NumPy loop around
flow_velocity (the Python side of 7 `run` calls and their glue), ~9 % of a frame.

The graph is composed from the final (already quantised) flow_velocity file, so its nodes and weights are that
graph's exactly; weights kept as external data stay in flow_velocity's data file, which both graphs then name
(no second copy on disk). An ONNX Loop runs on the CPU provider only (NPU providers do not take it), so the
runtime uses this graph only when its flow graphs run on CPU, else the per-step flow_velocity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

GRAPH_NAME = "flow_euler"
VELOCITY_IO = ("x_t", "time_cond", "llm_cond", "velocity")


def compose_flow_euler(velocity: onnx.ModelProto) -> onnx.ModelProto:
    """The flow_velocity model (I/O per manifest.GRAPH_IO) -> the flow_euler model (I/O above)."""
    g = velocity.graph
    names = {i.name for i in g.input} | {o.name for o in g.output}
    if not set(VELOCITY_IO) <= names:
        raise ValueError(f"not a flow_velocity graph: I/O {sorted(names)}")
    dims = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in g.input}
    a, d = dims["x_t"][1], dims["time_cond"][1]
    taken = {n.name for n in g.node} | {t.name for t in g.initializer} | names | {o for n in g.node for o in n.output}

    def fresh(base: str) -> str:  # a name no velocity node or weight uses
        name, k = f"euler/{base}", 0
        while name in taken:
            k += 1
            name = f"euler/{base}_{k}"
        taken.add(name)
        return name

    it, cond, x = fresh("i"), fresh("cond"), fresh("x")
    x2, tc_i, tc2, llm2 = fresh("x2"), fresh("tc_i"), fresh("tc2"), fresh("llm2")
    x_out, cond_out = fresh("x_out"), fresh("cond_out")
    c = {k: fresh(k) for k in ("zero", "one", "two", "axis0", "shape2d")}
    consts = [numpy_helper.from_array(np.array(v, np.int64), c[k]) for k, v in
              (("zero", [0]), ("one", [1]), ("two", [2]), ("axis0", [0]), ("shape2d", [2, d]))]
    v_c, v_u, a_c, a_u, mix_c, mix_u, v, dt_i, step = (fresh(k) for k in ("v_c", "v_u", "a_c", "a_u", "mix_c",
                                                                          "mix_u", "v", "dt_i", "step"))
    renamed = {"x_t": x2, "time_cond": tc2, "llm_cond": llm2}
    body_nodes = [
        helper.make_node("Concat", [x, x], [x2], axis=0, name=fresh("cat_x")),  # [2,A]: the CFG pair
        helper.make_node("Gather", ["time_cond", it], [tc_i], axis=0, name=fresh("tc_row")),  # [D]
        helper.make_node("Expand", [tc_i, c["shape2d"]], [tc2], name=fresh("tc_pair")),  # [2,D]
    ]
    for n in g.node:
        m = onnx.NodeProto()
        m.CopyFrom(n)
        for k, name in enumerate(m.input):
            m.input[k] = renamed.get(name, name)
        body_nodes.append(m)
    body_nodes += [
        helper.make_node("Slice", ["velocity", c["zero"], c["one"], c["axis0"]], [v_c], name=fresh("v_cond")),
        helper.make_node("Slice", ["velocity", c["one"], c["two"], c["axis0"]], [v_u], name=fresh("v_uncond")),
        helper.make_node("Gather", ["cfg_mix", c["zero"]], [a_c], axis=0, name=fresh("alpha")),  # [1]
        helper.make_node("Gather", ["cfg_mix", c["one"]], [a_u], axis=0, name=fresh("one_minus_alpha")),
        helper.make_node("Mul", [a_c, v_c], [mix_c], name=fresh("mix_cond")),
        helper.make_node("Mul", [a_u, v_u], [mix_u], name=fresh("mix_uncond")),
        helper.make_node("Add", [mix_c, mix_u], [v], name=fresh("mix")),
        helper.make_node("Gather", ["dt", it], [dt_i], axis=0, name=fresh("dt_row")),
        helper.make_node("Mul", [v, dt_i], [step], name=fresh("v_dt")),
        helper.make_node("Add", [x, step], [x_out], name=fresh("euler")),
        helper.make_node("Identity", [cond], [cond_out], name=fresh("keep_going")),
    ]
    f32 = TensorProto.FLOAT
    body = helper.make_graph(
        body_nodes, "euler_step",
        [helper.make_tensor_value_info(it, TensorProto.INT64, []), helper.make_tensor_value_info(cond, TensorProto.BOOL, []),
         helper.make_tensor_value_info(x, f32, [1, a])],
        [helper.make_tensor_value_info(cond_out, TensorProto.BOOL, []), helper.make_tensor_value_info(x_out, f32, [1, a])])
    llm_shape, zeros, n_vec, n_steps, true = (fresh(k) for k in ("llm_shape", "uncond", "n_vec", "n_steps", "true"))
    main = [
        # the unconditional branch's llm_cond: +0.0 rows, as the runtime's np.zeros_like
        helper.make_node("Shape", ["llm_cond"], [llm_shape], name=fresh("llm_shape_of")),
        helper.make_node("ConstantOfShape", [llm_shape], [zeros], name=fresh("zeros"),
                         value=numpy_helper.from_array(np.zeros(1, np.float32))),
        helper.make_node("Concat", ["llm_cond", zeros], [llm2], axis=0, name=fresh("cat_llm")),  # [2,D]
        helper.make_node("Shape", ["dt"], [n_vec], name=fresh("n_of")),  # [1]
        helper.make_node("Squeeze", [n_vec], [n_steps], name=fresh("n")),  # the Loop's trip count: a scalar
        helper.make_node("Constant", [], [true], value=numpy_helper.from_array(np.array(True)), name=fresh("loop_cond")),
        helper.make_node("Loop", [n_steps, true, "x0"], ["x1"], body=body, name=fresh("loop")),
    ]
    inputs = [helper.make_tensor_value_info("x0", f32, [1, a]), helper.make_tensor_value_info("llm_cond", f32, [1, d]),
              helper.make_tensor_value_info("time_cond", f32, ["n", d]), helper.make_tensor_value_info("dt", f32, ["n"]),
              helper.make_tensor_value_info("cfg_mix", f32, [2])]
    graph = helper.make_graph(main, GRAPH_NAME, inputs, [helper.make_tensor_value_info("x1", f32, [1, a])],
                              list(g.initializer) + consts)
    model = helper.make_model(graph, opset_imports=list(velocity.opset_import), producer_name="vox-edge",
                              doc_string="Voxtral TTS flow-matching ODE of one frame: Loop over flow_velocity (vox-edge)")
    model.ir_version = velocity.ir_version
    return model


def write_flow_euler(velocity_path: str | Path, out_path: str | Path) -> list[Path]:
    """flow_velocity.onnx -> flow_euler.onnx next to it; returns the files written (the graph only: external
    weights stay in flow_velocity's data file, which the new graph names with the same relative path)."""
    velocity_path, out_path = Path(velocity_path), Path(out_path)
    if velocity_path.parent.resolve() != out_path.parent.resolve():
        raise ValueError("flow_euler must sit next to flow_velocity: it names the same external data file")
    model = compose_flow_euler(onnx.load(str(velocity_path), load_external_data=False))
    tmp = out_path.with_name(out_path.name + ".tmp")
    onnx.save_model(model, str(tmp))  # external initializers keep their location/offset: nothing is copied
    tmp.replace(out_path)
    return [out_path]


def shared_data_files(model_path: str | Path) -> list[str]:
    """Relative external-data files a graph names (for the manifest's extra_files)."""
    model = onnx.load(str(model_path), load_external_data=False)
    files = {e.value for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL
             for e in t.external_data if e.key == "location"}
    return sorted(files)

"""FP32 fixed-shape graphs for NPU execution providers (QNN HTP, OpenVINO), before their QDQ quantisation.

An NPU provider compiles a graph once for fixed shapes and takes standard ONNX ops only, so:

backbone (manifest kv_cache "static", I/O: vox_edge.manifest.graph_io)
    inputs_embeds [1,S,D], attention_mask [S,C+S] (0 = visible, MASK_VALUE = hidden), rope_cos / rope_sin [S,hd],
    past_key_values.{i}.key/value [1,KV,C,hd]  ->  hidden_states [1,S,D], present.{i}.key/value [1,KV,S,hd]
  A fixed-capacity cache of C positions; the graph returns only the S new rows and the runtime writes them into
  its buffer at P..P+S-1 (no scatter op on the accelerator). Positions enter as the RoPE tables and the mask,
  both computed by the runtime, so the graph holds no Range/Shape arithmetic. Attention is MatMul/Softmax
  (the plain kind of backbone_graph), RMSNorm is Pow/ReduceMean/Sqrt/Reciprocal/Mul, the residual a plain Add:
  no com.microsoft op anywhere.
flow_condition / flow_time / flow_velocity / codec_decoder
  The torch exports of torch_graphs at their static sizes, constant-folded (ORT's basic level, standard ops
  only) with every infinite constant (the -inf of masks) replaced by MASK_VALUE: a QDQ graph cannot quantise
  an infinite range, and exp(-1000) is exactly 0 in float32 as exp(-inf) is; RMSNorm's division becomes a
  multiplication by a reciprocal (reciprocal_norms).
The flow's Euler loop stays in the runtime (runtime/flow.py, one flow_velocity call per step): NPU providers do
not take an ONNX Loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from vox_edge.manifest import MASK_VALUE, graph_io

from .backbone_graph import BackboneOptions, _Backbone
from .onnx_utils import ExternalData, GraphBuilder, TensorReader, save_model

F32 = TensorProto.FLOAT
OPSET = 17  # the QDQ quantiser raises it to 21 where 16-bit activations need it


class _NpuBackbone(_Backbone):
    """The backbone with fixed S and C, positions and mask as inputs, new KV rows as outputs."""

    def __init__(self, cfg, reader: TensorReader, gb: GraphBuilder, seq_len: int, context: int):
        super().__init__(cfg, reader, gb, BackboneOptions(precision="fp32", attention="plain"))
        self.seq_len, self.context = seq_len, context

    def build(self, progress: Callable[[str], None]) -> None:
        cfg, gb = self.cfg, self.gb
        s, c, kv, hd, n = self.seq_len, self.context, cfg.n_kv_heads, cfg.head_dim, cfg.n_layers
        x = gb.input("inputs_embeds", F32, [1, s, cfg.dim])
        mask = gb.input("attention_mask", F32, [s, c + s])
        # rows ordered (r, i) like the grouped queries of _plain_attention
        self.mask = gb.op("Tile", [mask, gb.const("mask_reps", [cfg.n_heads // kv, 1])], name="mask_tiled")
        self.cos = gb.input("rope_cos", F32, [s, hd])
        self.sin = gb.input("rope_sin", F32, [s, hd])
        keys = [gb.input(f"past_key_values.{i}.key", F32, [1, kv, c, hd]) for i in range(n)]
        values = [gb.input(f"past_key_values.{i}.value", F32, [1, kv, c, hd]) for i in range(n)]
        self.decoder(x, list(zip(keys, values)), progress)
        gb.output("hidden_states", F32, [1, s, cfg.dim])
        for kind in ("key", "value"):
            for i in range(n):
                gb.output(f"present.{i}.{kind}", F32, [1, kv, s, hd])

    def attention(self, i: int, qkv: str, past_k: str, past_v: str) -> str:
        return self._plain_attention(i, qkv, past_k, past_v, f"present.{i}.key", f"present.{i}.value")

    def _cache(self, past: str, new: str, present: str, tag: str) -> str:
        self.gb.op("Identity", [new], outputs=[present], name=tag + "/new_rows")  # the runtime stores these
        return self.gb.op("Concat", [past, new], name=tag, axis=2)  # [1,KV,C+S,hd]: masked by attention_mask

    def rms_norm(self, x: str, weight: str, tag: str) -> str:
        """x * Reciprocal(Sqrt(mean(x^2) + eps)) * w: see reciprocal_norms (a zero row stays zero when quantised)."""
        gb = self.gb
        inv = gb.op("Reciprocal", [self.rms(x, tag)], name=tag + "/rsqrt")
        return gb.op("Mul", [gb.op("Mul", [x, inv], name=tag + "/scale"), gb.weight(weight, self.w(weight))], name=tag)

    def skip_norm(self, delta: str, residual: str, weight: str, tag: str, out: str | None = None) -> tuple[str, str]:
        summed = self.gb.op("Add", [residual, delta], name=tag + "/residual")
        normed = self.rms_norm(summed, weight, tag)
        if out:
            normed = self.gb.op("Identity", [normed], outputs=[out], name=tag + "/out")
        return normed, summed


def export_npu_backbone(ckpt, out_dir: Path, seq_len: int, context: int,
                        progress: Callable[[str], None] = print) -> dict:
    """Write out_dir/backbone.onnx (+ .data), FP32, fixed shapes; returns its manifest graph entry."""
    from .checkpoint import WEIGHTS_FILE

    cfg = ckpt.config
    path = out_dir / "backbone.onnx"
    data = ExternalData(out_dir / "backbone.onnx.data")
    try:
        with TensorReader(ckpt.path / WEIGHTS_FILE) as reader:
            gb = GraphBuilder(data)
            _NpuBackbone(cfg, reader, gb, seq_len, context).build(progress)
    finally:
        data.close()
    model = gb.model("backbone", OPSET, doc="Voxtral TTS backbone, fixed shapes for NPU providers (vox-edge)",
                     metadata={"vox_edge.graph": "backbone", "vox_edge.kv_cache": "static"})
    save_model(model, path)
    ins, outs = graph_io("backbone", cfg.n_layers, "static")
    return {"file": path.name, "precision": "fp32", "inputs": ins, "outputs": outs, "opset": OPSET,
            "static_shapes": True, "extra_files": [data.path.name], "attention": "plain", "kv_cache": "static",
            "seq_len": seq_len, "cache_len": context}


def finite_constants(model: onnx.ModelProto, value: float = MASK_VALUE) -> int:
    """Replace ±inf / NaN in float initializers and Constant values by ±|value| / 0; returns tensors changed."""
    def fix(t: TensorProto) -> bool:
        a = numpy_helper.to_array(t)
        if a.dtype.kind != "f" or np.isfinite(a).all():
            return False
        t.CopyFrom(numpy_helper.from_array(np.nan_to_num(a, nan=0.0, posinf=-value, neginf=value).astype(a.dtype),
                                           t.name))
        return True

    changed = sum(fix(t) for t in model.graph.initializer)
    for node in model.graph.node:
        changed += sum(fix(a.t) for a in node.attribute if a.type == onnx.AttributeProto.TENSOR)
    return changed


def reciprocal_norms(model: onnx.ModelProto) -> int:
    """x / Sqrt(v) -> x * Reciprocal(Sqrt(v)) (undoing torch_graphs.rms_norm_as_div, a CPU fusion pattern). Quantised,
    mean(x^2) + eps of an all-zero row (CFG's unconditional llm_cond, a padded position) rounds to 0 when eps is below
    the tensor's step: 0 / 0 is NaN, while Reciprocal saturates and 0 * that is 0, as in FP32. Returns the count."""
    producer = {o: n for n in model.graph.node for o in n.output}
    nodes, count = [], 0
    for n in model.graph.node:
        src = producer.get(n.input[1]) if n.op_type == "Div" and len(n.input) == 2 else None
        if src is not None and src.op_type == "Sqrt":
            inv = n.name + "/reciprocal"
            nodes.append(onnx.helper.make_node("Reciprocal", [n.input[1]], [inv], name=inv))
            n.op_type = "Mul"
            n.input[1] = inv
            count += 1
        nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return count


ERF_TANH = (2 / np.pi ** 0.5, 0.044715 * 2)  # erf(z) ~ tanh(a·z·(1 + b·z²)): GELU's tanh form, |error| < 4e-4


def decompose_for_htp(model: onnx.ModelProto) -> int:
    """Ops the Hexagon HTP refuses in a QDQ graph, rewritten from ops it takes (the source_filter codec's ConvNeXt
    frame decoder; QNN 2.7 on the simulator refused both): LayerNormalization (over the last axis) becomes
    mean / centre / variance from ReduceMean, Sqrt, Reciprocal (exact), and Erf (exact GELU's) becomes
    tanh(a·z·(1 + b·z²)), the tanh form of GELU (within 4e-4 of erf, far inside 16-bit activation steps of a
    GELU input's range). Returns the nodes rewritten.

    GatherND with constant indices of shape [N, 1] (batch_dims 0: whole slices along axis 0, torch's `x[idx]` with
    a constant index, the source_filter head's linear resampling to the renderer's frames) becomes the same
    Gather(axis 0) (exact). QNN 2.7's HTP takes that GatherND but returns wrong rows from a uint16 [T, 1, C] tensor
    (tiny source_filter codec: 4.1 dB SNR at its output against the same QDQ graph on the CPU provider, 66 dB just
    before it; renderer parameters 9 dB, waveform 8.6 dB); its Gather is right (waveform 41.7 dB)."""
    from onnx import helper

    nodes, count, consts = [], 0, {}

    def const(name: str, value) -> str:
        if name not in consts:
            arr = np.asarray(value, dtype=np.int64 if isinstance(value, list) else np.float32)
            model.graph.initializer.append(numpy_helper.from_array(arr, name))
            consts[name] = name
        return name

    def op(kind: str, inputs: list[str], tag: str, out: str | None = None, **attrs) -> str:
        out = out or tag
        nodes.append(helper.make_node(kind, inputs, [out], name=tag, **attrs))
        return out

    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    inits, replaced = {t.name: t for t in model.graph.initializer}, set()
    for n in model.graph.node:
        if n.op_type == "LayerNormalization" and len(n.output) == 1:
            axis = next((a.i for a in n.attribute if a.name == "axis"), -1)
            eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
            if axis != -1:
                nodes.append(n)
                continue
            t, x = n.name or n.output[0], n.input[0]
            mean_args = ({"axes": [-1]} if opset < 18 else {})
            ax = [] if opset < 18 else [const("htp_axes_last", [-1])]
            mu = op("ReduceMean", [x, *ax], t + "/mean", keepdims=1, **mean_args)
            d = op("Sub", [x, mu], t + "/centred")
            var = op("ReduceMean", [op("Mul", [d, d], t + "/square"), *ax], t + "/var", keepdims=1, **mean_args)
            inv = op("Reciprocal", [op("Sqrt", [op("Add", [var, const(t + "/eps", eps)], t + "/var_eps")],
                                       t + "/std")], t + "/inv_std")
            y = op("Mul", [op("Mul", [d, inv], t + "/normed"), n.input[1]], t + "/scaled",
                   out=None if len(n.input) > 2 and n.input[2] else n.output[0])
            if len(n.input) > 2 and n.input[2]:
                op("Add", [y, n.input[2]], t + "/shifted", out=n.output[0])
            count += 1
        elif n.op_type == "GatherND" and n.input[1] in inits and _slice_indices(inits[n.input[1]], n) is not None:
            rows = const(n.input[1] + "/rows", _slice_indices(inits[n.input[1]], n).tolist())
            replaced.add(n.input[1])
            nodes.append(helper.make_node("Gather", [n.input[0], rows], list(n.output), name=n.name, axis=0))
            count += 1
        elif n.op_type == "Erf":
            t, z = n.name or n.output[0], n.input[0]
            z2 = op("Mul", [z, z], t + "/z2")
            inner = op("Add", [op("Mul", [z2, const("htp_erf_b", ERF_TANH[1])], t + "/bz2"), const("htp_one", 1.0)],
                       t + "/poly")
            arg = op("Mul", [op("Mul", [z, inner], t + "/z_poly"), const("htp_erf_a", ERF_TANH[0])], t + "/arg")
            op("Tanh", [arg], t + "/tanh", out=n.output[0])
            count += 1
        else:
            nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    for name in replaced - used:  # the GatherND indices, now unused
        model.graph.initializer.remove(inits[name])
    return count


def _slice_indices(t: TensorProto, node: onnx.NodeProto) -> np.ndarray | None:
    """A GatherND's constant [N, 1] indices with batch_dims 0 as the rows to Gather along axis 0, else None."""
    if next((a.i for a in node.attribute if a.name == "batch_dims"), 0) != 0 or len(t.dims) != 2 or t.dims[1] != 1:
        return None
    return numpy_helper.to_array(t)[:, 0].astype(np.int64)


def fold_for_npu(src: Path, dst: Path) -> Path:
    """Constant-fold `src` with ORT's basic level (standard ops only), make its constants finite, write `dst`."""
    import onnxruntime as ort

    from vox_edge.quantize.onnx_io import load_model
    from vox_edge.quantize.onnx_io import save_model as save_any

    # beside src: a large graph's folded copy keeps its weights in an external file, which it names relative to
    # itself (the full-size flow_velocity, 1.6 GB: folded beside dst, it pointed at a file that is not there)
    folded = src.with_name(src.stem + ".folded.onnx")
    data = folded.with_name(folded.name + ".data")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = str(folded)
    so.add_session_config_entry("session.optimized_model_external_initializers_file_name", data.name)
    so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    model = load_model(folded)
    folded.unlink()
    data.unlink(missing_ok=True)
    finite_constants(model)
    reciprocal_norms(model)
    save_any(model, dst)
    return dst

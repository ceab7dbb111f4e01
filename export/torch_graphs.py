"""ONNX graphs of the acoustic head and the codec decoder, exported from the PyTorch reference.

    flow_condition  hidden [B,D]                        -> semantic_logits [B,W] f32 (-inf masked), llm_cond [B,D]
    flow_time       t [N]                                -> time_cond [N,D]
    flow_velocity   x_t [B,A], time_cond [B,D], llm_cond [B,D] -> velocity [B,A]
    flow_euler      (dynamic-shape bundles) the Euler loop of one frame around flow_velocity (export/flow_loop.py)
    codec_decoder   codes int64 [1,T,1+A] (-2 space) [, context_frames int64 [1] = 0 (export/codec_context.py)]
                                                          -> audio [1, (T - context_frames)*samples_per_frame]

Names and I/O follow vox_edge.manifest.GRAPH_IO. Exporter: torch.onnx.export(dynamo=True) with
`dynamic_shapes`, opset 18. Both exporters give a correct dynamic-T codec (measured on `tiny`: max-abs
7e-7 at T = 1..40, same speed), but the legacy one is deprecated in torch 2.13 and spells the codec's
shape arithmetic as 653 nodes against dynamo's 306 (dynamo folds it into symbolic dims).

Only the acoustic transformer and the codec are loaded (never the backbone): each graph's FP32 file is
written to a scratch folder, then converted to the requested precision by vox_edge.quantize.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from vox_edge.config import ModelConfig
from vox_edge.manifest import GRAPH_COMPONENT, GRAPH_IO, codec_step_io, graph_io

from .checkpoint import Checkpoint
from .codec_context import CONTEXT_INPUT, RENDER_FROM_INPUT, add_context_input, add_render_from_input
from .reference.acoustic import AcousticTransformer
from .reference.codec import AudioTokenizer, resample_linear

OPSET = 18  # ORT >= 1.14 CPU, QNN / NNAPI / CoreML / OpenVINO EPs all take it; the dynamo exporter's floor
FLOW_GRAPHS = ("flow_condition", "flow_time", "flow_velocity")
FLOW_LOOP_GRAPH = "flow_euler"  # derived from the exported flow_velocity, not exported from torch
CODEC_GRAPHS = ("codec_decoder",)
CODEC_STEP_GRAPH = "codec_step"  # optional: a dynamic-shape source_filter codec's stateful streaming graph
# Static-shape variant (NPU EPs): batch of CFG's two branches, the 7 Euler times, and one streaming codec
# window of 25 context + 12 new frames (shorter windows are right-padded: the codec is causal).
STATIC_CODEC_FRAMES = 37


# ----------------------------------------------------------------------------------------------
# Loading only what the graphs need (the backbone is 3.4B parameters at release size)
# ----------------------------------------------------------------------------------------------

def load_acoustic(ckpt: Checkpoint, dtype: torch.dtype = torch.float32) -> AcousticTransformer:
    with torch.device("meta"):
        model = AcousticTransformer(ckpt.config)
    sd = {k: ckpt.tensor("acoustic_transformer." + k, dtype) for k in model.state_dict()}
    model.load_state_dict(sd, strict=True, assign=True)
    return model.eval()


def load_codec(ckpt: Checkpoint, dtype: torch.dtype = torch.float32) -> AudioTokenizer:
    with torch.device("meta"):
        model = AudioTokenizer(ckpt.config.codec)
    sd = {k: ckpt.tensor("audio_tokenizer." + k, dtype) for k in model.state_dict()}
    model.load_state_dict(sd, strict=True, assign=True)
    return model.fold_weight_norm().eval()


# ----------------------------------------------------------------------------------------------
# One nn.Module per graph: thin wrappers over the reference methods, so the graph *is* the reference
# ----------------------------------------------------------------------------------------------

class FlowCondition(nn.Module):
    def __init__(self, acoustic: AcousticTransformer):
        super().__init__()
        self.acoustic = acoustic

    def forward(self, hidden: torch.Tensor):  # [B,D] -> [B,W] f32, [B,D]
        return self.acoustic.semantic_logits(hidden), self.acoustic.llm_projection(hidden)


class FlowTime(nn.Module):
    def __init__(self, acoustic: AcousticTransformer):
        super().__init__()
        self.acoustic = acoustic

    def forward(self, t: torch.Tensor) -> torch.Tensor:  # [N] -> [N,D]
        return self.acoustic.time_condition(t)


class FlowVelocity(nn.Module):
    def __init__(self, acoustic: AcousticTransformer):
        super().__init__()
        self.acoustic = acoustic

    def forward(self, x_t, time_cond, llm_cond) -> torch.Tensor:  # [B,A], [B,D], [B,D] -> [B,A]
        return self.acoustic.velocity(x_t, time_cond, llm_cond)


class CodecDecoder(nn.Module):
    """codes -> audio. E_sem is precomputed into one [S, D_sem] table (a single Gather in the graph)."""

    def __init__(self, codec: AudioTokenizer):
        super().__init__()
        self.codec = codec
        self.register_buffer("e_sem", codec.semantic_embedding().detach().clone())  # [S, D_sem]
        self.levels = codec.cfg.acoustic_codebook_size - 1

    def latent(self, codes: torch.Tensor) -> torch.Tensor:
        """int64 [1,T,1+A] -> [1, latent, T]."""
        sem = self.e_sem[codes[..., 0]]  # [1,T,D_sem]
        ac = (2 * codes[..., 1:]).to(self.e_sem.dtype) / self.levels - 1  # FSQ level -> [-1,1], as the reference
        return torch.cat([sem, ac], dim=-1).transpose(1, 2)  # [1, latent, T]

    def forward(self, codes: torch.Tensor, frame_mask: torch.Tensor | None = None):
        """int64 [1,T,1+A] -> [1, T*spf], or renderer parameters; frame_mask: see masked_render_params."""
        latent = self.latent(codes)
        if self.codec.frame_decoder is not None:  # source_filter: the renderer runs in the runtime
            params, f0 = (self.codec.render_params(latent) if frame_mask is None
                          else masked_render_params(self.codec, latent, frame_mask))
            return (*params, f0)
        return self.codec.decode_latent(latent)


FRAME_MASK = "frame_mask"  # the fixed-window source_filter codec's second input (runtime/codec_stream.py)


def masked_render_params(codec: AudioTokenizer, latent: torch.Tensor, frame_mask: torch.Tensor):
    """AudioTokenizer.render_params of the first V frames of a fixed window of T, V given by frame_mask [1, T]
    (1.0 for the V real frames, then 0.0 for right padding): renderer frames j < ceil(V·spf / hop) equal a
    dynamic-T graph's on those V frames exactly; later ones are padding for the caller to drop.

    The trunk is causal, so right padding cannot reach a real frame's features. Two things of the head can: the
    linear resampling reads the 100 Hz feature after the last real one (clamped there at the end of a dynamic
    window), so the padded features are replaced by the last real one; and the frame decoder's centred
    convolutions zero-pad past the end, so each one's input is multiplied by the renderer-frame mask. Masks are
    derived in the graph from frame_mask with constant gathers: Mul / Sub / ReduceSum only, all fixed shapes."""
    feats, m, f0 = masked_features(codec, latent, frame_mask)
    return masked_frame_decoder(codec, feats, m), f0


def masked_features(codec: AudioTokenizer, latent: torch.Tensor, frame_mask: torch.Tensor):
    """masked_render_params' trunk half: (the frame decoder's input features [1, C, F], zero on padded renderer
    frames; the renderer-frame mask [1, 1, F]; f0 [1, F] in Hz). The qnn-htp export runs it as its own graph."""
    c = codec.cfg
    t = latent.shape[-1]
    x = latent
    for block in codec.decoder_blocks:
        x = block(x)
    y = codec.output_proj(x) * codec.feature_scale[:, None] + codec.feature_bias[:, None]  # [1, C, U·T]
    u = y.shape[-1] // t
    m_hi = frame_mask[:, :, None].expand(-1, t, u).reshape(1, 1, t * u)  # [1, 1, U·T] per 100 Hz position
    nxt = torch.cat([m_hi[..., 1:], torch.zeros_like(m_hi[..., :1])], dim=-1)
    last = (y * (m_hi - nxt)).sum(dim=-1, keepdim=True)  # [1, C, 1]: the last real position's features
    y = y * m_hi + last * (1 - m_hi)
    n = (t * c.samples_per_frame + c.renderer_hop - 1) // c.renderer_hop
    feats = resample_linear(y, n, c.renderer_hop / c.patch_size)  # [1, C, F]
    # renderer frame j is real iff j < ceil(6.4·V) iff codec frame floor(j·hop / spf) is real
    m = frame_mask[:, [j * c.renderer_hop // c.samples_per_frame for j in range(n)]][:, None, :]  # [1, 1, F]
    f0 = torch.expm1(c.f0_log_scale * feats[:, c.frame_features - 2]).clamp(min=0)
    return feats * m, m, f0


def masked_frame_decoder(codec: AudioTokenizer, feats: torch.Tensor, m: torch.Tensor):
    """masked_render_params' frame-decoder half: masked features [1, C, F] and the renderer-frame mask [1, 1, F]
    -> lh, theta, ln, lr, phi [1, 601, F]."""
    fd = codec.frame_decoder
    h = fd.dec_in(feats)
    for b in fd.dec:
        z = b.norm(b.dw(h * m).transpose(1, 2))
        h = h + (b.gamma * b.pw2(torch.nn.functional.gelu(b.pw1(z)))).transpose(1, 2)
    out = fd.head(fd.dec_norm(h.transpose(1, 2))).transpose(1, 2)
    return tuple(out.split(fd.n_bins, dim=1))


# ----------------------------------------------------------------------------------------------
# Example inputs and dynamic dims
# ----------------------------------------------------------------------------------------------

def example_inputs(name: str, cfg: ModelConfig, static_shapes: bool) -> tuple[tuple[torch.Tensor, ...], dict | None]:
    """(args, dynamic_shapes) for torch.onnx.export. Static sizes are what the runtime uses per call."""
    d, a = cfg.dim, cfg.n_acoustic_codebook
    g = torch.Generator().manual_seed(0)
    batch = torch.export.Dim("batch", min=1, max=64)
    if name == "flow_condition":
        return (torch.randn(1, d, generator=g),), (None if static_shapes else {"hidden": {0: batch}})
    if name == "flow_time":
        n = cfg.acoustic.n_decoding_steps
        return (torch.linspace(0, 1, n + 1)[:-1],), (None if static_shapes else {"t": {0: torch.export.Dim("n_t", min=1, max=1024)}})
    if name == "flow_velocity":
        args = (torch.randn(2, a, generator=g), torch.randn(2, d, generator=g), torch.randn(2, d, generator=g))
        dyn = {"x_t": {0: batch}, "time_cond": {0: batch}, "llm_cond": {0: batch}}
        return args, (None if static_shapes else dyn)
    if name == "codec_decoder":
        c = cfg.codec
        t = STATIC_CODEC_FRAMES if static_shapes else 7
        sem = torch.randint(0, c.semantic_codebook_size, (1, t, 1), generator=g)
        ac = torch.randint(0, c.acoustic_codebook_size, (1, t, c.acoustic_dim), generator=g)
        frames = torch.export.Dim("frames", min=1, max=4096)
        if static_shapes and c.output_head == "source_filter":  # + frame_mask: see masked_render_params
            return (torch.cat([sem, ac], -1), torch.ones(1, t)), None
        return (torch.cat([sem, ac], -1),), (None if static_shapes else {"codes": {1: frames}})
    raise KeyError(name)


def codec_aware_io(name: str, cfg: ModelConfig) -> tuple[list[str], list[str]]:
    """GRAPH_IO of a flow or codec graph; a source_filter codec returns renderer parameters instead of audio."""
    return graph_io(name, cfg.n_layers, codec_head=cfg.codec.output_head)


def graph_module(name: str, acoustic: AcousticTransformer | None, codec: AudioTokenizer | None) -> nn.Module:
    return {"flow_condition": FlowCondition, "flow_time": FlowTime, "flow_velocity": FlowVelocity}[name](acoustic) \
        if name in FLOW_GRAPHS else CodecDecoder(codec)


def export_fp32(module: nn.Module, name: str, cfg: ModelConfig, path: Path, static_shapes: bool = False) -> Path:
    """torch.onnx.export one graph to `path` (FP32). Large weights go to `path`.data (external data)."""
    from vox_edge.quantize.onnx_io import save_model

    args, dyn = example_inputs(name, cfg, static_shapes)
    ins, outs = codec_aware_io(name, cfg)
    ins = [*ins, FRAME_MASK][:len(args)]  # a fixed-window source_filter codec's frame_mask
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter (torchvision missing, deprecations)
        prog = torch.onnx.export(module.eval(), args, dynamo=True, dynamic_shapes=dyn, input_names=list(ins),
                                 output_names=list(outs), opset_version=OPSET, optimize=True, verbose=False,
                                 external_data=True)
    model = prog.model_proto
    tidy(model)
    rms_norm_as_div(model)
    if name == "codec_decoder" and not static_shapes:
        if cfg.codec.output_head == "source_filter":
            add_render_from_input(model, cfg.codec)  # optional `render_from`: the frame decoder skips the context
        else:
            add_context_input(model, cfg.codec)  # optional `context_frames`: the output head skips the context
    save_model(model, path)
    return path


def tidy(model) -> None:
    """Name each Linear's weight after its module (`acoustic.layers.0.attention.wq.weight.T` instead of
    `val_15`) and drop the exporter's per-node metadata (stack traces with local paths: a bundle's
    bytes must not depend on where it was built, and it is 40% of a tiny graph's size)."""
    import json

    inits = {t.name: t for t in model.graph.initializer}
    users: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    taken = set(inits)
    for n in model.graph.node:
        meta = {p.key: p.value for p in n.metadata_props}
        if n.op_type == "MatMul" and len(n.input) == 2 and n.input[1] in inits and users[n.input[1]] == 1 \
                and n.input[1].startswith("val_") and "pkg.torch.onnx.name_scopes" in meta:
            scopes = json.loads(meta["pkg.torch.onnx.name_scopes"].replace("'", '"'))
            new = scopes[-2] + ".weight.T" if len(scopes) >= 2 else ""  # MatMul holds the transposed weight
            if new and new not in taken:
                inits[n.input[1]].name = new
                n.input[1] = new
                taken.add(new)
        del n.metadata_props[:]
        n.doc_string = ""


def rms_norm_as_div(model) -> int:
    """RMSNorm's `x * Reciprocal(Sqrt(ms + eps))` (torch.rsqrt) -> `x / Sqrt(ms + eps)`, the pattern ORT fuses into one
    SimplifiedLayerNormalization (with the residual Add: SkipSimplifiedLayerNormalization). 7 nodes become 1 per
    norm, which is most of the flow step's small-op overhead on a slow CPU; x/√a vs x·(1/√a) differ by <= 1 ulp.
    Returns how many were rewritten."""
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    consumers: dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    dropped, count = set(), 0
    for rec in nodes:
        if rec.op_type != "Reciprocal" or producer.get(rec.input[0]) is None or producer[rec.input[0]].op_type != "Sqrt":
            continue
        users = consumers.get(rec.output[0], [])
        if len(users) != 1 or users[0].op_type != "Mul" or any(o.name == rec.output[0] for o in model.graph.output):
            continue
        mul = users[0]
        x = mul.input[1] if mul.input[0] == rec.output[0] else mul.input[0]
        mul.op_type = "Div"
        del mul.input[:]
        mul.input.extend([x, rec.input[0]])
        dropped.add(id(rec))
        count += 1
    keep = [n for n in nodes if id(n) not in dropped]
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return count


def _write_flow_loop(out_dir: Path, velocity: dict, progress: Callable[[str], None]) -> dict:
    """flow_euler.onnx next to flow_velocity.onnx. Both name one weights file: flow_velocity's weights are moved
    to external data first if they were inline (same graph, same bytes; no second copy in the bundle)."""
    import onnx

    from vox_edge.quantize.onnx_io import save_model

    from .flow_loop import shared_data_files, write_flow_euler

    vel = out_dir / velocity["file"]
    data = shared_data_files(vel)
    if not data:
        save_model(onnx.load(str(vel)), vel, external=True)
        data = shared_data_files(vel)
    velocity["extra_files"] = data
    progress(f"[export] {FLOW_LOOP_GRAPH}: Loop over {vel.name} (weights shared: {', '.join(data)})")
    dst = out_dir / f"{FLOW_LOOP_GRAPH}.onnx"
    write_flow_euler(vel, dst)  # its external initializers are flow_velocity's, so it names the same files
    ins, outs = GRAPH_IO[FLOW_LOOP_GRAPH]
    return {"file": dst.name, "precision": velocity["precision"], "method": velocity["method"], "inputs": list(ins),
            "outputs": list(outs), "opset": OPSET, "static_shapes": False, "extra_files": list(data)}


def _codec_snr_guard(fp32: Path, dst: Path, written: list[Path], plan: Any, cfg: ModelConfig, static_shapes: bool,
                     progress: Callable[[str], None]) -> tuple[Any, list[Path]]:
    """The codec-SNR rung as a guard (spec option snrN, export/codec_guard.py): keep the quantised codec when its
    streamed waveform is within plan.min_snr_db of the FP32 graph's, else write the FP32 graph in its place."""
    from vox_edge.export.codec_guard import check_codec
    from vox_edge.quantize.onnx_io import move_model
    from vox_edge.quantize.plan import QuantPlan

    if static_shapes or cfg.codec.output_head == "source_filter":
        progress("[export] codec_decoder: the SNR guard streams dynamic-shape audio codecs only; not applied "
                 "(a fixed window or a source_filter codec has its own rung: vox-edge check-ep)")
        return plan, written
    g = check_codec(fp32, dst, cfg.codec)
    if g.holds(plan.min_snr_db):
        progress(f"[export] codec_decoder: SNR guard holds: {g} >= {plan.min_snr_db:g} dB; keeping {plan.precision}")
        return plan, written
    progress(f"[export] warning: codec_decoder: SNR guard FAILS: {g} < {plan.min_snr_db:g} dB; writing the FP32 "
             f"codec instead of {plan.precision}")
    for f in written:
        Path(f).unlink(missing_ok=True)
    return QuantPlan("fp32", "none"), move_model(fp32, dst)


# ----------------------------------------------------------------------------------------------
# The entry point the bundle writer calls
# ----------------------------------------------------------------------------------------------

STEP_ONLY_OPTION = "steponly"  # codec spec option: a source_filter codec as codec_step alone (manifest schema 4)


def _step_only_option(precisions: dict[str, str]) -> tuple[dict[str, str], bool]:
    """The precisions without the codec's 'steponly' option (no quantiser reads it), and whether it was given."""
    spec = precisions.get("codec")
    if spec is None or STEP_ONLY_OPTION not in spec.split("-")[1:]:
        return precisions, False
    return {**precisions, "codec": "-".join(o for o in spec.split("-") if o != STEP_ONLY_OPTION)}, True


def export_component_graphs(ckpt: Checkpoint, out_dir: Path, precisions: dict[str, str],
                            static_shapes: bool = False, progress: Callable[[str], None] = print,
                            calibration: Any = None, graphs: tuple[str, ...] = FLOW_GRAPHS + CODEC_GRAPHS,
                            ) -> dict[str, dict]:
    """Export the flow and codec graphs into `out_dir` at the precision of their component.

    precisions: component ('acoustic' / 'codec') -> 'fp32' | 'fp16' | 'int8' | 'int4', optionally with a
    method suffix ('int8-static', 'int4-b128', ...; see vox_edge.quantize.plan). calibration: a
    vox_edge.export.calibrate.CalibrationSet, or None to collect one when a static method needs it.
    Returns graph name -> {file, precision, method, inputs, outputs, opset, static_shapes, extra_files}
    (paths relative to out_dir).
    """
    from vox_edge.quantize.onnx_io import move_model
    from vox_edge.quantize.plan import plan_for, quantize_graph

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = ckpt.config
    warned: set[str] = set()

    def warn_once(msg: str) -> None:
        if msg not in warned:
            warned.add(msg)
            progress(msg)

    precisions, step_only = _step_only_option(precisions)
    plans = {g: plan_for(GRAPH_COMPONENT[g], precisions.get(GRAPH_COMPONENT[g], "fp32"), warn=warn_once, graph=g)
             for g in graphs}
    if calibration is None and any(p.needs_calibration for p in plans.values()):
        from .calibrate import collect_calibration

        progress("[export] collecting calibration data from the PyTorch reference")
        calibration = collect_calibration(ckpt, progress=progress)

    from .codec_step import supported as codec_step_supported

    if "codec_decoder" in graphs and not static_shapes and codec_step_supported(cfg.codec):
        graphs = (*graphs, CODEC_STEP_GRAPH)  # the stateful streaming codec beside the windowed one (export/codec_step.py)
        plans[CODEC_STEP_GRAPH] = plans["codec_decoder"]
    result: dict[str, dict] = {}
    scratch = Path(tempfile.mkdtemp(prefix=".fp32-", dir=out_dir))
    try:
        # 1. FP32 graphs, one component at a time: its torch weights are freed before the next loads
        #    and before any quantiser runs (full size: acoustic 1.6 GB, codec 0.6 GB in FP32).
        for group, load in ((FLOW_GRAPHS, load_acoustic), (CODEC_GRAPHS, load_codec)):
            todo = [g for g in graphs if g in group]
            if not todo:
                continue
            module = load(ckpt)
            if group is CODEC_GRAPHS and CODEC_STEP_GRAPH in graphs:
                todo.append(CODEC_STEP_GRAPH)
            for name in todo:
                progress(f"[export] {name}: torch.onnx.export (fp32{', static shapes' if static_shapes else ''})")
                if name == CODEC_STEP_GRAPH:
                    from .codec_step import export_codec_step

                    export_codec_step(module, scratch / f"{name}.onnx")
                    continue
                wrapped = graph_module(name, module if group is FLOW_GRAPHS else None, module if group is CODEC_GRAPHS else None)
                export_fp32(wrapped, name, cfg, scratch / f"{name}.onnx", static_shapes)
            del module, wrapped
            gc.collect()
        # 2. Each FP32 file -> its precision.
        for name in graphs:
            plan, fp32, dst = plans[name], scratch / f"{name}.onnx", out_dir / f"{name}.onnx"
            if plan.method == "none":
                written = move_model(fp32, dst)
            else:
                progress(f"[export] {name}: {plan.describe()}")
                feeds = None
                if calibration is not None and plan.needs_calibration:
                    args, _ = example_inputs(name, cfg, static_shapes)
                    shapes = dict(zip(GRAPH_IO[name][0], (tuple(a.shape) for a in args))) if static_shapes else None
                    feeds = calibration.feeds(name, shapes)
                written = quantize_graph(fp32, dst, plan, feeds)
                if plan.min_snr_db is not None and name == "codec_decoder":
                    plan, written = _codec_snr_guard(fp32, dst, written, plan, cfg, static_shapes, progress)
                    if CODEC_STEP_GRAPH in plans:  # the stateful codec follows the guard's verdict
                        plans[CODEC_STEP_GRAPH] = plan
            extra = sorted(Path(p).name for p in written if Path(p) != dst)
            ins, outs = codec_step_io(cfg.codec) if name == CODEC_STEP_GRAPH else codec_aware_io(name, cfg)
            result[name] = {"file": dst.name, "precision": plan.precision, "method": plan.method,
                            "inputs": list(ins), "outputs": list(outs), "opset": OPSET,
                            "static_shapes": static_shapes, "extra_files": extra}
            if name == "codec_decoder" and not static_shapes:
                result[name]["optional_inputs"] = [RENDER_FROM_INPUT if cfg.codec.output_head == "source_filter"
                                                   else CONTEXT_INPUT]
        if step_only and "codec_decoder" in result and CODEC_STEP_GRAPH not in result:
            raise ValueError(f"codec spec option '{STEP_ONLY_OPTION}': this codec has no codec_step graph (a "
                             "dynamic-shape source_filter codec only); drop the option")
        if CODEC_STEP_GRAPH in result:  # one copy of the codec's weights for both codec graphs
            from .codec_step import share_weights

            if step_only:  # the runtime streams through codec_step alone: the windowed graph is not carried
                for f in [result["codec_decoder"]["file"], *result["codec_decoder"]["extra_files"]]:
                    (out_dir / f).unlink(missing_ok=True)
                del result["codec_decoder"]
                progress(f"[export] codec: codec_step only ('{STEP_ONLY_OPTION}'; the windowed codec_decoder and the "
                         "weights only it reads are left out)")
            first = out_dir / result[CODEC_STEP_GRAPH]["file"]
            data = share_weights(out_dir / result["codec_decoder"]["file"], first, "codec.onnx.data") \
                if "codec_decoder" in result else share_weights(first, None, "codec.onnx.data")
            for g in ("codec_decoder", CODEC_STEP_GRAPH):
                if g in result:
                    result[g]["extra_files"] = data
        # 3. The per-frame Euler loop, composed from the final velocity graph (a Loop: CPU provider only, so
        #    fixed-shape NPU bundles keep just the per-step graph).
        if "flow_velocity" in result and not static_shapes:
            result[FLOW_LOOP_GRAPH] = _write_flow_loop(out_dir, result["flow_velocity"], progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result

"""codec_decoder's optional inputs that skip work on a streaming window's left context: `context_frames` (istft and
patch heads, below: the output head runs on the new frames only) and `render_from` (a source_filter head: the frame
decoder starts a margin before the first renderer frame the caller needs; `add_render_from_input`).

A streaming chunk decodes [left context + new frames] and keeps the new frames' audio (runtime/codec_stream.py).
The context must go through the codec's convolutions and transformers (their receptive field), but the last two
ops, output_proj and the iSTFT head (a dense 962 x 960 ConvTranspose per patch), only need to reach back a few
patches from the first new one: `margin` = output_kernel - 1 (+ n_fft / hop - 1 for the iSTFT's overlap-add).
So after the last transformer the graph slices its sequence to start at max(0, U·ctx - margin) patches and
returns the audio of the new frames only:

    codes int64 [1,T,1+A], context_frames int64 [1] (default 0)  ->  audio [1, (T - ctx)·samples_per_frame]

`context_frames` is an overridable initializer (an input with a default value): callers that feed only `codes`
get the whole window as before. The samples equal the full decode's up to float rounding (the same sums over the
same inputs; the reflect padding at the sliced start only touches patches before the first new one). On the small
default codec at the streaming windows of a short utterance this skips about a third of those two ops' work.

Applied to the FP32 graph right after torch.onnx.export, before quantisation (dynamic-shape graphs only: a
fixed-shape NPU window keeps its fixed output).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from vox_edge.config import CodecConfig

CONTEXT_INPUT = "context_frames"
AUDIO_OUTPUT = "audio"


def head_margin(cfg: CodecConfig) -> int:
    """Patches before the first new one that the output head reads (and that padding may touch)."""
    m = cfg.output_kernel - 1
    if cfg.output_head == "istft":
        m += cfg.n_fft // cfg.patch_size - 1
    return m


def add_context_input(model: onnx.ModelProto, cfg: CodecConfig) -> None:
    """Rewrite an exported codec_decoder graph in place (see the module docstring)."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    conv = next((n for n in g.node if n.op_type == "Conv" and any("output_proj" in i for i in n.input)), None)
    if conv is None:
        raise ValueError("codec_decoder: no output_proj Conv found")
    pad = producer.get(conv.input[0])
    head_in_node = pad if pad is not None and pad.op_type == "Pad" else conv  # the head starts at its padding
    x = head_in_node.input[0]  # [1, dim, U·T]
    if [o.name for o in g.output] != [AUDIO_OUTPUT]:
        raise ValueError(f"codec_decoder: expected the single output {AUDIO_OUTPUT!r}")
    u, hop = cfg.upsample_factor, cfg.patch_size

    def c(name: str, value) -> str:
        g.initializer.append(numpy_helper.from_array(np.array(value, np.int64), f"ctx/{name}"))
        return f"ctx/{name}"

    g.initializer.append(numpy_helper.from_array(np.zeros(1, np.int64), CONTEXT_INPUT))  # the default: no context
    g.input.append(helper.make_tensor_value_info(CONTEXT_INPUT, onnx.TensorProto.INT64, [1]))
    full = "ctx/audio_full"
    producer[AUDIO_OUTPUT].output[list(producer[AUDIO_OUTPUT].output).index(AUDIO_OUTPUT)] = full
    nodes = [
        helper.make_node("Shape", ["codes"], ["ctx/T"], start=1, end=2, name="ctx/T"),  # [1]
        helper.make_node("Mul", [CONTEXT_INPUT, c("U", [u])], ["ctx/first_new"], name="ctx/first_new"),  # U·ctx
        helper.make_node("Sub", ["ctx/first_new", c("margin", [head_margin(cfg)])], ["ctx/from"], name="ctx/from"),
        helper.make_node("Max", ["ctx/from", c("zero", [0])], ["ctx/start"], name="ctx/start"),
        helper.make_node("Slice", [x, "ctx/start", c("end", [np.iinfo(np.int64).max]), c("axis_len", [2])],
                         ["ctx/head_in"], name="ctx/head_in"),  # [1, dim, U·T - start]
        # audio of the patches start.. ; keep those of the new frames: [(U·ctx - start)·hop, (U·T - start)·hop)
        helper.make_node("Sub", ["ctx/first_new", "ctx/start"], ["ctx/skip"], name="ctx/skip"),
        helper.make_node("Mul", ["ctx/skip", c("hop", [hop])], ["ctx/begin"], name="ctx/begin"),
        helper.make_node("Mul", ["ctx/T", c("U2", [u])], ["ctx/UT"], name="ctx/UT"),
        helper.make_node("Sub", ["ctx/UT", "ctx/start"], ["ctx/patches"], name="ctx/patches"),
        helper.make_node("Mul", ["ctx/patches", c("hop2", [hop])], ["ctx/stop"], name="ctx/stop"),
    ]
    head_in_node.input[0] = "ctx/head_in"
    tail = helper.make_node("Slice", [full, "ctx/begin", "ctx/stop", c("axis_time", [1])], [AUDIO_OUTPUT],
                            name="ctx/new_frames")
    at = list(g.node).index(head_in_node)
    new = list(g.node)
    new[at:at] = nodes
    new.append(tail)
    del g.node[:]
    g.node.extend(new)


# ---------------------------------------------------------------------------------------------------------------
# source_filter head: `render_from`
# ---------------------------------------------------------------------------------------------------------------
RENDER_FROM_INPUT = "render_from"


def frame_decoder_margin(cfg: CodecConfig) -> int:
    """Renderer frames before the first needed one that the frame decoder reads: its (layers + 1) centred convs
    reach kernel // 2 frames each, so zero padding at a cut this far back cannot reach the needed frames."""
    return (cfg.frame_decoder_layers + 1) * (cfg.frame_decoder_kernel // 2)


def add_render_from_input(model: onnx.ModelProto, cfg: CodecConfig) -> None:
    """Rewrite an exported dynamic-T source_filter codec_decoder graph in place: optional input `render_from`
    int64 [1] (default 0), the window's first renderer frame whose parameters the caller needs.

        codes [1,T,1+A], render_from [1]  ->  lh/theta/ln/lr/phi [1,601,F - render_from], f0 [1,F - render_from]

    The trunk still decodes the whole window (it is the frame features' receptive field), but the frame decoder
    (about half of a streamed window's time) starts at max(0, render_from - margin) renderer frames instead of 0:
    a streaming window's left context is mostly for the trunk, and the renderer needs only a few frames of it.
    The outputs equal the full graph's frames render_from.. to float rounding (the same sums over the same inputs;
    the zero padding at the cut reaches `frame_decoder_margin` frames, all before render_from)."""
    from vox_edge.manifest import SOURCE_FILTER_OUTPUTS

    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    dec_in = next((n for n in g.node if n.op_type == "Conv" and any("frame_decoder.dec_in" in i for i in n.input)), None)
    if dec_in is None:
        raise ValueError("codec_decoder: no frame_decoder.dec_in Conv found (not a source_filter head?)")
    if [o.name for o in g.output] != list(SOURCE_FILTER_OUTPUTS):
        raise ValueError(f"codec_decoder: expected the outputs {list(SOURCE_FILTER_OUTPUTS)}")
    feats = dec_in.input[0]  # [1, C, F]: the resampled frame features (f0 is read from them too)

    def c(name: str, value) -> str:
        g.initializer.append(numpy_helper.from_array(np.array(value, np.int64), f"rf/{name}"))
        return f"rf/{name}"

    g.initializer.append(numpy_helper.from_array(np.zeros(1, np.int64), RENDER_FROM_INPUT))  # default: every frame
    g.input.append(helper.make_tensor_value_info(RENDER_FROM_INPUT, onnx.TensorProto.INT64, [1]))
    end, axis = c("end", [np.iinfo(np.int64).max]), c("axis", [2])
    nodes = [
        helper.make_node("Sub", [RENDER_FROM_INPUT, c("margin", [frame_decoder_margin(cfg)])], ["rf/cut"], name="rf/cut"),
        helper.make_node("Max", ["rf/cut", c("zero", [0])], ["rf/start"], name="rf/start"),
        helper.make_node("Slice", [feats, "rf/start", end, axis], ["rf/fd_in"], name="rf/fd_in"),
        helper.make_node("Slice", [feats, RENDER_FROM_INPUT, end, axis], ["rf/feats"], name="rf/feats"),
        helper.make_node("Sub", [RENDER_FROM_INPUT, "rf/start"], ["rf/skip"], name="rf/skip"),
    ]
    for n in g.node:  # the frame decoder reads from the cut, everything else (f0) from render_from
        if n is not dec_in:
            n.input[:] = ["rf/feats" if i == feats else i for i in n.input]
    dec_in.input[0] = "rf/fd_in"
    tails = []
    for name in SOURCE_FILTER_OUTPUTS[:-1]:  # the frame decoder's five maps: drop the margin frames
        full = f"rf/{name}_full"
        p = producer[name]
        p.output[list(p.output).index(name)] = full
        tails.append(helper.make_node("Slice", [full, "rf/skip", end, axis], [name], name=f"rf/{name}"))
    at = list(g.node).index(producer[feats]) + 1
    new = list(g.node)
    new[at:at] = nodes
    new.extend(tails)
    del g.node[:]
    g.node.extend(new)

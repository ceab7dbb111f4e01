"""codec_decoder's optional `context_frames` input: the output head runs on the new frames only.

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

"""codec_step: a `source_filter` codec decoder that streams with explicit state instead of re-decoding context.

The windowed `codec_decoder` re-decodes 17-21 frames of left context and 6 of lookahead for every chunk (its trunk
is causal, its frame decoder centred). This graph keeps, like the backbone's KV cache, what each layer needs from
the past as inputs and outputs, so every codec frame goes through the trunk once and every renderer frame through
the frame decoder once:

    codes int64 [1, m, 1+A] (the next m frames, −2 space), pos int64 [1] (codec frames before them),
    resample_lo, resample_hi int64 [r], resample_w f32 [r] (the renderer frames the new 100 Hz features complete:
    each one's two neighbours as indexes into [the previous call's last feature, the m·U new ones] and the upper
    one's weight; runtime/codec_stream.py step_resample_plan), render_first int64 [1] (the absolute index of the
    first of those r renderer frames), render_end int64 [1] (the stream's renderer frames when it ends in this
    call, else any larger number), then the states (manifest.codec_step_states)
      -> lh, theta, ln, lr, phi [1, 601, r] of renderer frames render_first − delay .. (frames before 0 are
         padding), f0 [1, r] of renderer frames render_first .., then the states' next values ("next." + name).

delay = frame_decoder_margin (27 at the v2 dims): each of the frame decoder's centred convolutions gives its
output 3 frames after its input. The states start as zeros; at pos 0 the graph takes the
start-of-stream padding from the codes themselves (replicate on the first conv, reflect on output_proj) as the
one-shot decode does, masks keys before position 0 out of every attention window, and zeroes every frame-decoder
activation before frame 0 and from render_end on (the one-shot's zero padding). The last call of a stream
(`step_final_plan`) passes the resampling's clamped neighbours, render_end and frame_decoder_margin rows of padding
after the last renderer frame, so the frame decoder's delayed output reaches the end.
Every frame this graph returns equals the one-shot decode's to float rounding (FP32).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vox_edge.config import CodecConfig
from vox_edge.manifest import codec_step_io, codec_step_states
from vox_edge.runtime.codec_stream import step_resample_plan as resample_plan

from .codec_context import frame_decoder_margin
from .reference.codec import AudioTokenizer, alibi_slopes


def supported(c: CodecConfig) -> bool:
    """Whether CodecStep can stream this codec: a source_filter head, a stride-1 first conv and every ConvTranspose's
    kernel twice its stride (the decoders this project trains)."""
    return (c.output_head == "source_filter" and c.decoder_convs_strides[0] == 1
            and all(k == 2 * s for k, s in zip(c.decoder_convs_kernels[1:], c.decoder_convs_strides[1:])))


class CodecStep(nn.Module):
    """The module behind the graph (see the module docstring); weights are the reference codec's."""

    def __init__(self, codec: AudioTokenizer):
        super().__init__()
        c = codec.cfg
        if not supported(c):
            raise ValueError("codec_step: a source_filter head, a stride-1 first conv and ConvTranspose kernels of "
                             "twice their stride only")
        self.codec, self.cfg = codec, c
        self.register_buffer("e_sem", codec.semantic_embedding().detach().clone())
        self.register_buffer("slopes", alibi_slopes(c.n_heads))
        self.levels = c.acoustic_codebook_size - 1
        self.rates = [math.prod(c.decoder_convs_strides[: i + 1]) for i in range(len(c.decoder_convs_strides))]
        for i in range(1, len(c.decoder_convs_strides)):  # each ConvTranspose as a [2·C_in, C_out·s] MatMul weight
            w, s = codec.decoder_blocks[2 * i].conv.weight.detach(), c.decoder_convs_strides[i]
            self.register_buffer(f"up{i}", torch.cat([w[..., :s], w[..., s:]], 0).reshape(2 * w.shape[0], -1).clone())

    def _attention(self, layer, x, kc, vc, p, window: int):
        """x [1, L, dim] at stage positions p.. ; kc, vc [1, H, W, hd] of positions p - W .. p - 1."""
        att, b, length = layer.attention, x.shape[0], x.shape[1]
        h = layer.attention_norm(x)
        q, k, v = att.wq(h), att.wk(h), att.wv(h)
        if att.q_norm is not None:
            q, k = att.q_norm(q), att.k_norm(k)
        q, k, v = (t.view(b, length, att.n_heads, att.head_dim).transpose(1, 2) for t in (q, k, v))
        keys, values = torch.cat([kc, k], 2), torch.cat([vc, v], 2)  # [1, H, W + L, hd]
        qpos = p + torch.arange(length, device=x.device)  # [L]
        kpos = p - window + torch.arange(window + length, device=x.device)  # [W + L]
        rel = kpos[None, :] - qpos[:, None]  # [L, W + L]
        ok = (rel <= 0) & (rel >= -window) & (kpos[None, :] >= 0)
        bias = (self.slopes[:, None, None] * rel.to(x.dtype)).masked_fill(~ok, float("-inf"))
        scores = q @ keys.transpose(-1, -2) / math.sqrt(att.head_dim) + bias
        out = torch.softmax(scores, dim=-1) @ values
        a = att.wo(out.transpose(1, 2).reshape(b, length, -1))
        x = x + (a if layer.attention_scale is None else layer.attention_scale * a)
        f = layer.feed_forward(layer.ffn_norm(x))
        x = x + (f if layer.ffn_scale is None else layer.ffn_scale * f)
        return x, keys[:, :, keys.shape[2] - window:], values[:, :, values.shape[2] - window:]

    @staticmethod
    def _upsample(xc, w, s: int):
        """ConvTranspose1d(k = 2s, stride s), right-trimmed, of xc[1:] given xc[0] (the previous input): output pair i
        is taps 0..s-1 of input i plus taps s..2s-1 of input i - 1, written as one MatMul with w = the up{i} buffer
        [2·C_in, C_out·s] (ONNX Runtime's ConvTranspose re-arranges its weights on every call: most of its time at a
        few frames)."""
        c_out = w.shape[1] // s
        both = torch.cat([xc[..., 1:], xc[..., :-1]], 1).transpose(1, 2)  # [1, L, 2·C_in]: input i, input i - 1
        y = both @ w  # [1, L, C_out·s]
        return y.reshape(1, -1, c_out, s).permute(0, 2, 1, 3).reshape(1, c_out, -1)  # [1, C_out, s·L]

    def forward(self, codes, pos, resample_lo, resample_hi, resample_w, render_first, render_end, states: list):
        c, codec = self.cfg, self.codec
        st = list(states)
        new: list[torch.Tensor] = []
        first = pos == 0  # [1] bool: the stream's start
        sem = self.e_sem[codes[..., 0]]
        ac = (2 * codes[..., 1:]).to(self.e_sem.dtype) / self.levels - 1
        x = torch.cat([sem, ac], dim=-1).transpose(1, 2)  # [1, latent, m]
        # first conv: causal, replicate-padded at the stream's start
        conv = codec.decoder_blocks[0].conv
        kpad = conv.kernel_size[0] - 1
        s0 = torch.where(first, x[..., :1].expand(-1, -1, kpad), st.pop(0))
        xc = torch.cat([s0, x], -1)
        new.append(xc[..., xc.shape[-1] - kpad:])
        x = F.conv1d(xc, conv.weight, conv.bias)
        for i, n in enumerate(c.decoder_transformer_lengths):
            if i > 0:  # ConvTranspose(k = 2s): an output pair reads its input and the one before
                up = codec.decoder_blocks[2 * i].conv
                s = up.stride[0]
                xc = torch.cat([st.pop(0), x], -1)  # [1, dim, 1 + L]
                new.append(xc[..., -1:])
                x = self._upsample(xc, getattr(self, f"up{i}"), s)
            stage = codec.decoder_blocks[2 * i + 1]
            h = x.transpose(1, 2)
            p = pos * self.rates[i]
            for layer in stage.layers:
                h, kc, vc = self._attention(layer, h, st.pop(0), st.pop(0), p, stage.window)
                new += [kc, vc]
            x = h.transpose(1, 2)
        # output_proj: causal, reflect-padded at the stream's start
        op = codec.output_proj.conv
        kpad = op.kernel_size[0] - 1
        s_op = torch.where(first, x[..., 1: kpad + 1].flip(-1), st.pop(0))
        xc = torch.cat([s_op, x], -1)
        new.append(xc[..., xc.shape[-1] - kpad:])
        y = F.conv1d(xc, op.weight, op.bias) * codec.feature_scale[:, None] + codec.feature_bias[:, None]
        # resample to the renderer's frames the new features complete (positions precomputed by the caller)
        yc = torch.cat([st.pop(0), y], -1)  # [1, C, 1 + m·U]: the previous call's last feature first
        new.append(yc[..., -1:])
        w = resample_w.to(y.dtype)
        feats = yc[..., resample_lo] * (1 - w) + yc[..., resample_hi] * w  # [1, C, r]
        f0 = torch.expm1(c.f0_log_scale * feats[:, c.frame_features - 2]).clamp(min=0)
        # frame decoder: each centred conv reads its state (the 2·(k//2) frames before) and returns its input's
        # frames shifted back by k//2; activations before frame 0 are the one-shot's zero padding
        fd = codec.frame_decoder
        r = feats.shape[-1]
        half = fd.kernel // 2
        idx = torch.arange(r, device=y.device)

        def centred(conv, h, state, lag):
            hc = torch.cat([state, h], -1)
            new.append(hc[..., hc.shape[-1] - 2 * half:])
            out = F.conv1d(hc, conv.weight, conv.bias, groups=conv.groups)  # no padding: the state is the left
            p = render_first - lag + idx  # [r] the output frames; before 0 and from render_end on: zero padding
            keep = ((p >= 0) & (p < render_end)).to(h.dtype)
            return out, hc, keep

        h, _, keep = centred(fd.dec_in, feats * ((render_first + idx) < render_end).to(feats.dtype), st.pop(0), half)
        h = h * keep
        for j, blk in enumerate(fd.dec):
            d, hc, keep = centred(blk.dw, h, st.pop(0), half * (j + 2))
            z = blk.norm(d.transpose(1, 2))
            h = (hc[..., half: half + r] + (blk.gamma * blk.pw2(F.gelu(blk.pw1(z)))).transpose(1, 2)) * keep
        out = fd.head(fd.dec_norm(h.transpose(1, 2))).transpose(1, 2)
        return (*out.split(fd.n_bins, dim=1), f0, *new)


def export_codec_step(codec: AudioTokenizer, path) -> None:
    """torch.onnx.export of CodecStep (FP32) to `path`: m codec frames and r renderer frames are dynamic."""
    import warnings

    from vox_edge.quantize.onnx_io import save_model

    from .torch_graphs import OPSET, rms_norm_as_div, tidy

    cfg = codec.cfg
    m = 3
    g = torch.Generator().manual_seed(0)
    codes = torch.cat([torch.randint(0, cfg.semantic_codebook_size, (1, m, 1), generator=g),
                       torch.randint(0, cfg.acoustic_codebook_size, (1, m, cfg.acoustic_dim), generator=g)], -1)
    j0, lo, hi, w = resample_plan(cfg, 5, m)
    states = [torch.randn(*shape, generator=g) * 0.1 for _, shape in codec_step_states(cfg)]
    args = (codes, torch.tensor([5]), torch.from_numpy(lo), torch.from_numpy(hi), torch.from_numpy(w), torch.tensor([j0]),
            torch.tensor([2 ** 40]), states)
    frames, rframes = torch.export.Dim("frames", min=1, max=4096), torch.export.Dim("rframes", min=1, max=32768)
    dyn = {"codes": {1: frames}, "pos": None, "resample_lo": {0: rframes}, "resample_hi": {0: rframes},
           "resample_w": {0: rframes}, "render_first": None, "render_end": None, "states": [None] * len(states)}
    ins, outs = codec_step_io(cfg)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(CodecStep(codec).eval(), args, dynamo=True, dynamic_shapes=dyn, input_names=ins,
                                 output_names=outs, opset_version=OPSET, optimize=True, verbose=False,
                                 external_data=True)
    model = prog.model_proto
    tidy(model)
    rms_norm_as_div(model)
    save_model(model, path)


def share_weights(first: Path, second: Path | None, data_name: str, min_bytes: int = 1024) -> list[str]:
    """Move the large initializers of two graphs in one folder into one external-data file `data_name` beside them,
    each distinct tensor (name, type, shape and bytes) stored once: codec_step carries the windowed codec's
    weights (all but its ConvTranspose matrices), so the bundle holds them once, as flow_euler shares
    flow_velocity's. `second` None: the one graph's weights alone (a bundle that carries codec_step only).
    Returns the data files the graphs now name (for the manifest's extra_files)."""
    import onnx
    from onnx import TensorProto

    folder = first.parent
    offsets: dict[tuple, tuple[int, int]] = {}
    tmp = folder / (data_name + ".tmp")  # a graph may still read its weights from `data_name` itself
    with open(tmp, "wb") as f:
        for path in (first, second) if second is not None else (first,):
            old = {e.value for t in onnx.load(str(path), load_external_data=False).graph.initializer
                   for e in t.external_data if e.key == "location"} - {data_name}
            model = onnx.load(str(path))  # external data (if any) read in
            for t in model.graph.initializer:
                raw = t.raw_data
                if len(raw) < min_bytes:
                    continue
                key = (t.name, t.data_type, tuple(t.dims), raw)
                if key not in offsets:
                    pad = -f.tell() % 64
                    f.write(b"\0" * pad)
                    offsets[key] = (f.tell(), len(raw))
                    f.write(raw)
                off, length = offsets[key]
                t.ClearField("raw_data")
                t.data_location = TensorProto.EXTERNAL
                del t.external_data[:]
                for k, v in (("location", data_name), ("offset", str(off)), ("length", str(length))):
                    t.external_data.add(key=k, value=v)
            onnx.save(model, str(path))
            for name in old:  # a graph's own data file, now folded into the shared one
                (folder / name).unlink(missing_ok=True)
    os.replace(tmp, folder / data_name)
    return [data_name]

"""PyTorch reference of the Voxtral codec decoder (`audio_tokenizer.*`, docs/model.md#codec).

Written for clarity, not speed: every op is spelled out so the ONNX graphs and the NumPy runtime
have one unambiguous oracle. Where public ports disagree, this follows Mistral's serving code (docs/model.md#choices-where-public-ports-differ):
ALiBi slopes r**h, W+1 keys per query, replicate pad on decoder_blocks.0, reflect pad on
output_proj, ConvTranspose trimmed on the right.

Shapes: B batch, T frames (12.5 Hz in the release), C channels, L sequence length of a stage.
Codes are in "-2 space" (semantic 0..S-1, acoustic 0..levels-1), never the +2 space of the backbone.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from vox_edge.config import CodecConfig, ModelConfig
from vox_edge.errors import ConfigError

from . import source_filter
from .frame_decoder import FrameDecoder

CLUSTER_USAGE_FLOOR = 1e-5  # E_sem = embedding_sum / max(cluster_usage, 1e-5) (docs/model.md#codec)
LAYER_SCALE_INIT = 0.01  # params.json layer_scale_init; only an init, trained values are loaded


# --------------------------------------------------------------------------------------------
# Small numeric helpers (module level so tests and other references can call them directly)
# --------------------------------------------------------------------------------------------

def alibi_slopes(n_heads: int) -> torch.Tensor:
    """Per-head ALiBi slopes, float32 like the reference: r**h with r = 2^(-8/n) (docs/model.md#codec).

    Non-power-of-two counts: slopes of the largest power of two m <= n, then every other slope of
    2m, exactly as the reference concatenates them (with r**h this repeats the first few values).
    """

    def power_of_2(n: int) -> list[float]:
        r = 2.0 ** (-8.0 / n)
        return [r**h for h in range(n)]

    m = 2 ** int(math.floor(math.log2(n_heads)))
    slopes = power_of_2(m)
    if m < n_heads:
        slopes += power_of_2(2 * m)[::2][: n_heads - m]
    return torch.tensor(slopes, dtype=torch.float32)


def window_mask(length: int, window: int, device=None) -> torch.Tensor:
    """[L, L] bool, True where query i may see key j: i - W <= j <= i (W+1 keys, docs/model.md#codec)."""
    i = torch.arange(length, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    return (j <= i) & (j >= i - window)


def alibi_bias(n_heads: int, length: int, window: int, dtype: torch.dtype, device=None) -> torch.Tensor:
    """[H, L, L] additive score bias: slope_h * (j - i) inside the window, -inf outside."""
    rel = (torch.arange(length, device=device)[None, :] - torch.arange(length, device=device)[:, None]).to(dtype)
    bias = alibi_slopes(n_heads).to(device=device, dtype=dtype)[:, None, None] * rel  # [H, L, L], <= 0 inside
    return bias.masked_fill(~window_mask(length, window, device), float("-inf"))


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) * w over the last axis."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def pad1d(x: torch.Tensor, left: int, right: int, mode: str) -> torch.Tensor:
    """Pad [B, C, L] in `mode`; reflect on a too-short input zero-extends first (as the reference).

    torch's reflect needs L > pad, so the reference appends zeros on the right, pads, and cuts the zeros off.
    """
    if left == right == 0:
        return x
    extra = 0
    if mode == "reflect" and x.shape[-1] <= max(left, right):
        extra = max(left, right) - x.shape[-1] + 1
        x = F.pad(x, (0, extra))
    x = F.pad(x, (left, right), mode=mode)
    return x[..., : x.shape[-1] - extra] if extra else x


def fold_weight(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Weight norm W = g * v / ||v||, L2 norm over every axis but 0, no epsilon (docs/model.md#codec).

    For ConvTranspose1d v is [in, out, k], so each *input* channel is normalised on its own.
    """
    norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))  # [C0, 1, 1]
    return g * (v / norm)


# --------------------------------------------------------------------------------------------
# Modules (attribute names = checkpoint names, docs/model.md#tensors)
# --------------------------------------------------------------------------------------------

class SemanticCodebook(nn.Module):
    """EMA VQ codebook; only the two buffers are stored, E_sem is derived at use."""

    def __init__(self, size: int, dim: int):
        super().__init__()
        self.register_buffer("embedding_sum", torch.zeros(size, dim))  # [S, D_sem]
        self.register_buffer("cluster_usage", torch.ones(size))  # [S]

    def embedding(self) -> torch.Tensor:
        """E_sem [S, D_sem]."""
        return self.embedding_sum / self.cluster_usage.clamp(min=CLUSTER_USAGE_FLOOR)[:, None]


class Quantizer(nn.Module):
    def __init__(self, cfg: CodecConfig):
        super().__init__()
        self.semantic_codebook = SemanticCodebook(cfg.semantic_codebook_size, cfg.semantic_dim)


class CausalConv1d(nn.Module):
    """Weight-normed Conv1d with all (k - s) padding on the left."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, pad_mode: str = "reflect"):
        super().__init__()
        self.conv = weight_norm(nn.Conv1d(c_in, c_out, kernel, stride, bias=False), dim=0)
        self.pad_mode = pad_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C_in, L] -> [B, C_out, ceil(L / s)]
        k, s = self.conv.kernel_size[0], self.conv.stride[0]
        pad = k - s
        # Strided (encoder) convs also pad the right, in the same mode, so a last partial window still
        # yields a frame; at stride 1 (every decoder conv) this extra is 0.
        extra = (k - pad - x.shape[-1]) % s  # = s·ceil(a / s) - a with a = L + pad - k (integer-only, export-safe)
        return self.conv(pad1d(x, pad, extra, self.pad_mode))


class CausalConvTranspose1d(nn.Module):
    """Weight-normed ConvTranspose1d (g over the input-channel axis); the k - s overhang is trimmed on the right."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        self.conv = weight_norm(nn.ConvTranspose1d(c_in, c_out, kernel, stride, bias=False), dim=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C_in, L] -> [B, C_out, s·L]
        k, s = self.conv.kernel_size[0], self.conv.stride[0]
        y = self.conv(x)  # [B, C_out, s·L + k - s]
        return y[..., : y.shape[-1] - (k - s)]  # trim_ratio 1: nothing from the left


MAX_LOG_MAGNITUDE = 6.9  # exp(6.9) ~ 1e3: bounds the iSTFT head's magnitudes (Vocos clips at 1e2 on mel-scaled audio)


class CausalISTFT(nn.Module):
    """[log-magnitude; phase] [B, 2F, L] at hop = patch -> waveform [B, L·hop]; no weights.

    One-sided inverse DFT x Hann synthesis window as a fixed ConvTranspose1d, overlap-added and trimmed on the
    right like CausalConvTranspose1d, so patch p only sees frames p - n_fft/hop + 1 .. p (causal, streamable).
    The basis is rebuilt from arange on every call (cheap; keeps meta-device loading and ONNX export simple).
    """

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop

    def basis(self, dtype: torch.dtype, device) -> torch.Tensor:  # [2F, 1, n_fft]
        n, f = self.n_fft, self.n_fft // 2 + 1
        t = torch.arange(n, dtype=torch.float64, device=device)
        k = torch.arange(f, dtype=torch.float64, device=device)
        ang = 2 * math.pi * k[:, None] * t[None, :] / n  # [F, n]
        weight = torch.full((f, 1), 2.0, dtype=torch.float64, device=device)
        weight[0], weight[-1] = 1.0, 1.0  # DC and Nyquist appear once in the one-sided spectrum
        window = 0.5 - 0.5 * torch.cos(2 * math.pi * t / n)  # periodic Hann
        norm = n * (n / (2 * self.hop))  # 1/N of the inverse DFT x the Hann overlap sum n / (2 hop)
        re, im = weight * torch.cos(ang) * window / norm, -weight * torch.sin(ang) * window / norm
        return torch.cat([re, im], dim=0).unsqueeze(1).to(dtype)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:  # [B, 2F, L] -> [B, L·hop]
        logmag, phase = spec.chunk(2, dim=1)  # [B, F, L] each
        mag = torch.exp(logmag.clamp(max=MAX_LOG_MAGNITUDE))
        y = F.conv_transpose1d(torch.cat([mag * torch.cos(phase), mag * torch.sin(phase)], dim=1),
                               self.basis(spec.dtype, spec.device), stride=self.hop)  # [B, 1, (L-1)·hop + n_fft]
        return y[:, 0, : spec.shape[-1] * self.hop]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weight, self.eps)


class Attention(nn.Module):
    """Causal sliding-window MHA with ALiBi and QK-RMSNorm over all heads jointly; no RoPE, no GQA."""

    def __init__(self, cfg: CodecConfig):
        super().__init__()
        inner = cfg.n_heads * cfg.head_dim
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, inner, bias=False)
        self.wk = nn.Linear(cfg.dim, inner, bias=False)
        self.wv = nn.Linear(cfg.dim, inner, bias=False)
        self.wo = nn.Linear(inner, cfg.dim, bias=False)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(inner, cfg.qk_norm_eps)
            self.k_norm = RMSNorm(inner, cfg.qk_norm_eps)
        else:
            self.q_norm = self.k_norm = None

    def forward(self, x: torch.Tensor, window: int) -> torch.Tensor:  # [B, L, dim] -> [B, L, dim]
        b, length, _ = x.shape
        q, k, v = self.wq(x), self.wk(x), self.wv(x)  # [B, L, H·hd]
        if self.q_norm is not None:  # before the head split: one norm over all heads
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (t.view(b, length, self.n_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))  # [B, H, L, hd]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)  # [B, H, L, L]
        scores = scores + alibi_bias(self.n_heads, length, window, x.dtype, x.device)
        out = torch.softmax(scores, dim=-1) @ v  # [B, H, L, hd]
        return self.wo(out.transpose(1, 2).reshape(b, length, -1))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerLayer(nn.Module):
    """Pre-norm block with LayerScale on both residual branches (docs/model.md#codec)."""

    def __init__(self, cfg: CodecConfig):
        super().__init__()
        self.attention = Attention(cfg)
        self.feed_forward = FeedForward(cfg.dim, cfg.hidden_dim)
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        if cfg.layer_scale:
            self.attention_scale = nn.Parameter(torch.full((cfg.dim,), LAYER_SCALE_INIT))
            self.ffn_scale = nn.Parameter(torch.full((cfg.dim,), LAYER_SCALE_INIT))
        else:
            self.attention_scale = self.ffn_scale = None

    def forward(self, x: torch.Tensor, window: int) -> torch.Tensor:  # [B, L, dim]
        h = self.attention(self.attention_norm(x), window)
        x = x + (h if self.attention_scale is None else self.attention_scale * h)
        h = self.feed_forward(self.ffn_norm(x))
        return x + (h if self.ffn_scale is None else self.ffn_scale * h)


class Transformer(nn.Module):
    """One stage: `n_layers` layers sharing one window; channel-first in and out like the convs."""

    def __init__(self, cfg: CodecConfig, n_layers: int, window: int):
        super().__init__()
        self.layers = nn.ModuleList(TransformerLayer(cfg) for _ in range(n_layers))
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, dim, L] -> [B, dim, L]
        x = x.transpose(1, 2)  # [B, L, dim]
        for layer in self.layers:
            x = layer(x, self.window)
        return x.transpose(1, 2)


def resample_linear(x: torch.Tensor, n_out: int, ratio: float) -> torch.Tensor:
    """[B, C, L] -> [B, C, n_out]: out[j] = x at position j·ratio, linear between neighbours, clamped at the end."""
    n_in = x.shape[-1]
    pos = torch.arange(n_out, dtype=torch.float32, device=x.device) * ratio
    lo = torch.clamp(pos.floor().long(), max=n_in - 1)
    hi = torch.clamp(lo + 1, max=n_in - 1)
    w = (pos - lo.to(pos.dtype)).clamp(0, 1).to(x.dtype)
    return x[..., lo] * (1 - w) + x[..., hi] * w


class AudioTokenizer(nn.Module):
    """The codec decoder + quantizer of `audio_tokenizer.*` (116 tensors at the release dims).

    decoder_blocks[2i] is conv i (0: Conv1d latent->dim with replicate pad; i>0: ConvTranspose1d),
    decoder_blocks[2i+1] is transformer stage i with window cfg.decoder_windows[i].
    """

    def __init__(self, cfg: CodecConfig | ModelConfig):
        super().__init__()
        cfg = cfg.codec if isinstance(cfg, ModelConfig) else cfg
        if cfg.channels != 1:
            raise ConfigError("audio_tokenizer_args.channels must be 1: the codec reference is mono only.")
        self.cfg = cfg
        self.quantizer = Quantizer(cfg)
        blocks: list[nn.Module] = []
        for i, (k, s, n, w) in enumerate(zip(cfg.decoder_convs_kernels, cfg.decoder_convs_strides,
                                             cfg.decoder_transformer_lengths, cfg.decoder_windows)):
            if i == 0:
                blocks.append(CausalConv1d(cfg.latent_dim, cfg.dim, k, s, pad_mode="replicate"))
            else:
                blocks.append(CausalConvTranspose1d(cfg.dim, cfg.dim, k, s))
            blocks.append(Transformer(cfg, n, w))
        self.decoder_blocks = nn.ModuleList(blocks)
        self.output_proj = CausalConv1d(cfg.dim, cfg.output_channels, cfg.output_kernel, pad_mode="reflect")
        self.istft = CausalISTFT(cfg.n_fft, cfg.patch_size) if cfg.output_head == "istft" else None
        self.frame_decoder = None
        if cfg.output_head == "source_filter":
            self.frame_decoder = FrameDecoder(cfg.frame_features, cfg.frame_decoder_dim, cfg.frame_decoder_hidden_dim,
                                              cfg.frame_decoder_layers, cfg.frame_decoder_kernel, 2 * cfg.renderer_hop + 1)
            # per-channel affine from output_proj's units to the frame decoder's (its training normalised them)
            self.feature_scale = nn.Parameter(torch.ones(cfg.frame_features))
            self.feature_bias = nn.Parameter(torch.zeros(cfg.frame_features))

    # --- weights ---
    def conv_modules(self) -> list[nn.Module]:
        """Every weight-normed conv (the `.conv` children)."""
        return [m.conv for m in self.modules() if isinstance(m, (CausalConv1d, CausalConvTranspose1d))]

    @torch.no_grad()
    def fold_weight_norm(self) -> "AudioTokenizer":
        """Replace every weight-norm parametrization by the plain weight g·v/‖v‖ (keys become `*.conv.weight`)."""
        for conv in self.conv_modules():
            if not parametrize.is_parametrized(conv, "weight"):
                continue
            p = conv.parametrizations.weight
            w = fold_weight(p.original0, p.original1)
            parametrize.remove_parametrizations(conv, "weight", leave_parametrized=True)
            conv.weight.copy_(w)  # our formula is the one of record, not torch's kernel
        return self

    def semantic_embedding(self) -> torch.Tensor:
        """E_sem [S, D_sem]."""
        return self.quantizer.semantic_codebook.embedding()

    # --- math ---
    def check_codes(self, codes: torch.Tensor) -> None:
        c = self.cfg
        if codes.dim() != 3 or codes.shape[-1] != 1 + c.acoustic_dim or codes.dtype.is_floating_point:
            raise ValueError(f"codes must be int [B, T, {1 + c.acoustic_dim}], got {codes.dtype} {tuple(codes.shape)}")
        if codes.numel() and not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
            sem, ac = codes[..., 0], codes[..., 1:]
            if sem.min() < 0 or sem.max() >= c.semantic_codebook_size or ac.min() < 0 or ac.max() >= c.acoustic_codebook_size:
                raise ValueError("codes out of range: the codec takes '-2 space' codes "
                                 f"(semantic 0..{c.semantic_codebook_size - 1}, acoustic 0..{c.acoustic_codebook_size - 1}); "
                                 "subtract 2 from backbone codes and drop END frames.")

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """codes int [B, T, 1+n_ac] (-2 space) -> latent [B, latent_dim, T] (docs/model.md#codec, step 1)."""
        self.check_codes(codes)
        e_sem = self.semantic_embedding()  # [S, D_sem]
        sem = e_sem[codes[..., 0]]  # [B, T, D_sem]
        levels = self.cfg.acoustic_codebook_size - 1  # 20: FSQ level c -> 2c/20 - 1 in {-1, -0.9, ..., 1}
        ac = (2 * codes[..., 1:]).to(e_sem.dtype) / levels - 1  # [B, T, n_ac]
        return torch.cat([sem, ac], dim=-1).transpose(1, 2)  # [B, latent_dim, T]

    def decode_latent(self, latent: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """latent [B, latent_dim, T] -> waveform [B, T·samples_per_frame] (docs/model.md#codec, steps 2-4)."""
        if self.frame_decoder is not None:
            params, f0 = self.render_params(latent)
            noise = source_filter.noise_like(f0) if noise is None else noise
            audio = source_filter.SourceFilterRenderer()(*params, f0, noise)
            return audio[:, : latent.shape[-1] * self.cfg.samples_per_frame]
        x = latent  # [B, latent_dim, T]
        for block in self.decoder_blocks:
            x = block(x)  # conv: [B, dim, s·L]; transformer: same shape
        y = self.output_proj(x)  # [B, patch or 2F, U·T] with U = upsample_factor (8)
        if self.istft is not None:
            return self.istft(y)  # [B, U·T·patch]
        # un-patch: w[t·patch + j] = y[j, t]
        return y.transpose(1, 2).reshape(y.shape[0], -1)  # [B, U·T·patch]

    def render_params(self, latent: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """source_filter head: latent [B, latent_dim, T] -> (lh, theta, ln, lr, phi [B, 601, F], f0 [B, F] Hz) with
        F = ceil(T · samples_per_frame / renderer_hop) renderer frames."""
        c = self.cfg
        x = latent
        for block in self.decoder_blocks:
            x = block(x)
        y = self.output_proj(x) * self.feature_scale[:, None] + self.feature_bias[:, None]  # [B, C, U·T], 100 Hz
        n = (latent.shape[-1] * c.samples_per_frame + c.renderer_hop - 1) // c.renderer_hop  # positive: exports exactly
        feats = resample_linear(y, n, c.renderer_hop / c.patch_size)
        f0 = torch.expm1(c.f0_log_scale * feats[:, c.frame_features - 2]).clamp(min=0)
        return self.frame_decoder(feats), f0

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes int [B, T, 1+n_ac] (-2 space) -> waveform [B, T·samples_per_frame]."""
        return self.decode_latent(self.dequantize(codes))

    forward = decode

    def iter_decode_stream(self, codes: torch.Tensor, chunk_frames: int | Sequence[int] = (2, 12),
                           left_context_frames: int = 25) -> Iterator[torch.Tensor]:
        """Yield waveform chunks [B, n·spf]: each chunk decodes [context + new frames] and drops the context samples.

        chunk_frames: one size, or successive sizes whose last value repeats (e.g. (2, 12): first chunk 2 frames).
        Equals one-shot decode once left_context_frames >= cfg.min_left_context_frames (21 at the release dims).
        """
        sizes = [chunk_frames] if isinstance(chunk_frames, int) else list(chunk_frames)
        if not sizes or min(sizes) < 1 or left_context_frames < 0:
            raise ValueError("chunk_frames must be >= 1 and left_context_frames >= 0")
        spf = self.cfg.samples_per_frame
        start, i = 0, 0
        while start < codes.shape[1]:
            n = sizes[min(i, len(sizes) - 1)]
            ctx = min(left_context_frames, start)
            wav = self.decode(codes[:, start - ctx: start + n])  # [B, (ctx + n')·spf]
            yield wav[:, ctx * spf:]
            start, i = start + n, i + 1

    def decode_stream(self, codes: torch.Tensor, chunk_frames: int | Sequence[int] = (2, 12),
                      left_context_frames: int = 25) -> torch.Tensor:
        """Chunked decode concatenated: [B, T, 1+n_ac] -> [B, T·spf] (the reference for streaming parity)."""
        chunks = list(self.iter_decode_stream(codes, chunk_frames, left_context_frames))
        if not chunks:
            return codes.new_zeros((codes.shape[0], 0), dtype=self.semantic_embedding().dtype)
        return torch.cat(chunks, dim=1)

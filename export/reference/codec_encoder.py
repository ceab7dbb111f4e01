"""PyTorch reference of the Voxtral codec ENCODER (`audio_tokenizer.input_proj.*`, `.encoder_blocks.*`, docs/model.md#the-small-default-model).

The released checkpoint has no encoder; the project's own small codec does. It is a separate module
so the decoder-only load of the 4B checkpoint stays strict; `encoder_state_dict` picks the encoder's
entries out of a full codec state dict.

Path: waveform -> right-pad to a multiple of patch_size -> patches [B, patch, P] (100 Hz)
-> input_proj (k=7, reflect) -> n x [transformer stage (window 16/8/4/2), causal strided conv (replicate)]
-> latent [B, latent_dim, T] -> codes: semantic = nearest E_sem row (Euclidean), acoustic = FSQ of tanh.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vox_edge.config import CodecConfig, ModelConfig
from vox_edge.errors import ConfigError

from .codec import AudioTokenizer, CausalConv1d, Transformer


def encoder_windows(cfg: CodecConfig) -> tuple[int, ...]:
    """Window of each encoder stage: attn_sliding_window_size, halved after each stride>1 conv (16, 8, 4, 2)."""
    w, out = cfg.attn_sliding_window_size, []
    for s in cfg.encoder_convs_strides:
        out.append(w)
        if s > 1 and cfg.half_attn_window_upon_downsampling:
            w //= 2
    return tuple(out)


class AudioEncoder(nn.Module):
    """encoder_blocks[2i] = transformer stage i, encoder_blocks[2i+1] = causal conv i (last one: dim -> latent_dim)."""

    def __init__(self, cfg: CodecConfig | ModelConfig):
        super().__init__()
        cfg = cfg.codec if isinstance(cfg, ModelConfig) else cfg
        n = len(cfg.encoder_convs_strides)
        if not (len(cfg.encoder_convs_kernels) == len(cfg.encoder_transformer_lengths) == n) or cfg.channels != 1:
            raise ConfigError("audio_tokenizer_args: encoder_*_str lists must have one length, and channels must be 1.")
        self.cfg = cfg
        self.input_proj = CausalConv1d(cfg.patch_size * cfg.channels, cfg.dim, cfg.patch_proj_kernel_size, pad_mode="reflect")
        blocks: list[nn.Module] = []
        for i, (k, s, n_layers, w) in enumerate(zip(cfg.encoder_convs_kernels, cfg.encoder_convs_strides,
                                                    cfg.encoder_transformer_lengths, encoder_windows(cfg))):
            blocks.append(Transformer(cfg, n_layers, w))
            c_out = cfg.latent_dim if i == n - 1 else cfg.dim
            blocks.append(CausalConv1d(cfg.dim, c_out, k, s, pad_mode="replicate"))
        self.encoder_blocks = nn.ModuleList(blocks)

    def patchify(self, wave: torch.Tensor) -> torch.Tensor:
        """wave [B, N] -> patches [B, patch, ceil(N / patch)], x[j, t] = w[t·patch + j] (zero right pad)."""
        p = self.cfg.patch_size
        wave = F.pad(wave, (0, -wave.shape[-1] % p))  # [B, P·patch]
        return wave.view(wave.shape[0], -1, p).transpose(1, 2)  # [B, patch, P]

    def encode_latent(self, wave: torch.Tensor) -> torch.Tensor:
        """wave [B, N] float -> latent [B, latent_dim, T], T = ceil(N / samples_per_frame)."""
        x = self.input_proj(self.patchify(wave))  # [B, dim, P]
        for block in self.encoder_blocks:
            x = block(x)  # transformer: same shape; conv: [B, C, ceil(L / s)]
        return x

    def quantize(self, latent: torch.Tensor, semantic_embedding: torch.Tensor) -> torch.Tensor:
        """latent [B, latent_dim, T] -> codes int64 [B, T, 1 + n_ac] in -2 space."""
        c = self.cfg
        z = latent.transpose(1, 2)  # [B, T, latent_dim]
        sem, ac = z[..., : c.semantic_dim], z[..., c.semantic_dim:]
        e = semantic_embedding.to(z.dtype)  # [S, D_sem]
        # argmin_s ||z - e_s||^2 = argmin_s (||e_s||^2 - 2 z·e_s); ||z||^2 is the same for every s
        sem_idx = ((e * e).sum(-1) - 2 * sem @ e.T).argmin(-1)  # [B, T]
        levels = c.acoustic_codebook_size - 1  # 20
        ac_idx = torch.round((torch.tanh(ac) + 1) / 2 * levels).long()  # [B, T, n_ac]; round half to even
        return torch.cat([sem_idx[..., None], ac_idx], dim=-1)

    def encode(self, wave: torch.Tensor, codec: AudioTokenizer) -> torch.Tensor:
        """wave [B, N] -> codes [B, ceil(N / spf), 1 + n_ac] (-2 space), with `codec`'s semantic codebook."""
        return self.quantize(self.encode_latent(wave), codec.semantic_embedding())

    forward = encode


def encoder_state_dict(state_dict: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """The encoder's entries of a codec state dict (keys `{prefix}input_proj.*`, `{prefix}encoder_blocks.*`), prefix removed."""
    heads = (prefix + "input_proj.", prefix + "encoder_blocks.")
    return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(heads)}

"""The trainable codec: reference encoder + reference decoder + the training-only quantiser logic.

The modules are the export references themselves (export/reference/codec*.py), so a trained state
loads strictly into `AudioTokenizer` (decoder, quantizer.semantic_codebook.*) and `AudioEncoder`
(input_proj.*, encoder_blocks.*). What only training needs lives here: the EMA update of the semantic
codebook (buffers embedding_sum / cluster_usage, so E_sem = embedding_sum / max(cluster_usage, 1e-5)
holds at inference), straight-through FSQ, quantiser dropout and a data-dependent latent scale init.
"""

from __future__ import annotations

import json
import os

import torch
import torch.nn.functional as F
from torch import nn

from training.common.paths import ROOT
from vox_edge.config import CodecConfig, ModelConfig
from vox_edge.export.reference.codec import AudioTokenizer
from vox_edge.export.reference.codec_encoder import AudioEncoder
from vox_edge.export.synthetic_params import make_params


DEFAULT_CONFIG = os.path.join(ROOT, "training", "configs", "codec_small.json")


def tokenizer_args(path: str = DEFAULT_CONFIG) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)["audio_tokenizer_args"]


def codec_config(args: dict) -> CodecConfig:
    """CodecConfig through the same params.json parser the engine uses (so the json is the source of truth)."""
    return ModelConfig.from_params(make_params("small", codec=dict(args))).codec


class FP32(nn.Module):
    """Runs a module in fp32 even inside a bf16 autocast (codec/train.py --bf16): the iSTFT head's exp and its fixed
    synthesis basis would lose the waveform's low bits in bf16."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.inner(x.float())


class Codec(nn.Module):
    """encoder + tokenizer; `flat_state()` gives the release key names (no `encoder.` / `tokenizer.` prefix)."""

    def __init__(self, cfg: CodecConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = AudioEncoder(cfg)
        self.tokenizer = AudioTokenizer(cfg)
        if self.tokenizer.istft is not None:  # weightless, so the state keys do not change
            self.tokenizer.istft = FP32(self.tokenizer.istft)
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))  # latent scale + codebook init done

    # --- state in release naming ---
    def flat_state(self) -> dict[str, torch.Tensor]:
        return {**self.tokenizer.state_dict(), **self.encoder.state_dict()}

    def load_flat_state(self, sd: dict[str, torch.Tensor]) -> None:
        enc = {k: v for k, v in sd.items() if k.startswith(("input_proj.", "encoder_blocks."))}
        dec = {k: v for k, v in sd.items() if k not in enc}
        self.encoder.load_state_dict({k: v.float() for k, v in enc.items()}, strict=True)
        self.tokenizer.load_state_dict({k: v.float() for k, v in dec.items()}, strict=True)
        self.initialised.fill_(True)

    # --- quantisers (training path) ---
    def split(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = latent.transpose(1, 2)  # [B, T, latent]
        return z[..., : self.cfg.semantic_dim], z[..., self.cfg.semantic_dim:]

    def fsq(self, ac: torch.Tensor) -> torch.Tensor:
        """tanh then round to 21 levels {-1, -0.9, ..., 1}, straight-through; same rounding as AudioEncoder.quantize."""
        levels = self.cfg.acoustic_codebook_size - 1
        t = torch.tanh(ac)
        q = torch.round((t + 1) / 2 * levels) * 2 / levels - 1
        return t + (q - t).detach()

    def vq(self, sem: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Nearest E_sem row (Euclidean, as AudioEncoder.quantize) -> (straight-through output, commit loss, idx)."""
        e = self.tokenizer.semantic_embedding()  # [S, D]
        idx = ((e * e).sum(-1) - 2 * sem.detach() @ e.T).argmin(-1)  # [B, T]
        q = e[idx]
        commit = F.mse_loss(sem, q)
        return sem + (q - sem).detach(), commit, idx

    @torch.no_grad()
    def ema_update(self, sem: torch.Tensor, idx: torch.Tensor, decay: float, dead_usage: float) -> int:
        """EMA k-means step on the two buffers; codes whose usage fell below dead_usage restart at batch vectors."""
        cb = self.tokenizer.quantizer.semantic_codebook
        z = sem.detach().reshape(-1, sem.shape[-1])  # [N, D]
        flat = idx.reshape(-1)
        counts = torch.bincount(flat, minlength=cb.cluster_usage.numel()).to(z.dtype)  # [S]
        sums = torch.zeros_like(cb.embedding_sum).index_add_(0, flat, z)  # [S, D]
        cb.cluster_usage.mul_(decay).add_(counts, alpha=1 - decay)
        cb.embedding_sum.mul_(decay).add_(sums, alpha=1 - decay)
        dead = (cb.cluster_usage < dead_usage).nonzero().squeeze(1)
        if dead.numel():
            # usage 2x the threshold: a restarted code gets a few hundred steps to win vectors before it is dead again
            pick = z[torch.randint(0, z.shape[0], (dead.numel(),), device=z.device)]
            cb.cluster_usage[dead] = 2 * dead_usage
            cb.embedding_sum[dead] = pick * (2 * dead_usage)
        return int(dead.numel())

    @torch.no_grad()
    def init_from_batch(self, wave: torch.Tensor) -> None:
        """Scale the last encoder conv so every latent channel starts with unit RMS, then seed E_sem from the batch.

        At default init the latent is tiny: tanh(z) rounds to FSQ level 0 everywhere and E_sem (all zeros) maps every
        frame to one code, so the decoder first sees a constant (the spike's stall). Only the weight-norm gain changes.
        """
        last = self.encoder.encoder_blocks[-1].conv.parametrizations.weight
        z = self.encoder.encode_latent(wave)  # [B, latent, T]
        rms = z.pow(2).mean(dim=(0, 2)).sqrt().clamp(min=1e-8)  # [latent]
        last.original0.div_(rms.view(-1, 1, 1))
        sem, _ = self.split(self.encoder.encode_latent(wave))
        z = sem.reshape(-1, sem.shape[-1])
        cb = self.tokenizer.quantizer.semantic_codebook
        pick = z[torch.randint(0, z.shape[0], (cb.cluster_usage.numel(),))]
        cb.embedding_sum.copy_(pick + 0.01 * torch.randn_like(pick))  # jitter: the batch has fewer frames than codes
        cb.cluster_usage.fill_(1.0)
        self.initialised.fill_(True)

    def forward(self, wave: torch.Tensor, fsq_dropout: float = 0.0, vq_dropout: float = 0.0):
        """wave [B, N] -> (reconstruction [B, N], commit loss, semantic idx, semantic pre-quant [B, T, D])."""
        n = wave.shape[-1]
        sem, ac = self.split(self.encoder.encode_latent(wave))
        sem_q, commit, idx = self.vq(sem)
        ac_q = self.fsq(ac)
        if self.training and (fsq_dropout > 0 or vq_dropout > 0):
            # per-sample quantiser dropout: some items pass the continuous latent (tanh for FSQ)
            b = wave.shape[0]
            keep_ac = (torch.rand(b, 1, 1, device=ac.device) >= fsq_dropout).to(ac.dtype)
            keep_sem = (torch.rand(b, 1, 1, device=sem.device) >= vq_dropout).to(sem.dtype)
            ac_q = keep_ac * ac_q + (1 - keep_ac) * torch.tanh(ac)
            sem_q = keep_sem * sem_q + (1 - keep_sem) * sem
        latent = torch.cat([sem_q, ac_q], dim=-1).transpose(1, 2)  # [B, latent, T]
        return self.tokenizer.decode_latent(latent)[:, :n], commit, idx, sem

    @torch.no_grad()
    def reconstruct(self, wave: torch.Tensor) -> torch.Tensor:
        """The inference path exactly: encode -> int codes -> AudioTokenizer.decode."""
        codes = self.encoder.encode(wave, self.tokenizer)
        return self.tokenizer.decode(codes)[:, : wave.shape[-1]]


def param_count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())

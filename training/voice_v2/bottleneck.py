"""Stage 2: the 12.5 Hz code bottleneck over the teacher's decoder input.

encoder (training only): x [B, 130, F] at 80 Hz -> 100 Hz -> three stride-2 stages -> 12.5 Hz ->
    semantic VQ (2048 x 64, EMA codebook) + 36 FSQ dims of 21 levels: exactly a Voxtral frame of codes.
decoder (shipped, the codec's trunk): the small codec's own causal decoder blocks (export/reference/codec.py:
    conv, transformer, x2 upsampling stages -> 100 Hz), an output conv to 130 channels, and a fixed linear
    resampling 100 Hz -> 80 Hz. The teacher's frame decoder and the renderer follow it at run time.

Loss: L1 on the 130 channels, each scaled by its spread over the data (the text features are piecewise constant
per phoneme, so L1 keeps their edges), with the log-f0 and energy channels weighted up, plus the VQ commitment.

    python -m training.voice_v2.bottleneck --data DIR --out CKPT_DIR [--minutes 20] [--init COMPACT]
        (resumes from CKPT_DIR/last.pt; else starts from the compact state COMPACT, if given)
    python -m training.voice_v2.bottleneck --compact CKPT_DIR/last.pt training/voice_v2/checkpoints/bottleneck.pt
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vox_edge.export.reference.codec import AudioTokenizer, CausalConv1d
from vox_edge.export.synthetic_params import make_params
from vox_edge.config import ModelConfig

FRAMES_PER_CODE_80HZ = 6.4  # 80 ms / 12.5 ms
UP = 8  # decoder rate 100 Hz = 8 x 12.5 Hz
N_X = 130
CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "codec_small.json")


def codec_config():
    import json

    with open(CONFIG, encoding="utf-8") as f:
        args = json.load(f)["audio_tokenizer_args"]
    return ModelConfig.from_params(make_params("small", codec=dict(args))).codec


def resample(x: torch.Tensor, n_out: int, ratio: float) -> torch.Tensor:
    """Linear resampling along the last axis: out[j] = x at input position j * ratio (clamped at the end)."""
    n_in = x.shape[-1]
    pos = torch.arange(n_out, dtype=torch.float32, device=x.device) * ratio
    lo = pos.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    w = (pos - lo.float()).clamp(0, 1)
    return x[..., lo] * (1 - w) + x[..., hi] * w


def n_codes(frames_80hz: int) -> int:
    return math.ceil(frames_80hz / FRAMES_PER_CODE_80HZ)


class Encoder(nn.Module):
    def __init__(self, dim: int = 256, sem_dim: int = 64, n_ac: int = 36):
        super().__init__()
        self.inp = nn.Conv1d(N_X, dim, 5, padding=2)
        layers = []
        for _ in range(3):
            layers += [nn.Conv1d(dim, dim, 5, padding=2), nn.GELU(), nn.Conv1d(dim, dim, 4, stride=2, padding=1), nn.GELU()]
        self.body = nn.Sequential(*layers)
        self.ctx = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 4, 2 * dim, 0.0, batch_first=True,
                                                                    norm_first=True), 2)
        self.norm = nn.LayerNorm(dim)
        self.sem = nn.Linear(dim, sem_dim)
        self.ac = nn.Linear(dim, n_ac)

    def forward(self, x100: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # [B, 130, 8T] -> [B, T, *]
        h = self.body(F.gelu(self.inp(x100)))  # [B, dim, T]
        h = self.norm(self.ctx(h.transpose(1, 2)))
        return self.sem(h), self.ac(h)


class Bottleneck(nn.Module):
    def __init__(self):
        super().__init__()
        self.cfg = codec_config()
        c = self.cfg
        self.encoder = Encoder(c.dim, c.semantic_dim, c.acoustic_dim)
        self.tokenizer = AudioTokenizer(c)
        self.tokenizer.output_proj = CausalConv1d(c.dim, N_X, c.output_kernel, pad_mode="reflect")
        self.tokenizer.istft = None
        self.register_buffer("x_scale", torch.ones(N_X))
        self.register_buffer("x_mean", torch.zeros(N_X))
        self.levels = c.acoustic_codebook_size - 1

    # -- quantisation -------------------------------------------------------------------------
    def vq(self, z: torch.Tensor, update: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cb = self.tokenizer.quantizer.semantic_codebook
        e = cb.embedding()  # [S, D]
        flat = z.reshape(-1, z.shape[-1])
        d = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ e.t() + e.pow(2).sum(1)[None])
        idx = d.argmin(1)
        q = e[idx].view_as(z)
        if update:
            with torch.no_grad():
                onehot = F.one_hot(idx, e.shape[0]).to(flat.dtype)
                cb.cluster_usage.mul_(0.99).add_(onehot.sum(0), alpha=0.01)
                cb.embedding_sum.mul_(0.99).add_(onehot.t() @ flat.detach(), alpha=0.01)
                dead = cb.cluster_usage < 1e-3  # restart unused entries on random current vectors
                if dead.any():
                    pick = flat[torch.randint(0, flat.shape[0], (int(dead.sum()),))].detach()
                    cb.embedding_sum[dead] = pick
                    cb.cluster_usage[dead] = 1.0
        commit = F.mse_loss(z, q.detach())
        return z + (q - z).detach(), idx.view(z.shape[:-1]), commit

    def fsq(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.tanh(a)
        code = torch.round((t + 1) * self.levels / 2)
        q = 2 * code / self.levels - 1
        return t + (q - t).detach(), code.long()

    # -- halves -----------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, update: bool = False):
        """x [B, 130, F] (raw teacher units) -> latent [B, latent_dim, T], codes [B, T, 37], commitment."""
        t = n_codes(x.shape[-1])
        xn = (x - self.x_mean[:, None]) / self.x_scale[:, None]
        x100 = resample(xn, UP * t, 0.8)
        sem, ac = self.encoder(x100)
        sem_q, sem_idx, commit = self.vq(sem, update)
        ac_q, ac_idx = self.fsq(ac)
        latent = torch.cat([sem_q, ac_q], dim=-1).transpose(1, 2)
        return latent, torch.cat([sem_idx[..., None], ac_idx], dim=-1), commit

    def decode(self, latent: torch.Tensor, frames_80hz: int) -> torch.Tensor:
        """latent [B, latent_dim, T] -> x_hat [B, 130, frames_80hz] in teacher units."""
        h = latent
        for block in self.tokenizer.decoder_blocks:
            h = block(h)
        y = self.tokenizer.output_proj(h)  # [B, 130, 8T] at 100 Hz
        y = resample(y, frames_80hz, 1.25)
        return y * self.x_scale[:, None] + self.x_mean[:, None]

    @torch.no_grad()
    def reconstruct(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """numpy x [130, F] -> (x_hat [130, F], f0_hat [F] Hz) through the codes."""
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]
        latent, _, _ = self.encode(xt)
        xh = self.decode(latent, xt.shape[-1])[0].numpy()
        return xh, f0_from_x(xh)


def f0_from_x(x: np.ndarray) -> np.ndarray:
    """The teacher's channel 128 is log(1 + f0) / 5 (f0 in Hz, relu'd): invert it."""
    return np.maximum(np.expm1(5.0 * x[128]), 0.0).astype(np.float32)


# ---------------------------------------------------------------- data
class Clips:
    def __init__(self, data_dir: str):
        feats, lens = [], []
        for p in sorted(glob.glob(os.path.join(data_dir, "shard_*.npz"))):
            z = np.load(p)
            feats.append(z["feats"])
            lens.append(z["lens"])
        self.feats = np.concatenate(feats)  # [sum F, 130] float16
        self.lens = np.concatenate(lens)
        self.starts = np.concatenate([[0], np.cumsum(self.lens)[:-1]])

    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        sample = self.feats[:: max(1, len(self.feats) // 200_000)].astype(np.float32)
        mean = sample.mean(0)
        scale = np.abs(sample - mean).mean(0) + 1e-3
        return mean, scale

    def batch(self, rng: np.random.Generator, size: int, codes: int) -> torch.Tensor:
        """[size, 130, round(codes * 6.4)] random crops aligned to code frames (crops start at multiples of 32)."""
        n = int(round(codes * FRAMES_PER_CODE_80HZ))
        out = np.zeros((size, n, N_X), np.float32)
        for i in range(size):
            k = rng.integers(len(self.lens))
            length = self.lens[k]
            start = 0 if length <= n else 32 * rng.integers((length - n) // 32 + 1)
            seg = self.feats[self.starts[k] + start: self.starts[k] + min(length, start + n)]
            out[i, : len(seg)] = seg
            if len(seg) < n:  # pad with the clip's last (silent) frame
                out[i, len(seg):] = seg[-1]
        return torch.from_numpy(out).transpose(1, 2)


# ---------------------------------------------------------------- training
def channel_weights() -> torch.Tensor:
    w = torch.ones(N_X)
    w[128:] = 4.0  # log-f0 and energy: few channels, much of the prosody
    return w / w.mean()


def train(a) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    last = os.path.join(a.out, "last.pt")
    model = Bottleneck()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.8, 0.99), weight_decay=0.01)
    step, rng = 0, np.random.default_rng(0)
    data = Clips(a.data)
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, rng = ck["step"], ck["rng"]
        print(f"resumed at step {step}", flush=True)
    elif a.init:  # a compact state: weights only, so the optimizer restarts (its schedule from that step)
        model.load_state_dict(load_for_eval(a.init).state_dict())
        step = torch.load(a.init, map_location="cpu", weights_only=False)["step"]
        print(f"started from {a.init} (step {step})", flush=True)
    else:
        mean, scale = data.stats()
        model.x_mean.copy_(torch.from_numpy(mean))
        model.x_scale.copy_(torch.from_numpy(scale))
    w = channel_weights()[None, :, None]
    t_end = time.time() + 60 * a.minutes
    t0, hist = time.time(), []
    while time.time() < t_end and step < a.steps:
        lr = a.lr * min(1.0, (step + 1) / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step / a.steps, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        x = data.batch(rng, a.batch, a.codes)
        latent, _, commit = model.encode(x, update=True)
        xh = model.decode(latent, x.shape[-1])
        rec = ((xh - x).abs() / model.x_scale[None, :, None] * w).mean()
        loss = rec + 0.25 * commit
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        hist.append(rec.item())
        if step % 50 == 0:
            usage = (model.tokenizer.quantizer.semantic_codebook.cluster_usage > 0.01).float().mean().item()
            print(f"step {step} rec {np.mean(hist):.4f} commit {commit.item():.4f} vq-used {usage:.2f} lr {lr:.2e} "
                  f"{(time.time() - t0) / len(hist):.2f} s/step", flush=True)
            hist, t0 = [], time.time()
        if step % 250 == 0:
            save(model, opt, step, rng, last)
    save(model, opt, step, rng, last)


def save(model, opt, step, rng, path) -> None:
    tmp = path + ".partial"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng}, tmp)
    os.replace(tmp, path)


def load_for_eval(path: str) -> Bottleneck:
    """A training checkpoint or a compact state (fp16 weights, no optimizer) -> the model in fp32, eval mode."""
    model = Bottleneck()
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck["model"].items()})
    return model.eval()


def compact(src: str, dst: str) -> None:
    """The committed record of a run: fp16 weights and buffers (about 13 MB), its step, no optimizer state.
    `--init` starts a new run from it when the cache with the training checkpoints is gone."""
    ck = torch.load(src, map_location="cpu", weights_only=False)
    state = {k: v.half() if v.is_floating_point() else v for k, v in ck["model"].items()}
    tmp = dst + ".partial"
    torch.save({"model": state, "step": ck["step"]}, tmp)
    os.replace(tmp, dst)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--out")
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--steps", type=int, default=20_000, help="schedule length (cosine to 0.1x)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--codes", type=int, default=24, help="crop length in code frames")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="compact state to start from when --out has no checkpoint")
    ap.add_argument("--compact", nargs=2, metavar=("CKPT", "OUT"), help="write CKPT's compact state to OUT and exit")
    a = ap.parse_args(argv)
    if a.compact:
        return compact(*a.compact)
    train(a)


if __name__ == "__main__":
    main()

"""Phonetic semantic codes: a training-only CTC phoneme head on the quantised semantic latent of the codec.

Why: Voxtral's semantic code is distilled from an ASR model, so it carries phonetic content and the backbone's
job (text -> semantic code) is learnable. The small codec's VQ, trained by reconstruction alone, ended with a
code that text barely predicts (stage-3 val CE 4.4 nats vs 5.0 for the code's unigram entropy, and a model that
memorised instead). This head asks each quantised 80 ms semantic vector to name the phones spoken in it:
CTC over `SUB` slots per frame (phones reach 11.6/s in the teacher audio, 12.5 Hz frames are too coarse for CTC
alone), targets = the teacher's misaki phonemes without stress marks, spaces or punctuation.
The head is deliberately small and per-frame (no temporal context), so the phonetic information has to be in
each code, not in the head. It never leaves training: export and the runtime see only the codec.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# the phones of misaki's US inventory (upper-case letters are its diphthong symbols); order fixes the ids
PHONES = tuple("əʌɐᵊᵻɪiɛæɑɔuʊɜIAOWYTtdkɡpbmnŋfvθðszʃʒhʤʧlɹwj")
PHONE_ID = {p: i + 1 for i, p in enumerate(PHONES)}  # 0 = CTC blank
SUB = 4  # CTC slots per codec frame


def phone_ids(phonemes: str) -> list[int]:
    """misaki phoneme string -> phone ids (stress, spaces, punctuation and unknown symbols dropped)."""
    return [PHONE_ID[c] for c in phonemes if c in PHONE_ID]


class CTCHead(nn.Module):
    """[B, T, semantic_dim] quantised semantic vectors -> [B, T * SUB, 1 + len(PHONES)] log-probabilities."""

    def __init__(self, semantic_dim: int, hidden: int = 256):
        super().__init__()
        self.n_out = 1 + len(PHONES)
        # scale-free input: otherwise the cheapest way to sharpen the CTC posteriors is to grow the semantic latent,
        # which the EMA codebook cannot follow (without the norm: latent norms x100, commit loss 0.007 -> 700 in 1k steps)
        self.net = nn.Sequential(nn.LayerNorm(semantic_dim, elementwise_affine=False), nn.Linear(semantic_dim, hidden),
                                 nn.GELU(), nn.Linear(hidden, SUB * self.n_out))

    def forward(self, sem_q: torch.Tensor) -> torch.Tensor:
        b, t, _ = sem_q.shape
        return self.net(sem_q).reshape(b, t * SUB, self.n_out).log_softmax(-1)


def ctc_loss(logp: torch.Tensor, frame_lens: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
    """Mean CTC loss per target phone. logp [B, T * SUB, C], frame_lens [B] valid codec frames per item."""
    tgt = torch.tensor([p for t in targets for p in t], dtype=torch.long)
    tgt_lens = torch.tensor([len(t) for t in targets], dtype=torch.long)
    # float32: CTC's alpha recursion underflows in bf16
    return F.ctc_loss(logp.float().transpose(0, 1), tgt, frame_lens * SUB, tgt_lens, blank=0,
                      reduction="mean", zero_infinity=True)


def greedy(logp: torch.Tensor, frame_len: int) -> list[int]:
    """Best path of one item (logp [T * SUB, C]): collapse repeats, drop blanks."""
    best = logp[: frame_len * SUB].argmax(-1).tolist()
    out, prev = [], 0
    for k in best:
        if k != prev and k != 0:
            out.append(k)
        prev = k
    return out


def latent_hinge(sem: torch.Tensor, limit: float) -> torch.Tensor:
    """Mean over frames of relu(rms - limit)^2, rms over the latent dim: sem [B, T, D] -> scalar. Zero while every
    frame stays within `limit`, so it leaves a healthy latent alone and only pushes back a runaway one."""
    rms = sem.pow(2).mean(dim=-1).clamp(min=1e-12).sqrt()  # [B, T]
    return torch.relu(rms - limit).pow(2).mean()

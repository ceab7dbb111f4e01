"""The backbone stage's model maths: the reference VoxtralTTS (with_codec=False, checkpoint names) plus the
training losses.

Losses of one batch (docs/model.md, Generation loop and Acoustic step):
- semantic: cross-entropy of `acoustic_transformer.semantic_codebook_output` on the backbone hidden at L-1+f
  against frame f's semantic code, and against END_AUDIO at the position after the last frame;
- acoustic: conditional flow matching. x1 = the frame's FSQ values in [-1, 1] (level / (L-1) * 2 - 1, the codec's
  de-quantisation), x0 ~ N(0, I), t ~ U(0, 1) or logit-normal, x_t = (1 - t) x0 + t x1, target velocity
  x1 - x0 (t = 0 noise, t = 1 data, as the Euler loop integrates). With probability p_uncond the condition
  token is zero, which is exactly the unconditional branch CFG uses at inference (llm_projection(0) = 0).

The voice prefix [BOS][BEGIN_AUDIO][voice x N][NEXT_AUDIO_TEXT] is the same for every example, so it runs once
per batch and its KV cache is broadcast; gradients reach the audio table through the voice rows, which are the
sums of codebook rows of the voice clip's codes (docs/model.md, Voices), recomputed from the live table every step.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from vox_edge.config import END_AUDIO, ModelConfig
from vox_edge.export.reference.model import VoxtralTTS


def build_model(params: dict, seed: int = 0) -> VoxtralTTS:
    cfg = ModelConfig.from_params(params)
    torch.manual_seed(seed)
    model = VoxtralTTS(cfg, with_codec=False)
    init_weights(model)
    return model


@torch.no_grad()
def init_weights(model: VoxtralTTS) -> None:
    """Unit-variance input embeddings (a frame is a sum of 37 rows), 1/sqrt(fan_in) linears, residual outputs
    scaled by 1/sqrt(2 n_layers), zero acoustic output (initial velocity 0), small semantic head."""
    cfg = model.cfg
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.fill_(1.0)
        elif name == "mm_audio_embeddings.tok_embeddings.weight":
            p.normal_(0, 1.0)
        elif name == "mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight":
            p.normal_(0, 1.0 / math.sqrt(cfg.n_codebooks))
        elif name == "acoustic_transformer.acoustic_codebook_output.weight":
            p.zero_()
        else:
            std = 1.0 / math.sqrt(p.shape[-1])
            if name.endswith(("attention.wo.weight", "feed_forward.w2.weight")):
                n = cfg.n_layers if name.startswith("layers.") else cfg.acoustic.n_layers
                std /= math.sqrt(2 * n)
            if name == "acoustic_transformer.semantic_codebook_output.weight":
                std *= 0.1
            p.normal_(0, std)


def voice_rows(model: VoxtralTTS, voice_codes: torch.Tensor) -> torch.Tensor:
    """[N, 37] +2-space codes -> [N, D] prompt rows (sum of codebook rows)."""
    return model.embed_codes(voice_codes)


def prefix_embeddings(model: VoxtralTTS, prefix_ids: torch.Tensor, voice_codes: torch.Tensor) -> torch.Tensor:
    """[P] ids of [BOS][BEGIN_AUDIO][AUDIO x N][NEXT_AUDIO_TEXT] -> [1, P, D] with the voice rows spliced in."""
    e = model.mm_audio_embeddings.tok_embeddings(prefix_ids)
    n = voice_codes.shape[0]
    return torch.cat([e[:2], voice_rows(model, voice_codes), e[2 + n:]])[None]


def sample_t(n: int, mode: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """[n] on the CPU (the training generator is a CPU one on every device, so runs draw the same numbers)."""
    if mode == "uniform":
        return torch.rand(n, generator=generator)
    if mode == "logit-normal":  # more weight on mid-trajectory times
        return torch.sigmoid(torch.randn(n, generator=generator))
    raise ValueError(f"unknown t sampling {mode!r}")


def frame_hiddens(model: VoxtralTTS, batch, voice_codes: torch.Tensor, frame_dropout: float = 0.0) -> torch.Tensor:
    """Teacher-forced backbone -> [B, T+1, D]: row f is the hidden at L-1+f, which predicts frame f (END at T).

    frame_dropout: dropout on the fed-back frame embeddings (Tacotron's prenet dropout): with exact previous
    frames the model can continue the audio without reading the text, which memorises hours of data in a few
    epochs instead of aligning."""
    p = batch.n_voice + 3  # shared prefix length
    prefix = prefix_embeddings(model, batch.ids[0, :p], voice_codes)
    _, past = model.backbone(prefix)
    b = batch.ids.shape[0]
    past = [(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1)) for k, v in past]
    ids, is_frame, codes_in = batch.ids[:, p:], batch.is_frame[:, p:], batch.codes_in[:, p:]
    tok = model.mm_audio_embeddings.tok_embeddings(ids)
    aud = F.dropout(model.embed_codes(codes_in), frame_dropout, model.training)
    hidden, _ = model.backbone(torch.where(is_frame[..., None], aud, tok), past)  # [B, S - P, D]
    return hidden.gather(1, (batch.tgt_pos - p).clamp(min=0)[..., None].expand(-1, -1, hidden.shape[-1]))


@contextmanager
def residual_dropout(model: VoxtralTTS, p: float):
    """Dropout on the attention and feed-forward outputs of the layers (training only), as forward hooks: the
    reference modules and the exported graphs stay dropout-free. Active for the forwards inside the block."""

    def hook(_module, _inputs, out):  # backbone attention returns (out, k, v); the rest a tensor
        return (F.dropout(out[0], p, True),) + tuple(out[1:]) if isinstance(out, tuple) else F.dropout(out, p, True)

    handles = [m.register_forward_hook(hook) for name, m in model.named_modules()
               if p > 0 and model.training and name.endswith((".feed_forward", ".attention"))]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def record_attention(model: VoxtralTTS, layers: tuple[int, ...], heads: int):
    """Collect the softmax probabilities of the first `heads` heads of backbone `layers` during the forwards inside.

    Wraps `attend` of those layers (training only): the output is the reference's own; the probabilities are
    recomputed from the same q/k/mask (a few % of a step at these sizes). Yields a list of [B, heads, S, P+S].
    """
    from vox_edge.export.reference.layers import repeat_kv

    probs: list[torch.Tensor] = []
    patched = []
    for i in layers:
        att = model.backbone.layers[i].attention
        orig = att.attend

        def attend(q, k, v, mask, _att=att, _orig=orig):
            kk = repeat_kv(k, _att.n_heads // _att.n_kv_heads)[:, :heads]
            scores = (q[:, :heads] @ kk.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
            probs.append(torch.softmax((scores + mask if mask is not None else scores).float(), dim=-1))
            return _orig(q, k, v, mask)

        att.attend = attend
        patched.append(att)
    try:
        yield probs
    finally:
        for att in patched:
            del att.attend  # back to the class method


def guided_attention_loss(probs: list[torch.Tensor], batch, sigma: float = 0.2) -> torch.Tensor:
    """DC-TTS guided attention: attention mass of audio frame f on text token j, weighted by
    1 - exp(-(j/N - f/T)^2 / (2 sigma^2)), and on any non-text key, weighted 1; near-diagonal text mass is free.
    Averaged over frames, heads and layers.

    probs: [B, H, S, P+S] from record_attention over the batch part (queries after the shared prefix P).
    Segment layout (collate): text at [0, N) after the prefix, [REPEAT_AUDIO_TEXT][BEGIN_AUDIO], frames at [N+2, N+2+T).
    """
    if not probs:
        return torch.zeros((), device=batch.tgt_pos.device)
    b, _, s, total = probs[0].shape
    dev = probs[0].device
    p = total - s  # shared prefix length (BOS, BEGIN_AUDIO, voice rows, NEXT_AUDIO_TEXT)
    n_text = (batch.tgt_pos[:, 0] + 1 - 2 - p).clamp(min=1)  # [B]
    n_frames = batch.ac_valid.sum(1).clamp(min=1)  # [B]
    f = torch.arange(s, device=dev)[None, :] - (n_text + 2)[:, None]  # [B, S] frame index of each query row
    q_ok = (f >= 0) & (f < n_frames[:, None])
    j = torch.arange(total, device=dev)[None, :] - p  # [1, P+S] text index of each key column
    k_ok = (j >= 0) & (j < n_text[:, None])  # [B, P+S]
    d = j[:, None, :] / n_text[:, None, None] - f[:, :, None] / n_frames[:, None, None]  # [B, S, P+S]
    off_diag = 1 - torch.exp(-d.float() ** 2 / (2 * sigma ** 2))
    # keys outside the text (voice prefix, specials, earlier frames) cost 1: unlike DC-TTS's encoder-decoder
    # attention, a decoder-only head could otherwise dodge the prior by looking away from the text
    w = torch.where(k_ok[:, None, :], off_diag, 1.0) * q_ok[:, :, None]
    per_row = sum((a * w[:, None]).sum(-1) for a in probs) / len(probs)  # [B, H, S]
    return (per_row * q_ok[:, None]).sum() / (q_ok.sum() * per_row.shape[1]).clamp(min=1)


def smoothed_ce(logits: torch.Tensor, tgt: torch.Tensor, eps: float) -> torch.Tensor:
    """Cross-entropy with label smoothing over the *allowed* codes only: the semantic head writes -inf for EMPTY
    and padding rows, which torch's label_smoothing would spread mass onto (inf loss)."""
    logp = torch.log_softmax(logits.float(), dim=-1)  # [N, W]
    nll = -logp.gather(1, tgt[:, None])[:, 0]
    if eps <= 0:
        return nll.mean()
    ok = torch.isfinite(logits)
    uniform = -torch.where(ok, logp, 0.0).sum(-1) / ok.sum(-1)
    return ((1 - eps) * nll + eps * uniform).mean()


def compute_losses(model: VoxtralTTS, batch, voice_codes: torch.Tensor, *, p_uncond: float = 0.1,
                   t_mode: str = "uniform", fm_weight: float = 1.0, generator: torch.Generator | None = None,
                   guided_weight: float = 0.0, guided_layers: tuple[int, ...] = (), guided_heads: int = 2,
                   guided_sigma: float = 0.2, dropout: float = 0.0, frame_dropout: float = 0.0,
                   label_smoothing: float = 0.0) -> dict:
    cfg: ModelConfig = model.cfg
    at = model.acoustic_transformer
    with record_attention(model, guided_layers if guided_weight > 0 else (), guided_heads) as probs, \
            residual_dropout(model, dropout):
        h = frame_hiddens(model, batch, voice_codes, frame_dropout)  # [B, T+1, D]
    # the shared-prefix forward (no past: keys == queries) records too; keep the batch part's (keys = P + S)
    probs = [a for a in probs if a.shape[3] != a.shape[2]]
    guided = guided_attention_loss(probs, batch, guided_sigma)
    valid = batch.sem_tgt != -100
    logits = at.semantic_logits(h[valid])
    tgt = batch.sem_tgt[valid]
    ce = smoothed_ce(logits, tgt, label_smoothing if model.training else 0.0)
    pred = logits.argmax(-1)
    is_end = tgt == END_AUDIO

    hf = h[:, :-1][batch.ac_valid]  # [F, D]
    x1 = batch.ac_tgt[batch.ac_valid].float() * (2.0 / (cfg.acoustic_codebook_size - 1)) - 1.0  # [F, A]
    # noise from the (CPU) generator, then to the batch's device: the same draws on CPU and GPU
    x0 = torch.randn(x1.shape, generator=generator).to(x1.device)
    t = sample_t(x1.shape[0], t_mode, generator).to(x1.device)
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    keep = (torch.rand(x1.shape[0], generator=generator) >= p_uncond).to(hf.device, hf.dtype)
    llm = at.llm_projection(hf) * keep[:, None]
    v = at.velocity(xt, at.time_condition(t), llm)
    fm = F.mse_loss(v, x1 - x0)
    return {
        "loss": ce + fm_weight * fm + guided_weight * guided,
        "ce": ce,
        "guided": guided,
        "fm": fm,
        "sem_acc": (pred == tgt)[~is_end].float().mean(),
        "end_recall": (pred[is_end] == END_AUDIO).float().mean(),  # stops where it should
        "false_end": (pred[~is_end] == END_AUDIO).float().mean(),  # would stop too early
    }

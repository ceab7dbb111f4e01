"""The whole Voxtral TTS model with checkpoint-equal module names, and the reference generation loop.

`VoxtralTTS(cfg).load_state_dict(consolidated_tensors, strict=True)` loads a real checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vox_edge.config import END_AUDIO, N_AUDIO_SPECIAL, ModelConfig

from .acoustic import AcousticTransformer
from .backbone import Backbone


class AudioCodebookEmbeddings(nn.Module):
    """One shared [9088, D] table for all 37 codebooks; frame embedding = sum of 37 rows (docs/model.md#codes)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.embeddings = nn.Embedding(cfg.audio_embedding_rows, cfg.dim)
        self.register_buffer("offsets", torch.tensor(cfg.codebook_offsets, dtype=torch.int64), persistent=False)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [..., 37] in +2 space -> [..., D]."""
        return self.embeddings(codes + self.offsets).sum(dim=-2)


class MultimodalEmbeddings(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.audio_codebook_embeddings = AudioCodebookEmbeddings(cfg)


@dataclass(frozen=True)
class Generation:
    codes: torch.Tensor  # [T, 37] in +2 space, END frame excluded
    stopped: bool  # True if END_AUDIO was emitted (False = frame cap hit)


class VoxtralTTS(nn.Module):
    def __init__(self, cfg: ModelConfig, with_codec: bool = True):
        super().__init__()
        self.cfg = cfg
        self.mm_audio_embeddings = MultimodalEmbeddings(cfg)
        backbone = Backbone(cfg)
        # Register the backbone's children at the top level so names are `layers.N...` and `norm.weight`.
        self.layers, self.norm = backbone.layers, backbone.norm
        self._backbone = [backbone]  # list: not a registered submodule (avoids duplicate names)
        self.acoustic_transformer = AcousticTransformer(cfg)
        if with_codec:
            from .codec import AudioTokenizer

            self.audio_tokenizer = AudioTokenizer(cfg.codec)

    @property
    def backbone(self) -> Backbone:
        return self._backbone[0]

    # --- prompt ---
    def prompt_embeddings(self, ids: torch.Tensor, voice: torch.Tensor | None) -> torch.Tensor:
        """ids [L] (docs/model.md#prompt-layout), voice [N, D] -> [1, L, D]; [AUDIO] positions replaced row by row."""
        e = self.mm_audio_embeddings.tok_embeddings(ids)
        if voice is not None:
            pos = (ids == self.cfg.audio_token_id).nonzero().flatten()
            if pos.numel() != voice.shape[0]:
                raise ValueError(f"prompt has {pos.numel()} [AUDIO] tokens but the voice has {voice.shape[0]} rows")
            e = e.clone()
            e[pos] = voice.to(e.dtype)
        return e[None]

    def embed_codes(self, codes: torch.Tensor) -> torch.Tensor:
        return self.mm_audio_embeddings.audio_codebook_embeddings(codes)

    # --- generation (docs/model.md#generation-loop) ---
    @torch.no_grad()
    def generate(self, prompt_embeds: torch.Tensor, noise: torch.Tensor, max_frames: int,
                 n_steps: int | None = None, cfg_alpha: float = 1.2) -> Generation:
        """prompt_embeds [1,L,D]; noise [>= max_frames, A]: row f is frame f's x0 (END frame consumes its row).

        The first frame comes from the hidden of the last prompt token (no extra [AUDIO] step, docs/model.md#generation-loop).
        """
        n_steps = n_steps or self.cfg.acoustic.n_decoding_steps
        hidden, past = self.backbone(prompt_embeds)
        h = hidden[:, -1]  # [1, D]
        frames = []
        for f in range(max_frames):
            codes = self.acoustic_transformer.decode_frame(h, noise[f : f + 1], n_steps, cfg_alpha)  # [1,37]
            if int(codes[0, 0]) == END_AUDIO:
                return Generation(torch.stack(frames) if frames else codes.new_zeros((0, self.cfg.n_codebooks)), True)
            frames.append(codes[0])
            hidden, past = self.backbone(self.embed_codes(codes)[:, None], past)
            h = hidden[:, -1]
        return Generation(torch.stack(frames) if frames else noise.new_zeros((0, self.cfg.n_codebooks), dtype=torch.int64), False)

    @torch.no_grad()
    def codes_to_audio(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [T,37] in +2 space -> waveform [T·samples_per_frame] (float32)."""
        if codes.shape[0] == 0:
            return torch.zeros(0)
        return self.audio_tokenizer.decode((codes - N_AUDIO_SPECIAL)[None])[0]

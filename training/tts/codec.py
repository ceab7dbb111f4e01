"""The codec as the backbone stage sees it: load a codec checkpoint, fingerprint it, encode waveforms, decode codes.

Accepts a voice v2 bottleneck state (training/voice_v2/checkpoints/bottleneck.pt: decoder-only, through
voice_v2/codec_graph.py) and the two forms of an encoder + decoder codec: a training state (fp32, key "model" with
`encoder.` / `tokenizer.` prefixes) and the compact form (fp16, key "weights" in release naming; save_compact_like;
the first voice's codec, in git history at commit eb6fe83, was committed so). Only the reference modules are used
(export/reference/codec*.py), so this file depends on the checkpoint format, not on a codec trainer's code.
The fingerprint hashes the fp16 encoder + quantizer weights, so both forms of the same step give the same value:
the TTS model is tied to the codes it was trained on, and export refuses a codec with another fingerprint (a
decoder trained further with a frozen encoder keeps it).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch

from training.common import ckpt_io
from training.common.paths import ROOT
from vox_edge.config import CodecConfig, ModelConfig
from vox_edge.export.reference.codec import AudioTokenizer
from vox_edge.export.reference.codec_encoder import AudioEncoder
from vox_edge.export.synthetic_params import make_params

DEFAULT_CODEC = os.path.join(ROOT, "training", "voice_v2", "checkpoints", "bottleneck.pt")  # the committed v2 codec
ENCODER_KEYS = ("input_proj.", "encoder_blocks.")


def codec_config(tokenizer_args: dict) -> CodecConfig:
    """CodecConfig through the engine's own params.json parser."""
    return ModelConfig.from_params(make_params("small", codec=dict(tokenizer_args))).codec


@dataclass
class LoadedCodec:
    encoder: AudioEncoder | None  # None: a decoder-only codec (the voice v2 codec, training/voice_v2)
    tokenizer: AudioTokenizer  # decoder + semantic codebook
    tokenizer_args: dict  # multimodal.audio_tokenizer_args (without voices)
    step: int
    fingerprint: str
    path: str
    notices: tuple[str, ...] = ()  # licence files of weights the codec carries (they travel into the bundle)

    @property
    def cfg(self) -> CodecConfig:
        return self.tokenizer.cfg

    def flat_state(self) -> dict[str, torch.Tensor]:
        """Release names without the `audio_tokenizer.` prefix: decoder, quantizer and encoder tensors."""
        return {**self.tokenizer.state_dict(), **(self.encoder.state_dict() if self.encoder is not None else {})}

    @torch.no_grad()
    def encode(self, wave: torch.Tensor) -> torch.Tensor:
        """wave [N] float -> codes [T, 1 + n_ac] int64 in -2 space (T = ceil(N / samples_per_frame))."""
        return self.encoder.encode(wave[None].float(), self.tokenizer)[0]

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [T, 1 + n_ac] in -2 space -> waveform [T * samples_per_frame]."""
        return self.tokenizer.decode(codes[None])[0]


CODE_KEYS = ENCODER_KEYS + ("quantizer.",)  # what decides the codes: encoder + semantic codebook


def fingerprint(flat: dict[str, torch.Tensor]) -> str:
    """Identity of the codes: a hash of the encoder and quantizer only, so a decoder trained further on frozen
    codes (a frozen encoder) keeps the fingerprint its TTS model was trained against."""
    h = hashlib.sha256()
    for k in sorted(k for k in flat if k.startswith(CODE_KEYS)):
        h.update(k.encode())
        h.update(flat[k].detach().to(torch.float16).contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def flat_weights(ck: dict) -> dict[str, torch.Tensor]:
    if "weights" in ck:  # compact
        return dict(ck["weights"])
    if "model" in ck:  # a codec training state: encoder.* / tokenizer.* (+ bookkeeping buffers)
        out = {}
        for k, v in ck["model"].items():
            for prefix in ("encoder.", "tokenizer."):
                if k.startswith(prefix):
                    out[k[len(prefix):]] = v
        return out
    raise SystemExit("neither a codec training state ('model') nor a compact checkpoint ('weights')")


def from_weights(flat: dict[str, torch.Tensor], tokenizer_args: dict, step: int = 0, path: str = "") -> LoadedCodec:
    args = {k: v for k, v in tokenizer_args.items() if k != "voice"}
    cfg = codec_config(args)
    enc, dec = AudioEncoder(cfg), AudioTokenizer(cfg)
    enc.load_state_dict({k: v.float() for k, v in flat.items() if k.startswith(ENCODER_KEYS)}, strict=True)
    dec.load_state_dict({k: v.float() for k, v in flat.items() if not k.startswith(ENCODER_KEYS)}, strict=True)
    enc.eval(), dec.eval()
    c = LoadedCodec(enc, dec, args, step, "", path)
    c.fingerprint = fingerprint(c.flat_state())
    return c


def load_codec(path: str = DEFAULT_CODEC) -> LoadedCodec:
    ck = ckpt_io.load(path)
    if "x_scale" in ck.get("model", {}):  # a voice v2 bottleneck state: its trunk + the teacher's frame decoder
        from training.voice_v2.codec_graph import loaded_codec

        return loaded_codec(path)
    return from_weights(flat_weights(ck), ck["tokenizer_args"], int(ck.get("step", 0)), path)


def save_compact_like(codec: LoadedCodec, path: str) -> None:
    """A file in the compact format (fp16, cluster_usage fp32); tests use it."""
    weights = {k: (v.clone() if k.endswith("cluster_usage") else v.half()) for k, v in codec.flat_state().items()}
    torch.save({"weights": weights, "tokenizer_args": codec.tokenizer_args, "step": codec.step}, path)

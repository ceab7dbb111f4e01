"""Model configuration read from a Voxtral `params.json` (docs/model.md#paramsjson), shared by export and runtime.

Every derived constant (8194 / 8320 / 9088, codebook offsets, codec windows, samples per frame)
is computed here and nowhere else. Standard library only: the runtime imports this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

# Codes live in "+2 space": 0 = EMPTY_AUDIO, 1 = END_AUDIO, 2.. = real index (docs/model.md#codes).
N_AUDIO_SPECIAL = 2
EMPTY_AUDIO = 0
END_AUDIO = 1
PAD_MULTIPLE = 128  # head / embedding widths are rounded up to a multiple of 128
TIME_EMBEDDING_THETA = 10000.0  # hard-coded in the reference (docs/model.md#derived-sizes)
DEFAULT_CFG_ALPHA = 1.2
DEFAULT_NOISE_SCALE = 1.0  # x0 ~ N(0, I) (docs/model.md#acoustic-step)
# Ranges of the tunable sampling knobs (options, device profiles and a bundle's `synthesis` defaults alike).
CFG_ALPHA_RANGE = (0.0, 10.0)
NOISE_SCALE_RANGE = (0.0, 4.0)
DEFAULT_DECODING_STEPS = 7  # the reference's default when params.json lacks n_decoding_steps (docs/model.md#paramsjson)

# Limits of per-call options, enforced by the engine and checked by the CLI at parse time (one source for both).
MAX_FLOW_STEPS = 64
SEED_RANGE = (0, 2**64 - 1)  # numpy's default_rng takes non-negative integers
# Text the CLI reads per request (argument, stdin or --text-file), in UTF-8 bytes; `--max-text-bytes` changes it.
# 1 MiB is about 20 hours of speech; reading stops one byte past it, so /dev/zero fails at once.
DEFAULT_MAX_TEXT_BYTES = 1 << 20
# Audio budget per request, derived from the text as written (before number / symbol expansion):
#     budget = min(max_audio_seconds, AUDIO_BUDGET_BASE_SECONDS + AUDIO_BUDGET_SECONDS_PER_CHAR · characters)
# 0.5 s per written character is ~7x normal speech (~14 characters/s) and covers digits read one by one
# ("9" -> "nine", ~0.35 s); the ceiling applies to any text (device profiles: runtime.max_audio_seconds).
AUDIO_BUDGET_BASE_SECONDS = 10.0
AUDIO_BUDGET_SECONDS_PER_CHAR = 0.5
DEFAULT_MAX_AUDIO_SECONDS = 3600.0
MAX_AUDIO_SECONDS_RANGE = (1.0, 86400.0)
# Safety net for a model that fails to stop: this many seconds of consecutive frames the codec renders as
# silence (RMS below SILENCE_RMS, about -60 dBFS) end the segment. 0 turns it off (exact-parity runs).
DEFAULT_SILENCE_STOP_SECONDS = 3.0
SILENCE_STOP_SECONDS_RANGE = (0.0, 600.0)
SILENCE_RMS = 1e-3
# Safety net for a model that loses its place and babbles a syllable over and over ("tard, tard, tard" after the
# text): the last repetition_stop_seconds of semantic codes taking at most REPETITION_MAX_DISTINCT_SHARE distinct
# values ends the segment, unless one code holds REPETITION_HELD_SHARE of them (a held sound or a pause: the
# silence net's business). Off (0) unless the bundle sets it (manifest synthesis.repetition_stop_seconds, measured
# for its model) or the call does. Default voice v2: 1.25 s (16 frames, at most 5 distinct codes) fired on all 6
# runaway segments and on none of 894 that ended by END (docs/bundle.md#synthesis).
REPETITION_STOP_SECONDS_RANGE = (0.0, 60.0)
REPETITION_MAX_DISTINCT_SHARE = 1 / 3
REPETITION_HELD_SHARE = 0.8


def round_up(x: int, multiple: int = PAD_MULTIPLE) -> int:
    return -(-x // multiple) * multiple


def _get(d: Mapping[str, Any], key: str, where: str, kind: type | tuple = (int,)):
    if key not in d:
        raise ConfigError(f"params.json: missing key '{where}{key}'. Add it (see docs/model.md#paramsjson) or regenerate the checkpoint.")
    v = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kinds) or isinstance(v, bool) and bool not in kinds:
        raise ConfigError(f"params.json: '{where}{key}' must be {'/'.join(k.__name__ for k in kinds)}, got {v!r}.")
    return v


def _int_list(s: str | list, where: str) -> tuple[int, ...]:
    # The real params.json stores these as comma-separated strings ("2,2,2,2"), not JSON arrays.
    try:
        if isinstance(s, str):
            return tuple(int(x) for x in s.split(",") if x.strip())
        return tuple(int(x) for x in s)
    except (TypeError, ValueError):
        raise ConfigError(f"params.json: '{where}' must be a comma-separated list of integers, got {s!r}.") from None


@dataclass(frozen=True)
class AcousticConfig:
    """The flow-matching acoustic transformer (`acoustic_transformer.*`, docs/model.md#acoustic-head)."""

    input_dim: int
    dim: int
    n_layers: int
    head_dim: int
    hidden_dim: int
    n_heads: int
    n_kv_heads: int
    norm_eps: float = 1e-5
    n_decoding_steps: int = DEFAULT_DECODING_STEPS


@dataclass(frozen=True)
class CodecConfig:
    """The Voxtral codec decoder (`audio_tokenizer.*`, docs/model.md#codec)."""

    channels: int
    sampling_rate: int
    patch_size: int
    patch_proj_kernel_size: int
    semantic_codebook_size: int
    semantic_dim: int
    acoustic_codebook_size: int
    acoustic_dim: int
    dim: int
    hidden_dim: int
    head_dim: int
    n_heads: int
    n_kv_heads: int
    qk_norm: bool
    qk_norm_eps: float
    norm_eps: float
    layer_scale: bool
    attn_sliding_window_size: int
    half_attn_window_upon_downsampling: bool
    decoder_transformer_lengths: tuple[int, ...]
    decoder_convs_kernels: tuple[int, ...]
    decoder_convs_strides: tuple[int, ...]
    encoder_transformer_lengths: tuple[int, ...]
    encoder_convs_kernels: tuple[int, ...]
    encoder_convs_strides: tuple[int, ...]
    voices: tuple[tuple[str, int], ...]  # (name, index) in params.json order
    # Output head of the decoder. "patch" (release): a conv to 240-sample patches. "istft" (the project's small
    # codec; not in the release): the conv predicts log-magnitude + phase of an n_fft STFT at hop patch_size and a
    # fixed causal iSTFT makes the waveform -- GAN-free training learns harmonics faster with it (docs/model.md#the-small-default-model).
    # "source_filter" (the small default voice): output_proj predicts `frame_features` channels at the decoder's
    # rate, resampled to the renderer's frames (hop `renderer_hop`); a ConvNeXt frame decoder turns them into the
    # parameters of a pulse + noise source-filter renderer that runs outside the graph (docs/model.md#codec).
    output_head: str = "patch"
    istft_n_fft: int = 0  # 0: 4 x patch_size
    output_kernel_size: int = 0  # kernel of output_proj; 0: patch_proj_kernel_size
    frame_features: int = 0  # source_filter: channels of output_proj; the last two are log-f0 and energy
    frame_decoder_dim: int = 256
    frame_decoder_hidden_dim: int = 768
    frame_decoder_layers: int = 8
    frame_decoder_kernel: int = 7
    renderer_hop: int = 300  # samples per renderer frame; n_fft = 4 x hop
    f0_log_scale: float = 5.0  # channel frame_features - 2 is log(1 + f0 / Hz) / f0_log_scale

    @property
    def latent_dim(self) -> int:
        return self.semantic_dim + self.acoustic_dim

    @property
    def n_fft(self) -> int:
        return self.istft_n_fft or 4 * self.patch_size

    @property
    def output_kernel(self) -> int:
        return self.output_kernel_size or self.patch_proj_kernel_size

    @property
    def output_channels(self) -> int:
        """Channels of output_proj: waveform patch, [log-magnitude; phase] of n_fft // 2 + 1 bins, or frame features."""
        if self.output_head == "source_filter":
            return self.frame_features
        return self.patch_size * self.channels if self.output_head == "patch" else 2 * (self.n_fft // 2 + 1)

    @property
    def frame_grid(self) -> int:
        """Codec frames per period of the renderer's frame grid (1 when the head has no renderer): a streamed
        window must start on a multiple of it so that its renderer frames fall where a one-shot decode's do."""
        if self.output_head != "source_filter":
            return 1
        spf = self.samples_per_frame
        return self.renderer_hop // math.gcd(spf, self.renderer_hop)

    @property
    def renderer_margin_frames(self) -> int:
        """Renderer frames a window's edge disturbs: the frame decoder's reach plus the STFT's (2 frames of 4x
        overlap, and 2 more for the pulse spectrum), plus 1 for the resampling to the renderer's grid."""
        if self.output_head != "source_filter":
            return 0
        return (self.frame_decoder_layers + 1) * (self.frame_decoder_kernel // 2) + 4 + 1

    @property
    def right_context_frames(self) -> int:
        """Codec frames a streamed chunk must see after its last frame to equal one-shot decode (0: causal head)."""
        if self.output_head != "source_filter":
            return 0
        return -(-(self.renderer_margin_frames + 1) * self.renderer_hop // self.samples_per_frame)

    @property
    def upsample_factor(self) -> int:
        return math.prod(self.decoder_convs_strides)

    @property
    def samples_per_frame(self) -> int:
        return self.patch_size * self.upsample_factor

    @property
    def min_left_context_frames(self) -> int:
        """Fewest left-context frames for which chunked decode equals one-shot decode exactly (21 for the release,
        13 for the bundled small codec): the streaming engine re-decodes this many frames before each chunk.

        Tracks the last position (at the current rate) touched by the start-of-window padding: a causal conv
        adds k - 1, a transformer layer adds W, a ConvTranspose maps d -> s·d + k - 1.
        """
        d = -1  # the padding sits just before position 0
        for i, (k, s, n, w) in enumerate(zip(self.decoder_convs_kernels, self.decoder_convs_strides,
                                             self.decoder_transformer_lengths, self.decoder_windows)):
            d = d + k - 1 if i == 0 else s * d + k - 1
            d += n * w
        d += self.output_kernel - 1  # output_proj
        if self.output_head == "istft":
            d += self.n_fft // self.patch_size - 1  # overlap-add reaches n_fft / hop - 1 patches back
        frames = d // self.upsample_factor + 1
        if self.output_head == "source_filter":  # the frame decoder and the renderer reach back too
            frames += -(-self.renderer_margin_frames * self.renderer_hop // self.samples_per_frame)
        return frames

    @property
    def decoder_windows(self) -> tuple[int, ...]:
        """Attention window W (W+1 keys) of each decoder transformer stage (docs/model.md#codec).

        Start at attn_sliding_window_size, halve after each stride-2 *encoder* conv (so the decoder
        starts where the encoder ended), then double after each stride>1 decoder conv that precedes a stage.
        """
        w = self.attn_sliding_window_size
        if self.half_attn_window_upon_downsampling:
            for s in self.encoder_convs_strides:
                if s > 1:
                    w //= 2
        if w < 1:
            raise ConfigError("params.json: audio_tokenizer_args window halves below 1; raise attn_sliding_window_size.")
        windows = []
        for stride in self.decoder_convs_strides:
            if stride > 1 and self.half_attn_window_upon_downsampling:
                w *= 2
            windows.append(w)
        return tuple(windows)

    @property
    def voice_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in sorted(self.voices, key=lambda kv: kv[1]))


@dataclass(frozen=True)
class ModelConfig:
    """Everything the model math needs, from params.json; derived values as properties."""

    dim: int
    n_layers: int
    head_dim: int
    hidden_dim: int
    n_heads: int
    n_kv_heads: int
    rope_theta: float
    norm_eps: float
    vocab_size: int
    bos_token_id: int
    audio_token_id: int
    begin_audio_token_id: int
    semantic_codebook_size: int
    acoustic_codebook_size: int
    n_acoustic_codebook: int
    sampling_rate: int
    frame_rate: float
    acoustic: AcousticConfig
    codec: CodecConfig
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # --- derived (docs/model.md#derived-sizes) ---
    @property
    def n_codebooks(self) -> int:
        return 1 + self.n_acoustic_codebook

    @property
    def semantic_vocab(self) -> int:  # 8194
        return self.semantic_codebook_size + N_AUDIO_SPECIAL

    @property
    def acoustic_vocab(self) -> int:  # 23
        return self.acoustic_codebook_size + N_AUDIO_SPECIAL

    @property
    def semantic_head_width(self) -> int:  # 8320
        return round_up(self.semantic_vocab)

    @property
    def audio_embedding_rows_used(self) -> int:  # 9022
        return self.semantic_vocab + self.n_acoustic_codebook * self.acoustic_vocab

    @property
    def audio_embedding_rows(self) -> int:  # 9088
        return round_up(self.audio_embedding_rows_used)

    @property
    def codebook_offsets(self) -> tuple[int, ...]:
        """Row offset of codebook k in the shared audio embedding table (unpadded sizes)."""
        return (0,) + tuple(self.semantic_vocab + self.acoustic_vocab * k for k in range(self.n_acoustic_codebook))

    @property
    def samples_per_frame(self) -> int:
        return self.codec.samples_per_frame

    @property
    def voice_names(self) -> tuple[str, ...]:
        return self.codec.voice_names

    # --- construction ---
    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> "ModelConfig":
        if not isinstance(p, Mapping):
            raise ConfigError("params.json must hold a JSON object.")
        mm = _get(p, "multimodal", "", dict)
        am = _get(mm, "audio_model_args", "multimodal.", dict)
        at = _get(mm, "audio_tokenizer_args", "multimodal.", dict)
        enc = _get(am, "audio_encoding_args", "multimodal.audio_model_args.", dict)
        ta = _get(am, "acoustic_transformer_args", "multimodal.audio_model_args.", dict)
        w_am, w_at, w_ta = "multimodal.audio_model_args.", "multimodal.audio_tokenizer_args.", "multimodal.audio_model_args.acoustic_transformer_args."

        acoustic = AcousticConfig(
            input_dim=_get(ta, "input_dim", w_ta),
            dim=_get(ta, "dim", w_ta),
            n_layers=_get(ta, "n_layers", w_ta),
            head_dim=_get(ta, "head_dim", w_ta),
            hidden_dim=_get(ta, "hidden_dim", w_ta),
            n_heads=_get(ta, "n_heads", w_ta),
            n_kv_heads=_get(ta, "n_kv_heads", w_ta),
            norm_eps=float(ta.get("norm_eps", 1e-5)),
            n_decoding_steps=int(ta.get("n_decoding_steps", DEFAULT_DECODING_STEPS)),
        )
        voices = at.get("voice", {})
        if not isinstance(voices, dict) or not all(isinstance(v, int) for v in voices.values()):
            raise ConfigError(f"params.json: '{w_at}voice' must map voice names to integer ids.")
        codec = CodecConfig(
            channels=_get(at, "channels", w_at),
            sampling_rate=_get(at, "sampling_rate", w_at),
            patch_size=_get(at, "pretransform_patch_size", w_at),
            patch_proj_kernel_size=_get(at, "patch_proj_kernel_size", w_at),
            semantic_codebook_size=_get(at, "semantic_codebook_size", w_at),
            semantic_dim=_get(at, "semantic_dim", w_at),
            acoustic_codebook_size=_get(at, "acoustic_codebook_size", w_at),
            acoustic_dim=_get(at, "acoustic_dim", w_at),
            dim=_get(at, "dim", w_at),
            hidden_dim=_get(at, "hidden_dim", w_at),
            head_dim=_get(at, "head_dim", w_at),
            n_heads=_get(at, "n_heads", w_at),
            n_kv_heads=_get(at, "n_kv_heads", w_at),
            qk_norm=bool(at.get("qk_norm", True)),
            qk_norm_eps=float(at.get("qk_norm_eps", 1e-6)),
            norm_eps=float(at.get("norm_eps", 0.01)),
            layer_scale=bool(at.get("layer_scale", True)),
            attn_sliding_window_size=_get(at, "attn_sliding_window_size", w_at),
            half_attn_window_upon_downsampling=bool(at.get("half_attn_window_upon_downsampling", True)),
            decoder_transformer_lengths=_int_list(_get(at, "decoder_transformer_lengths_str", w_at, (str, list)), w_at + "decoder_transformer_lengths_str"),
            decoder_convs_kernels=_int_list(_get(at, "decoder_convs_kernels_str", w_at, (str, list)), w_at + "decoder_convs_kernels_str"),
            decoder_convs_strides=_int_list(_get(at, "decoder_convs_strides_str", w_at, (str, list)), w_at + "decoder_convs_strides_str"),
            encoder_transformer_lengths=_int_list(at.get("encoder_transformer_lengths_str", "2,2,2,2"), w_at + "encoder_transformer_lengths_str"),
            encoder_convs_kernels=_int_list(at.get("encoder_convs_kernels_str", "4,4,4,3"), w_at + "encoder_convs_kernels_str"),
            encoder_convs_strides=_int_list(at.get("encoder_convs_strides_str", "2,2,2,1"), w_at + "encoder_convs_strides_str"),
            voices=tuple((str(k), int(v)) for k, v in voices.items()),
            output_head=str(at.get("output_head", "patch")),
            istft_n_fft=int(at.get("istft_n_fft", 0)),
            output_kernel_size=int(at.get("output_kernel_size", 0)),
            frame_features=int(at.get("frame_features", 0)),
            frame_decoder_dim=int(at.get("frame_decoder_dim", 256)),
            frame_decoder_hidden_dim=int(at.get("frame_decoder_hidden_dim", 768)),
            frame_decoder_layers=int(at.get("frame_decoder_layers", 8)),
            frame_decoder_kernel=int(at.get("frame_decoder_kernel", 7)),
            renderer_hop=int(at.get("renderer_hop", 300)),
            f0_log_scale=float(at.get("f0_log_scale", 5.0)),
        )
        cfg = cls(
            dim=_get(p, "dim", ""),
            n_layers=_get(p, "n_layers", ""),
            head_dim=_get(p, "head_dim", ""),
            hidden_dim=_get(p, "hidden_dim", ""),
            n_heads=_get(p, "n_heads", ""),
            n_kv_heads=_get(p, "n_kv_heads", ""),
            rope_theta=_get(p, "rope_theta", "", float),
            norm_eps=_get(p, "norm_eps", "", float),
            vocab_size=_get(p, "vocab_size", ""),
            bos_token_id=int(mm.get("bos_token_id", 1)),
            audio_token_id=_get(am, "audio_token_id", w_am),
            begin_audio_token_id=_get(am, "begin_audio_token_id", w_am),
            semantic_codebook_size=_get(am, "semantic_codebook_size", w_am),
            acoustic_codebook_size=_get(am, "acoustic_codebook_size", w_am),
            n_acoustic_codebook=_get(am, "n_acoustic_codebook", w_am),
            sampling_rate=int(enc.get("sampling_rate", codec.sampling_rate)),
            frame_rate=float(enc.get("frame_rate", codec.sampling_rate / codec.samples_per_frame)),
            acoustic=acoustic,
            codec=codec,
            raw=p,
        )
        cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: str | Path) -> "ModelConfig":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: not found. A checkpoint directory needs params.json next to consolidated.safetensors.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid JSON ({e}). Restore the original params.json.") from None
        return cls.from_params(data)

    def validate(self) -> None:
        """Cross-field consistency the model math relies on."""
        c, a = self.codec, self.acoustic

        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ConfigError(f"params.json inconsistent: {msg}")

        sizes = {"dim": self.dim, "n_layers": self.n_layers, "head_dim": self.head_dim, "hidden_dim": self.hidden_dim,
                 "n_heads": self.n_heads, "n_kv_heads": self.n_kv_heads, "vocab_size": self.vocab_size,
                 "acoustic_transformer_args.dim": a.dim, "acoustic_transformer_args.n_layers": a.n_layers,
                 "acoustic_transformer_args.head_dim": a.head_dim, "acoustic_transformer_args.hidden_dim": a.hidden_dim,
                 "acoustic_transformer_args.n_heads": a.n_heads, "acoustic_transformer_args.n_kv_heads": a.n_kv_heads,
                 "audio_tokenizer_args.dim": c.dim, "audio_tokenizer_args.hidden_dim": c.hidden_dim,
                 "audio_tokenizer_args.head_dim": c.head_dim, "audio_tokenizer_args.n_heads": c.n_heads,
                 "audio_tokenizer_args.pretransform_patch_size": c.patch_size,
                 "audio_tokenizer_args.sampling_rate": c.sampling_rate, "semantic_codebook_size": self.semantic_codebook_size,
                 "n_acoustic_codebook": self.n_acoustic_codebook}
        bad = next((k for k, v in sizes.items() if v < 1), None)
        need(bad is None, f"{bad} must be a positive integer, got {sizes.get(bad)}")
        need(all(x >= 1 for x in c.decoder_convs_kernels + c.decoder_convs_strides), "decoder conv kernels and strides "
             "must be positive")
        need(self.n_heads * self.head_dim > 0 and self.n_heads % self.n_kv_heads == 0, "n_heads must be a multiple of n_kv_heads")
        need(self.head_dim % 2 == 0, "head_dim must be even (RoPE rotates pairs)")
        need(a.n_heads % a.n_kv_heads == 0, "acoustic_transformer_args.n_heads must be a multiple of n_kv_heads")
        need(a.input_dim == self.dim, f"acoustic_transformer_args.input_dim ({a.input_dim}) must equal dim ({self.dim})")
        # The reference applies the semantic head (declared at acoustic width) to the backbone hidden (docs/model.md#acoustic-head).
        need(a.dim == self.dim, f"acoustic_transformer_args.dim ({a.dim}) must equal dim ({self.dim})")
        need(c.semantic_codebook_size == self.semantic_codebook_size, "audio_tokenizer_args.semantic_codebook_size != audio_model_args.semantic_codebook_size")
        need(c.acoustic_codebook_size == self.acoustic_codebook_size, "audio_tokenizer_args.acoustic_codebook_size != audio_model_args.acoustic_codebook_size")
        need(c.acoustic_dim == self.n_acoustic_codebook, "audio_tokenizer_args.acoustic_dim must equal n_acoustic_codebook")
        need(c.n_heads * c.head_dim == c.dim, "audio_tokenizer_args: n_heads * head_dim must equal dim")
        need(c.n_heads == c.n_kv_heads, "audio_tokenizer_args: the codec has no GQA (n_kv_heads == n_heads)")
        n = len(c.decoder_convs_strides)
        need(len(c.decoder_convs_kernels) == n and len(c.decoder_transformer_lengths) == n,
             "decoder_*_str lists must have the same length")
        need(c.decoder_convs_strides[0] == 1, "the first decoder conv must have stride 1")
        need(all(k >= s for k, s in zip(c.decoder_convs_kernels, c.decoder_convs_strides)), "decoder conv kernels must be >= strides")
        need(self.acoustic_codebook_size >= 2, "acoustic_codebook_size must be >= 2")
        need(c.output_head in ("patch", "istft", "source_filter"),
             f"audio_tokenizer_args.output_head must be 'patch', 'istft' or 'source_filter', not {c.output_head!r}")
        if c.output_head == "source_filter":
            need(c.frame_features >= 3, "audio_tokenizer_args.frame_features must be >= 3 (features, log-f0, energy)")
            need(c.renderer_hop == 300 and c.sampling_rate == 24000,
                 "the source_filter renderer runs at hop 300 (n_fft 1200) and 24 kHz")
            need(min(c.frame_decoder_dim, c.frame_decoder_hidden_dim, c.frame_decoder_layers) >= 1
                 and c.frame_decoder_kernel % 2 == 1, "frame_decoder_* sizes must be positive, the kernel odd")
        need(c.n_fft % c.patch_size == 0 and c.n_fft % 2 == 0 and c.n_fft >= c.patch_size,
             "audio_tokenizer_args.istft_n_fft must be an even multiple of pretransform_patch_size")
        self.codec.decoder_windows  # raises on a degenerate schedule
        need(abs(self.frame_rate * self.samples_per_frame - self.sampling_rate) < 1e-6 * self.sampling_rate,
             f"frame_rate {self.frame_rate} x samples_per_frame {self.samples_per_frame} != sampling_rate {self.sampling_rate}")

    def to_params(self) -> dict[str, Any]:
        """The params.json dict this config was read from (what a bundle's manifest embeds)."""
        return json.loads(json.dumps(self.raw))


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options (separate from the model config, which is fixed per bundle).

    None means: the device profile's value if one was given at load, else the bundle's own default (its
    manifest's `synthesis`, measured for that model), else the built-in default (flow_steps: params.json's
    n_decoding_steps; cfg_alpha 1.2 and noise_scale 1.0 as in the reference; chunks 2 then 12 frames).
    A bundle whose manifest declares `synthesis.min_flow_steps` raises a profile's (or the default) flow_steps to
    it; a flow_steps given here is run as given, below that floor too (with a FlowStepsWarning, once per engine).
    """

    voice: str | None = None  # None = the bundle's default voice
    flow_steps: int | None = None  # Euler steps (velocity evaluations) per frame
    cfg_alpha: float | None = None  # v = alpha·v_cond + (1 - alpha)·v_uncond; 1.0 = no guidance
    # The flow's start point is noise_scale·x0 (x0 ~ N(0, I), or the injected `noise` rows): below 1 trades
    # variety for clarity (a sampling temperature); 1.0 is the reference.
    noise_scale: float | None = None
    seed: int | None = 0  # None = nondeterministic noise
    max_frames: int | None = None  # budget of generation steps for the whole call (END steps count); None = text-derived cap only
    first_chunk_frames: int | None = None  # first codec chunk (small: time to first audio)
    chunk_frames: int | None = None  # later codec chunks: 2x, 4x ... first_chunk_frames, at most this
    # Exact noise for parity tests: array [R, n_acoustic_codebook]; generation step f of the call uses row f
    # (an END step consumes its row too, docs/model.md#noise-contract); R bounds the call's steps. Overrides seed.
    noise: Any = None
    normalize: bool = True  # run the text front end's normalisation (numbers, units, ...); False = raw text
    # Ceiling of the call's audio budget (see AUDIO_BUDGET_*); None = the profile's, else DEFAULT_MAX_AUDIO_SECONDS.
    max_audio_seconds: float | None = None
    # Seconds of codec silence that end a segment; None = the profile's, else DEFAULT_SILENCE_STOP_SECONDS; 0 = off.
    silence_stop_seconds: float | None = None
    # Window of the repetition safety net (see REPETITION_*); None = the bundle's (manifest synthesis), else off; 0 = off.
    repetition_stop_seconds: float | None = None
    lang: str | None = None  # text front-end language, or "auto"; None = from the voice name (fr_male -> fr), else "en"
    ssml: bool | None = None  # None: SSML when the text starts with <speak>; True: always; False: never (docs/text.md)
    lenient_ssml: bool = False  # unsupported SSML is ignored with a warning instead of raising SSMLError
    lexicon: Any = None  # user lexicon: a path to a TSV or a runtime.text.user_lexicon.UserLexicon (docs/text.md)

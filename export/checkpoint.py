"""Read a Voxtral TTS checkpoint directory exactly as Mistral publishes it (docs/model.md#checkpoint-format).

    params.json                 -> ModelConfig
    consolidated.safetensors    -> tensors, memory-mapped, BF16 kept until cast
    tekken.json                 -> tokenizer (vox_edge.runtime.tokenizer)
    voice_embedding/<name>.pt   -> voices [N, D] (torch.save'd BF16 tensors)
    lexicon.tsv.gz              -> optional pronunciation lexicon (vox_edge.runtime.text.lexicon): only a model trained on
                                   lexicon-applied text has one (training/ship/export_checkpoint.py writes it); the
                                   release has none
    notices/*                   -> optional licence notices of data the checkpoint carries (the lexicon's; written
                                   by training/ship/export_checkpoint.py), copied into the bundle; the release has none

Names and shapes are checked strictly against the reference model built on the meta device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import torch

from vox_edge.config import ModelConfig
from vox_edge.errors import CheckpointError, VoiceError

from .safetensors_io import read_header

WEIGHTS_FILE = "consolidated.safetensors"
LEXICON_FILE = "lexicon.tsv.gz"
COMPACT_LEXICON_FILE = "lexicon.tsv.xz"  # the compact form (Lexicon.to_compact_text, xz): manifest schema 4
NOTICES_DIR = "notices"
# Tensors our own small models may carry beyond the release (the codec encoder); tolerated, not required.
OPTIONAL_PREFIXES = ("audio_tokenizer.input_proj.", "audio_tokenizer.encoder_blocks.")


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor name the release has, with its shape, from the reference built on the meta device."""
    from .reference.model import VoxtralTTS

    with torch.device("meta"):
        model = VoxtralTTS(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@dataclass
class Checkpoint:
    path: Path
    config: ModelConfig
    header: dict[str, dict] = field(repr=False)

    @classmethod
    def open(cls, path: str | Path, check: bool = True) -> "Checkpoint":
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"{path}: not a directory. Point at the folder holding params.json and {WEIGHTS_FILE}.")
        for name in ("params.json", WEIGHTS_FILE, "tekken.json"):
            if not (path / name).is_file():
                raise CheckpointError(f"{path / name}: missing. A Voxtral checkpoint needs params.json, {WEIGHTS_FILE} and tekken.json.")
        cfg = ModelConfig.from_file(path / "params.json")
        ckpt = cls(path, cfg, read_header(path / WEIGHTS_FILE))
        if check:
            ckpt.check_tensors()
            ckpt.check_voice_files()
            ckpt.check_lexicon()
        return ckpt

    def check_tensors(self) -> None:
        exp = expected_shapes(self.config)
        have = {k: tuple(v["shape"]) for k, v in self.header.items()}
        missing = sorted(set(exp) - set(have))
        if missing:
            raise CheckpointError(
                f"{self.path / WEIGHTS_FILE}: missing tensor '{missing[0]}' (expected shape {list(exp[missing[0]])})"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                + ". The file does not match params.json; re-download the checkpoint or fix params.json.")
        for k, shape in exp.items():
            if have[k] != shape:
                raise CheckpointError(
                    f"{self.path / WEIGHTS_FILE}: tensor '{k}' has shape {list(have[k])}, expected {list(shape)} "
                    "from params.json. The file and params.json disagree; re-download or regenerate the checkpoint.")
        extra = sorted(k for k in set(have) - set(exp) if not k.startswith(OPTIONAL_PREFIXES))
        if extra:
            raise CheckpointError(f"{self.path / WEIGHTS_FILE}: unexpected tensor '{extra[0]}'"
                                  + (f" and {len(extra) - 1} more" if len(extra) > 1 else "")
                                  + ". Is this a Voxtral TTS checkpoint matching params.json?")

    def check_voice_files(self) -> None:
        for name in self.config.voice_names:
            if not self.voice_path(name).is_file():
                raise CheckpointError(f"{self.voice_path(name)}: missing voice file for '{name}' listed in params.json. "
                                      "Restore voice_embedding/ from the checkpoint.")

    def check_lexicon(self) -> None:
        """An optional lexicon must parse (before an export spends its time on the graphs)."""
        if self.lexicon_path is None:
            return
        from vox_edge.errors import TokenizerError
        from vox_edge.runtime.text.lexicon import Lexicon

        try:
            Lexicon.from_file(self.lexicon_path)
        except TokenizerError as e:
            raise CheckpointError(f"{self.lexicon_path}: not a usable lexicon ({e}). Write it again with "
                                  "training/ship/export_checkpoint.py, or remove it if the model was trained without "
                                  "one.") from None

    # --- tensors ---
    @cached_property
    def _file(self):
        from safetensors import safe_open

        return safe_open(str(self.path / WEIGHTS_FILE), framework="pt")

    @property
    def names(self) -> list[str]:
        return list(self.header)

    def tensor(self, name: str, dtype: torch.dtype | None = torch.float32) -> torch.Tensor:
        """One tensor, memory-mapped; cast (a copy) only when `dtype` is given."""
        if name not in self.header:
            raise CheckpointError(f"{self.path / WEIGHTS_FILE}: no tensor '{name}'.")
        t = self._file.get_tensor(name)
        return t if dtype is None else t.to(dtype)

    def state_dict(self, prefix: str = "", dtype: torch.dtype | None = torch.float32, strip: bool = True) -> dict[str, torch.Tensor]:
        return {(k[len(prefix):] if strip else k): self.tensor(k, dtype) for k in self.header if k.startswith(prefix)}

    # --- voices / tokenizer ---
    def voice_path(self, name: str) -> Path:
        return self.path / "voice_embedding" / f"{name}.pt"

    def voice(self, name: str) -> torch.Tensor:
        if name not in self.config.voice_names:
            raise VoiceError(f"unknown voice '{name}'. Known voices: {', '.join(self.config.voice_names)}.")
        try:
            v = torch.load(self.voice_path(name), map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise CheckpointError(f"{self.voice_path(name)}: missing.") from None
        except Exception as e:  # corrupted zip / pickle
            raise CheckpointError(f"{self.voice_path(name)}: unreadable ({type(e).__name__}: {e}). Restore the file.") from None
        if not isinstance(v, torch.Tensor) or v.ndim != 2 or v.shape[1] != self.config.dim:
            raise VoiceError(f"{self.voice_path(name)}: expected a [N, {self.config.dim}] tensor, got "
                             f"{getattr(v, 'shape', type(v).__name__)}.")
        return v

    @property
    def lexicon_path(self) -> Path | None:
        """The checkpoint's pronunciation lexicon (lexicon.tsv.gz, else the compact lexicon.tsv.xz), or None (the
        release: text is tokenized as is)."""
        for name in (LEXICON_FILE, COMPACT_LEXICON_FILE):
            if (self.path / name).is_file():
                return self.path / name
        return None

    @property
    def notices(self) -> list[Path]:
        """The regular files of the optional notices/ folder (licences that must travel with the data), sorted by
        name; [] when there is none (the release)."""
        d = self.path / NOTICES_DIR
        return sorted((p for p in d.iterdir() if p.is_file()), key=lambda p: p.name) if d.is_dir() else []

    @cached_property
    def tokenizer(self):
        from vox_edge.runtime.tokenizer import TekkenTokenizer

        return TekkenTokenizer.from_file(self.path / "tekken.json")

    def fingerprint(self) -> str:
        """sha256 of params.json + the safetensors header (cheap; identifies the checkpoint)."""
        import hashlib

        h = hashlib.sha256((self.path / "params.json").read_bytes())
        with open(self.path / WEIGHTS_FILE, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            h.update(f.read(n))
        return h.hexdigest()


def load_reference_model(ckpt: Checkpoint, dtype: torch.dtype = torch.float32, with_codec: bool = True):
    """The PyTorch reference with every tensor loaded strictly (weight norm folded, eval mode)."""
    from .reference.model import VoxtralTTS

    with torch.device("meta"):
        model = VoxtralTTS(ckpt.config, with_codec=with_codec)
    sd = {k: ckpt.tensor(k, dtype) for k in model.state_dict() }
    model.load_state_dict(sd, strict=True, assign=True)
    model.mm_audio_embeddings.audio_codebook_embeddings.offsets = torch.tensor(ckpt.config.codebook_offsets)
    if with_codec:
        model.audio_tokenizer.fold_weight_norm()
    return model.eval()

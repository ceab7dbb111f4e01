r"""Write the trained small model as a Voxtral TTS checkpoint directory in the exact release format (docs/model.md,
Checkpoint format).

    OUT/params.json                 release layout, small dims (tts/config.py), the codec's audio_tokenizer_args
    OUT/consolidated.safetensors    BF16: backbone + acoustic (stage 4) + audio_tokenizer.* (the codec:
                                    decoder + quantizer, and the encoder unless --no-encoder)
    OUT/tekken.json                 the small vocabulary, audio.voice_num_audio_tokens = the voice's rows
    OUT/voice_embedding/<name>.pt   BF16 [N, dim]: sums of codebook rows of the voice clip's codes + END row
    OUT/lexicon.tsv.gz              only for a run trained with one (tts/train.py --lexicon): its lexicon
                                    (--compact-lexicon: OUT/lexicon.tsv.xz, its compact form, instead)
    OUT/notices/                    then also the lexicon's licence (NOTICE-lexicon.txt, LICENSE-misaki.txt from
                                    training/lexicon/; Apache-2.0 §4; LICENSE-cmudict.txt if it has CMUdict
                                    entries), which the bundle export copies on

The codec must be the one whose codes the model was trained on (same fingerprint; --force-codec overrides).
The semantic codebook is stored pre-divided (embedding_sum = E_sem, cluster_usage = 1), so the reader's
E_sem = embedding_sum / max(cluster_usage, 1e-5) sees one BF16 rounding instead of two.
Built in OUT.partial and renamed; then checked with Checkpoint.open (strict names / shapes) and
load_reference_model (strict load). --bundle B additionally runs `vox-edge export OUT B --precision P`.

  .venv/bin/python -m training.ship.export_checkpoint --out ~/.cache/vox-edge/tts/checkpoint \
      --bundle ~/.cache/vox-edge/tts/bundle-int8 --precision int8
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import sys
from pathlib import Path

import torch

from training.common.ckpt_io import load as load_ckpt
from training.common.paths import ROOT
from training.tts.codec import DEFAULT_CODEC, load_codec
from training.tts.model import build_model
from vox_edge.config import ModelConfig
from vox_edge.export.checkpoint import (COMPACT_LEXICON_FILE, LEXICON_FILE, NOTICES_DIR, OPTIONAL_PREFIXES, WEIGHTS_FILE,
                                         Checkpoint, expected_shapes, load_reference_model)
from vox_edge.export.safetensors_io import write_streaming
from vox_edge.runtime.text.lexicon import Lexicon

DEFAULT_TTS = os.path.join(ROOT, "training", "voice_v2", "checkpoints", "tts.pt")  # the committed stage-4 state
DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/tts/checkpoint")
AUDIO_TABLE = "mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"
# The lexicon's licence travels with it (Apache-2.0 §4): these files go into OUT/notices/.
LEXICON_NOTICES_SRC = Path(ROOT) / "training" / "lexicon"
LEXICON_NOTICES = ("NOTICE-lexicon.txt", "LICENSE-misaki.txt")
CMUDICT_LICENSE = "LICENSE-cmudict.txt"  # BSD-style: only for a lexicon with CMUdict (secondary) entries


def codec_tensors(codec, with_encoder: bool) -> dict[str, torch.Tensor]:
    flat = dict(codec.flat_state())
    cb = "quantizer.semantic_codebook."
    usage = flat[cb + "cluster_usage"].float()
    flat[cb + "embedding_sum"] = flat[cb + "embedding_sum"].float() / usage.clamp(min=1e-5)[:, None]
    flat[cb + "cluster_usage"] = torch.ones_like(usage)
    if not with_encoder:
        flat = {k: v for k, v in flat.items() if not ("audio_tokenizer." + k).startswith(OPTIONAL_PREFIXES)}
    return {"audio_tokenizer." + k: v for k, v in flat.items()}


def voice_embedding(table: torch.Tensor, codes: torch.Tensor, cfg: ModelConfig) -> torch.Tensor:
    """BF16 [N, D]: row f = sum of the 37 rows of frame f's codes, from the BF16 table the reader will load."""
    t = table.to(torch.bfloat16).float()
    return t[codes + torch.tensor(cfg.codebook_offsets)].sum(1).to(torch.bfloat16).contiguous()


def check_names(tensors: dict[str, torch.Tensor], cfg: ModelConfig) -> None:
    exp = expected_shapes(cfg)
    missing = sorted(set(exp) - set(tensors))
    extra = sorted(k for k in set(tensors) - set(exp) if not k.startswith(OPTIONAL_PREFIXES))
    wrong = sorted(k for k in exp if k in tensors and tuple(tensors[k].shape) != exp[k])
    if missing or extra or wrong:
        raise SystemExit(f"tensor set does not match params.json: missing {missing[:3]}, extra {extra[:3]}, "
                         f"wrong shape {wrong[:3]}")


def write_lexicon_notices(ckpt_dir: str | Path, with_cmudict: bool = False) -> list[Path]:
    """Copy the lexicon's notice and licences into ckpt_dir/notices/ (the bundle export copies them on)."""
    d = Path(ckpt_dir) / NOTICES_DIR
    d.mkdir(exist_ok=True)
    names = LEXICON_NOTICES + ((CMUDICT_LICENSE,) if with_cmudict else ())
    return [Path(shutil.copyfile(LEXICON_NOTICES_SRC / name, d / name)) for name in names]


def compact_lexicon_bytes(lex: Lexicon) -> bytes:
    """The lexicon's compact form, xz-compressed; refused unless it loads as exactly the same entries."""
    raw = lzma.compress(lex.to_compact_text().encode("utf-8"), preset=9)
    again = Lexicon.from_text(lzma.decompress(raw).decode("utf-8"))
    if again.entries != lex.entries or again.secondary != lex.secondary:
        raise SystemExit("the compact lexicon does not load as the same entries (a bug in Lexicon.to_compact_text)")
    return raw


def write_checkpoint(state: dict, codec, out: str | Path, with_encoder: bool = True,
                     compact_lexicon: bool = False) -> Path:
    """compact_lexicon: write the lexicon in its compact form (lexicon.tsv.xz: the entries the lexicon's rules
    derive from the others as the word alone, xz; Lexicon.to_compact_text checks that it loads as the same
    entries), which the bundle then carries (manifest schema 4)."""
    out = Path(out)
    params, tekken, voice = state["params"], state["tekken"], state["voice"]
    cfg = ModelConfig.from_params(params)
    model = build_model(params)
    model.load_state_dict(state["model"])
    if state.get("ema"):  # the weight EMA (tts/train.py --ema-decay) is what ships when the run kept one
        model.load_state_dict(state["ema"], strict=False)
    tensors = {k: v.detach() for k, v in model.state_dict().items()}
    tensors.update(codec_tensors(codec, with_encoder))
    check_names(tensors, cfg)

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "voice_embedding").mkdir(parents=True)
    (tmp / "params.json").write_text(json.dumps(params, indent=4), encoding="utf-8")
    (tmp / "tekken.json").write_text(json.dumps(tekken, ensure_ascii=False), encoding="utf-8")
    if state.get("lexicon_gz"):  # the model reads phonemes (tts/train.py --lexicon): the bundle must carry its lexicon
        (tmp / LEXICON_FILE).write_bytes(state["lexicon_gz"])
        lex = Lexicon.from_file(tmp / LEXICON_FILE)
        if compact_lexicon:
            (tmp / COMPACT_LEXICON_FILE).write_bytes(compact_lexicon_bytes(lex))
            (tmp / LEXICON_FILE).unlink()
        write_lexicon_notices(tmp, "cmudict" in lex.secondary)
    for notice in getattr(codec, "notices", ()):  # licences of weights inside the codec (voice v2: the teacher's)
        (tmp / NOTICES_DIR).mkdir(exist_ok=True)
        shutil.copyfile(notice, tmp / NOTICES_DIR / Path(notice).name)
    specs = [(k, tuple(v.shape), torch.bfloat16, (lambda v=v: iter([v.float()]))) for k, v in tensors.items()]
    write_streaming(tmp / WEIGHTS_FILE, specs)
    codes = torch.tensor(voice["codes"], dtype=torch.long)
    torch.save(voice_embedding(tensors[AUDIO_TABLE], codes, cfg), tmp / "voice_embedding" / f"{voice['name']}.pt")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def verify(out: Path) -> dict:
    """What the export path will do: strict open, strict reference load, the voice file's shape."""
    ck = Checkpoint.open(out)
    model = load_reference_model(ck)
    name = ck.config.voice_names[0]
    v = ck.voice(name)
    n = ck.tokenizer.voice_num_audio_tokens[name]
    if v.shape[0] != n:
        raise SystemExit(f"voice {name}: {v.shape[0]} rows but tekken.json says {n}")
    return {"tensors": len(ck.names), "params": sum(p.numel() for p in model.parameters()), "voice": name,
            "voice_rows": n, "vocab": ck.config.vocab_size, "mb": round((out / WEIGHTS_FILE).stat().st_size / 1e6, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tts", default=DEFAULT_TTS, help="tts/train.py state (last.pt)")
    ap.add_argument("--codec", default="", help="codec checkpoint (a voice v2 bottleneck state, or a codec "
                    "training state or compact one); default: the one the codes named (the state's codec.path), else "
                    + DEFAULT_CODEC)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--no-encoder", action="store_true", help="leave the codec encoder out (the release has none)")
    ap.add_argument("--force-codec", action="store_true", help="accept a codec other than the one the codes came from")
    ap.add_argument("--bundle", default="", help="also export a bundle here")
    ap.add_argument("--precision", default="int8", choices=["fp32", "fp16", "int8", "int4"])
    ap.add_argument("--compact-lexicon", action="store_true", help="write the lexicon as lexicon.tsv.xz in its "
                    "compact form (derived entries as the word alone; the same lookups; manifest schema 4)")
    args = ap.parse_args()

    state = load_ckpt(args.tts)
    codec_path = args.codec or state["codec"].get("path") or DEFAULT_CODEC
    codec = load_codec(codec_path)
    want = state["codec"]["fingerprint"]
    if codec.fingerprint != want and want != "synthetic" and not args.force_codec:
        sys.exit(f"{codec_path} is codec {codec.fingerprint} (step {codec.step}); the model was trained on codes of "
                 f"{want} (step {state['codec']['step']}). Pass that codec, or --force-codec.")
    have = {k: v for k, v in state["params"]["multimodal"]["audio_tokenizer_args"].items() if k != "voice"}
    if have != codec.tokenizer_args:
        sys.exit(f"{codec_path}: audio_tokenizer_args differ from the model's params.json")
    out = write_checkpoint(state, codec, args.out, with_encoder=not args.no_encoder,
                           compact_lexicon=args.compact_lexicon)
    print(f"wrote {out} (tts step {state['step']}, codec {codec.fingerprint} step {codec.step}): "
          f"{json.dumps(verify(out))}")
    if args.bundle:
        from vox_edge.export.bundle import export_bundle

        export_bundle(out, args.bundle, precision=args.precision)
        size = sum(p.stat().st_size for p in Path(args.bundle).rglob("*") if p.is_file())
        print(f"bundle {args.bundle} ({args.precision}): {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

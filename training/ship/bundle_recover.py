r"""A stage-3 state back from an exported bundle: the shipped bundle is the durable record of the model it holds.

The recipe's training states live under ~/.cache, which a new machine does not have (teacher audio, snapshots and
run states are all gone there). The packaged default bundle is in the repository, so its weights are what
survives. This reads them back into the compact stage-3 format
(training/tts/compact.py) that `tts/train.py --init`, `ship/export_checkpoint.py --tts`, `tts/sweep.py --tts` and
`ship/default.py --tts` take, and that `tts/train.py` resumes from as `OUT/last.pt` (fresh AdamW moments).

What comes back, per graph precision (the checkpoint was BF16, so FP32/FP16 bundles give it back exactly):
  fp32, fp16   the weights as exported;
  int8         dequantised: per-output-channel symmetric int8 (the backbone's DynamicQuantizeMatMul) or ORT's
               per-channel int8 with zero points (the flow graphs), i.e. within half a quantisation step;
  int4         refused (block-wise 4-bit loses too much to train on; export an int8 or fp32 bundle instead).
The text and audio-code tables are stored unquantised in every bundle (`arrays/`).

What the bundle does not hold is taken from the codes the model was trained on (`--codes`): the voice's codes (the
clip whose prompt rebuilds the bundle's voice embedding, found by matching) and the codec's fingerprint.

  .venv/bin/python -m training.ship.bundle_recover --bundle src/vox_edge/assets/default_bundle --codes training/codes \
      --out ~/.cache/vox-edge/tts_phon/recovered.pt
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from training.common.ckpt_io import atomic_save
from training.ship.default import RECORD_SUFFIX  # the quality record next to a packaged bundle
from training.tts.codes import read_meta, read_shards
from training.tts.data import voice_prompt_codes
from training.tts.model import build_model
from vox_edge.config import ModelConfig
from vox_edge.export.bundle import AUDIO_EMBEDDINGS, TOK_EMBEDDINGS

FLOW_GRAPHS = ("flow_condition", "flow_time", "flow_velocity")
FLOW_PREFIX = ("acoustic.", "acoustic_transformer.")  # the flow graphs' module name -> the checkpoint's


class RecoverError(SystemExit):
    pass


def recorded_step(bundle: Path, key: str, default: int) -> int:
    """A model step from ship/default.py's quality record next to a packaged bundle (stage3_step /
    codec_decoder_step), else `default`."""
    record = bundle.with_name(bundle.name + RECORD_SUFFIX)
    return int(json.loads(record.read_text(encoding="utf-8"))["model"][key]) if record.exists() else default


def initializers(path: Path) -> dict[str, np.ndarray]:
    """{name: array} of a graph's initializers, external data included."""
    model = onnx.load(str(path), load_external_data=True)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def linear_weight(inits: dict[str, np.ndarray], name: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The float [N, K] weight `name` (checkpoint layout) in one of the forms the exporters write, or None.

    fp32/fp16: `name` [N, K] as is, or `name.T` [K, N]; ORT's dynamic int8: `name.T_quantized` [K, N] with
    per-column `_scale`/`_zero_point`; int4 (`.T_Q4`, MatMulNBits) is refused."""
    if name in inits and inits[name].shape == shape:
        return inits[name].astype(np.float32)
    if name + ".T" in inits:
        return inits[name + ".T"].astype(np.float32).T
    if name + ".T_quantized" in inits:
        q = inits[name + ".T_quantized"].astype(np.float32)
        zp = inits[name + ".T_zero_point"].astype(np.float32)
        return ((q - zp) * inits[name + ".T_scale"].astype(np.float32)).T
    if name + ".T_Q4" in inits:
        raise RecoverError(f"{name} is stored as 4-bit blocks: export an int8 or fp32 bundle to recover from")
    return None


def fused_weight(inits: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The backbone's fused [sum N, K] weight `name` (export/onnx_utils.Linear): fp32/fp16 `name` [K, N], or int8
    `name.q8` [K, N] with a symmetric per-output-channel `name.scale` [N]."""
    if name in inits:
        return inits[name].astype(np.float32).T
    if name + ".q8" in inits:
        return (inits[name + ".q8"].astype(np.float32) * inits[name + ".scale"].astype(np.float32)).T
    if name + ".q4" in inits:
        raise RecoverError(f"{name} is stored as 4-bit blocks: export an int8 or fp32 bundle to recover from")
    raise RecoverError(f"backbone graph has no weight {name}: not a vox-edge backbone export")


def backbone_weights(inits: dict[str, np.ndarray], cfg: ModelConfig) -> dict[str, np.ndarray]:
    out = {"norm.weight": inits["norm.weight"]}
    q, kv = cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim
    for i in range(cfg.n_layers):
        p = f"layers.{i}"
        for norm in ("attention_norm", "ffn_norm"):
            out[f"{p}.{norm}.weight"] = inits[f"{p}.{norm}.weight"]
        wq, wk, wv = np.split(fused_weight(inits, f"{p}.attention.wqkv"), [q, q + kv])  # rows: [wq; wk; wv]
        w1, w3 = np.split(fused_weight(inits, f"{p}.feed_forward.w13"), 2)  # rows: [w1; w3]
        out.update({f"{p}.attention.wq.weight": wq, f"{p}.attention.wk.weight": wk, f"{p}.attention.wv.weight": wv,
                    f"{p}.attention.wo.weight": fused_weight(inits, f"{p}.attention.wo"),
                    f"{p}.feed_forward.w1.weight": w1, f"{p}.feed_forward.w3.weight": w3,
                    f"{p}.feed_forward.w2.weight": fused_weight(inits, f"{p}.feed_forward.w2")})
    return out


def flow_weights(inits: dict[str, np.ndarray], want: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Every acoustic_transformer.* tensor found in the flow graphs' initializers."""
    out = {}
    for key, shape in want.items():
        if not key.startswith(FLOW_PREFIX[1]):
            continue
        name = FLOW_PREFIX[0] + key[len(FLOW_PREFIX[1]):]
        w = linear_weight(inits, name, shape) if len(shape) == 2 else inits.get(name)
        if w is not None:
            out[key] = np.asarray(w, np.float32)
    return out


def find_voice_clip(codes: dict[str, np.ndarray], table: torch.Tensor, target: np.ndarray, cfg: ModelConfig,
                    prefer: str = "") -> tuple[str, np.ndarray]:
    """The clip whose voice prompt (codes + END) embeds to the bundle's voice rows (BF16 sums, export_checkpoint)."""
    from training.ship.export_checkpoint import voice_embedding

    n_ac = cfg.n_acoustic_codebook
    candidates = ([prefer] if prefer in codes else []) + sorted(c for c in codes if len(codes[c]) == len(target) - 1)
    for cid in candidates:
        vc = voice_prompt_codes(codes[cid], n_ac)
        if len(vc) != len(target):
            continue
        emb = voice_embedding(table, torch.from_numpy(vc), cfg).float().numpy()
        if np.allclose(emb, target, rtol=1e-2, atol=1e-2):
            return cid, vc
    raise RecoverError(f"no clip in the codes gives the bundle's voice ({len(target)} rows): pass the --codes the "
                       "model was trained on")


def recover(bundle: str | Path, codes_dir: str | Path, step: int | None = None, voice_clip: str = "") -> dict:
    """The compact stage-3 state (tts/compact.py format) of `bundle`, plus what was recovered how."""
    bundle = Path(bundle)
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecoverError(f"{bundle}: no manifest.json; pass a bundle directory (vox-edge export writes one)")
    params = manifest["params"]
    cfg = ModelConfig.from_params(params)
    precisions = {g: manifest["graphs"][g]["precision"] for g in ("backbone", *FLOW_GRAPHS)}
    model = build_model(params)
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}

    weights = backbone_weights(initializers(bundle / manifest["graphs"]["backbone"]["file"]), cfg)
    flow_inits = {}
    for g in FLOW_GRAPHS:
        flow_inits.update(initializers(bundle / manifest["graphs"][g]["file"]))
    weights.update(flow_weights(flow_inits, want))
    weights[TOK_EMBEDDINGS] = np.load(bundle / manifest["arrays"]["tok_embeddings"]["file"])
    weights[AUDIO_EMBEDDINGS] = np.load(bundle / manifest["arrays"]["audio_codebook_embeddings"]["file"])
    missing = sorted(set(want) - set(weights))
    if missing:
        raise RecoverError(f"{bundle}: no weights for {missing[:4]} ({len(missing)} in all): not an export of a "
                           "stage-3 model of these dims")
    state = {k: torch.from_numpy(np.array(weights[k], np.float32)).reshape(want[k]) for k in want}
    model.load_state_dict(state)  # strict: names and shapes are the model's

    meta = read_meta(str(codes_dir))
    if not meta:
        raise RecoverError(f"no codes in {codes_dir}: pass the --codes the model was trained on (training/codes)")
    name = manifest["default_voice"]
    target = np.load(bundle / manifest["voices"][name]["file"]).astype(np.float32)
    clip, vc = find_voice_clip(read_shards(str(codes_dir)), state[AUDIO_EMBEDDINGS], target, cfg, voice_clip)
    tekken = json.loads((bundle / manifest["tokenizer"]["file"]).read_text(encoding="utf-8"))
    lexicon = bundle / manifest["tokenizer"].get("lexicon", "lexicon.tsv.gz")
    if step is None:
        step = recorded_step(bundle, "stage3_step", 0)
    return {
        "model": {k: v.to(torch.bfloat16) for k, v in state.items()},  # as tts/compact.py: 16-bit weights
        "step": step, "params": params, "tekken": tekken,
        "voice": {"name": name, "codes": vc.tolist()},
        "codec": {"fingerprint": meta["codec_fingerprint"], "step": meta["codec_step"],
                  "tokenizer_args": meta["tokenizer_args"], "path": meta.get("codec_path", ""), "voice_clip": clip},
        **({"lexicon_gz": lexicon.read_bytes()} if lexicon.exists() else {}),
        "compact": True,
        "recovered_from": {"bundle": str(bundle), "precisions": precisions, "created": manifest.get("created")},
    }


def conv_weight(inits: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """A conv's folded (weight-normed) float weight: fp32/fp16 `name.weight`, or int8 `name.weight_int8` times its
    per-output-channel `name.weight_scale` (quantize/int8.py's conv pass), or None."""
    if name + ".weight" in inits:
        return inits[name + ".weight"].astype(np.float32)
    if name + ".weight_int8" in inits:
        return inits[name + ".weight_int8"].astype(np.float32) * inits[name + ".weight_scale"].astype(np.float32)
    return None


def recover_codec(bundle: str | Path, base: str | Path) -> dict:
    """A compact codec (the committed codec_small.pt format) whose decoder is the bundle's and whose encoder and
    quantizer are `base`'s: the bundle has no encoder, and the recipe's encoder and codebooks are frozen, so the
    base must be a codec of the same codes (same fingerprint; checked on the semantic codebook the graph holds)."""
    from training.tts.codec import load_codec

    bundle = Path(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    if "codec_decoder" not in manifest["graphs"]:
        raise RecoverError(f"{bundle}: a codec_step-only bundle (codec option 'steponly'): its step graph holds the "
                           "ConvTranspose weights re-arranged; recover the codec from a bundle with codec_decoder")
    entry = manifest["graphs"]["codec_decoder"]
    inits = initializers(bundle / entry["file"])
    ck = load_codec(str(base))
    flat = ck.tokenizer.state_dict()  # decoder + quantizer, release names without `audio_tokenizer.`
    out = {}
    for k, v in flat.items():
        if k.startswith("quantizer.") or k.endswith(".parametrizations.weight.original0"):  # g: set with v below
            continue
        if k.endswith(".parametrizations.weight.original1"):  # weight norm: v = W, g = |W| per dim-0 slice
            mod = k[: -len(".parametrizations.weight.original1")]
            w = conv_weight(inits, "codec." + mod)
            if w is None:
                raise RecoverError(f"{bundle}: decoder graph has no weight for {mod}")
            g = np.sqrt((w.astype(np.float64) ** 2).sum(axis=tuple(range(1, w.ndim)), keepdims=True))
            out[k], out[mod + ".parametrizations.weight.original0"] = w, g.astype(np.float32)
            continue
        name = "codec." + k
        w = linear_weight(inits, name, tuple(v.shape)) if v.ndim == 2 else inits.get(name)
        if w is None:
            raise RecoverError(f"{bundle}: decoder graph has no weight for {k} (the ONNX exporter keeps one of equal "
                               "tensors, e.g. the layer scales of an untrained decoder)")
        out[k] = np.asarray(w, np.float32).reshape(tuple(v.shape))
    # the graph's semantic codebook (an anonymous [codebook, dim] constant, BF16-rounded) must be the base's / usage
    cb = ck.tokenizer.quantizer.semantic_codebook
    e_sem = (cb.embedding_sum / cb.cluster_usage.clamp(min=1e-5)[:, None]).float().numpy()
    if not any(a.shape == e_sem.shape and np.allclose(a, e_sem, rtol=1e-2, atol=1e-3) for a in inits.values()):
        raise RecoverError(f"{base}: its semantic codebook is not the bundle's: pass the codec whose codes the "
                           "model was trained on")
    weights = {**{k: v.detach().clone() for k, v in ck.flat_state().items()},
               **{k: torch.from_numpy(np.array(v)).to(flat[k].dtype) for k, v in out.items()}}
    step = recorded_step(bundle, "codec_decoder_step", ck.step)
    return {"weights": {k: (v if k.endswith("cluster_usage") else v.half()) for k, v in weights.items()},
            "tokenizer_args": ck.tokenizer_args, "step": step,
            "recovered_from": {"bundle": str(bundle), "precision": entry["precision"], "base": str(base)}}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="an exported bundle (e.g. src/vox_edge/assets/default_bundle)")
    ap.add_argument("--codes", default="training/codes", help="the codes the model was trained on (voice, codec)")
    ap.add_argument("--out", default="", help="compact stage-3 state to write")
    ap.add_argument("--codec-out", default="", help="also write the bundle's codec decoder as a compact codec "
                    "(encoder and codebooks from --codec-base)")
    ap.add_argument("--codec-base", default="training/checkpoints/codec_small.pt")
    ap.add_argument("--step", type=int, default=None, help="training step to record (default: the bundle's "
                    "quality record, else 0)")
    ap.add_argument("--voice-clip", default="", help="try this clip first when matching the voice")
    a = ap.parse_args(argv)
    if not (a.out or a.codec_out):
        ap.error("pass --out (stage 3) and/or --codec-out (codec decoder)")
    if a.out:
        state = recover(a.bundle, a.codes, a.step, a.voice_clip)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        atomic_save(state, a.out, keep_prev=False)
        print(f"wrote {a.out}: step {state['step']}, voice {state['voice']['name']} from clip "
              f"{state['codec']['voice_clip']}, graphs {state['recovered_from']['precisions']}")
    if a.codec_out:
        codec = recover_codec(a.bundle, a.codec_base)
        os.makedirs(os.path.dirname(os.path.abspath(a.codec_out)), exist_ok=True)
        atomic_save(codec, a.codec_out, compress=True, keep_prev=False)
        print(f"wrote {a.codec_out}: decoder step {codec['step']} ({codec['recovered_from']['precision']}), "
              f"encoder and codebooks of {a.codec_base}")


if __name__ == "__main__":
    main()

"""The v2 codec as the runtime runs it: the bottleneck's decoder trunk + the teacher's frame decoder in the
reference codec (`output_head: "source_filter"`), exported to `codec_decoder.onnx` with the bundle exporter's own
graph wrapper and quantisation plan. Used to measure the shipped codec path (ONNX, INT8, streamed) before a
backbone exists for it.

    python -m training.voice_v2.codec_graph --ckpt BOTTLENECK --out DIR [--precision int8]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import torch

from vox_edge.config import ModelConfig
from vox_edge.export.reference.codec import AudioTokenizer
from vox_edge.export.synthetic_params import make_params

from .bottleneck import CONFIG, N_X, load_for_eval
from .teacher_decoder import teacher_frame_decoder


# the frame decoder's weights are hibari's (Apache-2.0): its licence and notice travel into every bundle
NOTICES = tuple(str(p) for p in sorted((Path(__file__).parent / "notices").glob("*.txt")))


def codec_params() -> dict:
    """params.json of a small model whose codec has the v2 head (the backbone dims are the packaged voice's)."""
    with open(CONFIG, encoding="utf-8") as f:
        tok = json.load(f)["audio_tokenizer_args"]
    tok.update(output_head="source_filter", frame_features=N_X)
    return make_params("small", codec=tok)


def build_codec(bottleneck_ckpt: str, fold: bool = True) -> AudioTokenizer:
    """The reference codec with the v2 head; `fold=False` keeps the weight-norm parametrisation (release names)."""
    cfg = ModelConfig.from_params(codec_params())
    codec = AudioTokenizer(cfg.codec)
    bn = load_for_eval(bottleneck_ckpt)
    state = {**codec.state_dict(), **bn.tokenizer.state_dict()}
    state.update({"frame_decoder." + k: v for k, v in teacher_frame_decoder().state_dict().items()})
    state.update(feature_scale=bn.x_scale.clone(), feature_bias=bn.x_mean.clone())  # trained in normalised units
    codec.load_state_dict(state)
    return (codec.fold_weight_norm() if fold else codec).eval()


def fingerprint(bottleneck_ckpt: str) -> str:
    """Identity of the codes a bottleneck state makes (its file's hash): codes.py records it, the backbone stage and
    export check it."""
    with open(bottleneck_ckpt, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def tokenizer_args() -> dict:
    """The v2 codec's audio_tokenizer_args (what a model trained on its codes declares in params.json)."""
    args = codec_params()["multimodal"]["audio_tokenizer_args"]
    args.pop("voice", None)
    return args


def loaded_codec(bottleneck_ckpt: str):
    """The v2 codec in the form the backbone stage, the sweep and the checkpoint export take
    (training.tts.codec.LoadedCodec): decoder only, the encoder is the bottleneck's and stays in training."""
    from training.tts.codec import LoadedCodec

    step = int(torch.load(bottleneck_ckpt, map_location="cpu", weights_only=False).get("step", 0))
    return LoadedCodec(None, build_codec(bottleneck_ckpt, fold=False), tokenizer_args(), step, fingerprint(bottleneck_ckpt),
                       os.path.abspath(bottleneck_ckpt), NOTICES)


def export_codec(bottleneck_ckpt: str, out: str, precision: str = "int8") -> Path:
    from vox_edge.export.torch_graphs import CodecDecoder, export_fp32
    from vox_edge.quantize.plan import plan_for, quantize_graph

    cfg = ModelConfig.from_params(codec_params())
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = export_fp32(CodecDecoder(build_codec(bottleneck_ckpt)), "codec_decoder", cfg, out_dir / "codec_fp32.onnx")
    dst = out_dir / f"codec_{precision}.onnx"
    plan = plan_for("codec", precision, graph="codec_decoder")
    if plan.method == "none":
        os.replace(fp32, dst)
    else:
        quantize_graph(fp32, dst, plan, None)
    (out_dir / "params.json").write_text(json.dumps(cfg.raw, indent=1))
    return dst


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--precision", default="int8")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    print(export_codec(a.ckpt, a.out, a.precision))


if __name__ == "__main__":
    main()

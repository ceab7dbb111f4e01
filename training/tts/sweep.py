"""Free-running Whisper WER of a stage-3 checkpoint per inference setting (CFG alpha, flow noise scale, Euler steps).

Tunes the knobs the engine exposes on held-out sentences that the quality benchmark does not score (the gate's
100 rows of training/corpus/heldout.tsv are left out; --n others are spread over the file, so every category is
in), so the reported WER stays untuned.
Each setting writes OUT/<label>/<id>.wav + refs.json, scores them like codec/heldout_wer.py (codec/asr.py in the teacher
venv) and prints one table row.

  .venv/bin/python -m training.tts.sweep --tts ~/.cache/vox-edge/tts_ctc/last.pt \
      --codec ~/.cache/vox-edge/codec_ctc/last.pt --codes ~/.cache/vox-edge/tts_ctc/codes \
      --setting cfg=1.2,noise=1.0 --setting cfg=2.0,noise=0.7
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
import torch

from training.codec.heldout_wer import asr, write_set
from training.tts import train as tts_train
from vox_edge.benchmarks.quality_wer import HELDOUT, select

TRAIN = os.path.join(os.path.dirname(HELDOUT), "train.tsv")
from vox_edge.export.reference.model import END_AUDIO, N_AUDIO_SPECIAL
from vox_edge.runtime.plan import frame_cap
from vox_edge.runtime.text import normalize
from vox_edge.runtime.tokenizer import build_tts_prompt

KEYS = {"cfg": float, "noise": float, "steps": int, "end": float}
FRAME_RATE = 12.5  # the small model's params.json (frame_rate); the cap is the engine's per-sentence cap


def parse_setting(s: str) -> dict:
    """'cfg=1.5,noise=0.7' -> {'cfg': 1.5, 'noise': 0.7, 'steps': 0, 'end': 0.0} (0 steps = the model's; end = a
    bias added to the END_AUDIO logit: an engine candidate against generations that never stop, not yet in it)."""
    out = {"cfg": 1.2, "noise": 1.0, "steps": 0, "end": 0.0}
    for part in filter(None, s.split(",")):
        k, _, v = part.partition("=")
        if k not in KEYS:
            raise SystemExit(f"--setting {s!r}: unknown key {k!r} (known: {', '.join(KEYS)})")
        out[k] = KEYS[k](v)
    return out


def label(st: dict) -> str:
    return f"cfg{st['cfg']:g}_noise{st['noise']:g}_steps{st['steps']}" + (f"_end{st['end']:g}" if st["end"] else "")


def tuning_rows(path: str, n: int, gate_n: int = 100) -> list[dict]:
    """n held-out rows (id, category, raw, norm) spread over the file, none of the `gate_n` the quality
    benchmark scores."""
    gate = {r["id"] for r in select(path, gate_n)}
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["id"] not in gate]
    n = min(n, len(rows))
    return [rows[(i * len(rows)) // n] for i in range(n)]


def trained_rows(path: str, codes: str, n: int) -> list[dict]:
    """n rows of the training corpus that have codes in `codes` (the run trained on them), spread over the file."""
    from training.tts.codes import read_shards

    have = set(read_shards(codes))
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["id"] in have]
    n = min(n, len(rows))
    return [rows[(i * len(rows)) // n] for i in range(n)]


def heard_by_category(clips: list[dict], category: dict[str, str]) -> str:
    """codec/asr.py's per-clip rows -> 'nav 66%, prose 12%, ...' (share of reference words heard)."""
    acc: dict[str, list[int]] = {}
    for c in clips:
        s = acc.setdefault(category[c["id"]], [0, 0])
        s[0], s[1] = s[0] + c["matched"], s[1] + c["words"]
    return ", ".join(f"{k} {m / max(w, 1):.0%}" for k, (m, w) in sorted(acc.items()))


def _biased(logits_fn, end_bias: float):
    """semantic_logits with end_bias added to the END_AUDIO column ([B, W] -> [B, W])."""
    def fn(h: torch.Tensor) -> torch.Tensor:
        out = logits_fn(h)
        if end_bias:
            out = out.clone()
            out[:, END_AUDIO] += end_bias
        return out
    return fn


@torch.no_grad()
def synthesize(tr, tok, norm: str, st: dict, seed: int, cap: int) -> torch.Tensor:
    """Normalised text -> codes [<= cap+1, 37] (+2 space), free-running."""
    m = tr.model
    at = m.acoustic_transformer
    at.semantic_logits = _biased(type(at).semantic_logits.__get__(at), st["end"])  # instance attr; 0 = unbiased
    ids = torch.tensor(build_tts_prompt(tok.encode(norm), tr.n_voice, tr.tts_ids))
    prompt = m.prompt_embeddings(ids, m.embed_codes(tr.voice_codes))
    g = torch.Generator().manual_seed(seed)
    noise = st["noise"] * torch.randn(cap + 1, m.cfg.n_acoustic_codebook, generator=g)  # [cap+1, A]
    return m.generate(prompt, noise, cap + 1, st["steps"] or None, st["cfg"]).codes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tts", required=True, help="stage-3 checkpoint (last.pt)")
    ap.add_argument("--codec", required=True, help="codec checkpoint with the same code fingerprint")
    ap.add_argument("--codes", required=True, help="codes folder the run trained on")
    ap.add_argument("--setting", action="append", default=[], help="cfg=A,noise=S,steps=K (repeat)")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--ema", action=argparse.BooleanOptionalAction, default=True,
                    help="the run's weight EMA when it kept one (--no-ema: the training weights)")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/vox-edge/sweep"))
    ap.add_argument("--trained", action="store_true", help="rows the run trained on instead (training/corpus/"
                    "train.tsv rows with codes in --codes): seen vs unseen text tells memorising from reading")
    ap.add_argument("--rows", default="", help="every row of this TSV (id, category, raw) instead, e.g. "
                    "training/corpus/names.tsv: given names and surnames the lexicon takes from CMUdict, in the "
                    "training corpus (category seen) or not (unseen)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)

    tr = tts_train.load_for_inference(a.tts, a.codes, a.codec, ema=a.ema)
    codec = tr._codec()
    if codec is None:
        sys.exit(f"{a.codec}: not the codec of these codes (fingerprint {tr.codec_info['fingerprint']})")
    tok = tr.text_tokenizer  # with the run's lexicon, if it has one
    if a.rows:
        with open(a.rows, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        what = f"sentences of {a.rows}"
    elif a.trained:
        rows, what = trained_rows(TRAIN, a.codes, a.n), "training sentences"
    else:
        rows, what = tuning_rows(HELDOUT, a.n), "held-out sentences outside the quality gate's"
    norms = [(r["id"], normalize(r["raw"])) for r in rows]  # the engine's text front end
    print(f"stage 3 step {tr.step}; {len(rows)} {what}", flush=True)
    print("| setting | WER | words heard | by category | ended by END |", flush=True)
    for st in map(parse_setting, a.setting or [""]):
        d = os.path.join(a.out, label(st))
        items, ended = [], 0
        for i, (cid, norm) in enumerate(norms):
            cap = frame_cap(norm, FRAME_RATE)
            codes = synthesize(tr, tok, norm, st, i, cap)
            ended += len(codes) < cap + 1
            wav = codec.decode(codes - N_AUDIO_SPECIAL).numpy() if len(codes) else np.zeros(1920, np.float32)
            items.append((cid, norm, wav))
        write_set(d, items, codec.cfg.sampling_rate)
        w = asr(d)
        cats = heard_by_category(w["clips"], {r["id"]: r["category"] for r in rows})
        print(f"| {label(st)} | {w['wer']:.1%} | {w['matched']:.1%} | {cats} | {ended}/{len(rows)} |", flush=True)


if __name__ == "__main__":
    main()

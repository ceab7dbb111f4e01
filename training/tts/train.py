"""The backbone + acoustic head, trained jointly on (text, codec codes) pairs (teacher forcing): stage 4 of
training/voice_v2/README.md.

Resumable: OUT/last.pt holds fp32 weights, AdamW state, step, batch position, RNG, params.json, tekken.json,
the voice clip's codes and the codec fingerprint; it is written atomically every --ckpt-min minutes and on
SIGTERM/SIGINT (the previous one is kept as last.prev.pt). Running the same command again continues.
Logs: OUT/log.jsonl (train rows every --log-every steps; eval rows with "eval": true). Eval every --eval-min
minutes: teacher-forced losses on the validation clips and --eval-gen free-running generations (frames, whether
END came), decoded with --codec to OUT/samples/<step>/<id>.wav + refs.json and Whisper-scored in the ASR
venv by training/codec/asr.py (niced, detached; it writes wer.json there).

  .venv/bin/python -m training.tts.vocab                      # once: ~/.cache/vox-edge/tts/tekken.json
  .venv/bin/python -m training.voice_v2.codes --features … --ckpt … --out …  # code shards (tts/codes.py)
  nohup nice -n 10 .venv/bin/python -m training.tts.train >> ~/.cache/vox-edge/tts/train.out 2>&1 &
Smoke run without real codes: --synthetic 64 --dims tiny --out /tmp/tts_smoke --max-steps 50
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch

from training.common.ckpt_io import atomic_save, load as load_ckpt
from training.common.paths import ROOT
from training.common.schedule import cosine_lr as lr_at
from training.tts import config as tts_config
from training.tts.codes import DEFAULT_OUT as DEFAULT_CODES, read_meta, read_shards
from training.tts.data import (DEFAULT_TEACHER, TRAIN_TSV, Batcher, collate, load_examples, own_acoustic_inputs,
                      pick_voice_clip, read_texts, synthetic_examples, voice_prompt_codes)
from training.tts.model import build_model, compute_losses

from vox_edge.config import N_AUDIO_SPECIAL
from vox_edge.runtime.text.lexicon import Lexicon
from vox_edge.runtime.tokenizer import TekkenTokenizer, build_tts_prompt

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/tts")
DEFAULT_TEKKEN = os.path.join(DEFAULT_OUT, "tekken.json")
DEFAULT_CODEC_CONFIG = os.path.join(ROOT, "training", "configs", "codec_small.json")
TEACHER_PY = os.path.expanduser("~/.cache/vox-edge/venv-teacher/bin/python")


def guided_weight(step: int, a) -> float:
    """Guided-attention weight: --guided-weight until --guided-steps, then linearly to 0 over as many steps."""
    if a.guided_weight <= 0 or not a.guided_layers:
        return 0.0
    return a.guided_weight * min(1.0, max(0.0, 2.0 - step / max(1, a.guided_steps)))


def load_tekken(path: str) -> dict:
    if not os.path.exists(path):  # deterministic, so building it here equals running tts/vocab.py
        from training.tts import vocab as tokenizer_train

        texts = tokenizer_train.read_column(TRAIN_TSV, "norm")
        tk = tokenizer_train.build_tekken(texts, tokenizer_train.DEFAULT_VOCAB, tokenizer_train.DEFAULT_SPECIALS)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(tk, f, ensure_ascii=False)
        print(f"built {path}", flush=True)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Trainer:
    def __init__(self, a):
        self.a = a
        os.makedirs(a.out, exist_ok=True)
        self.ckpt = os.path.join(a.out, "last.pt")
        self.log_path = os.path.join(a.out, "log.jsonl")
        self.stop = False
        resume = load_ckpt(self.ckpt) if os.path.exists(self.ckpt) else None
        self._data(resume)
        self.dev = torch.device(a.device)
        self.model = build_model(self.params, a.seed).to(self.dev)
        self.voice_codes = self.voice_codes.to(self.dev)
        n_layers = self.model.cfg.n_layers
        self.guided_layers = tuple(i for i in a.guided_layers if i < n_layers)
        if self.guided_layers != a.guided_layers:
            print(f"guided attention: layers {a.guided_layers} -> {self.guided_layers} (model has {n_layers})", flush=True)
        decay = [p for n, p in self.model.named_parameters() if p.ndim == 2 and "embeddings" not in n]
        other = [p for n, p in self.model.named_parameters() if not (p.ndim == 2 and "embeddings" not in n)]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": other, "weight_decay": 0.0}],
                                     lr=a.lr, betas=(0.9, 0.98))
        self.step, self.frames_seen = 0, 0
        self.gen = torch.Generator().manual_seed(a.seed)
        # weight EMA (--ema-decay): what evaluation, GTA codes and export use once it exists; it starts from the
        # current weights when switched on mid-run
        self.ema = {k: v.to(self.dev) for k, v in resume["ema"].items()} if resume and resume.get("ema") else None
        if resume and resume.get("compact"):  # tts/compact.py: 16-bit weights (EMA if it had one), no optimiser
            self.model.load_state_dict(resume["model"])
            self.step = resume["step"]
            print(f"resumed compact {self.ckpt} at step {self.step} (fresh AdamW moments)", flush=True)
        elif resume:
            self.model.load_state_dict(resume["model"])
            self.opt.load_state_dict(resume["opt"])
            self.step, self.frames_seen = resume["step"], resume["frames_seen"]
            self.batcher.set_state(resume["batcher"])
            self.gen.set_state(resume["gen"])
            print(f"resumed {self.ckpt} at step {self.step}", flush=True)
        elif a.init:
            self._warm_start(a.init)
        if a.ema_decay > 0 and self.ema is None:
            self.ema = {k: v.detach().clone() for k, v in self.model.state_dict().items() if v.is_floating_point()}
        self.first_step = self.step  # where this process began (--rewarm ramps from here)

    # --- data, tokenizer, params, voice (fixed at the first start; a resume must agree) ---
    def _data(self, resume: dict | None) -> None:
        a = self.a
        if resume:
            self.tekken, self.params, self.voice = resume["tekken"], resume["params"], resume["voice"]
            self.codec_info = resume["codec"]
            self.lexicon_gz = resume.get("lexicon_gz")
            given = read_lexicon_gz(a.lexicon) if a.lexicon else None
            if given and given != self.lexicon_gz:
                if not (a.new_lexicon_ok and self.lexicon_gz):
                    sys.exit(f"--lexicon {a.lexicon} is not the lexicon this run trained with; drop the flag (the run "
                             "keeps its own), pass --new-lexicon-ok to go on reading the new one, or start a new run "
                             "(--init) with it")
                self.lexicon_gz = given  # saved with the run from now on, and exported
                print(f"lexicon replaced by {a.lexicon}", flush=True)
        else:
            self.tekken = load_tekken(a.tekken)
            self.lexicon_gz = read_lexicon_gz(a.lexicon) if a.lexicon else None
        tok = TekkenTokenizer.from_dict(self.tekken)
        if self.lexicon_gz:  # the model reads phonemes: every text goes through the runtime's own lexicon rules
            tok = LexiconTokenizer(tok, Lexicon.from_text(gzip.decompress(self.lexicon_gz).decode("utf-8")))
        self.text_tokenizer = tok
        self.tts_ids = tok.tts_ids
        if a.synthetic:
            with open(a.codec_config, encoding="utf-8") as f:
                tok_args = json.load(f)["audio_tokenizer_args"]
            exs = synthetic_examples(a.synthetic, (tok.num_special_tokens, tok.vocab_size),
                                     tok_args["semantic_codebook_size"], tok_args["acoustic_dim"],
                                     tok_args["acoustic_codebook_size"], seed=a.seed)
            n_val = max(1, a.synthetic // 8)
            self.train_ex, self.val_ex = exs[n_val:], exs[:n_val]
            codec = {"fingerprint": "synthetic", "step": 0, "tokenizer_args": tok_args}
            voice_src = self.train_ex[0].codes - N_AUDIO_SPECIAL
        else:
            meta = read_meta(a.codes)
            if not meta:
                sys.exit(f"no codes in {a.codes}: make them first (voice_v2/codes.py; --synthetic N: a smoke run)")
            codes = read_shards(a.codes)
            self.train_ex, self.val_ex = load_examples(codes, tok, read_texts(a.corpus),
                                                       os.path.join(a.teacher, "manifest.jsonl"), a.max_frames)
            codec = {"fingerprint": meta["codec_fingerprint"], "step": meta["codec_step"],
                     "tokenizer_args": meta["tokenizer_args"], "path": meta.get("codec_path", "")}
            voice_src = None
            if not resume:
                clip = a.voice_clip or pick_voice_clip(codes)
                voice_src = codes[clip]
                codec["voice_clip"] = clip
        if resume:
            if codec["fingerprint"] != self.codec_info["fingerprint"] and not a.new_codec_ok:
                sys.exit(f"{a.codes} holds codes of codec {codec['fingerprint']}, the checkpoint was trained on "
                         f"{self.codec_info['fingerprint']}; pass --new-codec-ok to fine-tune on the new codes")
        else:
            self.codec_info = codec
            vc = voice_prompt_codes(voice_src, codec["tokenizer_args"]["acoustic_dim"])
            self.voice = {"name": a.voice_name, "codes": vc.tolist()}
            dims = {"tiny": tts_config.TINY_DIMS, "deep": tts_config.DEEP_DIMS}.get(a.dims, tts_config.DIMS)
            self.params = tts_config.make_params(dims, tok.vocab_size, codec["tokenizer_args"], {a.voice_name: 0})
            from training.tts import vocab as tokenizer_train

            self.tekken = tokenizer_train.with_voices(self.tekken, {a.voice_name: len(vc)})
        self.voice_codes = torch.tensor(self.voice["codes"], dtype=torch.long)
        self.n_voice = len(self.voice_codes)
        self.batcher = Batcher(self.train_ex, self.n_voice, a.batch_tokens, a.seed)
        self.own = self._own_inputs(a.own_inputs) if a.own_inputs else {}
        if not self.train_ex:
            sys.exit("no training examples")

    @torch.no_grad()
    def _warm_start(self, path: str) -> None:
        """A new run from another run's weights (its EMA if it kept one). A table whose row count differs (the
        text embeddings under another vocabulary) keeps its fresh init except the rows both share: the specials
        and the 256 byte tokens sit at the same ids in every vocabulary tts/vocab.py builds."""
        src = load_ckpt(path)
        weights = {**src["model"], **(src.get("ema") or {})}
        own = self.model.state_dict()
        partial = []
        for k, v in own.items():
            w = weights.get(k)
            if w is None:
                continue
            if w.shape == v.shape:
                v.copy_(w)
            elif w.shape[1:] == v.shape[1:]:
                n = min(len(v), len(w))
                v[:n].copy_(w[:n])
                partial.append(f"{k} {n}/{len(v)} rows")
            else:
                raise SystemExit(f"--init {path}: {k} is {tuple(w.shape)} there, {tuple(v.shape)} here")
        grown = self._grow_identity(set(weights))
        print(f"warm start from {path} (step {src.get('step')})" + (f"; partial: {', '.join(partial)}" if partial else "")
              + (f"; new identity layers: {', '.join(grown)}" if grown else ""), flush=True)

    @torch.no_grad()
    def _grow_identity(self, source_keys: set) -> list[str]:
        """Blocks the source lacks (a deeper model, e.g. --dims deep from a 10-layer run) start as the identity:
        their output projections (attention.wo, feed_forward.w2) are zero, so the residual stream, and with it
        every output, is the source model's at step 0; the other weights keep their fresh init and learn from there."""
        own = self.model.state_dict()
        blocks = sorted({k[: k.index(".attention.wo.")] for k in own if ".attention.wo." in k})
        grown = [b for b in blocks if not any(k.startswith(b + ".") for k in source_keys)]
        for b in grown:
            own[b + ".attention.wo.weight"].zero_()
            own[b + ".feed_forward.w2.weight"].zero_()
        return grown

    def _own_inputs(self, folder: str) -> dict[str, np.ndarray]:
        """The model's own codes per clip (a GTA set: tts/codes.py shards, meta.json kind "gta", tts_step,
        codec_fingerprint), only if they were made on this run's codes."""
        meta = read_meta(folder)
        if not meta or meta.get("kind") != "gta":
            sys.exit(f"--own-inputs {folder}: no GTA codes there (meta.json with kind 'gta')")
        if meta["codec_fingerprint"] != self.codec_info["fingerprint"]:
            sys.exit(f"--own-inputs {folder}: codes of codec {meta['codec_fingerprint']}, this run trains on "
                     f"{self.codec_info['fingerprint']}; regenerate them from this run's codes")
        own = read_shards(folder)
        self.own_step = meta["tts_step"]
        print(f"own acoustic inputs: {len(own)} clips of stage-3 step {meta['tts_step']}", flush=True)
        return own

    def maybe_reload_own(self) -> None:
        """Take a newer GTA set once one is swapped in (meta.json written last, another tts_step): the own inputs
        then follow the model instead of staying those of the run's last start."""
        if self.own and (read_meta(self.a.own_inputs) or {}).get("tts_step") != self.own_step:
            self.own = self._own_inputs(self.a.own_inputs)

    def save(self) -> None:
        atomic_save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                     "frames_seen": self.frames_seen, "batcher": self.batcher.state(), "gen": self.gen.get_state(),
                     "params": self.params, "tekken": self.tekken, "voice": self.voice, "codec": self.codec_info,
                     "args": vars(self.a), **({"ema": self.ema} if self.ema is not None else {}),
                     **({"lexicon_gz": self.lexicon_gz} if self.lexicon_gz else {})}, self.ckpt)

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.ema is None or self.a.ema_decay <= 0:
            return
        sd = self.model.state_dict()
        keys = list(self.ema)
        torch._foreach_lerp_([self.ema[k] for k in keys], [sd[k].detach() for k in keys], 1.0 - self.a.ema_decay)

    @contextlib.contextmanager
    def ema_weights(self):
        """The model holds the EMA weights inside the block (the training weights are put back after)."""
        if self.ema is None:
            yield
            return
        saved = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(self.ema, strict=False)
        try:
            yield
        finally:
            self.model.load_state_dict(saved)

    def log(self, row: dict) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    def _time_frac(self) -> float | None:
        """--cosine-minutes: how far this process is into its time box (None: the schedule follows the steps)."""
        if self.a.cosine_minutes <= 0:
            return None
        if self.step < max(self.a.warmup, self.first_step + self.a.rewarm) or not hasattr(self, "_t_cosine"):
            self._t_cosine = time.monotonic()
        return (time.monotonic() - self._t_cosine) / (self.a.cosine_minutes * 60)

    def _rewarm_scale(self) -> float:
        """--rewarm N: a resumed process ramps its LR linearly over its first N steps, so a warm restart to a
        higher --lr than the state ended at does not hit fresh data with the full rate at once."""
        return min(1.0, (self.step - self.first_step + 1) / self.a.rewarm) if self.a.rewarm > 0 else 1.0

    def train_step(self) -> dict:
        a = self.a
        exs = self.batcher.next()
        batch = collate(exs, self.n_voice, self.tts_ids)
        own = own_acoustic_inputs(batch, exs, self.own, a.own_inputs_p, self.gen) if self.own else 0
        batch = batch.to(self.dev)
        for g in self.opt.param_groups:
            g["lr"] = lr_at(self.step, a, self._time_frac()) * self._rewarm_scale()
        # bf16 autocast: matmuls in bf16 with fp32 weights and optimiser (AVX-512 BF16 makes them ~4x faster here)
        with torch.autocast(self.dev.type, dtype=torch.bfloat16, enabled=a.bf16):
            m = compute_losses(self.model, batch, self.voice_codes, p_uncond=a.p_uncond, t_mode=a.t_sampling,
                               fm_weight=a.fm_weight, generator=self.gen, guided_weight=guided_weight(self.step, a),
                               guided_layers=self.guided_layers, guided_heads=a.guided_heads, dropout=a.dropout,
                               frame_dropout=a.frame_dropout, label_smoothing=a.label_smoothing)
        self.opt.zero_grad(set_to_none=True)
        m["loss"].backward()
        gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), a.clip)
        self.opt.step()
        self.update_ema()
        self.step += 1
        self.frames_seen += batch.frames
        # tensors, not floats: read once per log row (on a GPU each float() would wait for the device)
        out = {k: v.detach() for k, v in m.items()}
        out.update(gnorm=gnorm.detach(), batch=batch.ids.shape[0], frames=batch.frames)
        if self.own:
            out["own_inputs"] = own
        return out

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Teacher-forced val losses (fixed noise) + free-running generations of the first --eval-gen val texts,
        with the EMA weights when there are some."""
        with self.ema_weights():
            row = self._evaluate()
        return {**row, "ema": True} if self.ema is not None else row

    def _evaluate(self) -> dict:
        self.model.eval()
        gen = torch.Generator().manual_seed(1234)
        acc, n = {}, 0
        val = Batcher(self.val_ex, self.n_voice, self.a.batch_tokens, seed=0) if self.val_ex else None
        for _ in range(len(val._plan) if val else 0):
            batch = collate(val.next(), self.n_voice, self.tts_ids).to(self.dev)
            m = compute_losses(self.model, batch, self.voice_codes, p_uncond=0.0, t_mode=self.a.t_sampling,
                               generator=gen)
            for k, v in m.items():
                acc[k] = acc.get(k, 0.0) + float(v) * batch.frames
            n += batch.frames
        row = {"eval": True, "step": self.step, "time": time.time()}
        row.update({f"val_{k}": round(v / max(n, 1), 4) for k, v in acc.items()})
        row.update(self.generate_samples())
        self.model.train()
        return row

    def generate_samples(self) -> dict:
        exs = self.val_ex[: self.a.eval_gen]
        if not exs or self.dev.type != "cpu":  # free-running generation is a CPU job (ship/default.py)
            return {}
        voice = self.model.embed_codes(self.voice_codes)
        out_dir = os.path.join(self.a.out, "samples", f"{self.step:07d}")
        codec = self._codec()
        ratios, stopped, refs = [], 0, {}
        texts = read_texts(self.a.corpus) if codec else {}
        for i, e in enumerate(exs):
            ids = torch.tensor(build_tts_prompt(e.text_ids, self.n_voice, self.tts_ids))
            cap = 2 * len(e.codes) + 25
            noise = torch.randn(cap, self.model.cfg.n_acoustic_codebook, generator=torch.Generator().manual_seed(i))
            g = self.model.generate(self.model.prompt_embeddings(ids, voice), noise, cap)
            ratios.append(len(g.codes) / len(e.codes))
            stopped += int(g.stopped)
            if codec and len(g.codes) and e.id in texts:
                import soundfile as sf

                os.makedirs(out_dir, exist_ok=True)
                wav = codec.decode(g.codes - N_AUDIO_SPECIAL).clamp(-1, 1).numpy()
                sf.write(os.path.join(out_dir, e.id + ".wav"), wav, codec.cfg.sampling_rate, subtype="PCM_16")
                refs[e.id] = texts[e.id]
        if refs:
            with open(os.path.join(out_dir, "refs.json"), "w", encoding="utf-8") as f:
                json.dump(refs, f, indent=1)
            if self.a.asr and os.path.exists(TEACHER_PY):
                subprocess.Popen(["nice", "-n", "19", TEACHER_PY, "-m", "training.codec.asr", out_dir], cwd=ROOT,
                                 stdout=open(os.path.join(out_dir, "asr.log"), "w"),
                                 stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                 start_new_session=True)
        return {"gen_len_ratio": round(float(np.median(ratios)), 3), "gen_stopped": f"{stopped}/{len(exs)}",
                **({"samples": out_dir} if refs else {})}

    def _codec(self):
        """The codec the codes came from, for decoding samples (None without --codec or on a mismatch).

        Re-read when the file changes: with `--codec ~/.cache/vox-edge/codec/last.pt` and a frozen encoder the
        samples are decoded by the newest decoder (same code fingerprint) at every eval."""
        path = self.codec_info.get("path", "") if self.a.codec == "auto" else self.a.codec
        if not path or not os.path.exists(path):
            return None
        stamp = (path, os.path.getmtime(path))
        if getattr(self, "_codec_stamp", None) != stamp:
            from training.tts.codec import load_codec

            self._codec_stamp, self._codec_cache = stamp, None
            c = load_codec(path)
            if c.fingerprint == self.codec_info["fingerprint"]:
                self._codec_cache = c
            else:
                print(f"codec {path} is {c.fingerprint}, codes are from {self.codec_info['fingerprint']}: "
                      "samples are not decoded (a codec with other encoder or codebooks)", flush=True)
        return self._codec_cache

    def run(self) -> None:
        a = self.a
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: setattr(self, "stop", True))
        n_params = sum(p.numel() for p in self.model.parameters())
        print(f"tts: {n_params / 1e6:.2f} M params; {len(self.train_ex)} train / {len(self.val_ex)} val clips; "
              f"voice '{self.voice['name']}' {self.n_voice} rows; codec {self.codec_info['fingerprint']}", flush=True)
        t_ckpt = t_eval = time.monotonic()
        if self.step == 0:
            self.log(self.evaluate())
        acc, n_acc, t_log, start = {}, 0, time.monotonic(), self.step
        t_end = time.monotonic() + a.max_minutes * 60 if a.max_minutes > 0 else math.inf
        while not self.stop and (a.max_steps <= 0 or self.step - start < a.max_steps) and time.monotonic() < t_end:
            m = self.train_step()
            for k, v in m.items():
                acc[k] = acc.get(k, 0.0) + v
            n_acc += 1
            if self.step % a.log_every == 0:
                now = time.monotonic()
                row = {"step": self.step, "time": time.time(), "lr": round(self.opt.param_groups[0]["lr"], 7),
                       "steps_per_s": round(n_acc / (now - t_log), 3), "epoch": self.batcher.epoch,
                       "hours_seen": round(self.frames_seen / self.model.cfg.frame_rate / 3600, 3)}
                # a resumed run's first window is short: average over the steps it really has
                row.update({k: round(float(v) / n_acc, 4) for k, v in acc.items()})
                self.log(row)
                print(json.dumps(row), flush=True)
                acc, n_acc, t_log = {}, 0, now
            if time.monotonic() - t_eval >= a.eval_min * 60:
                row = self.evaluate()
                self.log(row)
                print(json.dumps(row), flush=True)
                t_eval = time.monotonic()
            if time.monotonic() - t_ckpt >= a.ckpt_min * 60:
                self.save()
                self.maybe_reload_own()
                t_ckpt = time.monotonic()
        self.save()
        print(f"stopped at step {self.step}; saved {self.ckpt}", flush=True)


def read_lexicon_gz(path: str) -> bytes:
    """A lexicon file as the gzip bytes a run keeps (byte-identical for the same entries: mtime 0)."""
    return gzip.compress(Lexicon.from_file(path).to_text().encode("utf-8"), 9, mtime=0)


class LexiconTokenizer:
    """The Tekken tokenizer behind the lexicon: encode(text) = encode(lexicon.apply(text)), as the engine does for a
    bundle with a lexicon; everything else is the tokenizer's."""

    def __init__(self, tok: TekkenTokenizer, lexicon: Lexicon):
        self.tok, self.lexicon = tok, lexicon

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(self.lexicon.apply(text))

    def __getattr__(self, name):
        return getattr(self.tok, name)


def load_for_inference(ckpt: str, codes: str, codec: str = "", ema: bool = True) -> Trainer:
    """A Trainer holding `ckpt`'s model (its EMA weights if it has some and `ema`) in eval mode, its data and
    codec, without touching the run's folder (for scripts that read a stage-3 model)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as run:  # the Trainer resumes from OUT/last.pt: give it a private copy
        shutil.copy(ckpt, os.path.join(run, "last.pt"))
        tr = Trainer(parser().parse_args(["--out", run, "--codes", codes, "--codec", codec, "--no-asr"]))
    if tr.ema is not None and ema:
        tr.model.load_state_dict(tr.ema, strict=False)
    tr.model.eval()
    return tr


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--codes", default=DEFAULT_CODES, help="code shards (tts/codes.py format: voice_v2/codes.py)")
    ap.add_argument("--teacher", default=DEFAULT_TEACHER, help="teacher dir (manifest: clips rejected since encoding)")
    ap.add_argument("--corpus", default=TRAIN_TSV)
    ap.add_argument("--tekken", default=DEFAULT_TEKKEN, help="built with tts/vocab.py defaults if missing")
    ap.add_argument("--lexicon", default="", help="new runs: a pronunciation lexicon (runtime/text/lexicon.py, e.g. "
                    "training/lexicon/en_us.tsv.gz); the model then reads phonemes, and the run, its checkpoint and "
                    "its bundle carry the lexicon")
    ap.add_argument("--codec", default="auto",
                    help="codec checkpoint for decoding eval samples (auto = the one meta.json names; '' = none)")
    ap.add_argument("--synthetic", type=int, default=0, help="train on N synthetic examples instead of codes")
    ap.add_argument("--codec-config", default=DEFAULT_CODEC_CONFIG, help="codec args for --synthetic")
    ap.add_argument("--dims", choices=["small", "deep", "tiny"], default="small",
                    help="tts/config.py DIMS, DEEP_DIMS or TINY_DIMS (new runs)")
    ap.add_argument("--voice-name", default="neutral_male")
    ap.add_argument("--voice-clip", default="", help="clip id whose codes become the voice (default: first 2-3 s clip)")
    ap.add_argument("--max-frames", type=int, default=400, help="skip longer clips (32 s)")
    ap.add_argument("--batch-tokens", type=int, default=3000, help="padded positions per batch")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-min", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--total-steps", type=int, default=30_000,
                    help="length of the cosine schedule (about 27 epochs of 28 h)")
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--p-uncond", type=float, default=0.1, help="condition dropout (CFG's zero-hidden branch)")
    ap.add_argument("--t-sampling", choices=["uniform", "logit-normal"], default="uniform")
    ap.add_argument("--fm-weight", type=float, default=1.0)
    ap.add_argument("--guided-weight", type=float, default=1.0,
                    help="DC-TTS guided attention on --guided-heads heads of --guided-layers (alignment on small data)")
    ap.add_argument("--guided-layers", type=lambda s: tuple(int(x) for x in s.split(",") if x), default=(2, 5),
                    help="backbone layers whose first heads are pushed towards the text diagonal ('' = off)")
    ap.add_argument("--guided-heads", type=int, default=2)
    ap.add_argument("--guided-steps", type=int, default=10_000, help="full weight until here, 0 at twice this")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--ckpt-min", type=float, default=10.0)
    ap.add_argument("--eval-min", type=float, default=60.0)
    ap.add_argument("--eval-gen", type=int, default=4, help="free-running val generations per eval")
    ap.add_argument("--asr", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--new-codec-ok", action="store_true", help="resume on codes of a different codec")
    ap.add_argument("--new-lexicon-ok", action="store_true", help="resume reading --lexicon although the run trained "
                    "with another (same alphabet: e.g. the same entries plus CMUdict's names)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in this run (0 = never)")
    ap.add_argument("--dropout", type=float, default=0.1, help="on attention/FFN outputs of the backbone (training)")
    ap.add_argument("--own-inputs", default="", help="GTA codes (tts/codes.py shards): feed their acoustic codes back "
                    "instead of the encoder's for --own-inputs-p of the clips (exposure to its own outputs)")
    ap.add_argument("--own-inputs-p", type=float, default=0.5)
    ap.add_argument("--frame-dropout", type=float, default=0.3,
                    help="on the fed-back frame embeddings (Tacotron prenet dropout): forces reading the text")
    ap.add_argument("--label-smoothing", type=float, default=0.1, help="semantic cross-entropy")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=False,
                    help="bf16 autocast for the forward/backward (fp32 master weights)")
    ap.add_argument("--init", default="", help="first start only: weights of another stage-3 state (e.g. after a "
                    "vocabulary change; tables of another row count keep the rows both share)")
    ap.add_argument("--ema-decay", type=float, default=0.0,
                    help="keep an EMA of the weights (e.g. 0.999) for eval, GTA and export; 0 = off")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda; "
                    "the state it writes resumes on any device")
    ap.add_argument("--max-minutes", type=float, default=0.0, help="stop (and save) after this many minutes (0 = never)")
    ap.add_argument("--restart-at", type=int, default=0,
                    help="warm restart: the cosine begins again at this step (from --lr, to --total-steps)")
    ap.add_argument("--cosine-minutes", type=float, default=0.0,
                    help="time-boxed runs: the cosine decay after warm-up spans this many minutes of this process "
                         "instead of --total-steps (0 = off)")
    ap.add_argument("--rewarm", type=int, default=0,
                    help="resumed runs: ramp the LR linearly over this process's first N steps (warm restarts to a "
                         "higher --lr); a --cosine-minutes time box starts after the ramp")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process (tests call main() in-process)
        pass
    Trainer(a).run()


if __name__ == "__main__":
    main()

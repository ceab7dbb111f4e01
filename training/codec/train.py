"""Stage 2: train the small Voxtral-architecture codec (encoder + semantic VQ + FSQ + decoder) on teacher audio.

Resumable: everything (fp32 weights, optimiser, step, RNG) is in OUT/last.pt, written atomically every
--ckpt-min minutes and on SIGTERM/SIGINT; running the same command again continues from it. --init takes
the compact repo checkpoint (training/checkpoints/codec_small.pt) when OUT/last.pt is gone.

Logs: OUT/log.jsonl (train losses every --log-every steps, eval rows with "eval": true).
Every --eval-min minutes: SC / log-mel L1 of the held-out clips through the exact inference path (int codes),
their reconstructions as OUT/rec/<step>/<id>.wav, and optionally (--asr) Whisper WER in a niced subprocess.

Start (1 thread; the other core is for the teacher and colleagues):
  nohup nice -n 10 .venv/bin/python -m training.codec.train >> ~/.cache/vox-edge/codec/train.out 2>&1 &
On a GPU (optional, never needed): --device cuda --preload, with the audio of codec/pack.py; see the README.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import subprocess
import sys
import time

import soundfile as sf
import torch

from training.codec.ctc import CTCHead, ctc_loss, greedy, latent_hinge, phone_ids
from training.codec.data import DEFAULT_TEACHER, AlignedCodeCrops, TeacherCrops, heldout_clips
from training.codec.gan import Discriminators, discriminator_loss, generator_losses
from training.codec.losses import PhaseLoss, SpectralLoss
from training.codec.model import DEFAULT_CONFIG, Codec, codec_config, param_count, tokenizer_args
from training.common.ckpt_io import atomic_save, load as load_ckpt, prev_path
from training.common.paths import ROOT
from training.common.schedule import cosine_lr as lr_at
from training.common.wer import edit_distance

DEFAULT_OUT = os.path.expanduser("~/.cache/vox-edge/codec")
TEACHER_PY = os.path.expanduser("~/.cache/vox-edge/venv-teacher/bin/python")


class Trainer:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.out, exist_ok=True)
        self.ckpt = os.path.join(args.out, "last.pt")
        self.log_path = os.path.join(args.out, "log.jsonl")
        self.tok_args = tokenizer_args(args.config)
        self.cfg = codec_config(self.tok_args)
        self.dev = torch.device(args.device)
        # on the device before any optimiser exists: a loaded optimiser state then lands where its parameters are
        self.model = Codec(self.cfg).to(self.dev)
        self.loss = SpectralLoss(self.cfg.sampling_rate).to(self.dev)
        self.phase_loss = PhaseLoss(args.phase_fft).to(self.dev) if args.phase_weight > 0 else None
        if args.lr_encoder_scale == 1.0:
            groups = [{"params": list(self.model.parameters())}]
        else:  # a slower encoder (phonetic codes must not run away from the decoder); two groups: new runs only
            enc = list(self.model.encoder.parameters())
            ids = {id(p) for p in enc}
            groups = [{"params": enc, "lr_scale": args.lr_encoder_scale},
                      {"params": [p for p in self.model.parameters() if id(p) not in ids]}]
        self.opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.8, 0.99), weight_decay=0.01)
        if args.freeze_encoder:
            # codes are final (stage 3 trains on them): only the decoder learns; no codebook EMA, no dropout
            for p in self.model.encoder.parameters():
                p.requires_grad_(False)
        # adversarial phase (codec/gan.py): discriminators exist only when asked for, so older states still load
        periods = tuple(int(q) for q in args.disc_periods.split(",") if q)
        self.disc = Discriminators(periods, channels=args.disc_channels).to(self.dev) if args.gan_start > 0 else None
        self.opt_d = torch.optim.AdamW(self.disc.parameters(), lr=args.lr_d, betas=(0.8, 0.99)) if self.disc else None
        # phonetic semantic codes (codec/ctc.py): a training-only head with its own optimiser, like the discriminators
        self.ctc = CTCHead(self.cfg.semantic_dim).to(self.dev) if args.ctc_weight > 0 else None
        self.opt_ctc = torch.optim.AdamW(self.ctc.parameters(), lr=args.lr_ctc, betas=(0.8, 0.99)) if self.ctc else None
        self.judge = None  # semantic cycle loss: frozen copy of the encoder, refreshed every --cycle-refresh steps
        self.data = TeacherCrops(args.teacher, self.cfg.sampling_rate, reload_s=args.reload_min * 60, seed=args.seed,
                                 preload=args.preload)
        self.step = 0
        self._gta_rng = None  # restored once the GTA crops exist
        self.seen_s = 0.0  # audio seconds trained on
        self.stop = False
        torch.manual_seed(args.seed)
        found = [p for p in (self.ckpt, prev_path(self.ckpt)) if os.path.exists(p)]
        for i, p in enumerate(found):
            try:
                self.load(p)
                break
            except Exception as e:  # a torn or corrupt file: fall back to the previous one
                if i == len(found) - 1:
                    raise
                print(f"cannot load {p} ({e}); trying {found[i + 1]}", flush=True)
        if not found and args.init:
            self.load_compact(args.init)
        elif not found and args.warm_start:
            self.warm_start(args.warm_start)
        self.gta = self._gta_crops(args) if args.gta else None
        if self.gta is not None and self._gta_rng is not None:
            self.gta.set_rng_state(self._gta_rng)

    def maybe_reload_gta(self) -> None:
        """Take newer GTA codes when tts/gta.py has replaced the folder (a later stage-3 model), keeping the RNG."""
        if self.gta is None:
            return
        from training.tts.codes import read_meta

        meta = read_meta(self.args.gta) or {}
        if meta.get("kind") == "gta" and meta.get("tts_step") != self.gta_step:
            rng = self.gta.rng_state()
            self.gta = self._gta_crops(self.args)
            self.gta.set_rng_state(rng)

    def _gta_crops(self, a) -> AlignedCodeCrops:
        """Stage-3 (GTA) codes for the decoder (tts/gta.py); only valid for the encoder + codebook they came from."""
        from training.tts.codec import fingerprint
        from training.tts.codes import read_meta, read_shards

        meta = read_meta(a.gta)
        if not meta or meta.get("kind") != "gta":
            sys.exit(f"--gta {a.gta}: no GTA codes there (meta.json of training/tts/gta.py)")
        if not a.freeze_encoder:
            sys.exit("--gta needs --freeze-encoder: GTA codes are only valid for the encoder they came from")
        own = fingerprint(self.model.flat_state())
        if meta["codec_fingerprint"] != own:
            sys.exit(f"--gta {a.gta} was made on codes of codec {meta['codec_fingerprint']}, this codec's codes "
                     f"are {own}: regenerate them (training/tts/gta.py)")
        crops = AlignedCodeCrops(read_shards(a.gta), a.teacher, self.cfg.samples_per_frame, seed=a.seed + 1)
        self.gta_step = meta["tts_step"]
        print(f"GTA codes of stage-3 step {meta['tts_step']}: {len(crops.items)} clips, "
              f"{round(a.batch * a.gta_frac)} of {a.batch} items per batch", flush=True)
        return crops

    # --- checkpoints ---
    def save(self) -> None:
        gan = {"disc": self.disc.state_dict(), "opt_d": self.opt_d.state_dict()} if self.disc else {}
        if self.ctc:
            gan.update(ctc=self.ctc.state_dict(), opt_ctc=self.opt_ctc.state_dict())
        if self.gta is not None:
            gan.update(gta_rng=self.gta.rng_state())
        atomic_save({"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                     "seen_s": self.seen_s, "tokenizer_args": self.tok_args, "torch_rng": torch.get_rng_state(),
                     "data_rng": self.data.rng_state(), "args": vars(self.args), **gan}, self.ckpt)

    def load(self, path: str) -> None:
        ck = load_ckpt(path)
        if ck["tokenizer_args"] != self.tok_args:
            sys.exit(f"{path} was trained with other audio_tokenizer_args than {self.args.config}; use another --out")
        self.model.load_state_dict(ck["model"])
        if len(ck["opt"]["param_groups"]) != len(self.opt.param_groups):
            sys.exit(f"{path} was trained with another --lr-encoder-scale (1 = one optimiser group); resume with the "
                     f"run's own value, or start a new run with --warm-start {path}")
        self.opt.load_state_dict(ck["opt"])
        self.step, self.seen_s = ck["step"], ck.get("seen_s", 0.0)
        torch.set_rng_state(ck["torch_rng"])
        self.data.set_rng_state(ck["data_rng"])
        if self.disc is not None and "disc" in ck:
            self.disc.load_state_dict(ck["disc"])
            self.opt_d.load_state_dict(ck["opt_d"])
        self._gta_rng = ck.get("gta_rng")
        if self.ctc is not None and "ctc" in ck:
            self.ctc.load_state_dict(ck["ctc"])
            self.opt_ctc.load_state_dict(ck["opt_ctc"])
        print(f"resumed {path} at step {self.step}" + (" (discriminators: "
              + ("restored" if "disc" in ck else "fresh") + ")" if self.disc is not None else ""), flush=True)

    def load_compact(self, path: str) -> None:
        ck = load_ckpt(path)
        if ck["tokenizer_args"] != self.tok_args:
            sys.exit(f"{path} does not match {self.args.config}")
        self.model.load_flat_state(ck["weights"])
        if "opt" in ck:
            self.opt.load_state_dict(ck["opt"])
        self.step, self.seen_s = ck["step"], ck.get("seen_s", 0.0)
        print(f"initialised from compact {path} at step {self.step} (optimiser {'restored' if 'opt' in ck else 'fresh'})",
              flush=True)

    def warm_start(self, path: str) -> None:
        """Start a new run (step 0, fresh optimiser) from another config's weights: every tensor whose name and
        shape match is copied (e.g. the trunk of a patch-head codec into an iSTFT-head one); the rest stays at init."""
        ck = load_ckpt(path)
        src = ck["model"] if "model" in ck else {**{"encoder." + k: v for k, v in ck["weights"].items()
                                                     if k.startswith(("input_proj.", "encoder_blocks."))},
                                                  **{"tokenizer." + k: v for k, v in ck["weights"].items()
                                                     if not k.startswith(("input_proj.", "encoder_blocks."))}}
        own = self.model.state_dict()
        take = {k: v.float() for k, v in src.items() if k in own and own[k].shape == v.shape}
        self.model.load_state_dict(take, strict=False)
        # a trained source (compact files hold only trained codecs) must not be re-initialised by the first step:
        # init_from_batch rescales the encoder and reseeds the codebook, i.e. would change a frozen encoder's codes
        trained = "weights" in ck or bool(src.get("initialised", False))
        self.model.initialised.fill_(trained)
        skipped = sorted(set(own) - set(take))
        print(f"warm start from {path}: {len(take)} tensors copied, fresh: {skipped}", flush=True)

    def log(self, row: dict) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    def amp(self):
        """--bf16: the networks' matmuls and convs in bf16 (AVX-512 BF16 here), fp32 master weights; the iSTFT head
        and the spectral losses stay fp32 (Codec keeps the head out of autocast)."""
        return torch.autocast(self.dev.type, dtype=torch.bfloat16, enabled=self.args.bf16)

    # --- one optimisation step ---
    def train_step(self) -> dict:
        a = self.args
        n_gta = round(a.batch * a.gta_frac) if self.gta is not None else 0
        x = self.data.batch(a.batch - n_gta, a.frames * self.cfg.samples_per_frame).to(self.dev)
        if not bool(self.model.initialised):
            self.model.init_from_batch(x)
        for g in self.opt.param_groups:
            g["lr"] = lr_at(self.step, a) * g.get("lr_scale", 1.0)
        early = self.step < a.dropout_steps and not a.freeze_encoder
        with self.amp():
            y, commit, idx, sem = self.model(x, a.fsq_dropout if early else 0.0, a.vq_dropout if early else 0.0)
        extra = {}
        if n_gta:
            # part of the batch decodes the stage-3 model's own codes against the real audio of those frames
            codes_g, x_g = (t.to(self.dev) for t in self.gta.batch(n_gta, a.frames))  # [G, F, 37] -2 space, [G, F * spf]
            with self.amp():
                y_g = self.model.tokenizer.decode(codes_g)
            if (self.step + 1) % a.log_every == 0:  # log-only (~60 ms): measured on the step that closes a log row
                with torch.no_grad():
                    extra["gta_sc"] = self.loss(y_g, x_g)["sc"]
            x, y = torch.cat([x, x_g]), torch.cat([y, y_g])
        parts = self.loss(y, x)
        total = parts["sc"] + parts["logmag"] + a.mel_weight * parts["mel"] + a.commit_weight * commit
        if self.phase_loss is not None:
            ph = self.phase_loss(y, x)
            total = total + a.phase_weight * (ph["gd"] + ph["iaf"]) / 2
            extra.update(gd=ph["gd"].detach(), iaf=ph["iaf"].detach())
        if a.latent_hinge > 0:
            # CTC training diverged once with 30 % of frames at semantic latent RMS > 100 (unit at init): make growth cost
            hinge = latent_hinge(sem, a.latent_max)
            total = total + a.latent_hinge * hinge
            extra["hinge"] = hinge.detach()
        if a.cycle_weight > 0:
            # the reconstruction, encoded again, must land on the same semantic latent: with phonetic codes this is
            # a phonetic perceptual loss. A frozen copy judges, so the encoder is not pulled towards easy targets.
            if self.judge is None or self.step % a.cycle_refresh == 0:
                self.judge = copy.deepcopy(self.model.encoder).requires_grad_(False).eval()
            with torch.no_grad(), self.amp():
                want = self.model.split(self.judge.encode_latent(x))[0].float()  # [B, T, semantic_dim]
            with self.amp():
                got = self.model.split(self.judge.encode_latent(y))[0].float()
            cycle = (got - want).pow(2).mean() / want.pow(2).mean().clamp(min=1e-8)
            total = total + a.cycle_weight * cycle
            extra["cycle"] = cycle.detach()
        if self.disc is not None and self.step >= a.gan_start:
            # discriminator step on detached audio, then the generator's adversarial + feature-matching terms
            xc, yc = self.disc.crops(x, y)
            real = self.disc(xc)
            loss_d = discriminator_loss(real, self.disc(yc.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            torch.nn.utils.clip_grad_norm_(self.disc.parameters(), a.clip)
            self.opt_d.step()
            adv, feat = generator_losses(real, self.disc(yc))
            total = total + a.adv_weight * adv + a.feat_weight * feat
            extra.update(loss_d=loss_d.detach(), adv=adv.detach(), feat=feat.detach())
        if self.ctc is not None:
            # whole clips: CTC needs the full phoneme string; the encoder is causal, so right padding is inert
            waves, frames, rows = self.data.utterances(a.ctc_batch, a.ctc_max_s, self.cfg.samples_per_frame)
            waves = waves.to(self.dev)
            sem_u, _ = self.model.split(self.model.encoder.encode_latent(waves))  # [B, T, semantic_dim]
            loss_ctc = ctc_loss(self.ctc(self.model.vq(sem_u)[0]), frames, [phone_ids(r["phonemes"]) for r in rows])
            total = total + a.ctc_weight * loss_ctc
            if a.latent_hinge > 0:
                total = total + a.latent_hinge * latent_hinge(sem_u, a.latent_max)
            extra["ctc"] = loss_ctc.detach()
            self.opt_ctc.zero_grad(set_to_none=True)
            for g in self.opt_ctc.param_groups:
                g["lr"] = a.lr_ctc  # a resumed optimiser state would otherwise bring back its old lr
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), a.clip)
        self.opt.step()
        if self.ctc is not None:
            torch.nn.utils.clip_grad_norm_(self.ctc.parameters(), a.clip)
            self.opt_ctc.step()
        dead = 0 if a.freeze_encoder else self.model.ema_update(sem, idx, a.ema_decay, a.dead_usage)
        self.step += 1
        self.seen_s += x.numel() / self.cfg.sampling_rate
        used = torch.bincount(idx.reshape(-1), minlength=self.cfg.semantic_codebook_size).float()
        p = used / used.sum()
        perplexity = torch.exp(-torch.special.xlogy(p, p).sum())
        # detached tensors: run() turns them into floats when a log row closes (one device sync per row)
        return {"loss": total.detach(), "sc": parts["sc"].detach(), "logmag": parts["logmag"].detach(),
                "mel": parts["mel"].detach(), "commit": commit.detach(), "gnorm": gnorm.detach(), "vq_ppl": perplexity,
                "dead": dead, **extra}

    # --- eval on the held-out clips, through the integer-code inference path ---
    @torch.no_grad()
    def evaluate(self) -> dict:
        self.model.eval()
        rec_dir = os.path.join(self.args.out, "rec", f"{self.step:07d}")
        os.makedirs(rec_dir, exist_ok=True)
        sc = mel = 0.0
        phone_err = phones = 0
        refs = {}
        clips = heldout_clips(self.args.teacher)
        for r, wav in clips:
            x = torch.from_numpy(wav)[None].to(self.dev)
            y = self.model.reconstruct(x)
            if self.ctc is not None and r.get("phonemes"):
                # phone error rate of the head on the integer semantic codes (the exact inference path)
                self.ctc.eval()
                codes = self.model.encoder.encode(x, self.model.tokenizer)[0]  # [T, 1 + n_ac], -2 space
                e = self.model.tokenizer.semantic_embedding()[codes[:, 0]]  # [T, semantic_dim]
                ref = phone_ids(r["phonemes"])
                phone_err += edit_distance(ref, greedy(self.ctc(e[None])[0].cpu(), codes.shape[0]))
                phones += len(ref)
                self.ctc.train()
            m = self.loss(y, x)
            sc, mel = sc + float(m["sc"]), mel + float(m["mel"])
            sf.write(os.path.join(rec_dir, r["id"] + ".wav"), y[0].clamp(-1, 1).cpu().numpy(), self.cfg.sampling_rate,
                     subtype="PCM_16")
            refs[r["id"]] = r["norm"]
        with open(os.path.join(rec_dir, "refs.json"), "w", encoding="utf-8") as f:
            json.dump(refs, f, indent=1)
        self.model.train()
        n = max(1, len(clips))
        row = {"eval": True, "step": self.step, "time": time.time(), "clips": len(clips),
               "sc": round(sc / n, 4), "mel": round(mel / n, 4), "rec": rec_dir}
        if phones:
            row["per"] = round(phone_err / phones, 4)
        if self.args.asr and os.path.exists(TEACHER_PY) and clips:
            # Whisper in the teacher venv, niced, detached: it writes rec_dir/wer.json when done
            subprocess.Popen(["nice", "-n", "19", TEACHER_PY, "-m", "training.codec.asr", rec_dir], cwd=ROOT,
                             stdout=open(os.path.join(rec_dir, "asr.log"), "w"), stderr=subprocess.STDOUT,
                             env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
        return row

    def run(self) -> None:
        a = self.args
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: setattr(self, "stop", True))
        print(f"codec: {param_count(self.model.encoder) / 1e6:.2f} M encoder + {param_count(self.model.tokenizer) / 1e6:.2f} M "
              f"decoder params; data {self.data.stats}", flush=True)
        t_ckpt = t_eval = t_gta = time.monotonic()
        if self.step == 0 or a.eval_at_start:
            self.log(self.evaluate() if self.step else {"eval": True, "step": 0, "note": "untrained"})
        t_start, steps_start = time.monotonic(), self.step
        acc, cnt, n_acc, t_log = {}, {}, 0, time.monotonic()
        while not self.stop and (a.max_steps <= 0 or self.step - steps_start < a.max_steps) and \
                (a.max_minutes <= 0 or time.monotonic() - t_start < a.max_minutes * 60):
            if self.data.maybe_refresh():
                print(f"step {self.step}: data {self.data.stats}", flush=True)
            if time.monotonic() - t_gta >= a.reload_min * 60:
                self.maybe_reload_gta()
                t_gta = time.monotonic()
            m = self.train_step()
            for k, v in m.items():
                acc[k], cnt[k] = acc.get(k, 0.0) + v, cnt.get(k, 0) + 1
            n_acc += 1
            if self.step % a.log_every == 0:
                now = time.monotonic()
                row = {"step": self.step, "time": time.time(), "lr": round(lr_at(self.step - 1, a), 7),
                       "steps_per_s": round(n_acc / (now - t_log), 3), "hours_seen": round(self.seen_s / 3600, 3),
                       "data_hours": self.data.stats["hours"]}
                # each value is the mean over the steps that reported it (a resumed run's first window is short;
                # gta_sc comes from the last step only)
                row.update({k: round(float(v) / cnt[k], 4) for k, v in acc.items()})
                self.log(row)
                print(json.dumps(row), flush=True)
                acc, cnt, n_acc, t_log = {}, {}, 0, now
            if time.monotonic() - t_eval >= a.eval_min * 60:
                row = self.evaluate()
                self.log(row)
                print(json.dumps(row), flush=True)
                t_eval = time.monotonic()
            if time.monotonic() - t_ckpt >= a.ckpt_min * 60:
                self.save()
                t_ckpt = time.monotonic()
        self.save()
        rate = (self.step - steps_start) / max(1e-9, time.monotonic() - t_start)
        print(f"stopped at step {self.step} ({rate:.3f} steps/s this run); saved {self.ckpt}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="json with audio_tokenizer_args")
    ap.add_argument("--teacher", default=DEFAULT_TEACHER)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--init", default="", help="compact checkpoint to start from when OUT/last.pt does not exist")
    ap.add_argument("--warm-start", default="", help="checkpoint of another config to copy matching tensors from "
                    "when OUT/last.pt does not exist (new run: step 0, fresh optimiser)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=20, help="crop length in codec frames (20 = 1.6 s)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-min", type=float, default=0.1, help="final lr as a fraction of --lr")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--total-steps", type=int, default=200_000, help="length of the cosine schedule")
    ap.add_argument("--restart-at", type=int, default=0,
                    help="warm restart / anneal: the cosine begins again at this step (from --lr, to --total-steps)")
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--mel-weight", type=float, default=1.0)
    ap.add_argument("--commit-weight", type=float, default=0.25)
    ap.add_argument("--ema-decay", type=float, default=0.99)
    ap.add_argument("--dead-usage", type=float, default=2e-3, help="restart codes whose EMA usage falls below this")
    ap.add_argument("--fsq-dropout", type=float, default=0.25, help="early on, fraction of items fed continuous tanh")
    ap.add_argument("--vq-dropout", type=float, default=0.25, help="early on, fraction of items fed unquantised semantics")
    ap.add_argument("--dropout-steps", type=int, default=20_000, help="quantiser dropout only before this step")
    ap.add_argument("--freeze-encoder", action="store_true",
                    help="train the decoder only (encoder + codebook fixed, so encoded codes stay valid)")
    ap.add_argument("--gan-start", type=int, default=0,
                    help="from this step on, add the adversarial phase (codec/gan.py); 0 = never")
    ap.add_argument("--adv-weight", type=float, default=0.5, help="LSGAN generator term (mean over the discriminators)")
    ap.add_argument("--feat-weight", type=float, default=4.0, help="feature matching (mean over maps and discriminators)")
    ap.add_argument("--lr-d", type=float, default=2e-4)
    ap.add_argument("--disc-periods", default="", help="periods of HiFi-GAN period discriminators, e.g. 2,3,5,7,11 "
                    "(default none: only the multi-resolution ones; a resumed run must keep its value)")
    ap.add_argument("--disc-channels", type=int, default=16, help="width of the multi-resolution discriminators")
    ap.add_argument("--ctc-weight", type=float, default=0.0,
                    help="phonetic semantic codes: weight of the CTC phoneme head (codec/ctc.py); 0 = off. With "
                         "--freeze-encoder the head only probes how phonetic the frozen codes are")
    ap.add_argument("--lr-ctc", type=float, default=2e-3,
                    help="lr of the CTC head (constant; a per-frame MLP on a fixed input leaves CTC's blank plateau "
                         "slowly at the codec's lr)")
    ap.add_argument("--ctc-batch", type=int, default=4, help="whole clips per step for the CTC head")
    ap.add_argument("--ctc-max-s", type=float, default=6.0, help="longest clip (s) the CTC batch draws")
    ap.add_argument("--latent-hinge", type=float, default=0.0,
                    help="weight of the penalty on semantic latent frames whose RMS exceeds --latent-max (0 = off)")
    ap.add_argument("--latent-max", type=float, default=4.0, help="allowed per-frame RMS of the semantic latent (1 at init)")
    ap.add_argument("--lr-encoder-scale", type=float, default=1.0,
                    help="encoder lr as a fraction of --lr (!= 1 makes two optimiser groups: set it at a run's start)")
    ap.add_argument("--gta", default="", help="folder of stage-3 GTA codes (training/tts/gta.py): part of each batch "
                    "decodes them against the real audio (needs --freeze-encoder)")
    ap.add_argument("--gta-frac", type=float, default=0.5, help="fraction of batch items taken from --gta")
    ap.add_argument("--cycle-weight", type=float, default=0.0,
                    help="semantic cycle loss: re-encoded reconstruction vs original semantic latent (0 = off)")
    ap.add_argument("--cycle-refresh", type=int, default=500, help="steps between copies of the judging encoder")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--ckpt-min", type=float, default=10.0)
    ap.add_argument("--eval-min", type=float, default=45.0)
    ap.add_argument("--eval-at-start", action="store_true", help="evaluate right after resuming")
    ap.add_argument("--reload-min", type=float, default=5.0, help="re-read the teacher manifest this often")
    ap.add_argument("--asr", action=argparse.BooleanOptionalAction, default=True, help="Whisper-score eval reconstructions")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in this run (0 = never)")
    ap.add_argument("--max-minutes", type=float, default=0.0, help="stop (and save) after this much wall time (0 = never)")
    ap.add_argument("--phase-weight", type=float, default=0.0,
                    help="weight of the relative-phase losses (codec/losses.py PhaseLoss: group delay + inst. frequency)")
    ap.add_argument("--phase-fft", type=int, default=512, help="STFT size of the phase losses (hop n/4)")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=False,
                    help="bf16 autocast for the encoder/decoder networks (fp32 weights, iSTFT head and losses)")
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda (optional; the recipe runs on CPU)")
    ap.add_argument("--preload", action="store_true", help="decode all teacher audio into memory once (GPU runs)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    if args.device.startswith("cuda"):  # fixed crop shapes: let cuDNN pick its kernels once; TF32 for the matmuls
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    Trainer(args).run()


if __name__ == "__main__":
    main()

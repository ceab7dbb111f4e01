"""The backbone stage's data: (text ids, codec codes) pairs, the voice clip, length-bucketed batches, padded tensors.

- Text is the corpus `norm` column (what the teacher read); the engine's front end turns raw text into the same
  spoken form (595 of the 600 held-out sentences identically), so training and inference see the same kind of text.
- Codes come from tts/codes.py-format shards (-2 space; training/voice_v2/codes.py writes them) and are shifted
  to +2 space here (docs/model.md, Codes).
- VAL_IDS (10 fixed clip ids) are kept out of training and give the teacher-forced validation loss.
- Clips the ASR filter rejected since they were encoded are dropped at load time.
- `synthetic_examples` makes data with a learnable text -> codes mapping for tests and smoke runs.

Sequence of one example (docs/model.md, Prompt layout), S = L + T positions:
  [BOS][BEGIN_AUDIO][voice rows x N][NEXT_AUDIO_TEXT] text [REPEAT_AUDIO_TEXT][BEGIN_AUDIO] frame_0 .. frame_{T-1}
  the hidden at L-1+f predicts frame f (f < T) and END_AUDIO (f = T).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from training.common.paths import ROOT
from vox_edge.config import END_AUDIO, N_AUDIO_SPECIAL

TRAIN_TSV = os.path.join(ROOT, "training", "corpus", "train.tsv")
DEFAULT_TEACHER = os.path.expanduser("~/.cache/vox-edge/teacher")
# Held-out clips: every 30th of the first 300 training ids (the first voice's codec held the same ids out; its
# recipe is in git history, commit eb6fe83). This stage never trains on them: they measure it on unseen audio.
VAL_IDS = frozenset(f"tr{i:06d}" for i in range(0, 300, 30))
IGNORE = -100


def read_manifest(path: str) -> list[dict]:
    """Rows of the teacher's manifest.jsonl; a torn last line (teacher still appending) is skipped."""
    rows = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return rows


@dataclass
class Example:
    id: str
    text_ids: list[int]
    codes: np.ndarray  # [T, 1 + n_ac] int64, +2 space

    def length(self, n_voice: int) -> int:
        return n_voice + 5 + len(self.text_ids) + len(self.codes)


def read_texts(path: str = TRAIN_TSV, column: str = "norm") -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as f:
        return {r["id"]: r[column] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}


def load_examples(codes: dict[str, np.ndarray], tokenizer, texts: dict[str, str], manifest: str | None = None,
                  max_frames: int = 400) -> tuple[list[Example], list[Example]]:
    """(train, val) examples from codes {id: [T, 37] -2 space}; val = VAL_IDS. Clips over max_frames are skipped."""
    rows = read_manifest(manifest)
    rejected = {r["id"] for r in rows if r.get("rejected")}
    # the text the teacher actually spoke wins over the corpus (a corpus fix after generation must not mislabel)
    texts = {**texts, **{r["id"]: r["norm"] for r in rows if r.get("norm")}}
    train, val = [], []
    for cid in sorted(codes):
        if cid in rejected or cid not in texts or not 0 < len(codes[cid]) <= max_frames:
            continue
        ex = Example(cid, tokenizer.encode(texts[cid]), codes[cid].astype(np.int64) + N_AUDIO_SPECIAL)
        (val if cid in VAL_IDS else train).append(ex)
    return train, val


def voice_prompt_codes(codes_m2: np.ndarray, n_acoustic: int) -> np.ndarray:
    """Voice prompt codes (docs/model.md, Voices): the clip's codes +2, then one END frame (semantic 1, acoustic 0 = EMPTY)."""
    end = np.zeros((1, 1 + n_acoustic), np.int64)
    end[0, 0] = END_AUDIO
    return np.concatenate([codes_m2.astype(np.int64) + N_AUDIO_SPECIAL, end])


def pick_voice_clip(codes: dict[str, np.ndarray], lo_frames: int = 25, hi_frames: int = 38) -> str:
    """The first clip id (sorted, not a VAL id) of lo..hi frames (2.0-3.0 s at 12.5 Hz): a short, fixed reference."""
    for cid in sorted(codes):
        if cid not in VAL_IDS and lo_frames <= len(codes[cid]) <= hi_frames:
            return cid
    raise SystemExit(f"no clip of {lo_frames}-{hi_frames} frames to build the voice from; pass --voice-clip")


class Batcher:
    """Batches of similar length under a token budget; epoch order from (seed, epoch), so (epoch, pos) resumes."""

    def __init__(self, examples: list[Example], n_voice: int, batch_tokens: int, seed: int = 0):
        self.examples, self.n_voice, self.batch_tokens, self.seed = examples, n_voice, batch_tokens, seed
        self.epoch, self.pos = 0, 0
        self._plan = self._make_plan()

    def _make_plan(self) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        lens = np.array([e.length(self.n_voice) for e in self.examples], np.float64)
        order = np.argsort(lens + rng.uniform(0, 16, len(lens)), kind="stable")  # jitter: batches differ per epoch
        batches, cur, longest = [], [], 0
        for i in order:
            longest2 = max(longest, int(lens[i]))
            if cur and longest2 * (len(cur) + 1) > self.batch_tokens:  # padded size, what the step costs
                batches.append(cur)
                cur, longest2 = [], int(lens[i])
            cur.append(int(i))
            longest = longest2
        if cur:
            batches.append(cur)
        return [batches[j] for j in rng.permutation(len(batches))]

    def next(self) -> list[Example]:
        if self.pos >= len(self._plan):
            self.epoch, self.pos = self.epoch + 1, 0
            self._plan = self._make_plan()
        b = self._plan[self.pos]
        self.pos += 1
        return [self.examples[i] for i in b]

    def state(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "n": len(self.examples)}

    def set_state(self, s: dict) -> None:
        if s.get("n") != len(self.examples):  # data grew since the checkpoint: start a fresh epoch
            self.epoch, self.pos = s["epoch"] + 1, 0
        else:
            self.epoch, self.pos = s["epoch"], s["pos"]
        self._plan = self._make_plan()


@dataclass
class Batch:
    ids: torch.Tensor  # [B, S] prompt token ids (0 past the prompt)
    is_frame: torch.Tensor  # [B, S] bool: position holds a frame embedding
    codes_in: torch.Tensor  # [B, S, 37] +2 space codes at frame positions (EMPTY elsewhere)
    tgt_pos: torch.Tensor  # [B, T+1] position whose hidden predicts frame f (f = T_i: END)
    sem_tgt: torch.Tensor  # [B, T+1] semantic target (+2 space, END at f = T_i, IGNORE past it)
    ac_tgt: torch.Tensor  # [B, T, n_ac] FSQ levels 0..L-1 of frame f
    ac_valid: torch.Tensor  # [B, T] bool
    n_voice: int
    frames: int  # real frames in the batch (sum T_i)

    def to(self, device: torch.device) -> "Batch":
        """The same batch with every tensor on `device` (itself on the CPU)."""
        if torch.device(device).type == "cpu":
            return self
        return dataclasses.replace(self, **{f.name: getattr(self, f.name).to(device, non_blocking=True)
                                            for f in dataclasses.fields(self) if f.type == "torch.Tensor"})


def collate(examples: list[Example], n_voice: int, ids) -> Batch:
    """ids: a TtsSpecialIds (runtime/tokenizer.py); the prompt is built by the runtime's own build_tts_prompt."""
    from vox_edge.runtime.tokenizer import build_tts_prompt

    prompts = [build_tts_prompt(e.text_ids, n_voice, ids) for e in examples]
    b = len(examples)
    s = max(len(p) + len(e.codes) for p, e in zip(prompts, examples))
    t = max(len(e.codes) for e in examples)
    width = examples[0].codes.shape[1]
    out_ids = torch.zeros(b, s, dtype=torch.long)
    is_frame = torch.zeros(b, s, dtype=torch.bool)
    codes_in = torch.zeros(b, s, width, dtype=torch.long)
    tgt_pos = torch.zeros(b, t + 1, dtype=torch.long)
    sem_tgt = torch.full((b, t + 1), IGNORE, dtype=torch.long)
    ac_tgt = torch.zeros(b, t, width - 1, dtype=torch.long)
    ac_valid = torch.zeros(b, t, dtype=torch.bool)
    for i, (p, e) in enumerate(zip(prompts, examples)):
        L, T = len(p), len(e.codes)
        c = torch.from_numpy(e.codes)
        out_ids[i, :L] = torch.tensor(p)
        is_frame[i, L : L + T] = True
        codes_in[i, L : L + T] = c
        tgt_pos[i, : T + 1] = torch.arange(L - 1, L + T)
        sem_tgt[i, :T] = c[:, 0]
        sem_tgt[i, T] = END_AUDIO
        ac_tgt[i, :T] = c[:, 1:] - N_AUDIO_SPECIAL
        ac_valid[i, :T] = True
    return Batch(out_ids, is_frame, codes_in, tgt_pos, sem_tgt, ac_tgt, ac_valid, n_voice,
                 sum(len(e.codes) for e in examples))


def own_acoustic_inputs(batch: Batch, examples: list[Example], own: dict[str, np.ndarray], p: float,
                        generator: torch.Generator | None = None) -> int:
    """Feed back the model's own acoustic codes instead of the encoder's for a share `p` of the clips (in place).

    Free-running, the backbone hears its flow head's blurred acoustic codes, never the encoder's exact ones, and
    loses its place (the first voice, recipe in git history at eb6fe83: ~53 % of the words teacher-forced, ~24 %
    free-running). `own` holds, per clip id, a stage-3 model's teacher-forced codes (tts/codes.py-format shards,
    -2 space, frame-aligned with the clip).
    Only the inputs change: semantic inputs and every target stay the true codes. Returns the clips swapped."""
    swapped = 0
    for i, e in enumerate(examples):
        o = own.get(e.id)
        if o is None or len(o) != len(e.codes) or float(torch.rand(1, generator=generator)) >= p:
            continue
        first = int(batch.is_frame[i].nonzero()[0])
        batch.codes_in[i, first: first + len(o), 1:] = torch.from_numpy(o[:, 1:].astype(np.int64)) + N_AUDIO_SPECIAL
        swapped += 1
    return swapped


def synthetic_examples(n: int, vocab: tuple[int, int], semantic_codebook: int, n_acoustic: int, levels: int,
                       seed: int = 0, max_text: int = 8, frames_per_token: int = 2) -> list[Example]:
    """Learnable toy data: each text id stands for a fixed run of frames (a 'phone'), so codes follow from text."""
    rng = np.random.default_rng(seed)
    lo, hi = vocab
    table = np.random.default_rng(12345).integers(0, [semantic_codebook] + [levels] * n_acoustic,
                                                  size=(hi, frames_per_token, 1 + n_acoustic))
    out = []
    for k in range(n):
        text = rng.integers(lo, hi, rng.integers(2, max_text + 1)).tolist()
        codes = np.concatenate([table[x] for x in text]).astype(np.int64) + N_AUDIO_SPECIAL
        out.append(Example(f"syn{k:05d}", text, codes))
    return out

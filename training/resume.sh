#!/usr/bin/env bash
# Restart the recipe's background jobs (after a reboot, or on a new machine); each starts only if it is not
# already running, detached (setsid) so it outlives this shell, and resumes from its own checkpoint.
#   bash training/resume.sh            # teacher + decoder (codec_ctc) + stage 3 (tts_phon) + GTA refresh
#   bash training/resume.sh teacher    # just one: teacher | codec | codec_ctc | gta | tts | tts_ctc | tts_char | tts_phon
# The flags here are the ones the runs were started with: a resumed run takes its behaviour from the command
# line, so change them here, not ad hoc. Names are the runs' folders under ~/.cache/vox-edge.
set -euo pipefail
cd "$(dirname "$0")/.."
C=~/.cache/vox-edge
want="${1:-all}"
# The flow start-noise scale and guidance the default bundle ships with (manifest `synthesis`, chosen with
# training/tts/sweep.py on held-out rows the quality gate does not score): GTA codes are sampled the same way, so
# the decoder and the backbone's own-input training see what the engine produces.
NOISE_SCALE=0.2
CFG_ALPHA=2.0
# bf16 autocast only where the CPU has bf16 arithmetic (AVX-512 BF16 / AMX: ~4x on stage 3's matmuls); without it
# torch emulates bf16 and stage 3 runs slower than in fp32 (0.13 vs 0.15 steps/s on an AVX2-only EPYC).
BF16=--no-bf16
grep -qE 'avx512_bf16|amx_bf16' /proc/cpuinfo 2>/dev/null && BF16=--bf16
# The packaged default voice: with ~/.cache wiped, the stage-3 run and the decoder start again from its weights.
BUNDLE=src/vox_edge/assets/default_bundle

running() { pgrep -f "$1" > /dev/null; }
start() {  # name, log, command...
  local name=$1 log=$2; shift 2
  if running "$name"; then echo "$name: already running"; return; fi
  mkdir -p "$(dirname "$log")"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 KOKORO_JA_CACHE=$C/kokoro \
    setsid nohup "$@" >> "$log" 2>&1 < /dev/null &
  local pid=$! n=0
  # nice alone does not rank these jobs: with autogroup scheduling (kernel.sched_autogroup_enabled=1) each setsid
  # session is its own group and groups share the CPU equally, so the teacher at nice 19 took a full half of it.
  # The group's nice is what counts; give it the job's nice.
  [[ $1 == nice && $2 == -n ]] && n=$3
  # only once setsid has run (session id == pid): before that the write lands on this shell's group
  for _ in $(seq 50); do [[ $(ps -o sid= -p "$pid" | tr -d ' ') == "$pid" ]] && break; sleep 0.1; done
  echo "$n" > "/proc/$pid/autogroup" 2>/dev/null || true
  echo "$name: started (pid $pid, nice $n), log $log"
}

if [[ $want == all || $want == teacher ]]; then
  start training.teacher.generate $C/teacher/gen.log nice -n 19 $C/venv-teacher/bin/python -m training.teacher.generate
fi
if [[ $want == codec ]]; then
  # The codec with non-phonetic semantic codes (iSTFT head, encoder + codebook frozen at step 5,079, decoder at
  # lr 3e-4), which codec_ctc replaced; not part of `all`.
  init=()
  [[ -e $C/codec/last.pt || -e $C/codec/last.prev.pt ]] || init=(--init training/checkpoints/codec_small.pt)
  start "training.codec.train --dropout-steps 4000" $C/codec/train.out nice -n 10 .venv/bin/python -m training.codec.train \
    --dropout-steps 4000 --warmup 200 --eval-min 30 --freeze-encoder --lr 3e-4 "${init[@]}" ${CODEC_FLAGS:-}
fi
if [[ $want == all || $want == codec_ctc ]]; then
  # The shipped codec: phonetic semantic codes (training/codec/ctc.py, --ctc-weight 1 --ctc-batch 8); encoder +
  # codebook frozen (marker file `frozen`): the codes of stage 3 come from them and only the decoder learns, with the
  # semantic cycle loss as a phonetic perceptual loss. With ~/.cache wiped it restarts, still frozen, from the
  # shipped bundle's decoder (training/ship/bundle_recover.py: int8 dequantised, at its step) on the committed
  # checkpoint's encoder and codebooks.
  ws=()
  if [[ ! -e $C/codec_ctc/last.pt ]]; then
    mkdir -p $C/codec_ctc && touch $C/codec_ctc/frozen
    [[ -e $C/codec_ctc/recovered.pt ]] || .venv/bin/python -m training.ship.bundle_recover --bundle $BUNDLE \
      --codec-out $C/codec_ctc/recovered.pt --codec-base training/checkpoints/codec_small.pt
    ws=(--init $C/codec_ctc/recovered.pt)
  fi
  phase=(--ctc-weight 1 --ctc-batch 8)
  [[ -e $C/codec_ctc/frozen ]] && phase=(--freeze-encoder --cycle-weight 1)
  # GTA: three of every four batch items decode stage 3's own codes of a training clip against its real audio
  # (training/tts/gta.py writes $C/gta), so the decoder fits what the engine will feed it; the true-code quarter
  # keeps it general.
  [[ -e $C/codec_ctc/frozen && -e $C/gta/meta.json ]] && phase+=(--gta $C/gta --gta-frac ${GTA_FRAC:-0.75})
  # The decoder anneals (cosine from 2.6e-4 at step 49,100 to 63k) with its networks in bf16 autocast where the
  # CPU has it (the iSTFT head and the losses stay fp32).
  start "training.codec.train --out $C/codec_ctc" $C/codec_ctc/train.out nice -n 5 .venv/bin/python \
    -m training.codec.train --out $C/codec_ctc --dropout-steps 0 --warmup 200 --lr 2.6e-4 --eval-min 30 \
    --commit-weight 1 --ema-decay 0.95 $BF16 --restart-at 49100 --total-steps 63000 "${phase[@]}" "${ws[@]}"
fi
if [[ $want == all || $want == gta ]]; then
  # GTA codes for the decoder and for stage 3's own-input training: what the live stage-3 run (tts_phon, else
  # tts_char, else tts_ctc) says for every training clip, redone from its latest state every 2 h (60-100 min of a
  # shared core); training/codec/train.py picks up a new set by itself, stage 3 at its next checkpoint.
  src=tts_phon
  [[ -e $C/$src/last.pt ]] || src=tts_char
  [[ -e $C/$src/last.pt ]] || src=tts_ctc
  if [[ -e $C/$src/last.pt && -e $C/tts_ctc/codes/meta.json ]]; then
    start "training.tts.gta" $C/gta.log nice -n 10 bash -c "while :; do cp $C/$src/last.pt $C/gta_src.pt && \
      .venv/bin/python -m training.tts.gta --tts $C/gta_src.pt --codes $C/tts_ctc/codes --out $C/gta \
      --noise-scale $NOISE_SCALE --cfg-alpha $CFG_ALPHA; sleep 7200; done"
  fi
fi
if [[ $want == tts ]]; then
  # Stage 3 on the non-phonetic codes of `codec`; superseded, not part of `all`.
  if [[ ! -e $C/tts/last.pt ]]; then
    echo "tts: no $C/tts/last.pt to resume; first start: see training/README.md"; exit 0
  fi
  start "training.tts.train --lr" $C/tts/train.out nice -n 5 .venv/bin/python -m training.tts.train \
    --lr 1e-3 --warmup 300 --eval-min 30 $BF16 --codec $C/codec/last.pt ${TTS_FLAGS:-}
fi
# Stage 3's codes: the frozen codec_ctc codes (fingerprint 6f3ec5d1116ee211) of every teacher clip. The stage-3 job
# first encodes the clips generated since (training/tts/codes.py, incremental, ~3 min for 11 h); with no teacher
# audio (a wiped ~/.cache) it trains on the committed training/codes and decodes samples with the committed codec.
# After a wipe the folder starts as a copy of the committed codes (same frozen codec), so only clips beyond them
# are encoded again as the teacher regenerates its audio.
[[ -e $C/tts_ctc/codes/meta.json ]] || { mkdir -p $C/tts_ctc/codes && cp training/codes/* $C/tts_ctc/codes/; }
codes=$C/tts_ctc/codes codec=$C/codec_ctc/last.pt
enc=".venv/bin/python -m training.tts.codes --codec $codec --out $codes &&"
if [[ ! -e $C/teacher/manifest.jsonl || ! -e $codec ]]; then
  codes=training/codes codec=training/checkpoints/codec_small.pt enc=""
fi
# Half of the clips hear the model's own acoustic codes (the GTA set, read at start) instead of the encoder's:
# free-running, a model trained only on the encoder's codes heard half the words it did teacher-forced.
own=""
[[ -e $C/gta/meta.json && $codes != training/codes ]] && own="--own-inputs $C/gta --own-inputs-p 0.5"
if [[ $want == tts_ctc ]]; then
  # Stage 3 on a BPE vocabulary (2112 ids), superseded by tts_char; not part of `all`.
  start "training.tts.train --out $C/tts_ctc" $C/tts_ctc/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python -m training.tts.train --out $C/tts_ctc --codes $codes --codec $codec \
     --lr 3e-4 --warmup 300 --eval-min 30 $BF16 --ema-decay 0.999 $own ${TTS_FLAGS:-}"
fi
if [[ $want == tts_char ]]; then
  # Stage 3 on a byte-level vocabulary (320 ids: specials + 256 bytes, no merges), superseded by tts_phon; not part
  # of `all`. Warm-started from tts_ctc (all but the text table) when init_run3.pt is there, else from scratch.
  mkdir -p $C/tts_char
  [[ -e $C/tts_char/tekken.json ]] || .venv/bin/python -m training.tts.vocab --vocab-size 320 \
    --out $C/tts_char/tekken.json
  init=""
  [[ ! -e $C/tts_char/last.pt && -e $C/tts_char/init_run3.pt ]] && init="--init $C/tts_char/init_run3.pt"
  start "training.tts.train --out $C/tts_char" $C/tts_char/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python -m training.tts.train --out $C/tts_char --codes $codes --codec $codec \
     --tekken $C/tts_char/tekken.json --voice-clip tr000003 --lr 6e-4 --warmup 300 --eval-min 30 $BF16 \
     --ema-decay 0.999 $init $own ${TTS_FLAGS:-}"
fi
if [[ $want == all || $want == tts_phon ]]; then
  # The shipped stage 3: tts_char's model and byte vocabulary, with the text going through the pronunciation
  # lexicon first (--lexicon; runtime/text/lexicon.py): a byte-level model on ~17 h learned the closed categories
  # but not English spelling. Warm-started from tts_char (init_run4.pt) when that is there. Its schedule is a warm
  # restart (SGDR): a new cosine from 3e-4 at step 17,800 to 23k.
  mkdir -p $C/tts_phon
  # a wiped ~/.cache: the run goes on from the shipped bundle's weights at their step (a compact state: fresh
  # AdamW moments), on the committed codes until the teacher audio is back
  [[ -e $C/tts_phon/last.pt ]] || .venv/bin/python -m training.ship.bundle_recover --bundle $BUNDLE --codes training/codes \
    --out $C/tts_phon/last.pt
  init=""
  [[ ! -e $C/tts_phon/last.pt && -e $C/tts_phon/init_run4.pt ]] && init="--init $C/tts_phon/init_run4.pt"
  tekken=$C/tts_char/tekken.json
  [[ -e $tekken ]] || { tekken=$C/tts_phon/tekken.json; [[ -e $tekken ]] || .venv/bin/python \
    -m training.tts.vocab --vocab-size 320 --out $tekken; }
  start "training.tts.train --out $C/tts_phon" $C/tts_phon/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python -m training.tts.train --out $C/tts_phon --codes $codes --codec $codec \
     --tekken $tekken --lexicon training/lexicon/en_us.tsv.gz --voice-clip tr000003 --lr 3e-4 --warmup 300 \
     --eval-min 30 $BF16 --ema-decay 0.999 --restart-at 17800 --total-steps 23000 $init $own ${TTS_FLAGS:-}"
fi

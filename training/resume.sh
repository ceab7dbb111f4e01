#!/usr/bin/env bash
# Restart the recipe's background jobs after a session ended (they die with it); each starts only if it is not
# already running, detached (setsid) so it outlives this shell, and resumes from its own checkpoint.
#   bash training/resume.sh            # teacher + codec run 3 + stage 3 run 5 + GTA refresh (what can resume)
#   bash training/resume.sh teacher    # just one: teacher | codec | codec_ctc | gta | tts | tts_ctc | tts_char | tts_phon
# The flags here are the ones the current runs were started with: a resumed run takes its behaviour from
# the command line, so change them here, not ad hoc.
set -euo pipefail
cd "$(dirname "$0")/.."
C=~/.cache/vox-edge
want="${1:-all}"
# The flow start-noise scale and guidance the default bundle ships with (manifest `synthesis`; chosen with
# tts_sweep.py on held-out rows 100-159: noise 0.4 in session 5, cfg 2.0 / noise 0.3 for run 5 in session 7, noise
# 0.2 at run 5's step 13,097 in session 8): GTA codes are sampled the same way, so the decoder and the backbone's
# own-input training see what the engine produces.
NOISE_SCALE=0.2
CFG_ALPHA=2.0
# bf16 autocast only where the CPU has bf16 arithmetic (AVX-512 BF16 / AMX: ~4x on stage 3's matmuls); without it
# (the AVX2-only EPYC of session 10) torch emulates bf16 and stage 3 ran slower than in fp32 (0.13 vs 0.15 steps/s).
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
  start training/teacher.py $C/teacher/gen.log nice -n 19 $C/venv-teacher/bin/python training/teacher.py
fi
if [[ $want == codec ]]; then
  # run 2: iSTFT head, warm-started from run 1 (patch head) at its step 13,530; encoder + codebook frozen since
  # step 5,079 (stage 3 trains on those codes; only the decoder keeps improving, so the codes stay valid).
  # Adversarial phase tried at steps 8,300-12,388 (--gan-start 8300): held-out WER 33.6 -> 34.8 %, 1.9 -> 1.2
  # steps/s, so it is off; from step 12,388 the decoder trains at --lr 3e-4 (SC had been flat since step 5k at 1e-3).
  # Steps 12.9k-14.5k ran a CTC probe on the frozen codes (PER 1.0: they are not phonetic). Paused since then in
  # favour of run 3; `all` no longer starts it: `bash training/resume.sh codec` does.
  init=()
  [[ -e $C/codec/last.pt || -e $C/codec/last.prev.pt ]] || init=(--init training/checkpoints/codec_small.pt)
  start "training/codec_train.py --dropout-steps 4000" $C/codec/train.out nice -n 10 .venv/bin/python training/codec_train.py \
    --dropout-steps 4000 --warmup 200 --eval-min 30 --freeze-encoder --lr 3e-4 "${init[@]}" ${CODEC_FLAGS:-}
fi
if [[ $want == all || $want == codec_ctc ]]; then
  # run 3: phonetic semantic codes (codec_ctc.py). Run 3b was warm-started from run 2 (step 14,647) with the CTC
  # head (--ctc-weight 1 --ctc-batch 8); its encoder + codebook are frozen since step 875 (marker file `frozen`),
  # the codes of stage 3 run 3 come from them, and only the decoder learns, with the semantic cycle loss as a
  # phonetic perceptual loss; lr 6e-4 until decoder step ~7.7k (SC flat at 0.465), 3e-4 since (as run 2 at 12.4k).
  # With ~/.cache wiped (session 10) it restarts, still frozen, from the shipped bundle's decoder
  # (training/bundle_recover.py: int8 dequantised, at its step) on the committed checkpoint's encoder and codebooks.
  ws=()
  if [[ ! -e $C/codec_ctc/last.pt ]]; then
    mkdir -p $C/codec_ctc && touch $C/codec_ctc/frozen
    [[ -e $C/codec_ctc/recovered.pt ]] || .venv/bin/python training/bundle_recover.py --bundle $BUNDLE \
      --codec-out $C/codec_ctc/recovered.pt --codec-base training/checkpoints/codec_small.pt
    ws=(--init $C/codec_ctc/recovered.pt)
  fi
  phase=(--ctc-weight 1 --ctc-batch 8)
  [[ -e $C/codec_ctc/frozen ]] && phase=(--freeze-encoder --cycle-weight 1)
  # GTA (session 4): half of each batch decodes stage 3's own codes of a training clip against its real audio
  # (training/tts_gta.py writes $C/gta; regenerate it as stage 3 improves)
  # Session 7: 0.75 (was 0.5): free-running stage 3 now decodes as well as teacher-forced (tts_diagnose.py), so the
  # GTA codes are what the shipped decoder will read; the true-code half only keeps it general.
  [[ -e $C/codec_ctc/frozen && -e $C/gta/meta.json ]] && phase+=(--gta $C/gta --gta-frac ${GTA_FRAC:-0.75})
  # Session 9: the decoder anneals for the first time (cosine from 2.6e-4 at step 49,100 to 63k; it had trained at
  # 3e-4 since step ~7.7k, and run 2's step 1e-3 -> 3e-4 had bought 5 points within 2k steps) and runs its networks
  # in bf16 autocast (2.17 -> 2.65 steps/s here; the iSTFT head and the losses stay fp32).
  start "training/codec_train.py --out $C/codec_ctc" $C/codec_ctc/train.out nice -n 5 .venv/bin/python \
    training/codec_train.py --out $C/codec_ctc --dropout-steps 0 --warmup 200 --lr 2.6e-4 --eval-min 30 \
    --commit-weight 1 --ema-decay 0.95 $BF16 --restart-at 49100 --total-steps 63000 "${phase[@]}" "${ws[@]}"
fi
if [[ $want == all || $want == gta ]]; then
  # GTA codes for codec run 3's decoder (session 4) and the own-input training: what the live stage-3 run (run 5
  # since session 6, else run 4, else run 3) says for every training clip, redone from its latest state every 2 h (60-100 min
  # of a shared core); codec_train.py picks up a new set by itself, stage 3 at its next start.
  src=tts_phon
  [[ -e $C/$src/last.pt ]] || src=tts_char
  [[ -e $C/$src/last.pt ]] || src=tts_ctc
  if [[ -e $C/$src/last.pt && -e $C/tts_ctc/codes/meta.json ]]; then
    start "training/tts_gta.py" $C/gta.log nice -n 10 bash -c "while :; do cp $C/$src/last.pt $C/gta_src.pt && \
      .venv/bin/python training/tts_gta.py --tts $C/gta_src.pt --codes $C/tts_ctc/codes --out $C/gta \
      --noise-scale $NOISE_SCALE --cfg-alpha $CFG_ALPHA; sleep 7200; done"
  fi
fi
if [[ $want == tts ]]; then
  # stage 3 run 2, on run 2's (non-phonetic) codes; paused when run 3's codes were frozen. Not part of `all`.
  if [[ ! -e $C/tts/last.pt ]]; then
    echo "tts: no $C/tts/last.pt to resume; first start: see README 'Stages 5-6'"; exit 0
  fi
  start "training/tts_train.py --lr" $C/tts/train.out nice -n 5 .venv/bin/python training/tts_train.py \
    --lr 1e-3 --warmup 300 --eval-min 30 $BF16 --codec $C/codec/last.pt ${TTS_FLAGS:-}
fi
# Stage 3's codes: codec run 3's frozen codes (fingerprint 6f3ec5d1116ee211) of every teacher clip. The stage-3 job
# first encodes the clips generated since (tts_codes.py, incremental, ~3 min for 11 h); with no teacher audio (a
# wiped ~/.cache) it trains on the committed training/codes and decodes samples with the committed codec.
# After a wipe the folder starts as a copy of the committed codes (same frozen codec), so only clips beyond them
# are encoded again as the teacher regenerates its audio.
[[ -e $C/tts_ctc/codes/meta.json ]] || { mkdir -p $C/tts_ctc/codes && cp training/codes/* $C/tts_ctc/codes/; }
codes=$C/tts_ctc/codes codec=$C/codec_ctc/last.pt
enc=".venv/bin/python training/tts_codes.py --codec $codec --out $codes &&"
if [[ ! -e $C/teacher/manifest.jsonl || ! -e $codec ]]; then
  codes=training/codes codec=training/checkpoints/codec_small.pt enc=""
fi
# Half of the clips hear the model's own acoustic codes (the GTA set, read at start) instead of the encoder's
# (from run 3's step 7,798: free-running it heard half the words it did teacher-forced).
own=""
[[ -e $C/gta/meta.json && $codes != training/codes ]] && own="--own-inputs $C/gta --own-inputs-p 0.5"
if [[ $want == tts_ctc ]]; then
  # stage 3 run 3 (BPE vocabulary, 2112 ids); lr 1e-3 until step ~4.3k, 3e-4 since; own inputs from 7,798; weight
  # EMA (0.999) from ~8.8k. Paused at step ~11k (session 5) in favour of run 4; not part of `all` any more.
  start "training/tts_train.py --out $C/tts_ctc" $C/tts_ctc/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python training/tts_train.py --out $C/tts_ctc --codes $codes --codec $codec \
     --lr 3e-4 --warmup 300 --eval-min 30 $BF16 --ema-decay 0.999 $own ${TTS_FLAGS:-}"
fi
if [[ $want == tts_char ]]; then
  # stage 3 run 4 (session 5): the same model on a byte-level vocabulary (320 ids: specials + 256 bytes, no merges).
  # Paused at step ~6.3k (session 6) in favour of run 5; not part of `all` any more.
  # Run 3 (BPE) hears two thirds of the words of navigation prompts but a seventh of open prose: whole-word tokens
  # are memorised, not read. Warm-started from run 3 at step 8,749 (all but the text table) when that state is
  # there, else from scratch.
  mkdir -p $C/tts_char
  [[ -e $C/tts_char/tekken.json ]] || .venv/bin/python training/tokenizer_train.py --vocab-size 320 \
    --out $C/tts_char/tekken.json
  init=""
  [[ ! -e $C/tts_char/last.pt && -e $C/tts_char/init_run3.pt ]] && init="--init $C/tts_char/init_run3.pt"
  start "training/tts_train.py --out $C/tts_char" $C/tts_char/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python training/tts_train.py --out $C/tts_char --codes $codes --codec $codec \
     --tekken $C/tts_char/tekken.json --voice-clip tr000003 --lr 6e-4 --warmup 300 --eval-min 30 $BF16 \
     --ema-decay 0.999 $init $own ${TTS_FLAGS:-}"
fi
if [[ $want == all || $want == tts_phon ]]; then
  # stage 3 run 5 (session 6): run 4's model and byte vocabulary, but the text goes through the pronunciation
  # lexicon first (--lexicon; runtime/lexicon.py, misaki's US dictionaries): run 4 read navigation phrases (a
  # closed vocabulary) at ~80 % words heard but prose at ~15 %, on training sentences as on held-out ones, i.e. it
  # had not learned English spelling. Warm-started from run 4 at step 6,3xx (init_run4.pt) when that is there.
  # Session 8: the cosine now ends at 17k (was 30k): validation had been flat since ~8k (CE 1.610 at 8,102, 1.612
  # at 9,514) at lr ~4.6e-4, so the run anneals (from ~2.5e-4 at the 10.6k restart) instead of waiting.
  # Session 9: a warm restart (SGDR): a new cosine from 3e-4 at step 17,800 (the first cycle ended at 17k, val CE
  # 1.586) to 23k, sized to one working session of a shared core.
  mkdir -p $C/tts_phon
  # a wiped ~/.cache (session 10): the run goes on from the shipped bundle's weights at their step (a compact state:
  # fresh AdamW moments), on the committed codes until the teacher audio is back
  [[ -e $C/tts_phon/last.pt ]] || .venv/bin/python training/bundle_recover.py --bundle $BUNDLE --codes training/codes \
    --out $C/tts_phon/last.pt
  init=""
  [[ ! -e $C/tts_phon/last.pt && -e $C/tts_phon/init_run4.pt ]] && init="--init $C/tts_phon/init_run4.pt"
  tekken=$C/tts_char/tekken.json
  [[ -e $tekken ]] || { tekken=$C/tts_phon/tekken.json; [[ -e $tekken ]] || .venv/bin/python \
    training/tokenizer_train.py --vocab-size 320 --out $tekken; }
  start "training/tts_train.py --out $C/tts_phon" $C/tts_phon/train.out nice -n 5 bash -c \
    "$enc exec .venv/bin/python training/tts_train.py --out $C/tts_phon --codes $codes --codec $codec \
     --tekken $tekken --lexicon training/lexicon/en_us.tsv.gz --voice-clip tr000003 --lr 3e-4 --warmup 300 \
     --eval-min 30 $BF16 --ema-decay 0.999 --restart-at 17800 --total-steps 23000 $init $own ${TTS_FLAGS:-}"
fi

#!/usr/bin/env bash
# Optional: stage 3 (backbone + acoustic head) on a borrowed GPU machine (never needed: the same tts/train.py runs on
# CPU). Runs from the repo root of a copy of the tree that carries .gpu/tts (training/tts/pack.py: the codes beyond
# the committed training/codes, the teacher's manifest rows that matter, the vocabulary, optionally GTA codes and
# a start state). Variants run side by side on the one GPU (small models: each alone leaves most of it idle); each
# leaves its log and a compact state (tts/compact.py, ~22 MB at 11 M parameters, in parts of 15 MB) in $OUT, to be
# judged here with tts/sweep.py / ship/default.py and continued with `tts/train.py --init`.
#   MIN=8 OUT=/some/dir [VARIANTS="cont scratch"] bash training/tts/gpu.sh   # DEVICE=cpu MIN=0.3 BT=1500: dry run here
# Files come back at most 8, 64 MiB together: two variants of 11-14 M parameters per call.
set -uo pipefail
MIN=${MIN:-8}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
BT=${BT:-24000}  # padded positions per batch: 8x the CPU runs' 3000
PACK=$(pwd)/.gpu/tts
source training/common/gpu_pkg.sh  # the package at /tmp/pkg
export PYTHONPATH=/tmp/pkg PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
[[ $DEVICE == cuda ]] && nvidia-smi -L
# one codes folder: the committed shards + the pack's (shard_1*: no name clash), the pack's meta (same fingerprint)
rm -rf /tmp/codes && mkdir -p /tmp/codes && cp training/codes/shard_*.npz "$PACK"/codes/shard_*.npz /tmp/codes/ &&
  cp "$PACK/codes/meta.json" /tmp/codes/ || exit 1
own=()
[[ -e $PACK/own/meta.json ]] && own=(--own-inputs "$PACK/own" --own-inputs-p 0.5)
# the flags of the CPU runs (resume.sh tts_phon), with a GPU-sized batch, a time-boxed cosine and no CPU-side evals
common=(--codes /tmp/codes --teacher "$PACK" --tekken "$PACK/tekken.json" --lexicon training/lexicon/en_us.tsv.gz
        --voice-clip tr000003 --bf16 --ema-decay 0.999 --device "$DEVICE" --batch-tokens "$BT" --max-minutes "$MIN"
        --cosine-minutes "$MIN" --eval-min 100000 --ckpt-min 100000 --eval-gen 0 --no-asr --log-every 50
        --threads 2 "${own[@]}")
declare -A variant=(
  # continue the CPU run the pack's init.pt came from (fresh AdamW moments), 2x its lr for 8x its batch
  [cont]="--init $PACK/init.pt --lr 1.2e-3 --warmup 200"
  # the same model from scratch: alignment help (guided attention) for the first ~2k big steps only
  [scratch]="--lr 1.5e-3 --warmup 500 --guided-steps 1500"
  # 14 backbone layers (tts/config.py DEEP_DIMS) from scratch
  [deep]="--dims deep --lr 1.2e-3 --warmup 500 --guided-steps 1500"
)
for v in ${VARIANTS:-cont scratch}; do
  # shellcheck disable=SC2086
  $PY -m training.tts.train "${common[@]}" --out /tmp/gpu_$v ${variant[$v]} > "$OUT/$v.log" 2>&1 &
done
wait
for v in ${VARIANTS:-cont scratch}; do
  $PY -m training.tts.compact --src /tmp/gpu_$v/last.pt --dst "$OUT/$v.pt" >> "$OUT/$v.log" 2>&1
  # files come back at most 16 MiB each: a bigger one travels in parts (cat "$v".pt.part_* > "$v".pt here)
  if (( $(stat -c %s "$OUT/$v.pt") > 16000000 )); then split -b 15000000 "$OUT/$v.pt" "$OUT/$v.pt.part_" && rm "$OUT/$v.pt"; fi
  tail -3 "$OUT/$v.log"
done

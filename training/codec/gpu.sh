#!/usr/bin/env bash
# Optional: decoder training of the codec on a borrowed GPU machine (never needed: the same codec/train.py runs on
# CPU). Runs from the repo root of a copy of the tree that carries .gpu/pack (training/codec/pack.py) and .whl
# (soundfile + cffi + pycparser wheels for that machine's Python, to decode the Opus pack). Variants run side by
# side on the one GPU (each is a small model: launch-bound, so they overlap); each leaves its log and a compact
# checkpoint (codec/compact.py, the format of checkpoints/codec_small.pt) in $OUT, to be judged here with
# codec/heldout_wer.py on the teacher's real held-out audio.
#   MIN=7 OUT=/some/dir [VARIANTS="plain64 deep64"] bash training/codec/gpu.sh   # DEVICE=cpu MIN=0.2: dry run here
set -uo pipefail
MIN=${MIN:-7}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
ROOT=$(pwd)
SITE=${SITE:-/tmp/site}
source training/common/gpu_pkg.sh  # the package at /tmp/pkg
if [[ -z ${NO_WHEELS:-} ]] && ls .whl/*.whl > /dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE .whl/*.whl || exit 1
fi
export PYTHONPATH=$SITE:/tmp/pkg PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
$PY -c "import torch, soundfile; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'sndfile', soundfile.__libsndfile_version__)"
[[ $DEVICE == cuda ]] && nvidia-smi -L
common=(--teacher "$ROOT/.gpu/pack" --freeze-encoder --cycle-weight 1 --commit-weight 1 --ema-decay 0.95
        --dropout-steps 0 --preload --eval-min 100000 --ckpt-min 100000 --no-asr --device "$DEVICE"
        --max-minutes "$MIN" --log-every 100 --threads 2)
init=(--init training/checkpoints/codec_small.pt)
declare -A variant=(
  # plain losses, 4x the CPU batch
  [plain32]="${init[*]} --batch 32 --lr 3e-4"
  # the same with the HiFi-GAN discriminators (periods + wider multi-resolution ones) from the first step
  [gan32]="${init[*]} --batch 32 --lr 3e-4 --gan-start 1 --disc-periods=2,3,5,7,11 --disc-channels 32"
  # about half of the decoder's WER is its phase (codec/phase_diag.py), which GAN-free losses regress to an
  # average: the discriminators at the batch that did best
  [gan64]="${init[*]} --batch 64 --lr 6e-4 --gan-start 1 --disc-periods=2,3,5,7,11 --disc-channels 32"
  # plain, 8x the CPU batch at twice the lr
  [plain64]="${init[*]} --batch 64 --lr 6e-4"
  # the release's decoder depth (configs/codec_small_d2.json), warm-started from the committed decoder
  [deep64]="--config training/configs/codec_small_d2.json --warm-start training/checkpoints/codec_small.pt --batch 64 --lr 6e-4 --warmup 200"
)
for v in ${VARIANTS:-plain32 gan32 plain64}; do
  # shellcheck disable=SC2086
  $PY -m training.codec.train "${common[@]}" --out /tmp/gpu_$v ${variant[$v]} > "$OUT/$v.log" 2>&1 &
done
wait
for v in ${VARIANTS:-plain32 gan32 plain64}; do
  $PY -m training.codec.compact --src /tmp/gpu_$v/last.pt --dst "$OUT/$v.pt" --max-mb 40 >> "$OUT/$v.log" 2>&1
  # files come back at most 16 MiB each: a bigger one travels in parts (cat "$v".pt.part_* > "$v".pt here)
  if (( $(stat -c %s "$OUT/$v.pt") > 16000000 )); then split -b 15000000 "$OUT/$v.pt" "$OUT/$v.pt.part_" && rm "$OUT/$v.pt"; fi
  tail -2 "$OUT/$v.log"
done

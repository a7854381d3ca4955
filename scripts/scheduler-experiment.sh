#!/usr/bin/env bash
# The book's learning-rate scheduler experiment (d2l, "Learning Rate Scheduling"): modern LeNet
# on Fashion-MNIST, SGD lr 0.3, batch 256, scheduler stepped once per epoch, five schedules.
# Writes metrics and curves to $OUT (default results/schedulers) and prints the final epochs.
#   EPOCHS=30 DEVICE=cuda scripts/scheduler-experiment.sh    # the book's length, on a GPU
#   EPOCHS=10 DEVICE=cpu  scripts/scheduler-experiment.sh    # shorter, on the CPU
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-30}
DEVICE=${DEVICE:-auto}
OUT=${OUT:-results/schedulers}
BIN=${BIN:-build/bin/cutrain}
mkdir -p "$OUT"

declare -A specs=(
  [constant]="constant"
  [sqrt]="sqrt"
  [multifactor]="multifactor:milestones=15;30,alpha=0.5"
  [cosine]="cosine:max_update=20,final_lr=0.01"
  [cosine-warmup]="cosine:max_update=20,final_lr=0.01,warmup=5"
)
declare -A base_lr=([constant]=0.3 [sqrt]=0.1 [multifactor]=0.5 [cosine]=0.3 [cosine-warmup]=0.3)

for name in constant sqrt multifactor cosine cosine-warmup; do
  echo "== $name: --scheduler '${specs[$name]}' --lr ${base_lr[$name]}"
  "$BIN" train --model lenet --optimizer sgd --batch-size 256 --epochs "$EPOCHS" \
    --device "$DEVICE" --lr "${base_lr[$name]}" --scheduler "${specs[$name]}" \
    --schedule-unit epoch --metrics "$OUT/$name.jsonl" --no-progress | grep "^epoch" | tail -n 1
  "$BIN" plot "$OUT/$name.jsonl" -o "$OUT/$name.svg" --title "$name" > /dev/null
  "$BIN" schedule --scheduler "${specs[$name]}" --lr "${base_lr[$name]}" --steps "$EPOCHS" \
    --plot "$OUT/$name-lr.svg" > /dev/null 2>&1
done

#!/usr/bin/env bash
# The book's learning-rate scheduler experiment (d2l, "Learning Rate Scheduling"): modern LeNet
# on Fashion-MNIST, SGD, batch 256, scheduler stepped once per epoch, five schedules.
# Writes metrics and curves to $OUT (default results/schedulers) and prints a summary table.
#   EPOCHS=30 DEVICE=cuda scripts/scheduler-experiment.sh    # the book's length, on a GPU
#   EPOCHS=30 DEVICE=cpu  scripts/scheduler-experiment.sh    # the same on the CPU (~3 min each)
#   PEER=1 ...                                               # also PyTorch, same lr per epoch
#   SEED=1 ONLY="multifactor cosine" ...                     # another seed, some schedules
#   PEER=1 RUN_CUTRAIN=0 ...                                 # add the peer to an earlier run
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-30}
DEVICE=${DEVICE:-auto}
SEED=${SEED:-0}
OUT=${OUT:-results/schedulers}
BIN=${BIN:-build/bin/cutrain}
PEER=${PEER:-0}
RUN_CUTRAIN=${RUN_CUTRAIN:-1}
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch lives there, not in a pyenv
ONLY=${ONLY:-constant sqrt multifactor cosine cosine-warmup}
mkdir -p "$OUT"

declare -A specs=(
  [constant]="constant"
  [sqrt]="sqrt"
  [multifactor]="multifactor:milestones=15;30,alpha=0.5"
  [cosine]="cosine:max_update=20,final_lr=0.01"
  [cosine-warmup]="cosine:max_update=20,final_lr=0.01,warmup=5"
  # Not in the default list (ONLY=...):
  # - multifactor-book: what the book's PyTorch code trains for "multifactor". It steps
  #   MultiStepLR 30 times to plot it before training, so training starts past both milestones,
  #   at 0.5 * 0.5^2 = 0.125, and stays there.
  # - multifactor-warmup: lr 0.5 kills this network in its first epoch (docs/benchmarks.md);
  #   five warm-up epochs are the book's remedy for exactly that (milestones then count from
  #   the end of the warm-up: t = 20 and 35).
  [multifactor-book]="constant"
  [multifactor-warmup]="multifactor:milestones=15;30,alpha=0.5,warmup=5"
)
declare -A base_lr=([constant]=0.3 [sqrt]=0.1 [multifactor]=0.5 [cosine]=0.3 [cosine-warmup]=0.3
                    [multifactor-book]=0.125 [multifactor-warmup]=0.5)

for name in $ONLY; do
  [[ -n "${specs[$name]:-}" ]] || { echo "ONLY: unknown schedule '$name'" >&2; exit 2; }
  echo "== $name: --scheduler '${specs[$name]}' --lr ${base_lr[$name]} --seed $SEED"
  if [[ "$RUN_CUTRAIN" == 1 ]]; then
    "$BIN" train --model lenet --optimizer sgd --batch-size 256 --epochs "$EPOCHS" --seed "$SEED" \
      --device "$DEVICE" --lr "${base_lr[$name]}" --scheduler "${specs[$name]}" \
      --schedule-unit epoch --metrics "$OUT/$name.jsonl" --no-progress | grep "^epoch" | tail -n 1
    "$BIN" plot "$OUT/$name.jsonl" -o "$OUT/$name.svg" --title "$name" > /dev/null
  fi
  "$BIN" schedule --scheduler "${specs[$name]}" --lr "${base_lr[$name]}" --steps "$EPOCHS" \
    --plot "$OUT/$name-lr.svg" > "$OUT/$name-lr.txt" 2> >(grep -v '^plot written' >&2)
  if [[ "$PEER" == 1 ]]; then
    # The peer follows the very rates cutrain printed, so only the frameworks differ.
    "$PYTHON" bench/peers/lenet_torch.py --model lenet --epochs "$EPOCHS" --seed "$SEED" \
      --device "$([[ "$DEVICE" == cuda ]] && echo cuda || echo cpu)" \
      --lr-schedule "$OUT/$name-lr.txt" > "$OUT/$name.torch.log"
    grep "^epoch" "$OUT/$name.torch.log" | tail -n 1 | sed 's/^/pytorch: /'
  fi
done

# Summary: the book's observations are about the train-test gap (overfitting) at the end and
# about the first epochs (warm-up), so print both.
"$PYTHON" - "$OUT" "$EPOCHS" $ONLY <<'PY'
import json, os, sys
out, epochs, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
early = min(5, epochs)
def cutrain(name):
    if not os.path.exists(os.path.join(out, name + ".jsonl")):
        return None
    with open(os.path.join(out, name + ".jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]
def peer(name):
    path = os.path.join(out, name + ".torch.log")
    if not os.path.exists(path):
        return None
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("epoch "):
                v = line.split()
                rows.append({v[i]: float(v[i + 1]) for i in range(0, len(v) - 1, 2)})
    return rows
print(f"\n{'schedule':<18} {'framework':<9} {'test@' + str(early):>7} {'train acc':>9} "
      f"{'test acc':>8} {'gap':>6} {'best test':>9} {'train loss':>10}")
for name in names:
    for fw, rows in (("cutrain", cutrain(name)), ("pytorch", peer(name))):
        if not rows:
            continue
        last = rows[-1]
        best = max(r["test_acc"] for r in rows)
        print(f"{name:<18} {fw:<9} {rows[early - 1]['test_acc']:>7.4f} {last['train_acc']:>9.4f} "
              f"{last['test_acc']:>8.4f} {last['train_acc'] - last['test_acc']:>6.3f} "
              f"{best:>9.4f} {last['train_loss']:>10.4f}")
PY

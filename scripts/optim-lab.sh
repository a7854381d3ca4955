#!/usr/bin/env bash
# Every experiment of shared/reference/experiments.md (d2l, optimization chapter), one command
# each, through `cutrain optim-lab`. Each writes NAME.txt (the printed table) and NAME.svg (the
# path over contour lines, the 1-D curve, or the loss curves) into $OUT and prints its last line.
#   scripts/optim-lab.sh                                   # data/airfoil_self_noise.dat
#   AIRFOIL=/path/to/airfoil_self_noise.dat scripts/optim-lab.sh
# Step counts follow the book: 20 for the 2-D runs, 10 for the 1-D runs, and 50 / 1000 / 50 for
# SGD with gradient noise (constant, exponential, polynomial learning rate).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/optim-lab}
BIN=${BIN:-build/bin/cutrain}
AIRFOIL=${AIRFOIL:-data/airfoil_self_noise.dat}
mkdir -p "$OUT"

trace() {  # NAME ARGS...
  local name=$1
  shift
  echo "== $name: optim-lab trace $*"
  "$BIN" optim-lab trace "$@" --plot "$OUT/$name.svg" > "$OUT/$name.txt" 2> /dev/null
  tail -n 1 "$OUT/$name.txt"
}

# f(x) = x1^2 + 2 x2^2 from (-5, -2)
trace gd-quadratic --function quadratic2d --optimizer sgd --lr 0.1 --steps 20
trace sgd-noise-constant --function quadratic2d --optimizer sgd --lr 0.1 --noise 1 --seed 0 \
  --steps 50
trace sgd-noise-exponential --function quadratic2d --optimizer sgd --lr 0.1 --noise 1 --seed 0 \
  --lr-schedule exponential:k=0.1 --steps 1000
trace sgd-noise-polynomial --function quadratic2d --optimizer sgd --lr 0.1 --noise 1 --seed 0 \
  --lr-schedule polynomial:a=0.1,p=0.5 --steps 50

# f(x) = 0.1 x1^2 + 2 x2^2 (ill-conditioned) from (-5, -2)
trace gd-ill-eta0.4 --function ill-conditioned --optimizer sgd --lr 0.4 --steps 20
trace gd-ill-eta0.6 --function ill-conditioned --optimizer sgd --lr 0.6 --steps 20
trace momentum-eta0.6-beta0.5 --function ill-conditioned --optimizer momentum --lr 0.6 \
  --momentum 0.5 --steps 20
trace momentum-eta0.6-beta0.25 --function ill-conditioned --optimizer momentum --lr 0.6 \
  --momentum 0.25 --steps 20
trace adagrad-eta0.4 --function ill-conditioned --optimizer adagrad --lr 0.4 --steps 20
trace adagrad-eta2 --function ill-conditioned --optimizer adagrad --lr 2 --steps 20
trace rmsprop-eta0.4-gamma0.9 --function ill-conditioned --optimizer rmsprop --lr 0.4 \
  --gamma 0.9 --steps 20

# 1-D, from x = 10
trace gd-square-eta0.2 --function square --optimizer sgd --lr 0.2 --steps 10
trace gd-square-eta0.05 --function square --optimizer sgd --lr 0.05 --steps 10
trace gd-square-eta1.1 --function square --optimizer sgd --lr 1.1 --steps 10
trace gd-xcos-eta2 --function xcos --optimizer sgd --lr 2 --steps 10
trace newton-cosh --function cosh --optimizer newton --lr 1 --steps 10
trace newton-xcos-eta1 --function xcos --optimizer newton --lr 1 --steps 10
trace newton-xcos-eta0.5 --function xcos --optimizer newton --lr 0.5 --steps 10

# Linear regression on the airfoil self-noise data: the book's optimizers, 2 epochs each.
echo "== airfoil-compare: optim-lab regression --data $AIRFOIL --compare --epochs 2"
if "$BIN" optim-lab regression --data "$AIRFOIL" --compare --epochs 2 \
  --plot "$OUT/airfoil-compare.svg" > "$OUT/airfoil-compare.txt" 2> "$OUT/airfoil-compare.log"; then
  sed -n '/^# summary/,$p' "$OUT/airfoil-compare.txt"
else
  cat "$OUT/airfoil-compare.log"
  echo "(airfoil experiment not run: set AIRFOIL to the data file)"
fi
echo "results in $OUT"

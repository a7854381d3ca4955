#!/usr/bin/env python3
"""Replays one cutrain training epoch in PyTorch and compares the results tensor by tensor.

Given two checkpoints of the same `cutrain train --optimizer sgd --checkpoint-dir` run, one
after epoch E-1 (BEFORE) and one after epoch E (AFTER; or inside epoch E, after K steps, as a
run stopped by a signal saves it), this loads BEFORE into the PyTorch LeNet of lenet_torch.py,
trains it through epoch E (or its first K steps) on exactly the batches cutrain used (the same
per-epoch permutation, batch size, last partial batch and learning rate) and compares every
parameter and batch-norm running average with AFTER, plus the test accuracy of both. It checks
the whole training step at once: forward, loss, backward, batch-norm statistics and the SGD
update.

Rounding differences between two correct implementations stay at the 1e-6 level through a
whole epoch of the sigmoid networks (lenet-classic, lenet-bn), but ReLU and max-pool make
training chaotic: a rounding difference flips a gate, and the difference grows by orders of
magnitude per few dozen steps (measured for lenet at lr 0.3: 6e-6 of the update after 1 step,
2e-4 after 10, 0.3 after 50). Replay lenet over a short epoch (`--train-limit 2560`: 10 steps).

  cutrain train --model lenet-bn --lr 1.0 --epochs 1 --checkpoint-dir a
  cp a/last.safetensors before.safetensors
  cutrain train --resume a/last.safetensors --epochs 2
  /usr/bin/python3 bench/peers/replay_epoch_torch.py before.safetensors a/last.safetensors

Exit status 1 when a tensor differs by more than --tol of its largest |value|. Biases directly
before a batch norm are reported but not checked: their gradient is zero in exact arithmetic,
so both frameworks only accumulate rounding noise there.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_checkpoint_torch as ckpt  # noqa: E402
import lenet_torch  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def cutrain_order(seed, epoch_index, count):
    """cutrain's epoch order (kernels/batch_gather_math.h): examples sorted by
    splitmix64(splitmix64(splitmix64(seed) ^ epoch) + i), ties in index order."""
    base = splitmix64(splitmix64(seed) ^ epoch_index)
    keys = [splitmix64((base + i) & MASK) for i in range(count)]
    return sorted(range(count), key=lambda i: (keys[i], i))


def noise_only(model):
    """Names of biases whose module feeds a batch norm directly (zero gradient)."""
    mods = list(model)
    return {f"{i}.bias" for i in range(len(mods) - 1)
            if isinstance(mods[i], (nn.Conv2d, nn.Linear))
            and isinstance(mods[i + 1], (nn.BatchNorm1d, nn.BatchNorm2d))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", help="checkpoint after epoch E-1")
    ap.add_argument("after", help="checkpoint of the same run after epoch E")
    ap.add_argument("--data", default=os.environ.get("CUTRAIN_DATA") or lenet_torch.DEFAULT_DATA)
    ap.add_argument("--tol", type=float, default=1e-3,
                    help="largest allowed |torch - cutrain| / max|cutrain| per tensor")
    args = ap.parse_args(argv)

    try:
        before, meta_b = ckpt.read_safetensors(args.before)
        after, meta_a = ckpt.read_safetensors(args.after)
        config = json.loads(meta_b["config"])
        epoch = int(meta_a["epoch"])
        problems = []
        inside = int(meta_a.get("batches_done", "0"))  # AFTER stopped inside epoch + 1
        if inside > 0:
            epoch += 1
        if int(meta_b["epoch"]) != epoch - 1:
            problems.append(f"BEFORE is after epoch {meta_b['epoch']}, AFTER "
                            f"{'inside' if inside else 'after'} epoch {epoch}: not consecutive")
        if meta_b.get("batches_done", "0") != "0":
            problems.append("BEFORE is from inside an epoch (stopped by a signal)")
        if config["optimizer"] != "sgd" or config.get("scheduler") not in ("", "constant"):
            problems.append("only plain sgd at a constant lr is replayed")
        if config.get("weight_decay") or config.get("clip_norm") or config.get("resize"):
            problems.append("weight decay, clipping and --resize are not replayed")
        if json.loads(meta_a["config"])["seed"] != config["seed"]:
            problems.append("the checkpoints come from runs with different seeds")
        if problems:
            raise ValueError("; ".join(problems))
        model = lenet_torch.build_model(config["model"])
        ckpt.load_into(model, before, args.before)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    x_train, y_train = lenet_torch.load_split(args.data, "train")
    x_test, y_test = lenet_torch.load_split(args.data, "t10k")
    if config.get("train_limit"):
        x_train, y_train = x_train[:config["train_limit"]], y_train[:config["train_limit"]]
    n, batch = x_train.shape[0], config["batch_size"]
    order = torch.tensor(cutrain_order(config["seed"], epoch - 1, n))
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    model.train()
    steps = 0
    for i in range(0, n, batch):
        if inside and steps == inside:
            break
        idx = order[i:i + batch]
        if config.get("drop_last") and idx.shape[0] < batch:
            break
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1

    noise = noise_only(model)
    state = model.state_dict()
    worst, failed = (0.0, ""), []
    print(f"replayed epoch {epoch} of {config['model']} (seed {config['seed']}, lr {config['lr']}, "
          f"batch {batch}): {steps} steps")
    for name in sorted(after):
        if name not in state:
            continue
        want = after[name]
        diff = float((state[name] - want).abs().max() / max(float(want.abs().max()), 1e-30))
        if name in noise:
            print(f"  {name:16s} {diff:9.2e}  (zero gradient in exact arithmetic: not checked)")
            continue
        print(f"  {name:16s} {diff:9.2e}")
        worst = max(worst, (diff, name))
        if not diff <= args.tol:
            failed.append(name)
    acc_torch = lenet_torch.evaluate(model, x_test, y_test, 1000)
    cutrain_model = lenet_torch.build_model(config["model"])
    ckpt.load_into(cutrain_model, after, args.after)
    acc_cutrain = lenet_torch.evaluate(cutrain_model, x_test, y_test, 1000)
    print(f"test acc: pytorch {acc_torch:.4f}, cutrain {acc_cutrain:.4f}; largest relative "
          f"difference {worst[0]:.2e} ({worst[1]}), tolerance {args.tol:g}")
    if failed:
        print(f"FAILED: {', '.join(failed)} differ by more than the tolerance")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

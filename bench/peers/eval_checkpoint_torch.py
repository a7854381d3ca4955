#!/usr/bin/env python3
"""Evaluates a cutrain checkpoint in PyTorch: the cross-framework check of its weights.

cutrain writes checkpoints as safetensors under PyTorch's state_dict names. This loads one into
the same LeNet that lenet_torch.py trains (strictly: every tensor of the model, nothing else but
cutrain's "optimizer.*" slots) and prints PyTorch's test accuracy, to compare with what
`cutrain eval --checkpoint FILE` prints for the same file.

With --population-stats the batch-norm running averages are then replaced by the exact mean
and (unbiased) variance over the training set, computed with the checkpoint's weights, and the
test accuracy is printed again: the gap between the two says how far the running averages
(momentum 0.1, updated every step while the weights moved) are from the statistics of the
final weights.

  /usr/bin/python3 bench/peers/eval_checkpoint_torch.py ckpt/last.safetensors [--population-stats]

Reads safetensors itself (numpy); needs torch but not the safetensors package.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet_torch  # noqa: E402  (the peer's data reader, model and evaluation)


def read_safetensors(path):
    """Returns ({name: float32 tensor}, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", raw[:8])
    if 8 + header_len > len(raw):
        raise ValueError(f"{path}: header length {header_len} exceeds the file")
    header = json.loads(raw[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor '{name}' is {entry.get('dtype')}, expected F32")
        begin, end = entry["data_offsets"]
        values = np.frombuffer(raw[base + begin:base + end], dtype="<f4")
        tensors[name] = torch.from_numpy(values.reshape(entry["shape"]).copy())
    return tensors, header.get("__metadata__", {})


def load_into(model, tensors, path):
    state = model.state_dict()
    wanted = {k for k in state if not k.endswith("num_batches_tracked")}
    extra = sorted(k for k in tensors if k not in wanted and not k.startswith("optimizer."))
    missing = sorted(wanted - tensors.keys())
    if missing or extra:
        raise ValueError(f"{path}: missing {missing}, unexpected {extra}")
    for k in wanted:
        if tuple(tensors[k].shape) != tuple(state[k].shape):
            raise ValueError(f"{path}: '{k}' has shape {tuple(tensors[k].shape)}, "
                             f"the model needs {tuple(state[k].shape)}")
        state[k] = tensors[k]
    model.load_state_dict(state)


@torch.no_grad()
def set_population_stats(model, x_train, batch_size=1000):
    """Running averages := exact statistics over x_train (momentum None: a cumulative mean)."""
    norms = [m for m in model.modules()
             if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for i in range(0, x_train.shape[0], batch_size):
        model(x_train[i:i + batch_size])
    model.eval()
    return len(norms)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a cutrain checkpoint (.safetensors)")
    ap.add_argument("--data", default=os.environ.get("CUTRAIN_DATA") or lenet_torch.DEFAULT_DATA)
    ap.add_argument("--population-stats", action="store_true",
                    help="also evaluate with batch-norm statistics of the whole training set")
    args = ap.parse_args(argv)
    try:
        tensors, meta = read_safetensors(args.checkpoint)
        kind = meta.get("model", "")
        model = lenet_torch.build_model(kind)  # ValueError for models the peer does not have
        load_into(model, tensors, args.checkpoint)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    x_test, y_test = lenet_torch.load_split(args.data, "t10k")
    print(f"checkpoint {args.checkpoint}: model {kind}, epoch {meta.get('epoch', '?')}")
    print(f"pytorch test acc {lenet_torch.evaluate(model, x_test, y_test, 1000):.4f}")
    if args.population_stats:
        x_train, _ = lenet_torch.load_split(args.data, "train")
        n = set_population_stats(model, x_train)
        if n == 0:
            print("population stats: the model has no batch norm")
        else:
            acc = lenet_torch.evaluate(model, x_test, y_test, 1000)
            print(f"pytorch test acc with population statistics ({n} batch norms) {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

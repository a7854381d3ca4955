#!/usr/bin/env python3
"""PyTorch peer benchmark for cutrain: LeNet-5 on Fashion-MNIST.

Trains a LeNet-5 variant with plain SGD and reports per-epoch loss/accuracy
and training throughput, so cutrain's numbers can be compared against an
established framework running the same model, data, optimiser and batch size.

Output (stdout):
  epoch E train_loss L train_acc A test_acc T examples_per_sec X seconds S
    - train_loss / train_acc: averaged over the examples seen during the
      epoch's training (computed from the logits of each step, before that
      step's update).
    - examples_per_sec = training examples / S, where S is the wall-clock
      training time of the epoch only (shuffle + batching + forward/backward/
      step; evaluation excluded; on CUDA the device is synchronised before
      the clock is read).
  A final JSON line with the summary ("peer": "pytorch", ...).
  Informational lines start with "#".

Data: Fashion-MNIST IDX files (gzip or raw) read with gzip + numpy, no
torchvision needed.

Example:
  /usr/bin/python3 bench/peers/lenet_torch.py --model lenet --epochs 3
  /usr/bin/python3 bench/peers/lenet_torch.py --device cuda --cuda-graph
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"

IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_idx(path):
    """Parse an IDX file (optionally gzip-compressed) into a numpy array."""
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        raise ValueError(f"{path}: unsupported IDX type code 0x{type_code:02x}")
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(IDX_DTYPES[type_code])
    offset = 4 + 4 * ndim
    count = int(np.prod(dims)) if ndim else 1
    if len(data) - offset < count * dtype.itemsize:
        raise ValueError(f"{path}: truncated IDX file")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return arr.reshape(tuple(int(d) for d in dims))


def find_idx(data_dir, stem):
    """Locate e.g. 'train-images-idx3-ubyte' (+ optional .gz, or '.' variant)."""
    names = [stem, stem + ".gz"]
    dotted = stem.replace("-idx", ".idx")
    names += [dotted, dotted + ".gz"]
    for name in names:
        p = os.path.join(data_dir, name)
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(
        f"cannot find {stem}[.gz] in {data_dir} (set --data or $CUTRAIN_DATA)")


def load_split(data_dir, prefix):
    images = read_idx(find_idx(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find_idx(data_dir, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{prefix}: unexpected shapes {images.shape} / {labels.shape}")
    x = images.astype(np.float32).reshape(-1, 1, images.shape[1], images.shape[2])
    x /= 255.0
    y = labels.astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def build_model(kind):
    if kind == "lenet-bn":
        # d2l's LeNet with batch norm (shared/reference/models.md): BN after every conv and
        # hidden dense layer, before the sigmoid; PyTorch's BN defaults (momentum 0.1, eps 1e-5).
        model = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
            nn.Linear(84, 10),
        )
        init_xavier(model)
        return model
    if kind == "lenet":
        act, pool = nn.ReLU, nn.MaxPool2d
    elif kind == "lenet-classic":
        act, pool = nn.Sigmoid, nn.AvgPool2d
    else:
        raise ValueError(kind)
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), act(),
        pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(),
        pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, 10),
    )
    init_xavier(model)
    return model


def init_xavier(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------
# Training / evaluation
# --------------------------------------------------------------------------

def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate(model, x, y, batch_size):
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for i in range(0, x.shape[0], batch_size):
        out = model(x[i:i + batch_size])
        correct += (out.argmax(1) == y[i:i + batch_size]).sum()
    model.train()
    return correct.item() / x.shape[0]


class _SumsStep:
    """What both steps share: the epoch's device-side loss and accuracy sums, and one step's
    work (gather the batch `idx` of the data set, forward, backward, optimizer step, add to the
    sums). Gradients must be None or zero before it."""

    def __init__(self, model, opt, device):
        self.model, self.opt = model, opt
        self.loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)

    def begin_epoch(self, device):
        self.loss_sum.zero_()
        self.correct.zero_()

    def _step(self, x, y, idx):
        xb = x.index_select(0, idx)
        yb = y.index_select(0, idx)
        out = self.model(xb)
        loss = F.cross_entropy(out, yb)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            self.loss_sum += loss.detach() * idx.shape[0]
            self.correct += (out.argmax(1) == yb).sum()


class EagerStep(_SumsStep):
    """Ordinary eager (or torch.compile'd) training step."""

    def __call__(self, x, y, idx):
        self.opt.zero_grad(set_to_none=True)
        self._step(x, y, idx)


class GraphStep(_SumsStep):
    """One full training step captured as a CUDA graph: the gather of the batch from the
    device-resident data set (through a static index buffer), forward, backward, the SGD step
    and the epoch's loss and accuracy sums, as cutrain's captured step holds its loss kernel's
    sums. Per step the host copies the batch's indices and replays: no other eager op, so the
    comparison with cutrain's --cuda-graph is graph against graph, not Python dispatch.
    Only full batches are supported."""

    def __init__(self, model, opt, x, y, batch_size, warmup=3):
        super().__init__(model, opt, x.device)
        self.idx = torch.arange(batch_size, device=x.device)
        # Warm-up on a side stream (required before capture). The warm-up steps modify the
        # parameters and batch-norm statistics, so save and restore the whole state afterwards
        # (in place: the graph keeps the tensors it captured).
        saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
        s = torch.cuda.Stream(device)
        s.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(s):
            for _ in range(warmup):
                opt.zero_grad(set_to_none=True)
                self._step(x, y, self.idx)
        torch.cuda.current_stream(device).wait_stream(s)
        self.graph = torch.cuda.CUDAGraph()
        # PyTorch's whole-network capture: gradients None before capture, so backward allocates
        # them from the graph's pool and every replay overwrites them.
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self._step(x, y, self.idx)
        model.load_state_dict(saved)  # copies in place: the captured tensors stay valid
        sync(device)

    def __call__(self, x, y, idx):
        self.idx.copy_(idx)
        self.graph.replay()


def set_tf32(enabled):
    """Allows or forbids TF32 in cuDNN convolutions and in matmuls, and returns what is in
    effect afterwards, read back (e.g. 'conv=ieee,matmul=highest'), so a log shows the
    arithmetic that ran. Matmuls go through set_float32_matmul_precision in every version, which
    keeps torch's old and new settings consistent (torch.compile reads it too). cuDNN: the legacy
    allow_tf32 flag first, in every version, then where torch has them (2.9 on) the
    fp32_precision settings of cuDNN, its convolutions and its RNNs: torch's legacy getter for
    cuDNN as a whole raises when the flag and the two operations' settings disagree, and the
    convolutions themselves read their own setting. The result is read back through the
    convolutions' setting, never through a legacy getter."""
    torch.set_float32_matmul_precision("high" if enabled else "highest")
    matmul = torch.get_float32_matmul_precision()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy setter is deprecated from torch 2.9 on
        torch.backends.cudnn.allow_tf32 = enabled
    try:
        conv_settings = torch.backends.cudnn.conv
        conv_settings.fp32_precision  # noqa: B018 - only its existence is asked
    except (AttributeError, AssertionError):  # older torch: the flag is all there is
        return f"conv={'tf32' if torch.backends.cudnn.allow_tf32 else 'ieee'},matmul={matmul}"
    mode = "tf32" if enabled else "ieee"
    for holder in (torch.backends.cudnn, conv_settings, getattr(torch.backends.cudnn, "rnn", None)):
        if holder is not None and hasattr(holder, "fp32_precision"):
            holder.fp32_precision = mode
    return f"conv={conv_settings.fp32_precision},matmul={matmul}"


def read_lr_schedule(path, epochs):
    """Reads 't lr' lines (t = 0, 1, ...) and returns the first `epochs` rates."""
    rates = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                t, lr = int(fields[0]), float(fields[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{n}: expected 't lr', got {line.strip()!r}")
            if t < 0 or not lr >= 0 or t in rates:
                raise ValueError(f"{path}:{n}: expected a new t >= 0 and an lr >= 0, "
                                 f"got {line.strip()!r}")
            rates[t] = lr
    missing = [t for t in range(epochs) if t not in rates]
    if missing:
        raise ValueError(f"{path}: no lr for t = {missing[0]} (epoch {missing[0] + 1}); "
                         f"print the schedule with --steps {epochs}")
    return [rates[t] for t in range(epochs)]


def train_epoch(step, x, y, batch_size, gen, drop_last):
    """Returns (examples, loss_sum_tensor, correct_tensor). No host syncs
    inside the loop, so CUDA work is queued asynchronously."""
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen).to(x.device)
    step.begin_epoch(x.device)
    seen = 0
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        if drop_last and idx.shape[0] < batch_size:
            break
        step(x, y, idx)
        seen += idx.shape[0]
    return seen, step.loss_sum, step.correct


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("CUTRAIN_DATA") or DEFAULT_DATA,
                    help="directory with Fashion-MNIST IDX files "
                         "(default: $CUTRAIN_DATA or %s)" % DEFAULT_DATA)
    ap.add_argument("--model", choices=["lenet", "lenet-classic", "lenet-bn"], default="lenet")
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch.set_num_threads(N) (default: torch's default)")
    ap.add_argument("--train-limit", type=int, default=None,
                    help="use only the first N training examples")
    ap.add_argument("--eval-batch-size", type=int, default=1000)
    ap.add_argument("--cuda-graph", action="store_true",
                    help="CUDA only: capture the whole training step as a CUDA "
                         "graph (the last partial batch of each epoch is dropped)")
    ap.add_argument("--lr-schedule", metavar="FILE",
                    help="per-epoch learning rates: lines 't lr' as printed by "
                         "`cutrain schedule --steps EPOCHS`; epoch e (1-based) trains at "
                         "the lr of t = e - 1, cutrain's per-epoch convention ('#' lines "
                         "ignored). Overrides --lr")
    ap.add_argument("--warmup-epochs", type=int, default=0,
                    help="train this many epochs first and leave them out of the median "
                         "(cutrain's bench train does 1, 2 with CUDA graphs: lazy module "
                         "loading, handles and the allocator's growth land there)")
    ap.add_argument("--compile", action="store_true",
                    help="wrap the model with torch.compile (exits non-zero if "
                         "unavailable or failing)")
    ap.add_argument("--tf32", action="store_true",
                    help="let cuDNN convolutions and matmuls use TF32 (cutrain's --tf32). "
                         "Default: off for both, like cutrain; note that PyTorch's own "
                         "default allows TF32 in cuDNN convolutions")
    args = ap.parse_args(argv)

    if args.batch_size <= 0 or args.epochs <= 0:
        ap.error("--batch-size and --epochs must be positive")
    if args.cuda_graph and args.device != "cuda":
        ap.error("--cuda-graph requires --device cuda")
    if args.cuda_graph and args.compile:
        ap.error("--cuda-graph and --compile are mutually exclusive")
    if args.warmup_epochs < 0:
        ap.error("--warmup-epochs must be >= 0")
    if args.warmup_epochs and args.lr_schedule:
        ap.error("--warmup-epochs and --lr-schedule: the schedule counts every epoch")
    if args.lr_schedule and args.cuda_graph:
        ap.error("--lr-schedule and --cuda-graph: the captured step keeps its first lr")
    lr_of_epoch = None
    if args.lr_schedule:
        try:
            lr_of_epoch = read_lr_schedule(args.lr_schedule, args.epochs)
        except (OSError, ValueError) as e:
            ap.error(f"--lr-schedule: {e}")
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda requested but torch.cuda.is_available() is False",
              file=sys.stderr)
        return 2

    # Set both explicitly: PyTorch defaults to TF32 convolutions but float32 matmuls, cutrain
    # to float32 for both unless --tf32, and the comparison must do the same arithmetic.
    tf32_in_effect = set_tf32(args.tf32)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if args.train_limit is not None:
        x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]
    # Preload everything on the device (the data set is small).
    x_train, y_train = x_train.to(device), y_train.to(device)
    x_test, y_test = x_test.to(device), y_test.to(device)

    model = build_model(args.model).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)

    print(f"# torch {torch.__version__} device {device} threads {torch.get_num_threads()} "
          f"model {args.model} lr {args.lr} batch_size {args.batch_size} tf32 {tf32_in_effect} "
          f"train {x_train.shape[0]} test {x_test.shape[0]}", flush=True)

    train_model = model
    if args.compile:
        if not hasattr(torch, "compile"):
            print(f"error: --compile: torch.compile is not available in torch "
                  f"{torch.__version__} (needs torch >= 2.0)", file=sys.stderr)
            return 3
        try:
            train_model = torch.compile(model)
            # Trigger compilation now (forward + backward) so a failure is
            # reported up front; parameters are restored afterwards.
            state = {k: v.clone() for k, v in model.state_dict().items()}
            out = train_model(x_train[:args.batch_size])
            F.cross_entropy(out, y_train[:args.batch_size]).backward()
            model.zero_grad(set_to_none=True)
            model.load_state_dict(state)
            sync(device)
        except Exception as e:  # noqa: BLE001 - report any compile failure
            print(f"error: --compile: torch.compile failed: {type(e).__name__}: {e}",
                  file=sys.stderr)
            return 3
        print("# torch.compile enabled (compilation time excluded from epoch timings)",
              flush=True)

    drop_last = False
    if args.cuda_graph:
        if x_train.shape[0] < args.batch_size:
            print("error: --cuda-graph needs at least one full batch", file=sys.stderr)
            return 2
        step = GraphStep(model, opt, x_train, y_train, args.batch_size)
        drop_last = True
        dropped = x_train.shape[0] % args.batch_size
        print(f"# cuda graph: whole training step captured; last partial batch dropped "
              f"({dropped} examples/epoch, {x_train.shape[0] - dropped} trained); "
              f"capture time excluded from epoch timings", flush=True)
    else:
        step = EagerStep(train_model, opt, device)

    for w in range(1, args.warmup_epochs + 1):
        sync(device)
        t0 = time.perf_counter()
        seen, _, _ = train_epoch(step, x_train, y_train, args.batch_size, gen, drop_last)
        sync(device)
        secs = time.perf_counter() - t0
        print(f"# warm-up epoch {w}: examples_per_sec {seen / secs:.1f} (not in the median)",
              flush=True)

    rates, test_acc = [], float("nan")
    for epoch in range(1, args.epochs + 1):
        if lr_of_epoch is not None:
            for group in opt.param_groups:
                group["lr"] = lr_of_epoch[epoch - 1]
        sync(device)
        t0 = time.perf_counter()
        seen, loss_sum, correct = train_epoch(step, x_train, y_train, args.batch_size,
                                              gen, drop_last)
        sync(device)
        secs = time.perf_counter() - t0
        train_loss = loss_sum.item() / seen
        train_acc = correct.item() / seen
        test_acc = evaluate(train_model, x_test, y_test, args.eval_batch_size)
        rate = seen / secs
        rates.append(rate)
        print(f"epoch {epoch} train_loss {train_loss:.4f} train_acc {train_acc:.4f} "
              f"test_acc {test_acc:.4f} examples_per_sec {rate:.1f} seconds {secs:.3f} "
              f"lr {opt.param_groups[0]['lr']:.6g}", flush=True)

    summary = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "device": args.device,
        "device_name": torch.cuda.get_device_name(device) if args.device == "cuda"
        else "cpu",
        "threads": torch.get_num_threads(),
        "tf32": args.tf32,
        "tf32_in_effect": tf32_in_effect,
        "warmup_epochs": args.warmup_epochs,
        "model": args.model,
        "epochs": args.epochs,
        "final_test_acc": round(test_acc, 6),
        "median_examples_per_sec": round(statistics.median(rates), 1),
        "batch_size": args.batch_size,
        "lr": args.lr,
        "lr_schedule": args.lr_schedule,
        "seed": args.seed,
        "train_examples": x_train.shape[0],
        "cuda_graph": args.cuda_graph,
        "compile": args.compile,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""PyTorch peer of `cutrain bench optimizer`: time one Adam step.

Times torch.optim.Adam with fused=True (one multi-tensor CUDA kernel, PyTorch >= 2.0),
foreach=True and the per-tensor loop on the same parameter layout as cutrain's benchmark:
either N parameters in T tensors, or LeNet's ten tensors (61,706 parameters). Step time is the
median over --iterations samples measured with CUDA events after --warmup steps, each sample
averaging enough back-to-back steps to last 200 us and following one untimed step (as
cutrain does); effective
bandwidth counts 28 bytes per parameter (param, grad, m, v read; param, m, v written), as
cutrain does. A device-to-device copy of the same bytes in the same run is the roofline.

Output: one line per variant, then a JSON summary line starting with {"peer": "pytorch".
Example:
  python3 bench/peers/adam_torch.py --params 100000000
  python3 bench/peers/adam_torch.py --lenet
"""

import argparse
import json
import statistics
import sys

import torch

LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
                (10, 84), (10,)]
BYTES_PER_PARAM = 28


SAMPLE_US = 200.0
MAX_REPS = 1024


def timed(fn, warmup, iterations):
    """Median and min microseconds per call. Each sample times `reps` back-to-back calls between
    one pair of CUDA events, reps doubled until a sample lasts SAMPLE_US (as cutrain's
    time_us does): one event pair around a few-microsecond step would time launch latency."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)

    def sample(reps):
        # One untimed call first keeps the GPU busy while Python records `start` and queues
        # the timed calls (as cutrain's time_us does): otherwise the host's time before the first
        # launch counts as the step's.
        fn()
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1000.0 / reps  # microseconds per call

    reps = 1
    while reps < MAX_REPS and sample(reps) * reps < SAMPLE_US:
        reps *= 2
    times = [sample(reps) for _ in range(iterations)]
    return statistics.median(times), min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--params", type=int, default=100_000_000)
    p.add_argument("--tensors", type=int, default=1)
    p.add_argument("--lenet", action="store_true")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("# adam_torch.py: no CUDA device; nothing to time", file=sys.stderr)
        return 3
    dev = torch.device("cuda")
    if a.lenet:
        shapes = LENET_SHAPES
    else:
        per = a.params // a.tensors
        shapes = [(per,)] * (a.tensors - 1) + [(a.params - per * (a.tensors - 1),)]
    g = torch.Generator(device=dev).manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s, device=dev, generator=g)) for s in shapes]
    for q in params:
        q.grad = torch.randn(q.shape, device=dev, generator=g)
    n = sum(q.numel() for q in params)
    results = {}
    for variant, kwargs in (("fused", {"fused": True}), ("foreach", {"foreach": True}),
                            ("loop", {"foreach": False})):
        try:
            opt = torch.optim.Adam(params, lr=1e-3, **kwargs)
        except (TypeError, RuntimeError) as e:  # fused needs torch >= 2.0
            print(f"# {variant}: not available ({e})")
            continue
        med, best = timed(opt.step, a.warmup, a.iterations)
        gbps = BYTES_PER_PARAM * n / (med * 1e-6) / 1e9
        results[variant] = {"median_us": med, "min_us": best, "gbps": gbps}
        print(f"adam {variant:8s} params {n} in {len(shapes)} tensors: median {med:.2f} us "
              f"(min {best:.2f}), {gbps:.1f} GB/s")
    src = torch.empty(BYTES_PER_PARAM * n // 8, dtype=torch.float32, device=dev)
    dst = torch.empty_like(src)  # read + write of 14 B/param each = 28 B/param moved
    med, _ = timed(lambda: dst.copy_(src), a.warmup, a.iterations)
    copy_gbps = 2 * src.numel() * 4 / (med * 1e-6) / 1e9
    print(f"device copy of the same bytes: {copy_gbps:.1f} GB/s")
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__,
                      "device": torch.cuda.get_device_name(), "params": n,
                      "tensors": len(shapes), "copy_gbps": copy_gbps, "adam": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

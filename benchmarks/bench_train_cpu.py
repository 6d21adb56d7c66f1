"""Training speed on the CPU: the runner's training epoch against a plain PyTorch loop over the same tensors.

Both train ``simple_cnn`` (the KMNIST-paper recipe: Adadelta, batch 128) on the same 28x28 images for the same
number of steps, each side in its own fresh copy of the model:

* plain: the whole split already a normalised float32 tensor in memory; each step indexes a shuffled batch, runs
  forward, backward and the optimiser step; nothing else;
* runner: the model as the runner places it (``on_device``: channels-last on a CPU) and
  ``charbench.bench.train.train_epoch`` over a ``DeviceLoader`` of the prepared shards (uint8 resident, batches by
  index, float and normalisation per batch), with its loss and accuracy sums and time checks.

Also measured, and reported as what each gave (not as targets): each side in the other memory format, so the
runner's own overhead shows like for like, and ``torch.compile`` of the model (its compile time excluded). Sides
are interleaved and repeated, each repeat starting at another side; medians count.
Target (issue 17): runner >= 0.95 of the plain loop.

    python benchmarks/bench_train_cpu.py [--images 12800] [--repeats 8] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report

from charbench.bench.distributed import DistContext
from charbench.bench.suites import Recipe
from charbench.bench.train import Amp, build_optimizer, on_device, train_epoch
from charbench.data import DeviceLoader, stats_from_histogram
from charbench.models import create_model
from charbench.shards.arrays import write_arrays
from charbench.shards.reader import open_dataset

RECIPE = Recipe(batch_size=128)


def dataset(folder: Path, count: int) -> Path:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, count).astype(np.int32)
    images = np.where(rng.random((count, 28, 28)) < 0.15, 255, 0).astype(np.uint8)
    return write_arrays(folder, {"train": (images, labels)}, [str(k) for k in range(10)])


def fresh(channels_last: bool = False, compiled: bool = False):
    torch.manual_seed(0)
    model = on_device(create_model("simple_cnn", 10, 28), torch.device("cpu"))  # channels-last, as the runner
    if not channels_last:
        model = model.to(memory_format=torch.contiguous_format)
    opt, sched = build_optimizer(RECIPE, model, 100, 1)
    return (torch.compile(model) if compiled else model), opt, sched


def plain_rate(x: torch.Tensor, y: torch.Tensor, steps: int, channels_last: bool = False) -> float:
    model, opt, _ = fresh(channels_last)
    model.train()
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    for s in range(steps):
        idx = perm[s * 128 : (s + 1) * 128]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * 128 / (time.perf_counter() - start)


class _Limited:
    """The first ``steps`` batches of a DeviceLoader, as train_epoch iterates them."""

    def __init__(self, loader: DeviceLoader, steps: int):
        self.loader, self.steps = loader, steps

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if i >= self.steps:
                return
            yield batch

    def __len__(self) -> int:
        return self.steps


def runner_rate(loader: DeviceLoader, steps: int, channels_last: bool = True, compiled: bool = False) -> float:
    model, opt, sched = fresh(channels_last, compiled)
    if compiled:  # compile outside the timing: one step first
        train_epoch(model, _Limited(loader, 1), opt, sched, Amp(torch.device("cpu"), False), RECIPE, DistContext())
    res = train_epoch(model, _Limited(loader, steps), opt, sched, Amp(torch.device("cpu"), False),
                      RECIPE, DistContext())
    return res.count / res.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile (slow to compile)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        reader = open_dataset(dataset(Path(tmp) / "d", args.images), "train")
        loader = DeviceLoader(reader, 128, shuffle=True, drop_last=True)
        mean, std = stats_from_histogram(loader.pixel_histogram())
        loader.set_normalization(mean, std)
        x = ((torch.from_numpy(reader.images()).float() / 255 - mean) / std).unsqueeze(1).contiguous()
        y = torch.from_numpy(reader.labels.astype(np.int64))
        sides = {"plain loop": lambda: plain_rate(x, y, args.steps),
                 "runner": lambda: runner_rate(loader, args.steps),
                 "plain loop, channels-last": lambda: plain_rate(x, y, args.steps, channels_last=True),
                 "runner, contiguous (NCHW)": lambda: runner_rate(loader, args.steps, channels_last=False)}
        if args.compile:
            sides["runner, torch.compile"] = lambda: runner_rate(loader, args.steps, compiled=True)
        rates: dict[str, list[float]] = {k: [] for k in sides}
        for name, run in sides.items():  # warm-up: allocator, kernels
            run()
        order = list(sides)
        for r in range(args.repeats):  # each repeat starts at another side: drift on a shared machine hits all alike
            for name in order[r % len(order):] + order[: r % len(order)]:
                rates[name].append(sides[name]())
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"simple_cnn, 28x28, batch 128, {args.threads} threads, {args.steps} steps, median of {args.repeats}; "
          f"{machine()}")
    for name, rate in median.items():
        print(f"  {name:<28} {rate:8,.0f} images/s")
    ratio = median["runner"] / median["plain loop"]
    report("runner_train_vs_plain_loop_cpu", ratio, "plain PyTorch loop over in-memory tensors, same model and batch",
           ">= 0.95", rates={k: round(v) for k, v in median.items()})
    return 0 if ratio >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())

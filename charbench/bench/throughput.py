"""Throughput measures taken inside a run: the loader on its own, and pipeline efficiency.

Pipeline efficiency = training images/s when batches come from the real loader, divided by training images/s on
random tensors of the same shape already resident on the device. Both are timed on a copy of the model with a
fresh optimiser of the recipe's kind, alternating so that drift in machine load (other processes, clock changes)
hits both sides alike. 1.0 means the loader costs nothing; the issue asks for >= 0.95.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from charbench.bench.suites import Recipe
from charbench.bench.train import Amp, build_optimizer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cycle(loader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for epoch in itertools.count(10_000):  # epochs no training run uses, so the permutations differ from it
        loader.set_epoch(epoch)
        yield from loader


def loader_images_per_second(loader, max_batches: int = 200, max_seconds: float = 5.0) -> float:
    """Images/s of the loader alone (batches produced on the device and nothing else), over up to one epoch."""
    device = loader.device
    loader.set_epoch(10_000)
    _sync(device)  # training kernels still queued on the GPU would otherwise be timed as the loader's
    count, t0 = 0, time.perf_counter()
    for i, (x, _) in enumerate(loader):
        count += len(x)
        if i + 1 >= max_batches or time.perf_counter() - t0 > max_seconds:
            break
    _sync(device)
    return count / max(time.perf_counter() - t0, 1e-9)


def _block_seconds(model, opt, amp: Amp, batches, steps: int) -> tuple[int, float]:
    """Fetch a batch and train one step on it, ``steps`` times; (images, wall seconds), device synchronised."""
    count, t0 = 0, time.perf_counter()
    for _ in range(steps):
        x, y = next(batches)
        with amp.autocast():
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        amp.scaler.scale(loss).backward()
        amp.scaler.step(opt)
        amp.scaler.update()
        count += len(y)
    _sync(amp.device)
    return count, time.perf_counter() - t0


def _fake_batch(loader, num_classes: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images and labels already on the device, shaped like one of ``loader``'s batches."""
    s, b = loader.image_size, min(loader.batch_size, max(1, loader.num_samples))
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn((b, 1, s, s), device=device, generator=gen)
    return x, torch.randint(0, num_classes, (b,), device=device, generator=gen)


def _low_quantile(values: list[float]) -> float:
    return float(np.percentile(values, 25))


def pipeline_efficiency(model: nn.Module, loader, recipe: Recipe, num_classes: int, amp: Amp, steps: int = 20,
                        max_seconds: float | None = None) -> dict:
    """Train ``steps`` steps on real batches and as many on device-resident random tensors; compare images/s.

    Real and synthetic blocks alternate in ABBA order, so slow drift cancels within each pair, and the efficiency
    is the ratio of the 25th-percentile block times: load from other processes on a shared machine only ever adds
    time, so a low quantile estimates each side's own cost, while the loader's cost is in every real block. A block
    is one step on CPU; on a GPU it is a quarter of the steps, synchronised only at its end, so that the loader's
    work can overlap the GPU's as it does in training. The images/s figures are plain means.

    Args:
        model: the model (copied; the original is not touched).
        loader: a DeviceLoader over the training split (full batches: build it with ``drop_last``).
        recipe: gives the optimiser kind.
        num_classes: range of the random labels.
        amp: mixed-precision settings of the run.
        steps: steps per side, after one warm-up step each.
        max_seconds: stop early once this long has passed (after at least one block a side), so that the probe of
            a large model on a CPU stays a small part of its job.
    """
    device = amp.device
    model = copy.deepcopy(model).train()
    opt, _ = build_optimizer(recipe, model, 1, 1)
    sources = {"real": _cycle(loader), "fake": itertools.repeat(_fake_batch(loader, num_classes, device))}
    for batches in sources.values():  # warm-up: allocator, kernels, first shard
        _block_seconds(model, opt, amp, batches, 1)  # (not counted against max_seconds: at least one block a side)
    block = 1 if device.type == "cpu" else max(1, steps // 4)
    times: dict[str, list[float]] = {"real": [], "fake": []}
    images = {"real": 0, "fake": 0}
    start = time.perf_counter()
    for i in range(max(1, steps // block)):
        if i and max_seconds is not None and time.perf_counter() - start > max_seconds:
            break
        for name in ("real", "fake") if i % 2 == 0 else ("fake", "real"):
            n, sec = _block_seconds(model, opt, amp, sources[name], block)
            times[name].append(sec)
            images[name] += n
    real_ips = images["real"] / max(sum(times["real"]), 1e-9)
    fake_ips = images["fake"] / max(sum(times["fake"]), 1e-9)
    return {
        "pipeline_train_images_per_s": real_ips,
        "synthetic_train_images_per_s": fake_ips,
        "pipeline_efficiency": _low_quantile(times["fake"]) / max(_low_quantile(times["real"]), 1e-12),
        "pipeline_steps": len(times["real"]),
    }

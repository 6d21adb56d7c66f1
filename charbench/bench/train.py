"""The training and evaluation loops: seeding, optimiser and schedule from a Recipe, one epoch, one evaluation."""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from charbench.bench.distributed import DistContext, max_value
from charbench.bench.metrics import confusion_matrix
from charbench.bench.suites import Recipe


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices); pick deterministic cuDNN kernels (cheap for these models)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def on_device(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` on ``device``; a convolutional model on a CPU in channels-last (NHWC) memory format, for which
    oneDNN has faster kernels (training steps at batch 128 on 2 cores: 1.0x simple_cnn, as
    benchmarks/bench_train_cpu.py reports, 1.05x kuzushiji_cnn, 1.3-1.4x omniglot_cnn and the ResNets). Results are
    the same model, computed in another order."""
    model = model.to(device)
    if device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model = model.to(memory_format=torch.channels_last)
    return model


def build_optimizer(recipe: Recipe, model: nn.Module, steps_per_epoch: int, epochs: int):
    """(optimizer, per-step LR scheduler or None) for ``recipe``."""
    params, lr, wd = model.parameters(), recipe.lr, recipe.weight_decay
    if recipe.optimizer == "adadelta":
        # rho and eps of Keras's Adadelta, which trained the KMNIST paper's baseline
        opt = torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-7, weight_decay=wd)
    elif recipe.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=recipe.momentum, nesterov=recipe.nesterov and recipe.momentum > 0,
                              weight_decay=wd)
    elif recipe.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    total = max(1, steps_per_epoch * epochs)
    if recipe.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total) / total)))
    elif recipe.schedule == "step":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.1 ** ((t >= 0.5 * total) + (t >= 0.75 * total)))
    elif recipe.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total + 1)
    else:
        sched = None
    return opt, sched


@dataclass
class Amp:
    """Mixed precision: bfloat16 autocast where supported (no loss scaling needed), else float16 with a scaler."""

    device: torch.device
    enabled: bool

    def __post_init__(self):
        self.dtype = torch.bfloat16
        if self.enabled and self.device.type == "cuda" and not torch.cuda.is_bf16_supported():
            self.dtype = torch.float16
        use_scaler = self.enabled and self.dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

    def autocast(self):
        """The autocast context (a no-op when mixed precision is off)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class EpochResult:
    """Sums over one training epoch on this rank; ``seconds`` is wall time including waiting for the loader."""

    loss_sum: float
    correct: int
    count: int
    seconds: float
    stopped: bool


def train_epoch(
    model: nn.Module,
    loader,
    opt,
    sched,
    amp: Amp,
    recipe: Recipe,
    ctx: DistContext,
    time_left: float | None = None,
    on_batch: Callable[[int, float], None] | None = None,
) -> EpochResult:
    """One pass over ``loader``; stops early (on every rank together) once ``time_left`` seconds are used."""
    model.train()
    device = amp.device
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    count, stopped, t0 = 0, False, time.perf_counter()
    for step, (x, y) in enumerate(loader):
        with amp.autocast():
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
        opt.zero_grad(set_to_none=True)
        amp.scaler.scale(loss).backward()
        amp.scaler.step(opt)
        amp.scaler.update()
        if sched is not None:
            sched.step()
        loss_sum += loss.detach().double() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        count += len(y)
        if on_batch is not None:
            on_batch(len(y), time.perf_counter() - t0)
        # the stop decision is collective (one rank stopping alone would hang DDP's next all-reduce), so under
        # DDP it is taken every 10 steps to keep the extra all-reduce cheap
        check = time_left is not None and (not ctx.enabled or step % 10 == 9)
        if check and max_value(ctx, float(time.perf_counter() - t0 > time_left)):
            stopped = True
            break
    _sync(device)
    return EpochResult(float(loss_sum), int(correct), count, time.perf_counter() - t0, stopped)


@dataclass
class EvalResult:
    """Confusion matrix and sums of one evaluation on this rank."""

    confusion: np.ndarray
    loss_sum: float
    top5_correct: int
    seconds: float


@torch.no_grad()
def evaluate(model: nn.Module, loader, num_classes: int, amp: Amp) -> EvalResult:
    """Predictions over ``loader``: the confusion matrix (numpy), summed loss and top-5 hits."""
    model.eval()
    device = amp.device
    k = min(5, num_classes)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    top5 = torch.zeros((), dtype=torch.int64, device=device)
    preds, targets = [], []
    t0 = time.perf_counter()
    for x, y in loader:
        with amp.autocast():
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
        top5 += (logits.topk(k, dim=1).indices == y[:, None]).any(1).sum()
        preds.append(logits.argmax(1))
        targets.append(y)
    _sync(device)
    seconds = time.perf_counter() - t0
    pred = torch.cat(preds).cpu().numpy() if preds else np.zeros(0, np.int64)
    true = torch.cat(targets).cpu().numpy() if targets else np.zeros(0, np.int64)
    return EvalResult(confusion_matrix(true, pred, num_classes), float(loss_sum), int(top5), seconds)

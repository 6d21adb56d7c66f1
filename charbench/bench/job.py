"""One (dataset, model, seed) job: load, train with per-epoch evaluation, pick the best epoch, test, measure.

Model selection and time to target: each epoch is evaluated on "val" when the dataset has one, and the weights
of the best val epoch are tested at the end. Without "val" the per-epoch evaluation uses "test" (for the
learning curve and the time to target only) and the last epoch's weights are tested, so the test split never
picks the model. Time to target is the cumulative training wall time (evaluation excluded) at the end of the
first epoch whose per-epoch evaluation reaches the target's metric; "target met" compares the final test
figure with the target.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from charbench.bench.distributed import DistContext, max_value, sum_array
from charbench.bench.metrics import summarize
from charbench.bench.monitor import ResourceMonitor
from charbench.bench.plan import Job
from charbench.bench.throughput import loader_images_per_second, pipeline_efficiency
from charbench.bench.train import Amp, EvalResult, build_optimizer, evaluate, on_device, seed_everything, train_epoch
from charbench.data import Augment, DeviceLoader, stats_from_histogram
from charbench.models import count_parameters, create_model
from charbench.shards.index import read_index
from charbench.shards.reader import open_dataset


@dataclass
class JobOptions:
    """Run-wide settings that apply to every job."""

    device: torch.device
    amp: bool = False
    epochs: int | None = None
    max_train_seconds: float | None = None
    throughput_steps: int = 20
    throughput_seconds: float = 20.0  # the probe after training stops after this long (at least a step a side)
    throughput: bool = True  # False: no probe (report fields None, with the reason)
    memory_budget: int | None = None


def _loaders(job: Job, opts: JobOptions, ctx: DistContext) -> tuple[dict, dict]:
    """Readers and DeviceLoaders of every split the dataset has; training batches are normalised by train stats."""
    index_splits = read_index(job.path)["splits"]
    readers = {s: open_dataset(job.path, s) for s in ("train", "val", "test") if s in index_splits}
    common = {
        "device": opts.device,
        "rank": ctx.rank,
        "world_size": ctx.world_size,
        "seed": job.seed,
        "memory_budget": opts.memory_budget,
    }
    b = job.recipe.batch_size
    train = readers["train"]
    loaders = {
        "train": DeviceLoader(
            train,
            b,
            shuffle=True,
            drop_last=len(train) // ctx.world_size > b,
            even=True,
            augment=Augment(**dict(job.recipe.augmentation)) if job.recipe.augment else None,
            **common,
        )
    }
    for split in ("val", "test"):
        if split in readers:
            loaders[split] = DeviceLoader(readers[split], max(b, 256), **common)
    mean, std = _input_scale(job.recipe.inputs, ctx, loaders["train"])
    for loader in loaders.values():
        loader.set_normalization(mean, std)
    return readers, loaders


def _input_scale(inputs: str, ctx: DistContext, train: DeviceLoader) -> tuple[float, float]:
    """(mean, std) that pixels in [0, 1] are normalised with: the train split's own, or fixed (Recipe.inputs)."""
    if inputs == "unit":
        return 0.0, 1.0
    if inputs == "half":
        return 0.5, 0.5
    return stats_from_histogram(sum_array(ctx, train.pixel_histogram()))


def _reduce_eval(ctx: DistContext, res: EvalResult) -> EvalResult:
    sums = sum_array(ctx, np.array([res.loss_sum, res.top5_correct], dtype=np.float64))
    return EvalResult(sum_array(ctx, res.confusion), float(sums[0]), int(sums[1]), max_value(ctx, res.seconds))


def _metric(summary: dict, name: str) -> float:
    return float(summary[name])


class _Trainer:
    """State of one job while it trains: model, optimiser, history, best epoch, target timing."""

    def __init__(self, job: Job, opts: JobOptions, ctx: DistContext, progress):
        self.job, self.opts, self.ctx, self.progress = job, opts, ctx, progress
        self.readers, self.loaders = _loaders(job, opts, ctx)
        train = self.readers["train"]
        self.num_classes, self.class_names = train.num_classes, train.class_names
        self.model = on_device(create_model(job.model, self.num_classes, train.image_size), opts.device)
        self.net = self.model
        if ctx.enabled:
            ids = [opts.device.index] if opts.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.epochs = opts.epochs or job.recipe.epochs
        self.opt, self.sched = build_optimizer(job.recipe, self.net, len(self.loaders["train"]), self.epochs)
        self.amp = Amp(opts.device, opts.amp)
        self.select_split = "val" if "val" in self.loaders else "test"
        self.history: list[dict] = []
        self.best: tuple[float, int, dict] | None = None
        self.train_seconds, self.images_seen, self.stopped, self.time_to_target = 0.0, 0, None, None

    def _eval(self, split: str) -> tuple[dict, EvalResult]:
        res = _reduce_eval(self.ctx, evaluate(self.model, self.loaders[split], self.num_classes, self.amp))
        return summarize(res.confusion, self.class_names, res.loss_sum, res.top5_correct), res

    def fit(self) -> None:
        """Train every epoch (or until the time limit), evaluating after each."""
        loader = self.loaders["train"]
        bar = self.progress
        epoch_task = bar.add_task(f"{self.job.key}", total=self.epochs, rate="")
        batch_task = bar.add_task("  batches", total=len(loader), rate="")
        for epoch in range(self.epochs):
            loader.set_epoch(epoch)
            bar.update(batch_task, completed=0, total=len(loader))
            left = None
            if self.opts.max_train_seconds is not None:
                left = self.opts.max_train_seconds - self.train_seconds
                if left <= 0 and self.history:
                    self.stopped = f"time limit of {self.opts.max_train_seconds:g} s reached after epoch {epoch}"
                    break

            on_batch = self._batch_callback(bar, batch_task)
            res = train_epoch(
                self.net, loader, self.opt, self.sched, self.amp, self.job.recipe, self.ctx, left, on_batch
            )
            self._after_epoch(epoch, res)
            bar.update(epoch_task, advance=1, rate=f"{self.history[-1]['eval_top1']:.4f} {self.select_split} acc")
            if res.stopped:
                self.stopped = f"time limit of {self.opts.max_train_seconds:g} s reached in epoch {epoch + 1}"
                break

    def _batch_callback(self, bar, task):
        seen = 0

        def on_batch(n: int, seconds: float) -> None:
            nonlocal seen
            seen += n
            bar.update(task, advance=1, rate=f"{seen * self.ctx.world_size / max(seconds, 1e-9):,.0f} img/s")

        return on_batch

    def _after_epoch(self, epoch: int, res) -> None:
        sums = sum_array(self.ctx, np.array([res.loss_sum, res.correct, res.count], dtype=np.float64))
        seconds = max_value(self.ctx, res.seconds)
        self.train_seconds += seconds
        self.images_seen += int(sums[2])
        summary, _ = self._eval(self.select_split)
        self.history.append(
            {
                "epoch": epoch + 1,
                "train_loss": sums[0] / max(sums[2], 1),
                "train_acc": sums[1] / max(sums[2], 1),
                "eval_split": self.select_split,
                "eval_loss": summary["loss"],
                "eval_top1": summary["top1"],
                "eval_balanced_accuracy": summary["balanced_accuracy"],
                "train_seconds": seconds,
                "cumulative_train_seconds": self.train_seconds,
                "lr": self.opt.param_groups[0]["lr"],
            }
        )
        target = self.job.target
        if target and self.time_to_target is None and _metric(summary, target.metric) * 100 >= target.value:
            self.time_to_target = (self.train_seconds, epoch + 1)
        score = summary["top1"]
        if self.select_split == "test" or self.best is None or score > self.best[0]:
            self.best = (score, epoch + 1, copy.deepcopy(self.model.state_dict()))

    def finish(self) -> dict:
        """Test the selected weights and assemble the job's result (without throughput)."""
        self.model.load_state_dict(self.best[2])
        test_split = "test" if "test" in self.loaders else "val"
        test, res = self._eval(test_split)
        target = self.job.target
        target_info = None
        if target is not None:
            target_info = {
                **target.as_dict(),
                "met": _metric(test, target.metric) * 100 >= target.value,
                "protocol_difference": target.protocol_difference(self.job.split),
                "time_to_target_s": self.time_to_target[0] if self.time_to_target else None,
                "reached_epoch": self.time_to_target[1] if self.time_to_target else None,
            }
        return {
            "test_split": test_split,
            "test": test,
            "_confusion": res.confusion,
            "history": self.history,
            "best_epoch": self.best[1],
            "epochs_planned": self.epochs,
            "epochs_run": len(self.history),
            "stopped_early": self.stopped,
            "target": target_info,
            "train_seconds": self.train_seconds,
            "train_images_per_s": self.images_seen / max(self.train_seconds, 1e-9),
            "eval_images_per_s": int(res.confusion.sum()) / max(res.seconds, 1e-9),
        }


def _data_info(readers: dict, loaders: dict, trainer: _Trainer) -> dict:
    first = readers["train"]
    return {
        "dataset_hash": first.dataset_hash,
        "split_hashes": {s: r.content_hash for s, r in readers.items()},
        "shards": {
            s: [
                {k: sh[k] for k in ("file", "count", "sha256", "content_sha256")}
                for sh in r.index["splits"][s]["shards"]
            ]
            for s, r in readers.items()
        },
        "counts": {s: len(r) for s, r in readers.items()},
        "num_classes": trainer.num_classes,
        "image_size": first.image_size,
        "normalization": {"mean": loaders["train"].mean, "std": loaders["train"].std},
        "loader_mode": loaders["train"].mode,
    }


def _probe(trainer: _Trainer, job: Job, opts: JobOptions) -> dict:
    """Loader images/s and pipeline efficiency, measured after training within ``opts.throughput_seconds``."""
    if not opts.throughput:
        return {"loader_images_per_s": None, "pipeline_train_images_per_s": None,
                "synthetic_train_images_per_s": None, "pipeline_efficiency": None, "pipeline_steps": 0,
                "throughput_skipped": "--no-throughput"}
    budget = opts.throughput_seconds
    if opts.max_train_seconds is not None:
        budget = min(budget, opts.max_train_seconds)
    loader = trainer.loaders["train"]
    return {"loader_images_per_s": loader_images_per_second(loader, max_seconds=min(5.0, budget / 4)),
            **pipeline_efficiency(trainer.model, loader, job.recipe, trainer.num_classes, trainer.amp,
                                  steps=opts.throughput_steps, max_seconds=budget)}


def run_job(job: Job, opts: JobOptions, ctx: DistContext, progress) -> dict:
    """Train and test one job; every rank calls it, every rank gets the same (reduced) result.

    Args:
        job: what to train.
        opts: run-wide settings.
        ctx: distributed context.
        progress: a rich Progress (or the silent stand-in) for live per-epoch and per-batch output.
    """
    seed_everything(job.seed)
    trainer = _Trainer(job, opts, ctx, progress)
    with ResourceMonitor(opts.device) as monitor:
        trainer.fit()
    result = trainer.finish()
    result["resources"] = monitor.summary()
    result["throughput"] = {
        "train_images_per_s": result.pop("train_images_per_s"),
        "eval_images_per_s": result.pop("eval_images_per_s"),
        **_probe(trainer, job, opts),
    }
    result["data"] = _data_info(trainer.readers, trainer.loaders, trainer)
    result["model_info"] = {"num_params": count_parameters(trainer.model), "recipe": dataclasses.asdict(job.recipe)}
    return result

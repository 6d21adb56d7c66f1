"""Run a suite: expand it over the prepared datasets, train every job, and write the run folder (rank 0 only).

Works unchanged under ``torchrun --nproc_per_node N``: the process group is taken from the environment, every
rank runs every job on its own part of the data, and rank 0 writes ``runs/<timestamp>-<suite>/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

from charbench.bench import report as reporting
from charbench.bench.distributed import DistContext, barrier, init_from_env, resolve_device, shutdown
from charbench.bench.env import capture
from charbench.bench.job import JobOptions, run_job
from charbench.bench.plan import Job, Skipped, expand
from charbench.bench.suites import SUITES
from charbench.errors import CharbenchError, OptionError
from charbench.paths import prepared_root
from charbench.progress import console, progress_bar
from charbench.shards.reader import list_datasets

log = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """Everything ``charbench run`` takes; None means the suite's own value."""

    suite: str
    data_root: Path | None = None
    out_root: Path = Path("runs")
    device: str = "auto"
    epochs: int | None = None
    amp: bool = False
    seeds: list[int] | None = None
    datasets: str | None = None
    models: str | None = None
    max_train_seconds: float | None = None
    threads: int | None = None
    memory_budget: int | None = None
    progress: bool = True
    plots: bool = True
    throughput: bool = True  # the loader / pipeline-efficiency probe after each job's training
    throughput_seconds: float = 20.0


@dataclass
class RunOutcome:
    """What a run produced: the run folder (None on ranks other than 0), job results and skipped datasets."""

    run_dir: Path | None
    results: list[dict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _job_options(config: RunConfig, suite, device: torch.device) -> JobOptions:
    if config.epochs is not None and config.epochs < 1:
        raise OptionError(f"--epochs must be at least 1, got {config.epochs}")
    limit = config.max_train_seconds if config.max_train_seconds is not None else suite.max_train_seconds
    return JobOptions(
        device=device,
        amp=config.amp,
        epochs=config.epochs,
        max_train_seconds=limit,
        throughput_steps=suite.throughput_steps,
        throughput_seconds=config.throughput_seconds,
        throughput=config.throughput,
        memory_budget=config.memory_budget,
    )


def _run_one(job: Job, opts: JobOptions, ctx: DistContext, bar) -> dict:
    head = {"key": job.key, "dataset": job.dataset, "model": job.model, "seed": job.seed,
            "experiment": job.experiment, "protocol": job.protocol}
    try:
        return {**head, "status": "ok", **run_job(job, opts, ctx, bar)}
    except CharbenchError as exc:
        # one unusable dataset or model must not cost the rest of the suite
        log.error("%s failed: %s", job.key, exc)
        return {**head, "status": "failed", "error": str(exc)}


def run_suite(config: RunConfig) -> RunOutcome:
    """Run ``config.suite`` and write its report; returns the run folder and the per-job results.

    Raises:
        UnknownNameError: unknown suite or model name.
        OptionError: an option out of range, or ``--device cuda`` without CUDA.
    """
    suite = SUITES.get(config.suite)
    data_root = Path(config.data_root) if config.data_root else prepared_root(None)
    if config.threads:
        torch.set_num_threads(config.threads)
    ctx = init_from_env(config.device)
    try:
        device = resolve_device(config.device, ctx)
        jobs, skipped = expand(suite, data_root, datasets=config.datasets, models=config.models, seeds=config.seeds)
        if not jobs:
            raise OptionError(_no_jobs_message(suite.name, data_root, config, skipped))
        opts = _job_options(config, suite, device)
        started = datetime.now(UTC)
        for s in skipped:
            if ctx.is_main:
                console.print(f"[yellow]skipped[/] {s.dataset}: {s.reason}; prepare it with: {s.command}")
        with progress_bar(config.progress and ctx.is_main) as bar:
            results = [_run_one(job, opts, ctx, bar) for job in jobs]
        run_dir = None
        if ctx.is_main:
            meta = {
                "suite": suite.as_dict(),
                "data_root": str(data_root),
                "started_utc": started.isoformat(),
                "finished_utc": datetime.now(UTC).isoformat(),
                "environment": capture(device, ctx.world_size),
                "options": _options_dict(config, opts),
            }
            run_dir = reporting.write_run(
                Path(config.out_root), suite.name, started, meta, results, skipped, plots=config.plots
            )
        barrier(ctx)
        return RunOutcome(run_dir, results, skipped)
    finally:
        shutdown(ctx)


def _no_jobs_message(suite: str, data_root: Path, config: RunConfig, skipped) -> str:
    prepared = ", ".join(p.name for p in list_datasets(data_root)) or "none"
    filters = " ".join(f"--{k} {v!r}" for k, v in (("datasets", config.datasets), ("models", config.models)) if v)
    hint = f"; prepare one with: {skipped[0].command}" if skipped else ""
    return f"suite {suite!r}{' with ' + filters if filters else ''} has no job to run: prepared under {data_root}: {prepared}{hint}"


def _options_dict(config: RunConfig, opts: JobOptions) -> dict:
    return {
        "device": str(opts.device),
        "amp": opts.amp,
        "epochs": config.epochs,
        "seeds": config.seeds,
        "datasets": config.datasets,
        "models": config.models,
        "max_train_seconds": opts.max_train_seconds,
        "threads": torch.get_num_threads(),
        "memory_budget": config.memory_budget,
        "throughput": opts.throughput,
        "throughput_seconds": opts.throughput_seconds,
    }

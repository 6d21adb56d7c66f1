"""torchrun support: process-group setup from the environment, device choice per rank, and metric reduction.

Under ``torchrun --nproc_per_node N`` every rank runs the same suite; each reads its own part of the shards (see
``DeviceLoader``), gradients are averaged by DistributedDataParallel, evaluation counts are summed with
``all_reduce``, and only rank 0 writes. Backend: NCCL on GPUs, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from charbench.errors import OptionError


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes."""
        return self.rank == 0


def resolve_device(spec: str, ctx: DistContext | None = None) -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` on a host without one is an error. Ranks get their GPU."""
    ctx = ctx or DistContext()
    if spec not in ("auto", "cpu", "cuda") and not spec.startswith("cuda:"):
        raise OptionError(f"--device must be auto, cpu or cuda[:N], got {spec!r}")
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise OptionError(
                f"--device {spec} asked for, but torch {torch.__version__} sees no CUDA device; use --device cpu"
            )
        if spec == "cuda":
            spec = f"cuda:{ctx.local_rank % torch.cuda.device_count()}"
    return torch.device(spec)


def init_from_env(device_spec: str) -> DistContext:
    """Join the process group torchrun describes in RANK / WORLD_SIZE / LOCAL_RANK; a no-op without them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_spec.startswith("cuda") or (device_spec == "auto" and torch.cuda.is_available())
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank=rank, world_size=world, local_rank=local, backend=backend)


def shutdown(ctx: DistContext) -> None:
    """Leave the process group (when this process joined one)."""
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def _comm_device(ctx: DistContext) -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if ctx.backend == "nccl" else torch.device("cpu")


def sum_array(ctx: DistContext, array: np.ndarray) -> np.ndarray:
    """Element-wise sum of ``array`` over all ranks (the array itself when not distributed)."""
    if not ctx.enabled:
        return np.asarray(array)
    dtype = torch.int64 if np.issubdtype(np.asarray(array).dtype, np.integer) else torch.float64
    t = torch.as_tensor(np.asarray(array), dtype=dtype).to(_comm_device(ctx))
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().numpy()


def max_value(ctx: DistContext, value: float) -> float:
    """The largest ``value`` over all ranks (wall times: a step is as slow as its slowest rank)."""
    if not ctx.enabled:
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=_comm_device(ctx))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def barrier(ctx: DistContext) -> None:
    """Wait for every rank."""
    if ctx.enabled:
        dist.barrier()

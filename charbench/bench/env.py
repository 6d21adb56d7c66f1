"""The environment a run happened in, so two labs can tell whether their numbers are comparable."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import h5py
import numpy as np
import torch

import charbench


def cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux, platform elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask where there is one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def driver_version() -> str | None:
    """The NVIDIA driver version through NVML, or None without nvidia-ml-py or a driver."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
            return version.decode() if isinstance(version, bytes) else str(version)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001  (NVML missing or failing means "unknown", never a failed run)
        return None


def capture(device: torch.device, world_size: int = 1) -> dict:
    """Versions, device and CPU names and thread counts of this process."""
    cuda = device.type == "cuda"
    return {
        "charbench": charbench.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "driver": driver_version() if cuda else None,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if cuda else cpu_name(),
        "cpu": cpu_name(),
        "cpu_count": cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "world_size": world_size,
    }

"""Resource sampling in a background thread: GPU utilisation and memory through NVML, CPU use, host memory.

nvidia-ml-py is imported lazily and is optional: without it, or without a GPU, the GPU fields are None and
``gpu_unavailable_reason`` says why; CPU utilisation is always reported.
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from typing import Self

import numpy as np
import torch

log = logging.getLogger(__name__)


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _system_cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies over all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def _nvml_handle(device: torch.device):
    """(pynvml module, handle) for ``device``, or (None, reason)."""
    if device.type != "cuda":
        return None, f"no GPU in use (device {device})"
    try:
        import pynvml
    except ImportError:
        return None, "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001  (any NVML failure only disables GPU sampling)
        return None, f"NVML unavailable: {exc}"
    uuid = getattr(torch.cuda.get_device_properties(device), "uuid", None)
    try:
        # NVML numbers GPUs physically; CUDA_VISIBLE_DEVICES may renumber them, the UUID does not change
        return pynvml, pynvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
    except Exception as exc:  # noqa: BLE001
        log.debug("NVML lookup by UUID failed (%s); trying the CUDA index", exc)
    try:
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)
    except Exception as exc:  # noqa: BLE001
        return None, f"NVML has no handle for {device}: {exc}"


def _stats(values: list[float]) -> dict:
    if not values:
        return {"mean": None, "p50": None, "p95": None}
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95))}


class ResourceMonitor:
    """Context manager sampling every ``interval`` seconds while the body runs; ``summary()`` afterwards.

    Args:
        device: the device training runs on (GPU sampling only for CUDA devices).
        interval: seconds between samples.
    """

    def __init__(self, device: torch.device, interval: float = 0.5):
        self.device, self.interval = torch.device(device), interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpu_util: list[float] = []
        self._gpu_mem: list[float] = []
        self._cpu: list[float] = []
        self._system_cpu: list[float] = []
        self._rss: list[int] = []
        self._nvml, self._handle = None, None
        self.gpu_reason: str | None = None

    def __enter__(self) -> Self:
        self._nvml, handle_or_reason = _nvml_handle(self.device)
        if self._nvml is None:
            self.gpu_reason = handle_or_reason
        else:
            self._handle = handle_or_reason
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self._t0, self._cpu0, self._sys0 = time.perf_counter(), os.times(), _system_cpu_times()
        self._thread = threading.Thread(target=self._loop, name="charbench-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(time.perf_counter(), os.times(), _system_cpu_times())
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as err:  # noqa: BLE001  (shutting NVML down must never fail a run)
                log.debug("nvmlShutdown failed: %s", err)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(time.perf_counter(), os.times(), _system_cpu_times())

    def _sample(self, now: float, cpu, sys_times) -> None:
        wall = now - self._t0
        if wall > 0:
            used = (cpu.user + cpu.system) - (self._cpu0.user + self._cpu0.system)
            self._cpu.append(100.0 * used / wall)
        if sys_times and self._sys0 and sys_times[1] > self._sys0[1]:
            self._system_cpu.append(100.0 * (sys_times[0] - self._sys0[0]) / (sys_times[1] - self._sys0[1]))
        self._t0, self._cpu0, self._sys0 = now, cpu, sys_times
        rss = _rss_bytes()
        if rss is not None:
            self._rss.append(rss)
        if self._handle is not None:
            try:
                self._gpu_util.append(float(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu))
                self._gpu_mem.append(float(self._nvml.nvmlDeviceGetMemoryInfo(self._handle).used))
            except Exception as exc:  # noqa: BLE001
                self.gpu_reason, self._handle = f"NVML sampling failed: {exc}", None

    def summary(self) -> dict:
        """GPU utilisation (mean, p50, p95 %) and peak memory, CPU utilisation, peak host memory."""
        gpu = _stats(self._gpu_util)
        mib = 1024.0 * 1024.0
        torch_peak = torch.cuda.max_memory_allocated(self.device) / mib if self.device.type == "cuda" else None
        cpu = _stats(self._cpu)
        return {
            "gpu_util_mean": gpu["mean"],
            "gpu_util_p50": gpu["p50"],
            "gpu_util_p95": gpu["p95"],
            "gpu_mem_peak_mib": max(self._gpu_mem) / mib if self._gpu_mem else None,
            "gpu_torch_peak_mib": torch_peak,
            "gpu_unavailable_reason": self.gpu_reason if not self._gpu_util else None,
            "gpu_samples": len(self._gpu_util),
            # 100 = one core busy; several threads can take it above 100
            "process_cpu_percent_mean": cpu["mean"],
            "process_cpu_percent_p50": cpu["p50"],
            "process_cpu_percent_p95": cpu["p95"],
            "system_cpu_percent_mean": _stats(self._system_cpu)["mean"],
            "host_mem_peak_mib": max(self._rss) / mib if self._rss else None,
            "process_max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "samples": len(self._cpu),
        }

"""The CUDA paths: the loader's device-resident and streamed modes, the runner with and without mixed precision,
and the GPU figures of the report. Skipped on a machine without CUDA (CI has none); run them on a GPU host with
``pytest tests/bench/test_cuda.py``."""

import argparse

import numpy as np
import pytest
import torch
from synthetic_shards import epoch_batches, write_dataset

from charbench.bench.report import load_report
from charbench.cli import run as run_cli
from charbench.data import DeviceLoader

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("budget", [None, 1], ids=["device", "stream"])
def test_cuda_batches_equal_cpu_batches(reader, budget):
    gpu = DeviceLoader(reader, 32, device="cuda", shuffle=True, seed=5, memory_budget=budget, mean=0.2, std=0.5)
    cpu = DeviceLoader(reader, 32, device="cpu", shuffle=True, seed=5, memory_budget=budget, mean=0.2, std=0.5)
    assert gpu.mode == ("stream" if budget else "device")
    for epoch in (0, 1):
        gx, gy = epoch_batches(gpu, epoch)
        cx, cy = epoch_batches(cpu, epoch)
        assert gx.device.type == "cuda" and gy.device.type == "cuda"
        assert torch.equal(gy.cpu(), cy)
        torch.testing.assert_close(gx.cpu(), cx, rtol=0, atol=1e-6)


@pytest.mark.parametrize("amp", [False, True], ids=["fp32", "amp"])
def test_runner_on_cuda_reports_gpu_figures(tmp_path, amp):
    write_dataset(tmp_path / "prepared", "mnist", counts={"train": 512, "val": 64, "test": 128}, num_classes=5)
    parser = argparse.ArgumentParser()
    run_cli.register(parser.add_subparsers())
    argv = ["run", "--suite", "quick", "--datasets", "mnist", "--models", "simple_cnn", "--epochs", "3",
            "--data", str(tmp_path / "prepared"), "--out", str(tmp_path / "runs"), "--device", "cuda", "--quiet",
            "--no-plots"] + (["--amp"] if amp else [])
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    rep = load_report(run_dir)
    env = rep["environment"]
    assert rep["options"]["amp"] is amp
    assert env["cuda"] and env["device_name"] == torch.cuda.get_device_name(0) and env["cudnn"]
    (res,) = rep["results"]
    assert res["test"]["top1"] > 0.9 and res["test"]["count"] == 128
    resources = res["resources"]
    assert resources["gpu_torch_peak_mib"] > 0
    try:
        import pynvml  # noqa: F401
    except ImportError:
        assert "pynvml" in resources["gpu_unavailable_reason"]
    else:
        assert env["driver"] and resources["gpu_samples"] > 0
        assert 0 <= resources["gpu_util_mean"] <= 100 and resources["gpu_mem_peak_mib"] > 0
    thr = res["throughput"]
    assert thr["train_images_per_s"] > 0 and thr["eval_images_per_s"] > 0 and 0 < thr["pipeline_efficiency"]
    assert np.isfinite(res["history"][-1]["train_loss"])

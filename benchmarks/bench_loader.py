"""Loader throughput against named baselines, and pipeline efficiency of kuzushiji_cnn at 32x32 (CPU).

Three loaders deliver the same shuffled, normalised float32 batches [B, 1, 28, 28] of one split:

* charbench: ``DeviceLoader`` over the prepared shards (uint8 resident, batches by index, float + normalise per
  batch);
* torchvision-style: the usual ``Dataset.__getitem__`` returning one PIL image -> to-tensor -> normalise, through a
  ``torch.utils.data.DataLoader`` (written here, so torchvision is not needed; it repeats what
  ``torchvision.datasets.MNIST`` with ``ToTensor()`` + ``Normalize()`` does per item), with 0 and 2 workers;
* in-memory tensor ceiling: the whole split already normalised as one float32 tensor, batches by ``index_select``
  with the same per-epoch permutation: the fastest a shuffling loader can be without touching the data otherwise.

Goals (issue 7): charbench >= 30x the torchvision-style loader; >= 0.7x the ceiling at batch 256; and pipeline
efficiency (train images/s with the real loader / with device-resident random tensors) >= 0.95 for kuzushiji_cnn
at 32x32 on CPU. Measurements are interleaved and repeated; the median of the repeats is reported.

    python benchmarks/bench_loader.py [--data PREPARED_DATASET_DIR] [--count 60000] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report
from PIL import Image

from charbench.bench.suites import Recipe
from charbench.bench.throughput import pipeline_efficiency
from charbench.bench.train import Amp
from charbench.data import DeviceLoader, stats_from_histogram
from charbench.models import create_model
from charbench.shards.arrays import write_arrays
from charbench.shards.reader import open_dataset


def write_synthetic(folder: Path, count: int, size: int, num_classes: int = 10, shard_size: int = 50_000) -> Path:
    """A prepared dataset with one "train" split of random strokes (content does not matter for speed)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, num_classes, count).astype(np.int32)
    images = np.where(rng.random((count, size, size)) < 0.15, 255, 0).astype(np.uint8)
    classes = [str(k) for k in range(num_classes)]
    return write_arrays(folder, {"train": (images, labels)}, classes, shard_size=shard_size)


class PerItemDataset(torch.utils.data.Dataset):
    """torchvision-style: one PIL image per item, to-tensor, normalise (as MNIST + ToTensor + Normalize)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        img = Image.fromarray(self.images[i], mode="L")
        # torchvision.transforms.functional.to_tensor for a mode-L image, then normalize
        x = torch.from_numpy(np.array(img, np.uint8, copy=True)).view(img.size[1], img.size[0], 1)
        x = x.permute(2, 0, 1).contiguous().to(torch.float32).div(255)
        return (x - self.mean) / self.std, int(self.labels[i])


class TensorCeiling:
    """The split pre-normalised in one float32 tensor; shuffled batches by index_select."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float, batch_size: int):
        self.x = ((torch.from_numpy(images).float() / 255 - mean) / std).unsqueeze(1).contiguous()
        self.y = torch.from_numpy(labels.astype(np.int64))
        self.batch_size, self.epoch = batch_size, 0

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.epoch)
        self.epoch += 1
        perm = torch.randperm(len(self.y), generator=gen)
        threads = torch.get_num_threads()
        for s in range(0, len(perm), self.batch_size):
            # the same one-thread batch making as DeviceLoader, so only the data path is compared
            torch.set_num_threads(1)
            idx = perm[s : s + self.batch_size]
            batch = self.x.index_select(0, idx), self.y.index_select(0, idx)
            torch.set_num_threads(threads)
            yield batch


def images_per_second(loader, max_images: int) -> float:
    """Consume batches (touching each, so nothing is skipped lazily) until ``max_images`` or the epoch ends."""
    count, t0, check = 0, time.perf_counter(), 0.0
    for x, y in loader:
        check += float(x[0, 0, 0, 0]) + int(y[0])
        count += len(x)
        if count >= max_images:
            break
    return count / (time.perf_counter() - t0)


def compare_loaders(folder: Path, batch: int, repeats: int, pil_images: int) -> dict[str, float]:
    """Median images/s of each loader over ``repeats`` interleaved trials."""
    reader = open_dataset(folder, "train")
    images, labels = reader.images(), reader.labels
    fast = DeviceLoader(reader, batch, shuffle=True)
    mean, std = stats_from_histogram(fast.pixel_histogram())
    fast.set_normalization(mean, std)
    ds = PerItemDataset(images, labels, mean, std)
    loaders = {
        "charbench": fast,
        "ceiling": TensorCeiling(images, labels, mean, std, batch),
        "torchvision-style, 0 workers": torch.utils.data.DataLoader(ds, batch, shuffle=True),
        "torchvision-style, 2 workers": torch.utils.data.DataLoader(
            ds, batch, shuffle=True, num_workers=2, persistent_workers=True
        ),
    }
    # two phases: worker processes of the per-item loaders keep prefetching after a trial stops, which would
    # steal CPU from whichever loader is timed next; within a phase the loaders are interleaved
    rates: dict[str, list[float]] = {name: [] for name in loaders}
    for phase in (("charbench", "ceiling"), tuple(n for n in loaders if "torchvision" in n)):
        limit = len(labels) if "charbench" in phase else pil_images
        for name in phase:  # warm-up: page the data in, start the workers
            images_per_second(loaders[name], min(limit, 4 * batch))
        for r in range(repeats):
            fast.set_epoch(r)
            for name in phase:
                rates[name].append(images_per_second(loaders[name], limit))
    return {name: statistics.median(v) for name, v in rates.items()}


def kuzushiji_efficiency(folder: Path, batch: int, steps: int) -> dict:
    """Pipeline efficiency of kuzushiji_cnn on the 32x32 split, as the runner measures it."""
    reader = open_dataset(folder, "train")
    loader = DeviceLoader(reader, batch, shuffle=True, drop_last=True)
    loader.set_normalization(*stats_from_histogram(loader.pixel_histogram()))
    model = create_model("kuzushiji_cnn", reader.num_classes, reader.image_size)
    recipe = Recipe(optimizer="adam", lr=1e-3, batch_size=batch)
    return pipeline_efficiency(model, loader, recipe, reader.num_classes, Amp(torch.device("cpu"), False), steps=steps)


def main() -> int:
    """Run every measure, print it, and exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a prepared 28x28 dataset folder (default: synthetic)")
    parser.add_argument("--count", type=int, default=60_000, help="synthetic images (default 60000, like MNIST)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pil-images", type=int, default=20_000, help="images per torchvision-style trial")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=16, help="training steps per side for pipeline efficiency")
    parser.add_argument("--efficiency-batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data28 = args.data or write_synthetic(Path(tmp) / "synthetic28", args.count, 28)
        rates = compare_loaders(data28, args.batch, args.repeats, args.pil_images)
        print(f"loaders, 28x28, batch {args.batch}, {args.threads} torch threads, median of {args.repeats}:")
        for name, rate in rates.items():
            print(f"  {name:<30} {rate:>14,.0f} images/s")
        best_pil = max(v for k, v in rates.items() if "torchvision" in k)
        vs_pil, vs_ceiling = rates["charbench"] / best_pil, rates["charbench"] / rates["ceiling"]
        print(f"  charbench / best torchvision-style = {vs_pil:,.1f}x (goal >= 30x)")
        print(f"  charbench / in-memory ceiling      = {vs_ceiling:.2f}x (goal >= 0.7x)")
        data32 = write_synthetic(Path(tmp) / "synthetic32", 8_192, 32, num_classes=49)
        eff = kuzushiji_efficiency(data32, args.efficiency_batch, args.steps)
        print(
            f"kuzushiji_cnn 32x32 CPU, batch {args.efficiency_batch}, {eff['pipeline_steps']} steps per side: "
            f"real loader {eff['pipeline_train_images_per_s']:,.1f} img/s, device-resident random tensors "
            f"{eff['synthetic_train_images_per_s']:,.1f} img/s, pipeline efficiency "
            f"{eff['pipeline_efficiency']:.3f} (goal >= 0.95)"
        )
    report("loader_vs_torchvision_style", vs_pil, "per-item PIL DataLoader (best of 0/2 workers)", ">= 30x")
    report("loader_vs_in_memory_ceiling", vs_ceiling, "indexing a normalised tensor already in memory", ">= 0.7x")
    report("pipeline_efficiency_kuzushiji_cnn_32", eff["pipeline_efficiency"], "device-resident random tensors",
           ">= 0.95x")
    ok = vs_pil >= 30 and vs_ceiling >= 0.7 and eff["pipeline_efficiency"] >= 0.95
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

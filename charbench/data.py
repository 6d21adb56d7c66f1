"""Torch side of the shard format: a per-item ``ShardDataset`` and the fast, device-side ``DeviceLoader``.

``ShardDataset`` is for code that wants a classic ``torch.utils.data.DataLoader``; it keeps the HDF5 files of the
build it opened open, and worker processes re-open them (an h5py handle does not survive a fork), refusing a
dataset replaced since (see ``charbench.shards.reader``).

``DeviceLoader`` is what the benchmark runner trains with. A split (or this rank's part of it) is read once as
uint8 into one tensor: on the device when it fits the memory budget, else in pinned host memory (CUDA) or plain
host memory (CPU). Each epoch a seeded permutation picks batches by ``index_select``; conversion to float,
normalisation and the optional random affine augmentation run on the device, batch-wise. A split larger than the
budget is streamed shard by shard (shard order and order within a shard shuffled, the next shard read in a
background thread). No per-sample Python code runs on this path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from charbench.errors import OptionError
from charbench.shards.reader import SplitReader, open_dataset

__all__ = ["Augment", "DeviceLoader", "ShardDataset", "stats_from_histogram"]


class ShardDataset(Dataset):
    """Map-style dataset over one split: item ``i`` is ``(uint8 tensor [1, S, S], label)`` (or transformed).

    It reads through a :class:`SplitReader`, whose shard handles are opened once per process (DataLoader workers
    re-open them, refusing a dataset replaced since it was opened).

    Args:
        dataset_dir: folder of a prepared dataset (holding index.json).
        split: "train", "val" or "test".
        transform: optional callable applied to the uint8 image tensor.
    """

    def __init__(self, dataset_dir: str | Path, split: str = "train", transform=None):
        # a 16 MiB chunk cache keeps sequential reads from decompressing each chunk once per image
        self.reader = open_dataset(dataset_dir, split, chunk_cache_bytes=16 << 20)
        self.labels = np.asarray(self.reader.labels, dtype=np.int64)
        self.class_names = self.reader.class_names
        self.image_size = self.reader.image_size
        self.transform = transform
        self._starts = np.concatenate([[0], np.cumsum(self.reader.shard_counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} images")
        i %= len(self)
        shard = int(np.searchsorted(self._starts, i, side="right") - 1)
        image = torch.from_numpy(self.reader.shard_images(shard)[i - self._starts[shard]]).unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])


@dataclass(frozen=True)
class Augment:
    """Small random affine transform applied per image on the device (degrees, fractions of the image size), then
    an optional Gaussian blur of random strength."""

    degrees: float = 10.0
    translate: float = 0.1
    scale_low: float = 0.9
    scale_high: float = 1.1
    shear: float = 5.0
    blur: float = 0.0  # largest blur sigma in pixels (0: none); each image draws its own in [0, blur]


def stats_from_histogram(hist: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation in [0, 1] units from a 256-bin pixel-value histogram."""
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total <= 0:
        return 0.0, 1.0
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = float((hist * values).sum() / total)
    var = float((hist * (values - mean) ** 2).sum() / total)
    return mean, max(math.sqrt(var), 1e-6)


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def _memory_budgets(device: torch.device) -> tuple[int, int]:
    """(device bytes, host bytes) a resident split may take: 40% of free GPU memory, 25% of host RAM."""
    host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * 0.4), host
    return 0, host


class DeviceLoader:
    """Batches of ``(float [B, 1, S, S], int64 [B])`` on ``device`` from one split, without per-sample Python.

    The split (or this rank's part of it) is held resident (:class:`_Resident`: on the device, in pinned host memory
    or in host memory) when it fits the memory budget, else streamed shard by shard (:class:`_Streamed`); both give
    the same batches' worth of images per epoch and the same meaning to every option.

    Args:
        reader: the split, from ``open_dataset``.
        batch_size: images per batch.
        device: where batches are delivered ("cpu", "cuda", "cuda:1", ...).
        shuffle: a new seeded permutation every epoch (see ``set_epoch``).
        drop_last: drop the last incomplete batch.
        seed: base seed; epoch and rank are mixed in.
        mean: normalisation mean in [0, 1] pixel units (set later with ``set_normalization``).
        std: normalisation standard deviation in [0, 1] pixel units.
        augment: random affine augmentation applied on the device, or None.
        memory_budget: bytes a resident copy may take; larger splits are streamed. Default: 40% of free GPU memory
            on CUDA (falling back to pinned host memory), 25% of host RAM on CPU.
        rank: this process's rank; it reads only its part (every ``world_size``-th image, or whole shards when
            streaming and there are at least as many shards as ranks).
        world_size: number of processes sharing the split.
        even: give every rank the same number of samples per epoch (training under DDP needs equal batch counts):
            a rank with fewer images repeats some of its own, as ``DistributedSampler`` pads, whatever the mode.
    """

    def __init__(
        self,
        reader: SplitReader,
        batch_size: int,
        *,
        device: str | torch.device = "cpu",
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        mean: float = 0.0,
        std: float = 1.0,
        augment: Augment | None = None,
        memory_budget: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        even: bool = False,
    ):
        if batch_size < 1:
            raise OptionError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise OptionError(f"rank {rank} is outside world_size {world_size}")
        self.reader, self.batch_size, self.device = reader, batch_size, torch.device(device)
        self.shuffle, self.drop_last, self.seed, self.augment = shuffle, drop_last, seed, augment
        self.rank, self.world_size, self.epoch = rank, world_size, 0
        self.image_size = reader.image_size
        self.set_normalization(mean, std)
        self.mode = self._choose_mode(memory_budget)
        parts = Parts(reader, world_size, by_shard=self.mode == "stream")
        count = parts.count(rank)
        # every rank as many samples as the largest part when even; else this rank's own count
        self.num_samples = max(parts.count(r) for r in range(world_size)) if even else count
        strategy = _Streamed if self.mode == "stream" else _Resident
        self._batches = strategy(parts.units(rank), count, self)

    def _choose_mode(self, memory_budget: int | None) -> str:
        device_budget, host_budget = _memory_budgets(self.device)
        if memory_budget is not None:
            device_budget = host_budget = memory_budget
        nbytes = -(-len(self.reader) // self.world_size) * self.image_size**2
        if self.device.type == "cuda" and nbytes <= device_budget:
            return "device"
        if nbytes <= host_budget:
            return "pinned" if self.device.type == "cuda" else "host"
        return "stream"

    # -- public -----------------------------------------------------------------------------------------------

    def set_normalization(self, mean: float, std: float) -> None:
        """Batches become ``(pixel / 255 - mean) / std``."""
        if std <= 0:
            raise OptionError(f"std must be positive, got {std}")
        self.mean, self.std = float(mean), float(std)
        self._shift = torch.tensor(-self.mean / self.std, dtype=torch.float32, device=self.device)

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation (and augmentation draws) of ``epoch``."""
        self.epoch = int(epoch)

    def pixel_histogram(self) -> np.ndarray:
        """256-bin histogram (float64) of this rank's pixel values, for normalisation statistics."""
        return self._batches.histogram()

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batches = self._batches.epoch(self._rng_seed())
        aug_gen = None
        if self.augment is not None:
            aug_gen = torch.Generator(device=self.device).manual_seed(_seed(self.seed, self.epoch, self.rank, 1))
        for images, labels in batches:
            yield self._finish(images, aug_gen), labels

    def _rng_seed(self) -> int | None:
        """The seed of this epoch's shuffle, None without shuffling."""
        return _seed(self.seed, self.epoch, self.rank) if self.shuffle else None

    def cut(self, total: int) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` of each batch of an epoch of ``total`` samples (the last one dropped when short and
        ``drop_last``)."""
        for start in range(0, total, self.batch_size):
            stop = min(start + self.batch_size, total)
            if self.drop_last and stop - start < self.batch_size:
                return
            yield start, stop

    def _finish(self, images: torch.Tensor, aug_gen: torch.Generator | None) -> torch.Tensor:
        """uint8 [B, S, S] -> normalised float [B, 1, S, S], augmented first when asked."""
        if aug_gen is None and images.device.type == "cpu":
            return torch.from_numpy(_normalised_on_host(images.numpy(), 1.0 / (255.0 * self.std), -self.mean / self.std))
        x = images.unsqueeze(1)
        if aug_gen is None:
            # one fused pass: shift + scale * pixel, promoted from uint8 straight to float32
            return torch.add(self._shift, x, alpha=1.0 / (255.0 * self.std))
        x = _random_affine(torch.mul(x, 1.0 / 255.0), self.augment, aug_gen)
        return x.sub_(self.mean).mul_(1.0 / self.std)


class Parts:
    """How a split is shared between ranks: each rank reads units ``(shard, first row, step)``.

    Whole shards round-robin when streaming over at least as many shards as ranks (so each rank reads only its own
    files); otherwise every ``world_size``-th row of every shard, which keeps each rank's part class-mixed.
    """

    def __init__(self, reader: SplitReader, world_size: int, by_shard: bool):
        self.reader, self.world_size = reader, world_size
        self.by_shard = by_shard and len(reader.shard_paths) >= world_size

    def units(self, rank: int) -> list[tuple[int, int, int]]:
        num_shards = len(self.reader.shard_paths)
        if self.by_shard:
            return [(s, 0, 1) for s in range(rank, num_shards, self.world_size)]
        starts = np.concatenate([[0], np.cumsum(self.reader.shard_counts)])
        return [(s, int((rank - starts[s]) % self.world_size), self.world_size) for s in range(num_shards)]

    def count(self, rank: int) -> int:
        counts = self.reader.shard_counts
        return sum(max(0, -(-(counts[shard] - first) // step)) for shard, first, step in self.units(rank))


def read_unit(reader: SplitReader, unit: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of one unit, in shard order."""
    shard, first, step = unit
    lo = int(sum(reader.shard_counts[:shard]))
    hi = lo + reader.shard_counts[shard]
    return reader.read(lo, hi)[first::step], np.asarray(reader.labels[lo:hi][first::step])


class _Resident:
    """This rank's part read once as uint8 (on the device, or in pinned or plain host memory); each epoch a
    permutation picks batches by ``index_select`` where the images are."""

    def __init__(self, units: list[tuple[int, int, int]], count: int, loader: DeviceLoader):
        self.loader, self.count = loader, count
        s, pin = loader.image_size, loader.mode == "pinned"
        images = torch.empty((count, s, s), dtype=torch.uint8, pin_memory=pin)
        labels = torch.empty(count, dtype=torch.int64)
        pos = 0
        for unit in units:
            x, y = read_unit(loader.reader, unit)
            images[pos : pos + len(x)] = torch.from_numpy(x)
            labels[pos : pos + len(y)] = torch.from_numpy(y.astype(np.int64))
            pos += len(x)
        self.index_device = loader.device if loader.mode == "device" else torch.device("cpu")
        self.images = images.to(self.index_device)
        self.labels = labels.to(loader.device)
        self.pinned = [torch.empty((loader.batch_size, s, s), dtype=torch.uint8, pin_memory=True)
                       for _ in range(2)] if pin else None
        self.slot, self.events = 0, [None, None]

    def histogram(self) -> np.ndarray:
        hist = torch.zeros(256, dtype=torch.float64, device=self.images.device)
        for start in range(0, len(self.images), 4096):  # chunks: an int64 copy of a whole split is 8x its size
            chunk = self.images[start : start + 4096].flatten().to(torch.int64)
            hist += torch.bincount(chunk, minlength=256).double()
        return hist.cpu().numpy()

    def epoch(self, seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        loader = self.loader
        if seed is None:
            order = torch.arange(self.count, device=self.index_device)
        else:  # drawn on the CPU whatever the device: CUDA's generator gives another order for the same seed
            order = torch.randperm(self.count, generator=torch.Generator().manual_seed(seed)).to(self.index_device)
        if loader.num_samples > len(order):  # pad with repeated samples so every rank runs as many batches
            order = order.repeat(-(-loader.num_samples // max(len(order), 1)))[: loader.num_samples]
        for start, stop in loader.cut(loader.num_samples):
            idx = order[start:stop]
            labels = self.labels.index_select(0, idx.to(loader.device, non_blocking=True))
            yield self._gather(idx), labels

    def _gather(self, idx: torch.Tensor) -> torch.Tensor:
        if self.pinned:
            return self._copy_pinned(idx)
        if self.images.device.type == "cpu":  # numpy's take: one thread, see _normalised_on_host
            return torch.from_numpy(np.take(self.images.numpy(), idx.numpy(), axis=0))
        return self.images.index_select(0, idx)

    def _copy_pinned(self, idx: torch.Tensor) -> torch.Tensor:
        # two pinned staging buffers: fill one while the previous asynchronous copy from the other may still run
        event = self.events[self.slot]
        if event is not None:
            event.synchronize()
        buf = self.pinned[self.slot][: len(idx)]
        torch.index_select(self.images, 0, idx, out=buf)
        out = buf.to(self.loader.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self.events[self.slot], self.slot = event, 1 - self.slot
        return out


class _Streamed:
    """This rank's part read shard by shard each epoch (shard order and the order within a shard shuffled, the next
    shard read in a background thread), for splits larger than the memory budget."""

    def __init__(self, units: list[tuple[int, int, int]], count: int, loader: DeviceLoader):
        self.units, self.count, self.loader = units, count, loader

    def histogram(self) -> np.ndarray:
        hist = np.zeros(256, dtype=np.float64)
        for unit in self.units:
            hist += np.bincount(read_unit(self.loader.reader, unit)[0].ravel(), minlength=256)
        return hist

    def _samples(self, seed: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The epoch's samples, a shard at a time, then (when the epoch asks for more than this part holds) its own
        first samples again, as the resident strategy pads."""
        rng = np.random.default_rng(seed) if seed is not None else None
        order = [self.units[i] for i in (rng.permutation(len(self.units)) if rng else range(len(self.units)))]
        pad = self.loader.num_samples - self.count
        head: list[tuple[np.ndarray, np.ndarray]] = []
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(read_unit, self.loader.reader, order[0]) if order else None
            for k in range(len(order)):
                x, y = future.result()
                future = pool.submit(read_unit, self.loader.reader, order[k + 1]) if k + 1 < len(order) else None
                if rng is not None:
                    p = rng.permutation(len(x))
                    x, y = x[p], y[p]
                if pad > 0 and sum(len(h[1]) for h in head) < pad:
                    head.append((x, y))
                yield x, y
        while pad > 0 and head:
            for x, y in head:
                take = min(pad, len(y))
                yield x[:take], y[:take]
                pad -= take
                if pad <= 0:
                    break

    def epoch(self, seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        loader = self.loader
        size = loader.batch_size
        carry_x = carry_y = None
        for x, y in self._samples(seed):
            if carry_x is not None:
                x, y = np.concatenate([carry_x, x]), np.concatenate([carry_y, y])
            full = len(x) // size * size
            if full:
                xt, yt = self._to_device(x[:full], y[:full])
                for start in range(0, full, size):
                    yield xt[start : start + size], yt[start : start + size]
            carry_x, carry_y = x[full:], y[full:]
        rest = len(carry_y) if carry_y is not None else 0
        if rest and not (loader.drop_last and rest < size):
            yield self._to_device(carry_x, carry_y)

    def _to_device(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))
        if self.loader.device.type == "cuda":
            xt = xt.pin_memory()
        return xt.to(self.loader.device, non_blocking=True), yt.to(self.loader.device, non_blocking=True)


def _normalised_on_host(images: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """``shift + scale * pixel`` as float32 [B, 1, S, S], on one thread (numpy). A batch is about a megabyte of
    memory traffic: torch's OpenMP threads gain nothing on it, their barriers cost more than the work on a busy
    host, and switching torch to one thread around it slowed the CPU training step after it by 10%."""
    out = np.empty((len(images), 1, *images.shape[1:]), dtype=np.float32)
    np.multiply(images[:, None], np.float32(scale), out=out)
    out += np.float32(shift)
    return out


def _random_affine(x: torch.Tensor, aug: Augment, gen: torch.Generator) -> torch.Tensor:
    """Per-image random rotation, scale, shear and translation via one ``affine_grid`` + ``grid_sample``."""
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, device=x.device, generator=gen) * (hi - lo) + lo

    angle = torch.deg2rad(uniform(-aug.degrees, aug.degrees))
    shear = torch.deg2rad(uniform(-aug.shear, aug.shear))
    scale = uniform(aug.scale_low, aug.scale_high)
    # grid_sample coordinates span [-1, 1], so a shift by a fraction f of the image is 2f
    tx, ty = uniform(-2 * aug.translate, 2 * aug.translate), uniform(-2 * aug.translate, 2 * aug.translate)
    cos, sin, tan = torch.cos(angle) / scale, torch.sin(angle) / scale, torch.tan(shear)
    # rotation @ shear, both scaled: [[c, c*t - s], [s, s*t + c]]
    theta = torch.stack([torch.stack([cos, cos * tan - sin, tx], 1), torch.stack([sin, sin * tan + cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # background is 0 before normalisation, so zero padding fills uncovered pixels with background
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return _random_blur(x, uniform(0.0, aug.blur)) if aug.blur > 0 else x


def _random_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each image of ``x`` [B, 1, S, S] blurred by a separable Gaussian of its own ``sigma`` (pixels)."""
    radius = max(1, math.ceil(3 * float(sigma.max())))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (offsets[None, :] / sigma.clamp_min(1e-3)[:, None]) ** 2)
    kernel = (kernel / kernel.sum(1, keepdim=True)).to(x.dtype)  # [B, K]; sigma ~ 0 leaves the image as it is
    b = x.shape[0]
    rows = F.conv2d(x.transpose(0, 1), kernel[:, None, None, :], padding=(0, radius), groups=b)
    return F.conv2d(rows, kernel[:, None, :, None], padding=(radius, 0), groups=b).transpose(0, 1)

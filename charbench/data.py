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

import contextlib
import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from charbench.errors import OptionError
from charbench.shards.reader import MAX_PINNED_SHARDS, SplitReader, open_dataset, open_shard

__all__ = ["Augment", "DeviceLoader", "ShardDataset", "stats_from_histogram"]


class ShardDataset(Dataset):
    """Map-style dataset over one split: item ``i`` is ``(uint8 tensor [1, S, S], label)`` (or transformed).

    Args:
        dataset_dir: folder of a prepared dataset (holding index.json).
        split: "train", "val" or "test".
        transform: optional callable applied to the uint8 image tensor.
    """

    def __init__(self, dataset_dir: str | Path, split: str = "train", transform=None):
        with open_dataset(dataset_dir, split) as reader:
            self.path, self.identity = reader.path, reader.identity
            self.shard_paths = list(reader.shard_paths)
            self.labels = np.asarray(reader.labels, dtype=np.int64)
            self.class_names = reader.class_names
            self.image_size = reader.image_size
            self.transform = transform
            self._starts = np.concatenate([[0], np.cumsum(reader.shard_counts)]).astype(np.int64)
            self._files: dict[int, tuple[h5py.File, h5py.Dataset]] = {}
            self._pid = os.getpid()
            if len(self.shard_paths) <= MAX_PINNED_SHARDS:  # this process reads the build it opened, even if replaced
                for shard in range(len(self.shard_paths)):
                    self._images(shard)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} images")
        i %= len(self)
        shard = int(np.searchsorted(self._starts, i, side="right") - 1)
        image = torch.from_numpy(self._images(shard)[i - self._starts[shard]]).unsqueeze(0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])

    def _images(self, shard: int) -> h5py.Dataset:
        """The ``/images`` dataset of ``shard`` (kept: looking it up by name costs more than reading one image)."""
        if self._pid != os.getpid():  # forked: the parent's handles are not usable here
            self._files, self._pid = {}, os.getpid()
        if shard not in self._files:
            # a 16 MiB chunk cache keeps sequential reads from decompressing each chunk once per image
            f = open_shard(self.shard_paths[shard], self.path, self.identity, rdcc_nbytes=16 << 20)
            self._files[shard] = (f, f["images"])
        return self._files[shard][1]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_files"] = {}
        return state


@dataclass(frozen=True)
class Augment:
    """Small random affine transform applied per image on the device (degrees, fractions of the image size)."""

    degrees: float = 10.0
    translate: float = 0.1
    scale: tuple[float, float] = (0.9, 1.1)
    shear: float = 5.0


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
            resident parts are padded with repeated samples, streamed parts cut to the smallest rank's count.
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
        self.rank, self.world_size, self.even, self.epoch = rank, world_size, even, 0
        self.image_size = reader.image_size
        self.set_normalization(mean, std)
        self.mode = self._choose_mode(memory_budget)
        self._units = self._units_for(rank)
        self._local_count = self._count(self._units)
        self.num_samples = self._epoch_count()
        self._slot, self._events = 0, [None, None]
        if self.mode != "stream":
            self._load_resident()

    # -- planning ---------------------------------------------------------------------------------------------

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

    def _units_for(self, rank: int) -> list[tuple[int, int, int]]:
        """(shard, first row, step) pieces ``rank`` reads: whole shards round-robin when streaming over at least
        as many shards as ranks, else every ``world_size``-th row (which keeps each rank's part class-mixed)."""
        num_shards = len(self.reader.shard_paths)
        if self.mode == "stream" and num_shards >= self.world_size:
            return [(s, 0, 1) for s in range(rank, num_shards, self.world_size)]
        starts = np.concatenate([[0], np.cumsum(self.reader.shard_counts)])
        return [(s, int((rank - starts[s]) % self.world_size), self.world_size) for s in range(num_shards)]

    def _count(self, units: list[tuple[int, int, int]]) -> int:
        counts = self.reader.shard_counts
        return sum(max(0, -(-(counts[shard] - first) // step)) for shard, first, step in units)

    def _epoch_count(self) -> int:
        if not self.even or self.world_size == 1:
            return self._local_count
        counts = [self._count(self._units_for(r)) for r in range(self.world_size)]
        # resident parts are padded up to the largest; streamed parts are cut to the smallest
        return min(counts) if self.mode == "stream" else max(counts)

    def _read_unit(self, unit: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        shard, first, step = unit
        lo = int(sum(self.reader.shard_counts[:shard]))
        hi = lo + self.reader.shard_counts[shard]
        return self.reader.read(lo, hi)[first::step], np.asarray(self.reader.labels[lo:hi][first::step])

    def _load_resident(self) -> None:
        s, n = self.image_size, self._local_count
        pin = self.mode == "pinned"
        images = torch.empty((n, s, s), dtype=torch.uint8, pin_memory=pin)
        labels = torch.empty(n, dtype=torch.int64)
        pos = 0
        for unit in self._units:
            x, y = self._read_unit(unit)
            images[pos : pos + len(x)] = torch.from_numpy(x)
            labels[pos : pos + len(y)] = torch.from_numpy(y.astype(np.int64))
            pos += len(x)
        self._index_device = self.device if self.mode == "device" else torch.device("cpu")
        self._images = images.to(self._index_device)
        self._labels = labels.to(self.device)
        if pin:
            self._pinned = [torch.empty((self.batch_size, s, s), dtype=torch.uint8, pin_memory=True) for _ in range(2)]

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
        if self.mode == "stream":
            hist = np.zeros(256, dtype=np.float64)
            for unit in self._units:
                hist += np.bincount(self._read_unit(unit)[0].ravel(), minlength=256)
            return hist
        hist = torch.zeros(256, dtype=torch.float64, device=self._images.device)
        for start in range(0, len(self._images), 4096):  # chunks: an int64 copy of a whole split is 8x its size
            chunk = self._images[start : start + 4096].flatten().to(torch.int64)
            hist += torch.bincount(chunk, minlength=256).double()
        return hist.cpu().numpy()

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batches = self._stream_batches() if self.mode == "stream" else self._resident_batches()
        aug_gen = None
        if self.augment is not None:
            aug_gen = torch.Generator(device=self.device).manual_seed(_seed(self.seed, self.epoch, self.rank, 1))
        while True:
            with self._host_threads():
                try:
                    images, labels = next(batches)
                except StopIteration:
                    return
                x = self._finish(images, aug_gen)
            yield x, labels

    @contextlib.contextmanager
    def _host_threads(self):
        """One torch thread while a batch is made on the host, the caller's count again for training.

        A batch is about a megabyte of memory traffic: OpenMP threads gain nothing on it, and on a busy host their
        barriers cost more than the work (3.5x slower with 2 threads than with 1 on a loaded 2-core machine).
        """
        if self.mode == "device":
            yield
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    # -- batches ----------------------------------------------------------------------------------------------

    def _permutation(self, n: int, device: torch.device) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(n, device=device)
        # drawn on the CPU whatever the device: CUDA's generator gives another order for the same seed
        gen = torch.Generator().manual_seed(_seed(self.seed, self.epoch, self.rank))
        return torch.randperm(n, generator=gen).to(device)

    def _resident_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        perm = self._permutation(self._local_count, self._index_device)
        if self.num_samples > len(perm):  # pad so every rank runs the same number of batches
            perm = torch.cat([perm, perm[: self.num_samples - len(perm)]])
        for start in range(0, self.num_samples, self.batch_size):
            idx = perm[start : start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                break
            labels = self._labels.index_select(0, idx.to(self.device, non_blocking=True))
            if self.mode == "pinned":
                yield self._copy_pinned(idx), labels
            else:
                yield self._images.index_select(0, idx), labels

    def _copy_pinned(self, idx: torch.Tensor) -> torch.Tensor:
        # two pinned staging buffers: fill one while the previous asynchronous copy from the other may still run
        event = self._events[self._slot]
        if event is not None:
            event.synchronize()
        buf = self._pinned[self._slot][: len(idx)]
        torch.index_select(self._images, 0, idx, out=buf)
        out = buf.to(self.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self._events[self._slot], self._slot = event, 1 - self._slot
        return out

    def _stream_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        rng = np.random.default_rng(_seed(self.seed, self.epoch, self.rank))
        order = [
            self._units[i] for i in (rng.permutation(len(self._units)) if self.shuffle else range(len(self._units)))
        ]
        emitted, carry_x, carry_y = 0, None, None
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(self._read_unit, order[0]) if order else None
            for k in range(len(order)):
                x, y = future.result()
                future = pool.submit(self._read_unit, order[k + 1]) if k + 1 < len(order) else None
                if self.shuffle:
                    p = rng.permutation(len(x))
                    x, y = x[p], y[p]
                if carry_x is not None:
                    x, y = np.concatenate([carry_x, x]), np.concatenate([carry_y, y])
                full = len(x) // self.batch_size * self.batch_size
                xt, yt = self._shard_to_device(x[:full], y[:full])
                for start in range(0, full, self.batch_size):
                    if emitted >= self.num_samples:
                        return
                    take = min(self.batch_size, self.num_samples - emitted)
                    emitted += take
                    yield xt[start : start + take], yt[start : start + take]
                carry_x, carry_y = x[full:], y[full:]
        rest = min(len(carry_y) if carry_y is not None else 0, self.num_samples - emitted)
        if rest > 0 and not (self.drop_last and rest < self.batch_size):
            xt, yt = self._shard_to_device(carry_x[:rest], carry_y[:rest])
            yield xt, yt

    def _shard_to_device(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))
        if self.device.type == "cuda":
            xt = xt.pin_memory()
        return xt.to(self.device, non_blocking=True), yt.to(self.device, non_blocking=True)

    def _finish(self, images: torch.Tensor, aug_gen: torch.Generator | None) -> torch.Tensor:
        """uint8 [B, S, S] -> normalised float [B, 1, S, S], augmented first when asked."""
        x = images.unsqueeze(1)
        if aug_gen is None:
            # one fused pass: shift + scale * pixel, promoted from uint8 straight to float32
            return torch.add(self._shift, x, alpha=1.0 / (255.0 * self.std))
        x = _random_affine(torch.mul(x, 1.0 / 255.0), self.augment, aug_gen)
        return x.sub_(self.mean).mul_(1.0 / self.std)


def _random_affine(x: torch.Tensor, aug: Augment, gen: torch.Generator) -> torch.Tensor:
    """Per-image random rotation, scale, shear and translation via one ``affine_grid`` + ``grid_sample``."""
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, device=x.device, generator=gen) * (hi - lo) + lo

    angle = torch.deg2rad(uniform(-aug.degrees, aug.degrees))
    shear = torch.deg2rad(uniform(-aug.shear, aug.shear))
    scale = uniform(*aug.scale)
    # grid_sample coordinates span [-1, 1], so a shift by a fraction f of the image is 2f
    tx, ty = uniform(-2 * aug.translate, 2 * aug.translate), uniform(-2 * aug.translate, 2 * aug.translate)
    cos, sin, tan = torch.cos(angle) / scale, torch.sin(angle) / scale, torch.tan(shear)
    # rotation @ shear, both scaled: [[c, c*t - s], [s, s*t + c]]
    theta = torch.stack([torch.stack([cos, cos * tan - sin, tx], 1), torch.stack([sin, sin * tan + cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # background is 0 before normalisation, so zero padding fills uncovered pixels with background
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

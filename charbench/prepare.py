"""raw files -> converter -> split -> balance -> normalised shards + index.json, atomically.

``charbench prepare`` never imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import charbench
from charbench import splits as splitting
from charbench.balance import resample
from charbench.datasets import resolve
from charbench.datasets.base import Catalog, Converter
from charbench.errors import DatasetExistsError, OptionError, RawDataNotFoundError
from charbench.kernels import KERNELS_VERSION, parse_binarize
from charbench.manifest import load_manifest, raw_dir_for
from charbench.paths import prepared_root
from charbench.pool import available_cores, process_map, run_in_worker, warm_up
from charbench.progress import console, progress_bar
from charbench.render import Normalization, ShardTask, build_shard, build_shard_in_worker, dataset_polarity, init_worker
from charbench.shards import ledger
from charbench.shards.index import write_index
from charbench.shards.schema import INDEX_FILE, SPLITS, index_skeleton, num_shards, shard_attrs, shard_name
from charbench.shards.staging import StagedDataset
from charbench.sources import SourceHashes

log = logging.getLogger(__name__)


@dataclass
class PrepareConfig:
    """Every parameter of one prepare run; None means the dataset family's default."""

    name: str  # dataset: family, family/config or family-config (emnist/letters, emnist-letters)
    source: Path
    out: Path | None = None
    output_name: str | None = None
    size: int | None = None
    binarize: str | None = None
    center: str | None = None
    margin: int | None = None
    invert: str | None = None
    split: str | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    val_fraction: float = 0.1
    group_by: str | None = None
    seed: int = 0
    shard_size: int | None = None  # None: the converter's default_shard_size
    balance: int | None = None
    balance_mode: str = "both"
    balance_scope: str = "train"  # "all": balance before splitting, as some notebooks did (leaks copies; see _leaky)
    min_count: int | None = None  # None: 1 with --balance (no class without a training original), else 0
    workers: int | None = None
    shard_index: int = 0
    num_shards: int | None = None  # array-job mode: build only shards k with k % num_shards == shard_index
    resume: bool = False
    force: bool = False
    strict: bool = False
    progress: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """Which catalog rows (and which varied copies) each split holds, in order."""

    rows: dict[str, np.ndarray]
    variants: dict[str, np.ndarray]
    split: dict  # method, fractions, grouping and seed, as index.json records them
    balance: dict | None
    unseen: dict | None = None  # classes in val/test without a training image (see _unseen_classes)


def prepare(config: PrepareConfig) -> Path:
    """Run a whole prepare (or one array-job slice of it); returns the dataset folder (``<out>/<name>``)."""
    cls, dataset_config = resolve(config.name)
    if config.binarize:
        parse_binarize(config.binarize)  # a typo fails now, not after scanning a large source
    converter: Converter = cls(config.source, config=dataset_config, strict=config.strict, **config.options)
    converter.workers = config.workers or available_cores()
    if _pooled(converter):
        warm_up()  # the workers' server imports while the scan runs
    config = replace(config, shard_size=config.shard_size or cls.default_shard_size,
                     output_name=config.output_name or converter.dataset_name)
    try:
        with console.status(f"scanning {config.source}", spinner="dots") if config.progress else nullcontext():
            catalog = converter.scan()
        converter.skips.raise_if_strict(config.strict, config.source)
        if len(catalog) == 0:
            raise OptionError(f"no examples found for {config.name} in {config.source}")
        with ThreadPoolExecutor(1, thread_name_prefix="charbench-hash-sources") as hashing:
            # the raw files are listed and hashed for index.json while this process waits for the polarity vote and
            # plans; files that shards read whole are hashed by them (not in an array job: its slices' plans must
            # agree on the final record)
            sources = hashing.submit(SourceHashes, converter.source_files(), converter.source,
                                     converter.source_digests(), defer=not config.num_shards)
            norm = _normalization(config, catalog, converter)
            group_key = _group_key(config, converter, catalog)
            plan = _plan(config, converter, catalog, group_key)
            final = Path(config.out or prepared_root()) / config.output_name
            run = partial(_build, config, converter, catalog, norm, group_key, plan, sources)
            if config.num_shards:
                return _prepare_slice(config, final, run)
            with StagedDataset(final, force=config.force, resume=config.resume) as stage:
                run(stage.tmp, keep_other=False)
                index = ledger.assemble(stage.tmp)
                index["sources"] = sources.result().record()
                write_index(stage.tmp, index)
                ledger.clear(stage.tmp)
                path = stage.commit()
        _summary(config, index, path)
        return path
    finally:
        converter.close()


def _build(config, converter, catalog, norm, group_key, plan, sources: Future[SourceHashes], folder: Path,
           keep_other: bool) -> None:
    """Record the plan in ``folder`` and render every shard of it (of this slice) not already finished."""
    tasks = _tasks(config, folder, norm, plan)
    record = _plan_record(config, converter, catalog, norm, plan, tasks, sources.result().plan_record())
    ledger.write_plan(folder, record, keep_other=keep_other)
    if config.num_shards:
        tasks = [t for k, t in enumerate(tasks) if k % config.num_shards == config.shard_index]
    done = ledger.finished(folder)
    todo = [t for t in tasks if t.path.name not in done]
    if len(todo) < len(tasks) and config.progress:
        console.print(f"reusing {len(tasks) - len(todo)} finished shard(s) whose hashes verify")
    # the digests the shards took of the files they read (files only reused shards read are hashed at the end)
    _run_tasks(config, converter, catalog, norm, group_key, todo, on_shard=lambda info: sources.result().add(info.read))


def _prepare_slice(config: PrepareConfig, final: Path, run) -> Path:
    if not 0 <= config.shard_index < config.num_shards:
        raise OptionError(f"--shard-index must be in 0..{config.num_shards - 1}; got {config.shard_index}")
    if (final / INDEX_FILE).exists():
        if not config.force:
            raise DatasetExistsError(f"{final} is already prepared; pass --force to replace it")
        shutil.rmtree(final)
    final.mkdir(parents=True, exist_ok=True)
    run(final, keep_other=not config.force)
    if config.progress:
        console.print(f"[green]slice {config.shard_index}/{config.num_shards} done[/] in {final}; "
                      f"when every slice is: charbench index {final}")
    return final


def resolve_source(name: str, source: Path | None, data_root=None) -> Path:
    """``--source`` when given; else the fetched raw files under the data root; else a message saying what to do."""
    if source is not None:
        if not Path(source).exists():
            raise RawDataNotFoundError(f"--source {source} does not exist")
        return Path(source)
    cls, dataset_config = resolve(name)
    name = cls.catalogue_name(dataset_config)
    if name not in load_manifest():
        raise RawDataNotFoundError(f"{name} is a generic converter with no download: pass --source DIR")
    fetched = raw_dir_for(name, data_root)
    if fetched.is_dir() and any(fetched.iterdir()):
        return fetched
    raise RawDataNotFoundError(
        f"no --source given and no fetched raw files in {fetched}; run: charbench fetch {name} "
        f"(or pass --source DIR pointing at the raw files you already have)"
    )


def _normalization(config: PrepareConfig, catalog: Catalog, converter: Converter) -> Normalization:
    d = converter.defaults
    size = config.size or d.size or catalog.native_size
    if size is None:
        raise OptionError(f"{config.name}: images differ in size; choose an output size with --size")
    if not 4 <= size <= 1024:
        raise OptionError(f"--size must be between 4 and 1024; got {size}")
    if converter.set_output_size(size):
        catalog.native_size = size
    center = config.center or d.center
    if center == "none" and size != catalog.native_size:
        center = "mass"  # resizing needs a crop-and-fit mode; MNIST's centre of mass is the field's default
    norm = Normalization(size=size, binarize=config.binarize or d.binarize, center=center,
                         margin=d.margin if config.margin is None else config.margin, invert=config.invert or d.invert)
    if norm.invert == "auto" and norm.pixel_exact(catalog.native_size):
        # kept pixel-exact: one polarity for the whole dataset (per image it could flip single characters); voted in
        # a worker when there is a pool to come, whose server has numba ready (this process would start it first)
        what = f"{config.output_name} ({config.source})"
        invert, vote = run_in_worker(dataset_polarity, converter, catalog, what, here=not _pooled(converter))
        norm = replace(norm, invert=invert, polarity=vote)
    return norm


def _pooled(converter: Converter) -> bool:
    """Whether shards are built by a pool whose server prepare starts ahead (while it scans); this process then runs
    no kernel itself (numba's start-up would cost it more than waiting for the server)."""
    return converter.workers > 1 and not converter.cheap_load


def _group_key(config: PrepareConfig, converter: Converter, catalog: Catalog) -> str | None:
    key = config.group_by or converter.defaults.group_by or next(iter(catalog.groups), None)
    if key is not None and key not in catalog.groups:
        have = ", ".join(catalog.groups) or "none"
        raise OptionError(f"--group-by {key}: {config.name} has no such grouping (it has: {have})")
    return key


def _plan(config: PrepareConfig, converter: Converter, catalog: Catalog, group_key: str | None) -> Plan:
    if config.balance is not None and config.balance_scope == "all":
        return _leaky(config, catalog, group_key)
    d = converter.defaults
    method = config.split or (d.split if catalog.official is not None or d.split != "official" else d.fallback_split)
    groups = catalog.groups[group_key] if group_key else np.full(len(catalog), -1, np.int32)
    if method == "group" and not (groups >= 0).any():
        raise OptionError(f"--split group: {config.name} has no group ids in {config.source}; use --split random")
    codes = splitting.assign(method, catalog.labels, groups, catalog.official, fractions=config.fractions,
                             val_fraction=config.val_fraction, seed=config.seed)
    rows = {name: np.flatnonzero(codes == k) for k, name in enumerate(SPLITS)}
    rows = {name: r for name, r in rows.items() if len(r)}
    variants = {name: np.zeros(len(r), np.int32) for name, r in rows.items()}
    balance = _balance_train(config, catalog, rows, variants) if config.balance is not None and "train" in rows else None
    return Plan(rows, variants, _split_record(config, method, group_key), balance, _unseen_classes(catalog, rows))


def _split_record(config: PrepareConfig, method: str, group_key: str | None) -> dict:
    return {"method": method, "fractions": list(config.fractions), "val_fraction": config.val_fraction,
            "group_by": group_key, "seed": config.seed}


def _balance_train(config: PrepareConfig, catalog: Catalog, rows: dict, variants: dict) -> dict:
    """Resample the train split in place (rows and variants); classes dropped by --min-count leave every split, so
    no split scores an untrained class. Returns the balance record."""
    before = _histogram(catalog, rows["train"])
    min_count = 1 if config.min_count is None else config.min_count
    res = resample(catalog.labels[rows["train"]], target=config.balance, mode=config.balance_mode,
                   seed=config.seed, min_count=min_count, num_classes=len(catalog.classes))
    rows["train"], variants["train"] = rows["train"][res.indices], res.variants
    for name in rows:
        if name != "train" and res.dropped_classes:
            keep = ~np.isin(catalog.labels[rows[name]], res.dropped_classes)
            rows[name], variants[name] = rows[name][keep], variants[name][keep]
    return {"target": config.balance, "mode": config.balance_mode, "min_count": min_count, "scope": "train",
            "dropped_classes": [catalog.classes[c].name for c in res.dropped_classes],
            "train_before": before, "train_after": _histogram(catalog, rows["train"])}


def _leaky(config: PrepareConfig, catalog: Catalog, group_key: str | None) -> Plan:
    """``--balance-scope all``: the whole source balanced first, then split at random, as notebooks that published
    figures on such data did. Varied copies of one original then sit in train and in test alike, so the test
    measures recall of near-duplicates; index.json records it (``balance.scope``, ``balance.leaks``). For measuring
    that leakage only: charbench's own protocol balances the train split after the split."""
    if (config.split or "random") != "random":
        raise OptionError("--balance-scope all reproduces notebooks that balanced the whole dataset and then split "
                          "it at random: use it with --split random (or leave --split out)")
    min_count = 1 if config.min_count is None else config.min_count
    res = resample(catalog.labels, target=config.balance, mode=config.balance_mode, seed=config.seed,
                   min_count=min_count, num_classes=len(catalog.classes))
    codes = splitting.stratified(catalog.labels[res.indices], config.fractions, config.seed)
    rows = {name: res.indices[codes == k] for k, name in enumerate(SPLITS) if (codes == k).any()}
    variants = {name: res.variants[codes == k] for k, name in enumerate(SPLITS) if (codes == k).any()}
    balance = {"target": config.balance, "mode": config.balance_mode, "min_count": min_count, "scope": "all",
               "leaks": "varied copies of one original in several splits",
               "dropped_classes": [catalog.classes[c].name for c in res.dropped_classes],
               "train_before": np.bincount(catalog.labels, minlength=len(catalog.classes)).tolist(),
               "train_after": _histogram(catalog, rows["train"]) if "train" in rows else []}
    return Plan(rows, variants, _split_record(config, "random", group_key), balance, _unseen_classes(catalog, rows))


def _unseen_classes(catalog: Catalog, rows: dict[str, np.ndarray]) -> dict | None:
    """Classes that val or test hold and training never sees (a group split can leave a rare class's only writer,
    page or book out of train): how many, their names, and the examples of them per split. None when there are none.
    """
    trained = np.bincount(catalog.labels[rows["train"]], minlength=len(catalog.classes)) if "train" in rows else None
    per_split = {}
    for name in ("val", "test"):
        if name in rows:
            counts = np.bincount(catalog.labels[rows[name]], minlength=len(catalog.classes))
            per_split[name] = counts if trained is None else np.where(trained == 0, counts, 0)
    classes = sorted({int(c) for counts in per_split.values() for c in np.flatnonzero(counts)})
    if not classes:
        return None
    return {"count": len(classes), "names": [catalog.classes[c].name for c in classes[:100]],
            "examples": {name: int(counts.sum()) for name, counts in per_split.items()}}


def _histogram(catalog: Catalog, rows: np.ndarray) -> list[int]:
    return np.bincount(catalog.labels[rows], minlength=len(catalog.classes)).tolist()


def _tasks(config: PrepareConfig, folder: Path, norm: Normalization, plan: Plan) -> list[ShardTask]:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    balance = "none" if config.balance is None else f"{config.balance}/{config.balance_mode}"
    if config.balance is not None and config.balance_scope == "all":
        balance += "/before-split"  # the leaky protocol says so in every shard
    tasks = []
    for split, rows in plan.rows.items():
        n = num_shards(len(rows), config.shard_size)
        for i, part in enumerate(np.array_split(np.arange(len(rows)), n)):
            attrs = shard_attrs(dataset=config.output_name, split=split, shard_index=i, num_shards=n,
                                image_size=norm.size, normalization=norm.as_dict(), balance=balance, seed=config.seed,
                                charbench_version=charbench.__version__, created_utc=created)
            tasks.append(ShardTask(folder / shard_name(split, i, n), rows[part], plan.variants[split][part], attrs))
    return tasks


def _run_tasks(config, converter, catalog, norm, group_key, tasks: list[ShardTask], on_shard) -> None:
    """Build ``tasks``; ``on_shard(info)`` is called here as each shard is finished."""
    if not tasks:
        return
    workers = min(config.workers or available_cores(), len(tasks))
    if config.workers is None and converter.cheap_load and norm.is_identity(catalog.native_size):
        workers = 1  # nothing to decode or normalise: the writer's deflate threads already use every core
    total = sum(len(t.rows) for t in tasks)
    infos: list = [None] * len(tasks)
    start = time.perf_counter()
    with progress_bar(config.progress) as bar:
        job = bar.add_task(f"prepare {config.output_name}", total=total, rate="")

        def done(i, info):
            infos[i] = info
            on_shard(info)
            bar.advance(job, info.count)
            rate = sum(x.count for x in infos if x) / max(time.perf_counter() - start, 1e-9)
            bar.update(job, rate=f"{rate:,.0f} img/s")

        threads = max(1, available_cores() // workers)
        process_map(build_shard_in_worker, tasks, workers, local_fn=partial(build_shard, converter, catalog, norm,
                    group_key), initializer=init_worker, initargs=(converter, catalog, norm, group_key, threads),
                    on_result=done, help_here=not _pooled(converter))


def _plan_record(config, converter, catalog, norm, plan: Plan, tasks: list[ShardTask], sources: dict) -> dict:
    """The ledger plan: index.json without its shard hashes, the task list, and a fingerprint of both.

    The fingerprint covers everything that decides shard content, the charbench, converter and kernel versions
    included: a resumed run after an upgrade starts over instead of mixing shards of two versions.
    """
    index = index_skeleton(
        name=config.output_name, converter=converter.name,
        config=converter.config.name if converter.config else None, converter_version=converter.VERSION,
        charbench_version=charbench.__version__, created_utc=tasks[0].attrs["created_utc"] if tasks else None,
        image_size=norm.size, classes=[(c.name, c.codepoint) for c in catalog.classes],
        kernels_version=KERNELS_VERSION, normalization=norm.as_dict(), split=plan.split, balance=plan.balance,
        classes_without_training_images=plan.unseen,
        options=dict(converter.opts),
        sources=sources,
        **converter.skips.as_dict(), notes=catalog.notes,
    )
    split_stats = {name: {"class_counts": _histogram(catalog, plan.rows[name]),
                          "varied_copies": int((plan.variants[name] > 0).sum())} for name in plan.rows}
    task_list = [{"file": t.path.name, "split": t.attrs["split"], "count": len(t.rows)} for t in tasks]
    h = hashlib.sha256()
    stable = {k: v for k, v in index.items() if k != "created_utc"}
    h.update(json.dumps([stable, split_stats, task_list, config.shard_size], sort_keys=True, default=str).encode())
    for t in tasks:
        h.update(t.rows.tobytes() + t.variants.tobytes())
    return {"fingerprint": h.hexdigest(), "index": index, "split_stats": split_stats, "tasks": task_list}


def _summary(config: PrepareConfig, index: dict, path: Path) -> None:
    if not config.progress:
        return
    counts = ", ".join(f"{name} {entry['count']:,}" for name, entry in index["splits"].items())
    console.print(f"[green]prepared[/] {index['name']}: {counts} ({index['num_classes']} classes) -> {path}")
    if read := (index.get("notes") or {}).get("read"):
        console.print(f"  read: {read}", markup=False)
    if unseen := index.get("classes_without_training_images"):
        where = ", ".join(f"{n:,} in {split}" for split, n in unseen["examples"].items() if n)
        console.print(f"  [yellow]warning[/] {unseen['count']:,} classes have examples in val/test but no training "
                      f"image ({where}): {', '.join(unseen['names'][:8])}{' ...' if unseen['count'] > 8 else ''}; "
                      "--balance N with --min-count 1 drops them from every split")
    if (balance := index.get("balance")) and balance["dropped_classes"]:
        k = balance["min_count"]
        why = "without a training original" if k == 1 else f"with fewer than {k} training originals"
        console.print(f"  dropped {len(balance['dropped_classes']):,} classes {why} from every split (listed in "
                      "index.json balance.dropped_classes)")
    for reason, n in index["skipped"].items():
        console.print(f"  skipped {n:,} {reason}")
    if index["skipped_examples"]:
        console.print("  first skipped: " + "; ".join(index["skipped_examples"][:5]))

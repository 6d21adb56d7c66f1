"""``charbench prepare NAME --source DIR``: raw files to verified HDF5 shards."""

from __future__ import annotations

import argparse
from pathlib import Path

from charbench.datasets import catalogue_names
from charbench.splits import METHODS, parse_fractions


def register(sub) -> None:
    p = sub.add_parser("prepare", help="convert raw files to shards + index.json",
                       description="Convert a dataset's raw files into HDF5 shards (see README: shard format).")
    p.add_argument("name", help=f"dataset (family/config works too, e.g. emnist/letters): {', '.join(catalogue_names())}")
    p.add_argument("--source", type=Path, help="folder, archive or file holding the raw files")
    p.add_argument("--data-root", help="data root for fetched raw files and the default --out")
    p.add_argument("--out", type=Path, help="folder receiving <out>/<name>/ (default: <data root>/prepared)")
    p.add_argument("--name", dest="output_name", help="output dataset name (generic converters: idx, unipen)")
    g = p.add_argument_group("normalisation")
    g.add_argument("--size", type=int, help="output side S (default: the dataset's, native for idx)")
    g.add_argument("--binarize", help="none | otsu | sauvola[:W,K] | niblack[:W,K] | fixed:T")
    g.add_argument("--center", choices=["mass", "box", "none"], help="centring after the fit (none: keep as is)")
    g.add_argument("--margin", type=int, help="empty border in pixels around the fitted ink (default 2)")
    g.add_argument("--invert", choices=["auto", "yes", "no"], help="ink polarity: auto-detect per image")
    s = p.add_argument_group("splits and balancing")
    s.add_argument("--split", choices=METHODS, help="official (default where published) | random | group")
    s.add_argument("--fractions", type=parse_fractions, default=(0.8, 0.1, 0.1), help="TRAIN,VAL,TEST")
    s.add_argument("--val-fraction", type=float, default=0.1, help="validation carved from official train")
    s.add_argument("--group-by", help="grouping for --split group (writer, page, book, drawer ...)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--balance", type=int, metavar="N", help="train split: exactly N images per class")
    s.add_argument("--balance-mode", choices=["both", "cap", "oversample"], default="both")
    s.add_argument("--balance-scope", choices=["train", "all"], default="train",
                   help="train: balance the train split after splitting (no leakage); all: the whole dataset before "
                   "a random split, as some published notebooks did (leaks copies into test; to measure that only)")
    s.add_argument("--min-count", type=int, default=None,
                   help="drop classes with fewer original train images from every split (default 1 with --balance: "
                   "no class without a training image; else 0)")
    r = p.add_argument_group("run")
    r.add_argument("--shard-size", type=int, default=None, help="examples per shard")
    r.add_argument("--workers", type=int, help="worker processes (default: every core this process may use)")
    r.add_argument("--shard-index", type=int, default=0, help="array-job mode: this task's slice (0-based)")
    r.add_argument("--num-shards", type=int, help="array-job mode: number of slices; then run charbench index")
    r.add_argument("--resume", action="store_true", help="reuse finished shards of an interrupted run")
    r.add_argument("--force", action="store_true", help="replace an existing prepared dataset")
    r.add_argument("--strict", action="store_true", help="fail on any skipped input instead of counting it")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    d = p.add_argument_group("dataset-specific options (see README per dataset)")
    d.add_argument("--label", help="label level, e.g. omniglot: alphabet | character")
    d.add_argument("--set", dest="subset", help="which published set(s), e.g. omniglot: background | evaluation | all")
    d.add_argument("--from", dest="modality", help="which raw modality, e.g. images | strokes")
    d.add_argument("--keep-bad", action="store_true", default=None, help="UNIPEN: keep segments marked BAD")
    d.add_argument("--classes", dest="class_map", help="imagefolder: FILE naming the classes (lines id:char or id,char)")
    d.add_argument("--label-pattern", help="imagefolder: REGEX with (?P<label>...) and optional (?P<group>...) groups "
                   "over each image's path, for folders without class folders")
    d.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="any other converter option")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from charbench.prepare import PrepareConfig, prepare, resolve_source

    options = {k: v for k, v in [("label", args.label), ("subset", args.subset), ("modality", args.modality),
                                  ("keep_bad", args.keep_bad), ("classes", args.class_map),
                                  ("label_pattern", args.label_pattern)] if v is not None}
    options.update(_parse_option(o) for o in args.option)
    config = PrepareConfig(
        name=args.name, source=resolve_source(args.name, args.source, args.data_root),
        out=args.out or _default_out(args.data_root), output_name=args.output_name, size=args.size,
        binarize=args.binarize, center=args.center, margin=args.margin, invert=args.invert, split=args.split,
        fractions=args.fractions, val_fraction=args.val_fraction, group_by=args.group_by, seed=args.seed,
        balance=args.balance, balance_mode=args.balance_mode, balance_scope=args.balance_scope,
        min_count=args.min_count, workers=args.workers,
        shard_index=args.shard_index, num_shards=args.num_shards, resume=args.resume, force=args.force, strict=args.strict, progress=not args.quiet, options=options,
        **({"shard_size": args.shard_size} if args.shard_size else {}),
    )
    prepare(config)
    return 0


def _default_out(data_root):
    from charbench.paths import prepared_root

    return prepared_root(data_root)


def _parse_option(text: str) -> tuple[str, object]:
    from charbench.errors import OptionError

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise OptionError(f"--option takes KEY=VALUE; got {text!r}")
    lowered = value.lower()
    parsed: object = {"true": True, "false": False}.get(lowered, value)
    return key.strip().replace("-", "_"), parsed

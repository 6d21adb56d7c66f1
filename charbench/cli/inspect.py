"""``charbench inspect PATH``: counts per split and class, imbalance, and PNGs of samples and balancing."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("inspect", help="counts per split/class, imbalance ratio, PNG grid of samples")
    p.add_argument("path", type=Path, help="prepared dataset folder holding index.json")
    p.add_argument("--png", type=Path, help="sample grid file (default: <path>/inspect.png)")
    p.add_argument("--split", help="split to draw samples from (default: the first)")
    p.add_argument("--per-class", type=int, default=8)
    p.add_argument("--max-classes", type=int, default=20)
    p.set_defaults(func=_run)


def _run(args) -> int:
    from rich.table import Table

    from charbench.inspect import balance_plot, sample_grid, summarize
    from charbench.progress import stdout as console

    info = summarize(args.path)
    table = Table(title=f"{info['name']}: {info['num_classes']} classes, {info['image_size']}x{info['image_size']}")
    for col in ("split", "images", "classes", "imbalance", "largest classes", "copies", "ink", "white bg"):
        table.add_column(col, no_wrap=col != "largest classes", overflow="fold")
    for split, s in info["splits"].items():
        ratio = "-" if s["imbalance_ratio"] is None else f"{s['imbalance_ratio']:.1f}x"
        largest = ", ".join(f"{n} ({c})" for n, c in s["largest"][:3])
        ink = s["ink"]
        table.add_row(split, f"{s['count']:,}", str(s["classes_present"]), ratio, largest, f"{s['varied_copies']:,}",
                      f"{ink['ink_fraction']:.1%}", f"{ink['white_background_share']:.1%}")
    console.print(table)
    for warning in info["warnings"]:
        console.print(f"[yellow]warning[/] {warning}")
    grid = sample_grid(args.path, args.png or args.path / "inspect.png", args.split, args.per_class, args.max_classes)
    console.print(f"samples: {grid}")
    plot = balance_plot(args.path, grid.with_name(grid.stem + "-balance.png"))
    if plot:
        console.print(f"class balance before/after: {plot}")
    return 0

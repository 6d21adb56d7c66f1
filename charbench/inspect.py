"""``charbench inspect``: what a prepared dataset holds, in numbers and in pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.kernels.polarity import InkTally
from charbench.shards.index import read_index
from charbench.shards.reader import open_dataset

INK_SAMPLE = 20_000  # images per split the ink figures are measured on (spread over the split)


def summarize(dataset_dir: Path) -> dict:
    """Counts per split and class, the imbalance ratio (largest / smallest non-empty class), ink coverage and
    background polarity per split, classes without training images, and warnings."""
    index = read_index(dataset_dir)
    names = [c["name"] for c in index["classes"]]
    out = {"name": index["name"], "image_size": index["image_size"], "num_classes": len(names), "splits": {},
           "warnings": []}
    for split, entry in index["splits"].items():
        counts = np.asarray(entry["class_counts"])
        nonzero = counts[counts > 0]
        tally = ink_tally(dataset_dir, split)
        out["splits"][split] = {
            "count": entry["count"],
            "classes_present": len(nonzero),
            "imbalance_ratio": float(nonzero.max() / nonzero.min()) if len(nonzero) else None,
            "largest": [(names[i], int(counts[i])) for i in np.argsort(-counts, kind="stable")[:5]],
            "smallest": [(names[i], int(counts[i])) for i in np.argsort(counts, kind="stable")[:5] if counts[i] > 0],
            "varied_copies": entry.get("varied_copies", 0),
            "ink": tally.as_dict(),
        }
        if warning := tally.warning(f"{index['name']}/{split}"):
            out["warnings"].append(warning)
    out["balance"] = index.get("balance")
    out["classes_without_training_images"] = index.get("classes_without_training_images")
    if unseen := out["classes_without_training_images"]:
        out["warnings"].append(f"{unseen['count']:,} classes have examples in val/test but no training image: "
                               f"{', '.join(unseen['names'][:10])}{' ...' if unseen['count'] > 10 else ''}")
    return out


def ink_tally(dataset_dir: Path, split: str, limit: int = INK_SAMPLE) -> InkTally:
    """Ink coverage and polarity of up to ``limit`` images spread evenly over a split, read shard by shard."""
    tally = InkTally()
    with open_dataset(dataset_dir, split) as ds:
        step = max(1, -(-len(ds) // limit))
        start = 0
        for i in range(len(ds.shard_paths)):
            count = ds.shard_counts[i]
            picks = np.arange((-start) % step, count, step)
            if len(picks):
                tally.add(ds.shard_images(i)[np.sort(picks)])
            start += count
    return tally


def sample_grid(dataset_dir: Path, out_png: Path, split: str | None = None, per_class: int = 8,
                max_classes: int = 20) -> Path:
    """A PNG with up to ``per_class`` samples for each of the ``max_classes`` most frequent classes, each row named
    by its class (in a font that has its glyphs, else its codepoints), codepoint and count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from charbench.fonts import display_label, quiet_glyph_warnings

    index = read_index(dataset_dir)
    split = split or next(iter(index["splits"]))
    ds = open_dataset(dataset_dir, split)
    counts = np.bincount(ds.labels, minlength=ds.num_classes)
    classes = [int(c) for c in np.argsort(-counts, kind="stable")[:max_classes] if counts[c] > 0]
    height = len(classes) * 0.8 + 0.5
    fig, axes = plt.subplots(len(classes), per_class, figsize=(per_class * 0.8 + 2.4, height), squeeze=False)
    fig.subplots_adjust(top=1 - 0.45 / height, bottom=0.1 / height)
    for r, cls in enumerate(classes):
        picks = np.flatnonzero(ds.labels == cls)[:per_class]
        for c in range(per_class):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(picks):
                ax.imshow(ds.read(int(picks[c]), int(picks[c]) + 1)[0], cmap="gray", vmin=0, vmax=255)
        entry = index["classes"][cls]
        text, font = display_label(entry["name"], entry["codepoint"], int(counts[cls]))
        axes[r][0].text(-0.12, 0.5, text, transform=axes[r][0].transAxes, ha="right", va="center", fontsize=10,
                        fontproperties=font)
    fig.suptitle(f"{index['name']} / {split}: samples of the {len(classes)} largest classes", fontsize=10,
                 y=1 - 0.12 / height)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with quiet_glyph_warnings():
        fig.savefig(out_png, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out_png


def balance_plot(dataset_dir: Path, out_png: Path) -> Path | None:
    """Train class histograms before and after balancing (sorted by size), or None when not balanced."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    balance = read_index(dataset_dir).get("balance")
    if not balance:
        return None
    before = np.sort(np.asarray(balance["train_before"]))[::-1]
    after = np.asarray(balance["train_after"])[np.argsort(np.asarray(balance["train_before"]))[::-1]]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(np.arange(len(before)), before, width=1.0, alpha=0.6, label="before balancing")
    ax.plot(np.arange(len(after)), after, color="C3", label=f"after --balance {balance['target']}")
    ax.set_yscale("log")
    ax.set_xlabel("class (sorted by original train count)")
    ax.set_ylabel("train images")
    ax.legend()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return out_png

"""``charbench inspect``: what a prepared dataset holds, in numbers and in pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charbench.shards.index import read_index
from charbench.shards.reader import open_dataset


def summarize(dataset_dir: Path) -> dict:
    """Counts per split and class, and the imbalance ratio (largest / smallest non-empty class) per split."""
    index = read_index(dataset_dir)
    names = [c["name"] for c in index["classes"]]
    out = {"name": index["name"], "image_size": index["image_size"], "num_classes": len(names), "splits": {}}
    for split, entry in index["splits"].items():
        counts = np.asarray(entry["class_counts"])
        nonzero = counts[counts > 0]
        out["splits"][split] = {
            "count": entry["count"],
            "classes_present": len(nonzero),
            "imbalance_ratio": float(nonzero.max() / nonzero.min()) if len(nonzero) else None,
            "largest": [(names[i], int(counts[i])) for i in np.argsort(-counts, kind="stable")[:5]],
            "smallest": [(names[i], int(counts[i])) for i in np.argsort(counts, kind="stable")[:5] if counts[i] > 0],
            "varied_copies": entry.get("varied_copies", 0),
        }
    out["balance"] = index.get("balance")
    return out


def sample_grid(dataset_dir: Path, out_png: Path, split: str | None = None, per_class: int = 8,
                max_classes: int = 20) -> Path:
    """A PNG with up to ``per_class`` samples for each of the ``max_classes`` most frequent classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = read_index(dataset_dir)
    split = split or next(iter(index["splits"]))
    ds = open_dataset(dataset_dir, split)
    counts = np.bincount(ds.labels, minlength=ds.num_classes)
    classes = [int(c) for c in np.argsort(-counts, kind="stable")[:max_classes] if counts[c] > 0]
    fig, axes = plt.subplots(len(classes), per_class, figsize=(per_class * 0.8, len(classes) * 0.8 + 0.4),
                             squeeze=False)
    for r, cls in enumerate(classes):
        picks = np.flatnonzero(ds.labels == cls)[:per_class]
        for c in range(per_class):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(picks):
                ax.imshow(ds.read(int(picks[c]), int(picks[c]) + 1)[0], cmap="gray", vmin=0, vmax=255)
        axes[r][0].set_title(ds.class_names[cls][:12], fontsize=7, loc="left")
    fig.suptitle(f"{index['name']} / {split}: samples of the {len(classes)} largest classes", fontsize=9)
    out_png.parent.mkdir(parents=True, exist_ok=True)
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

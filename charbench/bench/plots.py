"""PNG plots of a run with matplotlib's Agg backend: learning curves, confusion heatmap, throughput bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np

from charbench.fonts import display_label, quiet_glyph_warnings


def learning_curves(result: dict, path: Path) -> Path:
    """Loss and accuracy per epoch (train and the per-epoch evaluation split), with the target when there is one."""
    hist = result["history"]
    epochs = [h["epoch"] for h in hist]
    split = hist[0]["eval_split"] if hist else "eval"
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, [h["train_loss"] for h in hist], "o-", label="train")
    ax_loss.plot(epochs, [h["eval_loss"] for h in hist], "s-", label=split)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, [100 * h["train_acc"] for h in hist], "o-", label="train")
    ax_acc.plot(epochs, [100 * h["eval_top1"] for h in hist], "s-", label=f"{split} top-1")
    target = result.get("target")
    if target:
        ax_acc.axhline(target["value"], color="gray", ls="--", label=f"target {target['value']:.2f}")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(result["key"])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def confused_classes(cm: np.ndarray, k: int = 20) -> np.ndarray:
    """Indices of the ``k`` classes involved in the most errors (as true or predicted class), most first."""
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    score = off.sum(0) + off.sum(1)
    order = np.argsort(-score, kind="stable")
    return order[: min(k, len(order))]


def confusion_heatmap(cm: np.ndarray, class_names: list[str], path: Path, title: str, k: int = 20) -> Path:
    """Heatmap of the confusion sub-matrix of the most-confused classes, rows normalised to the true class."""
    idx = confused_classes(cm, k)
    sub = cm[np.ix_(idx, idx)].astype(np.float64)
    support = cm[idx].sum(1, keepdims=True).astype(np.float64)
    frac = np.divide(sub, support, out=np.zeros_like(sub), where=support > 0)
    labels = [display_label(class_names[i], None) for i in idx]  # (text, font): a font that has the glyphs
    size = max(4.0, 0.4 * len(idx) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(frac, cmap="viridis", vmin=0, vmax=max(frac.max(), 1e-9))
    ax.set_xticks(range(len(idx)), [f"{i}:{t}" for i, (t, _) in zip(idx, labels)], rotation=90, fontsize=7)
    ax.set_yticks(range(len(idx)), [f"{i}:{t}" for i, (t, _) in zip(idx, labels)], fontsize=7)
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        for tick, (_, font) in zip(ticks, labels):
            if font is not None:
                tick.set_fontproperties(font)
                tick.set_fontsize(7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    if len(idx) <= 20:
        for (r, c), v in np.ndenumerate(sub):
            if v:
                ax.text(c, r, f"{int(v)}", ha="center", va="center", fontsize=6, color="w" if frac[r, c] < 0.5 else "k")
    fig.colorbar(im, ax=ax, label="fraction of true class")
    with quiet_glyph_warnings():
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def throughput_bars(rows: list[dict], path: Path) -> Path:
    """Train, eval and loader images/s per job (log scale), pipeline efficiency written above each group."""
    rows = [r for r in rows if r.get("status") == "ok"]
    kinds = [
        ("train_images_per_s", "train"),
        ("eval_images_per_s", "eval"),
        ("loader_images_per_s", "loader"),
        ("synthetic_train_images_per_s", "train, device-resident data"),
    ]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(rows) + 2), 4.5))
    width = 0.8 / len(kinds)
    x = np.arange(len(rows))
    for j, (key, label) in enumerate(kinds):
        ax.bar(x + j * width, [r.get(key) or 0 for r in rows], width, label=label)
    for i, r in enumerate(rows):
        eff = r.get("pipeline_efficiency")
        if eff is not None:
            ax.text(i + 0.4 - width / 2, ax.get_ylim()[1], f"eff {eff:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(x + 0.4 - width / 2, [r["key"] for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="images / s")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

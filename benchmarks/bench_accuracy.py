"""Accuracy on full real data, on this machine's CPU, with each published target beside it (not part of run_all).

Prepares the shared full sets (../shared/data: all of MNIST in idx, all of Omniglot as the official zips) and runs:

* MNIST, ``simple_cnn`` with the KMNIST paper's recipe (Adadelta, batch 128, 12 epochs), official test set:
  target >= 99.0% (published 99.06);
* MNIST, the notebook's MLP protocol (the ``notebooks`` suite's ``mnist-mlp``): target >= 97.2%, and the training
  time to reach 97.2% against the notebook's own loop measured here (torchvision ``MNIST`` + ``DataLoader`` with
  ``ToTensor``/``Normalize``, the same model, batch, optimiser and epochs): charbench >= 8x faster;
* Omniglot's 30 background alphabets: the notebook's protocol (``omniglot-alphabets``, random 80/20 split) >= 69.5%,
  with the drawer-disjoint figure beside it; and ``omniglot_cnn``'s reference recipe (Adam, cosine, 30 epochs,
  augmentation) on the random split >= 85%, again with the drawer-disjoint figure beside it.

Results print as RESULT lines and are written into benchmarks/RESULTS.md (its accuracy section; run_all keeps it).

    python benchmarks/bench_accuracy.py [--only mnist-cnn,mnist-mlp,omniglot] [--work DIR]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report
from _torchvision import import_torchvision

from charbench.bench.runner import RunConfig, run_suite
from charbench.bench.suites import MODEL_RECIPES, SUITES, Recipe, Suite
from charbench.prepare import PrepareConfig, prepare

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data"
MNIST_RAW = DATA / "idx" / "mnist-full" / "MNIST" / "raw"
OMNIGLOT = DATA / "omniglot-full" / "images_background.zip"
PARTS = ("mnist-cnn", "mnist-mlp", "omniglot")
SECTION = ("<!-- bench_accuracy -->", "<!-- /bench_accuracy -->")


def prepared(work: Path) -> Path:
    """Prepare every dataset the runs need under ``work/prepared`` (reused when already there)."""
    out = work / "prepared"
    specs = {
        "mnist": {"name": "mnist", "source": MNIST_RAW.parent.parent},
        "mnist-all-train": {"name": "mnist", "source": MNIST_RAW.parent.parent, "val_fraction": 0.0},
        "omniglot-alphabets-random": {"name": "omniglot", "source": OMNIGLOT, "size": 64, "split": "random",
                                          "fractions": (0.8, 0.0, 0.2), "options": {"subset": "background"}},
        "omniglot-alphabets-drawers": {"name": "omniglot", "source": OMNIGLOT, "size": 64, "split": "group", "group_by": "drawer",
                                           "fractions": (0.8, 0.0, 0.2), "options": {"subset": "background"}},
    }
    for name, kw in specs.items():
        if not (out / name / "index.json").is_file():
            prepare(PrepareConfig(out=out, output_name=name, progress=False, **kw))
    return out


def run(suite: Suite, data: Path, work: Path, datasets: str | None = None) -> list[dict]:
    if suite.name not in SUITES:
        SUITES.add(suite.name, suite)
    outcome = run_suite(RunConfig(suite=suite.name, data_root=data, out_root=work / "runs", device="cpu",
                                  datasets=datasets, progress=False, throughput=False))
    print(f"  report: {outcome.run_dir}/report.md", flush=True)
    return [r for r in outcome.results if r["status"] == "ok"]


def top1(results: list[dict], dataset: str | None = None, protocol: str | None = None) -> float:
    chosen = [r for r in results if (dataset is None or r["dataset"] == dataset)
              and (protocol is None or r.get("protocol") == protocol)]
    return 100 * chosen[0]["test"]["top1"]


def mnist_cnn(data: Path, work: Path) -> list[dict]:
    suite = Suite("accuracy-mnist-cnn", "MNIST simple_cnn, KMNIST-paper recipe", datasets=("mnist",),
                  models=("simple_cnn",), recipe=Recipe())
    results = run(suite, data, work)
    return [report("mnist_simple_cnn_top1", top1(results, "mnist"), "published 99.06 (KMNIST README, Keras simple "
                   "CNN, official split)", ">= 99.0", unit="%", train_seconds=round(results[0]["train_seconds"]))]


def notebook_loop_seconds(work: Path, epochs: int = 15, target: float = 97.2) -> tuple[float | None, float, float]:
    """The notebook's own training loop: (train seconds to reach ``target`` on the test set, final top-1 %, train
    seconds of all epochs). Evaluation is not timed, as in the runner."""
    import torch
    import torch.nn.functional as F

    from charbench.models import create_model

    tv = import_torchvision()
    root = work / "torchvision"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in MNIST_RAW.glob("*.gz"):  # what torchvision's download leaves: the files unpacked
        if not (raw / f.stem).exists():
            (raw / f.stem).write_bytes(gzip.decompress(f.read_bytes()))
    transform = tv.transforms.Compose([tv.transforms.ToTensor(), tv.transforms.Normalize((0.5,), (0.5,))])
    train = torch.utils.data.DataLoader(tv.datasets.MNIST(str(root), train=True, transform=transform),
                                        batch_size=64, shuffle=True)
    test = torch.utils.data.DataLoader(tv.datasets.MNIST(str(root), train=False, transform=transform),
                                       batch_size=1000)
    torch.manual_seed(0)
    model = create_model("mlp", 10, 28)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    trained, reached, accuracy = 0.0, None, 0.0
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for x, y in train:
            opt.zero_grad()
            F.nll_loss(F.log_softmax(model(x), dim=1), y).backward()
            opt.step()
        trained += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in test)
        accuracy = 100 * correct / len(test.dataset)
        if reached is None and accuracy >= target:
            reached = trained
    return reached, accuracy, trained


def mnist_mlp(data: Path, work: Path) -> list[dict]:
    results = run(SUITES.get("notebooks"), data, work, datasets="mnist-mlp")
    ours = results[0]
    ours_reach = ours["target"]["time_to_target_s"]
    theirs_reach, theirs_top1, theirs_all = notebook_loop_seconds(work)
    print(f"  notebook loop: {theirs_top1:.2f}% after 15 epochs ({theirs_all:.0f} s of training), 97.2% after "
          f"{theirs_reach if theirs_reach is None else round(theirs_reach, 1)} s", flush=True)
    speedup = (theirs_reach / ours_reach) if theirs_reach and ours_reach else float("nan")
    return [
        report("mnist_mlp_notebook_protocol_top1", top1(results), "the notebook: 'over 97.2%'", ">= 97.2", unit="%",
               train_seconds=round(ours["train_seconds"], 1)),
        report("mnist_mlp_time_to_97.2_vs_notebook_loop", speedup, "the notebook's torchvision MNIST + DataLoader "
               "loop, same model, batch and optimiser", ">= 8x", charbench_seconds=ours_reach,
               notebook_seconds=theirs_reach, notebook_top1=round(theirs_top1, 2)),
    ]


def omniglot(data: Path, work: Path) -> list[dict]:
    notebook = run(SUITES.get("notebooks"), data, work, datasets="omniglot-alphabets")
    reference = Suite("accuracy-omniglot-reference", "omniglot_cnn reference recipe, 30 alphabets",
                      datasets=("omniglot-alphabets-random", "omniglot-alphabets-drawers"), models=("omniglot_cnn",),
                      model_recipes=MODEL_RECIPES)
    ref = run(reference, data, work)
    return [
        report("omniglot_alphabets_notebook_protocol_top1", top1(notebook, protocol="notebook"),
               "the notebook: 69.5% (random 80/20 split)", ">= 69.5", unit="%"),
        report("omniglot_alphabets_notebook_recipe_drawer_disjoint_top1", top1(notebook, protocol="leakage-free"),
               "the same recipe, drawers 16/4 split (no drawer on both sides)", "(reported beside)", unit="%"),
        report("omniglot_alphabets_reference_recipe_top1", top1(ref, "omniglot-alphabets-random"),
               "omniglot_cnn reference recipe, random 80/20 split", ">= 85", unit="%"),
        report("omniglot_alphabets_reference_recipe_drawer_disjoint_top1", top1(ref, "omniglot-alphabets-drawers"),
               "the reference recipe, drawer-disjoint split", "(reported beside)", unit="%"),
    ]


def write_section(rows: list[dict], seconds: float) -> None:
    """Write this run's rows into the accuracy section of benchmarks/RESULTS.md, keeping rows of parts not run
    (run_all writes the rest of the file and keeps this section)."""
    import re

    info = machine()
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    pattern = re.compile(re.escape(SECTION[0]) + ".*?" + re.escape(SECTION[1]), re.DOTALL)
    earlier = pattern.search(text)
    fresh = {r["name"] for r in rows}
    kept = [line for line in (earlier.group(0).splitlines() if earlier else [])  # rows of parts not run this time
            if line.startswith("| ") and not line.startswith(("| figure", "|---"))
            and line.split("|")[1].strip() not in fresh]
    lines = [SECTION[0], "## Accuracy on full real data (CPU)", "",
             (f"Written by `python benchmarks/bench_accuracy.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} "
             f"UTC, {info['cores']} cores ({info['cpu']}), {seconds / 60:.0f} min in all."), "",
             "| figure | value | baseline or source | target |", "|---|---|---|---|"]
    lines += kept + [f"| {r['name']} | {r['value']:.2f}{r['unit']} | {r['baseline']} | {r['target']} |" for r in rows]
    lines += ["", SECTION[1]]
    block = "\n".join(lines)
    text = pattern.sub(lambda _: block, text) if earlier else text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--work", type=Path, help="folder for prepared data and runs (default: a temporary one)")
    args = parser.parse_args()
    if not MNIST_RAW.is_dir() or not OMNIGLOT.is_file():
        print(f"the full real sets are not under {DATA}: nothing to measure")
        return 0
    parts = [p for p in args.only.split(",") if p]
    start = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="charbench-accuracy-"))
    try:
        data = prepared(work)
        rows: list[dict] = []
        for part in parts:  # the section is written after each part: an hour's work is not lost to a late failure
            rows += {"mnist-cnn": mnist_cnn, "mnist-mlp": mnist_mlp, "omniglot": omniglot}[part](data, work)
            write_section(rows, time.perf_counter() - start)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``charbench run`` under torchrun with two CPU processes (gloo) matches the single-process run's shape and counts."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from synthetic_shards import write_dataset

from charbench.bench.runner import RunConfig, run_suite
from charbench.bench.suites import SUITES, Recipe, Suite, register_suite

SUITE = Suite(
    "ddp-tiny",
    "ddp test",
    datasets=("tiny",),
    models=("simple_cnn",),
    recipe=Recipe(epochs=2, batch_size=32),
    throughput_steps=2,
)

# what each torchrun rank executes: the same runner call the CLI makes
SCRIPT = textwrap.dedent("""
    import os
    import sys
    from pathlib import Path
    import torch
    from charbench.bench.runner import RunConfig, run_suite
    from charbench.bench.suites import Recipe, Suite, register_suite

    torch.set_num_threads(1)
    register_suite(Suite("ddp-tiny", "ddp test", datasets=("tiny",), models=("simple_cnn",),
                         recipe=Recipe(epochs=2, batch_size=32), throughput_steps=2))
    out = run_suite(RunConfig("ddp-tiny", data_root=Path(sys.argv[1]), out_root=Path(sys.argv[2]), device="cpu",
                              progress=False, plots=False))
    # one file per rank: torchrun interleaves the ranks' stdout
    result = f"{out.run_dir is not None} {len(out.results)} {out.results[0]['status']}"
    (Path(sys.argv[2]).parent / f"rank-{os.environ['RANK']}.txt").write_text(result)
""")


def _torchrun(script: Path, data: Path, out: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path.cwd())}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        str(data),
        str(out),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_two_gloo_ranks_match_single_process(tmp_path):
    data = tmp_path / "prepared"
    # 3 shards and odd counts: ranks hold unequal parts, so the training partition needs padding
    write_dataset(data, "tiny", counts={"train": 257, "val": 63, "test": 101}, num_classes=5, shard_size=100)
    if SUITE.name not in SUITES:
        register_suite(SUITE)
    single = run_suite(
        RunConfig(SUITE.name, data_root=data, out_root=tmp_path / "single", device="cpu", progress=False, plots=False)
    )
    (tmp_path / "run.py").write_text(SCRIPT)
    _torchrun(tmp_path / "run.py", data, tmp_path / "ddp")
    # both ranks ran the job; only rank 0 wrote a run folder
    ranks = [(tmp_path / f"rank-{r}.txt").read_text() for r in range(2)]
    assert ranks == ["True 1 ok", "False 1 ok"]
    (run_dir,) = (tmp_path / "ddp").iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["environment"]["world_size"] == 2
    (one,), (two,) = single.results, report["results"]
    for res in (one, two):
        assert res["test"]["count"] == 101  # every test image counted exactly once across ranks
        assert res["epochs_run"] == 2 and [h["epoch"] for h in res["history"]] == [1, 2]
        assert set(res["test"]["per_class_accuracy"]) == {f"c{k}" for k in range(5)}
        assert res["test"]["top1"] > 0.8
    assert np.load(run_dir / two["confusion_file"]).shape == one["_confusion"].shape == (5, 5)
    assert one["data"]["split_hashes"] == two["data"]["split_hashes"]

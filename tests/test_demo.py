"""charbench demo end to end (--small): every raw format prepared, the quick suite run, report files written."""

import json

import pytest

from charbench.cli.main import main
from charbench.demo import DEMO


@pytest.mark.slow
def test_demo_small_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--small", "--quiet"]) == 0
    prepared = sorted(p.name for p in (tmp_path / "prepared").iterdir() if (p / "index.json").exists())
    assert prepared == sorted(d.name for d in DEMO)
    balanced = json.loads((tmp_path / "prepared" / "demo-kuzushiji" / "index.json").read_text())["balance"]
    assert balanced and set(balanced["train_after"]) <= {0, balanced["target"]}
    (run_dir,) = list((tmp_path / "runs").iterdir())
    for name in ("report.json", "report.md", "results.csv"):
        assert (run_dir / name).stat().st_size > 100
    assert list((run_dir / "plots").glob("*.png"))
    report = json.loads((run_dir / "report.json").read_text())
    assert len(report["results"]) == len(DEMO)
    for result in report["results"]:
        chance = 1.0 / result["data"]["num_classes"]
        assert result["test"]["top1"] > max(0.5, 3 * chance), (result["dataset"], result["test"]["top1"])

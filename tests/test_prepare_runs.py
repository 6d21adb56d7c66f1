"""Prepare as a process: any worker count gives the same hashes; array-job slices; kill and resume; locking."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from charbench.cli.main import main
from charbench.errors import DatasetExistsError
from charbench.prepare import PrepareConfig, prepare
from charbench.shards.staging import StagedDataset
from charbench.shards.verify import verify_dataset
from charbench.synth.idx import write_mnist_layout

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return write_mnist_layout(tmp_path_factory.mktemp("raw"), train_per_class=40, test_per_class=8)


def _index(path):
    return json.loads((path / "index.json").read_text())


def _config(raw, out, **kw):
    kw.setdefault("size", 20)  # resizing routes every shard through the kernels
    kw.setdefault("shard_size", 90)
    return PrepareConfig(name="mnist", source=raw, out=out, progress=False, **kw)


def test_worker_count_does_not_change_hashes(raw, tmp_path):
    one = prepare(_config(raw, tmp_path / "w1", workers=1, balance=50))
    two = prepare(_config(raw, tmp_path / "w2", workers=2, balance=50))
    assert _index(one)["content_sha256"] == _index(two)["content_sha256"]
    assert [s["content_sha256"] for s in _index(one)["splits"]["train"]["shards"]] == [
        s["content_sha256"] for s in _index(two)["splits"]["train"]["shards"]]
    assert len(_index(one)["splits"]["train"]["shards"]) > 2


def test_array_job_slices_then_index(raw, tmp_path, capsys):
    whole = prepare(_config(raw, tmp_path / "whole", workers=1))
    out = tmp_path / "sliced"
    for i in (2, 0):
        prepare(_config(raw, out, workers=1, shard_index=i, num_shards=3))
    assert not (out / "mnist" / "index.json").exists()
    assert main(["index", str(out / "mnist")]) == 1
    assert "not finished" in capsys.readouterr().err
    prepare(_config(raw, out, workers=1, shard_index=1, num_shards=3))
    assert main(["index", str(out / "mnist")]) == 0
    assert _index(out / "mnist")["content_sha256"] == _index(whole)["content_sha256"]
    assert verify_dataset(out / "mnist") == [] and not (out / "mnist" / "_done").exists()


def test_slices_with_other_parameters_refused(raw, tmp_path):
    prepare(_config(raw, tmp_path, workers=1, shard_index=0, num_shards=2))
    with pytest.raises(Exception, match="other parameters"):
        prepare(_config(raw, tmp_path, workers=1, shard_index=1, num_shards=2, seed=9))


def _slowed(seconds: float, cmd: list[str]) -> subprocess.Popen:
    """``cmd`` (a charbench command line) run so that it pauses ``seconds`` after each finished shard."""
    args = [sys.executable, "-m", "tests.slow_prepare", str(seconds), *cmd[3:]]
    return subprocess.Popen(args, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_sigkill_leaves_no_valid_looking_dataset_and_resume_reuses(raw, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "charbench", "prepare", "mnist", "--source", str(raw), "--out", str(out),
           "--size", "20", "--shard-size", "20", "--workers", "1", "--quiet"]
    proc = _slowed(0.3, cmd)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob(".mnist.tmp-*/_done/*.json")):
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "mnist").exists()  # nothing that looks like a dataset
    partial = list(out.glob(".mnist.tmp-*/_done/*.json"))
    assert partial, "the run was killed before finishing any shard"
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    fresh = prepare(_config(raw, tmp_path / "fresh", workers=1, shard_size=20))
    assert _index(out / "mnist")["content_sha256"] == _index(fresh)["content_sha256"]
    assert verify_dataset(out / "mnist") == []
    assert not list(out.glob(".mnist.tmp-*"))


def test_second_prepare_into_same_folder_is_locked_out(raw, tmp_path):
    with StagedDataset(tmp_path / "mnist"), pytest.raises(DatasetExistsError, match="another charbench prepare"):
        prepare(_config(raw, tmp_path, workers=1))
    prepare(_config(raw, tmp_path, workers=1))
    assert verify_dataset(tmp_path / "mnist") == []


def test_two_prepare_processes_at_once_one_waits_out(raw, tmp_path):
    """Two real `charbench prepare` processes into one folder: the second is refused by the lock with one clear
    line, and the first finishes a dataset that verifies."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "charbench", "prepare", "mnist", "--source", str(raw), "--out", str(out),
           "--size", "20", "--shard-size", "40", "--workers", "1", "--quiet"]
    first = _slowed(0.2, cmd)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob(".mnist.tmp-*/_done/*.json")):
        time.sleep(0.05)
    second = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=120, check=False)
    assert first.wait(timeout=120) == 0
    assert second.returncode == 1 and "another charbench prepare is writing" in second.stderr
    assert "Traceback" not in second.stderr
    assert verify_dataset(out / "mnist") == []

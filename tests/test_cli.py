"""The command line: version, help, one-line errors without traceback, nothing left behind on failure."""

import subprocess
import sys

import numpy as np
import pytest

import charbench
from charbench.cli.main import main
from charbench.synth.idx import write_idx, write_mnist_layout


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and charbench.__version__ in capsys.readouterr().out
    assert main([]) == 0 and "prepare" in capsys.readouterr().out


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "charbench", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("charbench ")


def test_parsing_a_command_imports_no_numba():
    """numba costs a process about a second at start-up: prepare's main process pays it only when it runs a kernel
    itself, never for parsing arguments or importing the pipeline."""
    code = ("import sys; from charbench.cli.main import build_parser; import charbench.prepare, charbench.render;"
            "build_parser().parse_args(['prepare', 'omniglot']); print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_command_builds_its_own_parser_only(capsys):
    """``charbench COMMAND`` imports that command's module alone; help, --version and typos get the whole parser."""
    from charbench.cli.main import _command, _may_use_workers, build_parser

    assert _command(["prepare", "omniglot"]) == "prepare" and _command(["--debug", "verify", "x"]) == "verify"
    assert _command(["--help", "prepare"]) is None and _command(["prepair"]) is None and _command([]) is None
    sub = next(a for a in build_parser(only="prepare")._actions if a.dest == "command")
    assert list(sub.choices) == ["prepare"]
    with pytest.raises(SystemExit):
        main(["prepair"])
    assert "invalid choice: 'prepair'" in capsys.readouterr().err
    assert not _may_use_workers(["prepare", "mnist", "--workers", "1"])
    assert not _may_use_workers(["prepare", "mnist", "--workers=1"])


def test_truncated_file_one_line_error_and_nothing_written(tmp_path, capsys):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=3, test_per_class=1, gz=False)
    img = raw / "train-images-idx3-ubyte"
    img.write_bytes(img.read_bytes()[:-50])
    rc = main(["prepare", "mnist", "--source", str(raw), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "truncated" in err and str(img) in err
    assert not any((tmp_path / "out").glob("*/index.json")) and not any((tmp_path / "out").glob("*.h5"))


def test_existing_dataset_needs_force_and_survives_failed_replace(tmp_path, capsys):
    raw = write_mnist_layout(tmp_path / "raw", train_per_class=3, test_per_class=1)
    args = ["prepare", "mnist", "--source", str(raw), "--out", str(tmp_path / "out"), "--quiet"]
    assert main(args) == 0
    index = (tmp_path / "out" / "mnist" / "index.json").read_text()
    assert main(args) == 1 and "--force" in capsys.readouterr().err
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))  # now broken
    assert main(args + ["--force"]) == 1
    assert (tmp_path / "out" / "mnist" / "index.json").read_text() == index  # old dataset intact
    assert main(["verify", str(tmp_path / "out" / "mnist")]) == 0


def test_prepare_without_source_says_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CHARBENCH_DATA", str(tmp_path))
    assert main(["prepare", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "charbench fetch mnist" in err and "--source" in err


def test_unknown_dataset_suggests(capsys):
    assert main(["prepare", "mnsit", "--source", "."]) == 1
    assert "did you mean mnist" in capsys.readouterr().err


def test_debug_reraises(tmp_path):
    with pytest.raises(charbench.CharbenchError):
        main(["--debug", "prepare", "mnist", "--source", str(tmp_path), "--out", str(tmp_path / "o")])


def test_inspect_writes_png(tiny_dataset, capsys):
    path = tiny_dataset(per_class=6)
    assert main(["inspect", str(path)]) == 0
    assert (path / "inspect.png").stat().st_size > 1000
    assert "imbalance" in capsys.readouterr().out

"""A short, bounded coverage-guided fuzzing run (atheris / libFuzzer) over charbench's raw-format parsers.

Usage: python benchmarks/fuzz_atheris.py [--seconds S] [--target idx|unipen|tiff|strokes|labels ...] [--crashes DIR]

Not a test and not part of ``run_all.py``: it needs ``pip install atheris`` (Linux / macOS wheels for CPython), and
what it finds becomes a regular test (tests/fuzz/). Each target runs in its own process for ``--seconds`` (libFuzzer
exits the process when done), starting from a corpus of valid files written by charbench.synth, and fails on any
exception that is not a CharbenchError: libFuzzer then writes the input to ``<crashes>/crash-<sha1>``, and the
summary names it. Exit status: 0 when every target ran clean, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

TARGETS = ("idx", "unipen", "tiff", "strokes", "labels")


def _seeds(target: str) -> list[bytes]:
    """Valid inputs for ``target``: libFuzzer mutates from these, so it starts past the magic numbers."""
    import numpy as np

    if target == "idx":
        from charbench.synth.idx import idx_bytes

        arrays = [np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), np.arange(5, dtype=">i4")]
        return [idx_bytes(a) for a in arrays] + [gzip.compress(idx_bytes(arrays[0]), mtime=0)]
    if target == "unipen":
        from charbench.synth.unipen import lipi_text

        nici = '.COORD X Y\n.START_SET\n.SEGMENT CHAR 0:0-1:1 OK "a"\n.PEN_DOWN\n 10 10\n 20 20\n.PEN_UP\n 5 5\n'
        return [lipi_text([np.array([[0.1, 0.2], [0.3, 0.4]])], writer=3).encode(), nici.encode()]
    if target == "tiff":
        from charbench.synth.tiff import tiff_bytes

        img = (np.arange(12 * 10) % 256).astype(np.uint8).reshape(12, 10)
        return [tiff_bytes(img, bits=b, compression=c) for b in (1, 8) for c in ("raw", "packbits", "tiff_lzw")]
    if target == "strokes":
        return [b"START\n18.95,-43.53,0\n19.73,-41.96,56\nBREAK\n1,2,3\nBREAK\n"]
    return [b"image_id,labels\nbk1_001,U+3042 1 2 3 4 U+3044 5 6 7 8\nbk1_002,\n"]


def _entry(target: str):
    """The function libFuzzer calls with each input: parse it, and let only CharbenchError pass."""
    import atheris

    with atheris.instrument_imports():
        from charbench.errors import CharbenchError
        from charbench.io import idx, omniglot_strokes, page_crops, tiff, unipen

    work = Path(tempfile.mkdtemp(prefix="charbench-fuzz-"))

    def run_idx(data: bytes) -> None:
        path = work / "input.idx"
        path.write_bytes(data)
        idx.read_idx(path)
        idx.open_idx(path, work / "gunzip")

    def run_unipen(data: bytes) -> None:
        unipen.looks_like_unipen(data)
        text = data.decode("utf-8", errors="replace")
        doc = unipen.parse_unipen(text, "input.dat", lambda _name, _target: ("inc.dat", text[: len(text) // 2]))
        for seg in doc.segments:
            if doc.check_segment(seg) is None:
                doc.strokes(seg)
        doc.uncovered_ink()
        unipen.read_unicode_map(text)
        unipen.read_list_file(text)
        unipen.read_map_file(text)

    def run_tiff(data: bytes) -> None:
        tiff.decode_tiff(data)

    def run_strokes(data: bytes) -> None:
        omniglot_strokes.parse_strokes(data, "input.txt")

    def run_labels(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        page_crops.read_kaggle_labels(text)
        page_crops.read_codh_coordinates(text, "input.csv")

    run = {"idx": run_idx, "unipen": run_unipen, "tiff": run_tiff, "strokes": run_strokes, "labels": run_labels}[target]

    def one_input(data: bytes) -> None:
        try:
            run(data)
        except CharbenchError as exc:
            if not str(exc).strip():
                raise AssertionError(f"{type(exc).__name__} without a message") from None

    return one_input


def _child(target: str, seconds: int, crashes: Path) -> None:
    import atheris

    corpus = Path(tempfile.mkdtemp(prefix=f"charbench-corpus-{target}-"))
    for i, seed in enumerate(_seeds(target)):
        (corpus / f"seed-{i}").write_bytes(seed)
    crashes.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-max_len=4096", "-timeout=10",
            f"-artifact_prefix={crashes}/", str(corpus)]  # fmt: skip
    atheris.Setup(args, _entry(target))
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="fuzzing time per target")
    parser.add_argument("--target", nargs="*", choices=TARGETS, default=["idx", "unipen"])
    default_crashes = Path(tempfile.gettempdir()) / "charbench-fuzz-crashes"
    parser.add_argument("--crashes", type=Path, default=default_crashes, help="where failing inputs go")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.seconds, args.crashes.resolve())
        return 0
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: pip install atheris (CPython on Linux or macOS)", file=sys.stderr)
        return 2
    failed = []
    for target in args.target:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            target,
            "--seconds",
            str(args.seconds),
            "--crashes",
            str(args.crashes),
        ]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=args.seconds + 120)
        stats = [line for line in proc.stderr.splitlines() if line.startswith(("#", "Done"))]
        print(f"{target}: {'clean' if proc.returncode == 0 else 'FAILED'} ({stats[-1] if stats else 'no stats'})")
        if proc.returncode != 0:
            failed.append(target)
            lines = proc.stderr.splitlines()
            start = next((i for i, line in enumerate(lines) if "Uncaught Python exception" in line), len(lines) - 30)
            print("\n".join(lines[start : start + 30]))
    if failed:
        print(f"crashing inputs for {', '.join(failed)} are in {args.crashes.resolve()}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

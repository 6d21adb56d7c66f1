"""Find a dataset's raw files in the folders people already have (torchvision layout, gz or not, zips)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from charbench.errors import FormatError, RawDataNotFoundError
from charbench.io.archive import is_archive, open_archive


def variants(name: str) -> list[str]:
    """A raw file name as published and in its other common form (gzipped or unpacked)."""
    base = name.removesuffix(".gz")
    return [base, base + ".gz"]


def find_file(source: Path, name: str, prefer: str | None = None) -> Path | None:
    """Locate ``name`` (or its .gz / unpacked twin) in ``source``, ``source/<prefer>/raw`` or below.

    Several matches below ``source`` are resolved in favour of a path through a ``prefer`` folder
    (torchvision's ``MNIST``, ``FashionMNIST`` ...); otherwise they are an error, since MNIST,
    Fashion-MNIST and KMNIST share file names and a wrong guess would silently mix datasets.
    """
    source = Path(source)
    if source.is_file():
        return source if source.name in variants(name) else None
    for folder in [source] + ([source / prefer / "raw", source / prefer] if prefer else []):
        for candidate in variants(name):
            if (folder / candidate).is_file():
                return folder / candidate
    found = sorted({p for v in variants(name) for p in source.rglob(v) if p.is_file()})
    if prefer:
        preferred = [p for p in found if prefer.lower() in (part.lower() for part in p.parts)]
        found = preferred or found
    unpacked = {p.with_suffix("") if p.suffix == ".gz" else p for p in found}
    if len(unpacked) > 1:
        listing = ", ".join(str(p) for p in found[:4])
        raise FormatError(f"several candidates for {name} under {source}: {listing}; point --source at one folder")
    return found[0] if found else None


def extract_from_zip(source: Path, name: str, workdir: Path) -> Path | None:
    """Find ``name`` inside an archive under ``source`` (e.g. EMNIST's gzip.zip) and extract that member alone."""
    source = Path(source)
    archives = [source] if source.is_file() and is_archive(source) else sorted(
        p for p in source.rglob("*") if p.is_file() and is_archive(p)) if source.is_dir() else []
    for path in archives:
        with open_archive(path) as archive:
            for member in archive.members():
                if PurePosixPath(member).name in variants(name):
                    out = workdir / PurePosixPath(member).name
                    workdir.mkdir(parents=True, exist_ok=True)
                    archive.extract_member(member, out)
                    return out
    return None


def missing(source: Path, names: list[str], hint: str) -> RawDataNotFoundError:
    return RawDataNotFoundError(f"none of {', '.join(names)} (plain or .gz) found in {source}; {hint}")

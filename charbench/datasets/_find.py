"""Find a dataset's raw files in the folders people already have (torchvision layout, gz or not, zips)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from charbench.errors import FormatError, RawDataNotFoundError


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
    """Find ``name`` inside a zip under ``source`` (e.g. EMNIST's gzip.zip) and extract that member alone."""
    zips = [source] if source.is_file() and source.suffix == ".zip" else sorted(Path(source).rglob("*.zip"))
    for zpath in zips:
        try:
            with zipfile.ZipFile(zpath) as zf:
                for member in zf.namelist():
                    if Path(member).name in variants(name) and not member.endswith("/"):
                        out = workdir / Path(member).name
                        workdir.mkdir(parents=True, exist_ok=True)
                        with zf.open(member) as src, open(out, "wb") as dst:
                            while block := src.read(1 << 20):
                                dst.write(block)
                        return out
        except zipfile.BadZipFile:
            raise FormatError(f"{zpath}: not a readable zip archive") from None
    return None


def missing(source: Path, names: list[str], hint: str) -> RawDataNotFoundError:
    return RawDataNotFoundError(f"none of {', '.join(names)} (plain or .gz) found in {source}; {hint}")

"""Omniglot: 1,623 handwritten characters from 50 alphabets, each drawn once by 20 drawers (Lake et al., 2015).

Homepage: https://github.com/brendenlake/omniglot. License: MIT.
Citation: B. M. Lake, R. Salakhutdinov and J. B. Tenenbaum. Human-level concept learning through probabilistic
program induction. Science 350(6266):1332-1338, 2015.

Raw format: ``images_background/<Alphabet>/characterNN/NNNN_DD.png`` (30 alphabets, 964 characters, 19,280 PNGs)
and ``images_evaluation/...`` (20 alphabets, 659 characters, 13,180 PNGs): 105x105 one-bit PNGs, black ink on
white. ``NNNN`` numbers the characters, ``DD`` (01..20) is the drawer. ``images_background_small1`` / ``_small2``
are 5-alphabet subsets of background. The same trees exist as stroke files, ``strokes_<set>/.../NNNN_DD.txt``
(see :mod:`charbench.io.omniglot_strokes`). ``--source`` may be a folder holding the extracted trees, a folder
holding the zips (read in place, never extracted), or one zip.

Options: ``--label alphabet|character`` (class names ``Alphabet`` or ``Alphabet/characterNN``);
``--set background|evaluation|all`` (default background; small1/small2 count as background); ``--from
images|strokes``; ``-O pen_width=F`` (strokes: width as a fraction of the output side; the default 0.07 matches the
PNGs' ink coverage on the small1 set). Corrupt PNGs, unparsable stroke files, unsafe zip entries and PNGs outside the
layout are skipped and counted (``--strict``: an error); ``.DS_Store`` / ``__MACOSX`` junk is ignored.

Groups: ``drawer`` = ``DD``. The default split is by drawer (16/2/2 of the 20 drawers with the default fractions),
so no drawer's handwriting is in two splits; ``--split random`` gives the usual seeded random split. When both
sets are read, ``--split official`` is the few-shot protocol: background -> train/val, evaluation -> test.

Source ids are ``set * 10**7 + NNNN * 100 + DD`` (set 0 background, 1 evaluation): the same for a drawing whichever
zip, subset or extracted copy it is read from; a drawing found twice is kept once (and counted as skipped).

Normalisation: crop to the ink, fit into ``size - 2*margin`` (size 64 by default), centre the mass. Drawers wrote
anywhere on the canvas and at very different sizes, so keeping the canvas (a plain 105 -> 28 resize) leaves position
and scale as noise the classes do not carry; mass centring is what every charbench dataset gets (MNIST's convention)
and what the stroke rasteriser does, so a PNG and its strokes come out aligned. The PNGs are bilevel already: no
binarisation.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, register_dataset
from charbench.errors import ArchiveError, FormatError, OptionError, RawDataNotFoundError
from charbench.io.folder_tree import Layout, Level, TreeFile, list_tree
from charbench.io.omniglot_strokes import pack, parse_strokes, take
from charbench.kernels.ragged import Ragged

SET_CODES = {"background": 0, "evaluation": 1}
COPIES = "drawings found again in another copy of their set (a _small subset beside the set): read once"
SET_STRIDE = 10**7
_TOP = re.compile(r"(?P<kind>images|strokes)_(?P<set>background|evaluation)(?P<small>_small[12])?")
_SUFFIX = {"images": ".png", "strokes": ".txt"}
_IMAGE_DEFAULTS = Defaults(size=64, binarize="none", center="mass", split="group", group_by="drawer")
# Strokes are rasterised straight at the output size (centre of mass, margin 2), so normalisation has nothing to do.
_STROKE_DEFAULTS = Defaults(size=64, binarize="none", center="none", invert="no", split="group", group_by="drawer")
_RASTER = {"center": "mass", "margin": 2}


def layout(modality: str) -> Layout:
    """The Omniglot tree layout of one modality (``images`` or ``strokes``)."""
    suffix = _SUFFIX[modality]
    return Layout(
        levels=(
            Level(
                rf"(?P<top>{modality}_(?:background|evaluation)(?:_small[12])?)",
                f"a {modality}_background / {modality}_evaluation folder",
            ),
            Level(r"(?P<alphabet>.+)", "an alphabet folder"),
            Level(r"(?P<character>character\d{2,3})", "a characterNN folder"),
            Level(rf"(?P<number>\d{{4}})_(?P<drawer>\d{{2}})(?i:\{suffix})", f"an NNNN_DD{suffix} file name"),
        ),
        suffixes=(suffix,),
    )


@register_dataset("omniglot")
class Omniglot(Converter):
    """Omniglot PNG or stroke trees, extracted or zipped; alphabet- or character-level labels."""

    defaults = _IMAGE_DEFAULTS
    options = {"label": "alphabet", "subset": "background", "modality": "images", "pen_width": 0.07}

    def __init__(self, source: Path, *, strict: bool = False, **options):
        super().__init__(source, strict=strict, **options)
        _check_choice("--label", self.opts["label"], ("alphabet", "character"))
        _check_choice("--set", self.opts["subset"], ("background", "evaluation", "all"))
        _check_choice("--from", self.opts["modality"], ("images", "strokes"))
        try:
            self.opts["pen_width"] = float(self.opts["pen_width"])
        except (TypeError, ValueError):
            self.opts["pen_width"] = -1.0
        if not 0 < self.opts["pen_width"] < 0.5:
            raise OptionError(
                f"-O pen_width takes a number in (0, 0.5), a fraction of the output side; "
                f"got {options.get('pen_width')!r}"
            )
        self.modality = self.opts["modality"]
        self.defaults = _STROKE_DEFAULTS if self.modality == "strokes" else _IMAGE_DEFAULTS
        self._out_size: int | None = None

    @property
    def wanted_sets(self) -> tuple[str, ...]:
        """The published sets ``--set`` selects."""
        return ("background", "evaluation") if self.opts["subset"] == "all" else (self.opts["subset"],)

    def scan(self) -> Catalog:
        if not self.source.exists():
            raise RawDataNotFoundError(f"Omniglot source {self.source} not found; run: charbench fetch omniglot")
        self._raw = self.open_source()
        found, misfits = list_tree(self._raw, layout(self.modality))
        for rel, reason in misfits:
            self.skips.add(reason, self._raw.describe(rel))
        sets_found: dict[str, int] = {}
        for f in found:
            sets_found[f.fields["top"]] = sets_found.get(f.fields["top"], 0) + 1
        kept = self._select(found, sets_found)
        return self._catalog(kept, sets_found)

    def _select(self, found: list[TreeFile], sets_found: dict[str, int]) -> list[TreeFile]:
        """Files of the wanted sets, each drawing once, readable."""
        wanted = [f for f in found if _TOP.fullmatch(f.fields["top"])["set"] in self.wanted_sets]
        if not wanted:
            have = ", ".join(f"{k} ({v})" for k, v in sets_found.items()) or "none"
            kind = self.modality
            raise RawDataNotFoundError(
                f"no Omniglot {kind} of --set {self.opts['subset']} in {self.source} (expected "
                f"{kind}_<set>/<Alphabet>/characterNN/NNNN_DD{_SUFFIX[kind]}, extracted or in {kind}_<set>.zip); "
                f"sets found: {have} (choose with --set, and --from for the other modality)"
            )
        seen: dict[int, tuple] = {}
        kept = []
        self._drawings, self._shapes = [], set()
        for f in wanted:
            sid, key = source_id(f.fields), tuple(f.fields[k] for k in ("alphabet", "character", "number", "drawer"))
            if sid in seen:
                if seen[sid] == key:  # the same drawing from another copy of the set (a subset beside the set)
                    self.skips.add(COPIES, fatal=False)
                else:
                    self.skips.add("NNNN_DD already used by another character", self._raw.describe(f.path))
                continue
            problem = self._check(f)
            if problem:
                self.skips.add(problem, self._raw.describe(f.path))
                continue
            seen[sid] = key
            kept.append(f)
        self._raw.close()
        return kept

    def _check(self, f: TreeFile) -> str | None:
        """Why a file cannot be used (None when it can); stroke files are parsed here and kept for ``load``."""
        try:
            data = self._raw.read(f.path)
        except ArchiveError as exc:
            return f"unreadable archive entry ({exc})"
        if self.modality == "strokes":
            try:
                self._drawings.append(parse_strokes(data, f.path))
            except FormatError:
                return "unparsable stroke file"
            return None
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.verify()  # chunk structure and CRCs, without decoding pixels
                self._shapes.add(im.size)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, DecompressionBombError):
            return "corrupt PNG"
        return None

    def _catalog(self, kept: list[TreeFile], sets_found: dict[str, int]) -> Catalog:
        fields = [f.fields for f in kept]
        by_char = self.opts["label"] == "character"
        names = [f"{x['alphabet']}/{x['character']}" if by_char else x["alphabet"] for x in fields]
        classes = sorted(set(names), key=_natural)
        index = {name: i for i, name in enumerate(classes)}
        self._files = [f.path for f in kept]
        sets = np.array([SET_CODES[_TOP.fullmatch(x["top"])["set"]] for x in fields], np.int8)
        if self.modality == "strokes":
            self._packed = pack(self._drawings)
            del self._drawings
        used = sorted({x["top"] for x in fields})
        notes = {
            "sets": {t: sum(x["top"] == t for x in fields) for t in used},
            "modality": self.modality,
            "label": self.opts["label"],
            "source_ids": "set * 10**7 + NNNN * 100 + DD (set 0 background, 1 evaluation)",
        }
        missing = [s for s in self.wanted_sets if s not in {_TOP.fullmatch(t)["set"] for t in used}]
        if missing:
            notes["missing_sets"] = missing
        return Catalog(
            labels=np.array([index[n] for n in names], np.int32),
            source_ids=np.array([source_id(x) for x in fields], np.int64),
            classes=[ClassInfo(c) for c in classes],
            groups={"drawer": np.array([int(x["drawer"]) for x in fields], np.int32)},
            official=np.where(sets == 0, 0, 2).astype(np.int8) if len(set(sets.tolist())) > 1 else None,
            native_size=105 if self._shapes == {(105, 105)} else None,
            notes=notes,
        )

    def set_output_size(self, size: int) -> bool:
        self._out_size = int(size)
        return self.modality == "strokes"  # strokes are drawn at the output size; PNGs go through normalisation

    def load(self, rows: np.ndarray):
        if self.modality == "strokes":
            return self._render(np.asarray(rows, dtype=np.int64))
        images = []
        for r in np.asarray(rows).tolist():
            rel = self._files[r]
            try:
                with Image.open(io.BytesIO(self._raw.read(rel))) as im:
                    images.append(np.asarray(im.convert("L"), dtype=np.uint8))
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError, DecompressionBombError) as exc:
                raise FormatError(f"cannot decode {self._raw.describe(rel)}: {exc}") from None
        if images and len({im.shape for im in images}) == 1:
            return np.stack(images)
        return Ragged.from_list(images)

    def _render(self, rows: np.ndarray) -> np.ndarray:
        from charbench.kernels import rasterize_strokes

        points, strokes, samples = take(*self._packed, rows)
        size = self._out_size or self.defaults.size
        return rasterize_strokes(points, strokes, samples, size=size, pen_width=self.opts["pen_width"], **_RASTER)

    def source_files(self) -> list[str]:
        return self._raw.file_paths(self._files)

    def close(self) -> None:
        if getattr(self, "_raw", None) is not None:
            self._raw.close()

    def write_synthetic(self, root: Path) -> Path:
        from charbench.synth.omniglot import write_omniglot

        return write_omniglot(root, num_alphabets=3, characters=3, sets=("background", "evaluation"), zipped=True)


def source_id(fields: dict[str, str]) -> int:
    """``set * 10**7 + NNNN * 100 + DD``: the same drawing gets the same id from any copy of the set."""
    subset = SET_CODES[_TOP.fullmatch(fields["top"])["set"]]
    return subset * SET_STRIDE + int(fields["number"]) * 100 + int(fields["drawer"])


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _check_choice(flag: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"omniglot {flag} takes {' | '.join(choices)}; got {value!r}")

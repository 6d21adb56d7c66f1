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

The few-shot community's copies are read too: any ``<Alphabet>/characterNN/<file>.png`` tree without a set folder,
such as the MAML / prototypical-network ``omniglot_resized/`` (28x28, all 50 alphabets in one tree). The set of such
a file is its alphabet's (the official lists of 30 and 20 alphabets; ``other`` for an alphabet in neither), and its
drawer comes from an ``NNNN_DD`` file name (-1 when the name has none).

Options: ``--label alphabet|character`` (class names ``Alphabet`` or ``Alphabet/characterNN``);
``--set background|evaluation|all`` (default: every set the source holds; index.json and the summary say which were
read; small1/small2 count as background); ``--from images|strokes``; ``-O pen_width=F`` (strokes: width as a fraction
of the output side; the default 0.07 matches the PNGs' ink coverage on the small1 set). The scan reads file names
only; PNGs are decoded by the worker processes, and a corrupt one is left out of its shard and counted (``--strict``:
an error), as are unparsable stroke files (parsed at scan), unsafe zip entries and PNGs outside the layout.
``.DS_Store`` / ``__MACOSX`` junk is ignored.

Groups: ``drawer`` = ``DD``. The default split is by drawer (16/2/2 of the 20 drawers with the default fractions),
so no drawer's handwriting is in two splits; ``--split random`` gives the usual seeded random split. When both
sets are read, ``--split official`` is the few-shot protocol: background -> train/val, evaluation -> test.

Source ids are ``set * 10**7 + NNNN * 100 + DD`` (set 0 background, 1 evaluation, 2 other alphabets): the same for a
drawing whichever zip, subset or extracted copy it is read from, so a drawing found twice is kept once (and counted
as skipped). Files without an ``NNNN_DD`` name get ``3 * 10**7 + `` their position in the sorted listing.

Normalisation: crop to the ink, fit into ``size - 2*margin`` (size 64 by default), centre the mass. Drawers wrote
anywhere on the canvas and at very different sizes, so keeping the canvas (a plain 105 -> 28 resize) leaves position
and scale as noise the classes do not carry; mass centring is what every charbench dataset gets (MNIST's convention)
and what the stroke rasteriser does, so a PNG and its strokes come out aligned. The PNGs are bilevel already: no
binarisation.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from charbench.datasets.base import Catalog, ClassInfo, Converter, Defaults, load_image_files, register_dataset
from charbench.errors import ArchiveError, FormatError, OptionError, RawDataNotFoundError
from charbench.io.folder_tree import Layout, Level, TreeFile, list_tree
from charbench.io.images import png_header
from charbench.io.omniglot_strokes import pack, parse_strokes, take
from charbench.targets import Target

SET_CODES = {"background": 0, "evaluation": 1, "other": 2}
UNNAMED_SET = 3  # source-id prefix of files without an NNNN_DD name
# The official sets' alphabets, which tell the set of a tree that has no images_<set> folder (omniglot_resized).
BACKGROUND_ALPHABETS = frozenset({
    "Alphabet_of_the_Magi", "Anglo-Saxon_Futhorc", "Arcadian", "Armenian", "Asomtavruli_(Georgian)", "Balinese",
    "Bengali", "Blackfoot_(Canadian_Aboriginal_Syllabics)", "Braille", "Burmese_(Myanmar)", "Cyrillic",
    "Early_Aramaic", "Futurama", "Grantha", "Greek", "Gujarati", "Hebrew", "Inuktitut_(Canadian_Aboriginal_Syllabics)",
    "Japanese_(hiragana)", "Japanese_(katakana)", "Korean", "Latin", "Malay_(Jawi_-_Arabic)", "Mkhedruli_(Georgian)",
    "N_Ko", "Ojibwe_(Canadian_Aboriginal_Syllabics)", "Sanskrit", "Syriac_(Estrangelo)", "Tagalog", "Tifinagh",
})  # fmt: skip
EVALUATION_ALPHABETS = frozenset({
    "Angelic", "Atemayar_Qelisayer", "Atlantean", "Aurek-Besh", "Avesta", "Ge_ez", "Glagolitic", "Gurmukhi",
    "Kannada", "Keble", "Malayalam", "Manipuri", "Mongolian", "Old_Church_Slavonic_(Cyrillic)", "Oriya", "Sylheti",
    "Syriac_(Serto)", "Tengwar", "Tibetan", "ULOG",
})  # fmt: skip
COPIES = "drawings found again in another copy of their set (a _small subset beside the set): read once"
SET_STRIDE = 10**7
_TOP = re.compile(r"(?P<kind>images|strokes)_(?P<set>background|evaluation|other)(?P<small>_small[12])?")
_SUFFIX = {"images": ".png", "strokes": ".txt"}
_IMAGE_DEFAULTS = Defaults(size=64, binarize="none", center="mass", split="group", group_by="drawer")
# Strokes are rasterised straight at the output size (centre of mass, margin 2), so normalisation has nothing to do.
_STROKE_DEFAULTS = Defaults(size=64, binarize="none", center="none", invert="no", split="group", group_by="drawer")
_RASTER = {"center": "mass", "margin": 2}


def alphabet_tree(modality: str) -> Layout:
    """Any ``<Alphabet>/characterNN/<file>`` tree of one modality (``omniglot_resized`` and the like)."""
    suffix = _SUFFIX[modality]
    return Layout(
        levels=(
            Level(r"(?P<alphabet>.+)", "an alphabet folder"),
            Level(r"(?P<character>character\d{2,3})", "a characterNN folder"),
            Level(rf"(?:(?P<number>\d{{4}})_(?P<drawer>\d{{2}})|[^/]+)(?i:\{suffix})", f"a {suffix} file"),
        ),
        suffixes=(suffix,),
    )


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
    options = {"label": "alphabet", "subset": None, "modality": "images", "pen_width": 0.07}
    default_shard_size = 4096  # decoding is the work: more shards spread it over more workers
    reference_models = ("omniglot_cnn", "resnet18")
    # Every published Omniglot figure is few-shot (N-way K-shot); for plain classification of the 30 background
    # alphabets only the notebook this project grew out of printed one.
    targets = (
        Target("omniglot_cnn", 69.5, "the Omniglot alphabet-classification notebook this project grew out of "
               "(charbench run --suite notebooks re-runs it)",
               "30 background alphabets as classes, 64x64, random 80/20 split of the drawings, Adam 1e-3, batch 128, "
               "10 epochs, rotation / crop / blur augmentation; no published figure exists for this task",
               split="random", options=(("label", "alphabet"),), num_classes=30, kind="notebook"),
    )

    def __init__(self, source: Path, *, strict: bool = False, **options):
        super().__init__(source, strict=strict, **options)
        _check_choice("--label", self.opts["label"], ("alphabet", "character"))
        if self.opts["subset"] is not None:
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
        """The sets ``--set`` selects (every set, other alphabets included, when it is not given)."""
        subset = self.opts["subset"]
        return tuple(SET_CODES) if subset in (None, "all") else (subset,)

    def scan(self) -> Catalog:
        if not self.source.exists():
            raise RawDataNotFoundError(f"Omniglot source {self.source} not found; run: charbench fetch omniglot")
        self._raw = self.open_source()
        found = self._list()
        sets_found: dict[str, int] = {}
        for f in found:
            sets_found[f.fields["top"]] = sets_found.get(f.fields["top"], 0) + 1
        kept = self._select(found, sets_found)
        return self._catalog(kept, sets_found)

    def _list(self) -> list[TreeFile]:
        """Files of the official layout, else of any alphabet tree (its set told by its alphabet); misfits skipped."""
        official, misfits = list_tree(self._raw, layout(self.modality))
        others, still = list_tree(self._raw, alphabet_tree(self.modality), files=[rel for rel, _ in misfits])
        reasons = dict(misfits)
        for rel, _ in still:
            self.skips.add(reasons[rel], self._raw.describe(rel))
        for f in others:
            f.fields["top"] = f"{self.modality}_{_alphabet_set(f.fields['alphabet'])}"
        return sorted(official + others, key=lambda f: f.path)

    def _select(self, found: list[TreeFile], sets_found: dict[str, int]) -> list[TreeFile]:
        """Files of the wanted sets, each drawing once (stroke files parsed here, kept for ``load``)."""
        sets = self.wanted_sets
        wanted = [f for f in found if _set_of(f.fields["top"]) in sets]
        if not wanted:
            have = ", ".join(f"{k} ({v})" for k, v in sets_found.items()) or "none"
            kind = self.modality
            raise RawDataNotFoundError(
                f"no Omniglot {kind} of --set {self.opts['subset'] or 'any'} in {self.source} (expected "
                f"{kind}_<set>/<Alphabet>/characterNN/NNNN_DD{_SUFFIX[kind]} or <Alphabet>/characterNN/<file>"
                f"{_SUFFIX[kind]}, extracted or in zips); sets found: {have} "
                "(choose with --set, and --from for the other modality)"
            )
        seen: dict[int, tuple] = {}
        kept = []
        self._drawings = []
        for position, f in enumerate(wanted):
            sid = source_id(f.fields, position)
            key = tuple(f.fields.get(k) for k in ("alphabet", "character", "number", "drawer"))
            if sid in seen:
                if seen[sid] == key:  # the same drawing from another copy of the set (a subset beside the set)
                    self.skips.add(COPIES, fatal=False)
                else:
                    self.skips.add("NNNN_DD already used by another character", self._raw.describe(f.path))
                continue
            if self.modality == "strokes" and not self._parse(f):
                continue
            seen[sid] = key
            f.fields["id"] = str(sid)
            kept.append(f)
        return kept

    def _parse(self, f: TreeFile) -> bool:
        try:
            self._drawings.append(parse_strokes(self._raw.read(f.path), f.path))
        except (FormatError, ArchiveError):
            self.skips.add("unparsable stroke file", self._raw.describe(f.path))
            return False
        return True

    def _catalog(self, kept: list[TreeFile], sets_found: dict[str, int]) -> Catalog:
        fields = [f.fields for f in kept]
        by_char = self.opts["label"] == "character"
        names = [f"{x['alphabet']}/{x['character']}" if by_char else x["alphabet"] for x in fields]
        classes = sorted(set(names), key=_natural)
        index = {name: i for i, name in enumerate(classes)}
        self._files = [f.path for f in kept]
        self._side = self._native_size()
        sets = np.array([SET_CODES[_set_of(x["top"])] for x in fields], np.int8)
        if self.modality == "strokes":
            self._packed = pack(self._drawings)
            del self._drawings
        used = sorted({x["top"] for x in fields})
        tops = [x["top"] for x in fields]
        read = {t: tops.count(t) for t in used}
        notes = {
            "sets": read,
            "read": "; ".join(f"{t} ({n:,} {'PNGs' if self.modality == 'images' else 'stroke files'})"
                              for t, n in read.items()),
            "modality": self.modality,
            "label": self.opts["label"],
            "source_ids": "set * 10**7 + NNNN * 100 + DD (set 0 background, 1 evaluation, 2 other alphabets); "
                          "3 * 10**7 + position for files without an NNNN_DD name",
        }
        if self.opts["subset"] not in (None, "all") or self.opts["subset"] == "all":
            asked = ("background", "evaluation") if self.opts["subset"] == "all" else self.wanted_sets
            if missing := [s for s in asked if s not in {_set_of(t) for t in used}]:
                notes["missing_sets"] = missing
        return Catalog(
            labels=np.array([index[n] for n in names], np.int32),
            source_ids=np.array([int(x["id"]) for x in fields], np.int64),
            classes=[ClassInfo(c) for c in classes],
            groups={"drawer": np.array([int(x.get("drawer") or -1) for x in fields], np.int32)},
            official=np.where(sets == 0, 0, 2).astype(np.int8) if {0, 1} <= set(sets.tolist()) else None,
            native_size=self._side,
            notes=notes,
        )

    def set_output_size(self, size: int) -> bool:
        self._out_size = int(size)
        return self.modality == "strokes"  # strokes are drawn at the output size; PNGs go through normalisation

    def _native_size(self) -> int | None:
        """The side of every image, from the PNG headers of a few files spread over the listing (strokes: None)."""
        if self.modality == "strokes" or not self._files:
            return None
        picks = np.unique(np.linspace(0, len(self._files) - 1, min(16, len(self._files))).astype(int))
        headers = {png_header(self._raw.head(self._files[k], 32)) for k in picks.tolist()}
        sides = {(h[0], h[1]) for h in headers if h is not None}
        side = next(iter(sides)) if len(sides) == 1 and None not in headers else (0, 1)
        return side[0] if side[0] == side[1] else None

    def load(self, rows: np.ndarray):
        if self.modality == "strokes":
            return self._render(np.asarray(rows, dtype=np.int64))
        return load_image_files(self._raw, [self._files[r] for r in np.asarray(rows).tolist()], self._side,
                                "corrupt PNG")

    def describe(self, row: int) -> str:
        return self._raw.describe(self._files[row])

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


def source_id(fields: dict[str, str], position: int = 0) -> int:
    """``set * 10**7 + NNNN * 100 + DD``: the same drawing gets the same id from any copy of the set; files without
    an ``NNNN_DD`` name ``3 * 10**7 + position``."""
    if fields.get("number") is None:
        return UNNAMED_SET * SET_STRIDE + position
    return SET_CODES[_set_of(fields["top"])] * SET_STRIDE + int(fields["number"]) * 100 + int(fields["drawer"])


@cache  # a handful of top folder names, asked once per file
def _set_of(top: str) -> str:
    """``images_background_small1`` -> ``background`` (the set a top folder name stands for)."""
    return _TOP.fullmatch(top)["set"]


def _alphabet_set(alphabet: str) -> str:
    if alphabet in BACKGROUND_ALPHABETS:
        return "background"
    return "evaluation" if alphabet in EVALUATION_ALPHABETS else "other"


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _check_choice(flag: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"omniglot {flag} takes {' | '.join(choices)}; got {value!r}")

"""Fonts for class labels: pick an installed font that can draw a label, or an ASCII label when none can.

Class names are often single CJK or Tamil characters, which matplotlib's bundled DejaVu Sans cannot draw
(it prints a "Glyph ... missing" warning and an empty box). :func:`label_font` walks :data:`FALLBACK_FAMILIES`
and returns the first *installed* family whose font file has every glyph of the text; :func:`display_label`
turns a class into the text to draw plus that font, or into plain ASCII ("U+3042") when no installed font
has the glyphs. :func:`quiet_glyph_warnings` silences matplotlib's missing-glyph messages while drawing.

Only fonts known to ``matplotlib.font_manager`` are considered; after installing a font package, refresh
matplotlib's cache (``matplotlib.font_manager._load_fontmanager(try_read_cache=False)``) and call
``installed_fonts.cache_clear()`` in a running process.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

#: Families tried in order: Japanese, then Tamil, then general fonts. DejaVu Sans ships with matplotlib.
FALLBACK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK JP", "Noto Sans JP", "Noto Serif CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic",
    "Noto Sans Tamil", "Noto Serif Tamil", "Lohit Tamil", "Latha", "Noto Sans", "DejaVu Sans",
)
#: matplotlib's bundled font; assumed to draw ASCII and whitespace, and used as the per-glyph fallback.
DEFAULT_FAMILY = "DejaVu Sans"
#: Longest class name drawn as is; longer names keep their head and tail around "..." (see :func:`shorten`).
MAX_NAME_CHARS = 28

_GLYPH_WARNING = r"Glyph \d+ .*missing from font\(s\)"  # matplotlib._text_helpers.warn_on_missing_glyph
_GLYPH_LOG = "does not have a glyph for"  # matplotlib._mathtext: "Font %r does not have a glyph for %a ..."


@lru_cache(maxsize=1)
def installed_fonts() -> tuple[tuple[str, str], ...]:
    """The fallback families matplotlib knows on this machine, in fallback order.

    Returns:
        ``(family, font file path)`` pairs, for the families of :data:`FALLBACK_FAMILIES` that are installed.
    """
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    found = []
    for family in FALLBACK_FAMILIES:
        if family not in known:
            continue
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        found.append((family, str(path)))
    return tuple(found)


@cache
def _font_file(path: str) -> FT2Font:
    return FT2Font(path)


@cache
def _has_char(path: str, char: str) -> bool:
    return _font_file(path).get_char_index(ord(char)) != 0


def _needs_glyph(char: str) -> bool:
    """Whether ``char`` must be checked: ASCII and whitespace are drawn by DejaVu Sans anyway."""
    return not (char.isascii() or char.isspace())


def has_glyphs(path: str, text: str) -> bool:
    """Whether the font file at ``path`` has a glyph for every non-ASCII, non-whitespace character of ``text``.

    Args:
        path: A font file matplotlib can open (TrueType/OpenType; the first face of a collection).
        text: The label to draw.

    Returns:
        True when every character that needs a glyph has one (cached per font path and character).
    """
    return all(_has_char(path, c) for c in text if _needs_glyph(c))


def label_font(text: str) -> font_manager.FontProperties | None:
    """The first installed fallback font that can draw ``text``.

    Args:
        text: The label to draw.

    Returns:
        Properties naming that family with DejaVu Sans behind it (matplotlib falls back per glyph, so ASCII
        missing from the chosen font still draws); plain DejaVu Sans for ASCII-only text; None when no
        installed font has every glyph.
    """
    if not any(_needs_glyph(c) for c in text):
        return font_manager.FontProperties(family=[DEFAULT_FAMILY])
    for family, path in installed_fonts():
        if has_glyphs(path, text):
            families = [family] if family == DEFAULT_FAMILY else [family, DEFAULT_FAMILY]
            return font_manager.FontProperties(family=families)
    return None


def shorten(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """``name`` unchanged when it has at most ``limit`` characters, else its head and tail around "...".

    The tail gets the extra character because it carries the distinguishing part of names like
    "Inuktitut_(Canadian_Aboriginal_Syllabics)/character12" -> "Inuktitut_(C...)/character12".

    Args:
        name: A class name.
        limit: The longest result, in characters (at least 5).

    Returns:
        A string of at most ``limit`` characters.
    """
    if len(name) <= limit:
        return name
    head = (limit - 3) // 2
    tail = limit - 3 - head
    return f"{name[:head]}...{name[-tail:]}"


def codepoint_text(text: str) -> str:
    """``text`` in plain ASCII: ASCII kept, every other character as "U+XXXX".

    A code is set off by a space from an adjacent letter, digit or code, e.g. "U+0B95 U+0BCD",
    "Tamil/U+0B95", "a U+3042".

    Args:
        text: A class name.

    Returns:
        An ASCII string.
    """
    out, prev_coded = "", False
    for token in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]", text):
        coded = not token.isascii()
        word = f"U+{ord(token):04X}" if coded else token
        if out and (coded or prev_coded) and out[-1].isalnum() and word[0].isalnum():
            out += " "
        out, prev_coded = out + word, coded
    return out


def _valid_codepoint(codepoint: int | None) -> bool:
    return codepoint is not None and 0 <= codepoint <= 0x10FFFF


def display_label(name: str, codepoint: int | None, count: int | None = None
                  ) -> tuple[str, font_manager.FontProperties | None]:
    """The text to draw for a class, and the font to draw it with.

    When an installed font has every glyph of ``name``: the name (shortened to :data:`MAX_NAME_CHARS` by
    :func:`shorten`), then " U+XXXX" for a one-character name with a codepoint. Otherwise plain ASCII: "U+XXXX"
    from ``codepoint`` for a name of at most one character, else :func:`codepoint_text` of the name. Either
    way "  (n=COUNT)" follows when ``count`` is given.

    Args:
        name: The class name (the index's ``classes[i]["name"]``).
        codepoint: Its Unicode codepoint, or None / -1 when it has none.
        count: A sample count to show, or None.

    Returns:
        ``(text, font)``; ``font`` is None when the text is the ASCII fallback (any font draws it).
    """
    has_code = _valid_codepoint(codepoint)
    font = label_font(name)
    if font is not None:
        text = shorten(name) + (f" U+{codepoint:04X}" if has_code and len(name) == 1 else "")
    elif has_code and len(name) <= 1:
        text = f"U+{codepoint:04X}"
    else:
        text = shorten(codepoint_text(name))
    if count is not None:
        text += f"  (n={count})"
    return text, font


class _DropGlyphRecords(logging.Filter):
    """Drops mathtext's "Font ... does not have a glyph for ..." records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _GLYPH_LOG not in str(record.msg)


@contextmanager
def quiet_glyph_warnings() -> Iterator[None]:
    """Silence matplotlib's missing-glyph messages inside the block; the previous state returns on exit.

    matplotlib 3.11 reports a glyph missing from plain text as a ``UserWarning`` ("Glyph 12354 (...) missing
    from font(s) DejaVu Sans.") and one missing from mathtext as a WARNING of the ``matplotlib.mathtext``
    logger. The block ignores that warning (under ``warnings.catch_warnings``, which restores the filters)
    and filters those log records (the filter is removed again). Not thread-safe, like ``catch_warnings``.
    """
    logger = logging.getLogger("matplotlib.mathtext")
    record_filter = _DropGlyphRecords()
    logger.addFilter(record_filter)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
            yield
    finally:
        logger.removeFilter(record_filter)

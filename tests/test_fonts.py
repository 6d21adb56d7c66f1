"""charbench.fonts: label fonts from installed families, ASCII fallbacks, and quiet missing-glyph messages."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from charbench import fonts

DEJAVU = str(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False))
LONG = "Inuktitut_(Canadian_Aboriginal_Syllabics)/character12"


@pytest.fixture
def dejavu_only(monkeypatch):
    """Pretend matplotlib's bundled DejaVu Sans is the only installed font."""
    monkeypatch.setattr(fonts, "installed_fonts", lambda: (("DejaVu Sans", DEJAVU),))


@pytest.fixture
def fake_japanese(monkeypatch):
    """Pretend a font "Fake JP" that has every glyph is installed ahead of DejaVu Sans."""
    monkeypatch.setattr(fonts, "installed_fonts", lambda: (("Fake JP", "/fake/jp.ttf"), ("DejaVu Sans", DEJAVU)))
    monkeypatch.setattr(fonts, "has_glyphs", lambda path, text: path == "/fake/jp.ttf")


def test_installed_fonts_are_fallback_families_with_files():
    found = fonts.installed_fonts()
    families = [family for family, _ in found]
    assert "DejaVu Sans" in families
    assert families == [f for f in fonts.FALLBACK_FAMILIES if f in families]  # fallback order kept
    assert all(Path(path).is_file() for _, path in found)


def test_has_glyphs_on_dejavu():
    assert fonts.has_glyphs(DEJAVU, "Greek/Ω é")
    assert not fonts.has_glyphs(DEJAVU, "あ")
    assert not fonts.has_glyphs(DEJAVU, "\ue000")


def test_ascii_name_with_count():
    text, font = fonts.display_label("A/a", None, count=4)
    assert text == "A/a  (n=4)"
    assert font is not None and font.get_family() == ["DejaVu Sans"]
    assert fonts.display_label("7", 0x37, count=12)[0] == "7 U+0037  (n=12)"
    assert fonts.display_label("7", -1)[0] == "7"  # -1 means "no codepoint", as in the index


def test_japanese_name_with_a_font_that_has_it(fake_japanese):
    text, font = fonts.display_label("あ", 0x3042, count=3)
    assert text == "あ U+3042  (n=3)"
    assert font.get_family() == ["Fake JP", "DejaVu Sans"]


def test_japanese_name_without_a_font_falls_back_to_ascii(dejavu_only):
    text, font = fonts.display_label("あ", 0x3042, count=3)
    assert text == "U+3042  (n=3)" and text.isascii()
    assert font is None
    assert fonts.label_font("あ") is None


def test_japanese_name_with_the_fonts_of_this_machine():
    text, font = fonts.display_label("あ", 0x3042)
    able = [family for family, path in fonts.installed_fonts() if fonts.has_glyphs(path, "あ")]
    if able:
        assert "あ" in text and "U+3042" in text
        assert font.get_family()[0] == able[0]
    else:
        assert text == "U+3042" and font is None


def test_private_use_character_falls_back_to_its_codepoint(dejavu_only):
    assert fonts.display_label("\ue000", 0xE000) == ("U+E000", None)
    assert fonts.display_label("\ue000", None, count=2) == ("U+E000  (n=2)", None)


def test_undrawable_names_are_spelled_out_character_by_character(dejavu_only):
    assert fonts.display_label("க்", None)[0] == "U+0B95 U+0BCD"
    assert fonts.display_label("Tamil/க", None)[0] == "Tamil/U+0B95"
    assert fonts.codepoint_text("aあb") == "a U+3042 b"


def test_long_names_keep_head_and_tail():
    assert fonts.shorten("Greek/character05") == "Greek/character05"  # not cut at 12 characters any more
    short = fonts.shorten(LONG)
    assert short == "Inuktitut_(C...)/character12"
    assert len(short) == fonts.MAX_NAME_CHARS
    assert fonts.display_label(LONG, None, count=20)[0] == "Inuktitut_(C...)/character12  (n=20)"
    assert fonts.shorten("x" * 28) == "x" * 28 and len(fonts.shorten("x" * 29)) == 28


def _draw(label: str) -> None:
    """Draw ``label`` as plain text and as mathtext in DejaVu Sans, which lacks CJK and Tamil glyphs."""
    fig, ax = plt.subplots(figsize=(2, 1))
    dejavu = font_manager.FontProperties(family="DejaVu Sans")
    ax.set_title(label, fontproperties=dejavu)
    ax.set_xlabel(f"$x$ {label}", fontproperties=dejavu)
    fig.canvas.draw()
    plt.close(fig)


def _glyph_messages(records, log_records) -> list[str]:
    texts = [str(w.message) for w in records] + [r.getMessage() for r in log_records]
    return [t for t in texts if "glyph" in t.lower()]


def test_quiet_glyph_warnings_silences_and_restores(caplog):
    logger = logging.getLogger("matplotlib.mathtext")
    filters_before, log_filters_before = list(warnings.filters), list(logger.filters)
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with fonts.quiet_glyph_warnings():
            _draw("あ 衣 க")
        assert _glyph_messages(seen, caplog.records) == []
        _draw("い 裳 ங")  # other characters: matplotlib caches text layouts and parsed mathtext
        loud = _glyph_messages(seen, caplog.records)
    assert any("missing from font" in m for m in loud)  # the plain-text UserWarning
    assert any("does not have a glyph" in m for m in loud)  # the mathtext logger warning
    assert warnings.filters == filters_before
    assert logger.filters == log_filters_before


def test_quiet_glyph_warnings_restores_after_an_error():
    logger = logging.getLogger("matplotlib.mathtext")
    filters_before = list(warnings.filters)
    with pytest.raises(RuntimeError), fonts.quiet_glyph_warnings():
        raise RuntimeError("boom")
    assert warnings.filters == filters_before
    assert logger.filters == []

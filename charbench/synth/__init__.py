"""Synthetic raw data in every supported raw format, from one seeded generator of pseudo-characters.

The demo and the test suite use the same writers, so both exercise the same code paths.
"""

from charbench.synth.glyphs import GlyphGenerator

__all__ = ["GlyphGenerator"]

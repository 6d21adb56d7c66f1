"""parse_binarize and the other option strings: accepted forms, defaults, clear errors."""

from __future__ import annotations

import pytest

from charbench.errors import OptionError
from charbench.kernels import parse_binarize
from charbench.kernels.options import center_code, invert_code


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", ("none", {})),
        ("otsu", ("otsu", {})),
        (" OTSU ", ("otsu", {})),
        ("fixed:0", ("fixed", {"threshold": 0})),
        ("fixed:255", ("fixed", {"threshold": 255})),
        ("sauvola", ("sauvola", {"window": 25, "k": 0.2, "r": 127.5})),
        ("sauvola:15", ("sauvola", {"window": 15, "k": 0.2, "r": 127.5})),
        ("sauvola:31,0.34", ("sauvola", {"window": 31, "k": 0.34, "r": 127.5})),
        ("sauvola:31, 0.34, 128", ("sauvola", {"window": 31, "k": 0.34, "r": 128.0})),
        ("niblack", ("niblack", {"window": 25, "k": 0.2})),
        ("niblack:11,-0.2", ("niblack", {"window": 11, "k": -0.2})),
    ],
)
def test_accepted(spec, expected):
    assert parse_binarize(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("otsu2", "unknown binarize method"),
        ("fixed", "0..255"),
        ("fixed:256", "0..255"),
        ("fixed:-1", "0..255"),
        ("fixed:1.5", "0..255"),
        ("otsu:3", "no parameters"),
        ("sauvola:24", "odd"),
        ("sauvola:1", "odd"),
        ("sauvola:x", "numbers"),
        ("sauvola:25,nan", "finite"),
        ("sauvola:25,0.2,0", "positive"),
        ("niblack:25,0.2,128", "at most 2"),
        (3, "string"),
    ],
)
def test_rejected_with_clear_message(spec, fragment):
    with pytest.raises(OptionError, match=fragment):
        parse_binarize(spec)


def test_invert_and_center():
    assert invert_code("auto") != invert_code("yes") != invert_code("no")
    assert center_code("mass") != center_code("box") != center_code("none")
    with pytest.raises(OptionError, match="auto, yes, no"):
        invert_code("true")
    with pytest.raises(OptionError, match="mass, box, none"):
        center_code("centre")


def test_the_package_names_its_kernels_whichever_submodule_was_imported_first():
    import importlib
    import pkgutil

    from charbench import kernels

    for module in pkgutil.iter_modules(kernels.__path__):
        importlib.import_module(f"charbench.kernels.{module.name}")
    for name in ("binarize", "local_thresholds", "otsu_thresholds", "normalize", "rasterize_strokes", "vary"):
        assert callable(getattr(kernels, name)), name

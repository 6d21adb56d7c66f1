"""Option strings of the kernels (``--binarize``, ``--center``, invert) parsed once, with clear errors."""

from __future__ import annotations

import math

import numpy as np

from charbench.errors import OptionError

# Method codes the kernels receive; names are what users type.
M_NONE, M_OTSU, M_FIXED, M_SAUVOLA, M_NIBLACK = range(5)
_METHOD_CODES = {"none": M_NONE, "otsu": M_OTSU, "fixed": M_FIXED, "sauvola": M_SAUVOLA, "niblack": M_NIBLACK}

INV_AUTO, INV_YES, INV_NO = range(3)
_INVERT_CODES = {"auto": INV_AUTO, "yes": INV_YES, "no": INV_NO}

C_MASS, C_BOX, C_NONE = range(3)
_CENTER_CODES = {"mass": C_MASS, "box": C_BOX, "none": C_NONE}

DEFAULT_WINDOW = 25
DEFAULT_K = 0.2
# scikit-image's default dynamic range of the standard deviation for uint8 images: 0.5 * (255 - 0).
DEFAULT_R = 127.5

_USAGE = "use none, otsu, fixed:T (T in 0..255), sauvola[:W[,K[,R]]] or niblack[:W[,K]] (W odd >= 3)"


def parse_binarize(spec: str) -> tuple[str, dict]:
    """Validate a binarisation method string and return its name and parameters.

    Args:
        spec: ``"none"``, ``"otsu"``, ``"fixed:T"``, ``"sauvola"``, ``"sauvola:W,K"``, ``"sauvola:W,K,R"``,
            ``"niblack"`` or ``"niblack:W,K"``. Niblack's threshold is ``mean - K * std`` (scikit-image's sign).

    Returns:
        ``(method, params)``: ``params`` is ``{}`` for none/otsu, ``{"threshold": T}`` for fixed, and
        ``{"window": W, "k": K}`` (plus ``"r": R`` for sauvola) for the local methods.

    Raises:
        OptionError: unknown method or a parameter out of range.
    """
    if not isinstance(spec, str):
        raise OptionError(f"binarize method must be a string, got {type(spec).__name__}; {_USAGE}")
    name, _, rest = spec.strip().lower().partition(":")
    if name not in _METHOD_CODES:
        raise OptionError(f"unknown binarize method {spec!r}; {_USAGE}")
    parts = [p.strip() for p in rest.split(",")] if rest else []
    if name in ("none", "otsu"):
        if parts:
            raise OptionError(f"binarize method {name!r} takes no parameters, got {spec!r}")
        return name, {}
    if name == "fixed":
        return name, {"threshold": _fixed_threshold(spec, parts)}
    return name, _local_params(spec, name, parts)


def _fixed_threshold(spec: str, parts: list[str]) -> int:
    if len(parts) != 1 or not parts[0].isdigit() or not 0 <= int(parts[0]) <= 255:
        raise OptionError(f"fixed threshold needs one integer 0..255, as in fixed:128; got {spec!r}")
    return int(parts[0])


def _local_params(spec: str, name: str, parts: list[str]) -> dict:
    most = 3 if name == "sauvola" else 2
    if len(parts) > most:
        raise OptionError(f"{name} takes at most {most} parameters, got {spec!r}; {_USAGE}")
    try:
        window = int(parts[0]) if parts else DEFAULT_WINDOW
        k = float(parts[1]) if len(parts) > 1 else DEFAULT_K
        r = float(parts[2]) if len(parts) > 2 else DEFAULT_R
    except ValueError:
        raise OptionError(f"{name} parameters must be numbers (W an integer), got {spec!r}; {_USAGE}") from None
    if window < 3 or window % 2 == 0:
        raise OptionError(f"{name} window must be an odd integer >= 3, got {window} in {spec!r}")
    if not math.isfinite(k):
        raise OptionError(f"{name} k must be a finite number, got {k} in {spec!r}")
    if not (math.isfinite(r) and r > 0):
        raise OptionError(f"sauvola R must be a positive number, got {r} in {spec!r}")
    return {"window": window, "k": k, "r": r} if name == "sauvola" else {"window": window, "k": k}


def binarize_codes(spec: str) -> tuple[int, int, int, float, float]:
    """``(method code, fixed threshold, window, k, r)`` as the kernels take them."""
    name, params = parse_binarize(spec)
    return (
        _METHOD_CODES[name],
        params.get("threshold", 0),
        params.get("window", DEFAULT_WINDOW),
        params.get("k", DEFAULT_K),
        params.get("r", DEFAULT_R),
    )


def invert_code(invert: str) -> int:
    """Kernel code of an ``invert`` option (``auto``, ``yes``, ``no``)."""
    if invert not in _INVERT_CODES:
        raise OptionError(f"invert must be one of auto, yes, no; got {invert!r}")
    return _INVERT_CODES[invert]


def center_code(center: str) -> int:
    """Kernel code of a ``center`` option (``mass``, ``box``, ``none``)."""
    if center not in _CENTER_CODES:
        raise OptionError(f"center must be one of mass, box, none; got {center!r}")
    return _CENTER_CODES[center]


def check_size(size: object, margin: object) -> tuple[int, int]:
    """Validate an output side S and a margin (S - 2*margin must leave at least one pixel)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise OptionError(f"size must be a positive integer, got {size!r}")
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0:
        raise OptionError(f"margin must be a non-negative integer, got {margin!r}")
    if size - 2 * margin < 1:
        raise OptionError(f"margin {margin} leaves no room in a {size}x{size} image; use margin < size / 2")
    return int(size), int(margin)

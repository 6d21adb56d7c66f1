"""Import the real torchvision for the baselines of the benchmarks (never for charbench itself).

torchvision's wheels are built against one torch build; a CPU torch with PyPI's (CUDA) torchvision of the same
version fails on import, in ``torchvision._meta_registrations`` registering fake kernels for its compiled ops. The
datasets, transforms and the DataLoader pass the baselines use are pure Python and do not need those ops, so when
the compiled extension cannot load, that module is stubbed and the rest imported as is. Install a matching
torchvision with ``pip install --no-deps torchvision==<version made for your torch>`` (0.28 for torch 2.13).
"""

from __future__ import annotations

import importlib
import sys
import types


def import_torchvision():
    """The torchvision module, or SystemExit naming what to install."""
    try:
        return importlib.import_module("torchvision")
    except ModuleNotFoundError:
        raise SystemExit("this benchmark's baseline needs torchvision: pip install --no-deps torchvision==0.28.0 "
                         "(the version made for your torch)") from None
    except RuntimeError:  # the compiled ops do not match this torch build
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        tv = importlib.import_module("torchvision")
        tv.charbench_note = "compiled torchvision ops unavailable (stubbed); datasets/transforms are pure Python"
        return tv

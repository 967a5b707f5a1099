"""Backends: namespaces, devices, conversion, primitives, RNG and ``jit`` (layer 1).

Nothing here imports torch, JAX, CuPy or numba until an array of theirs (or
an explicit backend choice) asks for it.
"""

from __future__ import annotations

import importlib.util

from .._config import BACKENDS, get_backend, set_backend, use_backend
from . import primitives
from ._convert import describe, reset_transfer_stats, to_backend, transfer_stats
from ._dispatch import Compute, Origin, check_same_library, float_dtype, namespace_kind, origin_of, resolve
from ._frameworks import framework_of, get_framework
from ._jit import jit
from .random import Generator, check_random_state

__all__ = [
    "Compute",
    "Generator",
    "Origin",
    "available_backends",
    "check_random_state",
    "check_same_library",
    "describe",
    "float_dtype",
    "framework_of",
    "get_backend",
    "get_framework",
    "jit",
    "namespace_kind",
    "origin_of",
    "primitives",
    "reset_transfer_stats",
    "resolve",
    "set_backend",
    "to_backend",
    "transfer_stats",
    "use_backend",
]


def available_backends() -> list[str]:
    """Backend names whose framework is installed (nothing is imported to find out).

    A GPU-only library (CuPy) is listed when installed even if no GPU is
    present; using it then fails with the library's own error.
    """
    out = []
    for name, req in BACKENDS.items():
        if name == "auto":
            continue
        if req is None or importlib.util.find_spec(req[0]) is not None:
            out.append(name)
    return out

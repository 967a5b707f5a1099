"""The backend policy: where a call computes (layer 1).

``resolve`` is called once, at a public entry point. Under ``"auto"`` the
computation happens where the data lives; under an explicit backend the
inputs are converted to it (see ``_convert``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import Any

from .._config import get_backend
from ._convert import describe, to_backend
from ._frameworks import Framework, framework_of, get_framework

__all__ = [
    "Compute",
    "check_same_library",
    "float_dtype",
    "namespace_kind",
    "numba_active",
    "origin_of",
    "resolve",
]


@dataclass(frozen=True)
class Compute:
    """Where a call computes: the namespace ``xp``, its ``device`` and backend name."""

    xp: Any
    device: Any
    backend: str
    framework: Framework

    def asarray(self, x: Any) -> Any:
        """Convert ``x`` (any library, list, pandas) to this namespace and device."""
        return to_backend(x, self.framework.name, self.device)


@dataclass(frozen=True)
class Origin:
    """Library and device of what the caller passed, for mirroring outputs."""

    framework: str
    device: Any


@cache
def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def numba_active() -> bool:
    """True when NumPy work should use numba kernels (backend "numba", or "auto" with numba installed)."""
    name, _ = get_backend()
    return name == "numba" or (name == "auto" and _numba_installed())


def origin_of(x: Any) -> Origin:
    fw = framework_of(x)
    if fw is None:  # lists, pandas objects: host data
        return Origin("numpy", "cpu")
    return Origin(fw.name, fw.device_of(x))


def check_same_library(**arrays: Any) -> None:
    """Raise TypeError if the named arrays come from two libraries or two devices.

    ``None`` values and non-array containers (lists, pandas) are ignored.
    """
    seen: tuple[str, Framework, Any] | None = None
    for name, x in arrays.items():
        fw = framework_of(x) if x is not None else None
        if fw is None:
            continue
        dev = fw.device_of(x)
        if seen is None:
            seen = (name, fw, dev)
            continue
        first_name, first_fw, first_dev = seen
        if fw is not first_fw or dev != first_dev:
            raise TypeError(
                f"Arrays from different libraries or devices in one call: {first_name} is a "
                f"{describe(arrays[first_name])} but {name} is a {describe(x)}. Convert one "
                f"with toolbox.to_backend(x, name, device) first."
            )


def resolve(*arrays: Any) -> Compute:
    """Decide where a call computes, from the active backend and the data.

    Under ``"auto"`` the first array decides (lists and pandas count as NumPy);
    otherwise the active backend and device decide.
    """
    name, device = get_backend()
    if name == "auto":
        fw: Framework | None = None
        for x in arrays:
            fw = framework_of(x) if x is not None else None
            if fw is not None:
                dev = fw.device_of(x)
                break
        if fw is None:
            fw, dev = get_framework("numpy"), "cpu"
        backend = fw.name
        if backend == "numpy" and _numba_installed():
            backend = "numba"
        return Compute(fw.xp, dev, backend, fw)
    fw = get_framework(name)
    return Compute(fw.xp, fw.device(device), name, fw)


_KINDS = ("numpy", "torch", "jax", "cupy", "array_api_strict")


@cache
def namespace_kind(xp: Any) -> str:
    """``"numpy"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"array_api_strict"`` or ``"other"``."""
    import array_api_compat as c

    for kind in _KINDS:
        if getattr(c, f"is_{kind}_namespace")(xp):
            return kind
    return "other"


def float_dtype(x: Any, *, xp: Any, device: Any = None) -> Any:
    """The floating dtype to compute in for ``x``.

    Floating inputs keep their dtype (half precision becomes float32);
    integers and booleans become the namespace's default float on ``device``.
    """
    if xp.isdtype(x.dtype, "real floating"):
        if x.dtype == xp.float32 or x.dtype == getattr(xp, "float64", None):
            return x.dtype
        return xp.float32
    info = xp.__array_namespace_info__()
    return info.default_dtypes(device=device)["real floating"]

"""Process-wide defaults and context-local overrides (layer 0).

The settings that live here:

* the compute **backend** (``"auto"``, ``"numpy"``, ``"numba"``, ``"torch"``,
  ``"jax"``, ``"cupy"``, ``"array_api_strict"``, ``"dask"``) and its device;
* the **output type** of estimator methods (``"input"`` mirrors the input);
* ``cache`` and ``autolog``: whether every estimator ``fit`` goes through
  :mod:`toolbox.cache` and is recorded by :mod:`toolbox.tracking`
  (both off by default; see :mod:`toolbox._hooks`).

``set_*`` functions change the process-wide default; ``use_backend`` and
``config_context`` override it for the current context only (a ``with`` block,
a thread, an asyncio task), so concurrent code never sees another context's
setting.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from .exceptions import BackendNotAvailableError

__all__ = [
    "BACKENDS",
    "OUTPUT_TYPES",
    "config_context",
    "get_backend",
    "get_config",
    "set_backend",
    "set_config",
    "use_backend",
]

#: Backend name -> (import name of the framework, pip extra), or None when
#: the backend needs nothing beyond the core dependencies.
BACKENDS: dict[str, tuple[str, str] | None] = {
    "auto": None,
    "numpy": None,
    "numba": ("numba", "numba"),
    "torch": ("torch", "torch"),
    "jax": ("jax", "jax"),
    "cupy": ("cupy", "cupy"),
    "array_api_strict": ("array_api_strict", "test"),
    # NumPy input converted to a dask.array chunked by rows; fits run blockwise (toolbox.dask)
    "dask": ("dask", "dask"),
}

#: ``"input"`` mirrors each call's input; ``"backend"`` returns whatever the
#: computation produced; a library name converts to that library.
OUTPUT_TYPES = ("input", "backend", "numpy", "torch", "jax", "cupy", "array_api_strict")


@dataclass(frozen=True)
class _Settings:
    backend: str = "auto"
    device: Any = None
    output_type: str = "input"
    cache: bool = False
    autolog: bool = False


def _check_backend_name(name: Any) -> str:
    if not isinstance(name, str) or name not in BACKENDS:
        valid = ", ".join(repr(n) for n in BACKENDS)
        raise ValueError(f"Unknown backend {name!r}; valid backends are {valid}.")
    return name


def _check_installed(name: str) -> None:
    """Raise BackendNotAvailableError if ``name``'s framework is not installed.

    Uses ``importlib.util.find_spec``: nothing is imported.
    """
    import importlib.util

    req = BACKENDS[name]
    if req is None:
        return
    module, extra = req
    if importlib.util.find_spec(module) is None:
        raise BackendNotAvailableError(
            f"Backend {name!r} needs {module}, which is not installed. "
            f"Install it with: pip install 'toolbox[{extra}]'"
        )


def _check_output_type(value: Any) -> str:
    if value not in OUTPUT_TYPES:
        valid = ", ".join(repr(v) for v in OUTPUT_TYPES)
        raise ValueError(f"Unknown output_type {value!r}; valid values are {valid}.")
    return value


def _initial() -> _Settings:
    env = os.environ.get("TOOLBOX_BACKEND", "").strip()
    return _Settings(backend=env) if env else _Settings()


_GLOBAL: _Settings = _initial()
_LOCAL: contextvars.ContextVar[_Settings | None] = contextvars.ContextVar(
    "toolbox_settings", default=None
)


def _current() -> _Settings:
    local = _LOCAL.get()
    settings = _GLOBAL if local is None else local
    if settings.backend not in BACKENDS:  # only reachable through TOOLBOX_BACKEND
        try:
            _check_backend_name(settings.backend)
        except ValueError as exc:
            raise ValueError(f"TOOLBOX_BACKEND: {exc}") from None
    return settings


def get_backend() -> tuple[str, Any]:
    """Return the active ``(backend_name, device)``; device ``None`` means default."""
    s = _current()
    return s.backend, s.device


def set_backend(name: str, device: Any = None) -> None:
    """Set the process-wide compute backend.

    Parameters
    ----------
    name : str
        ``"auto"`` (compute where the data lives), ``"numpy"``, ``"numba"``,
        ``"torch"``, ``"jax"``, ``"cupy"`` or ``"array_api_strict"``.
    device : str or framework device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"gpu"``...; ``None`` uses the
        framework's default device.
    """
    global _GLOBAL
    _check_backend_name(name)
    _check_installed(name)
    if name == "auto" and device is not None:
        raise ValueError("The 'auto' backend takes no device: it computes where the data lives.")
    _GLOBAL = replace(_GLOBAL, backend=name, device=device)


@contextlib.contextmanager
def use_backend(name: str, device: Any = None) -> Iterator[None]:
    """Use ``name`` (on ``device``) inside a ``with`` block; nestable, context-local."""
    _check_backend_name(name)
    _check_installed(name)
    if name == "auto" and device is not None:
        raise ValueError("The 'auto' backend takes no device: it computes where the data lives.")
    token = _LOCAL.set(replace(_current(), backend=name, device=device))
    try:
        yield
    finally:
        _LOCAL.reset(token)


def get_config() -> dict[str, Any]:
    """Return the active settings as a dict (``backend``, ``device``, ``output_type``, ``cache``, ``autolog``)."""
    s = _current()
    return {"backend": s.backend, "device": s.device, "output_type": s.output_type,
            "cache": s.cache, "autolog": s.autolog}


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return value


def _options(s: _Settings, output_type: str | None, cache: bool | None, autolog: bool | None) -> _Settings:
    if output_type is not None:
        s = replace(s, output_type=_check_output_type(output_type))
    if cache is not None:
        s = replace(s, cache=_check_flag("cache", cache))
    if autolog is not None:
        s = replace(s, autolog=_check_flag("autolog", autolog))
    return s


def set_config(*, output_type: str | None = None, cache: bool | None = None,
               autolog: bool | None = None) -> None:
    """Set process-wide options; ``None`` leaves an option as it is.

    Parameters
    ----------
    output_type : str, optional
        See :data:`OUTPUT_TYPES`.
    cache : bool, optional
        Memoize every estimator ``fit`` in :mod:`toolbox.cache`.
    autolog : bool, optional
        Record every estimator ``fit`` as a run in :mod:`toolbox.tracking`.
    """
    global _GLOBAL
    _GLOBAL = _options(_GLOBAL, output_type, cache, autolog)


@contextlib.contextmanager
def config_context(*, output_type: str | None = None, cache: bool | None = None,
                   autolog: bool | None = None) -> Iterator[None]:
    """Override options inside a ``with`` block (context-local, nestable); see :func:`set_config`."""
    s = _options(_current(), output_type, cache, autolog)
    token = _LOCAL.set(s)
    try:
        yield
    finally:
        _LOCAL.reset(token)

"""toolbox: machine learning written once against the Array API, run where the data lives.

>>> import toolbox as tb
>>> from toolbox.preprocessing import StandardScaler
>>> Xt = StandardScaler().fit_transform(X)          # NumPy, torch, JAX, CuPy...
>>> with tb.use_backend("torch"):                   # or compute elsewhere
...     Xt = StandardScaler().fit_transform(X)
"""

from __future__ import annotations

from ._config import config_context, get_backend, get_config, set_backend, set_config, use_backend
from .backends import available_backends, reset_transfer_stats, to_backend, transfer_stats

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # toolbox.save / toolbox.load live in toolbox.io, imported on first use
    if name in ("save", "load"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module 'toolbox' has no attribute {name!r}")


__all__ = [
    "__version__",
    "available_backends",
    "config_context",
    "get_backend",
    "get_config",
    "load",
    "reset_transfer_stats",
    "save",
    "set_backend",
    "set_config",
    "to_backend",
    "transfer_stats",
    "use_backend",
]

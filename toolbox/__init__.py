"""toolbox: machine learning written once against the Array API, run where the data lives.

>>> import toolbox as tb
>>> from toolbox.preprocessing import StandardScaler
>>> Xt = StandardScaler().fit_transform(X)          # NumPy, torch, JAX, CuPy...
>>> with tb.use_backend("torch"):                   # or compute elsewhere
...     Xt = StandardScaler().fit_transform(X)
>>> model = tb.fit(X, y, time_budget=30)            # a tuned model in one call (toolbox.automl)
>>> tb.save(model, "model"); tb.load("model")       # safetensors + JSON, no pickle (toolbox.io)

``tb.cache``, ``tb.tracking``, ``tb.registry``, ``tb.dashboard`` and ``tb.hub``
are imported on first use.
"""

from __future__ import annotations

from ._config import config_context, get_backend, get_config, set_backend, set_config, use_backend
from .backends import available_backends, reset_transfer_stats, to_backend, transfer_stats

__version__ = "0.1.0"


#: subpackages reachable as ``toolbox.<name>`` without importing them first (imported on first use)
_LAZY_SUBPACKAGES = ("automl", "cache", "dashboard", "hub", "io", "registry", "tracking")


def __getattr__(name: str) -> object:
    import importlib

    if name in ("save", "load"):  # toolbox.save / toolbox.load live in toolbox.io
        return getattr(importlib.import_module(".io", __name__), name)
    if name == "fit":  # toolbox.fit is toolbox.automl.fit
        return importlib.import_module(".automl", __name__).fit
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'toolbox' has no attribute {name!r}")


__all__ = [
    "__version__",
    "available_backends",
    "config_context",
    "fit",
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

"""Model files (layer 2): safetensors + JSON, checksummed, written atomically, no pickle.

>>> import toolbox as tb
>>> tb.save(model, "churn-model")            # a folder: arrays.safetensors, model.json, checksums.json
>>> model = tb.load("churn-model")           # where it was fitted; or backend="numpy", device="cpu"

See ``docs/persistence-and-caching.md`` for the format and what loading refuses.
"""

from __future__ import annotations

from ._files import FORMAT_VERSION
from ._models import load, save

__all__ = ["FORMAT_VERSION", "load", "save"]

"""Pretrained models by short name, offline-first, as scikit-learn estimators on the data's device (layer 5).

>>> import toolbox as tb
>>> emb = tb.hub.load("minilm")                    # offline: the packaged all-MiniLM-L6-v2
>>> X = emb.transform(["a sentence", "another"])   # (2, 384), NumPy on the CPU, torch on a GPU
>>> clf = tb.hub.load("bert-base", task="text-classification").fit(texts, labels)

See ``docs/hub.md``. transformers and huggingface_hub are imported on first use only.
"""

from __future__ import annotations

from ._aliases import Alias, aliases, register_alias
from ._cache import CacheError
from ._cache import namespace as cache
from ._classifier import TextClassifier
from ._embedder import Embedder
from ._evaluate import benchmark, evaluate, load_suite
from ._load import load
from ._resolve import ModelNotFoundError, network_allowed
from ._safety import UnsafeModelError
from ._search import search
from ._share import push, save_pretrained

__all__ = [
    "Alias",
    "CacheError",
    "Embedder",
    "ModelNotFoundError",
    "TextClassifier",
    "UnsafeModelError",
    "aliases",
    "benchmark",
    "cache",
    "evaluate",
    "load",
    "load_suite",
    "network_allowed",
    "push",
    "register_alias",
    "save_pretrained",
    "search",
]

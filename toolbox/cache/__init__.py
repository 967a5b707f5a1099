"""Content-addressed memoization: estimator fits and functions of arrays, cached by what they compute on.

Keys hold the content hash (xxh3-128 over every byte) of each array argument
with its dtype, shape, memory order, library and device, the estimator's
class and parameters, and the toolbox version, backend and device setting:
any change is a miss. Entries live in an in-memory LRU bounded in bytes
(GPU-resident entries stay on their GPU, counted against a separate device
budget) and, optionally, in a folder shared safely by several processes.

>>> import toolbox, toolbox.cache
>>> toolbox.set_config(cache=True)                    # memoize every estimator fit
>>> toolbox.cache.configure(directory="~/.cache/toolbox")   # and keep entries on disk
>>> LogisticRegression().fit(X, y)                    # fitted
>>> LogisticRegression().fit(X, y)                    # restored from the cache
>>> toolbox.cache.info()["hits"]
1
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._core import DEFAULT_DEVICE_BYTES as _DEFAULT_DEVICE_BYTES
from ._core import DEFAULT_MEMORY_BYTES as _DEFAULT_MEMORY_BYTES
from ._core import disabled as _disabled
from ._core import get_cache as _get_cache
from ._hashing import hash_array
from ._memoize import memoize

__all__ = ["clear", "configure", "disabled", "hash_array", "info", "memoize"]


def configure(memory_bytes: int = _DEFAULT_MEMORY_BYTES, device_bytes: int = _DEFAULT_DEVICE_BYTES,
              directory: str | os.PathLike | None = None, enabled: bool = True) -> None:
    """Set the cache's budgets, disk folder and on/off switch (each call sets all four).

    Parameters
    ----------
    memory_bytes : int, default 1 GiB
        Host memory the in-memory tier may hold; least recently used entries
        are evicted beyond it. 0 keeps nothing in memory.
    device_bytes : int, default 1 GiB
        Device (GPU) memory that GPU-resident entries may hold, all devices
        together.
    directory : path or None, default None
        Folder of the on-disk tier (created if missing), which several
        processes may share; None: memory only. Before the first call, the
        ``TOOLBOX_CACHE_DIR`` environment variable gives it.
    enabled : bool, default True
        False bypasses the cache everywhere (fits and memoized functions).

    Raises
    ------
    ValueError
        A negative budget, or a ``directory`` that cannot be created.
    TypeError
        A budget that is not a whole number, a non-bool ``enabled``.
    """
    _get_cache().configure(memory_bytes, device_bytes, directory, enabled)


def info() -> dict[str, Any]:
    """Counters and sizes.

    Returns
    -------
    dict
        ``enabled``; ``hits`` (all tiers), ``misses``, ``stores``,
        ``uncacheable`` (calls run without the cache because an input could
        not be keyed), ``too_large`` and ``evictions``; and per tier
        ``memory`` / ``device``: ``{"hits", "entries", "bytes",
        "limit_bytes"}``, ``disk``: ``{"hits", "entries", "bytes",
        "directory"}`` or None without a disk tier. An entry holding any GPU
        array belongs to the ``device`` tier (its host part still counts in
        ``memory["bytes"]``).
    """
    return _get_cache().info()


def clear() -> None:
    """Remove every entry (memory and disk) and reset the counters."""
    _get_cache().clear()


@contextmanager
def disabled() -> Iterator[None]:
    """Bypass the cache inside a ``with`` block (context-local: other threads keep using it)."""
    with _disabled():
        yield

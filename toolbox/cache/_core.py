"""The process's cache: its settings, tiers, counters, and the lookup/store path every user shares."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import numbers
import os
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ._keys import Uncacheable
from ._tiers import MemoryTiers, copy_value, measure

__all__ = ["DEFAULT_DEVICE_BYTES", "DEFAULT_MEMORY_BYTES", "Cache", "get_cache"]

logger = logging.getLogger("toolbox.cache")

#: Default host-memory budget of the in-memory tier (1 GiB).
DEFAULT_MEMORY_BYTES = 2**30
#: Default device-memory budget (GPU-resident entries; 1 GiB per process, all devices together).
DEFAULT_DEVICE_BYTES = 2**30

_DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("toolbox_cache_disabled", default=False)


def _check_bytes(name: str, value: Any) -> int:
    if isinstance(value, bool) or (not isinstance(value, numbers.Integral) and not (
            isinstance(value, float) and value.is_integer())):
        raise TypeError(f"{name} must be a whole number of bytes, got {value!r}.")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 bytes, got {value!r}.")
    return int(value)


class Cache:
    """Settings, tiers and counters of the process-wide cache (see :func:`toolbox.cache.configure`)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.enabled = True
        self.tiers = MemoryTiers(DEFAULT_MEMORY_BYTES, DEFAULT_DEVICE_BYTES)
        self.disk: Any = None
        self.counts: Counter[str] = Counter()
        self._inflight: dict[str, list[Any]] = {}
        env_dir = os.environ.get("TOOLBOX_CACHE_DIR", "").strip()
        if env_dir:
            self.set_directory(env_dir)

    # ------------------------------------------------------------------ settings

    def configure(self, memory_bytes: Any, device_bytes: Any, directory: Any, enabled: Any) -> None:
        memory = _check_bytes("memory_bytes", memory_bytes)
        device = _check_bytes("device_bytes", device_bytes)
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True or False, got {enabled!r}.")
        if directory is not None and not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"directory must be a path (str or os.PathLike) or None, got {directory!r}.")
        with self._lock:
            self.set_directory(directory)
            self.tiers.resize(memory, device)
            self.enabled = enabled

    def set_directory(self, directory: Any) -> None:
        if directory is None:
            self.disk = None
            return
        from ._disk import DiskTier

        self.disk = DiskTier(directory)

    def active(self) -> bool:
        """Whether lookups happen here: enabled, and not inside :func:`toolbox.cache.disabled`."""
        return self.enabled and not _DISABLED.get()

    # ------------------------------------------------------------------ lookups

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def lookup(self, key: str, *, count_miss: bool = True) -> tuple[bool, Any]:
        """``(True, independent copy of the value)`` on a hit in any tier, else ``(False, None)``."""
        entry = self.tiers.get(key)
        if entry is not None:
            self.count(f"hits_{entry.tier}")
            return True, copy_value(entry.value)
        disk = self.disk
        if disk is not None:
            found, value = disk.load(key)
            if found:
                self.count("hits_disk")
                self.tiers.put(key, value)  # a fresh object from the file: ours to keep
                return True, copy_value(value)
        if count_miss:
            self.count("misses")
        return False, None

    def store(self, key: str, value: Any, *, persist: bool = True) -> bool:
        """Keep a private copy of ``value`` in memory (and on disk when ``persist``); False if it cannot be."""
        try:
            private = copy_value(value)
        except Uncacheable as exc:
            logger.debug("not caching %s: %s", key, exc)
            self.count("uncacheable")
            return False
        sizes = measure(private)
        kept = self.tiers.put(key, private, sizes)
        disk = self.disk
        if persist and disk is not None:
            kept = disk.save(key, private) or kept
        self.count("stores" if kept else "too_large")
        return kept

    @contextlib.contextmanager
    def computing(self, key: str) -> Iterator[None]:
        """Hold ``key``'s lock: two threads computing one key run one after the other (the second hits)."""
        with self._lock:
            slot = self._inflight.setdefault(key, [threading.RLock(), 0])
            slot[1] += 1
        slot[0].acquire()
        try:
            yield
        finally:
            slot[0].release()
            with self._lock:
                slot[1] -= 1
                if slot[1] == 0:
                    self._inflight.pop(key, None)

    # ------------------------------------------------------------------ reporting

    def info(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self.counts)
        tiers = self.tiers.stats()
        tiers["memory"]["hits"] = counts.get("hits_memory", 0)
        tiers["device"]["hits"] = counts.get("hits_device", 0)
        disk = self.disk
        if disk is not None:
            tiers["disk"] = {"hits": counts.get("hits_disk", 0), **disk.stats()}
        else:
            tiers["disk"] = None
        hits = sum(v for k, v in counts.items() if k.startswith("hits_"))
        return {
            "enabled": self.enabled,
            "hits": hits,
            "misses": counts.get("misses", 0),
            "stores": counts.get("stores", 0),
            "uncacheable": counts.get("uncacheable", 0),
            "too_large": counts.get("too_large", 0),
            "evictions": self.tiers.evictions,
            **tiers,
        }

    def clear(self) -> None:
        self.tiers.clear()
        disk = self.disk
        if disk is not None:
            disk.clear()
        with self._lock:
            self.counts.clear()
            self.tiers.evictions = 0


_CACHE: Cache | None = None
_CACHE_LOCK = threading.Lock()


def get_cache() -> Cache:
    """The process-wide :class:`Cache` (created on first use)."""
    global _CACHE
    if _CACHE is None:
        with _CACHE_LOCK:
            if _CACHE is None:
                _CACHE = Cache()
    return _CACHE


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Bypass the cache inside a ``with`` block (context-local: other threads keep using it)."""
    token = _DISABLED.set(True)
    try:
        yield
    finally:
        _DISABLED.reset(token)

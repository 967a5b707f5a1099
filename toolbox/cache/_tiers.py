"""The in-memory tiers: one LRU of entries bounded in bytes, host and device memory counted apart.

An entry's arrays stay where they were computed: a torch CUDA array in a
cached fit stays on its GPU and counts against the device budget, a NumPy
array against the host budget (an entry holding both counts against both).
When a budget is exceeded, the least recently used entries holding that
kind of memory are evicted until it fits; an entry larger than a budget on
its own is not kept in memory at all.

Values go in and come out through :func:`copy_value`, so that neither the
caller mutating what it stored nor what it got back can change an entry.
Every operation takes one lock: joblib threads may share the tiers.
"""

from __future__ import annotations

import copy
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import framework_of
from ._keys import Uncacheable

__all__ = ["Entry", "MemoryTiers", "copy_value", "measure"]


# --------------------------------------------------------------------------- #
# Copies and sizes
# --------------------------------------------------------------------------- #

_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, range, slice, type, np.generic, np.dtype)


def _copy_array(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        if x.dtype.hasobject:
            return copy.deepcopy(x)
        return x.copy(order="K")  # keeps a Fortran-ordered array Fortran-ordered
    fw = framework_of(x)
    if fw.name == "jax":  # JAX arrays are immutable: sharing one is safe
        return x
    if fw.name == "torch":
        out = x.detach().clone()
        return out.requires_grad_() if x.requires_grad else out
    if fw.name == "cupy":
        return x.copy(order="K")
    return fw.xp.asarray(x, copy=True)


def copy_value(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """An independent copy of ``value``: arrays copied on their own device, containers and estimators rebuilt.

    Objects referenced twice stay shared in the copy (one copy, as
    :func:`copy.deepcopy` does). Raises :class:`Uncacheable` for an object that
    cannot be copied.
    """
    if memo is None:
        memo = {}
    if isinstance(value, _IMMUTABLE):
        return value
    found = memo.get(id(value))
    if found is not None:
        return found[1]
    out: Any
    if isinstance(value, np.ndarray) or framework_of(value) is not None:
        out = _copy_array(value)
    elif type(value) is dict:
        out = {}
        memo[id(value)] = (value, out)
        for k, v in value.items():
            out[k] = copy_value(v, memo)
        return out
    elif type(value) is list:
        out = []
        memo[id(value)] = (value, out)
        out.extend(copy_value(v, memo) for v in value)
        return out
    elif type(value) is tuple:
        out = tuple(copy_value(v, memo) for v in value)
    elif _is_estimator(value):
        cls = type(value)
        out = cls.__new__(cls)
        memo[id(value)] = (value, out)
        vars(out).update(copy_value(dict(vars(value)), memo))
        return out
    else:
        deep_memo = {k: v[1] for k, v in memo.items()}
        try:
            out = copy.deepcopy(value, deep_memo)
        except Exception as exc:
            raise Uncacheable(f"cannot copy an object of class {type(value).__qualname__} ({exc})") from None
    memo[id(value)] = (value, out)
    return out


def _is_estimator(value: Any) -> bool:
    return hasattr(value, "get_params") and hasattr(value, "fit") and hasattr(value, "__dict__") and not (
        isinstance(value, type))


def _array_nbytes(x: Any) -> int:
    nbytes = getattr(x, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    try:  # torch has no .nbytes on old versions
        return int(x.numel() * x.element_size())
    except AttributeError:
        return 0


def measure(value: Any) -> tuple[int, int]:
    """``(host_bytes, device_bytes)`` held by ``value``'s arrays (each counted once), plus small objects."""
    host = device = 0
    seen: set[int] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        fw = None if isinstance(v, np.ndarray) else framework_of(v)
        if isinstance(v, np.ndarray) or fw is not None:
            n = _array_nbytes(v)
            if isinstance(v, np.ndarray) and v.dtype.hasobject:
                stack.extend(v.ravel().tolist())
            if fw is None or fw.is_host(fw.device_of(v)):
                host += n
            else:
                device += n
            continue
        host += sys.getsizeof(v, 64)
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif (hasattr(v, "__dict__") and not isinstance(v, type) and not callable(v)) or _is_estimator(v):
            stack.append(vars(v))
    return host, device


# --------------------------------------------------------------------------- #
# The LRU
# --------------------------------------------------------------------------- #


@dataclass
class Entry:
    """One cached value (private: never handed out without :func:`copy_value`)."""

    value: Any
    host_bytes: int
    device_bytes: int

    @property
    def tier(self) -> str:
        return "device" if self.device_bytes else "memory"


class MemoryTiers:
    """An LRU of :class:`Entry` bounded by ``memory_bytes`` (host) and ``device_bytes`` (devices)."""

    def __init__(self, memory_bytes: int, device_bytes: int) -> None:
        self._lock = threading.RLock()
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self.memory_bytes = memory_bytes
        self.device_bytes = device_bytes
        self._host_used = 0
        self._device_used = 0
        self.evictions = 0

    def get(self, key: str) -> Entry | None:
        """The entry for ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, value: Any, sizes: tuple[int, int] | None = None) -> bool:
        """Keep ``value`` (already a private copy) under ``key``; False when it is larger than a budget."""
        host, device = sizes if sizes is not None else measure(value)
        with self._lock:
            if host > self.memory_bytes or device > self.device_bytes:
                self._drop(key)
                return False
            self._drop(key)
            self._entries[key] = Entry(value, host, device)
            self._host_used += host
            self._device_used += device
            self._evict()
            return True

    def resize(self, memory_bytes: int, device_bytes: int) -> None:
        with self._lock:
            self.memory_bytes, self.device_bytes = memory_bytes, device_bytes
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._host_used = self._device_used = 0

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            out = {"memory": {"entries": 0, "bytes": self._host_used, "limit_bytes": self.memory_bytes},
                   "device": {"entries": 0, "bytes": self._device_used, "limit_bytes": self.device_bytes}}
            for entry in self._entries.values():
                out[entry.tier]["entries"] += 1
            return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._host_used -= entry.host_bytes
            self._device_used -= entry.device_bytes

    def _evict(self) -> None:
        for kind in ("host", "device"):
            limit = self.memory_bytes if kind == "host" else self.device_bytes
            while (self._host_used if kind == "host" else self._device_used) > limit:
                victim = next((k for k, e in self._entries.items()
                               if (e.host_bytes if kind == "host" else e.device_bytes) > 0), None)
                if victim is None:
                    break
                self._drop(victim)
                self.evictions += 1

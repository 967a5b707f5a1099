"""Conversion between array libraries and devices (layer 1).

DLPack first (zero-copy where both sides share a device kind); a copy through
host memory otherwise. Every copy that crosses between host and device, and
every host fallback, is counted in :func:`transfer_stats` and logged on the
``toolbox.backends`` logger: never silent.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import numpy as np

from ._frameworks import Framework, framework_of, get_framework

__all__ = ["as_host_array", "describe", "reset_transfer_stats", "to_backend", "transfer_stats"]

logger = logging.getLogger("toolbox.backends")

_LOCK = threading.Lock()
_STATS: Counter[str] = Counter()


def transfer_stats() -> dict[str, int]:
    """Counts of conversions since the last reset.

    Keys: ``dlpack`` (zero-copy hand-overs), ``host_to_device``,
    ``device_to_host``, ``host_copy`` (a copy on the host because DLPack was
    not possible) and ``bytes_copied``.
    """
    with _LOCK:
        out = {k: 0 for k in ("dlpack", "host_to_device", "device_to_host", "host_copy", "bytes_copied")}
        out.update(_STATS)
        return out


def reset_transfer_stats() -> None:
    """Set every counter of :func:`transfer_stats` back to zero."""
    with _LOCK:
        _STATS.clear()


def _nbytes(x: Any) -> int:
    try:
        return int(np.prod(x.shape)) * np.dtype(str(x.dtype).rsplit(".", 1)[-1]).itemsize
    except Exception:  # exotic dtype names (bfloat16...): size is informative only
        return 0


def _record(kind: str, x: Any, src: str, dst: str) -> None:
    nbytes = _nbytes(x) if kind != "dlpack" else 0
    with _LOCK:
        _STATS[kind] += 1
        _STATS["bytes_copied"] += nbytes
    if kind != "dlpack":
        logger.info(
            "%s: copied %s array of shape %s (%d bytes) from %s to %s",
            kind, x.dtype, tuple(x.shape), nbytes, src, dst,
        )


def describe(x: Any) -> str:
    """``"torch array on cuda:0"``-style description used in error messages."""
    fw = framework_of(x)
    if fw is None:
        return f"{type(x).__module__}.{type(x).__name__}"
    return f"{fw.name} array on {fw.describe_device(fw.device_of(x))}"


def as_host_array(x: Any) -> np.ndarray:
    """Turn a non-array container (list, tuple, pandas object, scalar) into NumPy."""
    if hasattr(x, "to_numpy") and type(x).__module__.startswith("pandas"):
        return x.to_numpy()
    return np.asarray(x)


def _target_dtype_cast(x: Any, src: Framework, dst: Framework, device: Any) -> Any:
    """Downcast float64 to float32 on the source side when the target lacks float64."""
    if str(x.dtype).endswith("float64") and not dst.supports_float64(device):
        return src.xp.astype(x, src.xp.float32)
    return x


def to_backend(x: Any, name: str, device: Any = None) -> Any:
    """Convert array ``x`` to backend ``name`` on ``device``.

    Parameters
    ----------
    x : array (any supported library), list, tuple or pandas object
    name : str
        ``"numpy"``, ``"numba"`` (NumPy arrays), ``"torch"``, ``"jax"``,
        ``"cupy"`` or ``"array_api_strict"``.
    device : str or framework device, optional
        Target device; ``None`` keeps ``x``'s device when the library does not
        change, otherwise uses the target library's default device.

    Returns
    -------
    array of the target library, same shape; same dtype unless the target
    device has no float64, in which case float64 becomes float32.
    """
    if name == "auto":
        raise ValueError("to_backend needs a concrete backend name, not 'auto'.")
    dst = get_framework(name)
    src = framework_of(x)
    if src is None:
        x, src = as_host_array(x), get_framework("numpy")
    src_dev = src.device_of(x)
    if src is dst:
        if device is None:
            return x
        dev = dst.device(device)
        if dev == src_dev:
            return x
        out = dst.to_device(x, dev)
        if src.is_host(src_dev) != dst.is_host(dev):
            kind = "host_to_device" if src.is_host(src_dev) else "device_to_host"
            _record(kind, x, src.describe_device(src_dev), dst.describe_device(dev))
        return out
    dev = dst.device(device)
    x = _target_dtype_cast(x, src, dst, dev)
    src_host, dst_host = src.is_host(src_dev), dst.is_host(dev)
    where_from = f"{src.name}:{src.describe_device(src_dev)}"
    where_to = f"{dst.name}:{dst.describe_device(dev)}"
    if src_host == dst_host:
        try:
            out = dst.from_dlpack(x, dev)
        except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
            pass
        else:
            _record("dlpack", x, where_from, where_to)
            return out
    host = src.to_host(x)
    out = dst.from_host(host, dev)
    if src_host and dst_host:
        _record("host_copy", x, where_from, where_to)
    elif src_host:
        _record("host_to_device", x, where_from, where_to)
    elif dst_host:
        _record("device_to_host", x, where_from, where_to)
    else:  # device -> host -> device
        _record("device_to_host", x, where_from, "host")
        _record("host_to_device", x, "host", where_to)
    return out

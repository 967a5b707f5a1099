"""Min-max LTTB downsampling (vectorised NumPy), keeping the true minimum and maximum.

:func:`minmax_lttb` first keeps the minimum and maximum of ``ratio * n_out / 2``
equal-count buckets (one vectorised pass), then runs Largest-Triangle-Three-Buckets
(Steinarsson 2013) on those candidates down to ``n_out`` points; the first, last,
global minimum and global maximum points are always kept (MinMaxLTTB, Van Der
Donckt et al. 2023). Inputs must be sorted by ``x`` and finite.
"""

from __future__ import annotations

import numpy as np

__all__ = ["minmax_lttb", "window"]


def _minmax_candidates(y: np.ndarray, n_buckets: int) -> np.ndarray:
    """Indices of the first and last point plus the argmin and argmax of each interior bucket."""
    n = y.shape[0]
    m = n - 2
    size = -(-m // n_buckets)
    nb = -(-m // size)
    pad = nb * size - m
    inner = y[1:n - 1]
    if pad:
        inner = np.concatenate([inner, np.repeat(inner[-1:], pad)])
    b = inner.reshape(nb, size)
    base = np.arange(nb) * size + 1
    lo = np.minimum(base + b.argmin(axis=1), n - 2)
    hi = np.minimum(base + b.argmax(axis=1), n - 2)
    return np.unique(np.concatenate([[0], lo, hi, [n - 1]]))


def _lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of the ``n_out`` points LTTB keeps (``len(x) > n_out >= 3``)."""
    n = x.shape[0]
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.intp)  # n_out - 2 interior buckets
    starts, ends = edges[:-1], edges[1:]
    ends = np.maximum(ends, starts + 1)
    # the average point of each bucket, and of the last point for the final bucket
    csum_x = np.concatenate([[0.0], np.cumsum(x)])
    csum_y = np.concatenate([[0.0], np.cumsum(y)])
    cnt = ends - starts
    avg_x = np.append((csum_x[ends] - csum_x[starts]) / cnt, x[-1])
    avg_y = np.append((csum_y[ends] - csum_y[starts]) / cnt, y[-1])
    out = np.empty(n_out, dtype=np.intp)
    out[0], out[-1] = 0, n - 1
    a = 0
    for i in range(n_out - 2):
        s, e = starts[i], ends[i]
        cx, cy = avg_x[i + 1], avg_y[i + 1]
        ax, ay = x[a], y[a]
        bx, by = x[s:e], y[s:e]
        area = np.abs((ax - cx) * (by - ay) - (ax - bx) * (cy - ay))
        a = s + int(area.argmax())
        out[i + 1] = a
    return out


def minmax_lttb(x: np.ndarray, y: np.ndarray, n_out: int = 2000, ratio: int = 4) -> np.ndarray:
    """Indices (sorted) of about ``n_out`` points that draw like all of ``(x, y)``.

    Parameters
    ----------
    x, y : ndarray of shape (n,)
        Sorted by ``x``; finite.
    n_out : int, default=2000
        Points wanted; the global minimum and maximum may add up to two.
    ratio : int, default=4
        Min-max candidates per output point (the paper's default).

    Returns
    -------
    ndarray of shape (k,), intp
        ``k <= n_out + 2``; every index when ``n <= n_out``.
    """
    n = int(y.shape[0])
    if n <= max(n_out, 3):
        return np.arange(n)
    n_out = max(int(n_out), 3)
    cand = _minmax_candidates(y, max(n_out * ratio // 2, 1)) if n > n_out * ratio else np.arange(n)
    if cand.shape[0] > n_out:
        keep = cand[_lttb(x[cand].astype(np.float64), y[cand].astype(np.float64), n_out)]
    else:
        keep = cand
    extremes = np.array([int(y.argmin()), int(y.argmax())])
    return np.union1d(keep, extremes)


def window(x: np.ndarray, x0: float | None, x1: float | None) -> slice:
    """The slice of sorted ``x`` inside ``[x0, x1]``, plus one point either side (lines leave the frame)."""
    lo = 0 if x0 is None else max(int(np.searchsorted(x, x0, side="left")) - 1, 0)
    hi = x.shape[0] if x1 is None else min(int(np.searchsorted(x, x1, side="right")) + 1, x.shape[0])
    return slice(lo, max(hi, lo))

"""numba kernels for per-column statistics and column-wise affine maps (NumPy arrays).

Each kernel is a parallel pass over row blocks (``numba.prange``): every block
accumulates into its own slice of a partial-sum array, and the partials are
added afterwards, so threads never share an accumulator and the result does
not depend on scheduling. Imported by :mod:`toolbox.backends.native.numba`
only (numba is imported at the top here, so never at ``import toolbox``).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

#: At least this many rows per block of the parallel passes.
BLOCK_ROWS = 1024
#: Blocks per numba thread (a few, so uneven blocks balance out).
BLOCKS_PER_THREAD = 4


def _n_blocks(n: int) -> int:
    return max(1, min(-(-n // BLOCK_ROWS), BLOCKS_PER_THREAD * numba.get_num_threads()))


@numba.njit(cache=True, nogil=True, parallel=True)
def _column_sums(X, n_blocks):  # pragma: no cover - compiled
    n, d = X.shape
    part = np.zeros((n_blocks, d))  # float64 accumulators, also for float32 data
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for i in range(lo, hi):
            for j in range(d):
                part[b, j] += X[i, j]
    return part.sum(axis=0)


@numba.njit(cache=True, nogil=True, parallel=True)
def _centered_moments(X, mean, n_blocks):  # pragma: no cover - compiled
    """Per column: sum of (x - mean) and of (x - mean)**2."""
    n, d = X.shape
    s1 = np.zeros((n_blocks, d))
    s2 = np.zeros((n_blocks, d))
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for i in range(lo, hi):
            for j in range(d):
                t = X[i, j] - mean[j]
                s1[b, j] += t
                s2[b, j] += t * t
    return s1.sum(axis=0), s2.sum(axis=0)


def column_mean_var(X: Any, *, xp: Any) -> tuple[Any, Any]:
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    nb = _n_blocks(n)
    mean = (_column_sums(X, nb) / n).astype(X.dtype)
    s1, s2 = _centered_moments(X, mean, nb)
    return (mean + s1 / n).astype(X.dtype), (s2 / n - (s1 / n) ** 2).astype(X.dtype)


@numba.njit(cache=True, nogil=True, parallel=True)
def _affine(X, sub, div, mul, add, out, n_blocks):  # pragma: no cover - compiled
    n, d = X.shape
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for i in range(lo, hi):
            for j in range(d):
                out[i, j] = (X[i, j] - sub[j]) / div[j] * mul[j] + add[j]


def columnwise_affine(X: Any, sub: Any, div: Any, mul: Any, add: Any, *, xp: Any) -> Any:
    d = X.shape[1]

    def vec(v: Any, fill: float) -> np.ndarray:
        return np.full(d, fill, dtype=X.dtype) if v is None else np.ascontiguousarray(v, dtype=X.dtype)

    # x - 0, x / 1, x * 1 and x + 0 are exact, so absent steps change nothing
    out = np.empty(X.shape, dtype=X.dtype)
    _affine(np.ascontiguousarray(X), vec(sub, 0.0), vec(div, 1.0), vec(mul, 1.0), vec(add, 0.0), out,
            _n_blocks(X.shape[0]))
    return out


@numba.njit(cache=True, nogil=True, parallel=True)
def _segment_sums(X, ids, k, n_blocks):  # pragma: no cover - compiled
    n, d = X.shape
    cnt = np.zeros((n_blocks, k))
    part = np.zeros((n_blocks, k, d))
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for i in range(lo, hi):
            s = ids[i]
            cnt[b, s] += 1.0
            for j in range(d):
                part[b, s, j] += X[i, j]
    return cnt.sum(axis=0), part.sum(axis=0)


@numba.njit(cache=True, nogil=True, parallel=True)
def _segment_sq_dev(X, ids, mean, n_blocks):  # pragma: no cover - compiled
    n, d = X.shape
    k = mean.shape[0]
    part = np.zeros((n_blocks, k, d))
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for i in range(lo, hi):
            s = ids[i]
            for j in range(d):
                t = X[i, j] - mean[s, j]
                part[b, s, j] += t * t
    return part.sum(axis=0)


def segment_mean_var(X: Any, ids: Any, num_segments: int, *, xp: Any) -> tuple[Any, Any, Any]:
    X = np.ascontiguousarray(X)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= num_segments):
        raise ValueError(f"segment_mean_var: ids must lie in [0, {num_segments}).")
    nb = _n_blocks(X.shape[0])
    counts, sums = _segment_sums(X, ids, num_segments, nb)
    safe = np.where(counts > 0, counts, 1.0)
    mean = (sums / safe[:, None]).astype(X.dtype)
    var = _segment_sq_dev(X, ids, mean, nb) / safe[:, None]
    return counts.astype(X.dtype), mean, var.astype(X.dtype)


@numba.njit(cache=True, nogil=True, parallel=True)
def _min_max(X, n_blocks):  # pragma: no cover - compiled
    n, d = X.shape
    lo_part = np.empty((n_blocks, d), dtype=X.dtype)
    hi_part = np.empty((n_blocks, d), dtype=X.dtype)
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        for j in range(d):
            lo_part[b, j] = X[lo, j]
            hi_part[b, j] = X[lo, j]
        for i in range(lo + 1, hi):
            for j in range(d):
                v = X[i, j]
                # NaN propagates, as in NumPy: a comparison with NaN is False, so test it explicitly
                if v < lo_part[b, j] or v != v:
                    lo_part[b, j] = v
                if v > hi_part[b, j] or v != v:
                    hi_part[b, j] = v
    mn = lo_part[0].copy()
    mx = hi_part[0].copy()
    for b in range(1, n_blocks):
        for j in range(d):
            if lo_part[b, j] < mn[j] or lo_part[b, j] != lo_part[b, j]:
                mn[j] = lo_part[b, j]
            if hi_part[b, j] > mx[j] or hi_part[b, j] != hi_part[b, j]:
                mx[j] = hi_part[b, j]
    return mn, mx


def column_min_max(X: Any, *, xp: Any) -> tuple[Any, Any]:
    X = np.ascontiguousarray(X)
    return _min_max(X, min(_n_blocks(X.shape[0]), X.shape[0]))

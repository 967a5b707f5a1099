"""numba kernels for :class:`~toolbox.ensemble._hist_gradient_boosting._binning.BinMapper` (NumPy arrays).

Imported lazily by ``_binning`` only on the numba path (NumPy data and
:func:`toolbox.backends._dispatch.numba_active`), so ``import toolbox`` never
imports numba. The kernel handles rows ``[start, stop)`` and is compiled
``nogil``; :func:`toolbox.backends._threaded.parallel_map` runs fixed row parts
side by side (no ``numba.prange``, see :mod:`toolbox.backends._threaded`).
Each output element depends on its input value only, so the codes never
depend on the thread count.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ...backends._threaded import parallel_map, worker_threads

__all__ = ["PART_ROWS", "map_to_bins", "sorted_stats"]

#: Rows per part (the unit of work handed to a thread).
PART_ROWS = 8192


@numba.njit(cache=True, nogil=True)
def _map_rows(X, start, stop, T, L, n_levels, is_cat, exact, missing, out, special_only):  # pragma: no cover
    """Bin rows ``[start, stop)`` of ``X`` into ``out`` (uint8).

    ``T`` (d, 2**n_levels - 1) float64 holds each feature's thresholds (or sorted
    categories) padded with +inf, ``L`` (d,) their counts. Numeric value ``x``
    goes to the number of thresholds below it (scikit-learn's binary search:
    ``x <= t`` goes left); features flagged ``exact`` (NaN thresholds, from
    infinite data) run scikit-learn's own search loop step for step. NaN goes
    to ``missing``; for categorical features so does any value that is not one
    of the categories. ``special_only``: only the features flagged ``exact`` or categorical.
    """
    d = X.shape[1]
    top = 1 << (n_levels - 1) if n_levels > 0 else 0
    pos = np.zeros(d, dtype=np.int64)
    for i in range(start, stop):
        # branch-free search, all features of the row side by side (independent load chains)
        for j in range(d):
            pos[j] = 0
        s = top
        while s > 0:
            for j in range(d):
                p = pos[j]
                pos[j] = p + s * (T[j, p + s - 1] < np.float64(X[i, j]))
            s >>= 1
        for j in range(d):
            if special_only and not (exact[j] or is_cat[j]):
                continue
            x = np.float64(X[i, j])
            if x != x:
                out[i, j] = missing
                continue
            p = pos[j]
            if exact[j]:
                left = 0
                right = L[j]
                while left < right:
                    middle = left + (right - left - 1) // 2
                    if x <= T[j, middle]:
                        right = middle
                    else:
                        left = middle + 1
                p = left
            if is_cat[j] and (p >= L[j] or T[j, p] != x):
                p = missing
            out[i, j] = p


#: Rows of a sub-block: binned feature by feature while the rows stay in L1.
_SUB_ROWS = 64


@numba.njit(inline="always", nogil=True)
def _count_below(tj, x, n_levels):  # pragma: no cover - compiled
    """How many of the sorted thresholds ``tj`` (2**n_levels - 1, padded with +inf) are below ``x``:
    a branch-free binary search, unrolled for 255 thresholds (``max_bins=255``, the default)."""
    if n_levels == 8:
        p = 0
        p += 128 * (tj[p + 127] < x)
        p += 64 * (tj[p + 63] < x)
        p += 32 * (tj[p + 31] < x)
        p += 16 * (tj[p + 15] < x)
        p += 8 * (tj[p + 7] < x)
        p += 4 * (tj[p + 3] < x)
        p += 2 * (tj[p + 1] < x)
        p += 1 * (tj[p] < x)
        return p
    p = 0
    s = 1 << (n_levels - 1) if n_levels > 0 else 0
    while s > 0:
        p += s * (tj[p + s - 1] < x)
        s >>= 1
    return p


@numba.njit(cache=True, nogil=True)
def _map_block(X, start, stop, T, L, n_levels, is_cat, exact, missing, out):  # pragma: no cover - compiled
    """:func:`_map_rows` for plain numeric features, the fast way: sub-blocks of rows, feature by feature
    within one (the rows and the feature's thresholds stay in L1). Features flagged ``exact`` or
    categorical go through :func:`_map_rows`'s loops."""
    d = X.shape[1]
    special = False
    for j in range(d):
        special |= (exact[j] != 0) | (is_cat[j] != 0)
    for a in range(start, stop, _SUB_ROWS):
        b = min(stop, a + _SUB_ROWS)
        for j in range(d):
            if exact[j] or is_cat[j]:
                continue
            tj = T[j]
            for i in range(a, b):
                x = np.float64(X[i, j])
                p = _count_below(tj, x, n_levels)
                out[i, j] = missing if x != x else p
    if special:
        _map_rows(X, start, stop, T, L, n_levels, is_cat, exact, missing, out, True)


def map_to_bins(X: Any, T: np.ndarray, L: np.ndarray, n_levels: int, is_cat: np.ndarray,
                exact: np.ndarray, missing: int, order: str = "C") -> np.ndarray:
    """Codes of ``X`` (n, d), float32 or float64, any layout: a uint8 array (n, d) in ``order`` ("C" or "F")."""
    n, d = X.shape
    out = np.empty((n, d), dtype=np.uint8, order=order)
    if n == 0 or d == 0:
        return out
    parts = [(s, min(n, s + PART_ROWS)) for s in range(0, n, PART_ROWS)]
    parallel_map(lambda p: _map_block(X, parts[p][0], parts[p][1], T, L, n_levels, is_cat, exact,
                                      missing, out), len(parts))
    return out


@numba.njit(cache=True, nogil=True)
def _nan_to_inf(S, a, b, n_nan):  # pragma: no cover - compiled
    """Rows a..b-1 of ``S`` (features, values): NaN becomes +inf (sorted last), counted in ``n_nan``."""
    for j in range(a, b):
        c = 0
        row = S[j]
        for r in range(row.shape[0]):
            if row[r] != row[r]:
                row[r] = np.inf
                c += 1
        n_nan[j] = c


@numba.njit(cache=True, nogil=True)
def _distinct(S, a, b, n_valid, max_bins, n_distinct, distinct):  # pragma: no cover - compiled
    """For sorted rows a..b-1 of ``S``: the number of distinct values among the first ``n_valid[j]``
    and the first ``max_bins`` of them."""
    for j in range(a, b):
        row = S[j]
        nd = 0
        for r in range(n_valid[j]):
            if r == 0 or row[r] != row[r - 1]:
                if nd < max_bins:
                    distinct[j, nd] = row[r]
                nd += 1
        n_distinct[j] = nd


def sorted_stats(Xg: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`._binning._sorted_stats` on a NumPy group (m, k): each feature copied, NaN to +inf, sorted,
    and scanned for its distinct values, features side by side on the pool; no (k, m) temporaries."""
    m, k = Xg.shape
    S = np.array(Xg.T, order="C", copy=True)  # sorted in place: never the caller's memory
    n_nan = np.zeros(k, dtype=np.int64)
    n_distinct = np.zeros(k, dtype=np.int64)
    distinct = np.zeros((k, max_bins), dtype=S.dtype)
    threads = max(1, min(k, worker_threads()))
    edges = [k * i // threads for i in range(threads + 1)]
    n_valid = np.empty(k, dtype=np.int64)

    def work(t: int) -> None:
        a, b = edges[t], edges[t + 1]
        _nan_to_inf(S, a, b, n_nan)
        S[a:b].sort(axis=1)
        n_valid[a:b] = m - n_nan[a:b]
        _distinct(S, a, b, n_valid, max_bins, n_distinct, distinct)

    parallel_map(work, threads)
    return S.reshape(k * m), n_valid, n_distinct, distinct

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

from ...backends._threaded import parallel_map

__all__ = ["PART_ROWS", "map_to_bins"]

#: Rows per part (the unit of work handed to a thread).
PART_ROWS = 8192


@numba.njit(cache=True, nogil=True)
def _map_rows(X, start, stop, T, L, n_levels, is_cat, exact, missing, out):  # pragma: no cover - compiled
    """Bin rows ``[start, stop)`` of ``X`` into ``out`` (uint8).

    ``T`` (d, 2**n_levels - 1) float64 holds each feature's thresholds (or sorted
    categories) padded with +inf, ``L`` (d,) their counts. Numeric value ``x``
    goes to the number of thresholds below it (scikit-learn's binary search:
    ``x <= t`` goes left); features flagged ``exact`` (NaN thresholds, from
    infinite data) run scikit-learn's own search loop step for step. NaN goes
    to ``missing``; for categorical features so does any value that is not one
    of the categories.
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


def map_to_bins(X: Any, T: np.ndarray, L: np.ndarray, n_levels: int, is_cat: np.ndarray,
                exact: np.ndarray, missing: int, order: str = "C") -> np.ndarray:
    """Codes of ``X`` (n, d), float32 or float64, any layout: a uint8 array (n, d) in ``order`` ("C" or "F")."""
    n, d = X.shape
    out = np.empty((n, d), dtype=np.uint8, order=order)
    if n == 0 or d == 0:
        return out
    parts = [(s, min(n, s + PART_ROWS)) for s in range(0, n, PART_ROWS)]
    parallel_map(lambda p: _map_rows(X, parts[p][0], parts[p][1], T, L, n_levels, is_cat, exact,
                                     missing, out), len(parts))
    return out

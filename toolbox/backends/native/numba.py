"""numba kernels for NumPy arrays (used when the backend is "numba", or "auto" with numba installed).

Only primitives where a compiled loop beats vectorized NumPy are here; the
others fall through to :mod:`toolbox.backends.native.numpy`.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from .. import _threaded
from . import numpy as _np_native

cholesky = _np_native.cholesky
cho_solve = _np_native.cho_solve


@numba.njit(cache=True, nogil=True)
def _segment_sum_2d(values, ids, num_segments):  # pragma: no cover - compiled
    n, d = values.shape
    out = np.zeros((num_segments, d), dtype=values.dtype)
    for i in range(n):
        s = ids[i]
        for j in range(d):
            out[s, j] += values[i, j]
    return out


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    if values.ndim == 1:
        return _np_native.segment_sum(values, ids, num_segments, xp=xp)
    if ids.size and (ids.min() < 0 or ids.max() >= num_segments):
        raise ValueError(f"segment_sum: ids must lie in [0, {num_segments}).")
    return _segment_sum_2d(np.ascontiguousarray(values), ids, num_segments)


# --------------------------------------------------------------------------- #
# smallest_k: one pass per row with a sorted buffer of the k best so far
# --------------------------------------------------------------------------- #

#: Largest ``k`` for the insertion-buffer kernel (each insertion shifts up to k entries).
SMALLEST_K_MAX_K = 64
#: Rows are cut into parts of about this many elements, one part at a time per thread.
_PART_ELEMENTS = 1 << 20
#: Lanes of the vectorized "any candidate here?" test of the row scan.
_LANES = 16


@numba.njit(inline="always", nogil=True)
def _insert(vals, idx, k, v, j):  # pragma: no cover - compiled
    """Insert ``(v, j)`` into the sorted buffer ``vals``/``idx`` (length k), dropping its last entry.

    ``v`` goes after the entries equal to it (``j`` is larger than their
    indices: a stable order); NaN entries count as larger than any number.
    """
    p = k - 1
    while p > 0 and not (vals[p - 1] <= v):
        vals[p] = vals[p - 1]
        idx[p] = idx[p - 1]
        p -= 1
    vals[p] = v
    idx[p] = j


@numba.njit(inline="always", nogil=True)
def _scan_row(row, offset, vals, idx):  # pragma: no cover - compiled
    """Merge ``row`` (its element ``j`` has index ``offset + j``) into one row's sorted buffer."""
    n = row.shape[0]
    k = vals.shape[0]
    worst = vals[k - 1]
    j = 0
    while j < n and worst != worst:  # the buffer still holds NaN (unfilled): any number enters
        v = row[j]
        if v == v:
            _insert(vals, idx, k, v, offset + j)
            worst = vals[k - 1]
        j += 1
    while j + _LANES <= n:  # most blocks hold no candidate: one vectorized minimum rules them out
        lo = worst  # (not row[j]: a NaN there would hide the block's numbers)
        for t in range(_LANES):
            x = row[j + t]
            lo = x if x < lo else lo
        if lo < worst:
            for t in range(_LANES):
                v = row[j + t]
                if v < worst:  # strict: an equal value has the larger index and stays out
                    _insert(vals, idx, k, v, offset + j + t)
                    worst = vals[k - 1]
        j += _LANES
    for jj in range(j, n):
        v = row[jj]
        if v < worst:
            _insert(vals, idx, k, v, offset + jj)
            worst = vals[k - 1]


@numba.njit(cache=True, nogil=True)
def select_update(S, offset, vals, idx):  # pragma: no cover - compiled
    """Merge the columns of ``S`` into running row-wise k-smallest buffers, in place.

    Parameters
    ----------
    S : ndarray of shape (m, n), float32 or float64
        A tile of values; its column ``j`` is column ``offset + j`` of the full rows.
    offset : int
    vals : ndarray of shape (m, k), dtype of ``S``
        The k smallest values seen so far in each row, ascending; NaN where
        not filled yet (start with all NaN).
    idx : ndarray of shape (m, k), int64
        Their column indices (any value where ``vals`` is NaN).

    Fed the tiles of a row in increasing column order, the buffers end as a
    stable sort would: ties go to the lower index, NaN values never enter.
    """
    for i in range(S.shape[0]):
        _scan_row(S[i], offset, vals[i], idx[i])


@numba.njit(cache=True, nogil=True)
def _fill_nan_tails(x, rows, vals, idx):  # pragma: no cover - compiled
    """Rows with fewer than k numbers: their NaN positions, in order, after the numbers (as a stable sort)."""
    k = vals.shape[1]
    for r in rows:
        p = 0
        while p < k and vals[r, p] == vals[r, p]:
            p += 1
        j = 0
        while p < k:
            if x[r, j] != x[r, j]:
                vals[r, p] = x[r, j]
                idx[r, p] = j
                p += 1
            j += 1


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    """The k smallest values along the last axis and their indices, ties by lower index (stable order).

    ``x`` of shape (..., n); returns values (..., k), ascending, and int64 indices (..., k).
    Floating ``x`` and ``k <= SMALLEST_K_MAX_K``: one compiled pass per row;
    otherwise NumPy's partition.
    """
    n = x.shape[-1]
    if k > SMALLEST_K_MAX_K or x.dtype not in (np.float32, np.float64):
        return _np_native.smallest_k(x, k, xp=xp)
    x2 = np.ascontiguousarray(x).reshape(-1, n)
    m = x2.shape[0]
    vals = np.full((m, k), np.nan, dtype=x2.dtype)
    idx = np.zeros((m, k), dtype=np.int64)
    rows = max(1, _PART_ELEMENTS // max(n, 1))
    parts = [slice(s, s + rows) for s in range(0, m, rows)]
    # parts side by side on the shared pool (GIL-free kernel; not prange, see backends._threaded)
    _threaded.parallel_map(lambda p: select_update(x2[parts[p]], 0, vals[parts[p]], idx[parts[p]]), len(parts))
    short = np.flatnonzero(np.isnan(vals[:, k - 1]))
    if short.size:
        _fill_nan_tails(x2, short, vals, idx)
    shape = (*x.shape[:-1], k)
    return vals.reshape(shape), idx.reshape(shape)


from ._numba_stats import column_mean_var as column_mean_var  # noqa: E402
from ._numba_stats import column_min_max as column_min_max  # noqa: E402
from ._numba_stats import columnwise_affine as columnwise_affine  # noqa: E402
from ._numba_stats import segment_mean_var as segment_mean_var  # noqa: E402

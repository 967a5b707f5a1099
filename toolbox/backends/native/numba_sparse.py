"""Parallel products of a ``scipy.sparse`` CSR/CSC matrix with a dense array (numba kernels).

Imported lazily by :mod:`toolbox.backends._sparse` when numba is active, so
``import toolbox`` never imports numba. SciPy's own products run on one
thread; these run on :func:`toolbox.backends._threaded.parallel_map`'s
threads and give **the same bits as SciPy**: every output entry is summed
over the stored entries in the order SciPy sums it.

- CSR ``A @ W``: each output row is one stored row of ``A``; the rows are cut
  into parts of about equal stored entries.
- CSC ``A @ W`` (what ``X.T`` of a CSR ``X`` is): each stored column scatters
  into the output rows its entries name. The output rows are cut into ranges
  of about equal stored entries; the part for a range walks every column, in
  order, and takes only the entries that fall in its range (found by binary
  search, so the indices must be sorted). Parts write disjoint rows; nothing
  is allocated beyond the result. Small output ranges also keep each part's
  rows in cache: 4 parts on 2 threads ran faster than 2 (0.109 against 0.17 s
  for 100,000 x 50,000 at 0.1%, 20 columns; SciPy 0.30-0.39 s).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from .. import _threaded

__all__ = ["MIN_COLUMNS", "MIN_WORK", "product"]

#: Stored entries x output columns below which SciPy's single-threaded product is used.
MIN_WORK = 2_000_000
#: Fewest columns of ``W`` for the threaded products, per format. With fewer, each stored entry costs
#: too little for threads to pay: 100,000 x 50,000 at 0.1%, 2 threads against SciPy: CSR 1 column
#: 20.7 against 8.3 ms, 8 columns 33 against 67 ms; CSC 10 columns 90 against 89 ms, 20 columns 176
#: against 427 ms.
MIN_COLUMNS = {"csr": 8, "csc": 12}
#: Parts per thread: CSR rows are handed out dynamically; CSC output ranges keep their rows in cache.
_CSR_PARTS_PER_THREAD = 4
_CSC_PARTS_PER_THREAD = 2


@numba.njit(cache=True, nogil=True)
def _rows_product(indptr, indices, data, W, out, start, stop):  # pragma: no cover - compiled
    """``out[i] += A[i] @ W`` for the CSR rows ``start:stop`` of ``A``, entries in stored order.

    Returns the number of entries whose column index is outside ``W``'s rows (skipped).
    """
    k = W.shape[1]
    p = W.shape[0]
    bad = 0
    for i in range(start, stop):
        for jj in range(indptr[i], indptr[i + 1]):
            j = indices[jj]
            if j < 0 or j >= p:
                bad += 1
                continue
            a = data[jj]
            for c in range(k):
                out[i, c] += a * W[j, c]
    return bad


@numba.njit(cache=True, nogil=True)
def _scatter_product(indptr, indices, data, W, out, lo, hi):  # pragma: no cover - compiled
    """``out[i] += A[i, j] * W[j]`` over the CSC columns ``j`` in order, for the rows ``lo <= i < hi``.

    The row indices of each column must be sorted (the entries of the range are one slice).
    """
    k = W.shape[1]
    n_out = out.shape[0]
    for j in range(indptr.shape[0] - 1):
        a0 = indptr[j]
        b0 = indptr[j + 1]
        if a0 == b0:
            continue
        col = indices[a0:b0]
        if lo > 0:
            a0 += np.searchsorted(col, lo)
        if hi < n_out:
            b0 = indptr[j] + np.searchsorted(col, hi)
        for ii in range(a0, b0):
            i = indices[ii]
            if i < lo or i >= hi:  # only out-of-range indices (the slice holds the range's entries)
                continue
            a = data[ii]
            for c in range(k):
                out[i, c] += a * W[j, c]


@numba.njit(cache=True, nogil=True)
def _cumulative_counts(indices, length):  # pragma: no cover - compiled
    """Running count of the indices ``<= i`` for each ``i < length`` (int64; no copy of ``indices``),
    and the number of indices outside ``[0, length)``."""
    out = np.zeros(length, dtype=np.int64)
    bad = 0
    for t in range(indices.shape[0]):
        i = indices[t]
        if i < 0 or i >= length:
            bad += 1
        else:
            out[i] += 1
    for i in range(1, length):
        out[i] += out[i - 1]
    return out, bad


def _equal_work_cuts(cumulative: np.ndarray, parts: int) -> list[int]:
    """Edges ``0 = e_0 <= ... <= e_parts = len`` cutting a nondecreasing cumulative count into equal shares."""
    total = int(cumulative[-1]) if cumulative.size else 0
    inner = np.searchsorted(cumulative, np.linspace(0, total, parts + 1)[1:-1], side="left")
    return [0, *(int(c) for c in inner), int(cumulative.size)]


def product(A: Any, W: np.ndarray) -> np.ndarray | None:
    """``A @ W`` for a ``scipy.sparse`` CSR or CSC ``A`` (r, p) and a NumPy ``W`` (p,) or (p, k).

    Returns a NumPy array of shape (r,) or (r, k), with SciPy's bits, or None
    when SciPy should do it: another format or dtype (``A``'s and ``W``'s must
    be the same float32/float64), unsorted CSC indices, few columns
    (:data:`MIN_COLUMNS`), little work, or one thread.
    """
    fmt = getattr(A, "format", None)
    if fmt not in ("csr", "csc") or not isinstance(W, np.ndarray) or W.ndim not in (1, 2):
        return None
    dtype = A.dtype
    if dtype not in (np.float32, np.float64) or W.dtype != dtype or W.shape[0] != A.shape[1]:
        return None
    k = 1 if W.ndim == 1 else W.shape[1]
    threads = _threaded.worker_threads()
    if threads < 2 or _threaded.in_job() or k < MIN_COLUMNS[fmt] or A.nnz * k < MIN_WORK:
        return None
    if fmt == "csc" and not A.has_sorted_indices:
        return None
    W2 = np.ascontiguousarray(W.reshape(-1, 1) if W.ndim == 1 else W)
    r = A.shape[0]
    out = np.zeros((r, k), dtype=dtype)
    indptr, indices, data = A.indptr, A.indices, A.data
    if fmt == "csr":
        e = _equal_work_cuts(indptr[1:], threads * _CSR_PARTS_PER_THREAD)
        bad = sum(_threaded.parallel_map(
            lambda p: _rows_product(indptr, indices, data, W2, out, e[p], e[p + 1]), len(e) - 1))
    else:
        per_row, bad = _cumulative_counts(indices[:indptr[-1]], r)  # (np.bincount would copy int32 indices to int64)
        if not bad:
            e = _equal_work_cuts(per_row, threads * _CSC_PARTS_PER_THREAD)
            _threaded.parallel_map(lambda p: _scatter_product(indptr, indices, data, W2, out, e[p], e[p + 1]),
                                   len(e) - 1)
    if bad:
        axis = "column" if fmt == "csr" else "row"
        raise ValueError(f"sparse {fmt.upper()} matrix of shape {A.shape}: {bad} stored entries have a {axis} "
                         f"index outside [0, {A.shape[1] if fmt == 'csr' else r}); the matrix is malformed "
                         "(check its indices array).")
    return out[:, 0] if W.ndim == 1 else out

"""numba kernels for :class:`toolbox.cluster.KMeans` on NumPy arrays.

Imported lazily by :mod:`toolbox.cluster._kmeans`, only when the numba path is
taken (NumPy data and :func:`toolbox.backends._dispatch.numba_active`), so
that ``import toolbox`` never imports numba.

As in scikit-learn's ``_k_means_lloyd.pyx``, one Lloyd iteration is a single
pass over the data: each row is assigned to its nearest centre and added to
that centre's (weighted) sum. Rows are read in blocks of 256, centred on the
fly into a small buffer (the same subtraction as a centred copy of ``X``,
without the copy), and the ``x.c`` products of a block come from one BLAS
call (``np.dot``), BLAS limited to one thread meanwhile
(:func:`blas_one_thread`), as scikit-learn does. Distances are
``|c|^2 - 2 x.c`` (``|x|^2`` does not change the argmin); the first of equal
distances wins, as in ``numpy.argmin``.

The rows are cut into fixed parts of :data:`PART_ROWS` rows. Each part has its
own partial sums, added up afterwards in part order, so results do not depend
on the number of threads or on their scheduling.

Parallelism: the kernels are compiled ``nogil`` and the parts are handed out
dynamically by :func:`toolbox.backends._threaded.parallel_map` (the calling
thread and a small shared pool), not with ``numba.prange``: numba's OpenMP
layer spin-waits at the end of each parallel loop, and on a busy machine (more
runnable threads than cores, as on a shared 2-core machine) one Lloyd pass
then took ~70 ms instead of ~15 ms. Dynamic hand-out also lets a thread that
has a core take the parts of one that has none.
"""

from __future__ import annotations

import numba
import numpy as np

from ..backends import _threaded

__all__ = ["PART_ROWS", "assign", "assign_inertia", "blas_one_thread", "column_stats", "inertia", "lloyd_iter",
           "parts"]

#: Rows per part (unit of work and of partial sums). Fixed, so results do not
#: depend on the thread count.
PART_ROWS = 16384
#: Bytes all parts' partial sums may take; fewer, larger parts beyond it.
_PARTIAL_BYTES = 64 * 2**20
#: Rows per BLAS call (scikit-learn's chunk).
_BLOCK_ROWS = 256
#: Column statistics: columns per thread at least, and elements per thread at least.
_STATS_MIN_COLUMNS = 4
_STATS_MIN_WORK = 1 << 20


# --------------------------------------------------------------------------- #
# Compiled kernels: each handles rows [start, stop) of X (any layout)
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True, fastmath=False)
def _prepare(centers):  # pragma: no cover - compiled
    """``-2 * centers.T`` as a C-contiguous (d, k) array, and ``|c|^2`` of shape (k,)."""
    k, d = centers.shape
    m2_t = np.empty((d, k), dtype=centers.dtype)
    c_sq = np.zeros(k, dtype=centers.dtype)
    for j in range(k):
        for f in range(d):
            c = centers[j, f]
            m2_t[f, j] = -2.0 * c
            c_sq[j] += c * c
    return m2_t, c_sq


@numba.njit(inline="always", nogil=True, fastmath=False)
def _nearest(D, r, c_sq):  # pragma: no cover - compiled
    """Index of the smallest ``D[r, j] + c_sq[j]`` (the first one on ties)."""
    best = 0
    best_d = D[r, 0] + c_sq[0]
    for j in range(1, c_sq.shape[0]):
        v = D[r, j] + c_sq[j]
        if v < best_d:
            best_d = v
            best = j
    return best


@numba.njit(inline="always", nogil=True, fastmath=False)
def _load_block(X, offset, b0, nb, xb):  # pragma: no cover - compiled
    """``xb[:nb] = X[b0:b0 + nb] - offset``: the centred rows, C-contiguous for BLAS."""
    d = X.shape[1]
    for r in range(nb):
        for f in range(d):
            xb[r, f] = X[b0 + r, f] - offset[f]


@numba.njit(cache=True, nogil=True, fastmath=False)
def _lloyd_part(X, offset, w, m2_t, c_sq, labels_old, labels, start, stop, block, sums, wsum,
                want_sq, unit):  # pragma: no cover - compiled
    """Assign rows ``start:stop`` and add them to ``sums`` (k, d) and ``wsum`` (k,).

    Returns the number of changed labels and, when ``want_sq``, the sum of
    squares of the (offset) rows in float64 (else 0). ``unit``: every weight
    is 1 (``x * 1`` is exact, so the products are skipped, not the bits).
    """
    d = X.shape[1]
    xb = np.empty((block, d), dtype=X.dtype)
    changed = 0
    sq = 0.0
    for b0 in range(start, stop, block):
        nb = min(block, stop - b0)
        _load_block(X, offset, b0, nb, xb)
        D = np.dot(xb[:nb], m2_t)  # (nb, k) block of -2 x.c: one BLAS call
        for r in range(nb):
            i = b0 + r
            j = _nearest(D, r, c_sq)
            labels[i] = j
            if j != labels_old[i]:
                changed += 1
            if unit:
                wsum[j] += 1.0
                for f in range(d):
                    sums[j, f] += xb[r, f]
            else:
                wi = w[i]
                wsum[j] += wi
                for f in range(d):
                    sums[j, f] += xb[r, f] * wi
        if want_sq:
            for r in range(nb):
                for f in range(d):
                    t = xb[r, f]
                    sq += t * t
    return changed, sq


@numba.njit(cache=True, nogil=True, fastmath=False)
def _assign_part(X, offset, m2_t, c_sq, labels, start, stop, block):  # pragma: no cover - compiled
    xb = np.empty((block, X.shape[1]), dtype=X.dtype)
    for b0 in range(start, stop, block):
        nb = min(block, stop - b0)
        _load_block(X, offset, b0, nb, xb)
        D = np.dot(xb[:nb], m2_t)
        for r in range(nb):
            labels[b0 + r] = _nearest(D, r, c_sq)


@numba.njit(cache=True, nogil=True, fastmath=False)
def _assign_inertia_part(X, offset, w, m2_t, c_sq, centers, labels, start, stop, block):  # pragma: no cover
    """:func:`_assign_part`, also returning ``sum w_i |(x_i - offset) - c_{label_i}|^2`` (float64)."""
    d = X.shape[1]
    xb = np.empty((block, d), dtype=X.dtype)
    total = 0.0
    for b0 in range(start, stop, block):
        nb = min(block, stop - b0)
        _load_block(X, offset, b0, nb, xb)
        D = np.dot(xb[:nb], m2_t)
        for r in range(nb):
            j = _nearest(D, r, c_sq)
            labels[b0 + r] = j
            s = 0.0
            for f in range(d):
                t = xb[r, f] - centers[j, f]
                s += t * t
            total += s * w[b0 + r]
    return total


@numba.njit(cache=True, nogil=True, fastmath=False)
def _inertia_part(X, offset, w, centers, labels, start, stop):  # pragma: no cover - compiled
    """``sum w_i |(x_i - offset) - c_{label_i}|^2`` over rows ``start:stop``, accumulated in float64."""
    d = X.shape[1]
    total = 0.0
    for i in range(start, stop):
        j = labels[i]
        s = 0.0
        for f in range(d):
            t = (X[i, f] - offset[f]) - centers[j, f]
            s += t * t
        total += s * w[i]
    return total


@numba.njit(cache=True, nogil=True, fastmath=False)
def _column_stats(X, c0, c1, s_out, mn_out, mx_out):  # pragma: no cover - compiled
    """Columns ``c0:c1``: the sum in row order, the minimum and the maximum (NaN propagates); one pass.

    Writes ``s_out``, ``mn_out`` and ``mx_out`` (shape (d,)) at those columns
    (accumulated in local arrays, which the compiler knows ``X`` does not alias).
    """
    n = X.shape[0]
    s = X[0, c0:c1].copy()
    mn = s.copy()
    mx = s.copy()
    for i in range(1, n):
        row = X[i, c0:c1]
        for j in range(c1 - c0):
            v = row[j]
            s[j] += v
            a = mn[j]
            b = mx[j]
            nan = v != v  # selects, not branches: the loop vectorizes
            mn[j] = v if (v < a) | nan else a
            mx[j] = v if (v > b) | nan else b
    s_out[c0:c1] = s
    mn_out[c0:c1] = mn
    mx_out[c0:c1] = mx


# --------------------------------------------------------------------------- #
# Threads and BLAS
# --------------------------------------------------------------------------- #

blas_one_thread = _threaded.blas_one_thread
_run = _threaded.parallel_map


def parts(n: int, k: int, d: int, itemsize: int) -> list[tuple[int, int]]:
    """Row ranges ``(start, stop)`` of the parts for ``n`` rows, ``k`` centres, ``d`` features."""
    max_parts = max(1, _PARTIAL_BYTES // max(1, k * d * itemsize))
    rows = max(PART_ROWS, -(-n // max_parts))
    return [(s, min(n, s + rows)) for s in range(0, n, rows)] or [(0, 0)]


def _weights(w: np.ndarray | None, X: np.ndarray) -> np.ndarray:
    if w is None:  # unit weights without an (n,) allocation
        return np.broadcast_to(np.ones(1, dtype=X.dtype), (X.shape[0],))
    return np.ascontiguousarray(w, dtype=X.dtype)


# --------------------------------------------------------------------------- #
# Entry points called by _kmeans.py
# --------------------------------------------------------------------------- #


def _offset(offset: np.ndarray | None, X: np.ndarray) -> np.ndarray:
    if offset is None:
        return np.zeros(X.shape[1], dtype=X.dtype)
    return np.ascontiguousarray(offset, dtype=X.dtype)


def lloyd_iter(X: np.ndarray, w: np.ndarray | None, centers: np.ndarray, labels_old: np.ndarray,
               offset: np.ndarray | None = None, *,
               with_sum_sq: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float | None]:
    """One fused Lloyd pass over ``X - offset``: nearest centres and the per-cluster (weighted) sums.

    The rows are centred on the fly, block by block, with the same
    floating-point operations as a centred copy of ``X`` would take.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64, any layout
    w : ndarray of shape (n,) of the dtype of ``X``, or None (unit weights)
    centers : ndarray of shape (k, d), the dtype of ``X``
        Centres in the coordinates of ``X - offset``.
    labels_old : ndarray of int32, shape (n,)
        Labels of the previous pass, to count the changes.
    offset : ndarray of shape (d,), the dtype of ``X``, or None (zero)
    with_sum_sq : bool, default=False
        Also return ``sum((X - offset) ** 2)`` (the same pass: no extra read of ``X``).

    Returns
    -------
    labels : ndarray of int32, shape (n,)
    sums : ndarray of shape (k, d), the dtype of ``X``
        ``sum_i w_i (x_i - offset)`` over the rows of each cluster.
    wsum : ndarray of shape (k,), the dtype of ``X``
        Total weight of each cluster.
    n_changed : int
        Number of rows whose label differs from ``labels_old``.
    sum_sq : float or None
        ``sum((X - offset) ** 2)``, accumulated in float64, when ``with_sum_sq``.
    """
    n, d = X.shape
    k = centers.shape[0]
    m2_t, c_sq = _prepare(np.ascontiguousarray(centers, dtype=X.dtype))
    unit = w is None
    w = _weights(w, X)
    offset = _offset(offset, X)
    labels = np.empty(n, dtype=np.int32)
    ranges = parts(n, k, d, X.dtype.itemsize)
    psums = np.zeros((len(ranges), k, d), dtype=X.dtype)
    pw = np.zeros((len(ranges), k), dtype=X.dtype)
    with blas_one_thread():
        out = _run(lambda p: _lloyd_part(X, offset, w, m2_t, c_sq, labels_old, labels, *ranges[p],
                                         _BLOCK_ROWS, psums[p], pw[p], with_sum_sq, unit), len(ranges))
    n_changed = sum(int(c) for c, _ in out)
    sum_sq = float(sum(sq for _, sq in out)) if with_sum_sq else None
    return labels, psums.sum(axis=0), pw.sum(axis=0), n_changed, sum_sq


def assign(X: np.ndarray, centers: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """Index of the centre nearest to each row of ``X - offset``: int32 array of shape (n,).

    ``X`` (n, d) float32 or float64, any layout; ``centers`` (k, d) and
    ``offset`` (d,) or None (zero) of the dtype of ``X``.
    """
    m2_t, c_sq = _prepare(np.ascontiguousarray(centers, dtype=X.dtype))
    offset = _offset(offset, X)
    labels = np.empty(X.shape[0], dtype=np.int32)
    ranges = parts(X.shape[0], 1, X.shape[1], X.dtype.itemsize)
    with blas_one_thread():
        _run(lambda p: _assign_part(X, offset, m2_t, c_sq, labels, *ranges[p], _BLOCK_ROWS), len(ranges))
    return labels


def assign_inertia(X: np.ndarray, w: np.ndarray | None, centers: np.ndarray,
                   offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """:func:`assign` and :func:`inertia` of those labels, in one pass over ``X``.

    Returns the labels (int32, shape (n,)) and the inertia (a float).
    """
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    m2_t, c_sq = _prepare(centers)
    w = _weights(w, X)
    offset = _offset(offset, X)
    labels = np.empty(X.shape[0], dtype=np.int32)
    ranges = parts(X.shape[0], 1, X.shape[1], X.dtype.itemsize)
    with blas_one_thread():
        total = _run(lambda p: _assign_inertia_part(X, offset, w, m2_t, c_sq, centers, labels, *ranges[p],
                                                    _BLOCK_ROWS), len(ranges))
    return labels, float(sum(total))


def inertia(X: np.ndarray, w: np.ndarray | None, centers: np.ndarray, labels: np.ndarray,
            offset: np.ndarray | None = None) -> float:
    """Exact ``sum_i w_i |(x_i - offset) - c_{label_i}|^2`` (a float, accumulated in float64).

    ``X`` (n, d) float32 or float64, any layout; ``w`` (n,) or None (unit
    weights), ``centers`` (k, d) and ``offset`` (d,) or None (zero) of the
    dtype of ``X``; ``labels`` int32 of shape (n,).
    """
    w = _weights(w, X)
    offset = _offset(offset, X)
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    ranges = parts(X.shape[0], 1, X.shape[1], X.dtype.itemsize)
    return float(sum(_run(lambda p: _inertia_part(X, offset, w, centers, labels, *ranges[p]), len(ranges))))


def column_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(X.mean(axis=0), X.min(axis=0), X.max(axis=0))`` in one pass, for KMeans' fit.

    The same bits as NumPy's: for a C-contiguous ``X`` with at least two columns,
    NumPy's axis-0 sum adds the rows in order, as this pass does, and the mean
    is that sum divided as ``numpy.mean`` divides it. None for other layouts
    (the caller then asks NumPy). NaN propagates into all three: finite minima
    and maxima prove ``X`` finite.
    """
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 2 or not X.flags.c_contiguous:
        return None
    n, d = X.shape
    s, mn, mx = (np.empty(d, dtype=X.dtype) for _ in range(3))
    # threads take column ranges (each column is still summed in row order); 200,000 x 20 on 2 threads,
    # same process: the pass with branches 8.5 ms, split by columns 7.2 ms, with selects 6.5 ms (then
    # bound by memory: one thread takes as long)
    parts = min(_threaded.worker_threads(), d // _STATS_MIN_COLUMNS, max(1, n * d // _STATS_MIN_WORK))
    edges = [d * p // max(parts, 1) for p in range(max(parts, 1) + 1)]
    _run(lambda p: _column_stats(X, edges[p], edges[p + 1], s, mn, mx), len(edges) - 1)
    np.true_divide(s, np.intp(X.shape[0]), out=s, casting="unsafe", subok=False)
    return s, mn, mx

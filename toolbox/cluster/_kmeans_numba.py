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

from typing import Any

import numba
import numpy as np

from ..backends import _threaded

__all__ = ["PART_ROWS", "Bounds", "assign", "assign_inertia", "blas_one_thread", "column_stats", "inertia", "lloyd_iter",
           "parts"]

#: Rows per part (unit of work and of partial sums). Fixed, so results do not
#: depend on the thread count.
PART_ROWS = 16384
#: Bytes all parts' partial sums may take; fewer, larger parts beyond it.
_PARTIAL_BYTES = 64 * 2**20
#: Rows per BLAS call (scikit-learn's chunk).
_BLOCK_ROWS = 256
#: Rows centred, labelled, then summed at a time by the kernels with distance bounds (the centred
#: chunk, 2048 x 20 float64 = 320 KiB, stays in cache between the steps).
_CHUNK_ROWS = 2048
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


@numba.njit(inline="always", nogil=True, fastmath=False)
def _add_rows(xb, nb, b0, labels, labels_old, w, unit, sums, wsum, want_sq):  # pragma: no cover - compiled
    """Add the centred rows ``xb[:nb]`` (rows ``b0:b0 + nb``) to their clusters' ``sums`` and ``wsum``, in order.

    Returns the number of labels that differ from ``labels_old`` and, when
    ``want_sq``, the rows' sum of squares (float64; else 0).
    """
    d = xb.shape[1]
    changed = 0
    sq = 0.0
    for r in range(nb):
        i = b0 + r
        j = labels[i]
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
            labels[b0 + r] = _nearest(D, r, c_sq)
        c, q = _add_rows(xb, nb, b0, labels, labels_old, w, unit, sums, wsum, want_sq)
        changed += c
        sq += q
    return changed, sq


@numba.njit(inline="always", nogil=True, fastmath=False)
def _nearest_two(D, r, c_sq):  # pragma: no cover - compiled
    """:func:`_nearest`, also returning the smallest and the second smallest ``D[r, j] + c_sq[j]``."""
    best = 0
    best_d = D[r, 0] + c_sq[0]
    second = np.inf
    for j in range(1, c_sq.shape[0]):
        v = D[r, j] + c_sq[j]
        if v < best_d:
            second = best_d
            best_d = v
            best = j
        elif v < second:
            second = v
    return best, best_d, second


@numba.njit(inline="always", nogil=True, fastmath=False)
def _packed_labels(m2_t, c_sq, labels, xb, rows, npk, first, upper, lower, xnorm, cmax, err,
                   growth):  # pragma: no cover - compiled
    """Labels and fresh bounds of the ``npk`` rows packed in ``xb`` (their indices in ``rows``): one BLAS call.

    ``xb`` must be C-contiguous rows (a row range of a C-contiguous array).
    """
    d = xb.shape[1]
    D = np.dot(xb[:npk], m2_t)  # (npk, k) block of -2 x.c
    for t in range(npk):
        i = rows[t]
        # |x|^2 in four running sums (any order is within the bound E; one chain would wait on each add)
        q0 = 0.0
        q1 = 0.0
        q2 = 0.0
        q3 = 0.0
        f = 0
        while f + 4 <= d:
            q0 += xb[t, f] * xb[t, f]
            q1 += xb[t, f + 1] * xb[t, f + 1]
            q2 += xb[t, f + 2] * xb[t, f + 2]
            q3 += xb[t, f + 3] * xb[t, f + 3]
            f += 4
        while f < d:
            q0 += xb[t, f] * xb[t, f]
            f += 1
        q = (q0 + q1) + (q2 + q3)
        if first:
            xnorm[i] = np.sqrt(q) * growth
        j, v1, v2 = _nearest_two(D, t, c_sq)
        labels[i] = j
        e = xnorm[i] + cmax
        e = err * e * e
        upper[i] = np.sqrt(max(q + v1 + 2.0 * e, 0.0)) * growth
        lower[i] = np.sqrt(max(q + v2 - 2.0 * e, 0.0)) / growth


@numba.njit(inline="always", nogil=True, fastmath=False)
def _block_labels(X, offset, m2_t, c_sq, labels_old, labels, b0, nb, xc, xb, rows, first, upper, lower, xnorm,
                  shift, shift_max, cmax, err, growth):  # pragma: no cover - compiled
    """Labels of rows ``b0:b0 + nb`` with Hamerly's bounds, made safe for rounding; updates the bounds.

    Per row: ``upper`` >= its distance to its centre, ``lower`` <= its distance
    to every other centre, ``xnorm`` >= its norm (float64, shape (n,); set where
    ``first``). After the centres moved by ``shift`` (k,) (largest ``shift_max``),
    a row whose bounds still satisfy ``upper^2 + 2 E < lower^2`` keeps its label
    ``labels_old`` without a product: the computed ``|c|^2 - 2 x.c`` of any other
    centre then exceeds its own by more than their rounding errors, each at most
    ``E = err * (|x| + cmax)^2`` (``err`` from the dtype's epsilon and the number of
    features, ``cmax`` >= the largest centre norm). So the labels are those a
    full pass computes.

    The rows are centred into ``xc`` (``nb`` rows: read in order, which the
    hardware prefetches; the sums read them from there). The rows that fail the
    test are packed into ``xb`` (their indices in ``rows``) and go through one
    BLAS product per ``len(xb)`` of them, which also resets their bounds.
    """
    d = X.shape[1]
    block = xb.shape[0]
    if first:  # every row: the products straight from the centred chunk
        for r in range(nb):
            for f in range(d):
                xc[r, f] = X[b0 + r, f] - offset[f]
        for r0 in range(0, nb, block):
            m = min(block, nb - r0)
            for t in range(m):
                rows[t] = b0 + r0 + t
            _packed_labels(m2_t, c_sq, labels, xc[r0:r0 + m], rows, m, True, upper, lower, xnorm, cmax, err,
                           growth)
        return
    npk = 0
    for r in range(nb):
        i = b0 + r
        for f in range(d):
            xc[r, f] = X[i, f] - offset[f]
        a = labels_old[i]
        u = (upper[i] + shift[a]) * growth
        lo = (lower[i] - shift_max) / growth
        e = xnorm[i] + cmax
        e = err * e * e
        if lo > 0.0 and u * u * growth + 2.0 * e < lo * lo / growth:
            labels[i] = a
            upper[i] = u
            lower[i] = lo
            continue
        rows[npk] = i
        for f in range(d):
            xb[npk, f] = xc[r, f]
        npk += 1
        if npk == block:
            _packed_labels(m2_t, c_sq, labels, xb, rows, npk, first, upper, lower, xnorm, cmax, err, growth)
            npk = 0
    if npk:
        _packed_labels(m2_t, c_sq, labels, xb, rows, npk, first, upper, lower, xnorm, cmax, err, growth)


@numba.njit(cache=True, nogil=True, fastmath=False)
def _lloyd_part_bounded(X, offset, w, m2_t, c_sq, labels_old, labels, start, stop, block, sums, wsum,
                        want_sq, unit, first, upper, lower, xnorm, shift, shift_max, cmax, err,
                        growth):  # pragma: no cover - compiled
    """:func:`_lloyd_part` that skips the products of rows whose nearest centre cannot have changed.

    Labels by :func:`_block_labels` (the bounds' arguments are described there);
    every row is then added to the sums in row order, as in :func:`_lloyd_part`,
    so the sums are those of a full pass too.
    """
    d = X.shape[1]
    xb = np.empty((block, d), dtype=X.dtype)
    xc = np.empty((_CHUNK_ROWS, d), dtype=X.dtype)
    rows = np.empty(block, dtype=np.int64)
    changed = 0
    sq = 0.0
    for b0 in range(start, stop, _CHUNK_ROWS):
        nb = min(_CHUNK_ROWS, stop - b0)
        _block_labels(X, offset, m2_t, c_sq, labels_old, labels, b0, nb, xc, xb, rows, first, upper, lower,
                      xnorm, shift, shift_max, cmax, err, growth)
        c, q = _add_rows(xc, nb, b0, labels, labels_old, w, unit, sums, wsum, want_sq)
        changed += c
        sq += q
    return changed, sq


@numba.njit(cache=True, nogil=True, fastmath=False)
def _assign_inertia_part_bounded(X, offset, w, m2_t, c_sq, centers, labels_old, labels, start, stop, block,
                                 upper, lower, xnorm, shift, shift_max, cmax, err,
                                 growth):  # pragma: no cover - compiled
    """:func:`_assign_inertia_part` with the labels of :func:`_block_labels`; the same inertia bits."""
    d = X.shape[1]
    xb = np.empty((block, d), dtype=X.dtype)
    xc = np.empty((_CHUNK_ROWS, d), dtype=X.dtype)
    rows = np.empty(block, dtype=np.int64)
    total = 0.0
    for b0 in range(start, stop, _CHUNK_ROWS):
        nb = min(_CHUNK_ROWS, stop - b0)
        _block_labels(X, offset, m2_t, c_sq, labels_old, labels, b0, nb, xc, xb, rows, False, upper, lower,
                      xnorm, shift, shift_max, cmax, err, growth)
        for r in range(nb):
            i = b0 + r
            j = labels[i]
            s = 0.0
            for f in range(d):
                t = xc[r, f] - centers[j, f]
                s += t * t
            total += s * w[i]
    return total


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


class Bounds:
    """Per-row distance bounds carried from one Lloyd pass to the next (see :func:`_lloyd_part_bounded`).

    ``upper``, ``lower``, ``xnorm``: float64 arrays of shape (n,); ``centers``:
    the centres of the pass that set them (None before the first pass).
    """

    def __init__(self, n: int) -> None:
        self.upper = np.empty(n)
        self.lower = np.empty(n)
        self.xnorm = np.empty(n)
        self.centers: np.ndarray | None = None
        #: full passes still to run before the bounds are set (in the first pass from the initial
        #: centres every label changes, and the centres move too far for bounds to skip anything)
        self.delay = 1

    def kernel_args(self, X: np.ndarray, centers: np.ndarray) -> tuple[Any, ...]:
        """The bounds' arguments of :func:`_block_labels` for a pass with ``centers`` (k, d); records them."""
        err, growth = _rounding_terms(X)
        c64 = np.asarray(centers, dtype=np.float64)
        k = c64.shape[0]
        if self.centers is None:
            shift = np.zeros(k)
        else:  # how far each centre moved since the bounds were set (float64; exact for float32 centres)
            diff = c64 - np.asarray(self.centers, dtype=np.float64)
            shift = np.sqrt(np.einsum("ij,ij->i", diff, diff)) * growth
        shift_max = float(shift.max()) if k else 0.0
        cmax = float(np.sqrt(np.einsum("ij,ij->i", c64, c64).max())) * growth if k else 0.0
        self.centers = np.array(centers, copy=True)
        return self.upper, self.lower, self.xnorm, shift, shift_max, cmax, err, growth


def _rounding_terms(X: np.ndarray) -> tuple[float, float]:
    """``err`` (bound on one computed ``|c|^2 - 2 x.c``'s error per unit ``(|x| + max|c|)^2``) and ``growth``.

    A dot product of ``d`` terms errs by at most ``d u sum|x_f c_f|`` (``u``: half the
    dtype's epsilon), ``|c|^2`` by ``d u |c|^2``, their sum by one more rounding: all within
    ``(d + 2) u (|x| + |c|)^2``; ``|x|^2`` by ``d u |x|^2``. Twice that covers any summation
    order. ``growth`` widens every float64 bound computation (norms, shifts, square roots) by
    more than its own rounding: ``1 + max(1e-12, 8 (d + 2) 2^-53)``.
    """
    d = X.shape[1]
    eps = float(np.finfo(X.dtype).eps)
    return (d + 2) * eps, 1.0 + max(1e-12, 8.0 * (d + 2) * 2.0 ** -53)


def lloyd_iter(X: np.ndarray, w: np.ndarray | None, centers: np.ndarray, labels_old: np.ndarray,
               offset: np.ndarray | None = None, *, with_sum_sq: bool = False,
               bounds: Bounds | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float | None]:
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
    bounds : Bounds or None
        Distance bounds from the previous pass (updated here): rows whose nearest
        centre cannot have changed skip the product; the labels and sums are
        those of a full pass. None: every row's distances are computed.

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
    if bounds is not None and bounds.delay > 0:
        bounds.delay -= 1
        bounds = None
    if bounds is None:
        with blas_one_thread():
            out = _run(lambda p: _lloyd_part(X, offset, w, m2_t, c_sq, labels_old, labels, *ranges[p],
                                             _BLOCK_ROWS, psums[p], pw[p], with_sum_sq, unit), len(ranges))
    else:
        first = bounds.centers is None
        args = bounds.kernel_args(X, centers)
        with blas_one_thread():
            out = _run(lambda p: _lloyd_part_bounded(
                X, offset, w, m2_t, c_sq, labels_old, labels, *ranges[p], _BLOCK_ROWS, psums[p], pw[p],
                with_sum_sq, unit, first, *args), len(ranges))
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
                   offset: np.ndarray | None = None, *, bounds: Bounds | None = None,
                   labels_old: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """:func:`assign` and :func:`inertia` of those labels, in one pass over ``X``.

    ``bounds`` (with ``labels_old``, the labels they refer to): the distance
    bounds of the Lloyd passes before, which let rows skip the product (the
    same labels and inertia). Returns the labels (int32, shape (n,)) and the
    inertia (a float).
    """
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    m2_t, c_sq = _prepare(centers)
    w = _weights(w, X)
    offset = _offset(offset, X)
    labels = np.empty(X.shape[0], dtype=np.int32)
    ranges = parts(X.shape[0], 1, X.shape[1], X.dtype.itemsize)
    with blas_one_thread():
        if bounds is None or bounds.centers is None or labels_old is None:
            total = _run(lambda p: _assign_inertia_part(X, offset, w, m2_t, c_sq, centers, labels, *ranges[p],
                                                        _BLOCK_ROWS), len(ranges))
        else:
            args = bounds.kernel_args(X, centers)
            total = _run(lambda p: _assign_inertia_part_bounded(
                X, offset, w, m2_t, c_sq, centers, labels_old, labels, *ranges[p], _BLOCK_ROWS, *args),
                len(ranges))
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

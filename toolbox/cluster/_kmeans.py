"""K-means clustering (Lloyd's algorithm, greedy k-means++ seeding), written once against the Array API."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.base
from sklearn.utils import check_random_state as _sk_random_state

from .. import _hooks
from ..backends import Generator, jit, namespace_kind, origin_of, primitives
from ..backends import _sparse as sp
from ..backends._dispatch import numba_active
from ..base import (
    BaseEstimator,
    TransformerMixin,
    _to_compute,
    check_array,
    check_finite_after,
    check_is_fitted,
    validate_data,
)
from ..exceptions import ConvergenceWarning

__all__ = ["KMeans"]


# --------------------------------------------------------------------------- #
# Helpers (internal; every one takes the namespace as keyword-only ``xp``)
# --------------------------------------------------------------------------- #


def _itemsize(X: Any, *, xp: Any) -> int:
    return 4 if X.dtype == xp.float32 else 8


def _chunk(n: int, row_items: int, itemsize: int) -> int:
    """Rows per chunk so that ``row_items`` temporaries per row stay within the primitives' budget."""
    return primitives.chunk_rows(n, row_items * itemsize)


#: Bytes of one row chunk's temporaries on NumPy: cache-sized products, run by
#: BLAS on one thread, are faster than one large product (whose BLAS threads
#: stall on a busy machine) and keep every temporary small.
_NUMPY_CHUNK_BYTES = 2**20


def _kernels(xp: Any) -> Any:
    """The numba kernels module on the numba path (NumPy namespace, numba active), else None.

    Imported here, on first use, so that ``import toolbox`` never imports numba.
    """
    if namespace_kind(xp) != "numpy" or not numba_active():
        return None
    from . import _kmeans_numba

    return _kmeans_numba


def _host_kernels(xp: Any, *arrays: Any) -> tuple[Any, list[Any], Callable[[np.ndarray], Any]] | None:
    """The numba kernels for torch / JAX arrays in CPU memory: ``(kernels, host views, back)``, or None.

    A CPU tensor's memory is host memory: the kernels read it in place (no
    copy; see :mod:`toolbox.backends.native._host`), several times faster there
    than the framework's own small matrix products. ``back`` wraps a NumPy
    result for the framework. None on a GPU, for traced or grad-requiring
    arrays, or without numba.
    """
    kind = namespace_kind(xp)
    if kind not in ("torch", "jax"):
        return None
    from ..backends.native._host import cpu_views

    views = cpu_views(*arrays)
    if views is None:
        return None
    try:
        from . import _kmeans_numba
    except ImportError:
        return None
    if kind == "torch":
        import torch

        return _kmeans_numba, list(views), torch.from_numpy
    return _kmeans_numba, list(views), xp.asarray


def _row_sq_norms(X: Any, *, xp: Any) -> Any:
    """``sum(X**2, axis=1)``, in row chunks (no full-size temporary)."""
    n, d = X.shape
    step = _chunk(n, d, _itemsize(X, xp=xp))
    parts = []
    for start in range(0, n, step):
        Xc = X[start:min(start + step, n), ...]
        parts.append(xp.sum(Xc * Xc, axis=1))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _sum_sq(X: Any, *, xp: Any) -> float:
    """``sum(X**2)`` as a Python float, in row chunks (no full-size temporary)."""
    n, d = X.shape
    step = _chunk(n, d, _itemsize(X, xp=xp))
    total = None
    for start in range(0, n, step):
        Xc = X[start:min(start + step, n), ...]
        part = xp.sum(Xc * Xc)
        total = part if total is None else total + part
    return float(total)


def _scaled_centers_t(centers: Any, *, xp: Any) -> tuple[Any, Any]:
    """``(-2 * centers).T`` as a row-major (d, k) array, and ``|c|^2`` of shape (k,).

    The flatten/reshape round trip materializes the transpose row-major: NumPy's
    BLAS runs ``X @ M`` about three times faster for such a ``M`` than for a
    transposed view.
    """
    k, d = centers.shape
    m2_t = xp.reshape(xp.reshape(-2.0 * centers.T, (-1,)), (d, k))
    return m2_t, xp.sum(centers * centers, axis=1)


def _assign_chunk(Xc: Any, m2_t: Any, c_sq: Any, *, xp: Any) -> Any:
    """Index of the nearest centre for each row of a chunk (the namespace's index dtype).

    ``argmin_j |c_j|^2 - 2 x.c_j`` (``|x|^2`` does not change the argmin), as
    scikit-learn's Lloyd kernel; ``m2_t``, ``c_sq`` from :func:`_scaled_centers_t`.
    Labels stay in ``argmin``'s dtype inside the iterations (no conversion
    per pass) and become int32 once, at the end.
    """
    return xp.argmin(Xc @ m2_t + c_sq[None, :], axis=1)


def _assign_chunk_size(X: Any, k: int, *, xp: Any) -> int:
    """Rows per chunk of the assignment and Lloyd steps (a Python int).

    Per row: the (k,) distance block and its temporaries, plus one weighted
    copy of the row for the centre update. NumPy uses cache-sized chunks;
    the others use the primitives' large budget: every operation of torch
    (CPU too) is a parallel region worth keeping few, JAX's jit unrolls the
    chunk loop, and GPUs want large launches.
    """
    row_bytes = (2 * k + X.shape[1]) * _itemsize(X, xp=xp)
    if namespace_kind(xp) == "numpy":
        return primitives.chunk_rows(X.shape[0], row_bytes, _NUMPY_CHUNK_BYTES)
    return primitives.chunk_rows(X.shape[0], row_bytes)


@jit(static_argnames=("chunk",))
def _assign(X: Any, centers: Any, *, chunk: int, xp: Any) -> Any:
    """Nearest centre of every row of ``X``: int32 array of shape (n,), computed chunk by chunk."""
    m2_t, c_sq = _scaled_centers_t(centers, xp=xp)
    parts = [_assign_chunk(X[s:s + chunk, ...], m2_t, c_sq, xp=xp) for s in range(0, X.shape[0], chunk)]
    return xp.astype(parts[0] if len(parts) == 1 else xp.concat(parts, axis=0), xp.int32)


def _nearest_centers(X: Any, centers: Any, *, xp: Any) -> Any:
    """Nearest centre of every row of ``X`` (n, d): int32 array of shape (n,), on any path."""
    kernels = _kernels(xp)
    if kernels is not None:
        return kernels.assign(X, centers)
    return _assign(X, centers, chunk=_assign_chunk_size(X, centers.shape[0], xp=xp), xp=xp)


def _dist_to_assigned(X: Any, centers: Any, labels: Any, *, xp: Any) -> Any:
    """Exact ``|x_i - c_{label_i}|^2`` for every row, shape (n,), in row chunks."""
    n, d = X.shape
    step = _chunk(n, 2 * d, _itemsize(X, xp=xp))
    parts = []
    for s in range(0, n, step):
        diff = X[s:s + step, ...] - xp.take(centers, labels[s:s + step], axis=0)
        parts.append(xp.sum(diff * diff, axis=1))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _inertia(X: Any, w: Any, centers: Any, labels: Any, *, xp: Any) -> Any:
    """Exact ``sum_i w_i |x_i - c_{label_i}|^2`` (0-d array)."""
    r = _dist_to_assigned(X, centers, labels, xp=xp)
    return xp.sum(r) if w is None else xp.sum(r * w)


def _average(sums: Any, wsum: Any, *, xp: Any) -> Any:
    """New centres ``sums / wsum``; an empty cluster sits on the heaviest one (as scikit-learn does)."""
    nonempty = wsum > 0
    safe = xp.where(nonempty, wsum, xp.ones_like(wsum))
    centers = sums / safe[:, None]
    heaviest = xp.reshape(xp.argmax(wsum), (1,))
    fallback = xp.take(centers, heaviest, axis=0)
    return xp.where(nonempty[:, None], centers, fallback)


def _status(changed: Any, n_empty: Any, shift: Any, *, xp: Any) -> Any:
    """The one scalar the host reads per iteration (0-d, the dtype of ``shift``).

    ``-2``: some cluster is empty (relocate first); ``-1``: no label changed
    (strict convergence); otherwise the summed squared centre shift (>= 0).
    """
    code = xp.where(changed, shift, xp.full_like(shift, -1.0))
    return xp.where(n_empty > 0, xp.full_like(shift, -2.0), code)


@jit(static_argnames=("chunk",))
def _lloyd_step(X: Any, w: Any, ones: Any, centers: Any, labels_old: Any, *, chunk: int,
                xp: Any) -> tuple[Any, ...]:
    """One Lloyd iteration: assignment, then scatter-add of the (weighted) points; static shapes.

    ``w`` (n,) or None: unit weights, then ``ones`` (n,) gives the counts
    (made once per run, not per pass). Labels are in ``argmin``'s index
    dtype. Few full-size operations per chunk: each is a parallel region on
    multithreaded backends. Returns labels, per-cluster sums and weights,
    the new centres (empty clusters not yet relocated), whether any label
    changed (0-d bool) and the status scalar of :func:`_status`.
    """
    n = X.shape[0]
    k = centers.shape[0]
    m2_t, c_sq = _scaled_centers_t(centers, xp=xp)
    labels = []
    sums = None
    wsum = None
    for start in range(0, n, chunk):
        Xc = X[start:start + chunk, ...]
        wc = (ones if w is None else w)[start:start + chunk]
        lab = _assign_chunk(Xc, m2_t, c_sq, xp=xp)
        s = primitives.segment_sum(Xc if w is None else Xc * wc[:, None], lab, k, xp=xp)
        ws = primitives.segment_sum(wc, lab, k, xp=xp)
        sums = s if sums is None else sums + s
        wsum = ws if wsum is None else wsum + ws
        labels.append(lab)
    labels = labels[0] if len(labels) == 1 else xp.concat(labels, axis=0)
    new_centers = _average(sums, wsum, xp=xp)
    shift = xp.sum((new_centers - centers) ** 2)
    changed = xp.any(labels != labels_old)
    n_empty = xp.sum(xp.astype(wsum == 0, xp.int32))
    return labels, sums, wsum, new_centers, changed, _status(changed, n_empty, shift, xp=xp)


def _lloyd_step_numba(kernels: Any, X: Any, offset: Any, w: Any, centers: Any, labels_old: Any, *,
                      with_sum_sq: bool, xp: Any, bounds: Any = None) -> tuple[Any, ...]:
    """:func:`_lloyd_step` on the numba path: one fused, parallel pass over ``X - offset``.

    Also returns ``sum((X - offset) ** 2)`` when ``with_sum_sq`` (else None).
    ``bounds``: the kernels' per-row distance bounds, carried between passes.
    """
    labels, sums, wsum, n_changed, sum_sq = kernels.lloyd_iter(X, w, centers, labels_old, offset,
                                                               with_sum_sq=with_sum_sq, bounds=bounds)
    new_centers = _average(sums, wsum, xp=xp)
    shift = float(xp.sum((new_centers - centers) ** 2))
    n_empty = int(xp.sum(wsum == 0))
    status = -2.0 if n_empty else -1.0 if n_changed == 0 else shift
    return labels, sums, wsum, new_centers, n_changed, status, sum_sq


@jit
def _relocate_empty(X: Any, w: Any, labels: Any, sums: Any, wsum: Any, centers: Any, *,
                    xp: Any) -> tuple[Any, Any]:
    """Move each empty cluster onto one of the points farthest from their centres (static shapes).

    As scikit-learn's ``_relocate_empty_clusters_dense``: the j-th empty cluster
    takes the j-th farthest point, which leaves its old cluster. Nothing moves
    when every point sits on its centre. Returns the new centres and squared shift.
    """
    k = wsum.shape[0]
    empty = wsum == 0
    mind = _dist_to_assigned(X, centers, labels, xp=xp)
    _, far = primitives.smallest_k(-mind, k, xp=xp)  # the k farthest points, farthest first
    rank = xp.cumulative_sum(xp.astype(empty, xp.int32)) - 1
    src = xp.take(far, xp.clip(rank, min=0, max=k - 1), axis=0)
    xs = xp.take(X, src, axis=0)
    ws = xp.ones_like(src, dtype=X.dtype) if w is None else xp.take(w, src, axis=0)
    move = empty & (xp.max(mind) > 0)
    moved = xp.where(move[:, None], xs * ws[:, None], xp.zeros_like(xs))
    moved_w = xp.where(move, ws, xp.zeros_like(ws))
    old = xp.take(labels, src, axis=0)
    sums = xp.where(move[:, None], moved, sums) - primitives.segment_sum(moved, old, k, xp=xp)
    wsum = xp.where(move, moved_w, wsum) - primitives.segment_sum(moved_w, old, k, xp=xp)
    new_centers = _average(sums, wsum, xp=xp)
    return new_centers, xp.sum((new_centers - centers) ** 2)


def _check_distances_fit(X: Any, *, xp: Any, bounds: tuple[Any, Any] | None = None) -> None:
    """Refuse ``X`` (n, d) whose squared distances or inertia could overflow its dtype.

    A squared distance is at most ``4 * d * max|X|**2`` and the inertia ``n`` of
    them; two reductions (max and min), no temporary.
    """
    n, d = int(X.shape[0]), int(X.shape[1])
    if not n or not d:
        return
    if bounds is not None:  # the column minima and maxima, already computed
        biggest = max(float(xp.max(bounds[1])), -float(xp.min(bounds[0])))
    else:
        biggest = sp.max_abs(X) if sp.is_sparse(X) else max(float(xp.max(X)), -float(xp.min(X)))
    limit = math.sqrt(float(xp.finfo(X.dtype).max) / (4.0 * d * n))
    if biggest > limit:
        raise ValueError(
            f"KMeans: X has values up to {biggest:.3g}, whose squared distances (and the inertia, their sum) "
            f"overflow {X.dtype}; at most {limit:.3g} is safe for {n} x {d}. Rescale X first (e.g. "
            "StandardScaler or MaxAbsScaler).")


def _lloyd(X: Any, w: Any, centers: Any, *, max_iter: int, tol: Any, xp: Any,
           offset: Any = None, verbose: int = 0) -> tuple[Any, float, Any, int]:
    """One run of Lloyd's algorithm from ``centers``; scikit-learn's stopping rules.

    Stops when no label changes ("strict convergence") or when the summed
    squared centre shift is at most ``tol`` (absolute). The host reads one
    scalar per iteration.

    Parameters
    ----------
    X : array of shape (n, d), floating
    w : array of shape (n,) of the dtype of ``X``, or None
    centers : array of shape (k, d), the dtype of ``X``
        Initial centres, in the coordinates of ``X - offset``.
    tol : float, or (numba path only) callable
        Absolute tolerance on the summed squared centre shift; a callable
        gets ``sum((X - offset) ** 2)``, computed by the first pass, and
        returns it.
    offset : array of shape (d,), or None
        Numba path only: cluster ``X - offset``, centred on the fly (no
        centred copy of ``X``). The generic path takes ``X`` already centred.
    verbose : int
        Print scikit-learn's progress lines (the inertia of each iteration costs one more pass).

    Returns
    -------
    labels : int32 array of shape (n,)
    inertia : float
    centers : array of shape (k, d), in the coordinates of ``X - offset``
    n_iter : int
    """
    kernels = _kernels(xp)
    if kernels is not None:
        with kernels.blas_one_thread():
            return _lloyd_numba(kernels, X, w, centers, max_iter=max_iter, tol=tol, offset=offset, xp=xp,
                                verbose=verbose)
    if offset is not None:
        raise ValueError("_lloyd: offset is for the numba path only; centre X first.")
    host = _host_kernels(xp, X, w, centers) if not callable(tol) else None
    if host is not None:  # torch / JAX in CPU memory: the numba passes on host views
        kernels, (Xh, wh, ch), back = host
        with kernels.blas_one_thread():
            labels, inertia, ch, n_iter = _lloyd_numba(kernels, Xh, wh, np.ascontiguousarray(ch),
                                                       max_iter=max_iter, tol=tol, offset=None, xp=np,
                                                       verbose=verbose)
        return back(np.asarray(labels)), inertia, back(np.asarray(ch)), n_iter
    chunk = _assign_chunk_size(X, centers.shape[0], xp=xp)
    index_dtype = xp.__array_namespace_info__().default_dtypes(device=X.device)["indexing"]
    labels_old = xp.full((X.shape[0],), -1, dtype=index_dtype, device=X.device)
    ones = xp.ones((X.shape[0],), dtype=X.dtype, device=X.device) if w is None else None
    labels = labels_old
    strict = False
    i = 0
    for i in range(max_iter):
        labels, sums, wsum, new_centers, changed, status = _lloyd_step(
            X, w, ones, centers, labels_old, chunk=chunk, xp=xp
        )
        if verbose:
            print(f"Iteration {i}, inertia {float(_inertia(X, w, centers, labels, xp=xp))}.")
        status = float(status)
        if status == -2.0:  # an empty cluster: relocate it, then test as usual
            new_centers, shift = _relocate_empty(X, w, labels, sums, wsum, centers, xp=xp)
            status = float(shift) if bool(changed) else -1.0
        centers = new_centers
        if _converged(status, tol, i, verbose):
            strict = status == -1.0
            break
        labels_old = labels
    if strict:
        labels = xp.astype(labels, xp.int32)
    else:
        # labels consistent with the final centres, as scikit-learn does
        labels = _assign(X, centers, chunk=chunk, xp=xp)
    return labels, float(_inertia(X, w, centers, labels, xp=xp)), centers, i + 1


def _converged(status: float, tol: float, i: int, verbose: int) -> bool:
    """Lloyd's stopping rule on one iteration's status (-1: no label changed; else the centre shift)."""
    if status == -1.0:
        if verbose:
            print(f"Converged at iteration {i}: strict convergence.")
        return True
    if status <= tol:
        if verbose:
            print(f"Converged at iteration {i}: center shift {status} within tolerance {tol}.")
        return True
    return False


#: Carry per-row distance bounds between the numba path's Lloyd passes (Hamerly's; the same labels as
#: full passes, fewer products). A switch for the tests, which compare both ways.
_BOUNDS = True


def _lloyd_numba(kernels: Any, X: Any, w: Any, centers: Any, *, max_iter: int, tol: Any, offset: Any,
                 xp: Any, verbose: int = 0) -> tuple[Any, float, Any, int]:
    """:func:`_lloyd` on the numba path (NumPy arrays): the same loop, fused parallel passes.

    ``tol`` may be a callable: the tolerance from ``sum((X - offset) ** 2)``,
    which the first pass then computes on the way (no pass of its own).
    """
    labels_old = np.full((X.shape[0],), -1, dtype=np.int32)
    labels = labels_old
    strict = False
    i = 0
    bounds = kernels.Bounds(X.shape[0]) if _BOUNDS else None
    for i in range(max_iter):
        labels, sums, wsum, new_centers, n_changed, status, sum_sq = _lloyd_step_numba(
            kernels, X, offset, w, centers, labels_old, with_sum_sq=callable(tol), xp=xp, bounds=bounds
        )
        if sum_sq is not None:
            tol = float(tol(sum_sq))
        if verbose:
            print(f"Iteration {i}, inertia {float(kernels.inertia(X, w, centers, labels, offset))}.")
        if status == -2.0:  # an empty cluster (rare): relocate it on a centred copy
            Xc = X if offset is None else X - offset
            new_centers, shift = _relocate_empty(Xc, w, labels, sums, wsum, centers, xp=xp)
            status = -1.0 if n_changed == 0 else float(shift)
        centers = new_centers
        if _converged(status, tol, i, verbose):
            strict = status == -1.0
            break
        labels_old = labels
    if strict:
        return labels, kernels.inertia(X, w, centers, labels, offset), centers, i + 1
    # labels consistent with the final centres, as scikit-learn does (one fused pass)
    labels, inertia = kernels.assign_inertia(X, w, centers, offset, bounds=bounds, labels_old=labels)
    return labels, inertia, centers, i + 1


@jit
def _kpp_step(X: Any, x_sq: Any, w: Any, closest: Any, pot: Any, u: Any, *, xp: Any) -> tuple[Any, Any, Any]:
    """One greedy k-means++ step: sample candidates by D^2 weight, keep the one lowering the potential most."""
    n = X.shape[0]
    cum = xp.cumulative_sum(w * closest)
    cand = xp.clip(xp.searchsorted(cum, u * pot), max=n - 1)
    dist = primitives.sqeuclidean_distances(xp.take(X, cand, axis=0), X, Y_norm_sq=x_sq, xp=xp)
    dist = xp.minimum(dist, closest[None, :])
    pots = dist @ w
    best = xp.reshape(xp.argmin(pots), (1,))
    return xp.take(dist, best, axis=0)[0, :], xp.take(pots, best, axis=0)[0], xp.take(cand, best, axis=0)


class _SklearnStream:
    """scikit-learn's own random stream (a ``RandomState``) for data computed with NumPy: its k-means++
    and random seeds, draw for draw (the same calls in the same order as ``sklearn.cluster.KMeans``)."""

    def __init__(self, random_state: Any) -> None:
        self.rs = _sk_random_state(random_state)

    def weighted_choice(self, w: Any, size: int | None = None) -> np.ndarray:
        p = np.asarray(w, dtype=np.float64)
        return np.atleast_1d(self.rs.choice(p.shape[0], size=size, replace=size is None, p=p / p.sum()))


def _kmeans_plusplus(X: Any, x_sq: Any, w: Any, n_clusters: int, gen: Generator | _SklearnStream, *,
                     xp: Any) -> Any:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii; scikit-learn's ``2 + log(k)`` local trials).

    Weighted sampling is a cumulative sum and ``searchsorted`` on uniform draws (scikit-learn's
    own draws with a :class:`_SklearnStream`). Returns the initial centres, shape (n_clusters, n_features).
    """
    n = X.shape[0]
    n_trials = 2 + int(math.log(n_clusters))
    if w is None:
        w = xp.ones((n,), dtype=X.dtype, device=X.device)
    sk = isinstance(gen, _SklearnStream)
    if sk:
        first = xp.asarray(gen.weighted_choice(w))
    else:
        cum_w = xp.cumulative_sum(w)
        u = gen.random((1,), dtype=X.dtype) * cum_w[-1]
        first = xp.clip(xp.searchsorted(cum_w, u, side="right"), max=n - 1)
    closest = primitives.sqeuclidean_distances(xp.take(X, first, axis=0), X, Y_norm_sq=x_sq, xp=xp)[0, :]
    pot = xp.sum(closest * w)
    chosen = [first]
    for _ in range(1, n_clusters):
        u = gen.rs.uniform(size=n_trials) if sk else gen.random((n_trials,), dtype=X.dtype)
        closest, pot, idx = _kpp_step(X, x_sq, w, closest, pot, u, xp=xp)
        chosen.append(idx)
    return xp.take(X, xp.concat(chosen, axis=0), axis=0)


def _random_init(X: Any, w: Any, n_clusters: int, gen: Generator | _SklearnStream, *, xp: Any) -> Any:
    """``n_clusters`` distinct rows drawn with probability proportional to ``w``, without replacement.

    Efraimidis-Spirakis keys ``-log(U) / w``: the smallest ``n_clusters`` keys
    form a weighted sample without replacement (zero weights are never drawn
    while positive ones remain). With a :class:`_SklearnStream`, scikit-learn's ``choice``.
    """
    if isinstance(gen, _SklearnStream):
        weights = np.ones(X.shape[0]) if w is None else w
        return xp.take(X, xp.asarray(gen.weighted_choice(weights, size=n_clusters)), axis=0)
    u = gen.random((X.shape[0],), dtype=X.dtype)
    keys = -xp.log(1.0 - u)
    if w is not None:
        pos = w > 0
        keys = xp.where(pos, keys / xp.where(pos, w, xp.ones_like(w)), xp.full_like(keys, math.inf))
    _, idx = primitives.smallest_k(keys, n_clusters, xp=xp)
    return xp.take(X, idx, axis=0)


# --------------------------------------------------------------------------- #
# The estimator
# --------------------------------------------------------------------------- #


def _exact_near_zero(X: Any, C: Any, *, xp: Any) -> Any:
    """Squared distances (n, k) by ``|x|^2 - 2 x.c + |c|^2``, with the pairs where that formula only
    measures its rounding (``d^2`` within ``8 eps (|x|^2 + |c|^2)``, e.g. a point on a centre) computed
    directly as ``sum((x - c)^2)``: a point at a centre is at distance exactly 0, as in scikit-learn."""
    D = primitives.sqeuclidean_distances(X, C, xp=xp)
    x_sq, c_sq = xp.sum(X * X, axis=1), xp.sum(C * C, axis=1)
    near = D <= 8 * float(xp.finfo(D.dtype).eps) * (x_sq[:, None] + c_sq[None, :])
    if not bool(xp.any(near)):
        return D
    flat = xp.nonzero(xp.reshape(near, (-1,)))[0]
    k = int(C.shape[0])
    i, j = flat // k, flat % k
    diff = xp.take(X, i, axis=0) - xp.take(C, j, axis=0)
    exact = xp.sum(diff * diff, axis=1)
    out = xp.reshape(D, (-1,))
    if namespace_kind(xp) == "jax":
        out = out.at[flat].set(exact)
    else:
        out = xp.asarray(out, copy=True)
        out[flat] = exact
    return xp.reshape(out, tuple(D.shape))


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


class KMeans(sklearn.base.ClassNamePrefixFeaturesOutMixin, TransformerMixin, sklearn.base.ClusterMixin,
             BaseEstimator):
    """K-means clustering, on the input's own backend and device.

    A drop-in for :class:`sklearn.cluster.KMeans`: Lloyd's algorithm with
    scikit-learn's stopping rules, greedy k-means++ seeding, ``n_init``
    restarts keeping the lowest inertia.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (at most ``n_samples``).
    init : {"k-means++", "random"}, callable or array of shape (n_clusters, n_features), default="k-means++"
        Seeding. ``"k-means++"``: greedy k-means++ with ``2 + log(n_clusters)``
        local trials per centre. ``"random"``: ``n_clusters`` distinct rows,
        drawn with probability proportional to ``sample_weight``. An array (any
        library) gives the initial centres. A callable is called as
        ``init(X, n_clusters, random_state=RandomState)`` with ``X`` on the
        computing backend (centred when ``copy_x=True``, as in scikit-learn).
    n_init : "auto" or int, default="auto"
        Number of runs from different seeds; the one with the lowest inertia is
        kept. ``"auto"``: 1 for ``"k-means++"`` and array init, 10 for
        ``"random"`` and callables.
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence tolerance on the summed squared centre shift, relative to
        the mean per-feature variance of ``X``.
    verbose : int, default=0
        Accepted for compatibility; nothing is printed.
    random_state : int, RandomState instance or None, default=None
        Seed of the backend's random stream (:class:`toolbox.backends.Generator`).
        The same seed gives the same result on the same backend; streams
        differ between backends and from scikit-learn's.
    copy_x : bool, default=True
        ``True``: cluster ``X`` centred on its mean (more accurate distances,
        as scikit-learn): a centred copy of ``X``, except on the numba path
        (NumPy input with numba installed), whose kernels centre the rows on
        the fly with the same arithmetic and need no copy unless seeding
        with k-means++, "random" or a callable. ``False``: distances on ``X``
        as given. The caller's array is never modified either way.
    algorithm : {"lloyd", "elkan"}, default="lloyd"
        ``"elkan"`` is accepted as an alias and runs Lloyd's algorithm, whose
        dense matrix products suit every backend better than Elkan's bounds.

    Attributes
    ----------
    cluster_centers_ : array of shape (n_clusters, n_features)
        Centres, on the backend and device ``fit`` ran on.
    labels_ : array of int32, shape (n_samples,)
        Cluster of each training sample.
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their centre.
    n_iter_ : int
        Lloyd iterations of the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Empty clusters are relocated as scikit-learn does: each takes one of the
    points farthest from their current centre. Results equal scikit-learn's
    for the same initial centres; seeded runs (k-means++, random) differ in
    their random draws, so labels may differ while inertia stays comparable.
    """

    def __init__(self, n_clusters: int = 8, *, init: Any = "k-means++", n_init: Any = "auto",
                 max_iter: int = 300, tol: float = 1e-4, verbose: int = 0, random_state: Any = None,
                 copy_x: bool = True, algorithm: str = "lloyd") -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    # ------------------------------------------------------------------ #

    def _check_params(self) -> None:
        name = type(self).__name__
        if not _is_int(self.n_clusters) or self.n_clusters < 1:
            raise ValueError(f"The 'n_clusters' parameter of {name} must be an int >= 1; got {self.n_clusters!r}.")
        init = self.init
        if isinstance(init, str) and init not in ("k-means++", "random"):
            raise ValueError(
                f"The 'init' parameter of {name} must be 'k-means++', 'random', a callable or an array "
                f"of shape (n_clusters, n_features); got {init!r}."
            )
        if not (self.n_init == "auto" or (_is_int(self.n_init) and self.n_init >= 1)):
            raise ValueError(f"The 'n_init' parameter of {name} must be 'auto' or an int >= 1; got {self.n_init!r}.")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"The 'max_iter' parameter of {name} must be an int >= 1; got {self.max_iter!r}.")
        if not isinstance(self.tol, numbers.Real) or isinstance(self.tol, bool) or not self.tol >= 0:
            raise ValueError(f"The 'tol' parameter of {name} must be a float >= 0; got {self.tol!r}.")
        if self.algorithm not in ("lloyd", "elkan"):
            raise ValueError(f"The 'algorithm' parameter of {name} must be 'lloyd' or 'elkan'; got {self.algorithm!r}.")
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn("algorithm='elkan' doesn't make sense for a single cluster. Using 'full' instead.",
                          RuntimeWarning, stacklevel=3)

    def _n_runs(self, init_is_array: bool) -> int:
        """The number of initializations this fit runs; kept as ``_n_init`` (scikit-learn's attribute)."""
        if self.n_init == "auto":
            n = 1 if init_is_array or (isinstance(self.init, str) and self.init == "k-means++") else 10
        elif init_is_array and self.n_init != 1:
            warnings.warn(
                f"Explicit initial center position passed: performing only one init in {type(self).__name__} "
                f"instead of n_init={self.n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            n = 1
        else:
            n = int(self.n_init)
        self._n_init = n
        return n

    def _validate_centers(self, centers: Any, v: Any, n_features: int) -> Any:
        xp = v.xp
        centers = _to_compute(centers, v.compute, "init")
        centers = check_array(centers, xp=xp, device=v.compute.device, name="init", estimator=self)
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {tuple(centers.shape)} does not match the number of "
                f"clusters {self.n_clusters}."
            )
        if centers.shape[1] != n_features:
            raise ValueError(
                f"The shape of the initial centers {tuple(centers.shape)} does not match the number of "
                f"features of the data {n_features}."
            )
        return xp.astype(centers, v.X.dtype) if centers.dtype != v.X.dtype else centers

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Compute k-means clustering of ``X`` (n_samples, n_features).

        ``sample_weight`` (n_samples,) weights each sample in the centre updates,
        the inertia and the k-means++/random seeding (not an array init).
        """
        self._check_params()
        # finiteness: on the numba path the column minima and maxima (one pass, with the mean) prove it
        v = validate_data(self, X, reset=True, sample_weight=sample_weight, accept_sparse=True,
                          check_finite=False)
        xp, X, w = v.xp, v.X, v.sample_weight
        kernels = _kernels(xp)
        stats = kernels.column_stats(X) if kernels is not None and not sp.is_sparse(X) else None
        if stats is not None:
            check_finite_after(v, stats[1], stats[2])
        elif not sp.is_sparse(X):  # (sparse X was checked by validate_data)
            check_finite_after(v, xp.sum(X))  # a finite sum proves it, else the scan and its message
        n, d = int(X.shape[0]), int(X.shape[1])
        k = self.n_clusters
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        if w is not None and not float(xp.sum(w)) > 0:
            raise ValueError("sample_weight sums to zero or less; KMeans needs weights with a positive sum.")
        _check_distances_fit(X, xp=xp, bounds=None if stats is None else (stats[1], stats[2]))
        if sp.is_sparse(X):  # Lloyd with sparse products; X is neither centred nor densified
            from . import _kmeans_sparse

            best = _kmeans_sparse.fit(self, v, xp=xp)
            return self._finish_fit(*best, k=k, xp=xp)
        init = self.init
        init_is_array = not isinstance(init, str) and not callable(init)
        if init_is_array:
            init = self._validate_centers(init, v, d)
        n_runs = self._n_runs(init_is_array)

        mean = xp.mean(X, axis=0) if stats is None else stats[0]
        if init_is_array and self.copy_x:
            init = init - mean
        seeded = not init_is_array
        # The generic path clusters a centred copy (more accurate |x|^2 - 2x.c
        # + |c|^2); the numba kernels centre X on the fly (offset), so only
        # the seeding needs the centred rows as an array.
        offset = mean if kernels is not None and self.copy_x else None
        Xw = X - mean if self.copy_x and (kernels is None or seeded) else X
        x_sq = _row_sq_norms(Xw, xp=xp) if seeded and isinstance(init, str) and init == "k-means++" else None
        mean_sq = n * float(xp.sum(mean * mean)) if self.tol != 0 and not self.copy_x else 0.0

        def tol_of(sum_sq: float) -> float:
            # sklearn: tol * mean per-feature variance; sum_sq is over X - offset (X itself without copy_x)
            return max((sum_sq - mean_sq) / n, 0.0) / d * float(self.tol)

        if self.tol == 0:
            tol: Any = 0.0
        elif x_sq is not None:
            tol = tol_of(float(xp.sum(x_sq)))
        elif kernels is not None:
            tol = tol_of  # the first Lloyd pass computes sum_sq on the way
        else:
            tol = tol_of(_sum_sq(Xw, xp=xp))

        # NumPy data: scikit-learn's own stream (its seeds for the same random_state); devices: their own
        gen: Any = (_SklearnStream(self.random_state) if namespace_kind(xp) == "numpy"
                    else Generator(self.random_state, xp=xp, device=v.compute.device))
        best = None
        for run in range(n_runs):
            if init_is_array:
                centers = init
            elif init == "k-means++":
                centers = _kmeans_plusplus(Xw, x_sq, w, k, gen, xp=xp)
            elif init == "random":
                centers = _random_init(Xw, w, k, gen, xp=xp)
            else:
                rs = gen.rs if isinstance(gen, _SklearnStream) else _sk_random_state(gen.seed)
                centers = self._validate_centers(init(Xw, k, random_state=rs), v, d)
            if self.verbose:
                print("Initialization complete")
            labels, inertia, centers, n_iter = _lloyd(X if kernels is not None else Xw, w, centers,
                                                      max_iter=self.max_iter, tol=tol, xp=xp, offset=offset,
                                                      verbose=self.verbose)
            _hooks.report_metric(self, "inertia", inertia, run)  # one point per initialization
            if best is None or inertia < best[1]:
                best = (labels, inertia, centers, n_iter)
        labels, inertia, centers, n_iter = best
        if self.copy_x:
            centers = centers + mean
        return self._finish_fit(labels, inertia, centers, n_iter, k=k, xp=xp)

    def _finish_fit(self, labels: Any, inertia: float, centers: Any, n_iter: int, *, k: int, xp: Any) -> KMeans:
        counts = primitives.bincount(labels, length=k, xp=xp)
        distinct = int(xp.sum(xp.astype(counts > 0, xp.int32)))
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                "Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers
        self._n_features_out = k
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit, then return the cluster index of each sample, int32 of shape (n_samples,)."""
        self.fit(X, sample_weight=sample_weight)
        return self._output(self.labels_, origin_of(X))

    def _centers_for(self, v: Any) -> Any:
        (centers,) = self._fitted(v.compute, "cluster_centers_", dtype=v.X.dtype)
        return centers

    def predict(self, X: Any) -> Any:
        """Index of the closest centre for each row of ``X``: int32 array of shape (n_samples,)."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        xp = v.xp
        if sp.is_sparse(v.X):
            from . import _kmeans_sparse

            labels = _kmeans_sparse.assign(v.X, sp.row_sq_norms(v.X), self._centers_for(v), xp=xp)[0]
            return self._output(labels, v.origin)
        labels = _nearest_centers(v.X, self._centers_for(v), xp=xp)
        return self._output(labels, v.origin)

    def transform(self, X: Any) -> Any:
        """Euclidean distances to each centre, shape (n_samples, n_clusters), the dtype of ``X``."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        centers = self._centers_for(v)
        if sp.is_sparse(v.X):
            from . import _kmeans_sparse

            D = _kmeans_sparse.sq_distances(v.X, sp.row_sq_norms(v.X), centers, xp=v.xp)
            return self._output(v.xp.sqrt(D), v.origin)
        return self._output(v.xp.sqrt(_exact_near_zero(v.X, centers, xp=v.xp)), v.origin)

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit, then return the distances of ``X`` to the centres, shape (n_samples, n_clusters)."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the (weighted) inertia of ``X`` with respect to the fitted centres."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, sample_weight=sample_weight, accept_sparse=True)
        xp = v.xp
        centers = self._centers_for(v)
        if sp.is_sparse(v.X):
            from . import _kmeans_sparse

            mind = _kmeans_sparse.assign(v.X, sp.row_sq_norms(v.X), centers, xp=xp)[1]
            return -float(xp.sum(mind) if v.sample_weight is None else xp.sum(mind * v.sample_weight))
        kernels = _kernels(xp)
        if kernels is not None:  # labels and inertia in one pass
            return -kernels.assign_inertia(v.X, v.sample_weight, centers)[1]
        labels = _assign(v.X, centers, chunk=_assign_chunk_size(v.X, centers.shape[0], xp=xp), xp=xp)
        return -float(_inertia(v.X, v.sample_weight, centers, labels, xp=xp))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

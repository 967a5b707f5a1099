"""NumPy fast paths (SciPy's LAPACK wrappers for the factorizations)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from ..primitives import GENERIC


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    if values.ndim == 1:
        return np.bincount(ids, weights=values, minlength=num_segments)[:num_segments].astype(
            values.dtype, copy=False
        )
    if num_segments <= 256:  # a one-hot BLAS product beats np.add.at by ~5x here
        return GENERIC["segment_sum"](values, ids, num_segments, xp=xp)
    out = np.zeros((num_segments, values.shape[1]), dtype=values.dtype)
    np.add.at(out, ids, values)
    return out


def histogram(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    from ..primitives import _histogram_chunks

    d, c = codes.shape[1], weights.shape[1]
    out = np.zeros((c, d * n_bins), dtype=weights.dtype)
    for ids, vals in _histogram_chunks(codes, weights, n_bins, xp=xp):
        for k in range(c):
            out[k] += np.bincount(ids, weights=vals[:, k], minlength=d * n_bins)
    return np.ascontiguousarray(out.T).reshape(d, n_bins, c)


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    """The k smallest values along the last axis and their indices, ties by lower index (stable order).

    ``x`` of shape (..., n); returns values (..., k), ascending, and int64 indices (..., k).
    A partition picks k values; rows where it could have picked among equal
    values (the k-th value occurs again outside the pick, or is NaN) are
    redone with a stable sort, so the result is the generic reference's.
    """
    n = x.shape[-1]
    if k == n or x.size == 0:
        idx = np.argsort(x, axis=-1, kind="stable")[..., :k]
        return np.take_along_axis(x, idx, axis=-1), idx
    idx = np.argpartition(x, k - 1, axis=-1)[..., :k]
    vals = np.take_along_axis(x, idx, axis=-1)
    kth = vals.max(axis=-1, keepdims=True)  # the k-th smallest (NaN when the pick holds a NaN)
    unsure = np.isnan(kth[..., 0]) if np.issubdtype(x.dtype, np.inexact) else np.zeros(kth.shape[:-1], bool)
    unsure |= np.count_nonzero(x == kth, axis=-1) != np.count_nonzero(vals == kth, axis=-1)
    if unsure.any():
        redo = np.argsort(x[unsure], axis=-1, kind="stable")[..., :k]
        idx[unsure] = redo
        vals[unsure] = np.take_along_axis(x[unsure], redo, axis=-1)
    # ascending values, equal values by index
    order = np.lexsort((idx, vals), axis=-1)
    return np.take_along_axis(vals, order, axis=-1), np.take_along_axis(idx, order, axis=-1)


def cholesky(A: Any, *, xp: Any) -> Any | None:
    # NumPy's LAPACK, not SciPy's: NumPy and SciPy each ship their own OpenBLAS, and once SciPy's
    # threads have run they spin beside NumPy's, so the next NumPy matrix product (a Newton
    # iteration's pass over X) takes 2-3x as long on a 2-core machine. The triangular solves in
    # cho_solve (BLAS-2 for one right-hand side) do not start SciPy's threads.
    try:
        return np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None


def cho_solve(L: Any, B: Any, *, xp: Any) -> Any:
    return scipy.linalg.cho_solve((L, True), B, check_finite=False)


def gram(X: Any, *, xp: Any) -> Any:
    from .. import _threaded  # row-split, parallel X.T @ X

    return _threaded.gram(X, xp=xp)


def gram_and_column_sums(X: Any, *, xp: Any, Y: Any = None) -> tuple[Any, Any, Any]:
    from .. import _threaded  # the column sums and X.T @ Y read each row step while it is in cache

    return _threaded.gram_and_column_sums(X, xp=xp, Y=Y)


from ._numpy_stats import column_mean_var as column_mean_var  # noqa: E402

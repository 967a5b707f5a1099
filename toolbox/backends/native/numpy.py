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


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    n = x.shape[-1]
    idx = np.argpartition(x, k - 1, axis=-1)[..., :k] if k < n else np.broadcast_to(np.arange(n), x.shape)
    vals = np.take_along_axis(x, idx, axis=-1)
    order = np.argsort(vals, axis=-1, kind="stable")
    return np.take_along_axis(vals, order, axis=-1), np.take_along_axis(idx, order, axis=-1)


def cholesky(A: Any, *, xp: Any) -> Any | None:
    try:
        return scipy.linalg.cholesky(A, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None


def cho_solve(L: Any, B: Any, *, xp: Any) -> Any:
    return scipy.linalg.cho_solve((L, True), B, check_finite=False)


def gram(X: Any, *, xp: Any) -> Any:
    from .. import _threaded  # row-split, parallel X.T @ X

    return _threaded.gram(X, xp=xp)


from ._numpy_stats import column_mean_var as column_mean_var  # noqa: E402

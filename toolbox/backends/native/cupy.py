"""CuPy fast paths (need a CUDA GPU)."""

from __future__ import annotations

from typing import Any

import cupy
import cupyx
import cupyx.scipy.linalg


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    if values.ndim == 1:
        return cupy.bincount(ids, weights=values, minlength=num_segments)[:num_segments].astype(values.dtype)
    out = cupy.zeros((num_segments, values.shape[1]), dtype=values.dtype)
    cupyx.scatter_add(out, ids, values)
    return out


def histogram(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    from ..primitives import _histogram_chunks

    d, c = codes.shape[1], weights.shape[1]
    out = cupy.zeros((d * n_bins, c), dtype=weights.dtype)
    for ids, vals in _histogram_chunks(codes, weights, n_bins, xp=xp):
        cupyx.scatter_add(out, ids, vals)
    return out.reshape(d, n_bins, c)


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    n = x.shape[-1]
    idx = cupy.argpartition(x, k - 1, axis=-1)[..., :k] if k < n else cupy.broadcast_to(cupy.arange(n), x.shape)
    vals = cupy.take_along_axis(x, idx, axis=-1)
    order = cupy.argsort(vals, axis=-1)
    return cupy.take_along_axis(vals, order, axis=-1), cupy.take_along_axis(idx, order, axis=-1)


def cholesky(A: Any, *, xp: Any) -> Any | None:
    L = cupy.linalg.cholesky(A)  # NaNs when A is not positive definite
    return L if bool(cupy.all(cupy.isfinite(L))) else None


def cho_solve(L: Any, B: Any, *, xp: Any) -> Any:
    B2 = B if B.ndim == 2 else B[:, None]
    Z = cupyx.scipy.linalg.solve_triangular(L, B2, lower=True)
    return cupyx.scipy.linalg.solve_triangular(L.T, Z, lower=False)

"""JAX fast paths."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    return jax.ops.segment_sum(values, ids, num_segments=num_segments)


def histogram(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    from ..primitives import _histogram_chunks

    d, c = codes.shape[1], weights.shape[1]
    out = jnp.zeros((d * n_bins, c), dtype=weights.dtype)
    for ids, vals in _histogram_chunks(codes, weights, n_bins, xp=xp):
        out = out + jax.ops.segment_sum(vals, ids, num_segments=d * n_bins)
    return out.reshape(d, n_bins, c)


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    neg_vals, idx = jax.lax.top_k(-x, k)
    return -neg_vals, idx


def logsumexp(x: Any, axis: int | None, keepdims: bool, *, xp: Any) -> Any:
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def cholesky(A: Any, *, xp: Any) -> Any | None:
    L = jnp.linalg.cholesky(A)  # NaNs, not an exception, when A is not positive definite
    return L if bool(jnp.all(jnp.isfinite(L))) else None


def cho_solve(L: Any, B: Any, *, xp: Any) -> Any:
    return jax.scipy.linalg.cho_solve((L, True), B)


# ---------------------------------------------------------------- CPU arrays: the NumPy path's kernels, in place
# (small results only: a large result would be copied into a new JAX buffer)


def _cpu(*arrays: Any) -> bool:
    """Concrete arrays (not traced inside ``jit``) in CPU memory."""
    return all(a is None or (not isinstance(a, jax.core.Tracer) and next(iter(a.devices())).platform == "cpu")
               for a in arrays)


def _on_host(name: str, *args: Any, **kwargs: Any) -> Any:
    from ._host import on_host

    return on_host(name, args, np.asarray, jnp.asarray, **kwargs)


def gram(X: Any, *, xp: Any) -> Any:
    return _on_host("gram", X) if _cpu(X) else X.T @ X


def _host_or_generic(name: str, *args: Any, xp: Any) -> Any:
    from ._host import host_or_generic

    return host_or_generic(name, _cpu(*(a for a in args if not isinstance(a, int))), args, np.asarray, jnp.asarray, xp=xp)


def column_mean_var(X: Any, *, xp: Any) -> Any:
    return _host_or_generic("column_mean_var", X, xp=xp)


def column_min_max(X: Any, *, xp: Any) -> Any:
    return _on_host("column_min_max", X) if _cpu(X) else (jnp.min(X, axis=0), jnp.max(X, axis=0))


def segment_mean_var(X: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    return _host_or_generic("segment_mean_var", X, ids, num_segments, xp=xp)

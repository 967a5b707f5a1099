"""JAX fast paths."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    return jax.ops.segment_sum(values, ids, num_segments=num_segments)


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

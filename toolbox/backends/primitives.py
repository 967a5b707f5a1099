"""Primitives the Array API standard lacks, in one place (layer 1).

Every primitive follows the same three steps (as array-api-extra does):
validate, delegate to a native fast path registered for the namespace, or
fall back to the generic implementation written only against the standard.
The generic versions are the reference: they run on ``array_api_strict``.

Native fast paths live in ``toolbox.backends.native.<kind>`` and are imported
only when an array of that kind arrives (NumPy arrays use the ``numba``
module first when numba is active, see :func:`numba_active`).

All functions take the namespace as the keyword-only argument ``xp``.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable
from typing import Any

from array_api_compat import device as _device

from ..exceptions import IllConditionedWarning
from ._dispatch import namespace_kind, numba_active

__all__ = [
    "GENERIC",
    "bincount",
    "c_ordered",
    "centered_gram",
    "chunk_rows",
    "column_mean_var",
    "column_min_max",
    "columnwise_affine",
    "gram",
    "histogram",
    "lerp_quantiles",
    "logsumexp",
    "native_kinds",
    "segment_mean_var",
    "segment_sum",
    "smallest_k",
    "solve_spd",
    "sqeuclidean_distances",
]

#: Bytes a primitive may use for one chunk of temporaries.
CHUNK_BYTES = 64 * 2**20

_NATIVE_MODULES: dict[str, Any] = {}


def _native_module(kind: str) -> Any:
    if kind not in _NATIVE_MODULES:
        try:
            _NATIVE_MODULES[kind] = importlib.import_module(f"toolbox.backends.native.{kind}")
        except ImportError:
            _NATIVE_MODULES[kind] = None
    return _NATIVE_MODULES[kind]


def _native(name: str, xp: Any) -> Callable[..., Any] | None:
    kind = namespace_kind(xp)
    if kind == "numpy" and numba_active():
        fn = getattr(_native_module("numba"), name, None)
        if fn is not None:
            return fn
    if kind in ("numpy", "torch", "jax", "cupy"):
        return getattr(_native_module(kind), name, None)
    return None


def native_kinds(name: str) -> list[str]:
    """The backends that register a native fast path for primitive ``name``."""
    return [k for k in ("numpy", "numba", "torch", "jax", "cupy")
            if _native_module(k) is not None and hasattr(_native_module(k), name)]


def c_ordered(A: Any, *, xp: Any) -> Any:
    """``A`` C-ordered (copied when it is not; the standard has no ``order``): fitted arrays stored
    this way multiply with the same memory layout after a save and load, so BLAS gives the same
    bits."""
    return xp.reshape(xp.reshape(A, (-1,)), A.shape) if A.ndim > 1 else xp.asarray(A, copy=True)


def chunk_rows(n_rows: int, row_bytes: int, budget: int = CHUNK_BYTES) -> int:
    """Rows per chunk so that ``rows * row_bytes`` stays within ``budget`` (at least 1)."""
    return max(1, min(n_rows, budget // max(row_bytes, 1)))


def _itemsize(xp: Any, dtype: Any) -> int:
    for size, name in ((8, "float64"), (4, "float32"), (8, "int64"), (4, "int32")):
        if dtype == getattr(xp, name, None):
            return size
    return 8


# --------------------------------------------------------------------------- #
# segment_sum / bincount
# --------------------------------------------------------------------------- #


def _segment_sum_generic(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    # One-hot matrix product, chunked over rows: a true scatter-add written
    # with the standard alone (repeated ids accumulate).
    n = ids.shape[0]
    seg = xp.arange(num_segments, dtype=ids.dtype, device=values.device)
    vec = values.ndim == 1
    v2 = values[:, None] if vec else values
    step = chunk_rows(n, num_segments * _itemsize(xp, values.dtype))
    out = None
    for start in range(0, n, step):
        stop = min(start + step, n)
        onehot = xp.astype(ids[start:stop, None] == seg[None, :], values.dtype)
        part = onehot.T @ v2[start:stop, ...]
        out = part if out is None else out + part
    if out is None:
        out = xp.zeros((num_segments, v2.shape[1]), dtype=values.dtype, device=values.device)
    return out[:, 0] if vec else out


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    """Scatter-add rows of ``values`` into ``num_segments`` bins.

    Parameters
    ----------
    values : array, shape (n,) or (n, d), floating
    ids : array of int, shape (n,)
        Segment of each row; must lie in ``[0, num_segments)``. Repeated ids
        accumulate (a true scatter-add).
    num_segments : int
        Number of output rows (a Python int, so the output shape is static).

    Returns
    -------
    array, shape (num_segments,) or (num_segments, d), dtype of ``values``.
    """
    if ids.ndim != 1 or values.shape[0] != ids.shape[0] or values.ndim not in (1, 2):
        raise ValueError(
            f"segment_sum needs values of shape (n,) or (n, d) and ids of shape (n,); "
            f"got {tuple(values.shape)} and {tuple(ids.shape)}."
        )
    num_segments = int(num_segments)
    fn = _native("segment_sum", xp)
    if fn is not None:
        return fn(values, ids, num_segments, xp=xp)
    return _segment_sum_generic(values, ids, num_segments, xp=xp)


def bincount(x: Any, *, length: int, weights: Any = None, xp: Any) -> Any:
    """Count (or sum ``weights`` of) each integer in ``x``, shape ``(length,)``.

    Like ``numpy.bincount(x, weights, minlength=length)`` but with a static
    output length: values must lie in ``[0, length)``. Without weights the
    result has the namespace's default integer dtype; with weights, theirs.
    """
    if weights is None:
        info = xp.__array_namespace_info__()
        int_dtype = info.default_dtypes(device=x.device)["integral"]
        # Counting as a float segment-sum is exact below 2**53 samples.
        ones = xp.ones(x.shape, dtype=_float_for_counts(xp, x.device), device=x.device)
        return xp.astype(segment_sum(ones, x, length, xp=xp), int_dtype)
    if weights.shape != x.shape:
        raise ValueError(f"bincount: weights shape {tuple(weights.shape)} != x shape {tuple(x.shape)}.")
    return segment_sum(weights, x, length, xp=xp)


def _float_for_counts(xp: Any, device: Any) -> Any:
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


# --------------------------------------------------------------------------- #
# histogram
# --------------------------------------------------------------------------- #


def _histogram_chunks(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    """Yield ``(ids, values)`` per row chunk: flat segment ids ``f * n_bins + code`` and their weights."""
    n, d = codes.shape
    c = weights.shape[1]
    idt = xp.__array_namespace_info__().default_dtypes(device=_device(weights))["indexing"]
    offsets = xp.arange(d, dtype=idt, device=_device(weights)) * n_bins
    step = chunk_rows(n, d * (c + 1) * 8)
    for start in range(0, n, step):
        stop = min(start + step, n)
        ids = xp.reshape(xp.astype(codes[start:stop, ...], idt) + offsets[None, :], (-1,))
        vals = xp.reshape(xp.broadcast_to(weights[start:stop, None, :], (stop - start, d, c)), (-1, c))
        yield ids, vals


def _histogram_generic(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    d, c = codes.shape[1], weights.shape[1]
    out = xp.zeros((d * n_bins, c), dtype=weights.dtype, device=_device(weights))
    for ids, vals in _histogram_chunks(codes, weights, n_bins, xp=xp):
        out = out + segment_sum(vals, ids, d * n_bins, xp=xp)
    return xp.reshape(out, (d, n_bins, c))


def histogram(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    """Per-feature histograms of weighted bin codes: ``out[f, b, :] = sum of weights[i] where codes[i, f] == b``.

    Parameters
    ----------
    codes : array of unsigned int, shape (n, d)
        Bin codes in ``[0, n_bins)`` (``uint8`` for gradient boosting).
    weights : array, shape (n, c), floating
        Per-row channels (e.g. gradient, hessian, 1); the sums are accumulated in this dtype.
    n_bins : int

    Returns
    -------
    array, shape (d, n_bins, c), dtype of ``weights``.
    """
    if codes.ndim != 2 or weights.ndim != 2 or codes.shape[0] != weights.shape[0]:
        raise ValueError(f"histogram needs codes (n, d) and weights (n, c); got {tuple(codes.shape)} "
                         f"and {tuple(weights.shape)}.")
    fn = _native("histogram", xp)
    if fn is not None:
        return fn(codes, weights, int(n_bins), xp=xp)
    return _histogram_generic(codes, weights, int(n_bins), xp=xp)


# --------------------------------------------------------------------------- #
# smallest_k
# --------------------------------------------------------------------------- #


def _smallest_k_generic(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    idx = xp.argsort(x, axis=-1, stable=True)[..., :k]
    return xp.take_along_axis(x, idx, axis=-1), idx


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    """The ``k`` smallest values along the last axis and their indices.

    Parameters
    ----------
    x : array, shape (..., n)
    k : int, 1 <= k <= n

    Returns
    -------
    values : array, shape (..., k), sorted ascending
    indices : array of int, shape (..., k)
    """
    n = x.shape[-1]
    if not 1 <= k <= n:
        raise ValueError(f"smallest_k: k={k} must be between 1 and the axis length {n}.")
    fn = _native("smallest_k", xp)
    if fn is not None:
        return fn(x, int(k), xp=xp)
    return _smallest_k_generic(x, int(k), xp=xp)


# --------------------------------------------------------------------------- #
# logsumexp
# --------------------------------------------------------------------------- #


def _logsumexp_generic(x: Any, axis: int | None, keepdims: bool, *, xp: Any) -> Any:
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    s = xp.sum(xp.exp(x - m), axis=axis, keepdims=True)
    positive = s > 0  # s == 0 only where every value is -inf: the answer is -inf, without log(0)
    out = xp.where(positive, xp.log(xp.where(positive, s, xp.ones_like(s))) + m, xp.full_like(s, -math.inf))
    if not keepdims:
        out = xp.squeeze(out, axis=axis) if axis is not None else xp.reshape(out, ())
    return out


def logsumexp(x: Any, *, axis: int | None = None, keepdims: bool = False, xp: Any) -> Any:
    """``log(sum(exp(x), axis))`` without overflow; rows of all ``-inf`` give ``-inf``."""
    fn = _native("logsumexp", xp)
    if fn is not None:
        return fn(x, axis, keepdims, xp=xp)
    return _logsumexp_generic(x, axis, keepdims, xp=xp)


# --------------------------------------------------------------------------- #
# squared Euclidean distances
# --------------------------------------------------------------------------- #


def _sqeuclidean_generic(X: Any, Y: Any, Y_norm_sq: Any, *, xp: Any) -> Any:
    if Y_norm_sq is None:
        Y_norm_sq = xp.sum(Y * Y, axis=1)
    n, m = X.shape[0], Y.shape[0]
    step = chunk_rows(n, 3 * m * _itemsize(xp, X.dtype))
    parts = []
    for start in range(0, n, step):
        Xc = X[start:min(start + step, n), ...]
        d = xp.sum(Xc * Xc, axis=1)[:, None] - 2.0 * (Xc @ Y.T) + Y_norm_sq[None, :]
        parts.append(xp.clip(d, 0.0, None))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def sqeuclidean_distances(X: Any, Y: Any, *, Y_norm_sq: Any = None, xp: Any) -> Any:
    """Squared Euclidean distances between the rows of ``X`` and ``Y``.

    Uses ``|x|^2 - 2 x.y + |y|^2`` (one matrix product, BLAS-bound), clipped
    at zero, computed in row chunks of ``X`` so temporaries stay within
    :data:`CHUNK_BYTES`.

    Parameters
    ----------
    X : array, shape (n, d), floating
    Y : array, shape (m, d), same dtype
    Y_norm_sq : array, shape (m,), optional
        Precomputed ``sum(Y**2, axis=1)``, to reuse across calls.

    Returns
    -------
    array, shape (n, m), dtype of X.
    """
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"sqeuclidean_distances needs X (n, d) and Y (m, d); got {tuple(X.shape)} and {tuple(Y.shape)}."
        )
    fn = _native("sqeuclidean_distances", xp)
    if fn is not None:
        return fn(X, Y, Y_norm_sq, xp=xp)
    return _sqeuclidean_generic(X, Y, Y_norm_sq, xp=xp)


# --------------------------------------------------------------------------- #
# Gram matrix
# --------------------------------------------------------------------------- #


def _gram_generic(X: Any, *, xp: Any) -> Any:
    return X.T @ X


def gram(X: Any, *, xp: Any) -> Any:
    """The Gram matrix ``X.T @ X``, shape (d, d), for X of shape (n, d)."""
    if X.ndim != 2:
        raise ValueError(f"gram needs a 2-D array; got shape {tuple(X.shape)}.")
    fn = _native("gram", xp)
    if fn is not None:
        return fn(X, xp=xp)
    return _gram_generic(X, xp=xp)


# --------------------------------------------------------------------------- #
# Symmetric positive-definite solve
# --------------------------------------------------------------------------- #


def _rcond_from_cholesky(L: Any, *, xp: Any) -> float:
    diag = xp.linalg.diagonal(L)
    dmin, dmax = float(xp.min(diag)), float(xp.max(diag))
    if not (math.isfinite(dmin) and math.isfinite(dmax)) or dmax <= 0.0:
        return 0.0
    return (dmin / dmax) ** 2


def _eps(xp: Any, dtype: Any) -> float:
    return float(xp.finfo(dtype).eps)


def _solve_psd_eigh(A: Any, B: Any, *, xp: Any) -> Any:
    """Minimum-norm solution through the eigendecomposition (pseudo-inverse)."""
    w, V = xp.linalg.eigh(A)
    cutoff = float(xp.max(xp.abs(w))) * A.shape[0] * _eps(xp, A.dtype)
    safe = xp.where(w > cutoff, w, xp.ones_like(w))
    w_inv = xp.where(w > cutoff, 1.0 / safe, xp.zeros_like(w))
    vec = B.ndim == 1
    B2 = B[:, None] if vec else B
    X = V @ (w_inv[:, None] * (V.T @ B2))
    return X[:, 0] if vec else X


def _cholesky_generic(A: Any, *, xp: Any) -> Any | None:
    try:
        L = xp.linalg.cholesky(A)
    except Exception:  # each library raises its own LinAlgError
        return None
    return L


def _cho_solve_generic(L: Any, B: Any, *, xp: Any) -> Any:
    # The standard has no triangular solve; a general solve on the factors is
    # the (slower) reference.
    return xp.linalg.solve(L.T, xp.linalg.solve(L, B if B.ndim == 2 else B[:, None]))


def solve_spd(A: Any, B: Any, *, xp: Any) -> Any:
    """Solve ``A X = B`` for symmetric positive (semi-)definite ``A``.

    Cholesky first. When the factorization fails or the matrix is
    ill-conditioned (reciprocal condition estimate below ``n * eps``) an
    :class:`~toolbox.exceptions.IllConditionedWarning` is issued and the
    minimum-norm solution is computed from the eigendecomposition instead.

    Parameters
    ----------
    A : array, shape (d, d), floating, symmetric
    B : array, shape (d,) or (d, k)

    Returns
    -------
    array, shape of ``B``.
    """
    if A.ndim != 2 or A.shape[0] != A.shape[1] or B.shape[0] != A.shape[0]:
        raise ValueError(f"solve_spd needs A (d, d) and B (d,) or (d, k); got {tuple(A.shape)} and {tuple(B.shape)}.")
    native = _native("cholesky", xp)
    cholesky = native if native is not None else _cholesky_generic
    L = cholesky(A, xp=xp)
    n = A.shape[0]
    rcond = 0.0 if L is None else _rcond_from_cholesky(L, xp=xp)
    if rcond < n * _eps(xp, A.dtype):
        warnings.warn(
            f"solve_spd: matrix of shape {tuple(A.shape)} is singular or ill-conditioned "
            f"(reciprocal condition estimate {rcond:.2e}); using the eigendecomposition "
            "for a minimum-norm solution.",
            IllConditionedWarning,
            stacklevel=2,
        )
        return _solve_psd_eigh(A, B, xp=xp)
    native_solve = _native("cho_solve", xp)
    out = (native_solve or _cho_solve_generic)(L, B, xp=xp)
    return out[:, 0] if B.ndim == 1 and out.ndim == 2 else out


#: The reference implementations, for tests and for comparing native paths.
GENERIC: dict[str, Callable[..., Any]] = {
    "segment_sum": _segment_sum_generic,
    "histogram": _histogram_generic,
    "smallest_k": _smallest_k_generic,
    "logsumexp": _logsumexp_generic,
    "sqeuclidean_distances": _sqeuclidean_generic,
    "gram": _gram_generic,
    "cholesky": _cholesky_generic,
    "cho_solve": _cho_solve_generic,
}


# --------------------------------------------------------------------------- #
# Centred Gram matrix and cross-products
# --------------------------------------------------------------------------- #


def _column_sums(X: Any, *, xp: Any) -> Any:
    return xp.sum(X, axis=0)


def _centered_gram_chunked(X: Any, Y: Any, x_mean: Any, y_mean: Any, *, xp: Any) -> tuple[Any, Any, Any, Any]:
    """``Xc.T @ Xc`` and ``Xc.T @ Yc``, centring one row chunk at a time (one chunk of memory).

    The corrected two-pass algorithm: the data are centred on the first-pass means, and the
    (small) residual means of the centred data then correct both the products and the means.
    """
    n, d = X.shape
    step = chunk_rows(n, d * _itemsize(xp, X.dtype))
    G = C = sx = sy = None
    for start in range(0, n, step):
        stop = min(start + step, n)
        Xc = X[start:stop, ...] - x_mean
        part, s_part = gram(Xc, xp=xp), xp.sum(Xc, axis=0)
        G, sx = (part, s_part) if G is None else (G + part, sx + s_part)
        if Y is not None:
            Yc = Y[start:stop, ...] - y_mean
            cross, sy_part = Xc.T @ Yc, xp.sum(Yc, axis=0)
            C, sy = (cross, sy_part) if C is None else (C + cross, sy + sy_part)
    dx = sx / n
    G = G - n * (dx[:, None] * dx[None, :])
    if Y is not None:
        dy = sy / n
        C = C - n * (dx[:, None] * dy[None, :] if Y.ndim == 2 else dx * dy)
        y_mean = y_mean + dy
    return G, C, x_mean + dx, y_mean


def centered_gram(X: Any, Y: Any = None, *, xp: Any) -> tuple[Any, Any, Any, Any]:
    """The Gram matrix of the column-centred ``X`` and its cross-product with the centred ``Y``.

    One BLAS pass over ``X`` (``X.T @ X``, ``X.T @ Y``), then the rank-one
    correction ``- n * mean mean.T``, without a centred copy of ``X``. That
    correction cancels digits when a column's mean is large against its
    spread; when the cancellation would cost more than a quarter of the
    significant digits (``raw / centred`` second moment above ``eps**-0.25``:
    about 8e3 in float64, 54 in float32) or a column is constant, the result is
    recomputed exactly, centring one row chunk at a time (memory: one chunk).

    Parameters
    ----------
    X : array, shape (n, d), floating
    Y : array, shape (n,) or (n, k), dtype of ``X``, optional

    Returns
    -------
    G : array (d, d), ``(X - x_mean).T @ (X - x_mean)``
    C : array (d,) or (d, k), ``(X - x_mean).T @ (Y - y_mean)``; None without ``Y``
    x_mean : array (d,)
    y_mean : array () or (k,); None without ``Y``
    """
    if X.ndim != 2:
        raise ValueError(f"centered_gram needs X of shape (n, d); got {tuple(X.shape)}.")
    if Y is not None and (Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0]):
        raise ValueError(f"centered_gram needs Y of shape (n,) or (n, k) with n = {X.shape[0]}; "
                         f"got {tuple(Y.shape)}.")
    n = X.shape[0]
    fused = _native("gram_and_column_sums", xp)  # one pass over X for X.T @ X, its sums and X.T @ Y (NumPy)
    XtY = None
    if fused is not None:
        raw, sums, XtY = fused(X, xp=xp, Y=Y)
        x_mean = sums / n
        raw_diag = xp.asarray(xp.linalg.diagonal(raw), copy=True)
        G = raw  # NumPy, and ours: centred in place (one (d, d) buffer fewer)
        G -= (n * x_mean)[:, None] * x_mean[None, :]
    else:
        x_mean = _column_sums(X, xp=xp) / n
        raw = gram(X, xp=xp)
        raw_diag = xp.linalg.diagonal(raw)
        G = raw - (n * x_mean)[:, None] * x_mean[None, :]
    y_mean = None if Y is None else xp.sum(Y, axis=0) / n
    limit = _eps(xp, X.dtype) ** -0.25
    c_diag = xp.linalg.diagonal(G)
    ok = bool(xp.all(raw_diag <= limit * c_diag))  # also False for constant columns (c_diag == 0)
    C = None
    if Y is not None:
        Y2 = Y[:, None] if Y.ndim == 1 else Y
        ym2 = y_mean[None] if Y.ndim == 1 else y_mean
        C = (X.T @ Y if XtY is None else XtY) - n * (x_mean[:, None] * ym2[None, :] if Y.ndim == 2 else x_mean * y_mean)
        y_raw = xp.sum(Y2 * Y2, axis=0)
        Yc = Y2 - ym2[None, :]
        y_c = xp.sum(Yc * Yc, axis=0)
        ok = ok and bool(xp.all(y_raw <= limit * y_c))  # False for a constant target too
    if not ok:
        G, C, x_mean, y_mean = _centered_gram_chunked(X, Y, x_mean, y_mean, xp=xp)
    return G, C, x_mean, y_mean


# --------------------------------------------------------------------------- #
# Per-column and per-segment statistics, column-wise affine maps
# --------------------------------------------------------------------------- #


def _column_mean_var_generic(X: Any, *, xp: Any) -> tuple[Any, Any]:
    n = X.shape[0]
    mean = xp.sum(X, axis=0) / n
    step = chunk_rows(n, X.shape[1] * _itemsize(xp, X.dtype))
    s1 = s2 = None
    for start in range(0, n, step):
        T = X[start:min(start + step, n), ...] - mean
        p1, p2 = xp.sum(T, axis=0), xp.sum(T * T, axis=0)
        s1, s2 = (p1, p2) if s1 is None else (s1 + p1, s2 + p2)
    return mean + s1 / n, s2 / n - (s1 / n) ** 2


def column_mean_var(X: Any, *, xp: Any, dtype: Any = None) -> tuple[Any, Any]:
    """Mean and (biased) variance of each column of ``X`` (n, d), n >= 1: two arrays (d,).

    The corrected two-pass algorithm (Chan, Golub & LeVeque): the squared
    deviations from the first-pass mean, minus the square of their residual
    mean. Temporaries stay within one row chunk; the numba kernel makes two
    parallel passes with float64 accumulators. ``dtype`` (NumPy only, e.g.
    float64 for float32 ``X``, as scikit-learn's scalers): the dtype the
    statistics are computed and returned in; default ``X``'s.
    """
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"column_mean_var needs X of shape (n, d) with n >= 1; got {tuple(X.shape)}.")
    fn = _native("column_mean_var", xp)
    if dtype is not None and dtype != X.dtype:
        if fn is not None and namespace_kind(xp) == "numpy":
            return fn(X, xp=xp, dtype=dtype)
        mean, var = _column_mean_var_generic(xp.astype(X, dtype), xp=xp)
        return mean, var
    if fn is not None:
        return fn(X, xp=xp)
    return _column_mean_var_generic(X, xp=xp)


def column_min_max(X: Any, *, xp: Any) -> tuple[Any, Any]:
    """Minimum and maximum of each column of ``X`` (n, d), n >= 1: two arrays (d,).

    NaN handling is the library's (NumPy and the numba kernel propagate NaN); callers validate first.

    One pass where a native kernel exists (numba), else ``xp.min`` and ``xp.max``.
    """
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"column_min_max needs X of shape (n, d) with n >= 1; got {tuple(X.shape)}.")
    fn = _native("column_min_max", xp)
    if fn is not None:
        return fn(X, xp=xp)
    return xp.min(X, axis=0), xp.max(X, axis=0)


def _columnwise_affine_generic(X: Any, sub: Any, div: Any, mul: Any, add: Any, *, xp: Any) -> Any:
    out = None  # the first step allocates the result; later steps update it in place (JAX rebinds)
    for v, op in ((sub, "sub"), (div, "div"), (mul, "mul"), (add, "add")):
        if v is None:
            continue
        if out is None:
            out = X - v if op == "sub" else X / v if op == "div" else X * v if op == "mul" else X + v
        elif op == "div":
            out /= v
        elif op == "mul":
            out *= v
        else:
            out += v
    return xp.asarray(X, copy=True) if out is None else out


def columnwise_affine(X: Any, *, sub: Any = None, div: Any = None, mul: Any = None, add: Any = None,
                      xp: Any) -> Any:
    """``((X - sub) / div) * mul + add``, column-wise, into a new array; absent steps are skipped.

    Parameters
    ----------
    X : array (n, d), floating
    sub, div, mul, add : arrays (d,) of X's dtype, or None

    Returns
    -------
    array (n, d), dtype of X: always a new array (``X`` is never modified). The
    steps are applied in that order with the same rounding as the separate
    operations, in one pass over memory where a native kernel exists.
    """
    if X.ndim != 2:
        raise ValueError(f"columnwise_affine needs X of shape (n, d); got {tuple(X.shape)}.")
    fn = _native("columnwise_affine", xp)
    if fn is not None:
        return fn(X, sub, div, mul, add, xp=xp)
    return _columnwise_affine_generic(X, sub, div, mul, add, xp=xp)


def lerp_quantiles(n: int, qs: tuple[float, ...], kth: Callable[[int], Any]) -> list[Any]:
    """Quantiles ``qs`` (percent) of ``n`` values by NumPy's default ("linear") method.

    ``kth(k)`` gives the ``k``-th smallest value (of every column at once, any shape);
    position ``q/100 * (n - 1)``, linear interpolation between its neighbours, written
    like NumPy's ``_lerp``. Positions are Python numbers, so every index is static.
    """
    out = []
    for q in qs:
        pos = q / 100.0 * (n - 1)
        lo = min(math.floor(pos), n - 1)
        hi = min(lo + 1, n - 1)
        t = pos - lo
        a, b = kth(lo), kth(hi)
        out.append(a + (b - a) * t if t < 0.5 else b - (b - a) * (1.0 - t))
    return out


def _segment_mean_var_generic(X: Any, ids: Any, num_segments: int, *, xp: Any) -> tuple[Any, Any, Any]:
    n = X.shape[0]
    ones = xp.ones((n,), dtype=X.dtype, device=X.device)
    counts = segment_sum(ones, ids, num_segments, xp=xp)
    safe = xp.where(counts != 0, counts, xp.ones_like(counts))
    mean = segment_sum(X, ids, num_segments, xp=xp) / safe[:, None]
    step = chunk_rows(n, 2 * X.shape[1] * _itemsize(xp, X.dtype))
    ssd = None
    for start in range(0, n, step):
        stop = min(start + step, n)
        dev = X[start:stop, ...] - xp.take(mean, ids[start:stop], axis=0)
        part = segment_sum(dev * dev, ids[start:stop], num_segments, xp=xp)
        ssd = part if ssd is None else ssd + part
    return counts, mean, ssd / safe[:, None]


def segment_mean_var(X: Any, ids: Any, num_segments: int, *, xp: Any) -> tuple[Any, Any, Any]:
    """Count, mean and (biased) variance of the rows of ``X`` in each segment.

    Parameters
    ----------
    X : array (n, d), floating
    ids : array of int (n,), values in ``[0, num_segments)``
    num_segments : int

    Returns
    -------
    counts : array (num_segments,), dtype of X
    mean, var : arrays (num_segments, d), dtype of X; 0 for empty segments

    Two passes (sums, then squared deviations from the segment means), with
    temporaries within one row chunk; the numba kernel makes both passes in
    parallel with float64 accumulators.
    """
    if X.ndim != 2 or ids.ndim != 1 or X.shape[0] != ids.shape[0]:
        raise ValueError(f"segment_mean_var needs X (n, d) and ids (n,); got {tuple(X.shape)} and "
                         f"{tuple(ids.shape)}.")
    fn = _native("segment_mean_var", xp)
    if fn is not None:
        return fn(X, ids, int(num_segments), xp=xp)
    return _segment_mean_var_generic(X, ids, int(num_segments), xp=xp)


GENERIC.update({
    "column_mean_var": _column_mean_var_generic,
    "columnwise_affine": _columnwise_affine_generic,
    "segment_mean_var": _segment_mean_var_generic,
})

"""Sparse matrices: recognising them and the few operations estimators need (layer 1).

Two families are supported: ``scipy.sparse`` matrices and arrays on the host
(computed on with SciPy; results are NumPy arrays), and torch sparse tensors
(``sparse_coo`` / ``sparse_csr``, any device; computed on with torch's sparse
kernels). Every operation here keeps memory proportional to the stored
entries: nothing is densified. Each function takes the sparse matrix ``X`` in
the canonical compute format that :func:`as_compute_format` returns (CSR,
except that SciPy CSC is kept as CSC) and the dense namespace ``xp`` of the
call.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from .primitives import lerp_quantiles

__all__ = [
    "as_compute_format",
    "column_max_abs",
    "column_mean_var",
    "column_quantiles",
    "column_sums",
    "copy",
    "gram",
    "hstack",
    "is_sparse",
    "keep_entries",
    "matmul",
    "max_abs",
    "product_dense",
    "restore_format",
    "rmatmul",
    "row_abs_sums",
    "row_max_abs",
    "row_slice",
    "row_sq_norms",
    "scale_columns",
    "scale_rows",
    "select_columns",
    "sparse_kind",
    "stored_values",
    "to_dense",
    "total_variance",
    "transpose",
    "with_values",
]


def sparse_kind(x: Any) -> str | None:
    """``"scipy"``, ``"cupyx"``, ``"torch"`` for a sparse matrix of that library, else ``None``."""
    mod = type(x).__module__
    if mod.startswith("scipy.sparse"):
        return "scipy"
    if mod.startswith("cupyx.scipy.sparse"):
        return "cupyx"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor) and x.layout != torch.strided:
        return "torch"
    return None


def is_sparse(x: Any) -> bool:
    """Whether ``x`` is a sparse matrix (SciPy, CuPy's cupyx or a torch sparse tensor)."""
    return sparse_kind(x) is not None


def _torch_csr(crow: Any, col: Any, values: Any, shape: tuple[int, int]) -> Any:
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=shape, check_invariants=False)


def as_compute_format(X: Any, dtype: Any = None) -> Any:
    """``X`` as CSR (SciPy CSC stays CSC) of floating ``dtype``; never modifies ``X``.

    SciPy: float32 and float64 are kept, other dtypes become float64 (the
    matrix/array class is kept). torch: COO is coalesced and converted to CSR.
    """
    kind = sparse_kind(X)
    if kind in ("scipy", "cupyx"):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        if dtype is None:
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        if X.dtype != dtype:
            X = X.astype(dtype)
        if not X.has_canonical_format:  # duplicates summed, indices sorted: on a copy
            X = X.copy()
            X.sum_duplicates()
        return X
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
        if X.layout == torch.sparse_coo:
            X = X.coalesce()
        if X.layout != torch.sparse_csr:
            X = X.to_sparse_csr()
        if dtype is None:
            dtype = X.dtype if X.dtype in (torch.float32, torch.float64) else torch.get_default_dtype()
        if X.dtype != dtype:
            X = X.to(dtype)
    return X


def restore_format(Xt: Any, like: Any) -> Any:
    """``Xt`` (compute format) in the format family of the caller's ``like`` (CSR for SciPy COO etc.)."""
    kind = sparse_kind(like)
    if kind == "torch":
        import torch

        if like.layout == torch.sparse_coo:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
                return Xt.to_sparse_coo()
    return Xt


def row_slice(X: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a CSR ``X``, sharing nothing with it that is written to."""
    if sparse_kind(X) == "torch":
        crow = X.crow_indices()
        lo, hi = int(crow[start]), int(crow[stop])
        return _torch_csr(crow[start:stop + 1] - lo, X.col_indices()[lo:hi], X.values()[lo:hi],
                          (stop - start, int(X.shape[1])))
    if X.format != "csr":
        X = X.tocsr()
    return X[start:stop]


def product_dense(A: Any, B: Any, BT: Any = None) -> Any:
    """``A @ B.T`` as a dense array, for sparse or dense ``A`` and ``B`` (at least one sparse).

    ``BT``: :func:`transpose` of a torch sparse ``B``, for callers that multiply by it many times.
    """
    if is_sparse(A) and is_sparse(B):
        if sparse_kind(A) == "torch":
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
                return (A @ (transpose(B) if BT is None else BT)).to_dense()
        return np.asarray((A @ B.T).toarray())
    if is_sparse(A):
        return matmul(A, B.T)
    return matmul(B, A.T).T


def select_columns(X: Any, idx: Any) -> Any:
    """Columns ``idx`` (a host int array, increasing) of a CSR/CSC ``X``, as a new sparse matrix."""
    if sparse_kind(X) != "torch":
        return X[:, idx]
    import torch

    p = int(X.shape[1])
    colmap = torch.full((p,), -1, dtype=torch.int64, device=X.device)
    colmap[torch.as_tensor(np.asarray(idx), dtype=torch.int64, device=X.device)] = torch.arange(
        len(idx), device=X.device)
    new = colmap[X.col_indices()]
    keep = new >= 0
    rows = _major_index(X)[keep]
    counts = torch.bincount(rows, minlength=int(X.shape[0]))
    crow = torch.cat([torch.zeros(1, dtype=torch.int64, device=X.device), torch.cumsum(counts, 0)])
    return _torch_csr(crow, new[keep], X.values()[keep], (int(X.shape[0]), len(idx)))


def copy(X: Any) -> Any:
    """A copy of sparse ``X`` (its arrays too)."""
    return X.clone() if sparse_kind(X) == "torch" else X.copy()


def stored_values(X: Any) -> Any:
    """The stored entries (SciPy ``X.data``; torch ``X.values()``), shape (nnz,), not a copy."""
    return X.values() if sparse_kind(X) == "torch" else X.data


def with_values(X: Any, values: Any) -> Any:
    """A new sparse matrix with ``X``'s structure and ``values`` as its stored entries."""
    if sparse_kind(X) == "torch":
        return _torch_csr(X.crow_indices(), X.col_indices(), values, tuple(X.shape))
    return type(X)((values, X.indices.copy(), X.indptr.copy()), shape=X.shape)


def keep_entries(X: Any, keep: Any, values: Any = None) -> Any:
    """A new sparse matrix (``X``'s format) holding only the stored entries where ``keep`` (bool, nnz) is
    True, with ``values`` (one per kept entry; default ``X``'s own) as their values."""
    vals = stored_values(X)[keep] if values is None else values
    if sparse_kind(X) == "torch":
        import torch

        counts = torch.bincount(_major_index(X)[keep], minlength=int(X.shape[0]))
        crow = torch.cat([torch.zeros(1, dtype=torch.int64, device=counts.device), torch.cumsum(counts, 0)])
        return _torch_csr(crow, X.col_indices()[keep], vals, tuple(X.shape))
    counts = np.bincount(_major_index(X)[keep], minlength=len(X.indptr) - 1)
    indptr = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)]).astype(X.indptr.dtype)
    return type(X)((vals, X.indices[keep], indptr), shape=X.shape)


def hstack(blocks: list[Any]) -> Any:
    """The sparse matrices ``blocks`` (one family, same number of rows) side by side, in the first
    one's format (and, for SciPy, its matrix or array class)."""
    first = blocks[0]
    if sparse_kind(first) == "torch":
        import torch

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            out = torch.cat([b.to_sparse_coo() for b in blocks], dim=1).coalesce()
            return out.to_sparse_csr() if first.layout == torch.sparse_csr else out
    import scipy.sparse

    out = scipy.sparse.hstack(blocks, format=first.format)
    return out if isinstance(out, type(first)) else type(first)(out)


def to_dense(X: Any) -> Any:
    """Sparse ``X`` as a dense array of its library (NumPy for SciPy)."""
    if sparse_kind(X) == "torch":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            return X.to_dense()
    return np.asarray(X.toarray())


def _minor_index(X: Any) -> Any:
    """Column index (CSR) or row index (CSC) of each stored entry."""
    return X.col_indices() if sparse_kind(X) == "torch" else X.indices


def _major_index(X: Any) -> Any:
    """Row index (CSR) or column index (CSC) of each stored entry, shape (nnz,)."""
    if sparse_kind(X) == "torch":
        import torch

        crow = X.crow_indices()
        counts = crow[1:] - crow[:-1]
        return torch.repeat_interleave(torch.arange(X.shape[0], device=crow.device), counts)
    n_major = X.shape[0] if X.format == "csr" else X.shape[1]
    return np.repeat(np.arange(n_major, dtype=X.indices.dtype), np.diff(X.indptr))


def _col_index(X: Any) -> Any:
    if sparse_kind(X) != "torch" and X.format == "csc":
        return _major_index(X)
    return _minor_index(X)


def _row_index(X: Any) -> Any:
    if sparse_kind(X) != "torch" and X.format == "csc":
        return _minor_index(X)
    return _major_index(X)


def _scatter_sum(values: Any, ids: Any, length: int, like: Any) -> Any:
    if sparse_kind(like) == "torch":
        import torch

        out = torch.zeros(length, dtype=values.dtype, device=values.device)
        return out.index_add_(0, ids, values)
    return np.bincount(ids, weights=values, minlength=length).astype(values.dtype, copy=False)


def matmul(X: Any, W: Any) -> Any:
    """``X @ W`` for dense ``W`` of shape (p,) or (p, k): a dense result."""
    if sparse_kind(X) == "torch":
        if W.ndim == 1:
            return (X @ W[:, None])[:, 0]
        return X @ W
    out = _parallel_product(X, W)
    return np.asarray(X @ W) if out is None else out


def rmatmul(X: Any, R: Any, XT: Any = None) -> Any:
    """``X.T @ R`` for dense ``R`` of shape (n,) or (n, k): a dense result.

    ``XT``: :func:`transpose` of ``X``, for callers that apply ``X.T`` many times (torch's
    products with the CSC view ``X.t()`` are many times slower than with a CSR transpose).
    """
    if XT is not None:
        return matmul(XT, R)
    if sparse_kind(X) == "torch":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            Xt = X.t()
            if R.ndim == 1:
                return (Xt @ R[:, None])[:, 0]
            return Xt @ R
    out = _parallel_product(X.T, R)
    return np.asarray(X.T @ R) if out is None else out


def _parallel_product(A: Any, W: Any) -> Any:
    """SciPy's ``A @ W`` on several threads with the same bits (numba kernels), or None to let SciPy do it."""
    from ._dispatch import numba_active

    if not numba_active():
        return None
    from .native import numba_sparse

    return numba_sparse.product(A, W)


def transpose(X: Any) -> Any:
    """``X.T`` in a format whose products are fast: SciPy's free transposed view; torch, a CSR copy
    of the transpose (nnz memory), built once for solvers that apply ``X.T`` many times."""
    if sparse_kind(X) == "torch":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            return X.t().to_sparse_csr()
    return X.T


def gram(X: Any, Y: Any = None) -> Any:
    """``X.T @ Y`` (``Y`` sparse of ``X``'s shape, default ``X``) as a dense (p, p) array.

    For few features only: the result has ``p**2`` entries whatever the sparsity.
    """
    Y = X if Y is None else Y
    if sparse_kind(X) == "torch":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            return (transpose(X) @ Y).to_dense()
    return np.asarray((X.T @ Y).toarray())


def column_sums(X: Any, weights: Any = None, *, power: int = 1) -> Any:
    """``sum_i w_i * X[i, j] ** power`` per column, shape (p,)."""
    vals = stored_values(X)
    if power != 1:
        vals = vals**power
    if weights is not None:
        vals = vals * weights[_row_index(X)]
    return _scatter_sum(vals, _col_index(X), X.shape[1], X)


def column_mean_var(X: Any, weights: Any = None) -> tuple[Any, Any]:
    """Per-column (weighted) mean and biased variance, implicit zeros included, as scikit-learn's
    ``mean_variance_axis``: the variance is summed over the stored entries around the mean plus
    ``mean**2`` times the weight of the implicit zeros."""
    n, p = X.shape
    total = float(n) if weights is None else weights.sum()
    mean = column_sums(X, weights) / total
    col = _col_index(X)
    vals = stored_values(X)
    dev = (vals - mean[col]) ** 2
    w_nz = None if weights is None else weights[_row_index(X)]
    if w_nz is not None:
        dev = dev * w_nz
    ones = vals * 0 + 1
    w_stored = _scatter_sum(ones if w_nz is None else w_nz, col, p, X)
    w_zero = total - w_stored  # weight of the implicit zeros: exactly 0 for a full column
    if w_nz is not None:
        w_zero = w_zero * (_scatter_sum(ones, col, p, X) < n)
    # corrected two-pass (as scikit-learn's _incremental_mean_and_var): minus the squared sum of
    # the deviations, which rounding leaves non-zero; a constant column gets exactly 0
    diff = vals - mean[col]
    correction = _scatter_sum(diff if w_nz is None else diff * w_nz, col, p, X) - w_zero * mean
    var = (_scatter_sum(dev, col, p, X) + w_zero * mean**2 - correction**2 / total) / total
    return mean, abs(var) * (var > 0)  # rounding can leave a constant column at -1e-48


def column_quantiles(X: Any, qs: tuple[float, ...]) -> list[Any]:
    """Quantiles ``qs`` (percent) of each column, implicit zeros included: one array (p,) per ``q``.

    NumPy's default ("linear") method, as on the dense column. The stored entries are sorted
    once by (column, value); the ``k``-th smallest value of column ``j`` is then a stored
    entry below its zeros, a zero, or a stored entry above them, found by index arithmetic
    (no loop over columns, memory of the stored entries).
    """
    n, p = X.shape
    vals, col = stored_values(X), _col_index(X)
    torch_kind = sparse_kind(X) == "torch"
    if torch_kind:
        import torch

        by_val = torch.argsort(vals, stable=True)
        order = by_val[torch.argsort(col[by_val], stable=True)]
        count = torch.bincount(col, minlength=p)
        neg = torch.bincount(col[vals < 0], minlength=p)
        start = torch.cumsum(count, 0) - count
    else:
        order = np.lexsort((vals, col))
        count = np.bincount(col, minlength=p)
        neg = np.bincount(col[vals < 0], minlength=p)
        start = np.cumsum(count) - count
    sv = vals[order]
    zeros = n - count  # implicit zeros per column
    last = max(int(sv.shape[0]) - 1, 0)

    where = torch.where if torch_kind else np.where

    def kth(k: int) -> Any:
        if not sv.shape[0]:
            return vals.new_zeros(p) if torch_kind else np.zeros(p, vals.dtype)
        below = sv[(start + k).clip(0, last)]  # the k-th stored entry, when k < neg
        above = sv[(start + k - zeros).clip(0, last)]  # when k >= neg + zeros
        return where(k >= neg + zeros, above, where(k < neg, below, below * 0))

    return lerp_quantiles(n, qs, kth)


def max_abs(X: Any) -> float:
    """``max |X|`` over the stored entries (0 when none), without a temporary copy of them."""
    vals = stored_values(X)
    if vals.shape[0] == 0:
        return 0.0
    return float(max(vals.max(), -vals.min()))


def total_variance(X: Any) -> Any:
    """``sum_j var(X[:, j])`` (biased, implicit zeros included) from one pass over the stored entries:
    ``sum(x**2) / n - |mean|^2``, without temporaries of the entries' size."""
    n = X.shape[0]
    vals = stored_values(X)
    mean = column_sums(X) / n
    sq = (vals @ vals) if sparse_kind(X) == "torch" else float(np.dot(vals, vals))
    return sq / n - (mean @ mean)


def column_max_abs(X: Any) -> Any:
    """``max_i |X[i, j]|`` per column (0 for a column with no stored entry), shape (p,)."""
    vals = abs(stored_values(X))
    col = _col_index(X)
    p = X.shape[1]
    if sparse_kind(X) == "torch":
        import torch

        out = torch.zeros(p, dtype=vals.dtype, device=vals.device)
        return out.scatter_reduce(0, col, vals, reduce="amax", include_self=True)
    return abs(X).max(axis=0).toarray().ravel()


def row_sq_norms(X: Any) -> Any:
    """``sum_j X[i, j]**2`` per row, shape (n,)."""
    vals = stored_values(X)
    return _scatter_sum(vals * vals, _row_index(X), X.shape[0], X)


def row_abs_sums(X: Any) -> Any:
    vals = stored_values(X)
    return _scatter_sum(abs(vals), _row_index(X), X.shape[0], X)


def row_max_abs(X: Any) -> Any:
    vals = abs(stored_values(X))
    row = _row_index(X)
    n = X.shape[0]
    if sparse_kind(X) == "torch":
        import torch

        out = torch.zeros(n, dtype=vals.dtype, device=vals.device)
        return out.scatter_reduce(0, row, vals, reduce="amax", include_self=True)
    return abs(X).max(axis=1).toarray().ravel()


def _per_major(X: Any, s: Any) -> Any:
    """``s`` (one value per row of CSR, per column of CSC) repeated for each stored entry."""
    if sparse_kind(X) == "torch":
        crow = X.crow_indices()
        return s.repeat_interleave(crow[1:] - crow[:-1])
    return np.repeat(s, np.diff(X.indptr))


def scale_columns(X: Any, s: Any) -> Any:
    """``X * s[None, :]`` as a new sparse matrix of the same structure."""
    csc = sparse_kind(X) != "torch" and X.format == "csc"
    return with_values(X, stored_values(X) * (_per_major(X, s) if csc else s[_col_index(X)]))


def scale_rows(X: Any, s: Any) -> Any:
    """``X * s[:, None]`` as a new sparse matrix of the same structure."""
    csc = sparse_kind(X) != "torch" and X.format == "csc"
    return with_values(X, stored_values(X) * (s[_row_index(X)] if csc else _per_major(X, s)))

"""Ordinary least squares through the Gram matrix: ``LinearRegression``."""

from __future__ import annotations

import warnings
from typing import Any

from ..backends import _sparse as sp
from ..backends import primitives
from ..base import BaseEstimator, RegressorMixin
from ..exceptions import IllConditionedWarning
from ._base import (
    SPARSE_GRAM_MAX_FEATURES,
    LinearModel,
    _as_target_matrix,
    _gram_normal_equations,
    _intercept,
    _normal_equations,
    _positive_solve,
    _sparse_cg,
    _sparse_normal_equations,
    _validate_fit,
)

__all__ = ["LinearRegression"]


def _eigen_cutoff(e: Any, size: int, *, xp: Any) -> float:
    """Eigenvalues below this are treated as zero (same rule as ``solve_spd``'s fallback)."""
    return float(xp.max(xp.abs(e))) * size * float(xp.finfo(e.dtype).eps)


def _pinv_solve(e: Any, V: Any, rhs: Any, cutoff: float, alpha: Any = 0.0, *, xp: Any) -> Any:
    """``V diag(1 / (e + alpha)) V.T rhs``, with eigen-directions at or below ``cutoff`` dropped.

    ``alpha`` is a float or an array of shape (n_targets,) (one ridge penalty per column of ``rhs``).
    """
    vec = rhs.ndim == 1
    R = rhs[:, None] if vec else rhs
    den = e[:, None] + (alpha[None, :] if hasattr(alpha, "shape") else alpha)
    keep = den > cutoff
    inv = xp.where(keep, 1.0 / xp.where(keep, den, xp.ones_like(den)), xp.zeros_like(den))
    out = V @ (inv * (V.T @ R))
    return out[:, 0] if vec else out


class LinearRegression(LinearModel, RegressorMixin, BaseEstimator):
    """Ordinary least squares, solved through the Gram matrix on the data's own backend.

    Minimizes ``||y - X w - b||^2`` (weighted by ``sample_weight``). A drop-in
    for :class:`sklearn.linear_model.LinearRegression`.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit the intercept ``b``; if False the data is assumed centered.
    copy_X : bool, default=True
        Accepted for compatibility; toolbox never modifies ``X``.
    tol : float, default=1e-6
        Accepted for compatibility (scikit-learn uses it for sparse input only).
    n_jobs : int, default=None
        Accepted for compatibility; parallelism comes from the backend's BLAS.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (non-negative least squares, solved
        exactly on the normal equations; dense ``X`` only, as in scikit-learn).

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        On the backend and device of the training data, in its floating dtype.
        2-D when ``y`` was 2-D.
    intercept_ : float or array of shape (n_targets,)
        A Python float when ``y`` was 1-D (as scikit-learn), else an array like ``coef_``.
    rank_ : int
        Numerical rank of the (centered, weighted) ``X``. Not set with ``positive=True``
        (as scikit-learn).
    singular_ : array of shape (min(n_samples, n_features),)
        Singular values of the centered ``X``, largest first, computed as square roots of
        the Gram matrix's eigenvalues (so values below ``sqrt(eps) * max`` are inexact).
        Not set with ``positive=True``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    The normal equations ``(X.T X) w = X.T y`` are built with one BLAS product
    (``primitives.gram``; ``X X.T`` when ``n_samples < n_features``) and solved by
    Cholesky (``primitives.solve_spd``). Rank-deficient ``X`` is a legitimate input here:
    the minimum-norm solution is computed from the Gram matrix's eigendecomposition
    (eigenvalues below ``size * eps * max`` count as zero, i.e. singular values below about
    ``sqrt(size * eps)`` times the largest), and ``IllConditionedWarning`` is not issued.
    Squaring the condition number makes this less accurate than scikit-learn's SVD-based
    ``lstsq`` when ``X`` is nearly (but not exactly) singular.

    With ``positive=True`` the ``(d, d)`` normal equations (built the same way, on the data's
    device) are solved on the host by the Lawson-Hanson active-set method (SciPy's ``nnls``
    on a square root of ``X.T X``), which is exact: scikit-learn runs the same algorithm on
    ``X`` itself.
    """

    _accepts_sparse = True

    def __init__(self, *, fit_intercept: bool = True, copy_X: bool = True, tol: float = 1e-6,
                 n_jobs: int | None = None, positive: bool = False) -> None:
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.tol = tol
        self.n_jobs = n_jobs
        self.positive = positive

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        positive = bool(self.positive)
        if positive and sp.is_sparse(X):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required. Use '.toarray()' to convert to a "
                "dense array: LinearRegression(positive=True) needs dense X, as in scikit-learn (Ridge("
                "positive=True) takes sparse X)."
            )
        v = _validate_fit(self, X, y, sample_weight, regressor=True, accept_sparse=True)
        xp, dtype, device = v.xp, v.X.dtype, v.compute.device
        y = _as_target_matrix(v.y, dtype, xp=xp)
        if positive:
            ne = _gram_normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
            coef = _positive_solve(ne, y, v.sample_weight, 0.0, solver="nnls", tol=float(self.tol), max_iter=None,
                                   compute=v.compute, dtype=dtype)
            coef = coef[0, :] if y.ndim == 1 else coef
            self.intercept_ = _intercept(coef, ne.X_offset, ne.y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                         device=device)
            self.coef_ = coef
            for name in ("rank_", "singular_"):  # a refit must not keep the unconstrained fit's
                self.__dict__.pop(name, None)
            return self
        if sp.is_sparse(v.X) and v.X.shape[1] > SPARSE_GRAM_MAX_FEATURES:
            coef, X_offset, y_offset, _ = _sparse_cg(v.X, y, v.sample_weight, 0.0, fit_intercept=self.fit_intercept,
                                                     tol=float(self.tol), max_iter=None, xp=xp)
            self.intercept_ = _intercept(coef, X_offset, y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                         device=device)
            self.coef_ = coef
            return self
        if sp.is_sparse(v.X):
            ne = _sparse_normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
        else:
            ne = _normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
        A, rhs = ne.A, ne.rhs
        e = xp.linalg.eigvalsh(A)
        size = A.shape[0]
        cutoff = _eigen_cutoff(e, size, xp=xp)
        rank = int(xp.sum(xp.astype(e > cutoff, xp.int32)))
        singular = xp.flip(xp.sqrt(xp.where(e > 0, e, xp.zeros_like(e))))
        if rank == size:
            with warnings.catch_warnings():
                # Nearly singular but above the rank cutoff: solve_spd's minimum-norm fallback is
                # the intended answer here, so its warning is noise.
                warnings.simplefilter("ignore", IllConditionedWarning)
                sol = primitives.solve_spd(A, rhs, xp=xp)
        else:
            e, V = xp.linalg.eigh(A)
            sol = _pinv_solve(e, V, rhs, cutoff, xp=xp)
        coef = ne.Xs.T @ sol if ne.wide else sol
        coef = coef.T if coef.ndim == 2 else coef
        self.intercept_ = _intercept(coef, ne.X_offset, ne.y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                     device=device)
        self.coef_, self.rank_, self.singular_ = coef, rank, singular
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = not self.positive
        return tags

"""Ridge regression (L2-penalized least squares): ``Ridge``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..backends import _sparse as sp
from ..backends import framework_of, primitives, to_backend
from ..base import BaseEstimator, RegressorMixin
from ._base import (
    SPARSE_GRAM_MAX_FEATURES,
    LinearModel,
    _as_target_matrix,
    _check_int,
    _check_option,
    _check_real,
    _gram_normal_equations,
    _intercept,
    _normal_equations,
    _positive_solve,
    _reject_positive,
    _sparse_cg,
    _sparse_normal_equations,
    _validate_fit,
)
from ._least_squares import _eigen_cutoff, _pinv_solve

__all__ = ["Ridge"]

_SOLVERS = ("auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga", "lbfgs")


class Ridge(LinearModel, RegressorMixin, BaseEstimator):
    """Linear least squares with L2 regularization, on the data's own backend.

    Minimizes ``||y - X w - b||^2 + alpha * ||w||^2`` (squared errors weighted by
    ``sample_weight``; the intercept is not penalized). A drop-in for
    :class:`sklearn.linear_model.Ridge`.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Regularization strength, ``>= 0``; one value per target when an array.
    fit_intercept : bool, default=True
    copy_X : bool, default=True
        Accepted for compatibility; toolbox never modifies ``X``.
    max_iter, tol : int or None, float
        Used by ``solver='lbfgs'`` (``positive=True``) only, as L-BFGS-B's iteration limit and
        tolerance; every other solver computes the exact solution (below).
    solver : {'auto', 'svd', 'cholesky', 'lsqr', 'sparse_cg', 'sag', 'saga', 'lbfgs'}, default='auto'
        Accepted for compatibility; without ``positive`` all give the same (exact) solution
        through the Gram matrix and Cholesky. ``'lbfgs'`` requires ``positive=True``, and
        ``positive=True`` requires ``'auto'`` or ``'lbfgs'``, as in scikit-learn.
    positive : bool, default=False
        Constrain the coefficients to be non-negative. ``solver='auto'`` solves the problem
        exactly (active set); ``solver='lbfgs'`` runs L-BFGS-B with bounds as scikit-learn
        does (``tol``, ``max_iter``; ``ConvergenceWarning`` when it stops early).
    random_state : accepted for compatibility.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        On the training data's backend and device; 2-D when ``y`` had two or more columns.
    intercept_ : float or array of shape (n_targets,)
        A Python float when ``y`` was 1-D (as scikit-learn), else an array.
    n_iter_ : None
        No iterative solver is used (also with ``solver='lbfgs'``, as scikit-learn).
    solver_ : str
        ``"cholesky"``; with ``positive=True``, ``"nnls"`` (the exact active-set solver used for
        ``solver='auto'``) or ``"lbfgs"``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)

    Notes
    -----
    ``(X.T X + alpha I) w = X.T y`` is built with one BLAS product
    (``primitives.gram``) and solved by Cholesky (``primitives.solve_spd``); with
    ``n_samples < n_features`` the kernel form ``w = X.T (X X.T + alpha I)^-1 y`` is used.
    A singular system (``alpha=0`` with rank-deficient ``X``) gives the minimum-norm
    solution with an ``IllConditionedWarning``. Per-target ``alpha`` uses one
    eigendecomposition for all targets.

    With ``positive=True`` the ``(d, d)`` normal equations (also for wide or sparse ``X``:
    built on the data's device) go to the host once; ``solver='auto'`` solves them exactly by
    the Lawson-Hanson active-set method (SciPy's ``nnls`` on the Cholesky factor of
    ``X.T X + alpha I``), ``solver='lbfgs'`` by L-BFGS-B on the same objective as
    scikit-learn's.
    """

    _accepts_sparse = True

    def __init__(self, alpha: Any = 1.0, *, fit_intercept: bool = True, copy_X: bool = True,
                 max_iter: int | None = None, tol: float = 1e-4, solver: str = "auto",
                 positive: bool = False, random_state: Any = None) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def _check_params(self, n_targets: int, *, positive_supported: bool = False) -> Any:
        _check_option(self.solver, "solver", _SOLVERS, estimator=self)
        if not positive_supported:
            _reject_positive(self)
        if self.solver == "lbfgs" and not self.positive:
            raise ValueError("'lbfgs' solver can be used only when positive=True. Please use another solver.")
        if self.positive and self.solver not in ("auto", "lbfgs"):
            raise ValueError(
                f"solver='{self.solver}' does not support positive fitting. Please set the solver to 'auto' or "
                "'lbfgs', or set `positive=False`"
            )
        if self.max_iter is not None:
            _check_int(self.max_iter, "max_iter", estimator=self, low=1)
        _check_real(self.tol, "tol", estimator=self, low=0.0)
        if isinstance(self.alpha, numbers.Real) and not isinstance(self.alpha, bool):
            return _check_real(self.alpha, "alpha", estimator=self, low=0.0)
        raw = to_backend(self.alpha, "numpy") if framework_of(self.alpha) is not None else self.alpha
        alpha = np.asarray(raw, dtype=np.float64).reshape(-1)
        if alpha.size == 1:
            return _check_real(float(alpha[0]), "alpha", estimator=self, low=0.0)
        if alpha.size != n_targets:
            raise ValueError(
                f"Number of targets and number of penalties do not correspond: {alpha.size} != {n_targets}. "
                "Ridge takes one alpha, or one per target (column of y)."
            )
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError(f"Ridge: every alpha must be a finite number >= 0, got {alpha.tolist()}.")
        return alpha

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        v = _validate_fit(self, X, y, sample_weight, regressor=True, accept_sparse=True)
        xp, dtype, device = v.xp, v.X.dtype, v.compute.device
        y = _as_target_matrix(v.y, dtype, xp=xp)
        alpha = self._check_params(1 if y.ndim == 1 else int(y.shape[1]), positive_supported=True)
        if self.positive:
            return self._fit_positive(v, y, alpha)
        if sp.is_sparse(v.X) and v.X.shape[1] > SPARSE_GRAM_MAX_FEATURES:
            coef, X_offset, y_offset, n_iter = _sparse_cg(v.X, y, v.sample_weight, alpha,
                                                          fit_intercept=self.fit_intercept, tol=float(self.tol),
                                                          max_iter=self.max_iter, xp=xp)
            self.intercept_ = _intercept(coef, X_offset, y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                         device=device)
            self.coef_ = coef[0, :] if coef.ndim == 2 and coef.shape[0] == 1 else coef
            self.n_iter_ = np.asarray([n_iter], dtype=np.int32)
            self.solver_ = "sparse_cg"
            return self
        if sp.is_sparse(v.X):
            ne = _sparse_normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
        else:
            ne = _normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
        A, rhs = ne.A, ne.rhs
        if isinstance(alpha, float):
            if alpha:
                A = A + alpha * xp.eye(A.shape[0], dtype=dtype, device=device)
            sol = primitives.solve_spd(A, rhs, xp=xp)
        else:
            e, V = xp.linalg.eigh(A)
            a = xp.asarray(alpha, dtype=dtype, device=device)
            sol = _pinv_solve(e, V, rhs, _eigen_cutoff(e, A.shape[0], xp=xp), a, xp=xp)
        coef = ne.Xs.T @ sol if ne.wide else sol
        coef = coef.T if coef.ndim == 2 else coef
        self.intercept_ = _intercept(coef, ne.X_offset, ne.y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                     device=device)
        # as scikit-learn: y of shape (n_samples, 1) gives coef_ (n_features,), intercept_ (1,)
        self.coef_ = coef[0, :] if coef.ndim == 2 and coef.shape[0] == 1 else coef
        self.n_iter_ = None
        self.solver_ = "cholesky"
        return self

    def _fit_positive(self, v: Any, y: Any, alpha: Any) -> Ridge:
        """``positive=True``: the ``(d, d)`` normal equations, solved with ``w >= 0`` (see Notes)."""
        xp, dtype, device = v.xp, v.X.dtype, v.compute.device
        d = int(v.X.shape[1])
        if sp.is_sparse(v.X) and d > SPARSE_GRAM_MAX_FEATURES:
            raise ValueError(
                f"Ridge(positive=True) on sparse X solves the (n_features, n_features) normal equations, so it "
                f"takes at most {SPARSE_GRAM_MAX_FEATURES} features; X has {d}. Select features first, or fit "
                "with positive=False."
            )
        ne = _gram_normal_equations(v.X, y, v.sample_weight, fit_intercept=self.fit_intercept, xp=xp)
        solver = "lbfgs" if self.solver == "lbfgs" else "nnls"
        coef = _positive_solve(ne, y, v.sample_weight, alpha, solver=solver, tol=float(self.tol),
                               max_iter=self.max_iter, compute=v.compute, dtype=dtype)
        coef = coef[0, :] if y.ndim == 1 else coef
        self.intercept_ = _intercept(coef, ne.X_offset, ne.y_offset, single=y.ndim == 1, xp=xp, dtype=dtype,
                                     device=device)
        self.coef_ = coef[0, :] if coef.ndim == 2 and coef.shape[0] == 1 else coef
        self.n_iter_ = None
        self.solver_ = solver
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

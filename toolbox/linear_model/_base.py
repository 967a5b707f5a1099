"""Shared pieces of the linear models: parameter checks, centering, the linear predictor."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..backends import _sparse as sp
from ..backends import primitives, to_backend
from ..base import check_is_fitted, validate_data

__all__: list[str] = []


# --------------------------------------------------------------------------- #
# Parameter checks (clear messages naming the parameter and what is allowed)
# --------------------------------------------------------------------------- #


def _check_real(value: Any, name: str, *, estimator: Any, low: float | None = None,
                low_open: bool = False, high: float | None = None, allow_inf: bool = False) -> float:
    """``value`` as a float, or a ValueError naming ``name`` and the allowed range."""
    est = type(estimator).__name__
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{est}: {name} must be a real number, got {value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{est}: {name} must be a finite number, got {value!r}.")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{est}: {name} must be {'>' if low_open else '>='} {low:g}, got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{est}: {name} must be <= {high:g}, got {value!r}.")
    return value


def _check_int(value: Any, name: str, *, estimator: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{type(estimator).__name__}: {name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _check_option(value: Any, name: str, options: tuple[Any, ...], *, estimator: Any) -> Any:
    if value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{type(estimator).__name__}: {name} must be one of {allowed}; got {value!r}.")
    return value


def _reject_positive(estimator: Any) -> None:
    """``positive=True`` on the paths that do not implement it (toolbox.dask's normal equations)."""
    if getattr(estimator, "positive", False):
        raise NotImplementedError(
            f"{type(estimator).__name__}(positive=True) is not implemented in toolbox for Dask arrays; fit it on "
            "an in-memory array (NumPy, torch, JAX, CuPy), where non-negative coefficients are supported."
        )


def _check_squares(X: Any, *, estimator: Any, xp: Any) -> None:
    """Refuse values whose squares overflow: the solvers work on ``X.T @ X`` (and its Hessian)."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return
    limit = math.sqrt(float(xp.finfo(X.dtype).max) / max(1, int(X.shape[0])))
    if sp.is_sparse(X):
        if sp.max_abs(X) <= limit:  # the common case, without a copy of the entries
            return
    elif max(float(xp.max(X)), -float(xp.min(X))) <= limit:  # two reductions, no |X| temporary
        return
    top = sp.column_max_abs(X) if sp.is_sparse(X) else xp.max(xp.abs(X), axis=0)
    j = int(xp.argmax(top))
    biggest = float(top[j])
    if biggest > limit:
        raise ValueError(
            f"{type(estimator).__name__}: X column {j} has values up to {biggest:.3g}, whose squares "
            f"overflow {X.dtype} (X.T @ X would be infinite){getattr(estimator, '_overflow_note', '')}. Rescale "
            "the features first, e.g. divide X by a constant."
        )


def _check_fits_dtype(y: Any, dtype: Any, *, estimator: Any, xp: Any) -> None:
    """Refuse targets that overflow the dtype the fit computes in (X's: float32 for float32 X)."""
    if y is None or y.shape[0] == 0 or y.dtype == dtype:
        return
    biggest = float(xp.max(xp.abs(y)))
    if biggest > float(xp.finfo(dtype).max):
        raise ValueError(
            f"{type(estimator).__name__}: y has values up to {biggest:.3g}, which overflow {dtype}, the "
            f"floating dtype of X that the fit computes in. Pass X as float64, or rescale y."
        )


def _validate_fit(estimator: Any, X: Any, y: Any, sample_weight: Any, *, regressor: bool,
                  accept_sparse: bool = False) -> Any:
    """``validate_data`` for ``fit``: y is required, sample weights need a positive sum."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None.")
    if regressor and isinstance(y, np.ndarray) and y.dtype.kind == "O":
        # toolbox.base._check_y refuses NumPy object arrays for numeric targets even when they
        # hold numbers; convert those here (strings still get validate_data's clear error).
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if sample_weight is not None:
        ndim = getattr(sample_weight, "ndim", None)
        if ndim is None and isinstance(sample_weight, (list, tuple)):
            ndim = np.ndim(np.asarray(sample_weight, dtype=object))
        if ndim is not None and ndim > 1:
            raise ValueError(
                f"Sample weights must be 1D array or scalar; {type(estimator).__name__} got sample_weight of "
                f"shape {tuple(np.shape(sample_weight))}."
            )
    v = validate_data(estimator, X, y, reset=True, sample_weight=sample_weight, y_numeric=regressor,
                      multi_output=regressor, accept_sparse=accept_sparse)
    _check_squares(v.X, estimator=estimator, xp=v.xp)
    if regressor:
        _check_fits_dtype(v.y, v.X.dtype, estimator=estimator, xp=v.xp)
    if v.sample_weight is not None:
        total = float(v.xp.sum(v.sample_weight))
        if not total > 0:
            raise ValueError(
                f"{type(estimator).__name__}: sample_weight must contain at least one non-zero (positive) "
                f"weight; the weights sum to {total!r}."
            )
    return v


# --------------------------------------------------------------------------- #
# Centering and weighting
# --------------------------------------------------------------------------- #


def _preprocess(X: Any, y: Any, sample_weight: Any, *, fit_intercept: bool, xp: Any
                ) -> tuple[Any, Any, Any, Any]:
    """Center ``X`` and ``y`` (weighted means) and scale rows by ``sqrt(sample_weight)``.

    After this, the weighted least-squares problem with intercept is the plain
    problem ``min ||ys - Xs w||^2`` on the returned arrays. ``X`` is copied at
    most once; it is never modified.

    Parameters
    ----------
    X : array of shape (n_samples, n_features), floating
    y : array of shape (n_samples,) or (n_samples, n_targets), dtype of X
    sample_weight : array of shape (n_samples,) or None

    Returns
    -------
    Xs, ys : arrays of the input shapes
    X_offset : array of shape (n_features,) or None (without intercept)
    y_offset : array of shape () or (n_targets,) or None
    """
    if fit_intercept:
        if sample_weight is None:
            X_offset = xp.mean(X, axis=0)
            y_offset = xp.mean(y, axis=0)
        else:
            total = xp.sum(sample_weight)
            X_offset = (sample_weight @ X) / total
            y_offset = (sample_weight @ y) / total
        X = X - X_offset
        y = y - y_offset
    else:
        X_offset = y_offset = None
    if sample_weight is not None:
        root = xp.sqrt(sample_weight)
        X = X * root[:, None]
        y = y * (root if y.ndim == 1 else root[:, None])
    return X, y, X_offset, y_offset


def _intercept(coef: Any, X_offset: Any, y_offset: Any, *, single: bool, xp: Any, dtype: Any,
               device: Any) -> Any:
    """``y_offset - X_offset @ coef.T``: a float (``np.float64``, as scikit-learn) for one target, else an
    array (n_targets,).

    Raises ValueError when the coefficients or the intercept are not finite: the
    solution overflows ``dtype`` (columns of X and y spanning too many orders
    of magnitude), and predicting with it would give inf or NaN.
    """
    if X_offset is None:
        value = np.float64(0.0) if single else xp.zeros(coef.shape[0], dtype=dtype, device=device)
    else:
        value = y_offset - coef @ X_offset
        value = np.float64(float(value)) if single else value
    if not (bool(xp.all(xp.isfinite(coef))) and bool(xp.all(xp.isfinite(xp.asarray(value, device=device))))):
        raise ValueError(
            f"The fitted coefficients overflow {dtype}: the columns of X and y span too many orders of magnitude "
            "for the least-squares solution to be representable. Rescale X's columns (e.g. StandardScaler) "
            "and y first.")
    return value


class NormalEquations:
    """The least-squares problem reduced to its normal equations ``A w = rhs``.

    Tall data (``wide=False``): ``A = Xs.T @ Xs`` (d, d) and ``rhs = Xs.T @ ys``, where
    ``Xs, ys`` are the centred (and ``sqrt(sample_weight)``-scaled) data; ``Xs`` is None
    when it was never formed. Wide data (``wide=True``): ``A = Xs @ Xs.T`` (n, n),
    ``rhs = ys``, and ``w = Xs.T @ solution``.
    """

    __slots__ = ("A", "X_offset", "Xs", "rhs", "wide", "y_offset")

    def __init__(self, A: Any, rhs: Any, Xs: Any, wide: bool, X_offset: Any, y_offset: Any) -> None:
        self.A, self.rhs, self.Xs, self.wide = A, rhs, Xs, wide
        self.X_offset, self.y_offset = X_offset, y_offset


def _normal_equations(X: Any, y: Any, sample_weight: Any, *, fit_intercept: bool, xp: Any) -> NormalEquations:
    """Centre (and weight) the data and build the normal equations with one BLAS pass over ``X``.

    Tall, unweighted data with an intercept never forms a centred copy of ``X``
    (:func:`~toolbox.backends.primitives.centered_gram`); the other cases centre with
    :func:`_preprocess` (one copy at most).

    Parameters
    ----------
    X : array (n_samples, n_features), floating
    y : array (n_samples,) or (n_samples, n_targets), dtype of X
    sample_weight : array (n_samples,) or None
    """
    n, d = int(X.shape[0]), int(X.shape[1])
    if fit_intercept and sample_weight is None and n >= d:
        A, rhs, X_offset, y_offset = primitives.centered_gram(X, y, xp=xp)
        return NormalEquations(A, rhs, None, False, X_offset, y_offset)
    Xs, ys, X_offset, y_offset = _preprocess(X, y, sample_weight, fit_intercept=fit_intercept, xp=xp)
    wide = n < d
    if wide:
        return NormalEquations(primitives.gram(Xs.T, xp=xp), ys, Xs, True, X_offset, y_offset)
    return NormalEquations(primitives.gram(Xs, xp=xp), Xs.T @ ys, Xs, False, X_offset, y_offset)


#: Sparse ``X`` with at most this many features is solved through its dense (d, d) Gram matrix
#: ``X.T @ X`` (exact, like the dense path); wider sparse data with an iterative solver that only
#: multiplies by ``X`` and ``X.T`` (memory proportional to the stored entries).
SPARSE_GRAM_MAX_FEATURES = 4096


def _sparse_normal_equations(X: Any, y: Any, sample_weight: Any, *, fit_intercept: bool,
                             xp: Any) -> NormalEquations:
    """:func:`_normal_equations` for sparse ``X``: centred implicitly, ``X`` is never densified.

    ``A = X.T W X - sum(w) * m m.T`` and ``rhs = X.T W y - sum(w) * m * y_mean`` with ``m`` the
    weighted column means: the normal equations of the centred problem, from one sparse
    product. ``Xs`` is None (there is no centred copy).
    """
    n = int(X.shape[0])
    Xw = X if sample_weight is None else sp.scale_rows(X, sample_weight)
    A = sp.gram(X, Xw)
    rhs = sp.rmatmul(Xw, y)
    if not fit_intercept:
        return NormalEquations(A, rhs, None, False, None, None)
    total = float(n) if sample_weight is None else xp.sum(sample_weight)
    X_offset = sp.column_sums(X, sample_weight) / total
    y_offset = (xp.sum(y, axis=0) if sample_weight is None else sample_weight @ y) / total
    A = A - total * (X_offset[:, None] * X_offset[None, :])
    rhs = rhs - total * (X_offset * y_offset if y.ndim == 1 else X_offset[:, None] * y_offset[None, :])
    return NormalEquations(A, rhs, None, False, X_offset, y_offset)


def _gram_normal_equations(X: Any, y: Any, sample_weight: Any, *, fit_intercept: bool,
                           xp: Any) -> NormalEquations:
    """The normal equations in their ``(d, d)`` form ``X.T X w = X.T y``, also for wide or sparse ``X``.

    The non-negative solvers (``positive=True``) need the feature-space problem; the kernel
    form :func:`_normal_equations` uses for wide data does not carry the constraint.
    """
    if sp.is_sparse(X):
        return _sparse_normal_equations(X, y, sample_weight, fit_intercept=fit_intercept, xp=xp)
    if int(X.shape[0]) >= int(X.shape[1]):
        return _normal_equations(X, y, sample_weight, fit_intercept=fit_intercept, xp=xp)
    Xs, ys, X_offset, y_offset = _preprocess(X, y, sample_weight, fit_intercept=fit_intercept, xp=xp)
    return NormalEquations(primitives.gram(Xs, xp=xp), Xs.T @ ys, Xs, False, X_offset, y_offset)


def _positive_solve(ne: NormalEquations, y: Any, sample_weight: Any, alpha: Any, *, solver: str,
                    tol: float, max_iter: int | None, compute: Any, dtype: Any) -> Any:
    """Non-negative coefficients from the ``(d, d)`` normal equations ``ne``; ``(n_targets, d)``.

    ``solver``: ``"nnls"`` (exact active set) or ``"lbfgs"`` (L-BFGS-B, scikit-learn's
    ``Ridge(solver='lbfgs')``). ``alpha`` is a float or one value per target. The ``(d, d)``
    problem goes to the host once (float64) and the coefficients come back to ``compute``'s
    device in ``dtype``; ``X`` itself never moves. See :mod:`._nnls`.
    """
    from ._nnls import lbfgs_gram, nnls_gram

    xp = compute.xp
    G = np.asarray(to_backend(ne.A, "numpy"), dtype=np.float64)
    B = np.asarray(to_backend(ne.rhs, "numpy"), dtype=np.float64)
    B = B[:, None] if B.ndim == 1 else B
    k = int(B.shape[1])
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64).reshape(-1), (k,)).copy()
    G = 0.5 * (G + G.T)
    if solver == "lbfgs":
        yc = y - ne.y_offset if ne.y_offset is not None else y
        yc = yc[:, None] if yc.ndim == 1 else yc
        sq = yc * yc
        yy = xp.sum(sq, axis=0) if sample_weight is None else sample_weight @ sq
        yy = np.asarray(to_backend(yy, "numpy"), dtype=np.float64).reshape(-1)
        coef = lbfgs_gram(G, B, alphas, yy, tol=tol, max_iter=max_iter)
    else:
        coef = nnls_gram(G, B, alphas)
    return xp.astype(compute.asarray(coef), dtype)


def _sparse_cg(X: Any, y: Any, sample_weight: Any, alpha: Any, *, fit_intercept: bool, tol: float,
               max_iter: int | None, xp: Any) -> tuple[Any, Any, Any, int]:
    """Conjugate gradients on ``(Xc.T W Xc + alpha I) w = Xc.T W yc`` for sparse ``X``.

    ``Xc`` (the centred ``X``) is never formed: ``Xc v = X v - m.v`` and ``Xc.T u = X.T u - m sum(u)``
    (scikit-learn's ``sparse_cg`` with its implicit centring). Stops when the residual norm is at
    most ``tol`` times the right-hand side's. ``alpha`` is a float or one value per target.

    Returns ``(coef (n_targets, d) or (d,), X_offset, y_offset, n_iter)``.
    """
    n, d = int(X.shape[0]), int(X.shape[1])
    total = float(n) if sample_weight is None else xp.sum(sample_weight)
    if fit_intercept:
        m = sp.column_sums(X, sample_weight) / total
        y_offset = (xp.sum(y, axis=0) if sample_weight is None else sample_weight @ y) / total
        yc = y - y_offset
    else:
        m, y_offset, yc = None, None, y
    XT = sp.transpose(X)

    def xc(v: Any) -> Any:
        out = sp.matmul(X, v)
        return out - xp.sum(m * v) if m is not None else out

    def xct(u: Any) -> Any:
        out = sp.matmul(XT, u)
        return out - m * xp.sum(u) if m is not None else out

    Y = yc[:, None] if yc.ndim == 1 else yc
    alphas = [float(a) for a in np.broadcast_to(np.asarray(alpha, dtype=np.float64).reshape(-1), (Y.shape[1],))]
    limit = max_iter if max_iter is not None else 10 * d
    coefs, iters = [], 0
    for j in range(Y.shape[1]):
        a = alphas[j]
        u = Y[:, j] if sample_weight is None else sample_weight * Y[:, j]
        b = xct(u)

        def op(v: Any, a: float = a) -> Any:
            r = xc(v)
            r = r if sample_weight is None else sample_weight * r
            return xct(r) + a * v

        w = xp.zeros_like(b)
        r, bnorm = b, float(xp.sqrt(xp.sum(b * b)))
        p, rr = r, float(xp.sum(r * r))
        it = 0
        while it < limit and rr ** 0.5 > tol * bnorm and bnorm > 0:
            q = op(p)
            step = rr / float(xp.sum(p * q))
            w = w + step * p
            r = r - step * q
            rr_new = float(xp.sum(r * r))
            p = r + (rr_new / rr) * p
            rr = rr_new
            it += 1
        iters = max(iters, it)
        coefs.append(w)
    coef = coefs[0] if y.ndim == 1 else xp.stack(coefs, axis=0)
    return coef, m, y_offset, iters


# --------------------------------------------------------------------------- #
# Prediction
# --------------------------------------------------------------------------- #


class LinearModel:
    """``predict`` for regressors with ``coef_`` (n_features,) or (n_targets, n_features)
    and ``intercept_`` (a float, or an array of shape (n_targets,))."""

    def _decision(self, X: Any) -> tuple[Any, Any]:
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=getattr(self, "_accepts_sparse", False))
        (coef,) = self._fitted(v.compute, "coef_", dtype=v.X.dtype)  # type: ignore[attr-defined]
        if sp.is_sparse(v.X):
            out = sp.matmul(v.X, coef if coef.ndim == 1 else coef.T)
        else:
            out = v.X @ coef if coef.ndim == 1 else v.X @ coef.T
        if isinstance(self.intercept_, float):  # type: ignore[attr-defined]
            out = out + float(self.intercept_)  # type: ignore[attr-defined]
        else:
            (b,) = self._fitted(v.compute, "intercept_", dtype=v.X.dtype)  # type: ignore[attr-defined]
            out = out + b
        return out, v

    def predict(self, X: Any) -> Any:
        """Predict with the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        array of shape (n_samples,) or (n_samples, n_targets)
            Same library and device as ``X``, in ``X``'s floating dtype.
        """
        out, v = self._decision(X)
        return self._output(out, v.origin)  # type: ignore[attr-defined]


def _as_target_matrix(y: Any, dtype: Any, *, xp: Any) -> Any:
    return xp.astype(y, dtype) if y.dtype != dtype else y

"""L1 / L1+L2 penalized least squares: ``ElasticNet`` and ``Lasso``.

scikit-learn solves these by coordinate descent (``sklearn/linear_model/_coordinate_descent.py``),
a loop over features; toolbox minimizes the same objective with accelerated proximal gradient
(:mod:`._fista`) on the Gram matrix, which has no loop over features and is d x d work
per iteration after one BLAS pass over ``X``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..backends import _sparse as sp
from ..backends import framework_of, primitives
from ..base import BaseEstimator, RegressorMixin
from ._base import (
    SPARSE_GRAM_MAX_FEATURES,
    LinearModel,
    _as_target_matrix,
    _check_int,
    _check_option,
    _check_real,
    _intercept,
    _preprocess,
    _sparse_normal_equations,
    _validate_fit,
)
from ._fista import enet_fista

__all__ = ["ElasticNet", "Lasso"]


class ElasticNet(LinearModel, RegressorMixin, BaseEstimator):
    """Linear regression with combined L1 and L2 penalties, on the data's own backend.

    Minimizes scikit-learn's objective::

        1 / (2 * n_samples) * ||y - X w - b||^2 + alpha * l1_ratio * ||w||_1
            + 0.5 * alpha * (1 - l1_ratio) * ||w||^2

    (squared errors weighted by ``sample_weight`` rescaled to sum to ``n_samples``). A
    drop-in for :class:`sklearn.linear_model.ElasticNet`.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, ``>= 0``.
    l1_ratio : float, default=0.5
        Mixing parameter in ``[0, 1]``; 1 is the lasso.
    fit_intercept : bool, default=True
    precompute : bool, 'auto' or array of shape (n_features, n_features), default=False
        toolbox always works on the Gram matrix when ``n_samples >= n_features`` (and on ``X``
        otherwise, unless ``precompute=True``). A given Gram matrix ``X.T @ X`` is used
        when ``fit_intercept=False`` and no ``sample_weight`` is given, else recomputed
        with a warning (as scikit-learn).
    max_iter : int, default=1000
        Maximum number of FISTA iterations (scikit-learn counts coordinate-descent sweeps).
    copy_X : bool, default=True
        Accepted for compatibility; toolbox never modifies ``X``.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y||^2 / n_samples`` (scikit-learn's rule).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state, selection : accepted for compatibility
        ``selection`` must be ``'cyclic'`` or ``'random'``; neither affects the solver.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        On the training data's backend and device; 2-D when ``y`` had two or more columns.
    intercept_ : float or array of shape (n_targets,)
        A Python float when ``y`` was 1-D (as scikit-learn), else an array.
    n_iter_ : int or list of int
        FISTA iterations (one count per target for 2-D ``y``; targets are solved together).
    dual_gap_ : float or array of shape (n_targets,)
        Duality gap at the solution, divided by ``n_samples`` (as scikit-learn).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
    """

    _accepts_sparse = True

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 precompute: Any = False, max_iter: int = 1000, copy_X: bool = True, tol: float = 1e-4,
                 warm_start: bool = False, positive: bool = False, random_state: Any = None,
                 selection: str = "cyclic") -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _l1_ratio(self) -> float:
        return _check_real(self.l1_ratio, "l1_ratio", estimator=self, low=0.0, high=1.0)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, check_input: bool = True) -> ElasticNet:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
        check_input : bool, default=True
            Accepted for compatibility; inputs are always validated.

        Returns
        -------
        self
        """
        alpha = _check_real(self.alpha, "alpha", estimator=self, low=0.0)
        l1_ratio = self._l1_ratio()
        max_iter = _check_int(self.max_iter, "max_iter", estimator=self, low=1)
        tol = _check_real(self.tol, "tol", estimator=self, low=0.0)
        _check_option(self.selection, "selection", ("cyclic", "random"), estimator=self)
        gram_given = framework_of(self.precompute) is not None or hasattr(self.precompute, "__array__")
        if not gram_given:
            _check_option(self.precompute, "precompute", (True, False, "auto"), estimator=self)
        if alpha == 0:
            warnings.warn("With alpha=0, this algorithm does not converge well. You are advised to use the "
                          "LinearRegression estimator", UserWarning, stacklevel=2)

        v = _validate_fit(self, X, y, sample_weight, regressor=True, accept_sparse=True)
        xp, dtype, device = v.xp, v.X.dtype, v.compute.device
        y = _as_target_matrix(v.y, dtype, xp=xp)
        n, d = int(v.X.shape[0]), int(v.X.shape[1])
        sparse = sp.is_sparse(v.X)
        if sparse and d > SPARSE_GRAM_MAX_FEATURES:
            raise ValueError(
                f"{type(self).__name__} on sparse X works on its dense Gram matrix X.T @ X, so it takes at most "
                f"{SPARSE_GRAM_MAX_FEATURES} features; X has {d}. Select features first, or use "
                "toolbox.linear_model.Ridge (which multiplies by sparse X only) or scikit-learn's coordinate "
                "descent."
            )
        sw = v.sample_weight
        if sw is not None:
            total = float(xp.sum(sw))
            if not total > 0:
                raise ValueError(f"{type(self).__name__}: sample_weight must have a positive sum.")
            sw = sw * (n / total)
        k = 1 if y.ndim == 1 else int(y.shape[1])

        G = None
        if gram_given:
            if self.fit_intercept or sw is not None:
                warnings.warn("Gram matrix was provided but X was centered to fit intercept or normalized "
                              "by sample weights: recompute Gram.", UserWarning, stacklevel=2)
            else:
                G = v.compute.asarray(self.precompute)
                if tuple(G.shape) != (d, d):
                    raise ValueError(f"{type(self).__name__}: precompute (the Gram matrix) must have shape "
                                     f"({d}, {d}), got {tuple(G.shape)}.")
                G = xp.astype(G, dtype) / n
        use_gram = G is not None or n >= d or self.precompute is True or sparse
        if sparse:  # centred implicitly through the Gram matrix: X is never densified
            ne = _sparse_normal_equations(v.X, y, sw, fit_intercept=self.fit_intercept, xp=xp)
            A = G if G is not None else ne.A / n
            B = (ne.rhs[:, None] if ne.rhs.ndim == 1 else ne.rhs) / n
            X_offset, y_offset = ne.X_offset, ne.y_offset
            Y = y - y_offset if self.fit_intercept else y
            if sw is not None:
                Y = Y * (xp.sqrt(sw) if Y.ndim == 1 else xp.sqrt(sw)[:, None])
            Y = Y[:, None] if Y.ndim == 1 else Y
        elif use_gram and G is None and sw is None and self.fit_intercept:
            # one BLAS pass, no centred copy of X
            A, B, X_offset, y_offset = primitives.centered_gram(v.X, y, xp=xp)
            A, B = A / n, (B[:, None] if B.ndim == 1 else B) / n
            Y = y - y_offset
            Y = Y[:, None] if Y.ndim == 1 else Y
        else:
            Xs, ys, X_offset, y_offset = _preprocess(v.X, y, sw, fit_intercept=self.fit_intercept, xp=xp)
            Y = ys[:, None] if ys.ndim == 1 else ys
            if use_gram:
                A = G if G is not None else primitives.gram(Xs, xp=xp) / n
                B = Xs.T @ Y / n
            else:
                A, B = Xs, Y
        y2 = xp.sum(Y * Y, axis=0) / n

        W = xp.zeros((d, k), dtype=dtype, device=device)
        if self.warm_start and hasattr(self, "coef_"):
            (prev,) = self._fitted(v.compute, "coef_", dtype=dtype)
            prev = prev[None, :] if prev.ndim == 1 else prev
            if tuple(prev.shape) == (k, d):
                W = prev.T
        W, gap, n_iter = enet_fista(W, A, B, y2, n, alpha * l1_ratio, alpha * (1.0 - l1_ratio),
                                    gram=use_gram, positive=bool(self.positive), max_iter=max_iter, tol=tol,
                                    xp=xp)
        single = k == 1  # as scikit-learn, y of shape (n_samples, 1) also gives coef_ (n_features,)
        coef = W.T
        self.intercept_ = _intercept(coef, X_offset, y_offset, single=False, xp=xp, dtype=dtype,
                                     device=device)
        if y.ndim == 1:
            self.intercept_ = float(self.intercept_[0])
        self.coef_ = coef[0, :] if single else coef
        self.n_iter_ = n_iter if single else [n_iter] * k
        self.dual_gap_ = float(gap[0]) if single else gap
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty (the lasso), on the data's own backend.

    Minimizes ``1 / (2 * n_samples) * ||y - X w - b||^2 + alpha * ||w||_1``: an
    :class:`ElasticNet` with ``l1_ratio=1``. A drop-in for :class:`sklearn.linear_model.Lasso`;
    see :class:`ElasticNet` for the parameters, attributes and solver.
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, precompute: Any = False,
                 copy_X: bool = True, max_iter: int = 1000, tol: float = 1e-4, warm_start: bool = False,
                 positive: bool = False, random_state: Any = None, selection: str = "cyclic") -> None:
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept, precompute=precompute,
                         max_iter=max_iter, copy_X=copy_X, tol=tol, warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection)

    def _l1_ratio(self) -> float:
        return 1.0

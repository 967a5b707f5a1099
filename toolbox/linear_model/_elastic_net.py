"""L1 / L1+L2 penalized least squares: ``ElasticNet`` and ``Lasso``.

scikit-learn solves these by coordinate descent (``sklearn/linear_model/_coordinate_descent.py``),
a loop over features; toolbox minimizes the same objective with accelerated proximal gradient
(:mod:`._fista`) on the Gram matrix, which has no loop over features and is d x d work
per iteration after one BLAS pass over ``X``.
"""

from __future__ import annotations

import warnings
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
    _intercept,
    _preprocess,
    _sparse_normal_equations,
    _validate_fit,
)
from ._fista import _gap, enet_fista
from ._nnls import nnls_gram

__all__ = ["ElasticNet", "Lasso"]


def _is_centred(X: Any, sw: Any, *, xp: Any) -> bool:
    """Whether the (weighted) column means of dense ``X`` are all within 1e-8 of zero (``np.allclose``)."""
    mean = xp.mean(X, axis=0) if sw is None else (sw @ X) / xp.sum(sw)
    return bool(xp.all(xp.abs(mean) <= 1e-8))


def _check_given_gram(X: Any, G: Any, sw: Any, *, fit_intercept: bool, xp: Any) -> None:
    """scikit-learn's spot check of a user's Gram matrix: one off-diagonal element, recomputed from ``X``.

    ``G`` must be ``Xs.T @ Xs`` for ``Xs`` the centred (``fit_intercept``) ``X`` with rows scaled
    by ``sqrt(sample_weight)`` (weights rescaled to sum to ``n_samples``).
    """
    d = int(X.shape[1])
    f1 = d // 2
    f2 = min(f1 + 1, d - 1)
    cols = [X[:, f1], X[:, f2]]
    if fit_intercept:
        cols = [c - (xp.mean(c) if sw is None else xp.sum(sw * c) / xp.sum(sw)) for c in cols]
    if sw is not None:
        root = xp.sqrt(sw)
        cols = [c * root for c in cols]
    expected = float(xp.sum(cols[0] * cols[1]))
    actual = float(G[f1, f2])
    rtol = 1e-4 if xp.float32 in (X.dtype, G.dtype) else 1e-7
    if not abs(expected - actual) <= 1e-5 + rtol * abs(actual):
        raise ValueError(
            "Gram matrix passed in via 'precompute' parameter did not pass validation when a single element was "
            f"checked - please check that it was computed properly. For element ({f1},{f2}) we computed {expected} "
            f"but the user-supplied value was {actual}."
        )


def _ridge_solution(A: Any, B: Any, l2: float, *, gram: bool, positive: bool, compute: Any) -> Any:
    """The minimizer of ``1/(2n) ||Y - X W||^2 + l2/2 ||W||^2`` (``l2 > 0``), exactly; ``(d, n_targets)``.

    ``A``, ``B``: ``G = X.T X / n`` and ``X.T Y / n`` (``gram``), else ``X`` and ``Y``, where the
    kernel form ``X.T (X X.T / n + l2 I)^-1 Y / n`` needs an (n, n) system only. With ``positive``
    (``W >= 0``) the ``(d, d)`` problem is solved by the active-set method of :mod:`._nnls`.
    """
    xp = compute.xp
    if positive:
        G, q = (A, B) if gram else (primitives.gram(A, xp=xp) / A.shape[0], A.T @ B / A.shape[0])
        G = np.asarray(to_backend(G, "numpy"), dtype=np.float64)
        q = np.asarray(to_backend(q, "numpy"), dtype=np.float64)
        W = nnls_gram(0.5 * (G + G.T), q, np.full(q.shape[1], l2))
        return xp.astype(compute.asarray(W.T.copy()), A.dtype)
    if gram:
        return primitives.solve_spd(A + l2 * xp.eye(A.shape[0], dtype=A.dtype, device=A.device), B, xp=xp)
    n = A.shape[0]
    K = primitives.gram(A.T, xp=xp) / n + l2 * xp.eye(n, dtype=A.dtype, device=A.device)
    return A.T @ primitives.solve_spd(K, B / n, xp=xp)


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
        otherwise, unless ``precompute=True``). A given Gram matrix is used as scikit-learn
        does: it must be ``Xs.T @ Xs`` for ``Xs`` the (already centred, when
        ``fit_intercept``) ``X`` with rows scaled by ``sqrt(sample_weight)`` (weights rescaled
        to sum to ``n_samples``), and one element is spot-checked; it is recomputed, with a
        warning, when ``fit_intercept=True`` and ``X`` is not centred, and ignored for sparse ``X``.
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
        FISTA iterations (one count per target for 2-D ``y``; targets are solved together);
        1 for ``l1_ratio=0`` (a ridge problem, solved exactly: one Cholesky solve, or the
        active-set method with ``positive``).
    dual_gap_ : float or array of shape (n_targets,)
        Duality gap at the solution, divided by ``n_samples`` (as scikit-learn).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
    """

    _accepts_sparse = True
    #: added to the message refusing X whose squares overflow (see ``_base._check_squares``)
    _overflow_note = (", so the iterations would give non-finite coefficients (scikit-learn: 'Coordinate descent "
                      "iterations resulted in non-finite parameter values')")

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
            ``False`` skips the spot check of a given Gram matrix (``precompute``); inputs are
            always validated.

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
        if gram_given and not sparse:  # sparse X: a given Gram matrix is not used (as scikit-learn)
            if self.fit_intercept and not _is_centred(v.X, sw, xp=xp):
                warnings.warn("Gram matrix was provided but X was centered to fit intercept: recomputing Gram "
                              "matrix.", UserWarning, stacklevel=2)
            else:
                G = v.compute.asarray(self.precompute)
                if tuple(G.shape) != (d, d):
                    raise ValueError(f"{type(self).__name__}: precompute (the Gram matrix) must have shape "
                                     f"({d}, {d}), got {tuple(G.shape)}.")
                if check_input:
                    _check_given_gram(v.X, G, sw, fit_intercept=self.fit_intercept, xp=xp)
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
        l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
        if l1 == 0 and l2 > 0:
            # a ridge problem: its exact solution, as Ridge computes it (the gap by scikit-learn's formula)
            W = _ridge_solution(A, B, l2, gram=use_gram, positive=bool(self.positive), compute=v.compute)
            gap = _gap(W, A, B, y2, 0.0, l2, float(n), positive=bool(self.positive), gram=use_gram, kind="B",
                       xp=xp)
            n_iter = 1
        else:
            W, gap, n_iter = enet_fista(W, A, B, y2, n, l1, l2, gram=use_gram, positive=bool(self.positive),
                                        max_iter=max_iter, tol=tol, xp=xp)
        single = k == 1  # as scikit-learn, y of shape (n_samples, 1) also gives coef_ (n_features,)
        coef = W.T
        self.intercept_ = _intercept(coef, X_offset, y_offset, single=False, xp=xp, dtype=dtype,
                                     device=device)
        if y.ndim == 1:
            self.intercept_ = np.float64(float(self.intercept_[0]))
        self.coef_ = coef[0, :] if single else coef
        self.n_iter_ = n_iter if single else [n_iter] * k
        self.dual_gap_ = float(gap[0]) if single else gap
        return self

    @property
    def sparse_coef_(self) -> Any:
        """``coef_`` as a SciPy CSR matrix of shape (1, n_features) or (n_targets, n_features), on the host."""
        import scipy.sparse

        coef = np.asarray(to_backend(self.coef_, "numpy"))
        return scipy.sparse.csr_matrix(coef[None, :] if coef.ndim == 1 else coef)

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

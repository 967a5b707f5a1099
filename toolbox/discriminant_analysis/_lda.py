"""Linear Discriminant Analysis, written once against the Array API."""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

import numpy as np
import sklearn.base

from .._labels import encode_labels
from ..backends import Compute, Origin, jit, primitives, to_backend
from ..base import BaseEstimator, ClassifierMixin, TransformerMixin, check_is_fitted, validate_data

__all__ = ["LinearDiscriminantAnalysis"]

_SOLVERS = ("svd", "lsqr", "eigen")


# --------------------------------------------------------------------------- #
# covariance estimates (scikit-learn's _cov / _class_cov, without a loop over
# classes except for the Ledoit-Wolf shrinkage, which is per class)
# --------------------------------------------------------------------------- #


def _scale(var: Any, mean: Any, n: int, *, xp: Any) -> Any:
    """StandardScaler's ``scale_``: ``sqrt(var)`` with 1 for (near-)constant features."""
    eps = float(xp.finfo(var.dtype).eps)
    upper = n * eps * var + (n * mean * eps) ** 2
    scale = xp.sqrt(var)
    return xp.where((var <= upper) | (scale < 10 * eps), xp.ones_like(scale), scale)


def _ledoit_wolf_cov(Xc: Any, mean: Any, *, xp: Any) -> Any:
    """Covariance of centered ``Xc`` (n, d), shrunk by the Ledoit-Wolf lemma on standardized data.

    As scikit-learn's ``_cov(X, "auto")``: standardize, Ledoit-Wolf, rescale.
    ``mean`` is the mean that was subtracted (for the constant-feature test).
    """
    n, d = int(Xc.shape[0]), int(Xc.shape[1])
    C = primitives.gram(Xc, xp=xp) / n
    s = _scale(xp.linalg.diagonal(C), mean, n, xp=xp)
    R = C / (s[:, None] * s[None, :])  # covariance of the standardized data
    if d == 1:
        return s[:, None] * R * s[None, :]
    trace = xp.linalg.diagonal(R)
    mu = xp.sum(trace) / d
    row_sq = (Xc * Xc) @ (1.0 / (s * s))  # squared norms of the standardized rows
    beta_ = xp.sum(row_sq * row_sq)  # sum of (Z**2).T @ Z**2
    delta_ = xp.sum(R * R)
    beta = (beta_ / n - delta_) / (d * n)
    delta = (delta_ - 2.0 * mu * xp.sum(trace) + d * mu**2) / d
    beta = xp.minimum(beta, delta)
    shrink = xp.where(beta == 0, xp.zeros_like(beta), beta / xp.where(delta == 0, xp.ones_like(delta), delta))
    eye = xp.eye(d, dtype=C.dtype, device=C.device)
    R = (1.0 - shrink) * R + shrink * mu * eye
    return s[:, None] * R * s[None, :]


def _shrunk(C: Any, shrinkage: Any, *, xp: Any) -> Any:
    """``(1 - s) C + s * trace(C) / d * I`` (scikit-learn's ``shrunk_covariance``)."""
    if shrinkage is None:
        return C
    d = C.shape[0]
    mu = xp.sum(xp.linalg.diagonal(C)) / d
    return (1.0 - shrinkage) * C + shrinkage * mu * xp.eye(d, dtype=C.dtype, device=C.device)


def _total_cov(X: Any, shrinkage: Any, *, xp: Any) -> Any:
    """(Shrunk) covariance of all of ``X``: the total scatter."""
    mean = xp.mean(X, axis=0)
    Xc = X - mean
    if shrinkage == "auto":
        return _ledoit_wolf_cov(Xc, mean, xp=xp)
    return _shrunk(primitives.gram(Xc, xp=xp) / int(X.shape[0]), shrinkage, xp=xp)


def _within_cov(X: Any, y: Any, means: Any, priors: Any, counts: Any, shrinkage: Any, *, xp: Any) -> Any:
    """``sum_k priors[k] * C_k``, the class covariances ``C_k`` (biased, possibly shrunk).

    Without per-class shrinkage this is one weighted Gram matrix; fixed
    shrinkage is linear in ``C_k`` so it applies to the sum. Ledoit-Wolf
    shrinkage differs per class: the rows are sorted by class once and each
    class's block handled in turn.
    """
    Xc = X - xp.take(means, y, axis=0)
    if shrinkage != "auto":
        w = xp.take(priors / counts, y, axis=0)
        return _shrunk(primitives.gram(Xc * xp.sqrt(w)[:, None], xp=xp), shrinkage, xp=xp)
    order = xp.argsort(y, stable=True)
    Xs = xp.take(Xc, order, axis=0)
    sizes = [int(counts[i]) for i in range(int(counts.shape[0]))]
    S = None
    start = 0
    for k, size in enumerate(sizes):
        part = priors[k] * _ledoit_wolf_cov(Xs[start:start + size, ...], means[k, :], xp=xp)
        S = part if S is None else S + part
        start += size
    return S


def _estimated_cov(X: Any, estimator: Any, compute: Compute) -> Any:
    """``covariance_`` of a clone (or deep copy) of ``estimator`` (scikit-learn's covariance API) fitted on ``X`` (n, d).

    Covariance estimators (``sklearn.covariance.LedoitWolf``, ``OAS``, ...) run
    on NumPy: rows on another backend are moved to the host for them (counted
    in ``toolbox.transfer_stats()``), the (d, d) result back.
    """
    host = np.asarray(to_backend(X, "numpy"))
    try:
        est = sklearn.base.clone(estimator)
    except TypeError:  # not a scikit-learn estimator (no get_params): a private copy, never the caller's
        est = copy.deepcopy(estimator)
    est.fit(host)  # its return value is not used (scikit-learn reads the estimator's covariance_)
    if not hasattr(est, "covariance_"):
        raise ValueError(f"{type(estimator).__name__} does not have a covariance_ attribute")
    C = compute.asarray(np.asarray(est.covariance_, dtype=host.dtype))
    return compute.xp.astype(C, X.dtype) if C.dtype != X.dtype else C


def _within_cov_estimated(X: Any, y: Any, priors: Any, counts: Any, estimator: Any, compute: Compute) -> Any:
    """``sum_k priors[k] * C_k`` with each class covariance ``C_k`` from ``estimator``."""
    xp = compute.xp
    order = xp.argsort(y, stable=True)
    Xs = xp.take(X, order, axis=0)
    S, start = None, 0
    for k in range(int(counts.shape[0])):
        size = int(counts[k])
        part = priors[k] * _estimated_cov(Xs[start:start + size, ...], estimator, compute)
        S = part if S is None else S + part
        start += size
    return S


#: Bytes of ``X`` per chunk of the within-class passes (the centred rows of a chunk stay in cache).
WITHIN_CHUNK_BYTES = 1 << 21


def _within_std_and_gram(X: Any, y: Any, means: Any, *, xp: Any) -> tuple[Any, Any]:
    """Within-class standard deviations ``std`` (d,) and the Gram matrix (d, d) of
    ``Xc / (std * sqrt(n))``, with ``Xc = X - means[y]`` the within-class centred data.

    Two passes over row chunks of ``X``, each centring its rows on the fly (no centred copy of
    ``X``): the column maxima ``top`` of ``|Xc|``, then the sums, sums of squares and Gram
    matrix of ``Z = Xc / top``, rescaled at the end. Working on ``Z`` (entries at most 1) keeps
    the squares of 1e300-scaled features from overflowing and those of 1e-300-scaled ones from
    underflowing. The column means of ``Z`` are zero up to rounding (the rows are centred on
    their class means), so its variance ``E[Z**2] - E[Z]**2`` loses no digits.
    """
    n, d = int(X.shape[0]), int(X.shape[1])
    step = primitives.chunk_rows(n, d * primitives._itemsize(xp, X.dtype), WITHIN_CHUNK_BYTES)
    edges = [(a, min(a + step, n)) for a in range(0, n, step)]

    def centred(a: int, b: int) -> Any:
        return X[a:b, ...] - xp.take(means, y[a:b], axis=0)

    top = None
    for a, b in edges:
        m = xp.max(xp.abs(centred(a, b)), axis=0)
        top = m if top is None else xp.maximum(top, m)
    top = xp.where(top > 0, top, xp.ones_like(top))
    s1 = s2 = G = None
    for a, b in edges:
        Z = centred(a, b) / top
        parts = (xp.sum(Z, axis=0), xp.sum(Z * Z, axis=0), primitives.gram(Z, xp=xp))
        s1, s2, G = parts if G is None else (s1 + parts[0], s2 + parts[1], G + parts[2])
    mean = s1 / n
    std_z = xp.sqrt(xp.clip(s2 / n - mean * mean, min=0.0))
    std = std_z * top
    std = xp.where(std == 0, xp.ones_like(std), std)
    scale = top / (std * math.sqrt(n))  # Xc / (std sqrt(n)) = Z * scale
    return std, G * (scale[:, None] * scale[None, :])


def _generalized_eigh(A: Any, B: Any, *, xp: Any) -> tuple[Any, Any]:
    """Solve ``A v = w B v`` for symmetric ``A`` and positive definite ``B`` (``scipy.linalg.eigh(A, B)``).

    Eigenvalues ascending; eigenvectors normalized so that ``V.T @ B @ V = I``.
    Both matrices are first rescaled by ``sqrt(diag(B))`` (exact, and it keeps
    features of very different scales from spoiling the Cholesky factor),
    then reduced to a standard problem with the Cholesky factor of ``B``.
    """
    d = int(B.shape[0])
    scale = xp.sqrt(xp.linalg.diagonal(B))
    scale = xp.where(scale > 0, scale, xp.ones_like(scale))
    outer = scale[:, None] * scale[None, :]
    A, B = A / outer, B / outer
    try:
        L = xp.linalg.cholesky(B)
        diag = xp.linalg.diagonal(L)
        # JAX returns NaNs instead of raising; a tiny pivot means B is singular up to rounding
        rcond = float((xp.min(diag) / xp.max(diag)) ** 2)
        ok = math.isfinite(rcond) and rcond > d * float(xp.finfo(B.dtype).eps)
    except Exception:
        ok = False
    if not ok:
        raise np.linalg.LinAlgError(
            "The within-class covariance matrix is singular or not positive definite (collinear "
            "or constant features), so solver='eigen' cannot be used. Set shrinkage (e.g. 'auto') "
            "or use solver='svd'."
        )
    T = xp.linalg.solve(L, A)  # L^-1 A
    C = xp.linalg.solve(L, T.T)  # L^-1 A L^-T
    w, U = xp.linalg.eigh((C + C.T) / 2.0)
    return w, xp.linalg.solve(L.T, U) / scale[:, None]


def _lda_outputs(X: Any, coef: Any, intercept: Any, *, what: str, xp: Any) -> Any:
    """``decision``, predicted class ``index``, ``proba`` or ``log_proba`` of each row of ``X``.

    One compiled function per output on JAX.
    """
    scores = X @ coef.T + intercept
    binary = scores.shape[1] == 1
    if binary:
        scores = scores[:, 0]
    if what == "decision":
        return scores
    if what == "index":
        return xp.astype(scores > 0, xp.int32) if binary else xp.argmax(scores, axis=1)
    if binary:
        zero = xp.zeros_like(scores)
        # expit(-s), expit(s) without overflow; computing p0 directly rather than 1 - p1 keeps
        # tiny probabilities from rounding to 0 (scikit-learn's 1 - p1 gives 0 there)
        proba = xp.stack([xp.exp(-xp.logaddexp(zero, scores)), xp.exp(-xp.logaddexp(zero, -scores))], axis=1)
    else:
        proba = xp.exp(scores - primitives.logsumexp(scores, axis=1, keepdims=True, xp=xp))
    if what == "proba":
        return proba
    tiny = float(xp.finfo(proba.dtype).smallest_normal)
    return xp.log(xp.where(proba == 0, xp.full_like(proba, tiny), proba))


_lda_outputs = jit(_lda_outputs, static_argnames=("what",))


# --------------------------------------------------------------------------- #
# the estimator
# --------------------------------------------------------------------------- #


class LinearDiscriminantAnalysis(
    sklearn.base.ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
    """Linear Discriminant Analysis: Gaussian classes with a shared covariance, and Bayes' rule.

    A drop-in for :class:`sklearn.discriminant_analysis.LinearDiscriminantAnalysis`,
    computed on the data's own backend and device. Also a supervised
    dimensionality reduction (:meth:`transform`).

    Parameters
    ----------
    solver : {"svd", "lsqr", "eigen"}, default="svd"
        ``"svd"`` does not compute the covariance matrix. toolbox whitens the
        within-class scatter through the eigendecomposition of its (d, d) Gram
        matrix, one matrix product over the data, and falls back to the SVD
        of the data (scikit-learn's method) when the Gram matrix is too
        ill-conditioned to give the same answer. ``"lsqr"`` solves
        ``covariance_ @ coef_.T = means_.T`` by Cholesky on the correlation
        scale (a singular covariance gives the minimum-norm solution, as
        scikit-learn's ``lstsq``, with an ``IllConditionedWarning``);
        ``"eigen"`` solves the generalized eigenproblem of between- and
        within-class scatter (a singular within-class covariance raises, as in
        scikit-learn: use shrinkage).
    shrinkage : "auto", float in [0, 1] or None, default=None
        Covariance shrinkage for ``"lsqr"`` and ``"eigen"``: ``"auto"`` uses the
        Ledoit-Wolf lemma (per class, on standardized data).
    priors : array-like of shape (n_classes,), default=None
        Class priors; by default the class proportions. Renormalized (with a
        warning) when they do not sum to 1.
    n_components : int, default=None
        Dimensions kept by :meth:`transform`, at most ``min(n_classes - 1, n_features)``.
    store_covariance : bool, default=False
        Also compute ``covariance_`` with the ``"svd"`` solver.
    tol : float, default=1e-4
        Singular values of the scaled within-class data below ``tol`` are
        dropped (``"svd"`` only).
    covariance_estimator : estimator with ``fit`` and ``covariance_``, default=None
        With ``"lsqr"`` or ``"eigen"``: estimates each class covariance (and
        the total scatter) instead of the empirical one, e.g.
        ``sklearn.covariance.OAS()``; a clone is fitted per class, on NumPy
        (rows on another backend are moved to the host for it). Exclusive with
        ``shrinkage``.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_classes, n_features)
        Weight vectors; shape (1, n_features) for two classes.
    intercept_ : array of shape (n_classes,) or (1,)
    covariance_ : array of shape (n_features, n_features)
        Prior-weighted within-class covariance (``"lsqr"``, ``"eigen"``, or
        ``store_covariance=True``).
    explained_variance_ratio_ : array of shape (n_components,)
        Between-class variance explained by each component (``"svd"``, ``"eigen"``).
    means_ : array of shape (n_classes, n_features)
    priors_ : array of shape (n_classes,)
    scalings_ : array of shape (rank, n_classes - 1) for "svd", (n_features, n_features) for "eigen"
    xbar_ : array of shape (n_features,)
        Overall (prior-weighted) mean; ``"svd"`` only.
    classes_ : array of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)

    Notes
    -----
    Components of :meth:`transform` are defined up to sign; the signs may
    differ from scikit-learn's.
    """

    def __init__(
        self,
        solver: str = "svd",
        shrinkage: str | float | None = None,
        priors: Any = None,
        n_components: int | None = None,
        store_covariance: bool = False,
        tol: float = 1e-4,
        covariance_estimator: Any = None,
    ) -> None:
        self.solver = solver
        self.shrinkage = shrinkage
        self.priors = priors
        self.n_components = n_components
        self.store_covariance = store_covariance
        self.tol = tol
        self.covariance_estimator = covariance_estimator

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.solver not in _SOLVERS:
            raise ValueError(f"The 'solver' parameter of {name} must be one of {_SOLVERS}. Got {self.solver!r} instead.")
        s = self.shrinkage
        if not (s is None or s == "auto" or (isinstance(s, numbers.Real) and not isinstance(s, bool) and 0 <= s <= 1)):
            raise ValueError(
                f"The 'shrinkage' parameter of {name} must be 'auto', a float in the range [0, 1] "
                f"or None. Got {s!r} instead."
            )
        nc = self.n_components
        if nc is not None and (not isinstance(nc, numbers.Integral) or isinstance(nc, bool) or nc < 1):
            raise ValueError(
                f"The 'n_components' parameter of {name} must be an int in the range [1, inf) or None. "
                f"Got {nc!r} instead."
            )
        if not isinstance(self.tol, numbers.Real) or isinstance(self.tol, bool) or self.tol < 0:
            raise ValueError(f"The 'tol' parameter of {name} must be a float in the range [0, inf). Got {self.tol!r} instead.")
        if self.covariance_estimator is not None:
            if not hasattr(self.covariance_estimator, "fit"):
                raise ValueError(f"The 'covariance_estimator' parameter of {name} must be an object implementing "
                                 f"'fit' or None. Got {self.covariance_estimator!r} instead.")
            if self.solver == "svd":
                raise ValueError("covariance estimator is not supported with svd solver. Try another solver "
                                 "(solver='eigen' or 'lsqr').")
            if self.shrinkage is not None and self.shrinkage != 0:
                raise ValueError("covariance_estimator and shrinkage parameters are not None. Only one of the two "
                                 "can be set.")
        if self.solver == "svd" and self.shrinkage is not None:
            raise NotImplementedError("shrinkage not supported with 'svd' solver.")

    def fit(self, X: Any, y: Any) -> LinearDiscriminantAnalysis:
        """Fit the model on ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,)."""
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        for attr in ("covariance_", "xbar_", "scalings_", "explained_variance_ratio_"):
            self.__dict__.pop(attr, None)
        v = validate_data(self, X, y, reset=True, ensure_min_samples=2)
        xp, X = v.xp, v.X
        self.classes_, y_enc = encode_labels(v.y, compute=v.compute, estimator_name=type(self).__name__)
        n, d = int(X.shape[0]), int(X.shape[1])
        n_classes = int(self.classes_.shape[0])
        if n == n_classes:
            raise ValueError("The number of samples must be more than the number of classes.")
        ones = xp.ones((n,), dtype=X.dtype, device=v.compute.device)
        counts = primitives.segment_sum(ones, y_enc, n_classes, xp=xp)
        self.priors_ = self._check_priors(counts / n, n_classes, v.compute, X.dtype)
        max_components = min(n_classes - 1, d)
        if self.n_components is not None and self.n_components > max_components:
            raise ValueError(
                "n_components cannot be larger than min(n_features, n_classes - 1): got "
                f"n_components={self.n_components} with {d} features and {n_classes} classes."
            )
        self._max_components = max_components if self.n_components is None else int(self.n_components)
        self.means_ = primitives.segment_sum(X, y_enc, n_classes, xp=xp) / counts[:, None]
        if self.solver == "svd":
            self._solve_svd(X, y_enc, counts, xp=xp)
        else:
            if self.covariance_estimator is not None:
                self.covariance_ = _within_cov_estimated(X, y_enc, self.priors_, counts, self.covariance_estimator,
                                                         v.compute)
            else:
                self.covariance_ = _within_cov(X, y_enc, self.means_, self.priors_, counts, self.shrinkage, xp=xp)
            if self.solver == "lsqr":
                self._solve_lstsq(xp=xp)
            else:
                self._solve_eigen(X, v.compute)
        if n_classes == 2:  # binary: one decision function, for class 1
            self.coef_ = xp.reshape(self.coef_[1, :] - self.coef_[0, :], (1, -1))
            self.intercept_ = xp.reshape(self.intercept_[1] - self.intercept_[0], (1,))
        self._n_features_out = self._max_components
        return self

    def _check_priors(self, empirical: Any, n_classes: int, compute: Compute, dtype: Any) -> Any:
        xp = compute.xp
        if self.priors is None:
            return empirical
        priors = compute.asarray(np.asarray(self.priors, dtype=float) if isinstance(self.priors, (list, tuple))
                                 else self.priors)
        priors = xp.astype(xp.reshape(priors, (-1,)), dtype)
        if priors.shape[0] != n_classes:
            raise ValueError(f"Number of priors ({priors.shape[0]}) must match the number of classes ({n_classes}).")
        if bool(xp.any(priors < 0)):
            raise ValueError("priors must be non-negative")
        total = float(xp.sum(priors))
        if abs(total - 1.0) > 1e-5:
            warnings.warn(f"The priors do not sum to 1 (sum = {total:.6g}). Renormalizing", UserWarning,
                          stacklevel=3)
            priors = priors / total
        return priors

    # ------------------------------------------------------------------ #
    # solvers
    # ------------------------------------------------------------------ #

    def _solve_lstsq(self, *, xp: Any) -> None:
        # Solve covariance_ @ coef.T = means_.T on the correlation scale: features of very
        # different scales (wine, breast_cancer) otherwise make the system needlessly
        # ill-conditioned; the diagonal rescaling is exact.
        scale = xp.sqrt(xp.linalg.diagonal(self.covariance_))
        scale = xp.where(scale > 0, scale, xp.ones_like(scale))
        corr = self.covariance_ / (scale[:, None] * scale[None, :])
        z = primitives.solve_spd(corr, self.means_.T / scale[:, None], xp=xp)
        self.coef_ = (z / scale[:, None]).T
        self.intercept_ = -0.5 * xp.sum(self.means_ * self.coef_, axis=1) + xp.log(self.priors_)

    def _solve_eigen(self, X: Any, compute: Compute) -> None:
        xp = compute.xp
        Sw = self.covariance_
        total = (_estimated_cov(X, self.covariance_estimator, compute) if self.covariance_estimator is not None
                 else _total_cov(X, self.shrinkage, xp=xp))
        Sb = total - Sw
        evals, evecs = _generalized_eigh(Sb, Sw, xp=xp)
        evals, evecs = xp.flip(evals), xp.flip(evecs, axis=1)  # descending
        self.explained_variance_ratio_ = (evals / xp.sum(evals))[: self._max_components]
        self.scalings_ = evecs
        self.coef_ = (self.means_ @ evecs) @ evecs.T
        self.intercept_ = -0.5 * xp.sum(self.means_ * self.coef_, axis=1) + xp.log(self.priors_)

    def _within_scaled_svd(self, G: Any, X: Any, y: Any, std: Any, *, xp: Any) -> tuple[Any, Any]:
        """Singular values (descending) and right singular vectors of ``Xc / std / sqrt(n)``, with
        ``Xc = X - means_[y]`` and ``G`` (d, d) its Gram matrix (:func:`_within_std_and_gram`).

        From the eigendecomposition of ``G`` when that is accurate enough: every eigenvalue
        clearly on one side of ``tol**2`` (the rank is unambiguous) and the smallest kept one
        known to a relative ``sqrt(eps)``; otherwise from the SVD of the scaled data, as
        scikit-learn.
        """
        n, d = int(X.shape[0]), int(X.shape[1])
        w, V = xp.linalg.eigh(G)
        eps = float(xp.finfo(G.dtype).eps)
        noise = d * eps * xp.max(xp.abs(w))
        tol2 = float(self.tol) ** 2
        ambiguous = xp.any(xp.abs(w - tol2) <= noise)
        kept_min = xp.min(xp.where(w > tol2, w, xp.full_like(w, math.inf)))
        if not bool(ambiguous | (noise > math.sqrt(eps) * kept_min)):
            S = xp.sqrt(xp.clip(xp.flip(w), min=0.0))
            return S, xp.flip(V, axis=1).T
        Xc = X - xp.take(self.means_, y, axis=0)
        _, S, Vt = xp.linalg.svd(Xc / (std * math.sqrt(n)), full_matrices=False)
        return S, Vt

    def _no_discriminant(self, priors: Any, *, xp: Any) -> None:
        """No direction separates the classes (constant features): predict by the priors."""
        n_classes, d = int(self.means_.shape[0]), int(self.means_.shape[1])
        dtype, device = self.means_.dtype, self.means_.device
        self.scalings_ = xp.zeros((d, 0), dtype=dtype, device=device)
        self.explained_variance_ratio_ = xp.zeros((0,), dtype=dtype, device=device)
        self.coef_ = xp.zeros((n_classes, d), dtype=dtype, device=device)
        self.intercept_ = xp.log(priors)

    def _solve_svd(self, X: Any, y: Any, counts: Any, *, xp: Any) -> None:
        n = int(X.shape[0])
        n_classes = int(self.classes_.shape[0])
        means, priors = self.means_, self.priors_
        if self.store_covariance:
            self.covariance_ = _within_cov(X, y, means, priors, counts, None, xp=xp)
        self.xbar_ = priors @ means
        # 1) within-class scaling by the within-class standard deviations, and 2) the whitened
        # within-class scatter
        std, G = _within_std_and_gram(X, y, means, xp=xp)
        S, Vt = self._within_scaled_svd(G, X, y, std, xp=xp)
        rank = int(xp.sum(xp.astype(S > self.tol, xp.int32)))
        if rank < int(X.shape[1]):
            warnings.warn("Variables are collinear.", UserWarning, stacklevel=3)
        if rank == 0:
            self._no_discriminant(priors, xp=xp)
            return
        scalings = (Vt[:rank, :] / std).T / S[:rank]
        # 3) between-class scaling: SVD of the whitened, weighted class centers
        fac = 1.0 / (n_classes - 1)
        centers = (xp.sqrt((n * priors) * fac)[:, None] * (means - self.xbar_)) @ scalings
        _, S2, Vt2 = xp.linalg.svd(centers, full_matrices=False)
        self.explained_variance_ratio_ = (S2**2 / xp.sum(S2**2))[: self._max_components]
        if int(S2.shape[0]) == 0 or not float(S2[0]) > 0:
            self._no_discriminant(priors, xp=xp)
            return
        rank2 = int(xp.sum(xp.astype(S2 > self.tol * S2[0], xp.int32)))
        self.scalings_ = scalings @ Vt2.T[:, :rank2]
        coef = (means - self.xbar_) @ self.scalings_
        intercept = -0.5 * xp.sum(coef**2, axis=1) + xp.log(priors)
        self.coef_ = coef @ self.scalings_.T
        self.intercept_ = intercept - self.xbar_ @ self.coef_.T

    # ------------------------------------------------------------------ #
    # prediction and projection
    # ------------------------------------------------------------------ #

    def _predict(self, X: Any, what: str) -> tuple[Any, Compute, Origin]:
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        coef, intercept = self._fitted(v.compute, "coef_", "intercept_", dtype=v.X.dtype)
        return _lda_outputs(v.X, coef, intercept, what=what, xp=v.xp), v.compute, v.origin

    def decision_function(self, X: Any) -> Any:
        """Decision values ``X @ coef_.T + intercept_``: shape (n_samples, n_classes), or (n_samples,) for two classes.

        Up to a constant, the log-posterior of each class (binary: the log
        likelihood ratio of class 1).
        """
        scores, _, origin = self._predict(X, "decision")
        return self._output(scores, origin)

    def predict(self, X: Any) -> Any:
        """Most probable class of each row of ``X``, shape (n_samples,)."""
        idx, compute, origin = self._predict(X, "index")
        return self._output_labels(idx, compute, origin)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        proba, _, origin = self._predict(X, "proba")
        return self._output(proba, origin)

    def predict_log_proba(self, X: Any) -> Any:
        """Log of :meth:`predict_proba`; zero probabilities give ``log(smallest normal)``, as in scikit-learn."""
        log_proba, _, origin = self._predict(X, "log_proba")
        return self._output(log_proba, origin)

    def transform(self, X: Any) -> Any:
        """Project ``X`` onto the discriminant directions, shape (n_samples, n_components)."""
        if self.solver == "lsqr":
            raise NotImplementedError("transform not implemented for 'lsqr' solver (use 'svd' or 'eigen').")
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        (scalings,) = self._fitted(v.compute, "scalings_", dtype=v.X.dtype)
        Xt = v.X
        if self.solver == "svd":
            (xbar,) = self._fitted(v.compute, "xbar_", dtype=v.X.dtype)
            Xt = Xt - xbar
        return self._output((Xt @ scalings)[:, : self._max_components], v.origin)

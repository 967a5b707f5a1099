"""Gaussian Naive Bayes, written once against the Array API."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._labels import encode_labels
from ..backends import Compute, Origin, framework_of, jit, primitives, to_backend
from ..base import BaseEstimator, ClassifierMixin, check_is_fitted, validate_data

__all__ = ["GaussianNB"]


def _host(x: Any) -> np.ndarray:
    return np.asarray(to_backend(x, "numpy")) if framework_of(x) is not None else np.asarray(x)


def _check_weights(v: Any) -> None:
    sw = v.sample_weight
    if sw is not None and bool(v.xp.all(sw == 0)):
        raise ValueError("Sample weights must contain at least one non-zero number.")


def _class_stats(X: Any, y: Any, sw: Any, n_classes: int, *, xp: Any) -> tuple[Any, Any, Any]:
    """Per-class (weighted) count, mean and biased variance of ``X``: shapes (K,), (K, d), (K, d).

    Two passes (sums, then squared deviations from the class means). Classes
    without samples get mean and variance 0.
    """
    if sw is None:
        return primitives.segment_mean_var(X, y, n_classes, xp=xp)
    n = primitives.segment_sum(sw, y, n_classes, xp=xp)
    sums = primitives.segment_sum(X * sw[:, None], y, n_classes, xp=xp)
    safe = xp.where(n != 0, n, xp.ones_like(n))
    mean = sums / safe[:, None]
    dev = X - xp.take(mean, y, axis=0)
    var = primitives.segment_sum(dev * dev * sw[:, None], y, n_classes, xp=xp) / safe[:, None]
    return n, mean, var


def _pooled_variance(n: Any, mean: Any, var: Any, *, xp: Any) -> Any:
    """Variance of each feature over all samples, from per-class counts (K,), means and variances (K, d).

    The law of total variance: within-class plus between-class parts; no pass over ``X``.
    """
    total = xp.sum(n)
    grand = xp.sum(n[:, None] * mean, axis=0) / total
    return xp.sum(n[:, None] * (var + (mean - grand) ** 2), axis=0) / total


@jit
def _reference_point(theta: Any, var: Any, *, xp: Any) -> tuple[Any, Any]:
    """Per-feature reference point for the expanded quadratic form, and the size of its terms.

    The reference is the mean of the class with the smallest variance on each
    feature, so that (near-)constant features expand exactly. The size is
    ``max_k sum_j (theta_kj - ref_j)**2 / var_kj``, the largest class mean's
    squared distance from the reference in variance units: the expansion's
    rounding error is about ``eps`` times that (plus ``d``).
    """
    ref = xp.argmin(var, axis=0)
    center = xp.take_along_axis(theta, ref[None, :], axis=0)[0, :]
    T = theta - center
    return center, xp.max(xp.sum(T * T / var, axis=1))


@jit(static_argnames=("what",))
def _nb_outputs(quad: Any, var: Any, prior: Any, *, what: str, xp: Any) -> Any:
    """Joint log-likelihood (``jll``), ``log_proba``, ``proba`` or class ``index`` from the quadratic terms."""
    norm = -0.5 * xp.sum(xp.log(2.0 * math.pi * var), axis=1)
    positive = prior > 0  # a zero prior gives -inf, as in scikit-learn (without its warning)
    log_prior = xp.where(positive, xp.log(xp.where(positive, prior, xp.ones_like(prior))),
                         xp.full_like(prior, -math.inf))
    jll = log_prior + norm - 0.5 * quad
    if what == "jll":
        return jll
    if what == "index":
        return xp.argmax(jll, axis=1)
    log_proba = jll - primitives.logsumexp(jll, axis=1, keepdims=True, xp=xp)
    return log_proba if what == "log_proba" else xp.exp(log_proba)


@jit
def _quadratic_expanded(X: Any, theta: Any, var: Any, center: Any, *, xp: Any) -> Any:
    """``sum_j (x_j - theta_kj)**2 / var_kj`` for every row and class, by two matrix products."""
    inv = 1.0 / var
    Xc = X - center
    T = theta - center
    return (Xc * Xc) @ inv.T - 2.0 * (Xc @ (T * inv).T) + xp.sum(T * T * inv, axis=1)[None, :]


def _quadratic_exact(X: Any, theta: Any, var: Any, *, xp: Any) -> Any:
    """``sum_j (x_j - theta_kj)**2 / var_kj`` directly, in row chunks of shape (chunk, K, d)."""
    n, d = int(X.shape[0]), int(X.shape[1])
    n_classes = int(theta.shape[0])
    itemsize = 4 if X.dtype == xp.float32 else 8
    step = primitives.chunk_rows(n, 2 * n_classes * d * itemsize)
    parts = []
    for start in range(0, n, step):
        D = X[start:min(start + step, n), None, :] - theta[None, :, :]
        parts.append(xp.sum(D * D / var[None, :, :], axis=2))
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _check_variances(var: Any, X: Any, *, xp: Any) -> None:
    """Refuse variances that would make every probability NaN (scikit-learn returns NaN there).

    All zero: no feature varies, or the values are so small that their squares
    underflow. Not finite: the squares overflow. In both cases the training
    data is left untouched and nothing is fitted.
    """
    finite = bool(xp.all(xp.isfinite(var)))
    if finite and bool(xp.any(var > 0)):
        return
    big = float(xp.max(xp.abs(X))) if X.shape[0] else 0.0
    if not finite:
        raise ValueError(
            f"GaussianNB cannot fit X: its values (up to {big:.3g} in absolute value) are too large for "
            f"their squared deviations to fit in {X.dtype}, so the variances overflow. Rescale X "
            "(e.g. with StandardScaler or MaxAbsScaler) first.")
    if big == 0 or bool(xp.all(X == X[:1, :])):
        raise ValueError(
            "GaussianNB cannot fit X: no feature varies (every value in each column is the same), so all "
            "variances are 0 and every probability would be undefined. Give it at least one varying feature.")
    raise ValueError(
        f"GaussianNB cannot fit X: its values (at most {big:.3g} in absolute value) are so small that their "
        f"squared deviations underflow to 0 in {X.dtype}. Rescale X (e.g. with StandardScaler or "
        "MaxAbsScaler) first.")


class GaussianNB(ClassifierMixin, BaseEstimator):
    """Gaussian Naive Bayes: independent Gaussian features within each class.

    A drop-in for :class:`sklearn.naive_bayes.GaussianNB`, computed on the
    data's own backend and device; supports ``sample_weight`` and online
    updates with :meth:`partial_fit` (Chan, Golub and LeVeque's pairwise update).

    Parameters
    ----------
    priors : array-like of shape (n_classes,), default=None
        Prior probabilities of the classes; by default the (weighted) class
        proportions. Must be non-negative and sum to 1.
    var_smoothing : float, default=1e-9
        Portion of the largest feature variance added to every variance.

    Attributes
    ----------
    class_count_ : array of shape (n_classes,)
        (Weighted) number of training samples per class, floating.
    class_prior_ : array of shape (n_classes,)
    classes_ : array of shape (n_classes,)
    epsilon_ : float
        Absolute value added to the variances.
    theta_ : array of shape (n_classes, n_features)
        Per-class feature means.
    var_ : array of shape (n_classes, n_features)
        Per-class feature variances (with ``epsilon_`` added).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)

    Notes
    -----
    The joint log-likelihood is computed with two matrix products (squares
    expanded around a per-feature reference point) whenever the expansion's
    rounding error is provably negligible (below ``sqrt(eps) * 1e-2`` in log
    space, typical for float64 data); otherwise, e.g. for features that are
    constant within some classes in float32, directly as scikit-learn does.
    Unlike scikit-learn, training data with a single class is refused.
    """

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9) -> None:
        self.priors = priors
        self.var_smoothing = var_smoothing

    def _check_params(self) -> None:
        vs = self.var_smoothing
        if not isinstance(vs, numbers.Real) or isinstance(vs, bool) or not vs >= 0:
            raise ValueError(
                f"The 'var_smoothing' parameter of GaussianNB must be a float in the range [0, inf). "
                f"Got {vs!r} instead."
            )

    # ------------------------------------------------------------------ #
    # fitting
    # ------------------------------------------------------------------ #

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianNB:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,), optionally weighted."""
        self._check_params()
        if y is None:
            raise ValueError("GaussianNB requires y to be passed, but the target y is None.")
        self._forget()
        v = validate_data(self, X, y, reset=True, sample_weight=sample_weight)
        _check_weights(v)
        try:
            self.classes_, y_enc = encode_labels(v.y, compute=v.compute, estimator_name=type(self).__name__)
            self._init_counters(v)
            self._update(v, y_enc)
        except BaseException:
            self._forget()  # a failed fit leaves no half-fitted model behind
            raise
        return self

    def _forget(self) -> None:
        for attr in ("classes_", "theta_", "var_", "class_count_", "class_prior_", "epsilon_"):
            self.__dict__.pop(attr, None)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> GaussianNB:
        """Update the model with a batch ``X`` (n_samples, n_features), ``y`` (n_samples,).

        ``classes`` (every label that may ever appear) is required on the first
        call and optional afterwards.
        """
        first = getattr(self, "classes_", None) is None
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        self._check_params()
        v = validate_data(self, X, y, reset=first, sample_weight=sample_weight)
        _check_weights(v)
        if classes is not None:
            new = np.unique(_host(classes))
            if not first and not np.array_equal(new, _host(self.classes_)):
                raise ValueError(
                    f"`classes={new!r}` is not the same as on last call to partial_fit, "
                    f"was: {_host(self.classes_)!r}"
                )
            if first:
                if len(new) < 2:
                    raise ValueError(
                        f"GaussianNB needs at least 2 classes, but classes={new!r} holds only one. "
                        "Classifier can't train when only one class is present."
                    )
                if isinstance(v.y, np.ndarray):
                    self.classes_ = new
                else:
                    self.classes_ = v.compute.xp.astype(v.compute.asarray(new), v.y.dtype)
        if first:
            self._init_counters(v)
        try:
            self._update(v, self._encode(v))
        except BaseException:
            if first:
                self._forget()
            raise
        return self

    def _encode(self, v: Any) -> Any:
        """``v.y`` as indices into ``classes_``; unknown labels raise ValueError."""
        classes_host = _host(self.classes_)
        if isinstance(v.y, np.ndarray):
            y = v.y
            idx = np.clip(np.searchsorted(classes_host, y), 0, len(classes_host) - 1)
            if not np.all(classes_host[idx] == y):
                self._unknown_labels(y, classes_host)
            return v.compute.asarray(idx.astype(np.int64))
        xp = v.xp
        (classes,) = self._fitted(v.compute, "classes_")
        classes = xp.astype(classes, v.y.dtype) if classes.dtype != v.y.dtype else classes
        idx = xp.clip(xp.searchsorted(classes, v.y), min=0, max=int(classes.shape[0]) - 1)
        if not bool(xp.all(xp.take(classes, idx, axis=0) == v.y)):
            self._unknown_labels(_host(v.y), classes_host)
        return idx

    @staticmethod
    def _unknown_labels(y: np.ndarray, classes: np.ndarray) -> None:
        unknown = np.setdiff1d(np.unique(y), classes)
        raise ValueError(f"The target label(s) {unknown} in y do not exist in the initial classes {classes}")

    def _init_counters(self, v: Any) -> None:
        xp, dtype, device = v.xp, v.X.dtype, v.compute.device
        n_classes, d = int(self.classes_.shape[0]), int(v.X.shape[1])
        self.theta_ = xp.zeros((n_classes, d), dtype=dtype, device=device)
        self.var_ = xp.zeros((n_classes, d), dtype=dtype, device=device)
        self.class_count_ = xp.zeros((n_classes,), dtype=dtype, device=device)
        self.epsilon_ = None
        if self.priors is None:
            self.class_prior_ = xp.zeros((n_classes,), dtype=dtype, device=device)
            return
        priors = np.asarray(_host(self.priors), dtype=np.float64).reshape(-1)
        if priors.shape[0] != n_classes:
            raise ValueError(
                f"Number of priors must match number of classes: got {priors.shape[0]} priors for "
                f"{n_classes} classes."
            )
        if not np.isclose(priors.sum(), 1.0):
            raise ValueError(f"The sum of the priors should be 1 (got {priors.sum():.6g}).")
        if np.any(priors < 0):
            raise ValueError("Priors must be non-negative.")
        self.class_prior_ = xp.astype(v.compute.asarray(priors), dtype)

    def _update(self, v: Any, y: Any) -> None:
        """Merge the batch's per-class statistics into ``theta_``, ``var_`` and ``class_count_``."""
        xp, X, sw = v.xp, v.X, v.sample_weight
        n_classes = int(self.classes_.shape[0])
        if X.shape[1] != self.theta_.shape[1]:
            raise ValueError(f"Number of features {X.shape[1]} does not match previous data {self.theta_.shape[1]}.")
        theta, var, n_past = self._fitted(v.compute, "theta_", "var_", "class_count_", dtype=X.dtype)
        n_new, mu_new, var_new = _class_stats(X, y, sw, n_classes, xp=xp)
        # the largest (unweighted) feature variance of the batch, as scikit-learn
        batch_var = (_pooled_variance(n_new, mu_new, var_new, xp=xp) if sw is None
                     else primitives.column_mean_var(X, xp=xp)[1])
        epsilon = float(self.var_smoothing) * float(xp.max(batch_var))
        # Remove the smoothing before merging. As scikit-learn does, this subtracts the
        # *new* batch's epsilon, not the one that was added (kept for identical results).
        var = var - epsilon if self.epsilon_ is not None else var
        # a class absent from the batch (or with weights summing to ~0) keeps its statistics
        present = (n_new > 1e-8) if sw is not None else (n_new > 0)
        n_total = n_past + n_new
        safe_total = xp.where(n_total > 0, n_total, xp.ones_like(n_total))
        mu_merged = (n_new[:, None] * mu_new + n_past[:, None] * theta) / safe_total[:, None]
        ssd = (n_past[:, None] * var + n_new[:, None] * var_new
               + (n_new * n_past / safe_total)[:, None] * (theta - mu_new) ** 2)
        var_merged = ssd / safe_total[:, None]
        fresh = (n_past == 0)[:, None]
        keep = ~present[:, None]
        new_var = xp.where(keep, var, xp.where(fresh, var_new, var_merged)) + epsilon
        _check_variances(new_var, X, xp=xp)
        self.theta_ = xp.where(keep, theta, xp.where(fresh, mu_new, mu_merged))
        self.var_ = new_var
        self.class_count_ = n_total
        self.epsilon_ = epsilon
        if self.priors is None:
            self.class_prior_ = n_total / xp.sum(n_total)

    # ------------------------------------------------------------------ #
    # prediction
    # ------------------------------------------------------------------ #

    def _predict(self, X: Any, what: str) -> tuple[Any, Compute, Origin]:
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        xp, X = v.xp, v.X
        theta, var, prior = self._fitted(v.compute, "theta_", "var_", "class_prior_", dtype=X.dtype)
        center, spread = _reference_point(theta, var, xp=xp)
        eps = float(xp.finfo(X.dtype).eps)
        if (float(spread) + int(X.shape[1])) * eps <= math.sqrt(eps) * 1e-2:
            quad = _quadratic_expanded(X, theta, var, center, xp=xp)
        else:
            quad = _quadratic_exact(X, theta, var, xp=xp)
        return _nb_outputs(quad, var, prior, what=what, xp=xp), v.compute, v.origin

    def predict_joint_log_proba(self, X: Any) -> Any:
        """``log P(x, c) = log P(c) + log P(x | c)``, shape (n_samples, n_classes)."""
        jll, _, origin = self._predict(X, "jll")
        return self._output(jll, origin)

    def predict_log_proba(self, X: Any) -> Any:
        """Log posterior probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        log_proba, _, origin = self._predict(X, "log_proba")
        return self._output(log_proba, origin)

    def predict_proba(self, X: Any) -> Any:
        """Posterior probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        proba, _, origin = self._predict(X, "proba")
        return self._output(proba, origin)

    def predict(self, X: Any) -> Any:
        """Most probable class of each row of ``X``, shape (n_samples,)."""
        idx, compute, origin = self._predict(X, "index")
        return self._output_labels(idx, compute, origin)

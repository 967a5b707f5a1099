"""Logistic regression (binary and multinomial, L2 penalty): ``LogisticRegression``."""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from .. import _hooks
from .._labels import encode_labels
from ..backends import _sparse as sp
from ..backends import primitives, to_backend
from ..base import BaseEstimator, ClassifierMixin, check_is_fitted, validate_data
from . import _logistic_loss
from ._base import _check_int, _check_option, _check_real, _validate_fit

__all__ = ["LogisticRegression"]

_SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")


def _host_list(classes: Any) -> list[Any]:
    host = classes if isinstance(classes, np.ndarray) else np.asarray(to_backend(classes, "numpy"))
    return host.tolist()


def _class_weights(class_weight: Any, classes: Any, y_enc: Any, sw: Any, *, xp: Any, dtype: Any,
                   device: Any) -> Any:
    """Per-class weights, shape (n_classes,), as :func:`sklearn.utils.compute_class_weight`."""
    n_classes = int(classes.shape[0])
    if class_weight == "balanced":
        counts = primitives.bincount(y_enc, length=n_classes, weights=sw, xp=xp)
        counts = xp.astype(counts, dtype)
        return xp.sum(counts) / (n_classes * counts)
    labels = _host_list(classes)
    values, missing = [], []
    for c in labels:
        if c in class_weight:
            values.append(float(class_weight[c]))
        else:
            values.append(1.0)
            missing.append(c)
    if missing and n_classes - len(missing) != len(class_weight):
        raise ValueError(f"The classes, {missing}, are not in class_weight")
    return xp.asarray(values, dtype=dtype, device=device)


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression with an L2 penalty, on the data's own backend.

    Binary problems use the logistic loss of the second class (``coef_`` has one row, as in
    scikit-learn); three or more classes use the multinomial (softmax) loss. The objective
    is scikit-learn's::

        C * sum_i s_i * logloss_i + 0.5 * ||coef||^2

    (``s`` = ``sample_weight`` times the class weights; the intercept is not penalized),
    scaled by ``1 / (C * sum(s))`` as scikit-learn's solvers do, so ``tol`` means the same:
    the largest absolute gradient entry at the solution. A drop-in for
    :class:`sklearn.linear_model.LogisticRegression` with the L2 penalty.

    Parameters
    ----------
    penalty : {'l2', None, 'deprecated'}, default='deprecated'
        Deprecated in scikit-learn 1.8 (use ``C`` and ``l1_ratio``); ``'l2'`` and ``None``
        (no penalty, as ``C=np.inf``) work with a ``FutureWarning`` as in scikit-learn.
        ``'l1'`` and ``'elasticnet'`` raise ``NotImplementedError``.
    C : float, default=1.0
        Inverse regularization strength, ``> 0``; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.0
        Only ``0.0`` (the L2 penalty) is implemented; other values raise ``NotImplementedError``.
    dual : bool, default=False
        ``True`` raises ``NotImplementedError``.
    tol : float, default=1e-4
        Stop when the largest absolute entry of the (scaled) gradient is at most ``tol``. When
        Newton's method used the exact Hessian (under ``2 * 32768`` samples, more with many
        parameters) the Newton step already solved is then taken as well, so the answer is
        usually far more precise.
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        Used with ``solver='liblinear'`` only: the intercept is then penalized as
        liblinear does, with weight ``1 / intercept_scaling**2``.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies ``sample_weight``; ``'balanced'`` is ``sum(w) / (n_classes * sum_k(w))``.
    random_state : accepted for compatibility (the solvers are deterministic).
    solver : {'lbfgs', 'liblinear', 'newton-cg', 'newton-cholesky', 'sag', 'saga'}, default='lbfgs'
        All minimize the same objective with toolbox's solver (Newton's method when the
        parameters are few enough for a dense Hessian, estimated on a strided subsample of the
        rows when there are many; L-BFGS otherwise), so they give the same answer.
        ``'liblinear'`` also penalizes the intercept and supports two classes only, as in
        scikit-learn.
    max_iter : int, default=100
        Newton or L-BFGS iterations.
    verbose : int, default=0
        Accepted for compatibility.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_``.
    n_jobs : accepted for compatibility (deprecated in scikit-learn 1.8).

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
        NumPy when ``y`` was NumPy or a list (string labels included), else ``y``'s library.
    coef_ : array of shape (1, n_features) or (n_classes, n_features)
        On the training data's backend and device.
    intercept_ : array of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,), int32
        Newton (or L-BFGS) iterations; Newton needs far fewer than scikit-learn's lbfgs.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
    """

    def __init__(self, penalty: Any = "deprecated", *, C: float = 1.0, l1_ratio: float | None = 0.0,
                 dual: bool = False, tol: float = 1e-4, fit_intercept: bool = True,
                 intercept_scaling: float = 1, class_weight: Any = None, random_state: Any = None,
                 solver: str = "lbfgs", max_iter: int = 100, verbose: int = 0, warm_start: bool = False,
                 n_jobs: int | None = None) -> None:
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ #
    def _check_params(self) -> float:
        """Validate the parameters; return the effective C (``inf`` for no penalty)."""
        _check_option(self.penalty, "penalty", ("deprecated", "l2", "l1", "elasticnet", None), estimator=self)
        _check_option(self.solver, "solver", _SOLVERS, estimator=self)
        C = _check_real(self.C, "C", estimator=self, low=0.0, low_open=True, allow_inf=True)
        _check_real(self.tol, "tol", estimator=self, low=0.0)
        _check_int(self.max_iter, "max_iter", estimator=self, low=0)
        _check_real(self.intercept_scaling, "intercept_scaling", estimator=self, low=0.0, low_open=True)
        if self.class_weight is not None and self.class_weight != "balanced" \
                and not isinstance(self.class_weight, dict):
            raise ValueError(
                f"LogisticRegression: class_weight must be None, 'balanced' or a dict mapping class "
                f"labels to weights; got {self.class_weight!r}."
            )
        if self.penalty in ("l1", "elasticnet"):
            raise NotImplementedError(
                f"LogisticRegression(penalty={self.penalty!r}) is not implemented in toolbox; only the L2 "
                "penalty (l1_ratio=0) or no penalty (C=np.inf)."
            )
        if self.l1_ratio is None:
            warnings.warn("'l1_ratio=None' was deprecated in version 1.8 and will trigger an error in 1.10. "
                          "Use 0<=l1_ratio<=1 instead.", FutureWarning, stacklevel=3)
        elif _check_real(self.l1_ratio, "l1_ratio", estimator=self, low=0.0, high=1.0) != 0.0:
            raise NotImplementedError(
                f"LogisticRegression(l1_ratio={self.l1_ratio!r}) is not implemented in toolbox: only the "
                "L2 penalty (l1_ratio=0) is."
            )
        if self.dual:
            raise NotImplementedError("LogisticRegression(dual=True) is not implemented in toolbox; "
                                      "use dual=False (the primal problem).")
        if self.penalty != "deprecated":
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid this "
                "warning, leave 'penalty' set to its default value and use 'l1_ratio' or 'C' instead.",
                FutureWarning, stacklevel=3,
            )
            if self.penalty is None:
                return math.inf
        return C

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        C = self._check_params()
        v = _validate_fit(self, X, y, sample_weight, regressor=False, accept_sparse=True)
        xp, X, device = v.xp, v.X, v.compute.device
        dtype = X.dtype
        classes, y_enc = encode_labels(v.y, compute=v.compute, estimator_name=type(self).__name__)
        n_classes = int(classes.shape[0])
        if self.solver == "liblinear" and n_classes > 2:
            raise ValueError(
                "The 'liblinear' solver does not support multiclass classification (n_classes >= 3). "
                "Either use another solver or wrap the estimator in a OneVsRestClassifier to keep "
                "applying a one-versus-rest scheme."
            )
        n, d = int(X.shape[0]), int(X.shape[1])
        n_rows = 1 if n_classes == 2 else n_classes
        fi = bool(self.fit_intercept)

        sw = v.sample_weight
        if self.class_weight is not None:
            cw = _class_weights(self.class_weight, classes, y_enc, sw, xp=xp, dtype=dtype, device=device)
            cw_per_sample = xp.take(cw, y_enc, axis=0)
            sw = cw_per_sample if sw is None else sw * cw_per_sample
        if sw is None:
            total = float(n)
            sw = xp.full((n,), 1.0 / n, dtype=dtype, device=device)
        else:
            total = float(xp.sum(sw))
            if not total > 0:
                raise ValueError("LogisticRegression: the sample weights (times class weights) must have a "
                                 "positive sum.")
            sw = sw / total

        lam = 0.0 if math.isinf(C) else 1.0 / (C * total)
        row_pen = [lam] * d
        if fi:
            row_pen.append(lam / float(self.intercept_scaling) ** 2 if self.solver == "liblinear" else 0.0)
        pen = xp.asarray(row_pen * n_rows, dtype=dtype, device=device)

        p = n_rows * (d + int(fi))
        w = xp.zeros((p,), dtype=dtype, device=device)
        warm = False
        if self.warm_start and hasattr(self, "coef_") and tuple(self.coef_.shape) == (n_rows, d):
            coef, icpt = self._fitted(v.compute, "coef_", "intercept_", dtype=dtype)
            W = xp.concat([coef, icpt[:, None]], axis=1) if fi else coef
            w, warm = xp.reshape(W, (-1,)), True

        opts = dict(n_rows=n_rows, fit_intercept=fi, max_iter=int(self.max_iter), tol=float(self.tol), xp=xp,
                    report=functools.partial(_hooks.report_metric, self, "loss"), solver=str(self.solver))
        codes = xp.arange(n_classes, dtype=y_enc.dtype, device=device) if n_rows > 1 else None
        # sparse X: L-BFGS, whose gradient needs only X @ W.T and X.T @ R (the Hessian X.T D X is dense)
        if not sp.is_sparse(X) and _logistic_loss.use_newton(n, d, n_rows, device):
            # one-hot labels, class-major: (n_rows, n)
            Yt = xp.astype((y_enc == 1)[None, :] if codes is None else codes[:, None] == y_enc[None, :], dtype)
            w, n_iter = _logistic_loss.newton(w, X, Yt, sw, pen, warm=warm, **opts)
        else:
            # one-hot labels, sample-major: (n, n_rows)
            Y = xp.astype((y_enc == 1)[:, None] if codes is None else y_enc[:, None] == codes[None, :], dtype)
            w, n_iter = _logistic_loss.lbfgs(w, X, Y, sw, pen, **opts)
        W = xp.reshape(w, (n_rows, d + int(fi)))
        self.classes_ = classes
        self.coef_ = W[:, :d]
        self.intercept_ = W[:, d] if fi else xp.zeros((n_rows,), dtype=dtype, device=device)
        self.n_iter_ = np.asarray([n_iter], dtype=np.int32)
        return self

    # ------------------------------------------------------------------ #
    def _scores(self, X: Any) -> tuple[Any, Any]:
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        coef, icpt = self._fitted(v.compute, "coef_", "intercept_", dtype=v.X.dtype)
        if sp.is_sparse(v.X):
            return sp.matmul(v.X, coef.T) + icpt, v
        return v.X @ coef.T + icpt, v

    def decision_function(self, X: Any) -> Any:
        """Confidence scores: ``X @ coef_.T + intercept_``.

        Returns
        -------
        array of shape (n_samples,) for two classes (score of ``classes_[1]``), else
        (n_samples, n_classes); same library and device as ``X``.
        """
        Z, v = self._scores(X)
        return self._output(Z[:, 0] if Z.shape[1] == 1 else Z, v.origin)

    def predict(self, X: Any) -> Any:
        """Class labels of shape (n_samples,): NumPy for string labels, else mirroring ``X``."""
        Z, v = self._scores(X)
        xp = v.xp
        idx = xp.astype(Z[:, 0] > 0, xp.int32) if Z.shape[1] == 1 else xp.argmax(Z, axis=1)
        return self._output_labels(idx, v.compute, v.origin)

    def _log_proba(self, Z: Any, *, xp: Any) -> Any:
        if Z.shape[1] == 1:
            z = Z[:, 0]
            # log(sigmoid(z)) = -softplus(-z), written without overflow
            log_p1 = -(xp.where(z < 0, -z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z))))
            log_p0 = log_p1 - z
            return xp.stack([log_p0, log_p1], axis=1)
        return Z - primitives.logsumexp(Z, axis=1, keepdims=True, xp=xp)

    def predict_log_proba(self, X: Any) -> Any:
        """Log-probabilities of shape (n_samples, n_classes), columns ordered as ``classes_``."""
        Z, v = self._scores(X)
        return self._output(self._log_proba(Z, xp=v.xp), v.origin)

    def predict_proba(self, X: Any) -> Any:
        """Probabilities of shape (n_samples, n_classes) (sigmoid for two classes, else softmax)."""
        Z, v = self._scores(X)
        return self._output(v.xp.exp(self._log_proba(Z, xp=v.xp)), v.origin)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self.solver == "liblinear":
            tags.classifier_tags.multi_class = False
        return tags

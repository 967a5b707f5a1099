"""Logistic regression (binary and multinomial; L2, L1 and elastic-net penalties): ``LogisticRegression``."""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from typing import Any

import numpy as np

from .. import _hooks
from .._labels import encode_labels
from ..backends import _sparse as sp
from ..backends import primitives, to_backend
from ..base import BaseEstimator, ClassifierMixin, check_is_fitted, validate_data
from . import _logistic_l1, _logistic_loss
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


class _IterationTasks:
    """scikit-learn's per-iteration callback tasks for ``solver='lbfgs'`` (its ``lbfgs-iter`` tasks).

    One task per solver iteration, begun with the iterate it starts from and ended with the one it
    reaches (``fitted_estimator`` is then the model ``max_iter`` iterations would give), at least
    one, and a last empty task: the tree scikit-learn's L-BFGS bridge produces.
    """

    def __init__(self, ctx: Any, estimator: Any, X: Any, y: Any, metadata: Any) -> None:
        self._parent, self._estimator = ctx, estimator
        self._data = dict(X=X, y=y, metadata=metadata)
        self._unpack: Any = None
        self._ctx: Any = None
        self._steps = 0

    def _attrs(self, w: Any) -> dict[str, Any]:
        coef, intercept = self._unpack(w)
        return {"coef_": coef, "intercept_": intercept}

    def _begin(self, w: Any) -> None:
        self._ctx = self._parent.subcontext(task_name="lbfgs-iter")
        self._ctx.call_on_fit_task_begin(estimator=self._estimator, reconstruction_attributes=self._attrs(w),
                                         **self._data)

    def start(self, w: Any, unpack: Any) -> None:
        self._unpack = unpack
        self._begin(w)

    def step(self, w: Any) -> None:
        self._ctx.call_on_fit_task_end(estimator=self._estimator, reconstruction_attributes=self._attrs(w),
                                       **self._data)
        self._steps += 1
        self._begin(w)

    def close(self, w: Any) -> None:
        if not self._steps:  # scikit-learn's lbfgs reports one iteration even when it runs none
            self.step(w)
        self._ctx.call_on_fit_task_end(estimator=self._estimator)


def _dense(M: Any) -> Any:
    """A sparse matrix's dense form in its own library (NumPy for SciPy)."""
    return M.to_dense() if sp.sparse_kind(M) == "torch" else np.asarray(M.toarray())


def _check_32bit_indices(X: Any) -> None:
    """scikit-learn's refusal of 64-bit sparse indices for the liblinear, sag and saga solvers."""
    keys = ("row", "col") if X.format == "coo" else ("indices", "indptr") if X.format in ("csr", "csc", "bsr") else ()
    for key in keys:
        dt = getattr(X, key).dtype
        if dt != np.int32:
            raise ValueError(
                "Only sparse matrices with 32-bit integer indices are accepted. "
                f"Got {dt} indices. Please do report a minimal reproducer on scikit-learn issue tracker so that "
                "support for your use-case can be studied by maintainers. See: "
                "https://scikit-learn.org/dev/developers/minimal_reproducer.html"
            )


def _as_float64(A: Any, *, xp: Any) -> Any:
    """``A`` in float64 (liblinear's precision), for a device that has it."""
    if sp.is_sparse(A):
        if sp.sparse_kind(A) == "torch":
            import torch

            return A if A.dtype == torch.float64 else sp.as_compute_format(A, torch.float64)
        return sp.as_compute_format(A, np.float64)
    return A if A.dtype == xp.float64 else xp.astype(A, xp.float64)


def _max_value(X: Any, *, xp: Any) -> float:
    if sp.is_sparse(X):
        vals = sp.stored_values(X)
        top = float(vals.max()) if int(vals.shape[0]) else 0.0
        return max(top, 0.0) if int(vals.shape[0]) < X.shape[0] * X.shape[1] else top
    return float(xp.max(X)) if X.shape[0] * X.shape[1] else 0.0


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression with an L2, L1 or elastic-net penalty, on the data's own backend.

    Binary problems use the logistic loss of the second class (``coef_`` has one row, as in
    scikit-learn); three or more classes use the multinomial (softmax) loss. The objective
    is scikit-learn's::

        C * sum_i s_i * logloss_i + l1_ratio * ||coef||_1 + 0.5 * (1 - l1_ratio) * ||coef||^2

    (``s`` = ``sample_weight`` times the class weights; the intercept is not penalized, except
    by ``'liblinear'``), scaled by ``1 / (C * sum(s))`` as scikit-learn's solvers do, so ``tol``
    means the same: the largest absolute entry of the (minimum-norm sub)gradient at the
    solution. A drop-in for :class:`sklearn.linear_model.LogisticRegression`.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', None, 'deprecated'}, default='deprecated'
        Deprecated in scikit-learn 1.8 (use ``C`` and ``l1_ratio``); still honoured, with a
        ``FutureWarning``, as in scikit-learn: ``'l1'`` is ``l1_ratio=1``, ``'l2'`` is
        ``l1_ratio=0``, ``None`` is ``C=np.inf``.
    C : float, default=1.0
        Inverse regularization strength, ``> 0``; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.0
        The L1 share of the penalty, in ``[0, 1]``: 0 is L2, 1 is L1, between is the elastic net.
        ``> 0`` needs ``solver='saga'`` (or ``'liblinear'`` for 1), as in scikit-learn, and is
        solved by proximal Newton (exact zeros; a dense Hessian up to 2,048 parameters on the
        CPU), accelerated proximal gradient beyond.
    dual : bool, default=False
        ``'liblinear'`` with the L2 penalty only (else scikit-learn's ``ValueError``); the dual
        problem has the primal's optimum, which toolbox solves.
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
        rows when there are many; L-BFGS otherwise; proximal Newton for an L1 part), so they
        give the same answer. ``'liblinear'`` also penalizes the intercept, computes in float64
        and supports two classes only, as in scikit-learn. ``'newton-cholesky'`` on a singular
        Hessian warns and continues as ``'lbfgs'``, as scikit-learn.
    max_iter : int, default=100
        Newton or L-BFGS iterations.
    verbose : int, default=0
        Accepted for compatibility.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_``.
    n_jobs : accepted for compatibility (no effect; a ``FutureWarning`` when set, as scikit-learn 1.8+).

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
    def _check_params(self) -> tuple[float, float]:
        """Validate the parameters as scikit-learn 1.9 does, with its warnings and messages.

        Returns ``(C, l1_ratio)``: the effective inverse strength (``inf`` for no penalty) and the
        L1 share of the penalty (0 for L2, 1 for L1).
        """
        _check_option(self.penalty, "penalty", ("deprecated", "l2", "l1", "elasticnet", None), estimator=self)
        _check_option(self.solver, "solver", _SOLVERS, estimator=self)
        C = _check_real(self.C, "C", estimator=self, low=0.0, low_open=True, allow_inf=True)
        _check_real(self.tol, "tol", estimator=self, low=0.0)
        _check_int(self.max_iter, "max_iter", estimator=self, low=0)
        _check_real(self.intercept_scaling, "intercept_scaling", estimator=self, low=0.0, low_open=True)
        if self.l1_ratio is not None:
            _check_real(self.l1_ratio, "l1_ratio", estimator=self, low=0.0, high=1.0)
        if self.class_weight is not None and self.class_weight != "balanced" \
                and not isinstance(self.class_weight, dict):
            raise ValueError(
                f"LogisticRegression: class_weight must be None, 'balanced' or a dict mapping class "
                f"labels to weights; got {self.class_weight!r}."
            )
        if self.n_jobs is not None and (isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, numbers.Integral)):
            raise ValueError(f"LogisticRegression: n_jobs must be None or an integer, got {self.n_jobs!r}.")
        if self.penalty == "deprecated":
            if self.l1_ratio == 0 or self.l1_ratio is None:
                penalty = "l2"
                if self.l1_ratio is None:
                    warnings.warn("'l1_ratio=None' was deprecated in version 1.8 and will trigger an error in "
                                  "1.10. Use 0<=l1_ratio<=1 instead.", FutureWarning, stacklevel=3)
            elif self.l1_ratio == 1:
                penalty = "l1"
            else:
                penalty = "elasticnet"
            if math.isinf(C):
                penalty = None
        else:
            penalty = self.penalty
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid this "
                "warning, leave 'penalty' set to its default value and use 'l1_ratio' or 'C' instead. "
                "Use l1_ratio=0 instead of penalty='l2', l1_ratio=1 instead of penalty='l1', l1_ratio set "
                "to a float between 0 and 1 instead of penalty='elasticnet', and C=np.inf instead of "
                "penalty=None.",
                FutureWarning, stacklevel=3,
            )
        solver = self.solver
        if solver not in ("liblinear", "saga") and penalty not in ("l2", None):
            raise ValueError(f"Solver {solver} supports only 'l2' or None penalties, got {penalty} penalty.")
        if solver != "liblinear" and self.dual:
            raise ValueError(f"Solver {solver} supports only dual=False, got dual={self.dual}")
        if penalty == "elasticnet" and solver != "saga":
            raise ValueError(f"Only 'saga' solver supports elasticnet penalty, got solver={solver}.")
        if solver == "liblinear" and penalty is None:
            raise ValueError("C=np.inf as well as penalty=None is not supported for the liblinear solver")
        if solver == "liblinear" and penalty == "l1" and self.dual:
            raise ValueError(
                "Unsupported set of arguments: The combination of penalty='l1' and loss='logistic_regression' "
                f"are not supported when dual=True, Parameters: penalty='l1', loss='logistic_regression', "
                f"dual={bool(self.dual)!r}"
            )
        if penalty != "elasticnet" and self.l1_ratio is not None and 0 < self.l1_ratio < 1:
            warnings.warn(f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got (penalty={penalty})",
                          UserWarning, stacklevel=3)
        if (self.penalty == "l2" and self.l1_ratio != 0) or (self.penalty == "l1" and self.l1_ratio != 1):
            warnings.warn(f"Inconsistent values: penalty={self.penalty} with l1_ratio={self.l1_ratio}. penalty "
                          "is deprecated. Please use l1_ratio only.", UserWarning, stacklevel=3)
        if penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if self.penalty is None:
            if self.C != 1.0:
                warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters", UserWarning,
                              stacklevel=3)
            C = math.inf
        if self.n_jobs is not None:
            warnings.warn(f"'n_jobs' has no effect since 1.8 and will be removed in 1.10. You provided "
                          f"'n_jobs={self.n_jobs}', please leave it unspecified.", FutureWarning, stacklevel=3)
        if penalty is None:
            C = math.inf
        l1_ratio = {"l1": 1.0, "elasticnet": float(self.l1_ratio) if self.l1_ratio is not None else 0.0}.get(
            penalty, 0.0)
        return C, l1_ratio

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
        own = vars(self)
        if "_skl_callbacks" not in own or "_callback_fit_ctx" in own:
            return self._fit(X, y, sample_weight)
        from sklearn.callback import with_callbacks

        return with_callbacks(LogisticRegression._fit_with_callbacks)(self, X, y, sample_weight)

    #: ``fit`` runs its own tree of scikit-learn callback tasks (see :meth:`_fit_with_callbacks`)
    _callbacks_own_tasks = True

    def set_callbacks(self, *callbacks: Any) -> LogisticRegression:
        """Set scikit-learn callbacks (``sklearn.callback``) for ``fit``.

        As in scikit-learn, only ``solver='lbfgs'`` reports its iterations (one task each);
        other solvers warn here and report the fit as one task.

        Returns
        -------
        self
        """
        if self.solver != "lbfgs":
            warnings.warn(
                f"Callbacks are only supported in {type(self).__name__} for solver='lbfgs'. This estimator has "
                f"solver='{self.solver}', callbacks will be ignored during the solving of the regression.",
                UserWarning, stacklevel=2,
            )
        return super().set_callbacks(*callbacks)

    def _fit_with_callbacks(self, X: Any, y: Any, sample_weight: Any) -> LogisticRegression:
        """``fit`` as scikit-learn's task tree: the fit, then (``'lbfgs'``) one task per iteration."""
        max_iter = self.max_iter if isinstance(self.max_iter, numbers.Integral) and self.max_iter > 0 else 0
        ctx = self._init_callback_context(max_subtasks=max(int(max_iter), 1) + 1)
        metadata = {"sample_weight": sample_weight} if sample_weight is not None else None
        ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        tasks = _IterationTasks(ctx, self, X, y, metadata) if self.solver == "lbfgs" else None
        self._fit(X, y, sample_weight, tasks=tasks)
        ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata, reconstruction_attributes={})
        return self

    def _fit(self, X: Any, y: Any, sample_weight: Any, tasks: _IterationTasks | None = None) -> LogisticRegression:
        C, l1_ratio = self._check_params()
        liblinear = self.solver == "liblinear"
        if self.solver in ("liblinear", "sag", "saga") and sp.sparse_kind(X) == "scipy":
            _check_32bit_indices(X)
        v = _validate_fit(self, X, y, sample_weight, regressor=False, accept_sparse=True)
        xp, X, device = v.xp, v.X, v.compute.device
        sw = v.sample_weight
        if liblinear and v.compute.framework.supports_float64(device):
            # liblinear computes in float64 (scikit-learn's coef_ is then float64 too)
            X, sw = _as_float64(X, xp=xp), (None if sw is None else _as_float64(sw, xp=xp))
        dtype = X.dtype
        classes, y_enc = encode_labels(v.y, compute=v.compute, estimator_name=type(self).__name__)
        n_classes = int(classes.shape[0])
        if liblinear and n_classes > 2:
            raise ValueError(
                "The 'liblinear' solver does not support multiclass classification (n_classes >= 3). "
                "Either use another solver or wrap the estimator in a OneVsRestClassifier to keep "
                "applying a one-versus-rest scheme."
            )
        if liblinear and _max_value(X, xp=xp) > 1e30:
            raise ValueError(
                "Using the 'liblinear' solver while X contains a maximum value > 1e30 results in a frozen fit. "
                "Please choose another solver or rescale the input X."
            )
        n, d = int(X.shape[0]), int(X.shape[1])
        n_rows = 1 if n_classes == 2 else n_classes
        fi = bool(self.fit_intercept)

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
        # liblinear penalizes the intercept: its weight multiplies a constant feature intercept_scaling
        s = float(self.intercept_scaling)
        l2_row = [(1.0 - l1_ratio) * lam] * d
        l1_row = [l1_ratio * lam] * d
        if fi:
            l2_row.append(l2_row[0] / s**2 if liblinear else 0.0)
            l1_row.append(l1_row[0] / s if liblinear else 0.0)
        pen = xp.asarray(l2_row * n_rows, dtype=dtype, device=device)
        l1 = xp.asarray(l1_row * n_rows, dtype=dtype, device=device) if l1_ratio > 0 else None

        p = n_rows * (d + int(fi))
        w = xp.zeros((p,), dtype=dtype, device=device)
        warm = False
        if self.warm_start and hasattr(self, "coef_") and tuple(self.coef_.shape) == (n_rows, d):
            self.densify()
            coef, icpt = self._fitted(v.compute, "coef_", "intercept_", dtype=dtype)
            W = xp.concat([coef, icpt[:, None]], axis=1) if fi else coef
            w, warm = xp.reshape(W, (-1,)), True

        opts = dict(n_rows=n_rows, fit_intercept=fi, max_iter=int(self.max_iter), tol=float(self.tol), xp=xp,
                    report=functools.partial(_hooks.report_metric, self, "loss"), solver=str(self.solver))
        codes = xp.arange(n_classes, dtype=y_enc.dtype, device=device) if n_rows > 1 else None
        l2_opts = dict(opts)
        if tasks is not None:  # scikit-learn callbacks: the fitted copies need classes_ from the start
            self.classes_ = classes

            def unpack(w: Any) -> tuple[Any, Any]:
                W = xp.reshape(w, (n_rows, d + int(fi)))
                return W[:, :d], (W[:, d] if fi else xp.zeros((n_rows,), dtype=dtype, device=device))

            tasks.start(w, unpack)
            l2_opts["on_step"] = tasks.step
        if l1 is not None:
            if _logistic_loss.use_newton(n, d, n_rows, device):
                Yt = xp.astype((y_enc == 1)[None, :] if codes is None else codes[:, None] == y_enc[None, :], dtype)
                w, n_iter = _logistic_l1.prox_newton(w, X, Yt, sw, pen, l1, warm=warm, **opts)
            else:
                Y = xp.astype((y_enc == 1)[:, None] if codes is None else y_enc[:, None] == codes[None, :], dtype)
                w, n_iter = _logistic_l1.prox_gradient(w, X, Y, sw, pen, l1, **opts)
        # sparse X: L-BFGS, whose gradient needs only X @ W.T and X.T @ R (the Hessian X.T D X is dense)
        elif not sp.is_sparse(X) and _logistic_loss.use_newton(n, d, n_rows, device):
            w, n_iter = _logistic_loss.newton(w, X, y_enc, sw, pen, **l2_opts)
        else:
            # one-hot labels, sample-major: (n, n_rows)
            Y = xp.astype((y_enc == 1)[:, None] if codes is None else y_enc[:, None] == codes[None, :], dtype)
            w, n_iter = _logistic_loss.lbfgs(w, X, Y, sw, pen, **l2_opts)
        if tasks is not None:
            tasks.close(w)
        W = xp.reshape(w, (n_rows, d + int(fi)))
        self.classes_ = classes
        # arrays of their own, C-ordered (not strided views of w): a saved and reloaded model then
        # multiplies with the same memory layout, so BLAS gives it the same bits
        self.coef_ = primitives.c_ordered(W[:, :d], xp=xp)
        self.intercept_ = xp.asarray(W[:, d], copy=True) if fi else xp.zeros((n_rows,), dtype=dtype, device=device)
        self.n_iter_ = np.asarray([n_iter], dtype=np.int32)
        return self

    # ------------------------------------------------------------------ #
    def _scores(self, X: Any) -> tuple[Any, Any]:
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        if sp.is_sparse(self.coef_):  # after sparsify(): the dense rows, for this product only
            coef = v.compute.asarray(_dense(self.coef_))
            coef = coef if coef.dtype == v.X.dtype else v.xp.astype(coef, v.X.dtype)
            (icpt,) = self._fitted(v.compute, "intercept_", dtype=v.X.dtype)
        else:
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

    def sparsify(self) -> LogisticRegression:
        """Store ``coef_`` as a sparse matrix (``scipy.sparse.csr_matrix`` for NumPy, CSR for torch).

        Worth it for L1-penalized models with many zero coefficients; ``intercept_`` stays dense.
        Predictions are unchanged. :meth:`densify` converts back.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        if sp.is_sparse(self.coef_):
            return self
        kind = type(self.coef_).__module__.split(".")[0]
        if isinstance(self.coef_, np.ndarray):
            import scipy.sparse

            self.coef_ = scipy.sparse.csr_matrix(self.coef_)
        elif kind == "torch":
            self.coef_ = self.coef_.to_sparse_csr()
        else:
            raise TypeError(
                f"LogisticRegression.sparsify: coef_ is a {type(self.coef_).__name__} ({kind}), which has no "
                "sparse format here; sparse coefficients are supported for NumPy (SciPy) and torch fits."
            )
        return self

    def densify(self) -> LogisticRegression:
        """Convert a sparse ``coef_`` (after :meth:`sparsify`) back to a dense array; else a no-op.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        if sp.is_sparse(self.coef_):
            self.coef_ = _dense(self.coef_)
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self.solver == "liblinear":
            tags.classifier_tags.multi_class = False
        return tags

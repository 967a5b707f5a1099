"""The estimator contract: validation on the data's own namespace, output mirroring (layer 2).

Estimators build on scikit-learn's ``BaseEstimator`` and mixins, so ``clone``,
``get_params``, ``Pipeline`` and ``GridSearchCV`` work with them. A public
method calls :func:`validate_data` once; it resolves where the call computes
(see :mod:`toolbox.backends`), converts the inputs there if an explicit backend
asks for it, and checks them without copying them to NumPy. Results go back
through :meth:`BaseEstimator._output`, which mirrors the caller's input type
and device (or follows ``toolbox.set_config(output_type=...)``).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn.base
from sklearn.exceptions import DataConversionWarning, UndefinedMetricWarning
from sklearn.utils.validation import check_is_fitted

from . import _hooks
from ._config import get_config
from .backends import (
    Compute,
    Origin,
    check_same_library,
    float_dtype,
    framework_of,
    origin_of,
    resolve,
    to_backend,
)
from .backends._convert import as_host_array
from .backends._sparse import as_compute_format, is_sparse, sparse_kind, stored_values

__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "OneToOneFeatureMixin",
    "RegressorMixin",
    "TransformerMixin",
    "Validated",
    "check_array",
    "check_finite_after",
    "check_is_fitted",
    "check_sparse",
    "validate_data",
]

TransformerMixin = sklearn.base.TransformerMixin
OneToOneFeatureMixin = sklearn.base.OneToOneFeatureMixin


def _estimator_name(estimator: Any) -> str:
    return type(estimator).__name__ if estimator is not None else "this estimator"


# --------------------------------------------------------------------------- #
# Turning what the user passed into an array
# --------------------------------------------------------------------------- #


def _host_numeric(X: Any, name: str) -> np.ndarray:
    """Lists, tuples, pandas objects and array-likes -> a numeric NumPy array."""
    module = type(X).__module__
    if module.startswith("scipy.sparse") or hasattr(X, "tocsr"):
        raise TypeError(_sparse_refusal(None, name))
    if module.startswith("pandas") and hasattr(X, "dtypes"):
        items = list(X.dtypes.items()) if hasattr(X, "columns") else [(getattr(X, "name", None), X.dtype)]
        for col, dt in items:
            if getattr(dt, "kind", "O") not in "biuf":
                raise TypeError(
                    f"{name} column {col!r} has non-numeric dtype {dt}; toolbox estimators "
                    "need numeric data. Encode it first (e.g. toolbox.preprocessing.OneHotEncoder)."
                )
        kinds = {dt.kind for _, dt in items}
        if len(kinds) == 1 and all(isinstance(dt, np.dtype) for _, dt in items):
            return X.to_numpy()
        # mixed kinds or pandas' nullable dtypes: floats, with NA as NaN
        return X.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = as_host_array(X)
    if arr.dtype.kind == "O":
        arr = arr.astype(np.float64)  # raises "float() argument must be a string or a ... number"
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{name} holds non-numeric values ({arr.dtype}); toolbox estimators need numeric data.")
    return arr


def _to_compute(x: Any, compute: Compute, name: str) -> Any:
    if framework_of(x) is None or (isinstance(x, np.ndarray) and x.dtype.kind not in "biufc"):
        x = _host_numeric(x, name)
    return compute.asarray(x)


# --------------------------------------------------------------------------- #
# Checks, run on the array's own namespace
# --------------------------------------------------------------------------- #


def _check_finite(X: Any, *, xp: Any, name: str) -> None:
    # One reduction first (cheap, no temporaries); the detailed scan only on failure.
    total = xp.sum(X)
    if bool(xp.isfinite(total)):
        return
    bad = ~xp.isfinite(X)
    n_bad = int(xp.sum(xp.astype(bad, xp.int32)))
    if n_bad == 0:  # the sum overflowed, every value is finite
        return
    n_nan = int(xp.sum(xp.astype(xp.isnan(X), xp.int32)))
    flat = xp.reshape(bad, (-1,))
    first = int(xp.argmax(xp.astype(flat, xp.int32)))
    ncol = X.shape[1] if X.ndim == 2 else 1
    where = f"row {first // ncol}, column {first % ncol}" if X.ndim == 2 else f"index {first}"
    what = "NaN" if n_nan else "infinity"  # scikit-learn's "Input X contains NaN" / "contains infinity" first
    raise ValueError(
        f"Input {name} contains {what}: {n_nan} NaN and {n_bad - n_nan} infinite value(s); the first is at "
        f"{where}. Remove or impute them first (toolbox.impute.SimpleImputer)."
    )


def _check_no_inf(X: Any, *, xp: Any, name: str) -> None:
    """NaN allowed (missing values), infinity not: scikit-learn's ``allow-nan`` rule."""
    if bool(xp.isfinite(xp.sum(X))):  # neither NaN nor inf: one reduction, no temporary (the common case)
        return
    inf = xp.isinf(X)
    if not bool(xp.any(inf)):
        return
    n_inf = int(xp.sum(xp.astype(inf, xp.int32)))
    first = int(xp.argmax(xp.astype(xp.reshape(inf, (-1,)), xp.int32)))
    ncol = X.shape[1] if X.ndim == 2 else 1
    where = f"row {first // ncol}, column {first % ncol}" if X.ndim == 2 else f"index {first}"
    raise ValueError(f"Input {name} contains infinity: {n_inf} infinite value(s); the first is at {where}. "
                     "NaN marks missing values here, but infinity is not allowed.")


def _sparse_refusal(estimator: Any, name: str, hint: str | None = None) -> str:
    """scikit-learn's message for sparse input where dense is required, plus the sparse-friendly way."""
    est = f" to {_estimator_name(estimator)}" if estimator is not None else ""
    msg = (f"Sparse data was passed for {name}{est}, but dense data is required. Use '.toarray()' "
           "to convert to a dense array")
    return msg + (f"; or, to keep the data sparse, {hint}." if hint else ".")


def _sparse_to_compute(X: Any, compute: Compute, name: str) -> Any:
    """A SciPy or torch sparse ``X`` in the sparse family of ``compute`` (SciPy on NumPy, torch on torch)."""
    kind = sparse_kind(X)
    target = "torch" if compute.framework.name == "torch" else "scipy" if compute.framework.name == "numpy" else None
    if kind not in ("scipy", "torch") or target is None:
        where = "a cupyx.scipy.sparse matrix" if kind == "cupyx" else f"the {compute.backend!r} backend"
        raise TypeError(
            f"Sparse {name} is supported as a scipy.sparse matrix (NumPy backend) or a torch sparse "
            f"tensor (torch backend); not on {where}. Use a supported pair, or X.toarray() to densify."
        )
    if kind == target:
        return X
    if target == "torch":  # SciPy -> torch, under an explicit torch backend: the stored entries only
        import torch

        from .backends._sparse import _torch_csr

        C = X.tocsr()
        dev = compute.device
        return _torch_csr(torch.as_tensor(C.indptr.astype(np.int64), device=dev),
                          torch.as_tensor(C.indices.astype(np.int64), device=dev),
                          torch.as_tensor(C.data, device=dev), tuple(C.shape))
    import scipy.sparse

    C = as_compute_format(X)
    return scipy.sparse.csr_array((C.values().cpu().numpy(), C.col_indices().cpu().numpy(),
                                   C.crow_indices().cpu().numpy()), shape=tuple(C.shape))


def check_sparse(
    X: Any,
    *,
    compute: Compute,
    name: str = "X",
    estimator: Any = None,
    allow_nan: bool = False,
    ensure_min_samples: int = 1,
    ensure_min_features: int = 1,
) -> Any:
    """Validate a sparse ``X`` (SciPy or torch); return it in the compute format, never densified.

    SciPy input becomes CSR (CSC stays CSC; the matrix or array class is kept), torch
    input a CSR tensor; floating dtypes are kept, others become float64 (torch's default
    float). Checks: 2-D, no complex values, the minimum sizes, and finite stored values
    unless ``allow_nan`` (infinity is refused either way).
    """
    est = _estimator_name(estimator)
    X = _sparse_to_compute(X, compute, name)
    if len(X.shape) != 2:
        raise ValueError(f"Found sparse array with dim {len(X.shape)} for {name}. {est} expected 2.")
    if "complex" in str(X.dtype):
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    n, p = int(X.shape[0]), int(X.shape[1])
    if ensure_min_samples and n < ensure_min_samples:
        raise ValueError(f"Found array with {n} sample(s) (shape={(n, p)}) while a minimum of "
                         f"{ensure_min_samples} is required by {est}.")
    if ensure_min_features and p < ensure_min_features:
        raise ValueError(f"Found array with {p} feature(s) (shape={(n, p)}) while a minimum of "
                         f"{ensure_min_features} is required by {est}.")
    X = as_compute_format(X)
    vals = stored_values(X)
    xp = compute.xp
    if not allow_nan and bool(xp.isfinite(xp.sum(vals))):  # one reduction, no temporary, in the common case
        return X
    bad = xp.isinf(vals) if allow_nan else ~xp.isfinite(vals)
    n_bad = int(xp.sum(xp.astype(bad, xp.int32)))
    if n_bad:
        what = "infinite value(s)" if allow_nan else "NaN or infinite value(s)"
        raise ValueError(f"Input {name} contains {n_bad} {what} among its stored entries. Remove or "
                         "impute them first (toolbox.impute.SimpleImputer).")
    return X


def check_array(
    X: Any,
    *,
    xp: Any,
    device: Any = None,
    name: str = "X",
    estimator: Any = None,
    ensure_2d: bool = True,
    allow_nan: bool = False,
    ensure_min_samples: int = 1,
    ensure_min_features: int = 1,
    cast_float: bool = True,
    check_finite: bool = True,
) -> Any:
    """Validate an array already in namespace ``xp``; return it cast to a float dtype.

    Checks: dimensions (2-D unless ``ensure_2d=False``), no complex values,
    at least ``ensure_min_samples`` rows and ``ensure_min_features`` columns,
    finite values unless ``allow_nan``. Floating dtypes are kept (half
    precision becomes float32); integers and booleans become the namespace's
    default float. The input is never modified.
    """
    est = _estimator_name(estimator)
    if xp.isdtype(X.dtype, "complex floating"):
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    if ensure_2d:
        if X.ndim == 0:
            raise ValueError(
                f"Expected 2D array, got scalar array instead for {name}. Reshape your data "
                "either using array.reshape(-1, 1) if your data has a single feature or "
                "array.reshape(1, -1) if it contains a single sample."
            )
        if X.ndim == 1:
            raise ValueError(
                f"Expected 2D array, got 1D array instead for {name} (shape {tuple(X.shape)}). "
                "Reshape your data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        if X.ndim > 2:
            raise ValueError(f"Found array with dim {X.ndim} for {name}. {est} expected <= 2.")
    n = X.shape[0] if X.ndim else 1
    if ensure_min_samples and n < ensure_min_samples:
        raise ValueError(
            f"Found array with {n} sample(s) (shape={tuple(X.shape)}) while a minimum of "
            f"{ensure_min_samples} is required by {est}."
        )
    if ensure_2d and ensure_min_features and X.shape[1] < ensure_min_features:
        raise ValueError(
            f"Found array with {X.shape[1]} feature(s) (shape={tuple(X.shape)}) while a minimum "
            f"of {ensure_min_features} is required by {est}."
        )
    if cast_float:
        dtype = float_dtype(X, xp=xp, device=device)
        if X.dtype != dtype:
            X = xp.astype(X, dtype)
        if not check_finite:
            pass  # the caller checks its own statistics instead: see check_finite_after
        elif not allow_nan:
            _check_finite(X, xp=xp, name=name)
        else:
            _check_no_inf(X, xp=xp, name=name)
    return X


def check_finite_after(v: Validated, *stats: Any, name: str = "X") -> None:
    """The finiteness check that ``validate_data(..., check_finite=False)`` deferred.

    For fits whose statistics are sums over rows (means, variances, minima and
    maxima, Gram matrices): a NaN or infinity anywhere in a column of ``v.X``
    makes that column's statistic non-finite, so finite ``stats`` prove
    ``v.X`` finite without a pass of its own. Otherwise ``v.X`` is scanned
    and the usual error (how many, where the first is) raised; an overflow
    of finite values passes, as in :func:`validate_data`.
    """
    xp = v.xp
    if is_sparse(v.X) or all(s is None or bool(xp.all(xp.isfinite(s))) for s in stats):
        return  # (sparse input is always checked by validate_data: its stored entries are few)
    _check_finite(v.X, xp=xp, name=name)


def _check_feature_names(estimator: Any, X: Any, *, reset: bool) -> None:
    """Record ``feature_names_in_`` from a DataFrame at fit; check them later (scikit-learn's rules)."""
    names = None
    cols = getattr(X, "columns", None)
    if cols is not None and type(X).__module__.startswith("pandas"):
        col_list = list(cols)
        if col_list and all(isinstance(c, str) for c in col_list):
            names = np.asarray(col_list, dtype=object)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    est = _estimator_name(estimator)
    if fitted is None and names is None:
        return
    if names is not None and fitted is None:
        warnings.warn(f"X has feature names, but {est} was fitted without feature names", UserWarning,
                      stacklevel=3)
        return
    if names is None:
        warnings.warn(f"X does not have valid feature names, but {est} was fitted with feature names",
                      UserWarning, stacklevel=3)
        return
    if len(fitted) != len(names) or np.any(fitted != names):
        msg = "The feature names should match those that were passed during fit.\n"
        unseen = sorted(set(names) - set(fitted))
        missing = sorted(set(fitted) - set(names))
        if unseen:
            msg += "Feature names unseen at fit time:\n" + "".join(f"- {n}\n" for n in unseen)
        if missing:
            msg += "Feature names seen at fit time, yet now missing:\n" + "".join(f"- {n}\n" for n in missing)
        if not unseen and not missing:
            msg += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(msg)


@dataclass
class Validated:
    """What :func:`validate_data` returns.

    ``X`` (and ``y``, ``sample_weight`` when given) live in ``compute.xp`` on
    ``compute.device``; ``origin`` records the caller's library and device.
    """

    X: Any
    y: Any
    sample_weight: Any
    compute: Compute
    origin: Origin

    @property
    def xp(self) -> Any:
        return self.compute.xp


def _check_y(y: Any, *, compute: Compute, n_samples: int, y_numeric: bool, multi_output: bool,
             estimator: Any) -> Any:
    if framework_of(y) is None:
        y = as_host_array(y)
    if isinstance(y, np.ndarray) and y.dtype.kind == "O" and y_numeric:
        try:  # numbers stored as objects; string or object labels otherwise stay on the host
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1 and not multi_output:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape "
            "of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim == 0 or y.ndim > (2 if multi_output else 1):
        raise ValueError(f"y should be a 1d array, got an array of shape {tuple(y.shape)} instead.")
    if y.shape[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has {n_samples} "
            f"samples but y has {y.shape[0]}."
        )
    if isinstance(y, np.ndarray) and y.dtype.kind in "OUS":
        if y_numeric:
            raise ValueError(f"{_estimator_name(estimator)} needs numeric targets; y has dtype {y.dtype}.")
        return y
    y = compute.asarray(y)
    if y_numeric:
        y = check_array(y, xp=compute.xp, device=compute.device, name="y", estimator=estimator,
                        ensure_2d=False)
    return y


def _check_sample_weight(sample_weight: Any, *, compute: Compute, n_samples: int, dtype: Any) -> Any:
    xp = compute.xp
    if sample_weight is None:
        return None
    if isinstance(sample_weight, (int, float, np.number)):
        return xp.full((n_samples,), float(sample_weight), dtype=dtype, device=compute.device)
    sw = _to_compute(sample_weight, compute, "sample_weight")
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {tuple(sw.shape)}, expected ({n_samples},): one weight per sample."
        )
    sw = xp.astype(sw, dtype) if sw.dtype != dtype else sw
    _check_finite(sw, xp=xp, name="sample_weight")
    return sw


def validate_data(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    reset: bool,
    sample_weight: Any = None,
    y_numeric: bool = False,
    multi_output: bool = False,
    allow_nan: bool = False,
    ensure_min_samples: int = 1,
    accept_sparse: bool = False,
    sparse_hint: str | None = None,
    check_finite: bool = True,
) -> Validated:
    """Resolve the backend for this call, convert and validate ``X`` (and ``y``, ``sample_weight``).

    With ``reset=True`` (in ``fit``) ``n_features_in_`` and
    ``feature_names_in_`` are recorded; otherwise they are checked.

    Sparse ``X`` (``scipy.sparse``, torch sparse tensors) is refused with a
    ``TypeError`` (naming ``sparse_hint``, the sparse-friendly alternative,
    when given) unless ``accept_sparse``; then it is checked by
    :func:`check_sparse` and stays sparse (``X`` of the result is SciPy CSR or
    CSC on NumPy, a torch CSR tensor on torch).

    ``check_finite=False`` (dense ``X`` only) skips the pass that looks for
    NaN/inf: with ``allow_nan=False`` the caller promises to call
    :func:`check_finite_after` on statistics that any non-finite value makes
    non-finite, before it stores anything; with ``allow_nan=True`` NaN and
    infinity are both the caller's to handle (histogram gradient boosting bins them).

    Raises
    ------
    TypeError
        Arrays from two libraries or two devices (host labels and weights,
        NumPy or lists, may accompany arrays of another library).
    ValueError
        Wrong dimensions, empty input, NaN/inf (the message gives how many and
        where the first is), inconsistent lengths, wrong number of features.
    """
    # Host labels and weights (NumPy, lists) may accompany arrays of any library.
    others = {k: v for k, v in (("y", y), ("sample_weight", sample_weight))
              if v is not None and not isinstance(v, np.ndarray)}
    check_same_library(X=X, **others)
    origin = origin_of(X)
    compute = resolve(X)
    _check_feature_names(estimator, X, reset=reset)
    if is_sparse(X):
        if not accept_sparse:
            raise TypeError(_sparse_refusal(estimator, "X", sparse_hint))
        Xa = check_sparse(X, compute=compute, estimator=estimator, allow_nan=allow_nan,
                          ensure_min_samples=ensure_min_samples)
    else:
        Xa = _to_compute(X, compute, "X")
        Xa = check_array(Xa, xp=compute.xp, device=compute.device, name="X", estimator=estimator,
                         allow_nan=allow_nan, ensure_min_samples=ensure_min_samples,
                         check_finite=check_finite)
    n_features = int(Xa.shape[1])
    if reset:
        estimator.n_features_in_ = n_features
    else:
        expected = getattr(estimator, "n_features_in_", None)
        if expected is not None and n_features != expected:
            raise ValueError(
                f"X has {n_features} features, but {_estimator_name(estimator)} is expecting "
                f"{expected} features as input."
            )
    n_samples = int(Xa.shape[0])
    ya = None
    if y is not None:
        ya = _check_y(y, compute=compute, n_samples=n_samples, y_numeric=y_numeric,
                      multi_output=multi_output, estimator=estimator)
    sw = _check_sample_weight(sample_weight, compute=compute, n_samples=n_samples, dtype=Xa.dtype)
    return Validated(Xa, ya, sw, compute, origin)


# --------------------------------------------------------------------------- #
# The base class
# --------------------------------------------------------------------------- #


def _move(value: Any, name: str, device: Any) -> Any:
    """Convert numeric arrays (also inside lists and tuples) to backend ``name``; leave the rest."""
    if isinstance(value, (list, tuple)):
        return type(value)(_move(v, name, device) for v in value)
    if framework_of(value) is None or (isinstance(value, np.ndarray) and value.dtype.kind not in "biuf"):
        return value  # scalars, strings, object arrays (e.g. string class labels) stay as they are
    return to_backend(value, name, device)


def _sklearn_callbacks() -> Any:
    """scikit-learn's callback support (>= 1.9), imported on first use (it imports rich for ProgressBar)."""
    try:
        from sklearn.callback import CallbackSupportMixin
    except ImportError as exc:  # pragma: no cover - older scikit-learn
        raise ImportError("set_callbacks needs scikit-learn >= 1.9 (the sklearn.callback module).") from exc
    return CallbackSupportMixin


class _CallbackSupport:
    """scikit-learn's ``CallbackSupportMixin`` (set_callbacks, the callback context), bound lazily."""

    def set_callbacks(self, *callbacks: Any) -> Any:
        """Set scikit-learn callbacks (``sklearn.callback``) for the next fits; returns self."""
        return _sklearn_callbacks().set_callbacks(self, *callbacks)

    def _init_callback_context(self, *args: Any, **kwargs: Any) -> Any:
        return _sklearn_callbacks()._init_callback_context(self, *args, **kwargs)


class BaseEstimator(_CallbackSupport, sklearn.base.BaseEstimator):
    """scikit-learn's ``BaseEstimator`` plus toolbox's backend handling.

    Fitted attributes (names ending in ``_``) live on the namespace and
    device they were computed on; :meth:`to_backend` moves them. ``set_callbacks``
    (scikit-learn's callback API) makes each ``fit``/``partial_fit`` one callback task.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every fit / fit_transform a subclass defines runs through the active
        # fit hooks (caching, autologging): see toolbox._hooks
        super().__init_subclass__(**kwargs)
        for method in ("fit", "fit_transform"):
            func = cls.__dict__.get(method)
            if callable(func):
                setattr(cls, method, _hooks.wrap_fit(func, method))
        func = cls.__dict__.get("partial_fit")
        if inspect.isfunction(func):
            cls.partial_fit = _hooks.wrap_callbacks(func)
        # outermost: a dask.array (or the "dask" backend) goes to toolbox.dask's blockwise
        # paths, defined or inherited (plain functions only: available_if descriptors stay)
        for method in _hooks.DASK_METHODS:
            func = inspect.getattr_static(cls, method, None)
            if inspect.isfunction(func) and not getattr(func, "__toolbox_dask__", False):
                setattr(cls, method, _hooks.wrap_dask(func, method))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def to_backend(self, name: str, device: Any = None) -> BaseEstimator:
        """Move every fitted array attribute to backend ``name`` on ``device``; return self."""
        check_is_fitted(self)
        vars(self).update({k: _move(v, name, device) for k, v in vars(self).items()
                           if k.endswith("_") and not k.startswith("_")})
        return self

    def _fitted(self, compute: Compute, *names: str, dtype: Any = None) -> tuple[Any, ...]:
        """Fitted attributes ``names`` converted to ``compute`` (and ``dtype``); ``None`` stays ``None``."""
        xp = compute.xp
        out = []
        for name in names:
            value = getattr(self, name)
            if value is not None:
                value = compute.asarray(value)
                if dtype is not None and value.dtype != dtype:
                    value = xp.astype(value, dtype)
            out.append(value)
        return tuple(out)

    @staticmethod
    def _output(result: Any, origin: Origin) -> Any:
        """Return ``result`` as the caller expects: mirroring the input, or per ``output_type``."""
        mode = get_config()["output_type"]
        if is_sparse(result):  # sparse stays sparse, in the library it was computed with
            return result
        if mode == "backend":
            return result
        if mode == "input":
            return to_backend(result, origin.framework, origin.device)
        return to_backend(result, mode)


def _score_inputs(estimator: Any, X: Any, y: Any, sample_weight: Any) -> tuple[Any, Any, Any, Any]:
    """Predict on ``X``; return ``(xp, y_true, y_pred, sample_weight)`` in one namespace.

    Host labels follow the predictions to their device, except non-numeric
    labels (strings), for which the predictions come to the host instead.
    """
    y_pred = estimator.predict(X)
    y = y if framework_of(y) is not None else np.asarray(y)
    if isinstance(y, np.ndarray) and y.dtype.kind in "OUSb" and not isinstance(y_pred, np.ndarray):
        y_pred = to_backend(y_pred, "numpy")
    fw = framework_of(y_pred)  # score where the predictions are, whatever the active backend
    where = Compute(fw.xp, fw.device_of(y_pred), fw.name, fw)
    y_true = y if framework_of(y) is fw else where.asarray(y)
    sw = None if sample_weight is None else _to_compute(sample_weight, where, "sample_weight")
    return fw.xp, y_true, y_pred, sw


class ClassifierMixin(sklearn.base.ClassifierMixin):
    """scikit-learn's ClassifierMixin with ``score`` (accuracy) computed on the data's device."""

    def _output_labels(self, idx: Any, compute: Compute, origin: Origin) -> Any:
        """Class labels for integer indices ``idx`` (shape (n,)), returned as any output is.

        Numeric ``classes_`` are brought to ``compute`` and the labels mirror the
        caller's input; non-numeric (string) labels can only live on the host and
        come back as NumPy.
        """
        from ._labels import decode_labels

        classes = self.classes_
        if not (isinstance(classes, np.ndarray) and classes.dtype.kind not in "biuf"):
            (classes,) = self._fitted(compute, "classes_")
        labels = decode_labels(idx, classes, xp=compute.xp)
        if isinstance(labels, np.ndarray) and labels.dtype.kind not in "biuf":
            return labels
        return self._output(labels, origin)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``self.predict(X)`` against ``y`` (weighted by ``sample_weight``); for
        several outputs the subset accuracy (a sample counts when every output is right), as scikit-learn."""
        xp, y_true, y_pred, sw = _score_inputs(self, X, y, sample_weight)
        if y_true.shape != y_pred.shape:
            y_true = xp.reshape(y_true, y_pred.shape)
        correct = y_true == y_pred
        if correct.ndim == 2:
            correct = xp.all(correct, axis=1)
        if sw is None:  # an exact fraction, whatever the float precision of the device
            return int(xp.sum(xp.astype(correct, xp.int32))) / int(correct.shape[0])
        return float(xp.sum(xp.where(correct, sw, xp.zeros_like(sw))) / xp.sum(sw))


class RegressorMixin(sklearn.base.RegressorMixin):
    """scikit-learn's RegressorMixin with ``score`` (R^2) computed on the data's device."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of ``self.predict(X)`` against ``y`` (averaged over outputs)."""
        xp, y_true, y_pred, sw = _score_inputs(self, X, y, sample_weight)
        if y_pred.shape[0] < 2:  # scikit-learn's r2_score: NaN, with its warning
            warnings.warn("R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                          stacklevel=2)
            return float("nan")
        y_true = xp.astype(y_true, y_pred.dtype) if y_true.dtype != y_pred.dtype else y_true
        if y_true.ndim == 1 and y_pred.ndim == 2:
            y_pred = xp.reshape(y_pred, y_true.shape)
        if sw is None:
            w = xp.ones((y_true.shape[0],), dtype=y_true.dtype, device=y_true.device)
        else:
            w = xp.astype(sw, y_true.dtype)
        if y_true.ndim == 2:
            w = w[:, None]
        mean = xp.sum(w * y_true, axis=0) / xp.sum(w, axis=0)
        ss_res = xp.sum(w * (y_true - y_pred) ** 2, axis=0)
        ss_tot = xp.sum(w * (y_true - mean) ** 2, axis=0)
        # scikit-learn's convention: a constant target scores 1 when predicted exactly, else 0
        safe_tot = xp.where(ss_tot > 0, ss_tot, xp.ones_like(ss_tot))
        r2 = xp.where(ss_tot > 0, 1.0 - ss_res / safe_tot,
                      xp.where(ss_res > 0, xp.zeros_like(ss_res), xp.ones_like(ss_res)))
        return float(xp.mean(r2))

"""Univariate imputation of missing values, and the missing-value indicator."""

from __future__ import annotations

import math
import warnings
from numbers import Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_feature_names_in

from ..backends import _sparse as sp
from ..backends import framework_of, origin_of, resolve, to_backend
from ..backends.primitives import bincount
from ..base import BaseEstimator, TransformerMixin, _to_compute, check_array, check_is_fitted, validate_data

__all__ = ["MissingIndicator", "SimpleImputer"]


def _is_nan(value: Any) -> bool:
    return isinstance(value, Real) and math.isnan(value)


def _check_missing_values(missing_values: Any, dtype: Any) -> None:
    """scikit-learn's check, after X is validated: a numeric X needs a numeric ``missing_values``."""
    if not isinstance(missing_values, Real) or isinstance(missing_values, bool):
        raise ValueError(
            f"'X' and 'missing_values' types are expected to be both numerical. Got X.dtype={dtype} and "
            f"type(missing_values)={type(missing_values)}: toolbox estimators need numeric data, and "
            "missing_values must be np.nan or a number."
        )


def _non_numeric_error(estimator: Any, X: Any, error: Exception) -> Exception | None:
    """scikit-learn's message for host data that is not numeric (None: not that problem)."""
    if sp.is_sparse(X) or (framework_of(X) is not None and not isinstance(X, np.ndarray)):
        return None
    if isinstance(X, np.ndarray) and X.dtype.kind in "biufc":
        return None  # numeric: some other problem
    strategy = getattr(estimator, "strategy", None)
    if strategy in ("mean", "median"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                np.asarray(X, dtype=np.float64)
        except (ValueError, TypeError) as exc:
            if "could not convert" in str(exc):
                return ValueError(f"Cannot use {strategy} strategy with non-numeric data:\n{exc}")
        return None
    if not isinstance(X, np.ndarray):
        return None  # lists and DataFrames of strings: toolbox's own message
    name = type(estimator).__name__
    if X.dtype.kind in "US":
        return ValueError(
            f"{name} does not support data with dtype {X.dtype}. Please provide a numeric array (with a "
            "floating point or integer dtype): toolbox imputes numeric data only; encode strings first "
            "(e.g. toolbox.preprocessing.OneHotEncoder)."
        )
    if X.dtype.kind == "O" and "could not convert" in str(error):  # (a TypeError, e.g. a dict, stays)
        return ValueError(
            f"X holds non-numeric values (object); toolbox estimators need numeric data: {name} imputes "
            "numbers only. Encode strings first (e.g. toolbox.preprocessing.OneHotEncoder)."
        )
    return None


def _validate(estimator: Any, X: Any, *, reset: bool) -> Any:
    """validate_data that lets NaN through only when NaN marks the missing values (never inf)."""
    mv = estimator.missing_values
    numeric = isinstance(mv, Real) and not isinstance(mv, bool)
    allow_nan = _is_nan(mv)
    if sp.is_sparse(X) and numeric and not allow_nan and float(mv) == 0:
        if isinstance(estimator, SimpleImputer):
            raise ValueError("Imputation not possible when missing_values == 0 and input is sparse. Provide a "
                             "dense array instead.")
        raise ValueError("Sparse input with missing_values=0 is not supported. Provide a dense array instead.")
    try:
        v = validate_data(estimator, X, reset=reset, allow_nan=allow_nan, accept_sparse=True)
    except (ValueError, TypeError) as exc:
        better = _non_numeric_error(estimator, X, exc)
        if better is None:
            raise
        raise better from exc
    _check_missing_values(mv, sp.stored_values(v.X).dtype if sp.is_sparse(v.X) else v.X.dtype)
    if sp.is_sparse(v.X):
        return v
    if allow_nan:
        xp = v.xp
        n_inf = int(xp.sum(xp.astype(xp.isinf(v.X), xp.int32)))
        if n_inf:
            raise ValueError(
                f"Input X contains {n_inf} infinite value(s); {type(estimator).__name__} accepts NaN "
                "as missing values, but not infinity."
            )
    return v


def _input_dtype(X: Any) -> np.dtype | None:
    """The NumPy dtype scikit-learn would see for ``X`` as given (before toolbox's float cast), if known."""
    dt = getattr(X, "dtype", None)
    if dt is None and hasattr(X, "dtypes"):  # a DataFrame
        dts = list(X.dtypes)
        return np.result_type(*dts) if dts and all(isinstance(d, np.dtype) for d in dts) else None
    if dt is None:
        try:
            return np.asarray(X).dtype
        except (ValueError, TypeError):
            return None
    if isinstance(dt, np.dtype):
        return dt
    name = str(dt).rsplit(".", 1)[-1]  # torch.float32 -> float32
    try:
        return np.dtype(name)
    except TypeError:
        return np.dtype(np.float32) if "float" in name else None


def _sparse_mask(X: Any, missing_values: Any, *, xp: Any) -> Any:
    """Sparse boolean matrix (``X``'s compute format) storing True where a stored entry is missing."""
    miss = _missing_mask(sp.stored_values(X), missing_values, xp=xp)
    return sp.keep_entries(X, miss, miss[miss])


def _features_with_missing(mask: Any, *, xp: Any) -> np.ndarray:
    """Host boolean array (n_features,): whether each feature has a missing value, for a dense or sparse mask."""
    if sp.is_sparse(mask):
        counts = bincount(sp._col_index(mask), length=int(mask.shape[1]), xp=xp)
        return np.asarray(to_backend(counts > 0, "numpy"))
    return np.asarray(to_backend(xp.any(mask, axis=0), "numpy"))


def _select_features(mask: Any, idx: np.ndarray, *, xp: Any) -> Any:
    if sp.is_sparse(mask):
        return sp.select_columns(mask, idx)
    return xp.take(mask, xp.asarray(idx, dtype=_index_dtype(xp, mask), device=mask.device), axis=1)


def _missing_mask(X: Any, missing_values: Any, *, xp: Any) -> Any:
    """Boolean array of X's shape: True where a value is missing."""
    if _is_nan(missing_values):
        return xp.isnan(X)
    return X == float(missing_values)


def _sorted_rows(X: Any, mask: Any, *, xp: Any) -> Any:
    """Each feature's values sorted, as the rows of a (n_features, n_samples) array, missing values last.

    Missing entries become +inf (X holds no infinity: validated), so they sort
    last. Working on rows keeps every later step contiguous.
    """
    return xp.sort(xp.where(mask, xp.full_like(X, math.inf), X).T, axis=1)


def _nan_median(X: Any, mask: Any, count: Any, *, xp: Any) -> Any:
    """Median of the observed values of each column: one sort, static indices."""
    S = _sorted_rows(X, mask, xp=xp)
    c = xp.astype(count, _index_dtype(xp, X))
    lo = xp.clip((c - 1) // 2, 0, None)[:, None]
    hi = xp.clip(c // 2, 0, None)[:, None]
    a = xp.take_along_axis(S, lo, axis=1)[:, 0]
    b = xp.take_along_axis(S, hi, axis=1)[:, 0]
    return (a + b) / 2


def _index_dtype(xp: Any, X: Any) -> Any:
    return xp.__array_namespace_info__().default_dtypes(device=X.device)["indexing"]


def _most_frequent(X: Any, mask: Any, *, xp: Any) -> Any:
    """Most frequent observed value of each column; ties go to the smallest value.

    Each feature is sorted (missing values last, as +inf); equal neighbours
    form runs whose ids are the cumulative sum of "value changed". One
    weighted ``bincount`` over (feature, run) gives every run's count of
    observed values, and the first maximum per feature (the smallest value
    among ties) is read back through the cumulative counts. Static shapes.
    """
    n, d = X.shape
    S = _sorted_rows(X, mask, xp=xp)  # (d, n)
    idt = _index_dtype(xp, X)
    first = xp.ones((d, 1), dtype=xp.bool, device=X.device)
    new = xp.concat([first, S[:, 1:] != S[:, :-1]], axis=1) if n > 1 else first
    run = xp.cumulative_sum(xp.astype(new, idt), axis=1) - 1  # (d, n): run id within each feature
    rows = xp.arange(d, dtype=idt, device=X.device)[:, None]
    ids = xp.reshape(run + rows * n, (-1,))
    observed = xp.reshape(xp.astype(~xp.isinf(S), X.dtype), (-1,))
    counts = xp.reshape(bincount(ids, length=n * d, weights=observed, xp=xp), (d, n))
    best = xp.argmax(counts, axis=1)[:, None]  # (d, 1): first maximum = smallest value
    # start of the best run: the observed counts of the runs before it (missing values come last)
    start = xp.take_along_axis(xp.cumulative_sum(counts, axis=1), best, axis=1) - xp.take_along_axis(
        counts, best, axis=1)
    start = xp.clip(xp.astype(start, idt), 0, n - 1)
    return xp.take_along_axis(S, start, axis=1)[:, 0]


def _sorted_entries(values: Any, cols: Any, *, xp: Any) -> tuple[Any, Any]:
    """``(cols, values)`` of stored entries sorted by column, then value (two stable sorts)."""
    if isinstance(values, np.ndarray):
        order = np.lexsort((values, cols))
        return cols[order], values[order]
    order = xp.argsort(values, stable=True)
    cols = xp.take(cols, order, axis=0)
    values = xp.take(values, order, axis=0)
    order = xp.argsort(cols, stable=True)
    return xp.take(cols, order, axis=0), xp.take(values, order, axis=0)


def _sparse_median(X: Any, miss: Any, *, xp: Any) -> Any:
    """Median of the observed values of each column of sparse ``X``, implicit zeros included.

    The observed stored entries are sorted once by (column, value); the k-th
    smallest value of column j is then a stored entry below its zeros, a zero,
    or a stored entry above them, found by index arithmetic: no loop over
    columns, memory of the stored entries.
    """
    n, d = int(X.shape[0]), int(X.shape[1])
    vals = sp.stored_values(X)
    cols = xp.astype(sp._col_index(X), xp.int64)
    stored = bincount(cols, length=d, xp=xp)
    keep = ~miss
    c, v = _sorted_entries(vals[keep], cols[keep], xp=xp)
    m = bincount(c, length=d, xp=xp)  # observed stored entries per column
    zeros = n - stored  # implicit zeros per column
    count = m + zeros
    neg = bincount(c[v < 0], length=d, xp=xp)
    start = xp.cumulative_sum(m) - m
    pad = xp.concat([v, xp.zeros((1,), dtype=v.dtype, device=v.device)])
    last = int(v.shape[0])

    def kth(k: Any) -> Any:
        below = xp.take(pad, xp.clip(start + k, 0, last), axis=0)  # the k-th stored entry, when k < neg
        above = xp.take(pad, xp.clip(start + k - zeros, 0, last), axis=0)  # when k >= neg + zeros
        return xp.where(k < neg, below, xp.where(k < neg + zeros, xp.zeros_like(below), above))

    lo = xp.clip((count - 1) // 2, 0, None)
    hi = xp.clip(count // 2, 0, None)
    return (kth(lo) + kth(hi)) / 2


def _sparse_most_frequent(X: Any, miss: Any, *, xp: Any) -> Any:
    """Most frequent observed value of each column of sparse ``X`` (implicit zeros included; ties go to
    the smallest value), from one sort of the observed non-zero stored entries by (column, value)."""
    n, d = int(X.shape[0]), int(X.shape[1])
    vals = sp.stored_values(X)
    cols = xp.astype(sp._col_index(X), xp.int64)
    n_missing = bincount(cols[miss], length=d, xp=xp)
    keep = ~miss & (vals != 0)
    c, v = _sorted_entries(vals[keep], cols[keep], xp=xp)
    zeros = n - n_missing - bincount(c, length=d, xp=xp)  # implicit and explicit zeros per column
    best_count = xp.zeros((d,), dtype=vals.dtype, device=vals.device)
    best_value = xp.zeros((d,), dtype=vals.dtype, device=vals.device)
    if int(v.shape[0]):
        first = xp.ones((1,), dtype=xp.bool, device=v.device)
        new = xp.concat([first, (c[1:] != c[:-1]) | (v[1:] != v[:-1])])
        run = xp.cumulative_sum(xp.astype(new, xp.int64)) - 1
        n_runs = int(run[-1]) + 1
        run_count = bincount(run, length=n_runs, xp=xp)
        starts = xp.nonzero(new)[0]
        run_col = xp.take(c, starts, axis=0)
        run_val = xp.take(v, starts, axis=0)
        # runs by column, then count (descending); stable, so ties keep the smallest value first
        order = xp.argsort(-run_count, stable=True)
        order = xp.take(order, xp.argsort(xp.take(run_col, order, axis=0), stable=True), axis=0)
        rc = xp.take(run_col, order, axis=0)
        head = xp.nonzero(xp.concat([first, rc[1:] != rc[:-1]]))[0]
        top = xp.take(order, head, axis=0)
        top_col = xp.take(run_col, top, axis=0)
        best_count = bincount(top_col, length=d, weights=xp.astype(xp.take(run_count, top, axis=0), vals.dtype),
                              xp=xp)
        best_value = bincount(top_col, length=d, weights=xp.take(run_val, top, axis=0), xp=xp)
    zeros = xp.astype(zeros, vals.dtype)
    zero = xp.zeros_like(best_value)
    return xp.where(best_count > zeros, best_value,
                    xp.where(best_count < zeros, zero, xp.minimum(best_value, zero)))


def _dense_to_sparse_mask(mask: Any) -> Any:
    """A dense boolean mask as a sparse matrix: SciPy CSC for NumPy (``csc_matrix``, or ``csc_array``
    under scikit-learn's ``sparse_interface="sparray"``), a torch sparse CSR tensor for torch."""
    if isinstance(mask, np.ndarray):
        import scipy.sparse
        import sklearn

        sparray = sklearn.get_config().get("sparse_interface") == "sparray"
        return (scipy.sparse.csc_array if sparray else scipy.sparse.csc_matrix)(mask)
    fw = framework_of(mask)
    if fw is not None and fw.name == "torch":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
            return mask.to_sparse_csr()
    raise ValueError(
        "MissingIndicator(sparse=True) returns a SciPy sparse matrix (NumPy input) or a torch sparse tensor "
        f"(torch input); got {fw.name if fw is not None else type(mask).__name__} data. Use sparse='auto' "
        "or False for a dense mask."
    )


class MissingIndicator(TransformerMixin, BaseEstimator):
    """Binary indicators of missing values.

    Parameters
    ----------
    missing_values : float or int, default=np.nan
        The placeholder for missing values (``missing_values=0`` is refused for sparse input).
    features : {'missing-only', 'all'}, default='missing-only'
        Indicate the features with missing values in ``fit``, or all features.
    sparse : 'auto' or bool, default='auto'
        Whether the mask is sparse: ``'auto'``, as the input; ``True``, always (SciPy CSC for NumPy
        and SciPy input, a torch sparse tensor for torch); ``False``, always dense.
    error_on_new : bool, default=True
        Raise when, with ``features='missing-only'``, a feature without missing
        values in ``fit`` has some in ``transform``.

    Attributes
    ----------
    features_ : ndarray of shape (n_missing_features,) or (n_features,)
        Indices of the indicated features (NumPy, int).
    n_features_in_ : int
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "missing_values": [Real, str, None],  # a string or None: refused in fit, as scikit-learn
        "features": [StrOptions({"missing-only", "all"})],
        "sparse": ["boolean", StrOptions({"auto"})],
        "error_on_new": ["boolean"],
    }

    def __init__(self, *, missing_values: Any = np.nan, features: str = "missing-only",
                 sparse: Any = "auto", error_on_new: bool = True) -> None:
        self.missing_values = missing_values
        self.features = features
        self.sparse = sparse
        self.error_on_new = error_on_new

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _is_nan(self.missing_values)
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _fit_mask(self, mask: Any, *, xp: Any) -> MissingIndicator:
        d = int(mask.shape[1])
        self._n_features = d
        if self.features == "all":
            self.features_ = np.arange(d)
        else:
            self.features_ = np.flatnonzero(_features_with_missing(mask, xp=xp))
        self._features = tuple(int(j) for j in self.features_)
        return self

    def _transform_mask(self, mask: Any, *, xp: Any) -> Any:
        """The mask (dense or sparse) of the indicated features; checks for new missing features."""
        if self.features == "missing-only":
            if self.error_on_new:
                per_feature = _features_with_missing(mask, xp=xp)
                new = np.setdiff1d(np.flatnonzero(per_feature), np.asarray(self._features, dtype=np.intp))
                if new.size:
                    raise ValueError(
                        f"The features {new} have missing values in transform but have no missing values in fit."
                    )
            if len(self._features) < self._n_features:
                mask = _select_features(mask, np.asarray(self._features, dtype=np.intp), xp=xp)
        return mask

    def _mask(self, v: Any) -> Any:
        if sp.is_sparse(v.X):
            return _sparse_mask(v.X, self.missing_values, xp=v.xp)
        return _missing_mask(v.X, self.missing_values, xp=v.xp)

    def _finish(self, mask: Any, X: Any, origin: Any) -> Any:
        """The mask in the output format that ``sparse`` asks for."""
        sparse_out = self.sparse is True or (self.sparse == "auto" and sp.is_sparse(X))
        if not sp.is_sparse(mask):
            mask = self._output(mask, origin)
            return _dense_to_sparse_mask(mask) if sparse_out else mask
        if not sparse_out:
            return self._output(sp.to_dense(mask), origin)
        if sp.sparse_kind(mask) == "scipy":
            return mask.tocsc()
        return sp.restore_format(mask, X)

    def fit(self, X: Any, y: Any = None) -> MissingIndicator:
        """Find the features with missing values in ``X`` (n_samples, n_features), dense or sparse."""
        self._validate_params()
        v = _validate(self, X, reset=True)
        return self._fit_mask(self._mask(v), xp=v.xp)

    def transform(self, X: Any) -> Any:
        """Boolean indicators, shape (n_samples, len(features_)), in ``X``'s library and device."""
        check_is_fitted(self)
        v = _validate(self, X, reset=False)
        return self._finish(self._transform_mask(self._mask(v), xp=v.xp), X, v.origin)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return its indicators (validates ``X`` once)."""
        self._validate_params()
        v = _validate(self, X, reset=True)
        mask = self._mask(v)
        self._fit_mask(mask, xp=v.xp)
        return self._finish(self._transform_mask(mask, xp=v.xp), X, v.origin)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``"missingindicator_<feature>"`` for each indicated feature (object array)."""
        check_is_fitted(self, "n_features_in_")
        input_features = _check_feature_names_in(self, input_features)
        names = input_features[np.asarray(self._features, dtype=np.intp)]
        return np.asarray([f"missingindicator_{name}" for name in names], dtype=object)


class SimpleImputer(TransformerMixin, BaseEstimator):
    """Replace missing values with a per-feature statistic (mean, median, most frequent) or a constant.

    Statistics are computed on the input's own backend and device with static
    shapes: masked sums and counts for the mean; one sort with missing values
    pushed last for the median and the most frequent value. The one toolbox
    estimator that accepts NaN. A drop-in for :class:`sklearn.impute.SimpleImputer`
    on numeric data.

    Parameters
    ----------
    missing_values : float or int, default=np.nan
        The placeholder for missing values (NaN, or a number such as -1 or 0).
    strategy : {'mean', 'median', 'most_frequent', 'constant'} or callable, default='mean'
        The statistic; ties of 'most_frequent' go to the smallest value. A
        callable is called once per feature on its observed values (a 1-D
        array of X's library; for sparse input, as scikit-learn, the
        observed non-zero stored values) and returns a number.
    fill_value : number, default=None
        The value for ``strategy='constant'`` (None means 0).
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input
        (``copy=False`` returns a new array too).
    add_indicator : bool, default=False
        Append :class:`MissingIndicator` columns (as 0/1 in X's dtype).
    keep_empty_features : bool, default=False
        Keep features with no observed value in ``fit`` (imputed with 0, or
        ``fill_value`` for 'constant'); otherwise they are dropped in ``transform``.

    Attributes
    ----------
    statistics_ : array of shape (n_features,)
        The imputation value of each feature (NaN for dropped empty features),
        X's floating dtype, library and device.
    indicator_ : MissingIndicator or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Sparse input (SciPy, torch) stays sparse, with scikit-learn's semantics:
    implicit zeros are observed values, only stored entries can be missing
    (``missing_values=0`` raises), memory proportional to the stored entries.

    Differences from scikit-learn: numeric data only (no strings or
    ``pd.NA``), the output is floating even for integer input,
    ``statistics_`` is a float array for ``'constant'`` too; CSR input gives
    CSR output (scikit-learn: CSC).
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "missing_values": [Real, str, None],  # a string or None: refused in fit, as scikit-learn
        "strategy": [StrOptions({"mean", "median", "most_frequent", "constant"}), callable],
        "fill_value": "no_validation",
        "copy": ["boolean"],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }

    def __init__(self, *, missing_values: Any = np.nan, strategy: str = "mean", fill_value: Any = None,
                 copy: bool = True, add_indicator: bool = False, keep_empty_features: bool = False) -> None:
        self.missing_values = missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.copy = copy
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _is_nan(self.missing_values)
        tags.input_tags.sparse = True
        return tags

    def _fill(self) -> float:
        if self.fill_value is None:
            return 0.0
        if not isinstance(self.fill_value, Real) or isinstance(self.fill_value, bool):
            raise ValueError(
                f"fill_value={self.fill_value!r} (of type {type(self.fill_value)!r}) cannot be cast to the "
                "input data, which is numeric: non-numeric fill values are not supported (toolbox imputes "
                "numeric data only). Use a number for fill_value."
            )
        return float(self.fill_value)

    def _check_fill_casting(self, X: Any, *, in_fit: bool) -> None:
        """scikit-learn's same-kind rule for ``strategy='constant'``: the fill value (in ``fit``), then the
        dtype seen in ``fit`` (in ``transform``) must cast to an integer ``X``'s dtype."""
        if self.strategy != "constant":
            self._fill_dtype = None
            return
        dtype = _input_dtype(X)
        if in_fit:
            self._fill_dtype = dtype
            source = None if self.fill_value is None else type(self.fill_value)
        else:
            source = getattr(self, "_fill_dtype", None)
        if source is None or dtype is None or dtype.kind not in "iu" or np.can_cast(source, dtype, "same_kind"):
            return
        if in_fit:
            raise ValueError(
                f"fill_value={self.fill_value!r} (of type {type(self.fill_value)!r}) cannot be cast to the input "
                f"data that is {dtype!r}. If fill_value is a Python scalar, instead pass  a numpy scalar (e.g. "
                "fill_value=np.uint8(0) if your data is of type np.uint8). Make sure that both dtypes are of the "
                "same kind."
            )
        raise ValueError(
            f"The dtype of the filling value (i.e. {source!r}) cannot be cast to the input data that is "
            f"{dtype!r}. Make sure that the dtypes of the input data are of the same kind between fit and transform."
        )

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Compute the imputation statistic of each feature of ``X`` (n_samples, n_features), dense or sparse."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> tuple[Any, Any]:
        self._validate_params()
        fill = self._fill() if self.strategy == "constant" else None
        self._check_fill_casting(X, in_fit=True)
        v = _validate(self, X, reset=True)
        xp, Xa = v.xp, v.X
        if sp.is_sparse(Xa):
            return self._fit_sparse(v, fill)
        mask = _missing_mask(Xa, self.missing_values, xp=xp)
        count = xp.sum(xp.astype(~mask, Xa.dtype), axis=0)
        empty = count == 0
        if self.strategy == "mean":
            total = xp.sum(xp.where(mask, xp.zeros_like(Xa), Xa), axis=0)
            stats = total / xp.where(empty, xp.ones_like(count), count)
        elif self.strategy == "median":
            stats = _nan_median(Xa, mask, count, xp=xp)
        elif self.strategy == "most_frequent":
            stats = _most_frequent(Xa, mask, xp=xp)
        elif self.strategy == "constant":
            stats = xp.full((Xa.shape[1],), fill, dtype=Xa.dtype, device=Xa.device)
        else:
            has = _features_with_missing(~mask, xp=xp)  # at least one observed value
            stats = self._custom([Xa[:, j][~mask[:, j]] if has[j] else None for j in range(Xa.shape[1])],
                                 Xa, xp=xp)
        self._set_statistics(stats, empty, fill, xp=xp)
        self._fit_indicator(mask, xp=xp)
        return v, mask

    def _custom(self, columns: list[Any], Xa: Any, *, xp: Any) -> Any:
        """``strategy(column)`` for each feature's observed values (NaN where a feature has none)."""
        values = [math.nan if col is None else float(self.strategy(col)) for col in columns]
        dtype = sp.stored_values(Xa).dtype if sp.is_sparse(Xa) else Xa.dtype
        device = sp.stored_values(Xa).device if sp.is_sparse(Xa) else Xa.device
        return xp.asarray(values, dtype=dtype, device=device)

    def _fit_indicator(self, mask: Any, *, xp: Any) -> None:
        if self.add_indicator:
            self.indicator_ = MissingIndicator(missing_values=self.missing_values, error_on_new=False)
            self.indicator_.n_features_in_ = self.n_features_in_
            self.indicator_._fit_mask(mask, xp=xp)
        else:
            self.indicator_ = None

    def _set_statistics(self, stats: Any, empty: Any, fill: float | None, *, xp: Any) -> None:
        """``statistics_`` (empty features: ``fill``, 0 or NaN) and which features transform keeps."""
        if self.keep_empty_features:
            empty_value = fill if self.strategy == "constant" else 0.0
        else:
            empty_value = math.nan
        self.statistics_ = xp.where(empty, xp.full_like(stats, empty_value), stats)
        empty_host = np.asarray(to_backend(empty, "numpy"))
        self._valid = None if (self.keep_empty_features or not empty_host.any()) else np.flatnonzero(~empty_host)
        self._empty = np.flatnonzero(empty_host)

    def _fit_sparse(self, v: Any, fill: float | None) -> tuple[Any, Any]:
        """Statistics of sparse ``X`` (scikit-learn's semantics): implicit zeros are observed values,
        only stored entries can be missing. Memory proportional to the stored entries."""
        xp, Xa = v.xp, v.X
        n = int(Xa.shape[0])
        vals = sp.stored_values(Xa)
        miss = _missing_mask(vals, self.missing_values, xp=xp)
        n_missing = sp.column_sums(sp.with_values(Xa, xp.astype(miss, vals.dtype)))
        count = n - n_missing
        empty = count == 0
        if self.strategy == "constant":
            # scikit-learn's rule on sparse input: a column is dropped when all its *stored* entries
            # are missing (a column with no stored entry too), implicit zeros notwithstanding
            stored = sp.column_sums(sp.with_values(Xa, xp.ones_like(vals)))
            empty = n_missing == stored
            stats = xp.full((Xa.shape[1],), fill, dtype=vals.dtype, device=v.compute.device)
        elif self.strategy == "mean":
            observed = sp.with_values(Xa, xp.where(miss, xp.zeros_like(vals), vals))
            stats = sp.column_sums(observed) / xp.where(empty, xp.ones_like(count), count)
        elif self.strategy == "median":
            stats = _sparse_median(Xa, miss, xp=xp)
        elif self.strategy == "most_frequent":
            stats = _sparse_most_frequent(Xa, miss, xp=xp)
        else:
            keep = ~miss & (vals != 0)
            c, w = _sorted_entries(vals[keep], xp.astype(sp._col_index(Xa), xp.int64)[keep], xp=xp)
            m = np.asarray(to_backend(bincount(c, length=int(Xa.shape[1]), xp=xp), "numpy"))
            bounds = np.concatenate([[0], np.cumsum(m)])
            has = ~np.asarray(to_backend(empty, "numpy"))
            stats = self._custom([w[int(bounds[j]):int(bounds[j + 1])] if has[j] else None
                                  for j in range(m.shape[0])], Xa, xp=xp)
        self._set_statistics(stats, empty, fill, xp=xp)
        mask = None
        if self.add_indicator:
            mask = sp.keep_entries(Xa, miss, miss[miss])
        self._fit_indicator(mask, xp=xp)
        return v, mask

    def _warn_skipped(self) -> None:
        """scikit-learn's warning for the features dropped because they had no observed value in fit."""
        invalid = self._empty
        if hasattr(self, "feature_names_in_"):
            invalid = self.feature_names_in_[invalid]
        warnings.warn(
            f"Skipping features without any observed values: {invalid}. At least one non-missing "
            f"value is needed for imputation with strategy='{self.strategy}'.",
            UserWarning,
            stacklevel=4,
        )

    def _impute_sparse(self, v: Any, original: Any, mask: Any = None) -> Any:
        xp, Xa = v.xp, v.X
        (stats,) = self._fitted(v.compute, "statistics_", dtype=Xa.dtype)
        vals = sp.stored_values(Xa)
        miss = _missing_mask(vals, self.missing_values, xp=xp)
        cols = sp._col_index(Xa)
        out = sp.with_values(Xa, xp.where(miss, xp.take(stats, cols, axis=0), vals))
        if self._valid is not None:
            self._warn_skipped()
            out = sp.select_columns(out, self._valid)
        if self.indicator_ is not None:
            if mask is None:
                mask = sp.keep_entries(Xa, miss, miss[miss])
            ind = self.indicator_._transform_mask(mask, xp=xp)
            ind = sp.with_values(ind, xp.astype(sp.stored_values(ind), vals.dtype))
            out = sp.hstack([out, ind])
        return self._output(sp.restore_format(out, original), v.origin)

    def _impute(self, v: Any, mask: Any) -> Any:
        xp, Xa = v.xp, v.X
        (stats,) = self._fitted(v.compute, "statistics_", dtype=Xa.dtype)
        out = xp.where(mask, stats[None, :], Xa)
        if self._valid is not None:
            self._warn_skipped()
            out = xp.take(out, xp.asarray(self._valid, device=v.compute.device), axis=1)
        if self.indicator_ is not None:
            ind = self.indicator_._transform_mask(mask, xp=xp)
            out = xp.concat([out, xp.astype(ind, out.dtype)], axis=1)
        return self._output(out, v.origin)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return it imputed (validates ``X`` once)."""
        v, mask = self._fit(X)
        if sp.is_sparse(v.X):
            return self._impute_sparse(v, X, mask)
        return self._impute(v, mask)

    def transform(self, X: Any) -> Any:
        """Impute ``X`` (n_samples, n_features), dense or sparse (sparse stays sparse).

        Returns
        -------
        array of shape (n_samples, n_kept_features [+ n_indicators])
            X's library, device and floating dtype; features empty in ``fit``
            are dropped (with a warning) unless ``keep_empty_features=True``.
            With ``add_indicator=True`` and sparse ``X``, the indicators are
            sparse columns too.
        """
        check_is_fitted(self)
        self._check_fill_casting(X, in_fit=False)
        v = _validate(self, X, reset=False)
        if sp.is_sparse(v.X):
            return self._impute_sparse(v, X)
        return self._impute(v, _missing_mask(v.X, self.missing_values, xp=v.xp))

    def inverse_transform(self, X: Any) -> Any:
        """Put ``missing_values`` back where the indicator columns say (needs ``add_indicator=True``).

        ``X`` has shape (n_samples, n_kept_features + n_indicators); the result
        (n_samples, n_features_in_) holds ``missing_values`` for features dropped in ``transform``.
        """
        check_is_fitted(self)
        if not self.add_indicator:
            raise ValueError(
                "'inverse_transform' works only when 'SimpleImputer' is instantiated with "
                f"'add_indicator=True'. Got 'add_indicator={self.add_indicator}' instead."
            )
        compute = resolve(X)
        xp = compute.xp
        Xa = check_array(_to_compute(X, compute, "X"), xp=xp, device=compute.device, name="X", estimator=self)
        d = self.n_features_in_
        valid = np.arange(d) if self._valid is None else self._valid
        n_ind = len(self.indicator_._features)
        if Xa.shape[1] != valid.size + n_ind:
            raise ValueError(
                f"X has {Xa.shape[1]} columns, but inverse_transform expects {valid.size + n_ind} "
                f"({valid.size} imputed features and {n_ind} indicators)."
            )
        n = int(Xa.shape[0])
        mv = float(self.missing_values)
        # column c of the result: imputed column pos[c], or the constant column (missing_values)
        pos = np.full(d, valid.size + n_ind, dtype=np.int64)
        pos[valid] = np.arange(valid.size)
        ext = xp.concat([Xa, xp.full((n, 1), mv, dtype=Xa.dtype, device=compute.device)], axis=1)
        out = xp.take(ext, xp.asarray(pos, device=compute.device), axis=1)
        ipos = np.full(d, valid.size + n_ind, dtype=np.int64)  # indicator column of each feature, else zeros
        ipos[list(self.indicator_._features)] = valid.size + np.arange(n_ind)
        zeros = xp.concat([Xa, xp.zeros((n, 1), dtype=Xa.dtype, device=compute.device)], axis=1)
        ind = xp.take(zeros, xp.asarray(ipos, device=compute.device), axis=1) != 0
        out = xp.where(ind, xp.full_like(out, mv), out)
        return self._output(out, origin_of(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the kept features, then ``"missingindicator_<feature>"`` (object array)."""
        check_is_fitted(self, "n_features_in_")
        input_features = _check_feature_names_in(self, input_features)
        names = input_features if self._valid is None else input_features[self._valid]
        if self.indicator_ is None:
            return np.asarray(names, dtype=object)
        return np.concatenate([np.asarray(names, dtype=object),
                               self.indicator_.get_feature_names_out(input_features)])

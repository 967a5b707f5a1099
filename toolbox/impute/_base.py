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
from ..backends import origin_of, resolve, to_backend
from ..backends.primitives import bincount
from ..base import BaseEstimator, TransformerMixin, _to_compute, check_array, check_is_fitted, validate_data

__all__ = ["MissingIndicator", "SimpleImputer"]


def _is_nan(value: Any) -> bool:
    return isinstance(value, Real) and math.isnan(value)


def _check_missing_values(missing_values: Any) -> None:
    if not isinstance(missing_values, Real) or isinstance(missing_values, bool):
        raise ValueError(
            "'X' and 'missing_values' types are expected to be both numerical. Got "
            f"type(missing_values)={type(missing_values)}; toolbox imputes numeric data only, with "
            "missing_values=np.nan or a number."
        )


def _validate(estimator: Any, X: Any, *, reset: bool) -> Any:
    """validate_data that lets NaN through only when NaN marks the missing values (never inf)."""
    _check_missing_values(estimator.missing_values)
    allow_nan = _is_nan(estimator.missing_values)
    if sp.is_sparse(X) and not isinstance(estimator, SimpleImputer):
        raise TypeError("Sparse data was passed for X to MissingIndicator, but dense data is required. Use "
                        "'.toarray()' to convert to a dense array; SimpleImputer accepts sparse X.")
    if sp.is_sparse(X) and not allow_nan and float(estimator.missing_values) == 0:
        raise ValueError("Imputation not possible when missing_values == 0 and input is sparse. Provide a "
                         "dense array instead.")
    v = validate_data(estimator, X, reset=reset, allow_nan=allow_nan, accept_sparse=True)
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


class MissingIndicator(TransformerMixin, BaseEstimator):
    """Binary indicators of missing values.

    Parameters
    ----------
    missing_values : float or int, default=np.nan
        The placeholder for missing values.
    features : {'missing-only', 'all'}, default='missing-only'
        Indicate the features with missing values in ``fit``, or all features.
    sparse : 'auto' or bool, default='auto'
        Must be 'auto' or False: the output is dense.
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
        "missing_values": [Real],
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
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _fit_mask(self, mask: Any, *, xp: Any) -> MissingIndicator:
        if self.sparse is True:
            raise ValueError("sparse=True is not supported: toolbox's MissingIndicator returns dense arrays.")
        d = int(mask.shape[1])
        self._n_features = d
        if self.features == "all":
            self.features_ = np.arange(d)
        else:
            per_feature = np.asarray(to_backend(xp.any(mask, axis=0), "numpy"))
            self.features_ = np.flatnonzero(per_feature)
        self._features = tuple(int(j) for j in self.features_)
        return self

    def _transform_mask(self, mask: Any, *, xp: Any) -> Any:
        if self.features == "missing-only":
            if self.error_on_new:
                per_feature = np.asarray(to_backend(xp.any(mask, axis=0), "numpy"))
                new = np.setdiff1d(np.flatnonzero(per_feature), np.asarray(self._features, dtype=np.intp))
                if new.size:
                    raise ValueError(
                        f"The features {new} have missing values in transform but have no missing values in fit."
                    )
            if len(self._features) < self._n_features:
                idx = xp.asarray(self._features, dtype=_index_dtype(xp, mask), device=mask.device)
                mask = xp.take(mask, idx, axis=1)
        return mask

    def fit(self, X: Any, y: Any = None) -> MissingIndicator:
        """Find the features with missing values in ``X`` (n_samples, n_features)."""
        self._validate_params()
        v = _validate(self, X, reset=True)
        return self._fit_mask(_missing_mask(v.X, self.missing_values, xp=v.xp), xp=v.xp)

    def transform(self, X: Any) -> Any:
        """Boolean indicators, shape (n_samples, len(features_)), in ``X``'s library and device."""
        check_is_fitted(self)
        v = _validate(self, X, reset=False)
        mask = _missing_mask(v.X, self.missing_values, xp=v.xp)
        return self._output(self._transform_mask(mask, xp=v.xp), v.origin)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return its indicators (validates ``X`` once)."""
        self._validate_params()
        v = _validate(self, X, reset=True)
        mask = _missing_mask(v.X, self.missing_values, xp=v.xp)
        self._fit_mask(mask, xp=v.xp)
        return self._output(self._transform_mask(mask, xp=v.xp), v.origin)

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
    strategy : {'mean', 'median', 'most_frequent', 'constant'}, default='mean'
        The statistic; ties of 'most_frequent' go to the smallest value.
    fill_value : number, default=None
        The value for ``strategy='constant'`` (None means 0).
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input.
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
    Differences from scikit-learn: numeric data only (no strings or
    ``pd.NA``), no callable strategy, the output is floating even for integer
    input, ``statistics_`` is a float array for ``'constant'`` too, and no
    sparse input.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "missing_values": [Real],
        "strategy": [StrOptions({"mean", "median", "most_frequent", "constant"})],
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
        tags.input_tags.sparse = self.strategy in ("mean", "constant") and not self.add_indicator
        return tags

    def _fill(self) -> float:
        if self.fill_value is None:
            return 0.0
        if not isinstance(self.fill_value, Real) or isinstance(self.fill_value, bool):
            raise ValueError(
                f"fill_value={self.fill_value!r} (of type {type(self.fill_value)!r}) cannot be cast to the "
                "input data, which is numeric. Use a number for fill_value."
            )
        return float(self.fill_value)

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Compute the imputation statistic of each feature of ``X`` (n_samples, n_features)."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> tuple[Any, Any]:
        self._validate_params()
        fill = self._fill() if self.strategy == "constant" else None
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
        else:
            stats = xp.full((Xa.shape[1],), fill, dtype=Xa.dtype, device=Xa.device)
        self._set_statistics(stats, empty, fill, xp=xp)
        if self.add_indicator:
            self.indicator_ = MissingIndicator(missing_values=self.missing_values, error_on_new=False)
            self.indicator_.n_features_in_ = self.n_features_in_
            self.indicator_._fit_mask(mask, xp=xp)
        else:
            self.indicator_ = None
        return v, mask

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
        only stored entries can be missing. Strategies ``"mean"`` and ``"constant"``."""
        if self.strategy not in ("mean", "constant"):
            raise TypeError(
                f"Sparse data was passed for X, but SimpleImputer(strategy={self.strategy!r}) needs dense data "
                "in toolbox: use strategy='mean' or 'constant' to keep X sparse, or X.toarray()."
            )
        if self.add_indicator:
            raise TypeError("Sparse data was passed for X, but SimpleImputer(add_indicator=True) needs dense "
                            "data in toolbox: use add_indicator=False to keep X sparse, or X.toarray().")
        xp, Xa = v.xp, v.X
        n = int(Xa.shape[0])
        vals = sp.stored_values(Xa)
        miss = _missing_mask(vals, self.missing_values, xp=xp)
        observed = sp.with_values(Xa, xp.where(miss, xp.zeros_like(vals), vals))
        n_missing = sp.column_sums(sp.with_values(Xa, xp.astype(miss, vals.dtype)))
        count = n - n_missing
        empty = count == 0
        if self.strategy == "constant":
            # scikit-learn's rule on sparse input: a column is dropped when all its *stored* entries
            # are missing (a column with no stored entry too), implicit zeros notwithstanding
            stored = sp.column_sums(sp.with_values(Xa, xp.ones_like(vals)))
            empty = n_missing == stored
        if self.strategy == "mean":
            stats = sp.column_sums(observed) / xp.where(empty, xp.ones_like(count), count)
        else:
            stats = xp.full((Xa.shape[1],), fill, dtype=vals.dtype, device=v.compute.device)
        self._set_statistics(stats, empty, fill, xp=xp)
        self.indicator_ = None
        return v, None

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

    def _impute_sparse(self, v: Any, original: Any) -> Any:
        xp, Xa = v.xp, v.X
        (stats,) = self._fitted(v.compute, "statistics_", dtype=Xa.dtype)
        vals = sp.stored_values(Xa)
        miss = _missing_mask(vals, self.missing_values, xp=xp)
        cols = sp._col_index(Xa)
        out = sp.with_values(Xa, xp.where(miss, xp.take(stats, cols, axis=0), vals))
        if self._valid is not None:
            self._warn_skipped()
            out = sp.select_columns(out, self._valid)
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
            return self._impute_sparse(v, X)
        return self._impute(v, mask)

    def transform(self, X: Any) -> Any:
        """Impute ``X`` (n_samples, n_features).

        Returns
        -------
        array of shape (n_samples, n_kept_features [+ n_indicators])
            X's library, device and floating dtype; features empty in ``fit``
            are dropped (with a warning) unless ``keep_empty_features=True``.
        """
        check_is_fitted(self)
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

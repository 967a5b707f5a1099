"""Scalers written once against the Array API."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri
from sklearn.utils._param_validation import StrOptions

from ..backends import _sparse as sp
from ..backends import namespace_kind, primitives
from ..base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    check_finite_after,
    check_is_fitted,
    validate_data,
)

#: What MinMaxScaler and RobustScaler say to sparse input (both would centre or shift it).
_SCALE_SPARSE_HINT = ("use toolbox.preprocessing.MaxAbsScaler or StandardScaler(with_mean=False), which scale "
                      "without centring")

__all__ = ["MaxAbsScaler", "MinMaxScaler", "Normalizer", "RobustScaler", "StandardScaler"]


def _scale_from_var(var: Any, mean: Any, n_samples: float, *, xp: Any) -> Any:
    """``sqrt(var)``, with scale 1 for (near-)constant features, as scikit-learn does.

    A feature is constant when its variance is within the rounding error of its
    estimate, ``var <= n * eps * var + (n * mean * eps) ** 2`` (scikit-learn's
    ``constant_mask``); a tiny but well-estimated variance (1e-48) is kept.
    """
    eps = float(xp.finfo(var.dtype).eps)
    upper = n_samples * eps * var + (n_samples * mean * eps) ** 2
    scale = xp.sqrt(var)
    return xp.where(var <= upper, xp.ones_like(scale), scale)


def _overflow_safe_moments(X: Any, n: float, *, xp: Any) -> tuple[Any, Any, Any]:
    """Mean, variance and scale of finite ``X`` (n, d) whose squares overflow: moments of ``X / 2**k``.

    Each column is divided by the power of two at or above its largest
    magnitude (exact), its moments computed, then scaled back: the mean and
    the scale are representable even where the variance itself is not (then
    ``inf``, as its true value is). ``_scale_from_var`` is invariant under that
    scaling, so near-constant columns are found as usual.
    """
    top = xp.max(xp.abs(X), axis=0)
    k = xp.clip(xp.ceil(xp.log2(xp.where(top > 0, top, xp.ones_like(top)))), max=1023.0)
    s = xp.astype(2.0 ** k, X.dtype)
    m, var = primitives.column_mean_var(X / s, xp=xp)
    return m * s, var * s * s, _scale_from_var(var, m, n, xp=xp) * s


def _as_float16_like(out: Any, original: Any) -> Any:
    """A float16 NumPy input's result back in float16 (computed in float32), as scikit-learn returns it."""
    if isinstance(original, np.ndarray) and original.dtype == np.float16 and isinstance(out, np.ndarray):
        return out.astype(np.float16)
    return out


class StandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize features by removing the mean and scaling to unit variance.

    ``z = (x - mean_) / scale_``, computed on the input's own backend and
    device. A drop-in for :class:`sklearn.preprocessing.StandardScaler`.

    Parameters
    ----------
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input, so every
        transform returns a new array.
    with_mean : bool, default=True
        Center the data before scaling.
    with_std : bool, default=True
        Scale the data to unit variance.

    Attributes
    ----------
    mean_ : array of shape (n_features,) or None
        Per-feature mean; None when ``with_mean=False`` and ``with_std=False``.
    var_ : array of shape (n_features,) or None
        Per-feature (biased) variance; None when ``with_std=False``.
    scale_ : array of shape (n_features,) or None
        ``sqrt(var_)``, with 1 for constant features; None when ``with_std=False``.
    n_samples_seen_ : int or float
        Samples seen (the sum of ``sample_weight`` when weights are given).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Unlike scikit-learn's, this scaler rejects NaN (impute first with
    ``toolbox.impute.SimpleImputer``). Sparse ``X`` (``scipy.sparse``, torch
    sparse tensors) needs ``with_mean=False`` (centring would densify it), as
    in scikit-learn; its transform is sparse with the same structure.
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True) -> None:
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def _reset(self) -> None:
        for attr in ("mean_", "var_", "scale_", "n_samples_seen_"):
            self.__dict__.pop(attr, None)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Compute the mean and standard deviation of ``X`` of shape (n_samples, n_features)."""
        self._reset()
        return self.partial_fit(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Update the mean and variance with a batch ``X`` (Chan et al.'s pairwise update)."""
        first = not hasattr(self, "n_samples_seen_")
        v = self._validate(X, first, sample_weight, fitting=True)
        self._update(v, first)
        return self

    def _validate(self, X: Any, reset: bool, sample_weight: Any = None, fitting: bool = False) -> Any:
        # fitting: NaN/inf show in the mean and variance _update computes anyway, so no pass of its own
        v = validate_data(self, X, reset=reset, sample_weight=sample_weight, accept_sparse=True,
                          check_finite=not (fitting and (self.with_mean or self.with_std)))
        if self.with_mean and sp.is_sparse(v.X):
            raise ValueError(
                "Cannot center sparse matrices: pass `with_mean=False` instead (or use "
                "toolbox.preprocessing.MaxAbsScaler, which keeps the data sparse). Centring would "
                "make every implicit zero stored."
            )
        return v

    def _update(self, v: Any, first: bool) -> None:
        xp, X, w = v.xp, v.X, v.sample_weight
        need_stats = self.with_mean or self.with_std
        # NumPy / SciPy input: the statistics in float64 whatever X's float dtype, as scikit-learn
        # (its accumulators and attributes); other backends compute in X's own dtype (GPUs)
        acc = np.float64 if namespace_kind(xp) == "numpy" else X.dtype
        if sp.is_sparse(X):
            n = int(X.shape[0]) if w is None else float(xp.sum(w))
            if w is not None and n <= 0:
                raise ValueError("sample_weight sums to zero or less; at least one positive weight is needed.")
            if self.with_std:  # float32 SciPy input: its stored entries as float64 (nnz memory), as scikit-learn
                Xs = X.astype(acc) if acc != X.dtype and sp.sparse_kind(X) == "scipy" else X
                mean, var = sp.column_mean_var(Xs, w if w is None or w.dtype == Xs.dtype else xp.astype(w, acc))
            else:
                mean, var = None, None
            need_stats = self.with_std
        elif w is None:
            n: float = int(X.shape[0])
            if self.with_std:
                mean, var = primitives.column_mean_var(X, xp=xp, dtype=acc)
            elif need_stats:
                mean, var = (np.mean(X, axis=0, dtype=acc) if acc != X.dtype else xp.mean(X, axis=0)), None
            else:
                mean, var = None, None
        else:
            Xa, wa = (X, w) if acc == X.dtype else (xp.astype(X, acc), xp.astype(w, acc))
            n = float(xp.sum(wa))
            if n <= 0:
                raise ValueError("sample_weight sums to zero or less; at least one positive weight is needed.")
            mean = (wa @ Xa) / n if need_stats else None
            var = (wa @ ((Xa - mean) ** 2)) / n if self.with_std else None
        check_finite_after(v, mean, var)  # before anything is stored (see _validate)
        scale = None
        if var is not None and w is None and not sp.is_sparse(X) and not bool(xp.all(xp.isfinite(var))):
            # X is finite (just checked) but its squares overflow (values near 1e300): scale first
            mean, var, scale = _overflow_safe_moments(X, n, xp=xp)
        if not first and need_stats:
            n_old = self.n_samples_seen_
            mean_old, var_old = self._fitted(v.compute, "mean_", "var_", dtype=mean.dtype)
            total = n_old + n
            delta = mean - mean_old
            if var is not None:
                var = (var_old * n_old + var * n + delta**2 * (n_old * n / total)) / total
            mean = mean_old + delta * (n / total)
            n = total
        elif not first:
            n = self.n_samples_seen_ + n
        self.n_samples_seen_ = n
        self.mean_ = mean
        self.var_ = var
        if scale is None or not first:
            scale = _scale_from_var(var, mean, n, xp=xp) if var is not None else None
        self.scale_ = scale

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit to ``X`` (n_samples, n_features) and return it standardized (validates ``X`` once)."""
        self._reset()
        v = self._validate(X, True, sample_weight, fitting=True)
        self._update(v, True)
        return self._output(self._standardize(v.X, v.compute, X), v.origin)

    def _standardize(self, X: Any, compute: Any, original: Any = None) -> Any:
        if sp.is_sparse(X):
            if not self.with_std:
                return sp.restore_format(sp.copy(X) if X is original else X, original)
            (scale,) = self._fitted(compute, "scale_", dtype=X.dtype)
            return sp.restore_format(sp.scale_columns(X, 1.0 / scale), original)
        mean, scale = self._fitted(compute, "mean_", "scale_", dtype=X.dtype)
        # one pass, one new array: (X - mean) / scale, rounded as the two separate operations
        out = primitives.columnwise_affine(X, sub=mean if self.with_mean else None,
                                           div=scale if self.with_std else None, xp=compute.xp)
        return _as_float16_like(out, original)

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Standardize ``X`` (n_samples, n_features); same library, device and float dtype as ``X``."""
        check_is_fitted(self, "n_samples_seen_")
        v = self._validate(X, False)
        return self._output(self._standardize(v.X, v.compute, X), v.origin)

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        check_is_fitted(self, "n_samples_seen_")
        v = self._validate(X, False)
        Xt = v.X
        if sp.is_sparse(Xt):
            if not self.with_std:
                return self._output(sp.restore_format(sp.copy(Xt) if Xt is X else Xt, X), v.origin)
            (scale,) = self._fitted(v.compute, "scale_", dtype=Xt.dtype)
            return self._output(sp.restore_format(sp.scale_columns(Xt, scale), X), v.origin)
        mean, scale = self._fitted(v.compute, "mean_", "scale_", dtype=Xt.dtype)
        if self.with_std:
            Xt = Xt * scale
        if self.with_mean:
            Xt = Xt + mean
        return self._output(_as_float16_like(Xt, X), v.origin)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = not self.with_mean
        return tags


def _handle_zeros_in_scale(scale: Any, *, xp: Any) -> Any:
    """Scale 1 for (near-)constant features, as scikit-learn's ``_handle_zeros_in_scale``."""
    eps = float(xp.finfo(scale.dtype).eps)
    return xp.where(scale < 10 * eps, xp.ones_like(scale), scale)


class MinMaxScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each feature to ``feature_range`` (default [0, 1]).

    ``X_scaled = X * scale_ + min_`` with ``scale_ = (max - min) / (data_max_ - data_min_)``,
    computed on the input's own backend and device. A drop-in for
    :class:`sklearn.preprocessing.MinMaxScaler`.

    Parameters
    ----------
    feature_range : tuple (min, max), default=(0, 1)
        Desired range of the transformed data.
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input.
    clip : bool, default=False
        Clip transformed values of held-out data to ``feature_range``.

    Attributes
    ----------
    min_ : array of shape (n_features,)
        Per-feature adjustment for the minimum: ``feature_range[0] - data_min_ * scale_``.
    scale_ : array of shape (n_features,)
        Per-feature relative scaling; constant features get ``feature_range[1] - feature_range[0]``.
    data_min_ : array of shape (n_features,)
    data_max_ : array of shape (n_features,)
    data_range_ : array of shape (n_features,)
        ``data_max_ - data_min_``.
    n_samples_seen_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Unlike scikit-learn's, this scaler rejects NaN (impute first with
    ``toolbox.impute.SimpleImputer``) and does not accept sparse input.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "feature_range": [tuple],
        "copy": ["boolean"],
        "clip": ["boolean"],
    }

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True,
                 clip: bool = False) -> None:
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def _reset(self) -> None:
        for attr in ("scale_", "min_", "n_samples_seen_", "data_min_", "data_max_", "data_range_"):
            self.__dict__.pop(attr, None)

    def _check_range(self) -> tuple[float, float]:
        self._validate_params()
        lo, hi = self.feature_range
        if lo >= hi:
            raise ValueError(
                f"Minimum of desired feature range must be smaller than maximum. Got {self.feature_range}."
            )
        return float(lo), float(hi)

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Compute the per-feature minimum and maximum of ``X`` (n_samples, n_features)."""
        self._reset()
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Update the per-feature minimum and maximum with a batch ``X``."""
        lo, hi = self._check_range()
        first = not hasattr(self, "n_samples_seen_")
        # NaN/inf show in the minima and maxima (they propagate NaN): no pass of its own for them
        v = validate_data(self, X, reset=first, sparse_hint=_SCALE_SPARSE_HINT, check_finite=False)
        self._update(v, lo, hi, first)
        return self

    def _update(self, v: Any, lo: float, hi: float, first: bool) -> None:
        xp, X = v.xp, v.X
        data_min, data_max = primitives.column_min_max(X, xp=xp)
        check_finite_after(v, data_min, data_max)  # before anything is stored
        if first:
            self.n_samples_seen_ = int(X.shape[0])
        else:
            old_min, old_max = self._fitted(v.compute, "data_min_", "data_max_", dtype=X.dtype)
            data_min = xp.minimum(old_min, data_min)
            data_max = xp.maximum(old_max, data_max)
            self.n_samples_seen_ += int(X.shape[0])
        data_range = data_max - data_min
        self.scale_ = (hi - lo) / _handle_zeros_in_scale(data_range, xp=xp)
        self.min_ = lo - data_min * self.scale_
        self.data_min_ = data_min
        self.data_max_ = data_max
        self.data_range_ = data_range

    def _scale(self, X: Any, compute: Any) -> Any:
        xp = compute.xp
        scale, min_ = self._fitted(compute, "scale_", "min_", dtype=X.dtype)
        Xt = primitives.columnwise_affine(X, mul=scale, add=min_, xp=xp)  # X * scale + min_, one pass
        if self.clip:
            Xt = xp.clip(Xt, float(self.feature_range[0]), float(self.feature_range[1]))
        return Xt

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return it scaled (validates ``X`` once)."""
        self._reset()
        lo, hi = self._check_range()
        v = validate_data(self, X, reset=True, sparse_hint=_SCALE_SPARSE_HINT, check_finite=False)
        self._update(v, lo, hi, True)
        return self._output(self._scale(v.X, v.compute), v.origin)

    def transform(self, X: Any) -> Any:
        """Scale ``X`` (n_samples, n_features) to ``feature_range``; same library, device, float dtype."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False, sparse_hint=_SCALE_SPARSE_HINT)
        return self._output(self._scale(v.X, v.compute), v.origin)

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`: ``(X - min_) / scale_``."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False, sparse_hint=_SCALE_SPARSE_HINT)
        scale, min_ = self._fitted(v.compute, "scale_", "min_", dtype=v.X.dtype)
        return self._output((v.X - min_) / scale, v.origin)


def _quantiles_of_sorted(S: Any, qs: tuple[float, ...], *, xp: Any) -> list[Any]:
    """Quantiles ``qs`` (percent) of each row of ``S`` (n_features, n_samples), sorted along axis 1."""
    return primitives.lerp_quantiles(int(S.shape[1]), qs, lambda k: S[:, k])


class RobustScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale features with statistics that are robust to outliers.

    ``z = (x - center_) / scale_`` with the median as ``center_`` and the
    interquartile range (or ``quantile_range``) as ``scale_``. Quantiles come
    from one sort of ``X`` along the samples axis and linear interpolation
    (NumPy's default method), on the input's own backend and device. A
    drop-in for :class:`sklearn.preprocessing.RobustScaler`.

    Parameters
    ----------
    with_centering : bool, default=True
        Subtract the median.
    with_scaling : bool, default=True
        Divide by the quantile range.
    quantile_range : tuple (q_min, q_max), 0.0 <= q_min <= q_max <= 100.0, default=(25.0, 75.0)
        Quantiles (in percent) whose difference is ``scale_``.
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input.
    unit_variance : bool, default=False
        Divide ``scale_`` further so that normally distributed features get unit variance.

    Attributes
    ----------
    center_ : array of shape (n_features,) or None
        Per-feature median; None when ``with_centering=False``.
    scale_ : array of shape (n_features,) or None
        Per-feature quantile range (1 for constant features); None when ``with_scaling=False``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Sparse input (``scipy.sparse``, torch sparse) needs ``with_centering=False``: the quantiles
    include the implicit zeros and the output keeps the input's structure. Unlike
    scikit-learn's, this scaler rejects NaN (impute first).
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "with_centering": ["boolean"],
        "with_scaling": ["boolean"],
        "quantile_range": [tuple],
        "copy": ["boolean"],
        "unit_variance": ["boolean"],
    }

    def __init__(self, *, with_centering: bool = True, with_scaling: bool = True,
                 quantile_range: tuple[float, float] = (25.0, 75.0), copy: bool = True,
                 unit_variance: bool = False) -> None:
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = quantile_range
        self.copy = copy
        self.unit_variance = unit_variance

    def fit(self, X: Any, y: Any = None) -> RobustScaler:
        """Compute the median and quantile range of each feature of ``X`` (n_samples, n_features)."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> Any:
        self._validate_params()
        q_min, q_max = self.quantile_range
        if not 0 <= q_min <= q_max <= 100:
            raise ValueError(f"Invalid quantile range: {self.quantile_range}")
        v = validate_data(self, X, reset=True, accept_sparse=True)
        if sp.is_sparse(v.X) and self.with_centering:
            raise ValueError("Cannot center sparse matrices: use `with_centering=False` instead. See docstring "
                             f"for motivation and alternatives ({_SCALE_SPARSE_HINT}).")
        self._fit_validated(v.X, float(q_min), float(q_max), xp=v.xp)
        return v

    def _fit_validated(self, X: Any, q_min: float, q_max: float, *, xp: Any) -> None:
        self.center_ = self.scale_ = None
        if not (self.with_centering or self.with_scaling):
            return
        if sp.is_sparse(X):  # scaling only (centring refused): quantiles with the implicit zeros
            lo, hi = sp.column_quantiles(X, (q_min, q_max))
        else:
            S = xp.sort(X.T, axis=1)  # features as rows: each sort runs along contiguous-ish memory
            if self.with_centering:
                (self.center_,) = _quantiles_of_sorted(S, (50.0,), xp=xp)
            if not self.with_scaling:
                return
            lo, hi = _quantiles_of_sorted(S, (q_min, q_max), xp=xp)
        scale = _handle_zeros_in_scale(hi - lo, xp=xp)
        if self.unit_variance:
            scale = scale / float(ndtri(q_max / 100.0) - ndtri(q_min / 100.0))
        self.scale_ = scale

    def _apply(self, X: Any, compute: Any, original: Any, *, inverse: bool = False) -> Any:
        center, scale = self._fitted(compute, "center_", "scale_", dtype=X.dtype)
        if sp.is_sparse(X):
            if self.with_centering and center is not None:
                raise ValueError("Cannot center sparse matrices: this RobustScaler was fitted with "
                                 "with_centering=True; refit it with with_centering=False for sparse input.")
            if self.with_scaling:
                X = sp.scale_columns(X, scale if inverse else 1.0 / scale)
            return sp.restore_format(sp.copy(X) if X is original else X, original)
        if inverse:
            return (X * scale if self.with_scaling else X) + (center if self.with_centering else 0.0)
        if self.with_centering:
            X = X - center
        if self.with_scaling:
            X = X / scale
        return X

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return it scaled (validates ``X`` once)."""
        v = self._fit(X)
        return self._output(self._apply(v.X, v.compute, X), v.origin)

    def transform(self, X: Any) -> Any:
        """Center and scale ``X`` (n_samples, n_features); same library, device and float dtype.

        Sparse ``X`` (fitted with ``with_centering=False``) stays sparse: its stored entries are scaled.
        """
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        return self._output(self._apply(v.X, v.compute, X), v.origin)

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`: ``X * scale_ + center_``."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        return self._output(self._apply(v.X, v.compute, X, inverse=True), v.origin)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = not self.with_centering
        return tags


class MaxAbsScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each feature by its maximum absolute value, to [-1, 1]; keeps sparse data sparse.

    ``X / max_abs_`` per column, computed on the input's own backend and
    device (dense arrays, ``scipy.sparse`` matrices, torch sparse tensors). No
    centring, so sparse input gives a sparse output with the same structure. A
    drop-in for :class:`sklearn.preprocessing.MaxAbsScaler`.

    Parameters
    ----------
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input.
    clip : bool, default=False
        Clip the transformed values of new data to [-1, 1] (``transform`` only;
        sparse input: the stored entries).

    Attributes
    ----------
    max_abs_ : array of shape (n_features,)
        Per-feature maximum absolute value.
    scale_ : array of shape (n_features,)
        ``max_abs_``, with 1 for all-zero features.
    n_samples_seen_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Unlike scikit-learn's, this scaler rejects NaN (impute first).
    """

    _parameter_constraints: dict = {"copy": ["boolean"], "clip": ["boolean"]}  # noqa: RUF012 - scikit-learn's

    def __init__(self, *, copy: bool = True, clip: bool = False) -> None:
        self.copy = copy
        self.clip = clip

    def _reset(self) -> None:
        for attr in ("scale_", "max_abs_", "n_samples_seen_"):
            self.__dict__.pop(attr, None)

    def fit(self, X: Any, y: Any = None) -> MaxAbsScaler:
        """Compute the per-feature maximum absolute value of ``X`` (n_samples, n_features)."""
        self._reset()
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> MaxAbsScaler:
        """Update the per-feature maximum absolute value with a batch ``X``."""
        first = not hasattr(self, "n_samples_seen_")
        v = validate_data(self, X, reset=first, accept_sparse=True)
        self._update(v, first)
        return self

    def _update(self, v: Any, first: bool) -> None:
        xp, X = v.xp, v.X
        max_abs = sp.column_max_abs(X) if sp.is_sparse(X) else xp.max(xp.abs(X), axis=0)
        if first:
            self.n_samples_seen_ = int(X.shape[0])
        else:
            (old,) = self._fitted(v.compute, "max_abs_", dtype=max_abs.dtype)
            max_abs = xp.maximum(old, max_abs)
            self.n_samples_seen_ += int(X.shape[0])
        self.max_abs_ = max_abs
        self.scale_ = _handle_zeros_in_scale(max_abs, xp=xp)

    def _scale(self, X: Any, compute: Any, original: Any, *, inverse: bool = False) -> Any:
        (scale,) = self._fitted(compute, "scale_", dtype=X.dtype)
        clip = bool(self.clip) and not inverse
        if sp.is_sparse(X):
            Xt = sp.scale_columns(X, scale if inverse else 1.0 / scale)
            if clip:
                Xt = sp.with_values(Xt, compute.xp.clip(sp.stored_values(Xt), min=-1.0, max=1.0))
            return sp.restore_format(Xt, original)
        Xt = X * scale if inverse else X / scale
        return compute.xp.clip(Xt, min=-1.0, max=1.0) if clip else Xt

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X`` and return it scaled (validates ``X`` once)."""
        self._reset()
        v = validate_data(self, X, reset=True, accept_sparse=True)
        self._update(v, True)
        return self._output(self._scale(v.X, v.compute, X), v.origin)

    def transform(self, X: Any) -> Any:
        """Scale ``X`` (n_samples, n_features) by ``1 / scale_``; sparse input stays sparse."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False, accept_sparse=True)
        return self._output(self._scale(v.X, v.compute, X), v.origin)

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`: ``X * scale_``."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False, accept_sparse=True)
        return self._output(self._scale(v.X, v.compute, X, inverse=True), v.origin)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Normalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each sample (row) to unit norm; keeps sparse data sparse.

    Rows with norm zero are left as they are. Stateless: ``fit`` only records
    the number of features. A drop-in for :class:`sklearn.preprocessing.Normalizer`.

    Parameters
    ----------
    norm : {"l1", "l2", "max"}, default="l2"
        The norm each row is divided by.
    copy : bool, default=True
        Accepted for compatibility; toolbox never modifies its input.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "norm": [StrOptions({"l1", "l2", "max"})],
        "copy": ["boolean"],
    }

    def __init__(self, norm: str = "l2", *, copy: bool = True) -> None:
        self.norm = norm
        self.copy = copy

    def fit(self, X: Any, y: Any = None) -> Normalizer:
        """Validate ``X`` and record ``n_features_in_``; there is nothing to learn."""
        self._validate_params()
        validate_data(self, X, reset=True, accept_sparse=True)
        return self

    def _norms(self, X: Any, xp: Any) -> Any:
        if sp.is_sparse(X):
            if self.norm == "l1":
                return sp.row_abs_sums(X)
            if self.norm == "max":
                return sp.row_max_abs(X)
            return xp.sqrt(sp.row_sq_norms(X))
        if self.norm == "l1":
            return xp.sum(xp.abs(X), axis=1)
        if self.norm == "max":
            return xp.max(xp.abs(X), axis=1)
        return xp.sqrt(xp.sum(X * X, axis=1))

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Each row of ``X`` (n_samples, n_features) divided by its norm; sparse input stays sparse."""
        self._validate_params()
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        xp, Xa = v.xp, v.X
        norms = _handle_zeros_in_scale(self._norms(Xa, xp), xp=xp)
        if sp.is_sparse(Xa):  # SciPy: CSR whatever the input's format, as scikit-learn's normalize
            Xt = sp.scale_rows(Xa, 1.0 / norms)
            Xt = Xt.tocsr() if sp.sparse_kind(Xt) == "scipy" else sp.restore_format(Xt, X)
            return self._output(Xt, v.origin)
        return self._output(Xa / norms[:, None], v.origin)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = False
        return tags

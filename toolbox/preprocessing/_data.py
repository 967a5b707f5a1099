"""Scalers written once against the Array API."""

from __future__ import annotations

from typing import Any

from ..base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    check_is_fitted,
    validate_data,
)

__all__ = ["StandardScaler"]


def _scale_from_var(var: Any, mean: Any, n_samples: float, *, xp: Any) -> Any:
    """``sqrt(var)``, with scale 1 for (near-)constant features, as scikit-learn does."""
    eps = float(xp.finfo(var.dtype).eps)
    upper = n_samples * eps * var + (n_samples * mean * eps) ** 2
    scale = xp.sqrt(var)
    return xp.where((var <= upper) | (scale < 10 * eps), xp.ones_like(scale), scale)


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
    ``toolbox.impute.SimpleImputer``) and does not accept sparse input.
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
        v = validate_data(self, X, reset=first, sample_weight=sample_weight)
        xp, X, w = v.xp, v.X, v.sample_weight
        need_stats = self.with_mean or self.with_std
        if w is None:
            n: float = int(X.shape[0])
            mean = xp.mean(X, axis=0) if need_stats else None
            var = xp.var(X, axis=0) if self.with_std else None
        else:
            n = float(xp.sum(w))
            if n <= 0:
                raise ValueError("sample_weight sums to zero or less; at least one positive weight is needed.")
            mean = (w @ X) / n if need_stats else None
            var = (w @ ((X - mean) ** 2)) / n if self.with_std else None
        if not first and need_stats:
            n_old = self.n_samples_seen_
            mean_old, var_old = self._fitted(v.compute, "mean_", "var_", dtype=X.dtype)
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
        self.scale_ = _scale_from_var(var, mean, n, xp=xp) if var is not None else None
        return self

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Standardize ``X`` (n_samples, n_features); same library, device and float dtype as ``X``."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False)
        Xt = v.X
        mean, scale = self._fitted(v.compute, "mean_", "scale_", dtype=Xt.dtype)
        if self.with_mean:
            Xt = Xt - mean
        if self.with_std:
            Xt = Xt / scale
        return self._output(Xt, v.origin)

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        check_is_fitted(self, "n_samples_seen_")
        v = validate_data(self, X, reset=False)
        Xt = v.X
        mean, scale = self._fitted(v.compute, "mean_", "scale_", dtype=Xt.dtype)
        if self.with_std:
            Xt = Xt * scale
        if self.with_mean:
            Xt = Xt + mean
        return self._output(Xt, v.origin)

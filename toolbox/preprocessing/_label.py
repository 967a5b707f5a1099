"""Encoding target labels as integers ``0..n_classes-1``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning

from .._labels import _unique_on_device
from ..backends import Compute, framework_of, get_framework, origin_of, resolve, to_backend
from ..backends._convert import as_host_array
from ..base import BaseEstimator, TransformerMixin, check_is_fitted

__all__ = ["LabelEncoder"]


def _host_compute() -> Compute:
    fw = get_framework("numpy")
    return Compute(fw.xp, "cpu", "numpy", fw)


def _is_host_labels(y: Any) -> bool:
    """String, object or other non-numeric labels, which only NumPy can hold."""
    return isinstance(y, np.ndarray) and y.dtype.kind not in "biuf"


def _column_or_1d(y: Any, *, warn: bool) -> Any:
    shape = tuple(y.shape)
    if len(shape) == 1:
        return y
    if len(shape) == 2 and shape[1] == 1:
        if warn:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the shape "
                "of y to (n_samples, ), for example using ravel().",
                DataConversionWarning,
                stacklevel=3,
            )
        return y[:, 0]
    raise ValueError(f"y should be a 1d array, got an array of shape {shape} instead.")


def _prepare_labels(y: Any, *, warn: bool = True) -> tuple[Any, Compute, Any]:
    """``y`` as a 1-D array where it will be computed on, the compute target and the caller's origin.

    String/object labels stay on the host (NumPy); numeric labels go where the
    active backend says (their own library under ``"auto"``).
    """
    if framework_of(y) is None:
        y = as_host_array(y)
    origin = origin_of(y)
    if _is_host_labels(y):
        return _column_or_1d(y, warn=warn), _host_compute(), origin
    compute = resolve(y)
    y = compute.asarray(y)
    return _column_or_1d(y, warn=warn), compute, origin


def _common_dtype(a: Any, b: Any, *, xp: Any) -> Any:
    if a.dtype == b.dtype:
        return a.dtype
    a_float = xp.isdtype(a.dtype, "real floating")
    b_float = xp.isdtype(b.dtype, "real floating")
    if a_float != b_float:  # the standard does not promote integers with floats
        return a.dtype if a_float else b.dtype
    return xp.result_type(a.dtype, b.dtype)


def _unseen(values: Any, classes: Any) -> list[Any]:
    """Values of ``values`` that are not in ``classes``, sorted (host; error path only)."""
    v = np.asarray(to_backend(values, "numpy"))
    c = np.asarray(to_backend(classes, "numpy"))
    try:
        return np.setdiff1d(v, c).tolist()
    except TypeError:  # mixed types that cannot be sorted together
        cset = set(c.tolist())
        return sorted({x for x in v.tolist() if x not in cset}, key=str)


def _codes(classes: Any, y: Any, *, xp: Any) -> Any:
    """Index of each label of ``y`` in the sorted ``classes``; NaN gets the last (NaN) class's index."""
    idx = xp.searchsorted(classes, y)
    if xp.isdtype(y.dtype, "real floating") and int(classes.shape[0]):
        idx = xp.where(xp.isnan(y), xp.asarray(int(classes.shape[0]) - 1, dtype=idx.dtype, device=idx.device), idx)
    return idx


def _one_nan(classes: Any, *, xp: Any) -> Any:
    """Sorted unique labels with NaN kept once (the standard's unique_values keeps every NaN), as NumPy."""
    if not xp.isdtype(classes.dtype, "real floating"):
        return classes
    n_nan = int(xp.sum(xp.astype(xp.isnan(classes), xp.int32)))
    return classes[: int(classes.shape[0]) - n_nan + 1] if n_nan > 1 else classes


class LabelEncoder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Encode target labels with values between 0 and ``n_classes - 1``.

    Numeric labels of any backend are encoded where they live (sorted unique
    values and ``searchsorted``); string and object labels are encoded on the
    host with NumPy. A drop-in for :class:`sklearn.preprocessing.LabelEncoder`;
    it transforms ``y``, not ``X``.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
        The sorted labels: NumPy for string labels, otherwise the library and
        device of the ``y`` given to :meth:`fit`.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.one_d_labels = True
        return tags

    def fit(self, y: Any) -> LabelEncoder:
        """Find the sorted unique labels of ``y`` (n_samples,); NaN is one label, sorted last."""
        y, compute, _ = _prepare_labels(y)
        if _is_host_labels(y):
            self.classes_ = _host_unique(y)
        else:
            self.classes_ = _one_nan(_unique_on_device(y, xp=compute.xp), xp=compute.xp)
        return self

    def fit_transform(self, y: Any) -> Any:
        """Fit to ``y`` (n_samples,) and return its integer codes, shape (n_samples,)."""
        y, compute, origin = _prepare_labels(y)
        if _is_host_labels(y):
            self.classes_, codes = _host_unique(y, return_inverse=True)
            return self._output(codes.reshape(-1), origin)
        xp = compute.xp
        self.classes_ = _one_nan(_unique_on_device(y, xp=xp), xp=xp)
        return self._output(_codes(self.classes_, y, xp=xp), origin)

    def transform(self, y: Any) -> Any:
        """Integer codes of ``y`` (n_samples,), shape (n_samples,), in ``y``'s library.

        Raises
        ------
        ValueError
            ``y contains previously unseen labels: [...]`` when a label was not seen in fit.
        """
        check_is_fitted(self)
        y, compute, origin = _prepare_labels(y)
        classes = self.classes_
        if y.shape[0] == 0:
            xp = compute.xp
            return self._output(xp.zeros((0,), dtype=xp.int64, device=compute.device), origin)
        host = _is_host_labels(y) or _is_host_labels(classes)
        if host:
            y = np.asarray(to_backend(y, "numpy"))
            classes = np.asarray(to_backend(classes, "numpy"))
            if classes.dtype.kind in "US" and y.dtype != classes.dtype:
                # y in the classes' dtype, as scikit-learn's column_or_1d(y, dtype=classes_.dtype): a NaN
                # label fitted among strings was stored as "nan", and a float NaN finds it
                y = y.astype(classes.dtype)
            try:
                idx = np.searchsorted(classes, y)
                found = classes[np.minimum(idx, classes.shape[0] - 1)] == y
            except TypeError:  # labels of another type than the classes
                found = np.zeros(y.shape[0], dtype=bool)
            if not bool(np.all(found)):
                raise ValueError(f"y contains previously unseen labels: {_unseen(y, classes)}")
            return self._output(idx.astype(np.int64), origin)
        xp = compute.xp
        (classes,) = self._fitted(compute, "classes_")
        dtype = _common_dtype(classes, y, xp=xp)
        classes_c, y_c = xp.astype(classes, dtype), xp.astype(y, dtype)
        idx = _codes(classes_c, y_c, xp=xp)
        k = int(classes_c.shape[0])
        at = xp.take(classes_c, xp.clip(idx, 0, k - 1), axis=0)
        found = at == y_c
        if xp.isdtype(y_c.dtype, "real floating"):
            found = found | (xp.isnan(at) & xp.isnan(y_c))  # the NaN label (sorted last)
        if not bool(xp.all(found)):
            raise ValueError(f"y contains previously unseen labels: {_unseen(y, classes)}")
        return self._output(idx, origin)

    def inverse_transform(self, y: Any) -> Any:
        """Labels for the integer codes ``y`` (n_samples,).

        The result is NumPy when ``classes_`` hold strings, otherwise ``y``'s library.
        """
        check_is_fitted(self)
        y, compute, origin = _prepare_labels(y)
        k = int(self.classes_.shape[0])
        if y.shape[0] == 0:
            return self._output(self.classes_[:0], origin)
        if _is_host_labels(y):
            raise ValueError(f"y contains previously unseen labels: {_unseen(y, np.arange(k))}")
        xp = compute.xp
        if bool(xp.any(y < 0)) or bool(xp.any(y >= k)) or (
            xp.isdtype(y.dtype, "real floating") and bool(xp.any(y != xp.round(y)))
        ):
            raise ValueError(f"y contains previously unseen labels: {_unseen(y, np.arange(k))}")
        idx = xp.astype(y, xp.int64 if _has_int64(compute) else xp.int32)
        if _is_host_labels(self.classes_):
            return self.classes_[np.asarray(to_backend(idx, "numpy"))]
        (classes,) = self._fitted(compute, "classes_")
        return self._output(xp.take(classes, idx, axis=0), origin)


def _has_int64(compute: Compute) -> bool:
    info = compute.xp.__array_namespace_info__()
    return info.default_dtypes(device=compute.device)["indexing"] == compute.xp.int64


def _host_unique(y: np.ndarray, return_inverse: bool = False) -> Any:
    try:
        return np.unique(y, return_inverse=return_inverse)
    except TypeError:
        types = sorted({type(v).__name__ for v in y.tolist()})
        raise TypeError(
            f"Encoders require their input argument to be uniformly strings or numbers. Got {types}."
        ) from None

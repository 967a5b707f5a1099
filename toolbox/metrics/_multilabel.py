"""Multilabel indicator targets (dense 2-D or ``scipy.sparse``), as scikit-learn's metrics accept them.

An indicator matrix ``Y`` of shape (n_samples, n_labels) holds 0 and 1. Sparse
indicators are counted on their stored entries (SciPy products and sums, never
densified); dense ones on their own backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import _sparse as sp
from ..backends import framework_of
from ..backends._convert import as_host_array
from ._base import check_legacy_sequences

__all__: list[str] = []


def is_indicator(y: Any) -> bool:
    """A sparse matrix, or a 2-D numeric array with more than one column (scikit-learn's multilabel case)."""
    if sp.is_sparse(y):
        return True
    check_legacy_sequences(y, "y")
    if framework_of(y) is None:
        if isinstance(y, (list, tuple)) and y and isinstance(y[0], (list, tuple, np.ndarray)):
            arr = as_host_array(y)
        else:
            return False
    else:
        arr = y
    shape = tuple(getattr(arr, "shape", ()))
    dtype = getattr(arr, "dtype", None)
    return len(shape) == 2 and shape[1] > 1 and (dtype is None or np.dtype(str(dtype).rsplit(".", 1)[-1]).kind
                                                  in "biuf")


def _host(y: Any) -> Any:
    """``y`` as SciPy CSR (sparse input) or a NumPy array; checked to hold only 0 and 1."""
    if sp.sparse_kind(y) == "scipy":
        Y = y.tocsr()
        vals = Y.data
    elif sp.is_sparse(y):
        raise TypeError("Multilabel metrics take scipy.sparse indicator matrices (as scikit-learn) or dense "
                        "arrays; convert the torch sparse tensor with .to_dense() or to SciPy.")
    else:
        Y = np.asarray(y if framework_of(y) is None else __import__("toolbox").to_backend(y, "numpy"))
        vals = Y
    if vals.size and not np.all((vals == 0) | (vals == 1)):
        raise ValueError("Multilabel-indicator targets must hold only 0 and 1 (scikit-learn's "
                         "'multilabel-indicator' type).")
    return Y


def indicators(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Both targets as host indicators of one shape; the errors scikit-learn gives for a mix."""
    if not (is_indicator(y_true) and is_indicator(y_pred)):
        kinds = ["multilabel-indicator" if is_indicator(y) else "binary or multiclass" for y in (y_true, y_pred)]
        raise ValueError(f"Classification metrics can't handle a mix of {kinds[0]} and {kinds[1]} targets")
    Yt, Yp = _host(y_true), _host(y_pred)
    if Yt.shape != Yp.shape:
        raise ValueError(f"Multilabel targets have different shapes: y_true {Yt.shape}, y_pred {Yp.shape}.")
    return Yt, Yp


def _row_sums(Y: Any) -> np.ndarray:
    return np.asarray(Y.sum(axis=1)).ravel().astype(np.float64)


def _both(Yt: Any, Yp: Any) -> Any:
    """Elementwise ``Yt * Yp`` (sparse when either is)."""
    if sp.is_sparse(Yt):
        return Yt.multiply(Yp)
    if sp.is_sparse(Yp):
        return Yp.multiply(Yt)
    return Yt * Yp


def row_counts(Yt: Any, Yp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: true positives, predicted and true label counts, each (n_samples,)."""
    return _row_sums(_both(Yt, Yp)), _row_sums(Yp), _row_sums(Yt)


def label_counts(Yt: Any, Yp: Any, sample_weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label: (weighted) true positives, predicted and true counts, each (n_labels,)."""
    both = _both(Yt, Yp)
    if sample_weight is None:
        sums = [np.asarray(M.sum(axis=0)).ravel().astype(np.float64) for M in (both, Yp, Yt)]
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        sums = [np.asarray(M.T @ w).ravel() if sp.is_sparse(M) else w @ M for M in (both, Yp, Yt)]
    return sums[0], sums[1], sums[2]


def subset_correct(Yt: Any, Yp: Any) -> np.ndarray:
    """1.0 where a sample's whole label set is right, else 0.0 (n_samples,)."""
    tp, pred, true = row_counts(Yt, Yp)
    return (pred + true - 2 * tp == 0).astype(np.float64)

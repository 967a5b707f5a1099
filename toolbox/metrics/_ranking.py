"""Ranking metrics (ROC AUC) computed on the device of their inputs."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ..backends import jit, to_backend
from ..base import _to_compute, check_array
from ._base import as_1d, check_lengths, encode_targets, labels_as_array, resolve_call, sample_weight_of

__all__ = ["roc_auc_score"]


@jit
def _auc_columns(Y: Any, S: Any, w: Any, *, xp: Any) -> tuple[Any, Any, Any]:
    """ROC AUC of every column of scores ``S`` (n, m) against positives ``Y`` (n, m, bool).

    The area under the ROC curve equals the (weighted) Mann-Whitney statistic
    with ties counted one half: for each positive, the negative weight scored
    strictly lower plus half the negative weight tied with it. One sort per
    column; tie groups get their bounds from ``searchsorted`` on
    column-major group keys, so all shapes are static.

    Returns
    -------
    auc, positive weight, negative weight : arrays of shape (m,)
        ``auc`` is NaN where a column has no positive or no negative weight.
    """
    n, m = S.shape
    # no `.device` inside (JAX traces this function under jit): shapes and devices come from *_like
    order = xp.argsort(S, axis=0)
    idt = order.dtype
    Ss = xp.take_along_axis(S, order, axis=0)
    Ys = xp.take_along_axis(Y, order, axis=0)
    if w is None:
        W = xp.ones_like(S)
    else:
        W = xp.reshape(xp.take(w, xp.reshape(order, (-1,)), axis=0), (n, m))
    pos = xp.where(Ys, W, xp.zeros_like(W))
    neg = W - pos
    first = xp.ones_like(Ys[:1, ...])
    new = xp.concat([first, Ss[1:, ...] != Ss[:-1, ...]], axis=0) if n > 1 else first
    group = xp.cumulative_sum(xp.astype(new, idt), axis=0) - 1
    cols = xp.cumulative_sum(xp.ones_like(group[:1, ...]), axis=1) - 1  # 0..m-1
    key = xp.reshape((group + cols * n).T, (-1,))  # column-major: sorted
    start = xp.searchsorted(key, key, side="left")
    stop = xp.searchsorted(key, key, side="right")
    cum = xp.reshape(xp.cumulative_sum(neg, axis=0).T, (-1,))
    neg_f = xp.reshape(neg.T, (-1,))
    below = xp.take(cum, start, axis=0) - xp.take(neg_f, start, axis=0)  # negatives scored strictly lower
    upto = xp.take(cum, stop - 1, axis=0)  # ... lower or tied
    pos_f = xp.reshape(pos.T, (-1,))
    num = xp.sum(xp.reshape(pos_f * (below + upto) / 2, (m, n)), axis=1)
    P, N = xp.sum(pos, axis=0), xp.sum(neg, axis=0)
    den = P * N
    ok = den > 0
    auc = xp.where(ok, num / xp.where(ok, den, xp.ones_like(den)), xp.full_like(den, math.nan))
    return auc, P, N


def _warn_one_class() -> None:
    warnings.warn(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        UndefinedMetricWarning,
        stacklevel=3,
    )


def roc_auc_score(y_true: Any, y_score: Any, *, average: str | None = "macro", sample_weight: Any = None,
                  max_fpr: float | None = None, multi_class: str = "raise", labels: Any = None) -> Any:
    """Area under the ROC curve, binary or multiclass one-vs-rest.

    Ties in the scores are handled as scikit-learn's trapezoidal curve does
    (a tie counts one half), computed by sorting and cumulative sums on the
    inputs' device.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (binary or multiclass; NumPy for strings).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the larger label. Multiclass: probabilities of the
        sorted classes (rows summing to one).
    average : {'macro', 'weighted', 'micro'} or None, default='macro'
        Averaging of the per-class scores (multiclass).
    sample_weight : array-like of shape (n_samples,), default=None
    max_fpr : None or 1
        Partial AUC is not supported.
    multi_class : {'raise', 'ovr'}, default='raise'
        'ovr' (one-vs-rest) for multiclass targets; 'ovo' is not supported.
    labels : array-like of shape (n_classes,), default=None
        The sorted labels indexing the columns of ``y_score`` (multiclass).

    Returns
    -------
    float, or array of shape (n_classes,) when ``average=None`` (the inputs' library).
    """
    options = ("micro", "macro", "samples", "weighted", None)
    if average not in options:
        raise ValueError(f"average has to be one of {options}, got {average!r}.")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"multi_class must be one of ('raise', 'ovr', 'ovo'), got {multi_class!r}.")
    call = resolve_call(y_score=y_score, y_true=y_true, sample_weight=sample_weight)
    xp = call.xp
    S = check_array(_to_compute(y_score, call.compute, "y_score"), xp=xp, device=call.compute.device,
                    name="y_score", ensure_2d=False)
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_true=y_true, y_score=S)
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    enc = encode_targets({"y_true": y_true}, call)
    multiclass = enc.n_classes > 2 or (S.ndim == 2 and S.shape[1] > 2)
    if not multiclass:
        if max_fpr is not None and max_fpr != 1:
            raise NotImplementedError("max_fpr (partial ROC AUC) is not supported by toolbox's roc_auc_score.")
        if S.ndim == 2 and S.shape[1] == 1:
            S = S[:, 0]
        if S.ndim != 1:
            raise ValueError(
                f"For a binary y_true, y_score should be a 1d array of scores of the positive (larger) label, "
                f"got an array of shape {tuple(S.shape)} instead. Pass y_score[:, 1]."
            )
        if enc.n_classes < 2:
            _warn_one_class()
            return math.nan
        Y = (enc.codes[0] == 1)[:, None]
        auc, _, _ = _auc_columns(Y, S[:, None], sw, xp=xp)
        return float(auc[0])
    if max_fpr is not None and max_fpr != 1.0:
        raise ValueError(
            "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to `None`, "
            f"received `max_fpr={max_fpr}` instead"
        )
    if multi_class == "raise":
        raise ValueError("multi_class must be in ('ovo', 'ovr')")
    if multi_class == "ovo":
        raise NotImplementedError("multi_class='ovo' is not supported by toolbox's roc_auc_score; use 'ovr'.")
    if S.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple classes. "
            f"Got `y_score.shape={tuple(S.shape)}`."
        )
    if not bool(xp.all(xp.abs(xp.sum(S, axis=1) - 1) <= 1e-8 + 1e-5)):
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over classes"
        )
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError(f"average must be one of {('micro', 'macro', 'weighted', None)} for multiclass problems")
    if labels is not None:
        lab = labels_as_array(labels, call)
        given = np.asarray(to_backend(lab, "numpy")).tolist()
        if len(set(given)) != len(given):
            raise ValueError("Parameter 'labels' must be unique")
        enc = encode_targets({"y_true": y_true}, call, extra=lab)
        if enc.host_classes() != given and enc.n_classes == len(given):
            raise ValueError("Parameter 'labels' must be ordered")
        if len(given) != S.shape[1]:
            raise ValueError(
                f"Number of given labels, {len(given)}, not equal to the number of columns in 'y_score', {S.shape[1]}"
            )
        if enc.n_classes != len(given):
            raise ValueError("'y_true' contains labels not in parameter 'labels'")
    elif enc.n_classes != S.shape[1]:
        raise ValueError("Number of classes in y_true not equal to the number of columns in 'y_score'")
    k = int(S.shape[1])
    codes = enc.codes[0]
    Y = codes[:, None] == xp.arange(k, dtype=codes.dtype, device=call.compute.device)[None, :]
    if average == "micro":
        w = None if sw is None else xp.reshape(xp.broadcast_to(sw[:, None], (n, k)), (-1,))
        auc, _, _ = _auc_columns(xp.reshape(Y, (-1, 1)), xp.reshape(S, (-1, 1)), w, xp=xp)
        return float(auc[0])
    auc, P, N = _auc_columns(Y, S, sw, xp=xp)
    if not bool(xp.all((P > 0) & (N > 0))):
        _warn_one_class()
    if average is None:
        return call.output(auc)
    if average == "weighted":
        weight = P
        if math.isclose(float(xp.sum(weight)), 0.0, abs_tol=1e-8):
            return 0.0
        auc = xp.where(weight == 0, xp.zeros_like(auc), auc)
        return float(xp.sum(auc * weight) / xp.sum(weight))
    return float(xp.mean(auc))

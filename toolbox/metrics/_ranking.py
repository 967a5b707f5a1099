"""Ranking metrics (ROC AUC) computed on the device of their inputs."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ..backends import framework_of, jit, to_backend
from ..base import _to_compute, check_array
from ._base import (
    Call,
    as_1d,
    check_legacy_sequences,
    check_lengths,
    encode_targets,
    labels_as_array,
    resolve_call,
    sample_weight_of,
)

__all__ = ["roc_auc_score"]

#: the most elements of one (n_samples, n_columns) block of the one-vs-one AUCs
_OVO_BLOCK = 1 << 24


@jit(static_argnames=("max_fpr",))
def _auc_columns(Y: Any, S: Any, w: Any, *, max_fpr: float | None = None, xp: Any) -> tuple[Any, Any, Any]:
    """ROC AUC of every column of scores ``S`` (n, m) against positives ``Y`` (n, m, bool).

    The area under the ROC curve equals the (weighted) Mann-Whitney statistic
    with ties counted one half: for each positive, the negative weight scored
    strictly lower plus half the negative weight tied with it. One sort per
    column; tie groups get their bounds from ``searchsorted`` on
    column-major group keys, so all shapes are static.

    With ``max_fpr`` (0 < max_fpr < 1) the area is the partial one under the
    curve up to that false-positive rate (each tie group is one straight ROC
    segment, the last one cut by linear interpolation), standardized as
    McClish (1989): 0.5 for a non-discriminant score, 1 for a perfect one.

    ``w`` is None, one weight per sample (n,) or one per sample and column (n, m).

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
    elif w.ndim == 1:
        W = xp.reshape(xp.take(w, xp.reshape(order, (-1,)), axis=0), (n, m))
    else:
        W = xp.take_along_axis(w, order, axis=0)
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
    P, N = xp.sum(pos, axis=0), xp.sum(neg, axis=0)
    den = P * N
    ok = den > 0
    if max_fpr is None:
        num = xp.sum(xp.reshape(pos_f * (below + upto) / 2, (m, n)), axis=1)
        auc = xp.where(ok, num / xp.where(ok, den, xp.ones_like(den)), xp.full_like(den, math.nan))
        return auc, P, N
    # ROC points, from the highest score down: each tie group is the segment from (fpr, tpr) of the
    # samples scored strictly higher to that of the samples scored higher or tied; counted once per group
    cum_p = xp.reshape(xp.cumulative_sum(pos, axis=0).T, (-1,))
    p_below = xp.take(cum_p, start, axis=0) - xp.take(pos_f, start, axis=0)
    p_upto = xp.take(cum_p, stop - 1, axis=0)
    Pn = xp.reshape(xp.broadcast_to(xp.where(P > 0, P, xp.ones_like(P))[:, None], (m, n)), (-1,))
    Nn = xp.reshape(xp.broadcast_to(xp.where(N > 0, N, xp.ones_like(N))[:, None], (m, n)), (-1,))
    f0, f1 = (Nn - upto) / Nn, (Nn - below) / Nn
    t0, t1 = (Pn - p_upto) / Pn, (Pn - p_below) / Pn
    fc = xp.minimum(f1, xp.full_like(f1, max_fpr))
    dx = f1 - f0
    moved = dx > 0
    tc = xp.where(moved, t0 + (t1 - t0) * ((fc - f0) / xp.where(moved, dx, xp.ones_like(dx))), t1)
    width = xp.maximum(fc - f0, xp.zeros_like(fc))
    last = xp.reshape(xp.cumulative_sum(xp.ones_like(key), axis=0), (-1,)) == stop  # position stop - 1
    seg = xp.where(last, width * (t0 + tc) / 2, xp.zeros_like(width))
    area = xp.sum(xp.reshape(seg, (m, n)), axis=1)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    auc = 0.5 * (1 + (area - min_area) / (max_area - min_area))
    return xp.where(ok, auc, xp.full_like(den, math.nan)), P, N


def _warn_one_class() -> None:
    warnings.warn(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        UndefinedMetricWarning,
        stacklevel=3,
    )


def _check_max_fpr(max_fpr: Any) -> float | None:
    """``max_fpr`` as a float in (0, 1), or None for the whole curve (scikit-learn's parameter check)."""
    if max_fpr is None:
        return None
    if isinstance(max_fpr, bool) or not isinstance(max_fpr, numbers.Real) or not 0 < float(max_fpr) <= 1:
        raise ValueError(
            "The 'max_fpr' parameter of roc_auc_score must be a float in the range (0.0, 1.0] or None. "
            f"Got {max_fpr!r} instead."
        )
    return None if float(max_fpr) == 1 else float(max_fpr)


def _multioutput_kind(y: Any, call: Call) -> str | None:
    """scikit-learn's target type of a 2-D ``y`` with more than one column, else None.

    'multilabel-indicator' (fewer than three integral values), 'multiclass-multioutput'
    or 'continuous-multioutput'. One reduction on the device for numeric arrays.
    """
    shape = tuple(getattr(y, "shape", ()))
    if len(shape) != 2 or shape[1] <= 1:
        return None
    if isinstance(y, np.ndarray) and y.dtype.kind not in "biuf":
        return "multiclass-multioutput"
    xp = call.xp
    Y = _to_compute(y, call.compute, "y_true")
    if xp.isdtype(Y.dtype, "real floating"):
        if not bool(xp.all(xp.isfinite(Y))):
            raise ValueError("Input y_true contains NaN or infinity.")
        if not bool(xp.all(Y == xp.round(Y))):
            return "continuous-multioutput"
    if xp.isdtype(Y.dtype, "bool"):
        return "multilabel-indicator"
    lo, hi = xp.min(Y), xp.max(Y)
    few = bool(lo == hi) or bool(xp.all((Y == lo) | (Y == hi)))
    return "multilabel-indicator" if few else "multiclass-multioutput"


def _average_columns(auc: Any, P: Any, N: Any, average: str | None, call: Call) -> Any:
    """scikit-learn's ``_average_binary_score`` over per-column AUCs (macro, weighted or None)."""
    xp = call.xp
    if not bool(xp.all((P > 0) & (N > 0))):
        _warn_one_class()
    if average is None:
        return call.output(auc)
    if average == "weighted":
        if math.isclose(float(xp.sum(P)), 0.0, abs_tol=1e-8):
            return 0.0
        auc = xp.where(P == 0, xp.zeros_like(auc), auc)  # zero-weight columns count 0, even when NaN
        return float(xp.sum(auc * P) / xp.sum(P))
    return float(xp.mean(auc))


def _multilabel_auc(call: Call, y_true: Any, S: Any, average: str | None, sample_weight: Any,
                    max_fpr: float | None) -> Any:
    """ROC AUC of multilabel indicators: per label (macro, weighted, None), raveled (micro) or per sample."""
    xp = call.xp
    Yv = _to_compute(y_true, call.compute, "y_true")
    if tuple(Yv.shape) != tuple(S.shape):
        if int(Yv.shape[0]) != int(S.shape[0]):
            check_lengths(y_true=Yv, y_score=S)
        raise ValueError(f"y_true and y_score have different shapes: {tuple(Yv.shape)} and {tuple(S.shape)}. "
                         "Multilabel y_score needs one column of scores per label.")
    if not xp.isdtype(Yv.dtype, "bool"):
        bad = ~((Yv == 0) | (Yv == 1))
        if bool(xp.any(bad)):
            vals = np.unique(np.asarray(to_backend(Yv, "numpy"))).tolist()
            raise ValueError(f"y_true takes value in {set(vals)} and pos_label is not specified: either make "
                             "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly.")
    Y = Yv == 1
    n, k = int(S.shape[0]), int(S.shape[1])
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    if average == "micro":
        w = None if sw is None else xp.reshape(xp.broadcast_to(sw[:, None], (n, k)), (-1,))
        auc, P, N = _auc_columns(xp.reshape(Y, (-1, 1)), xp.reshape(S, (-1, 1)), w, max_fpr=max_fpr, xp=xp)
        if not bool((P[0] > 0) & (N[0] > 0)):
            _warn_one_class()
        return float(auc[0])
    if average == "samples":  # one AUC per sample over its labels, averaged with the sample weights
        auc, P, N = _auc_columns(Y.T, S.T, None, max_fpr=max_fpr, xp=xp)
        if not bool(xp.all((P > 0) & (N > 0))):
            _warn_one_class()
        if sw is None:
            return float(xp.mean(auc))
        return float(xp.sum(auc * sw) / xp.sum(sw))
    auc, P, N = _auc_columns(Y, S, sw, max_fpr=max_fpr, xp=xp)
    return _average_columns(auc, P, N, average, call)


def _ovo_auc(call: Call, codes: Any, S: Any, average: str) -> float:
    """Hand & Till (2001): the mean over pairs of present classes of the two one-vs-one AUCs.

    ``A[a, b]`` is the AUC of ``S[:, a]`` separating class ``a`` (positive) from class
    ``b`` (the other samples weigh 0); all ordered pairs come from one sort per block
    of columns ``S[:, a]`` repeated ``k`` times.
    """
    xp = call.xp
    dev = call.compute.device
    n, k = int(S.shape[0]), int(S.shape[1])
    onehot = xp.astype(codes[:, None] == xp.arange(k, dtype=codes.dtype, device=dev)[None, :], S.dtype)
    per_block = max(1, _OVO_BLOCK // max(1, n * k))
    rows = []
    for a0 in range(0, k, per_block):  # blocks of positive classes (loop over classes, vectorised inside)
        a1 = min(k, a0 + per_block)
        c = a1 - a0
        Sa = xp.reshape(xp.broadcast_to(S[:, a0:a1, None], (n, c, k)), (n, c * k))
        Ya = xp.reshape(xp.broadcast_to(onehot[:, a0:a1, None] > 0, (n, c, k)), (n, c * k))
        Wa = xp.reshape(xp.maximum(onehot[:, a0:a1, None], onehot[:, None, :]), (n, c * k))
        auc, _, _ = _auc_columns(Ya, Sa, Wa, xp=xp)
        rows.append(xp.reshape(auc, (c, k)))
    A = xp.concat(rows, axis=0) if len(rows) > 1 else rows[0]
    count = xp.sum(onehot, axis=0)
    present = count > 0
    idx = xp.arange(k, device=dev)
    pair = present[:, None] & present[None, :] & (idx[:, None] < idx[None, :])
    scores = xp.where(pair, (A + A.T) / 2, xp.zeros_like(A))
    n_pairs = int(xp.sum(xp.astype(pair, xp.int32)))
    if n_pairs == 0:
        return math.nan
    if average == "weighted":
        prevalence = xp.where(pair, (count[:, None] + count[None, :]) / n, xp.zeros_like(A))
        return float(xp.sum(scores * prevalence) / xp.sum(prevalence))
    return float(xp.sum(scores)) / n_pairs


def roc_auc_score(y_true: Any, y_score: Any, *, average: str | None = "macro", sample_weight: Any = None,
                  max_fpr: float | None = None, multi_class: str = "raise", labels: Any = None) -> Any:
    """Area under the ROC curve: binary, multiclass (one-vs-rest or one-vs-one) or multilabel.

    Ties in the scores are handled as scikit-learn's trapezoidal curve does
    (a tie counts one half), computed by sorting and cumulative sums on the
    inputs' device.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels (binary or multiclass; NumPy for strings), or a multilabel
        indicator matrix.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the larger label. Multiclass: probabilities of the
        sorted classes (rows summing to one). Multilabel: one score per label.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        Averaging of the per-class (per-label, per-sample) scores; ignored
        for binary targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Not with ``multi_class='ovo'``.
    max_fpr : float in (0, 1], default=None
        Binary and multilabel: the standardized partial AUC (McClish) up to
        this false-positive rate.
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
        Multiclass targets: one-vs-rest, or one-vs-one (Hand & Till, average
        'macro' or 'weighted').
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
    fpr_cap = _check_max_fpr(max_fpr)
    call = resolve_call(y_score=y_score, y_true=y_true, sample_weight=sample_weight)
    xp = call.xp
    check_legacy_sequences(y_true, "y_true")
    if framework_of(y_true) is None and not hasattr(y_true, "shape"):
        y_true = as_1d(y_true, "y_true") if np.ndim(y_true) <= 1 else np.asarray(y_true)
    S = check_array(_to_compute(y_score, call.compute, "y_score"), xp=xp, device=call.compute.device,
                    name="y_score", ensure_2d=False)
    kind = _multioutput_kind(y_true, call)
    if kind is not None:
        if kind != "multilabel-indicator":
            raise ValueError(f"{kind} format is not supported")
        return _multilabel_auc(call, y_true, S, average, sample_weight, fpr_cap)
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_true=y_true, y_score=S)
    enc = encode_targets({"y_true": y_true}, call)
    multiclass = enc.n_classes > 2 or (S.ndim == 2 and S.shape[1] > 2)
    if not multiclass:
        sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
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
        auc, _, _ = _auc_columns(Y, S[:, None], sw, max_fpr=fpr_cap, xp=xp)
        return float(auc[0])
    if max_fpr is not None and max_fpr != 1.0:
        raise ValueError(
            "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to `None`, "
            f"received `max_fpr={max_fpr}` instead"
        )
    if multi_class == "raise":
        raise ValueError("multi_class must be in ('ovo', 'ovr')")
    if S.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple classes. "
            f"Got `y_score.shape={tuple(S.shape)}`."
        )
    if not bool(xp.all(xp.abs(xp.sum(S, axis=1) - 1) <= 1e-8 + 1e-5)):
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over classes"
        )
    allowed = ("macro", "weighted", None) if multi_class == "ovo" else ("micro", "macro", "weighted", None)
    if average not in allowed:
        raise ValueError(f"average must be one of {allowed} for multiclass problems")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
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
    codes = enc.codes[0]
    if multi_class == "ovo":
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' "
                             "must be None in this case.")
        return _ovo_auc(call, codes, S, average)
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    k = int(S.shape[1])
    Y = codes[:, None] == xp.arange(k, dtype=codes.dtype, device=call.compute.device)[None, :]
    if average == "micro":
        w = None if sw is None else xp.reshape(xp.broadcast_to(sw[:, None], (n, k)), (-1,))
        auc, _, _ = _auc_columns(xp.reshape(Y, (-1, 1)), xp.reshape(S, (-1, 1)), w, xp=xp)
        return float(auc[0])
    auc, P, N = _auc_columns(Y, S, sw, xp=xp)
    return _average_columns(auc, P, N, average, call)
